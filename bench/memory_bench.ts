/**
 * SparseMemory and Bus speed: page allocation, aligned 32/64-bit accesses through the slow-path
 * API, bulk copies, and the cost of configuring a large RAM that is never touched.
 *
 * @module
 */
import { Bus } from "../lib/hw/bus.ts";
import { SparseMemory } from "../lib/hw/memory.ts";

const MiB = 1024 * 1024;

Deno.bench("memory: configure 64 GiB of RAM and touch 1 MiB of it", () => {
  const m = new SparseMemory(64 * 1024 * MiB);
  for (let a = 0; a < MiB; a += 4096) m.write8(32 * 1024 * MiB + a, 1);
  if (m.residentBytes() !== MiB) throw new Error("unexpected resident size");
});

const mem = new SparseMemory(16 * MiB);
const bus = new Bus();
bus.mapRam(0x8000_0000, mem.size, mem);
mem.fill(0, 16 * MiB, 0xa5);

Deno.bench("memory: 1M aligned read32/write32 (SparseMemory API)", () => {
  let x = 0;
  for (let i = 0; i < 1_000_000; i++) {
    const a = (i * 4) & (16 * MiB - 1);
    mem.write32(a, x);
    x = (x + mem.read32(a)) | 0;
  }
});

Deno.bench("bus: 1M aligned read/write of 4 bytes through the bus", () => {
  let x = 0;
  for (let i = 0; i < 1_000_000; i++) {
    const a = 0x8000_0000 + ((i * 4) & (16 * MiB - 1));
    bus.write(a, 4, x);
    x = (x + bus.read(a, 4)!) | 0;
  }
});

Deno.bench("bus: 100k 8-byte readPair (no BigInt)", () => {
  let x = 0;
  for (let i = 0; i < 100_000; i++) {
    bus.readPair(0x8000_0000 + ((i * 8) & (16 * MiB - 1)));
    x ^= bus.pairLo;
  }
  if (x === 0x7fffffff) throw new Error("unreachable");
});

const block = new Uint8Array(4 * MiB).fill(7);
Deno.bench("memory: writeBytes + readBytes of 4 MiB", () => {
  bus.writeBytes(0x8000_0000 + 123, block);
  bus.readBytes(0x8000_0000 + 123, block.length);
});
