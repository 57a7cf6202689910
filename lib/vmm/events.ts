/**
 * Typed events the hypervisor emits: status changes, console output, vCPU up/down, faults.
 *
 * @module
 */

import type { VmStatus } from "./status.ts";

/** A VM changed status. */
export interface StatusEvent {
  /** Discriminant. */
  type: "status";
  /** VM id. */
  vmId: number;
  /** Previous status. */
  from: VmStatus;
  /** New status. */
  to: VmStatus;
  /** Virtual time (ns). */
  timeNs: number;
  /** Why, when not an explicit command (e.g. `guest shutdown`, `fault`, `last vCPU exited`). */
  reason?: string;
  /**
   * The VM instance ({@linkcode Vm.instance}): ids and names are reused after `vm delete`, the
   * instance never is. Set on `created` and `deleted` events.
   */
  instance?: number;
}

/** A VM wrote to its console. */
export interface ConsoleEvent {
  /** Discriminant. */
  type: "console";
  /** VM id. */
  vmId: number;
  /** The bytes written. */
  data: Uint8Array;
  /** Virtual time (ns). */
  timeNs: number;
}

/** A vCPU came up (started running) or went down (stopped, CPU down). */
export interface VCpuEvent {
  /** Discriminant. */
  type: "vcpu";
  /** VM id. */
  vmId: number;
  /** vCPU id. */
  vcpuId: number;
  /** What happened. */
  change: "up" | "down";
  /** The pCPU (board hart index) the vCPU's task is placed on. */
  pcpu: number;
  /** Virtual time (ns). */
  timeNs: number;
}

/** A vCPU's affinity changed ({@linkcode Hypervisor.pinVcpu}); its task may have moved. */
export interface VCpuPinEvent {
  /** Discriminant. */
  type: "vcpu-pin";
  /** VM id. */
  vmId: number;
  /** vCPU id. */
  vcpuId: number;
  /** The new affinity mask over pCPUs. */
  mask: number;
  /** pCPU of the task before (-1: not placed yet). */
  from: number;
  /** pCPU of the task after (-1: placed by the mask when the vCPU starts). */
  to: number;
  /** Virtual time (ns). */
  timeNs: number;
}

/** A guest misbehaved and its VM was stopped. */
export interface FaultEvent {
  /** Discriminant. */
  type: "fault";
  /** VM id. */
  vmId: number;
  /** vCPU id. */
  vcpuId: number;
  /** Fault class: `NestedPageFault`, `UnhandledTrap`, `FailEntry`, `GuestError`. */
  kind: string;
  /** Guest-physical address involved, when any. */
  addr?: number;
  /** Guest pc at the fault. */
  pc: number;
  /** The full message, naming address, pc and vCPU. */
  message: string;
  /** Virtual time (ns). */
  timeNs: number;
}

/** A diagnostic from the VMM (a failed hypercall, a debug hypercall...). */
export interface LogEvent {
  /** Discriminant. */
  type: "log";
  /** Severity. */
  level: "debug" | "info" | "warn" | "error";
  /** VM id, when about one VM. */
  vmId?: number;
  /** The message. */
  message: string;
  /** Virtual time (ns). */
  timeNs: number;
}

/** Any event of the hypervisor. */
export type HypervisorEvent =
  | StatusEvent
  | ConsoleEvent
  | VCpuEvent
  | VCpuPinEvent
  | FaultEvent
  | LogEvent;

/** Receives events. */
export type HypervisorListener = (event: HypervisorEvent) => void;

/** A small synchronous event emitter. */
export class EventHub {
  #listeners = new Set<HypervisorListener>();

  /** Subscribes; returns the unsubscribe function. */
  on(listener: HypervisorListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Delivers an event to every listener (a throwing listener does not stop the others). */
  emit(event: HypervisorEvent): void {
    if (this.#listeners.size === 0) return;
    for (const l of [...this.#listeners]) {
      try {
        l(event);
      } catch (_) {
        // A listener's bug must not break the hypervisor.
      }
    }
  }

  /** Number of listeners. */
  get size(): number {
    return this.#listeners.size;
  }
}
