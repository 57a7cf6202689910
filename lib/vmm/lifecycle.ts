/**
 * Typed results of the lifecycle calls (`startVm`, `stopVm`, ...). They never print: the shell
 * renders them with the seed's messages.
 *
 * @module
 */

import type { VmStatus } from "./status.ts";

/** Why a lifecycle call did nothing or failed. */
export type LifecycleErrorCode =
  /** No VM has that id or name. */
  | "NOT_FOUND"
  /** The VM's status forbids the operation; `message` is the seed's validation message. */
  | "INVALID_STATE"
  /** The operation was allowed but failed (image missing, memory...). */
  | "FAILED"
  /** A wait (restart waiting for Stopped) ran out of virtual time. */
  | "TIMEOUT";

/** The outcome of one lifecycle operation on one VM. */
export interface LifecycleResult {
  /** Whether the operation happened. */
  ok: boolean;
  /** The operation. */
  action: "start" | "stop" | "suspend" | "resume" | "restart" | "delete";
  /** The VM id asked for. */
  vmId: number;
  /** Status before the call (undefined when not found). */
  previousStatus?: VmStatus;
  /** Status after the call (undefined when not found or deleted). */
  status?: VmStatus;
  /** Error, when `ok` is false. */
  error?: { code: LifecycleErrorCode; message: string };
  /** Human notes in the seed's words (e.g. `VM is in Loaded state, stopping anyway`). */
  notes: string[];
}

/** Result of `suspendVm`: whether every vCPU was observed Blocked. */
export interface SuspendResult extends LifecycleResult {
  /** Action. */
  action: "suspend";
  /** Number of vCPUs. */
  vcpuCount: number;
  /** Whether every vCPU was Blocked when the call returned. */
  allSuspended: boolean;
}

/** Result of `restartVm`. */
export interface RestartResult extends LifecycleResult {
  /** Action. */
  action: "restart";
  /** `start` (VM was Stopped/Loaded) or `stop-start`. */
  path?: "start" | "stop-start";
  /** Virtual nanoseconds waited for Stopped. */
  waitedNs: number;
}

/** Result of `deleteVm`. */
export interface DeleteResult extends LifecycleResult {
  /** Action. */
  action: "delete";
  /** Whether configuration and data were kept. */
  keepData: boolean;
  /** Files removed (when not keeping data). */
  removedFiles: string[];
  /** References to the VM still held by the hypervisor after deletion (empty: freed). */
  leakedReferences: string[];
}

/** Why {@linkcode Hypervisor.pinVcpu} refused. */
export type PinErrorCode =
  /** No VM has that id, or the VM has no such vCPU. */
  | "NOT_FOUND"
  /** The mask is 0, not an integer, or names pCPUs the board does not have. */
  | "INVALID_VALUE";

/** Result of `pinVcpu`. */
export interface PinResult {
  /** Whether the affinity changed. */
  ok: boolean;
  /** The VM id asked for. */
  vmId: number;
  /** The vCPU id asked for. */
  vcpuId: number;
  /** The mask asked for. */
  mask: number;
  /** The vCPU's mask before (undefined: any pCPU). */
  previousMask?: number;
  /** pCPU of the task before (-1: not placed: the VM or vCPU has not started). */
  from: number;
  /** pCPU of the task after (-1: it will be placed by the mask when the vCPU starts). */
  to: number;
  /** Error, when `ok` is false. */
  error?: { code: PinErrorCode; message: string };
}
