/**
 * A VM's state as plain, versioned data (the VMM layer's persistence, like Firecracker's
 * `persist` and v86's get_state/set_state): the VM's status and bookkeeping, its console, each
 * vCPU (the hart's architectural state, the AxVisor and HSM state, the timer, counters), each
 * emulated device's own state, and the pending timer events that belong to it. Memory pages
 * travel separately (snapshot_file.ts). Times are guest times: restoring continues the guest's
 * clock from the saved value whatever the hypervisor's clock reads.
 *
 * @module
 */

import type { HartState } from "../hw/riscv/hart.ts";
import type { DeviceState } from "../hw/device.ts";
import type { ConsoleState } from "./console.ts";
import { MapType } from "./config.ts";
import { EXIT_KINDS, type ExitCounters } from "./exit_reason.ts";
import { SnapshotFormatError } from "./snapshot_file.ts";
import { VM_STATUSES, type VmStatus } from "./status.ts";
import type { VCpu, VCpuWait } from "./vcpu.ts";
import type { Vm } from "./vm.ts";

/** Version of {@linkcode VmState}. */
export const VM_STATE_VERSION = 1;

/** One vCPU as data. */
export interface VCpuStateData {
  /** vCPU id. */
  id: number;
  /** The hart (registers, CSRs, privilege, pc, wfi wait). */
  hart: HartState;
  /** AxVisor vCPU state (VCpuState value). */
  state: number;
  /** Why it waits. */
  wait: VCpuWait | null;
  /** Whether its task is in a run queue, and on which pCPU. */
  task: boolean;
  /** pCPU index. */
  pcpu: number;
  /** Affinity mask (null: any). */
  physCpuSet: number | null;
  /** SBI HSM state. */
  hsm: number;
  /** Whether it counts in the VM's running/halting count. */
  counted: boolean;
  /** Timer deadline in guest ns (null: none). */
  timerDeadlineNs: number | null;
  /** Non-retentive suspend resume point (opaque as a decimal string). */
  resume: { addr: number; opaque: string } | null;
  /** Instructions executed (the vCPU's clock). */
  executed: number;
  /** Instructions retired outside the hart (VMM-handled ecalls). */
  extraInstret: number;
  /** Preemptions. */
  preemptions: number;
  /** Virtual ns run. */
  runNs: number;
  /** Exit counters of this boot, by reason. */
  exits: Record<string, number>;
}

/** A pending timer event of the VM, as data. */
export interface TimerEventData {
  /** What fires: the primary vCPU's boot delay ends. */
  kind: "boot-delay";
  /** vCPU id. */
  vcpuId: number;
  /** Guest time (ns) at which it fires. */
  atNs: number;
}

/** A whole VM's state (without memory pages). */
export interface VmState {
  /** Format version. */
  version: typeof VM_STATE_VERSION;
  /** The config text the VM was created from (a restored VM is created from it). */
  configText: string;
  /** Where the config came from. */
  configFile: string;
  /** Status when saved (Running, Suspended, Loaded or Stopped). */
  status: VmStatus;
  /** Guest time (ns) when saved. */
  guestNowNs: number;
  /** Times started. */
  boots: number;
  /** Last error. */
  lastError: string | null;
  /** Running/halting count. */
  runningHaltingCount: number;
  /** Device tree placement of the last boot. */
  dtb: { gpa: number; size: number } | null;
  /** Loaded image ranges of the last boot. */
  loadedImages: { what: string; gpa: number; size: number }[];
  /** Exit counters of previous boots. */
  pastExits: Record<string, number>;
  /** The console. */
  console: ConsoleState;
  /** vCPUs by id. */
  vcpus: VCpuStateData[];
  /** Emulated devices with state, by name. */
  devices: { name: string; model: string; state: DeviceState }[];
  /** Memory regions (pages travel in their own sections). */
  regions: { index: number; gpa: number; size: number; pages: number }[];
  /** Pending timer events of this VM. */
  timers: TimerEventData[];
}

const counters = (c: ExitCounters): Record<string, number> => ({ ...c.toRecord() });

/** Loads a counters record into `c` (unknown reasons are ignored; missing ones are 0). */
export function loadCounters(c: ExitCounters, record: Record<string, number>): void {
  EXIT_KINDS.forEach((k, i) => {
    const v = record[k];
    c.counts[i] = typeof v === "number" && Number.isFinite(v) ? v : 0;
  });
}

/** Captures vCPU `v` (times relative to the guest clock, i.e. minus its offset). */
export function captureVcpu(v: VCpu, hasTask: boolean): VCpuStateData {
  return {
    id: v.id,
    hart: (v.hart as unknown as { snapshot(): HartState }).snapshot(),
    state: v.state,
    wait: v.wait ?? null,
    task: hasTask,
    pcpu: v.pcpu,
    physCpuSet: v.physCpuSet ?? null,
    hsm: v.hsm,
    counted: v.counted,
    timerDeadlineNs: v.timerDeadlineNs === Infinity ? null : v.timerDeadlineNs - v.timeOffsetNs,
    resume: v.resume ? { addr: v.resume.addr, opaque: v.resume.opaque.toString() } : null,
    executed: v.executed,
    extraInstret: v.extraInstret,
    preemptions: v.preemptions,
    runNs: v.runNs,
    exits: counters(v.exits),
  };
}

