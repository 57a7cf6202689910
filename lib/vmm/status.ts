/**
 * The VM status machine and the vCPU states of AxVisor, with the seed's validation functions.
 *
 * @module
 */

/** Status of a VM, as AxVisor's `VMStatus` (lower case names). */
export type VmStatus = "loading" | "loaded" | "running" | "suspended" | "stopping" | "stopped";

/** Every VM status, in the order of the seed's state diagram. */
export const VM_STATUSES: readonly VmStatus[] = [
  "loading",
  "loaded",
  "running",
  "suspended",
  "stopping",
  "stopped",
];

/** AxVisor's `Debug` name of a status (`Running`, `Stopped`...), used in the seed's messages. */
export function vmStatusName(status: VmStatus): string {
  return status.charAt(0).toUpperCase() + status.slice(1);
}

const STATUS_ICONS: Record<VmStatus, string> = {
  loading: "🔄",
  loaded: "📦",
  running: "🚀",
  suspended: "🛑",
  stopping: "⏹️",
  stopped: "💤",
};

/** The real shell's rendering of a status with its icon, e.g. `🚀 running`. */
export function vmStatusWithIcon(status: VmStatus): string {
  return `${STATUS_ICONS[status]} ${status}`;
}

/** State of a vCPU, with AxVisor's numeric values (`VCpuState`). */
export const VCpuState = {
  /** A failed transition left the vCPU unusable. */
  Invalid: 0,
  /** Constructed, not yet set up. */
  Created: 1,
  /** Set up, not bound to a pCPU (not started, or stopped). */
  Free: 2,
  /** Bound to a pCPU and runnable. */
  Ready: 3,
  /** Executing guest code on its pCPU. */
  Running: 4,
  /** Waiting: wfi/Halt, suspended VM, CPU down. */
  Blocked: 5,
} as const;

/** One of {@linkcode VCpuState}'s values. */
export type VCpuState = typeof VCpuState[keyof typeof VCpuState];

const VCPU_STATE_NAMES = ["Invalid", "Created", "Free", "Ready", "Running", "Blocked"] as const;
const VCPU_STATE_SHORT = ["Inv", "Cre", "Free", "Rdy", "Run", "Blk"] as const;

/** Full name of a vCPU state (`Running`, `Blocked`...), as `vm show` prints it. */
export function vcpuStateName(state: VCpuState): string {
  return VCPU_STATE_NAMES[state];
}

/** Short name of a vCPU state (`Run`, `Blk`...), as `vm list` summarises it. */
export function vcpuStateShortName(state: VCpuState): string {
  return VCPU_STATE_SHORT[state];
}

/**
 * The seed's `vm list` summary of vCPU states: counts per state keyed by the short name in a
 * BTreeMap, so ordered alphabetically by that name, e.g. `Blk:1,Run:2`.
 */
export function summarizeVcpuStates(states: readonly VCpuState[]): string {
  const counts = new Map<string, number>();
  for (const s of states) {
    const name = vcpuStateShortName(s);
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([name, n]) => `${name}:${n}`)
    .join(",");
}

/** Result of a validation: `undefined` when allowed, else the seed's message. */
export type Refusal = string | undefined;

/** The seed's `can_start_vm`: Loaded and Stopped may start. */
export function canStartVm(status: VmStatus): Refusal {
  switch (status) {
    case "loaded":
    case "stopped":
      return undefined;
    case "running":
      return "VM is already running";
    case "suspended":
      return "VM is suspended, use 'vm resume' instead";
    case "stopping":
      return "VM is stopping, wait for it to fully stop";
    case "loading":
      return "VM is still loading";
  }
}

/**
 * The seed's `can_stop_vm`: Running and Suspended; Stopping only with force. A VM never started
 * (Loading, Loaded) only with force too: the seed's definition says "Loaded only for a forced
 * stop", and `vm delete` likewise wants `--force` for it, so the two agree.
 */
export function canStopVm(status: VmStatus, force: boolean): Refusal {
  switch (status) {
    case "running":
    case "suspended":
      return undefined;
    case "loading":
    case "loaded":
      return force
        ? undefined
        : `VM is ${vmStatusName(status)} and was never started, use '--force' to stop it anyway`;
    case "stopping":
      return force ? undefined : "VM is already stopping";
    case "stopped":
      return "VM is already stopped";
  }
}

/** The seed's `can_suspend_vm`: only Running. */
export function canSuspendVm(status: VmStatus): Refusal {
  switch (status) {
    case "running":
      return undefined;
    case "suspended":
      return "VM is already suspended";
    case "stopped":
      return "VM is stopped, cannot suspend";
    case "stopping":
      return "VM is stopping, cannot suspend";
    case "loading":
      return "VM is loading, cannot suspend";
    case "loaded":
      return "VM is not running, cannot suspend";
  }
}

/** The seed's `can_resume_vm`: only Suspended. */
export function canResumeVm(status: VmStatus): Refusal {
  switch (status) {
    case "suspended":
      return undefined;
    case "running":
      return "VM is already running";
    case "stopped":
      return "VM is stopped, use 'vm start' instead";
    case "stopping":
      return "VM is stopping, cannot resume";
    case "loading":
      return "VM is loading, cannot resume";
    case "loaded":
      return "VM is not started yet, use 'vm start' instead";
  }
}

/** Whether `vm delete` may proceed without `--force` (the seed: only Stopped). */
export function canDeleteVm(status: VmStatus, force: boolean): Refusal {
  if (force || status === "stopped") return undefined;
  switch (status) {
    case "running":
      return "VM is currently running";
    case "stopping":
      return "VM is currently stopping";
    default:
      return `VM is in ${vmStatusName(status)} state`;
  }
}
