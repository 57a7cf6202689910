/**
 * A test device at 0x1000_0000 whose every read returns the number of reads so far: MMIO that is
 * never in a TLB, so every access to it leaves compiled code for the slow path.
 *
 * @module
 */

import type { Bus } from "../../../lib/hw/bus.ts";

/** Maps the counter device on `bus`; returns a function that tells how many reads it served. */
export function mapCounterDevice(bus: Bus): () => number {
  let reads = 0;
  bus.mapDevice(0x1000_0000, {
    kind: "counter",
    size: 0x100,
    read: () => ++reads,
    write: () => {},
    reset: () => {},
    snapshot: () => ({}),
    restore: () => {},
  }, "counter");
  return () => reads;
}