/** Applies a captured vCPU to `v`; `offsetNs` is the new hypervisor-minus-guest time. */
export function applyVcpu(v: VCpu, s: VCpuStateData, offsetNs: number): void {
  (v.hart as unknown as { restore(s: HartState): void }).restore(s.hart);
  v.state = s.state as VCpu["state"];
  v.wait = s.wait ?? undefined;
  v.physCpuSet = s.physCpuSet ?? undefined;
  v.hsm = s.hsm;
  v.counted = s.counted;
  v.timeOffsetNs = offsetNs;
  v.timerDeadlineNs = s.timerDeadlineNs === null ? Infinity : s.timerDeadlineNs + offsetNs;
  v.resume = s.resume ? { addr: s.resume.addr, opaque: BigInt(s.resume.opaque) } : undefined;
  v.executed = s.executed;
  v.sliceStartExecuted = s.executed;
  v.extraInstret = s.extraInstret;
  v.preemptions = s.preemptions;
  v.runNs = s.runNs;
  loadCounters(v.exits, s.exits);
}

/** Captures everything of `vm` but its memory pages, its pending timers given by the caller. */
export function captureVmState(
  vm: Vm,
  options: { hasTask(v: VCpu): boolean; timers: TimerEventData[]; guestNowNs: number },
): VmState {
  return {
    version: VM_STATE_VERSION,
    configText: vm.config.text ?? "",
    configFile: vm.config.file,
    status: vm.status,
    guestNowNs: options.guestNowNs,
    boots: vm.boots,
    lastError: vm.lastError ?? null,
    runningHaltingCount: vm.runningHaltingCount,
    dtb: vm.dtbGpa === undefined ? null : { gpa: vm.dtbGpa, size: vm.dtbSize },
    loadedImages: vm.loadedImages.map((i) => ({ ...i })),
    pastExits: counters(vm.pastExits),
    console: vm.console.snapshot(),
    vcpus: vm.vcpus.map((v) => captureVcpu(v, options.hasTask(v))),
    devices: vm.devices.filter((d) => d.kind === "emulated" && d.device).map((d) => ({
      name: d.name,
      model: d.model,
      state: d.device!.snapshot(),
    })),
    regions: vm.regions.filter((r) => r.memory && r.mapType !== MapType.Reserved).map((r) => ({
      index: r.index,
      gpa: r.gpa,
      size: r.size,
      pages: r.size / 4096,
    })),
    timers: options.timers,
  };
}

const bad = (what: string): never => {
  throw new SnapshotFormatError("CORRUPTED", `snapshot state: ${what}`);
};

const isInt = (x: unknown): x is number => typeof x === "number" && Number.isInteger(x);

/** Checks that `data` has the shape of a {@linkcode VmState}; throws SnapshotFormatError. */
export function checkVmState(data: unknown): VmState {
  if (typeof data !== "object" || data === null) bad("not an object");
  const s = data as VmState;
  if (s.version !== VM_STATE_VERSION) {
    if (isInt(s.version) && s.version > VM_STATE_VERSION) {
      throw new SnapshotFormatError(
        "TOO_NEW",
        `snapshot state version ${s.version} is newer than this axvisor.ts reads (${VM_STATE_VERSION})`,
      );
    }
    bad(`version ${JSON.stringify(s.version)} unknown`);
  }
  if (typeof s.configText !== "string" || s.configText === "") bad("no config text");
  if (!VM_STATUSES.includes(s.status)) bad(`status ${JSON.stringify(s.status)} unknown`);
  if (typeof s.guestNowNs !== "number" || !Number.isFinite(s.guestNowNs)) bad("guest time");
  if (!Array.isArray(s.vcpus) || s.vcpus.length === 0) bad("no vCPUs");
  s.vcpus.forEach((v, i) => {
    if (
      typeof v !== "object" || v === null || v.id !== i || typeof v.hart !== "object" ||
      v.hart === null || !Array.isArray(v.hart.xl) || v.hart.xl.length !== 32 ||
      !isInt(v.state) || !isInt(v.hsm) || !isInt(v.executed) || typeof v.exits !== "object"
    ) {
      bad(`vCPU ${i} is malformed`);
    }
  });
  if (!Array.isArray(s.devices) || !Array.isArray(s.regions) || !Array.isArray(s.timers)) {
    bad("devices, regions or timers missing");
  }
  for (const t of s.timers) {
    if (t?.kind !== "boot-delay" || !isInt(t.vcpuId) || typeof t.atNs !== "number") {
      bad(`timer event ${JSON.stringify(t)} unknown`);
    }
  }
  const c = s.console;
  if (
    typeof c !== "object" || c === null || !Array.isArray(c.output) || !Array.isArray(c.input) ||
    !isInt(c.totalWritten)
  ) bad("console is malformed");
  return s;
}

/**
 * Why `vm` cannot take state `s` (its shape differs: vCPUs, memory regions, devices), or
 * undefined when it can.
 */
export function incompatibility(vm: Vm, s: VmState): string | undefined {
  if (s.vcpus.length !== vm.vcpus.length) {
    return `the snapshot has ${s.vcpus.length} vCPU(s), VM[${vm.id}] has ${vm.vcpus.length}`;
  }
  for (const r of s.regions) {
    const mine = vm.regions.find((x) => x.index === r.index);
    if (!mine || mine.gpa !== r.gpa || mine.size !== r.size || !mine.memory) {
      return `memory region ${r.index} [0x${r.gpa.toString(16)}, +0x${
        r.size.toString(16)
      }) of the snapshot does not exist in VM[${vm.id}]`;
    }
  }
  for (const d of s.devices) {
    const mine = vm.devices.find((x) => x.name === d.name);
    if (!mine || mine.model !== d.model || !mine.device) {
      return `device ${d.name} (${d.model}) of the snapshot does not exist in VM[${vm.id}]`;
    }
  }
  return undefined;
}
