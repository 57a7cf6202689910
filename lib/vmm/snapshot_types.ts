/**
 * Results and errors of the hypervisor's snapshot, restore and clone operations.
 *
 * @module
 */

import type { SparseMemory } from "../hw/memory.ts";
import type { VmState } from "./persist.ts";
import type { RegionPages, SnapshotHeader } from "./snapshot_file.ts";
import type { VmStatus } from "./status.ts";

/** Raised when a snapshot, restore or clone is refused (the VM is left as it was). */
export class SnapshotError extends Error {
  /** Machine-readable reason. */
  readonly code: "NOT_FOUND" | "INVALID_STATE" | "UNSUPPORTED" | "EXISTS" | "INVALID_ARGUMENT";
  /** Creates the error. */
  constructor(code: SnapshotError["code"], message: string) {
    super(message);
    this.name = "SnapshotError";
    this.code = code;
  }
}

/** A VM captured between instructions: its state and frozen copy-on-write memory copies. */
export interface VmCapture {
  /** The state as data. */
  state: VmState;
  /** Per memory region: a frozen copy of the backing memory and where the region starts. */
  memories: { region: number; memory: SparseMemory; first: number; pages: number }[];
}

/** Where restored memory comes from: decoded pages, or memories shared copy-on-write. */
export type MemorySource =
  | { kind: "pages"; regions: RegionPages[] }
  | { kind: "shared"; memories: VmCapture["memories"] };

/** What {@linkcode Hypervisor.snapshot} returns. */
export interface SnapshotResult {
  /** VM id. */
  vmId: number;
  /** Status of the VM when captured. */
  status: VmStatus;
  /** The snapshot file. */
  bytes: Uint8Array;
  /** Memory pages saved. */
  pages: number;
  /** Milliseconds the VM was held (capture, and stop when asked). */
  pauseMs: number;
}

/** What {@linkcode Hypervisor.restore} and {@linkcode Hypervisor.restoreNew} return. */
export interface RestoreResult {
  /** VM id. */
  vmId: number;
  /** Status before. */
  previousStatus: VmStatus;
  /** Status after (the saved one). */
  status: VmStatus;
  /** The file's header. */
  header: SnapshotHeader;
  /** Milliseconds spent replacing the state (after decoding). */
  applyMs: number;
}
