/**
 * The hypervisor: VM list, VM creation from AxVisor configs, lifecycle (start, stop, suspend,
 * resume, restart, delete), vCPU tasks on the board's pCPUs, virtual time, and VM-exit handling
 * (SBI, hypercalls, IVC, MMIO, faults).
 *
 * The core is synchronous and deterministic: {@linkcode Hypervisor.runFor} advances one virtual
 * clock by executing guest instructions on every pCPU in turn, a round of `quantum` virtual
 * nanoseconds at a time. Idle pCPUs cost nothing; when no vCPU is runnable, time jumps to the
 * next event. {@linkcode HypervisorDriver} (driver.ts) runs this core in the background for interactive use.
 *
 * @module
 */

import { Bus } from "../hw/bus.ts";
import type { BoardSpec } from "../hw/boards/spec.ts";
import { StopReason } from "../hw/riscv/hart.ts";
import { type ClockMode, type TimerHandle, VirtualClock } from "./clock.ts";
import { HypervisorDriver } from "./driver.ts";
import { MapType, parseVmConfig, type VmConfig } from "./config.ts";
import { Console } from "./console.ts";
import { EventHub, type HypervisorListener } from "./events.ts";
import { AccessFlags, type ExitKind } from "./exit_reason.ts";
import type { FileSystem } from "./filesystem.ts";
import { HostMemory } from "./host_memory.ts";
import { ImageError } from "./image_loader.ts";
import { IvcError, IvcRegistry } from "./ivc.ts";
import type {
  DeleteResult,
  LifecycleErrorCode,
  LifecycleResult,
  RestartResult,
  SuspendResult,
} from "./lifecycle.ts";
import {
  HsmStatus,
  HyperCallCode,
  hyperCallName,
  SBI_IMPL_ID,
  SBI_IMPL_VERSION,
  SBI_SPEC_VERSION,
  SbiError,
  SbiExtension,
  sbiExtensionAvailable,
  SrstType,
} from "./sbi.ts";
import {
  canDeleteVm,
  canResumeVm,
  canStartVm,
  canStopVm,
  canSuspendVm,
  VCpuState,
  type VmStatus,
  vmStatusName,
} from "./status.ts";
import { Csr } from "../hw/riscv/csr.ts";
import { VCpu, type VCpuWait } from "./vcpu.ts";
import { Vm } from "./vm.ts";
import { VmList } from "./vm_list.ts";
import { VmBuilder, VmCreateError } from "./vm_builder.ts";

export { VmCreateError };

/** Options of {@linkcode Hypervisor}. */
export interface HypervisorOptions {
  /** The board (its pCPUs, RAM and devices). */
  board: BoardSpec;
  /** The hypervisor's `/`: configs and images are read from it. */
  fs: FileSystem;
  /** Clock mode: `warp` (default) or `realtime` (the driver keeps virtual time behind wall time). */
  clock?: ClockMode;
  /**
   * The seed's per-VM boot delay: the primary vCPU task of VM `id` waits `(id-1) * N` seconds of
   * virtual time after `start` before it runs (vCPUs stay Blocked meanwhile). Default 0.
   */
  bootDelaySeconds?: number;
  /** Time slice of a vCPU on its pCPU, in instructions. Default 10,000. */
  sliceInstructions?: number;
  /** Console ring-buffer capacity per VM in bytes. Default 64 KiB. */
  consoleCapacity?: number;
  /**
   * Whether harts translate hot guest code to JavaScript (the hart's second tier). Default true;
   * false keeps every guest instruction in the interpreter (debugging, differential runs).
   */
  jit?: boolean;
  /**
   * Virtual-time budget for waiting until a VM is Stopped (the seed's 5 s restart wait), in ns.
   * Default 5 s. Callers that wait (the shell's `vm restart`) use it as their timeout.
   */
  restartTimeoutNs?: number;
}

/** A pCPU of the board: its run queue of vCPU tasks. */
export interface PCpu {
  /** Index in the board's hart list. */
  readonly index: number;
  /** Physical hart id. */
  readonly hartId: number;
  /** Tasks placed on this pCPU. */
  readonly tasks: VCpu[];
  /** Round-robin position. */
  rr: number;
  /** Instructions left in the current slice. */
  sliceLeft: number;
  /** Virtual ns this pCPU spent running guests. */
  busyNs: number;
}

const hex = (n: number) => `0x${n.toString(16)}`;
/** Longest single hart run: bounds how stale the guest `time` CSR can be inside a run (instructions). */
const RUN_CHUNK = 4096;
const U64 = (1n << 64n) - 1n;
const toI64 = (v: number) => BigInt.asUintN(64, BigInt(v));

/** The hypervisor. */
export class Hypervisor {
  /** The board. */
  readonly board: BoardSpec;
  /** The hypervisor's filesystem. */
  readonly fs: FileSystem;
  /** The one virtual clock. */
  readonly clock: VirtualClock;
  /** The board's own console (passthrough UART output). */
  readonly boardConsole: Console = new Console();
  /** Per-VM boot delay in seconds (the seed's `(id-1)*N`). */
  bootDelaySeconds: number;
  /** Virtual ns per executed instruction (from the board's CPU frequency). */
  readonly nsPerInstruction: number;
  /** Virtual ns per tick of the guest `time` CSR (from the board's timebase). */
  readonly nsPerTick: number;
  /** Time slice in instructions. */
  readonly sliceInstructions: number;
  /** Virtual-time budget (ns) for waiting until a VM is Stopped, the seed's 5 s. */
  readonly restartTimeoutNs: number;
  /** Length of one scheduling round in virtual ns. */
  readonly quantumNs: number;
  /** Number of running VMs (the seed's running VM count). */
  runningVmCount = 0;

  readonly #vms = new VmList<Vm>();
  readonly #pcpus: PCpu[];
  readonly #events = new EventHub();
  readonly #ivc = new IvcRegistry();
  readonly #host: HostMemory;
  readonly #active = new Set<Vm>();
  readonly #bootTimers = new Map<Vm, TimerHandle[]>();
  readonly #consoleCapacity?: number;
  readonly #jit: boolean;
  readonly #builder: VmBuilder;

  /** Creates a hypervisor on `board` with no VM. */
  constructor(options: HypervisorOptions) {
    this.board = options.board;
    this.fs = options.fs;
    this.clock = new VirtualClock(options.clock ?? "warp");
    this.bootDelaySeconds = options.bootDelaySeconds ?? 0;
    this.nsPerInstruction = 1e9 / options.board.cpus.frequency;
    this.nsPerTick = 1e9 / options.board.timebaseFrequency;
    this.sliceInstructions = options.sliceInstructions ?? 10_000;
    this.quantumNs = this.sliceInstructions * this.nsPerInstruction;
    this.#consoleCapacity = options.consoleCapacity;
    this.#jit = options.jit ?? true;
    this.restartTimeoutNs = options.restartTimeoutNs ?? 5e9;
    this.#pcpus = options.board.cpus.hartIds.map((hartId, index) => ({
      index,
      hartId,
      tasks: [],
      rr: 0,
      sliceLeft: this.sliceInstructions,
      busyNs: 0,
    }));
    this.#host = new HostMemory(options.board.memory);
    this.#builder = new VmBuilder({
      board: this.board,
      fs: this.fs,
      host: this.#host,
      boardConsole: this.boardConsole,
      jit: this.#jit,
      current: () => this.#current,
      timeTicks: (v) => Math.floor(this.#vcpuNowNs(v) / this.nsPerTick),
      consoleOut: (vm, data) => this.#consoleOut(vm, data),
      externalLine: (vm, vcpuId, level) => this.#externalLine(vm, vcpuId, level),
      pumpInput: (vm) => this.#pumpInput(vm),
    });
  }

  // ─────────────────────────── queries ───────────────────────────

  /** The VM with this id (number) or name (string), if any. */
  vm(idOrName: number | string): Vm | undefined {
    if (typeof idOrName === "number") return this.#vms.get(idOrName);
    const asId = /^\d+$/.test(idOrName) ? this.#vms.get(Number(idOrName)) : undefined;
    return asId ?? this.#vms.list().find((v) => v.name === idOrName);
  }

  /** Every VM, ordered by id. */
  vms(): Vm[] {
    return this.#vms.list();
  }

  /** VMs with ids in `[from, to]`, ordered by id (the seed's BTreeMap range). */
  vmRange(from: number, to: number): Vm[] {
    return this.#vms.range(from, to);
  }

  /** The board's pCPUs and their run queues. */
  pcpus(): readonly PCpu[] {
    return this.#pcpus;
  }

  /** Board RAM given to VMs (allocated and identical regions, EPT roots). */
  hostAllocations(): ReturnType<HostMemory["allocations"]> {
    return this.#host.allocations();
  }

  /** IVC channels. */
  ivcChannels(): ReturnType<IvcRegistry["channels"]> {
    return this.#ivc.channels();
  }

  /** Subscribes to events; returns the unsubscribe function. */
  on(listener: HypervisorListener): () => void {
    return this.#events.on(listener);
  }

  /**
   * Every place in the hypervisor that still refers to VM `id` (VM list, run queues, active set,
   * timers, IVC channels, host memory, boot timers). Empty once a VM is fully deleted.
   */
  references(id: number): string[] {
    const out: string[] = [];
    const owner = `VM[${id}]`;
    if (this.#vms.has(id)) out.push("VM list");
    for (const p of this.#pcpus) {
      for (const t of p.tasks) {
        if (t.vmId === id) out.push(`pCPU ${p.index} run queue: ${t.taskName}`);
      }
    }
    for (const vm of this.#active) if (vm.id === id) out.push("active VM set");
    for (const [vm] of this.#bootTimers) if (vm.id === id) out.push("boot timers");
    for (const t of this.clock.pending()) {
      if (t.owner.startsWith(owner)) out.push(`timer: ${t.owner}`);
    }
    for (const c of this.#ivc.channels()) {
      if (c.publisherId === id) out.push(`IVC channel ${c.publisherId}:${hex(Number(c.key))}`);
      if (c.subscribers.includes(id)) out.push(`IVC subscription ${c.publisherId}:${c.key}`);
    }
    for (const a of this.#host.allocations()) {
      if (a.owner === owner) out.push(`host memory ${hex(a.hpa)} (${a.purpose})`);
    }
    return out;
  }

  // ─────────────────────────── creation ───────────────────────────

  /**
   * Creates a VM from a config file on the hypervisor's filesystem, or from TOML text (`origin`
   * names it in errors). The VM ends up Loaded. Throws {@linkcode ConfigError},
   * {@linkcode VmCreateError} or {@linkcode ImageError}, having released whatever it took.
   */
  createVm(source: { path: string } | { text: string; origin: string }): Vm {
    let text: string, file: string;
    if ("path" in source) {
      file = source.path;
      try {
        text = this.fs.readTextFile(source.path);
      } catch (e) {
        throw new VmCreateError(`cannot read config ${source.path}: ${(e as Error).message}`);
      }
    } else {
      text = source.text;
      file = source.origin;
    }
    const config = parseVmConfig(text, file);
    return this.createVmFromConfig(config);
  }

  /** Creates a VM from an already parsed config (see {@linkcode Hypervisor.createVm}). */
  createVmFromConfig(config: VmConfig): Vm {
    const file = config.file;
    const id = config.base.id;
    if (this.#vms.has(id)) {
      throw new VmCreateError(`${file}: base.id: VM with id ${id} already exists`);
    }
    const bus = new Bus();
    const vm = new Vm(config, bus, this.#consoleCapacity);
    try {
      this.#builder.validateCpus(config);
      this.#builder.buildMemory(vm);
      this.#builder.buildDevices(vm);
      vm.eptAllocation = this.#host.allocate(0x1000, vm.owner, "EPT root");
      vm.eptRoot = vm.eptAllocation.hpa;
      this.#builder.buildVcpus(vm);
      // Read the images once now so that a missing or broken image fails at create.
      this.#builder.readImages(vm);
    } catch (e) {
      this.#host.freeOwner(vm.owner);
      if (e instanceof ImageError || e instanceof VmCreateError) throw e;
      throw new VmCreateError(`${file}: ${(e as Error).message}`);
    }
    // The vCPUs are set up (Created -> Free), as AxVM::new does.
    for (const v of vm.vcpus) {
      v.state = VCpuState.Free;
      v.wait = "not-started";
    }
    this.#vms.push(id, vm);
    this.#setStatus(vm, "loaded", "created");
    return vm;
  }

  // ─────────────────────────── lifecycle ───────────────────────────

  #notFound(action: LifecycleResult["action"], id: number): LifecycleResult {
    return {
      ok: false,
      action,
      vmId: id,
      error: { code: "NOT_FOUND", message: `VM[${id}] not found` },
      notes: [],
    };
  }

  #refuse(
    action: LifecycleResult["action"],
    vm: Vm,
    code: LifecycleErrorCode,
    message: string,
  ): LifecycleResult {
    return {
      ok: false,
      action,
      vmId: vm.id,
      previousStatus: vm.status,
      status: vm.status,
      error: { code, message },
      notes: [],
    };
  }

  /** Starts a Loaded or Stopped VM: loads its images afresh and sets up its primary vCPU. */
  startVm(id: number): LifecycleResult {
    const vm = this.#vms.get(id);
    if (!vm) return this.#notFound("start", id);
    const previousStatus = vm.status;
    const refusal = canStartVm(vm.status);
    if (refusal) return this.#refuse("start", vm, "INVALID_STATE", refusal);
    try {
      this.#builder.loadForBoot(vm);
      vm.uart?.reset();
      vm.plic?.reset();
    } catch (e) {
      return this.#refuse("start", vm, "FAILED", (e as Error).message);
    }
    for (const v of vm.vcpus) {
      vm.pastExits.add(v.exits);
      v.exits.reset();
      this.#resetVcpu(vm, v);
    }
    vm.lastError = undefined;
    vm.runningHaltingCount = 0;
    vm.boots++;
    vm.startedAtNs = this.clock.now();
    this.#active.add(vm);
    this.runningVmCount++;
    this.#setStatus(vm, "running", "start");
    // The seed's setup_vm_primary_vcpu + notify_primary_vcpu.
    const primary = vm.vcpus[0];
    primary.hart.reset(vm.config.kernel.entryPoint, 1);
    this.#initSupervisor(primary);
    primary.hart.setX(10, BigInt(primary.hartId));
    primary.hart.setX(11, BigInt(vm.dtbGpa ?? 0));
    primary.hsm = HsmStatus.Started;
    this.#spawnTask(vm, primary);
    this.#pumpInput(vm);
    return { ok: true, action: "start", vmId: id, previousStatus, status: vm.status, notes: [] };
  }

  #resetVcpu(vm: Vm, v: VCpu): void {
    this.#removeTask(v);
    v.hart.reset(vm.config.kernel.entryPoint, 1);
    this.#initSupervisor(v);
    v.state = VCpuState.Free;
    v.wait = "not-started";
    v.hsm = HsmStatus.Stopped;
    v.counted = false;
    v.timerDeadlineNs = Infinity;
    v.resume = undefined;
    v.hart.setIrqLine(1 << 5, false);
    v.hart.setIrqLine(1 << 9, false);
  }

  /** Clears what a guest must find at boot: interrupts disabled and pending lines low. */
  #initSupervisor(v: VCpu): void {
    v.hart.writeCsr(Csr.mie, 0n);
    v.hart.writeCsr(Csr.satp, 0n);
    v.hart.setIrqLine(1 << 1, false);
    v.hart.setIrqLine(1 << 5, false);
    v.hart.setIrqLine(1 << 9, false);
  }

  /** Places a vCPU task on a pCPU honouring its mask (fewest tasks first) and makes it wait for its boot delay. */
  #spawnTask(vm: Vm, v: VCpu): void {
    const allowed = this.#pcpus.filter((p) =>
      v.physCpuSet === undefined || (v.physCpuSet & (2 ** p.index)) !== 0
    );
    let best = allowed[0];
    for (const p of allowed) if (p.tasks.length < best.tasks.length) best = p;
    v.pcpu = best.index;
    best.tasks.push(v);
    const delayNs = Math.max(0, (vm.id - 1) * this.bootDelaySeconds * 1e9);
    if (delayNs > 0 && !v.counted && v.id === 0) {
      v.state = VCpuState.Blocked;
      v.wait = "boot-delay";
      const t = this.clock.schedule(this.clock.now() + delayNs, () => {
        const list = this.#bootTimers.get(vm);
        list?.splice(list.indexOf(t), 1);
        if (list?.length === 0) this.#bootTimers.delete(vm);
        this.#vcpuBegin(vm, v);
      }, `${vm.owner} boot delay`);
      const list = this.#bootTimers.get(vm) ?? [];
      list.push(t);
      this.#bootTimers.set(vm, list);
      return;
    }
    this.#vcpuBegin(vm, v);
  }

  /** The seed's "wait_for(vm.running()); mark_vcpu_running": the task starts its loop. */
  #vcpuBegin(vm: Vm, v: VCpu): void {
    if (vm.status === "stopping" || vm.status === "stopped") {
      this.#vcpuExit(vm, v);
      return;
    }
    v.counted = true;
    vm.runningHaltingCount++;
    v.state = vm.status === "suspended" ? VCpuState.Blocked : VCpuState.Ready;
    v.wait = vm.status === "suspended" ? "vm-suspended" : undefined;
    this.#events.emit({
      type: "vcpu",
      vmId: vm.id,
      vcpuId: v.id,
      change: "up",
      pcpu: v.pcpu,
      timeNs: this.#eventTime(),
    });
  }

  /** Stops a VM: gracefully (vCPUs leave at their next scheduling point) or, with force, at once. */
  stopVm(id: number, options: { force?: boolean } = {}): LifecycleResult {
    const vm = this.#vms.get(id);
    if (!vm) return this.#notFound("stop", id);
    const force = options.force ?? false;
    const previousStatus = vm.status;
    const refusal = canStopVm(vm.status, force);
    if (refusal) return this.#refuse("stop", vm, "INVALID_STATE", refusal);
    const notes: string[] = [];
    if (previousStatus === "loading" || previousStatus === "loaded") {
      notes.push(`VM[${id}] is in ${vmStatusName(previousStatus)} state, stopping anyway...`);
      this.#setStatus(vm, "stopped", "stop");
      return { ok: true, action: "stop", vmId: id, previousStatus, status: vm.status, notes };
    }
    this.#shutdown(vm, force ? "force stop" : "stop");
    if (force) this.#settleStopping(vm);
    return { ok: true, action: "stop", vmId: id, previousStatus, status: vm.status, notes };
  }

  /** The seed's `vm.shutdown()`: Stopping, and every waiting vCPU is woken to observe it. */
  #shutdown(vm: Vm, reason: string): void {
    if (vm.status !== "stopping") this.#setStatus(vm, "stopping", reason);
    for (const t of this.#bootTimers.get(vm) ?? []) this.clock.cancel(t);
    this.#bootTimers.delete(vm);
    let any = false;
    for (const v of vm.vcpus) {
      if (v.pcpu >= 0 && this.#pcpus[v.pcpu].tasks.includes(v)) {
        any = true;
        if (v.state === VCpuState.Blocked) {
          v.state = VCpuState.Ready;
          v.wait = undefined;
        }
      }
    }
    if (!any) this.#finishStop(vm);
  }

  /** Runs every vCPU of a stopping VM out of its loop now (no guest code runs). */
  #settleStopping(vm: Vm): void {
    for (const v of [...vm.vcpus]) {
      if (v.pcpu >= 0 && this.#pcpus[v.pcpu].tasks.includes(v)) this.#vcpuExit(vm, v);
    }
    if (vm.status === "stopping") this.#finishStop(vm);
  }

  /** A vCPU leaves its loop; the last one sets Stopped (the seed's mark_vcpu_exiting). */
  #vcpuExit(vm: Vm, v: VCpu): void {
    const wasCounted = v.counted;
    const wasDown = v.wait === "cpu-down";
    this.#removeTask(v);
    v.state = VCpuState.Free;
    v.wait = "exited";
    v.hsm = HsmStatus.Stopped;
    if (wasCounted) {
      v.counted = false;
      vm.runningHaltingCount--;
    }
    if (wasCounted && !wasDown) {
      this.#events.emit({
        type: "vcpu",
        vmId: vm.id,
        vcpuId: v.id,
        change: "down",
        pcpu: v.pcpu,
        timeNs: this.#eventTime(),
      });
    }
    const anyTask = vm.vcpus.some((x) => x.pcpu >= 0 && this.#pcpus[x.pcpu].tasks.includes(x));
    if (!anyTask && vm.status === "stopping") this.#finishStop(vm);
  }

  #finishStop(vm: Vm): void {
    for (const v of vm.vcpus) {
      this.#removeTask(v);
      v.state = VCpuState.Free;
      v.wait = "exited";
      v.hsm = HsmStatus.Stopped;
      v.counted = false;
    }
    vm.runningHaltingCount = 0;
    this.#ivc.releaseVm(vm.id);
    this.#active.delete(vm);
    if (this.runningVmCount > 0) this.runningVmCount--;
    this.#setStatus(vm, "stopped", "last vCPU exited");
  }

  #removeTask(v: VCpu): void {
    if (v.pcpu < 0) return;
    const p = this.#pcpus[v.pcpu];
    const i = p.tasks.indexOf(v);
    if (i >= 0) {
      p.tasks.splice(i, 1);
      if (p.rr > i) p.rr--;
    }
  }

  /** Suspends a Running VM: every vCPU blocks (at once: no vCPU is mid-instruction between calls). */
  suspendVm(id: number): SuspendResult {
    const vm = this.#vms.get(id);
    if (!vm) {
      return {
        ...this.#notFound("suspend", id),
        action: "suspend",
        vcpuCount: 0,
        allSuspended: false,
      };
    }
    const previousStatus = vm.status;
    const refusal = canSuspendVm(vm.status);
    if (refusal) {
      return {
        ...this.#refuse("suspend", vm, "INVALID_STATE", refusal),
        action: "suspend",
        vcpuCount: vm.vcpus.length,
        allSuspended: false,
      };
    }
    this.#setStatus(vm, "suspended", "suspend");
    // Each vCPU reaches its exit check and waits on the VM's wait queue.
    for (const v of vm.vcpus) {
      if (v.state === VCpuState.Running || v.state === VCpuState.Ready) {
        v.state = VCpuState.Blocked;
        v.wait = "vm-suspended";
      } else if (v.state === VCpuState.Free) {
        v.state = VCpuState.Blocked;
        v.wait = "vm-suspended";
      }
    }
    const allSuspended = vm.vcpus.every((v) => v.state === VCpuState.Blocked);
    return {
      ok: true,
      action: "suspend",
      vmId: id,
      previousStatus,
      status: vm.status,
      notes: [],
      vcpuCount: vm.vcpus.length,
      allSuspended,
    };
  }

  /** Resumes a Suspended VM: the seed's notify_all_vcpus. */
  resumeVm(id: number): LifecycleResult {
    const vm = this.#vms.get(id);
    if (!vm) return this.#notFound("resume", id);
    const previousStatus = vm.status;
    const refusal = canResumeVm(vm.status);
    if (refusal) return this.#refuse("resume", vm, "INVALID_STATE", refusal);
    this.#setStatus(vm, "running", "resume");
    for (const v of vm.vcpus) {
      if (v.wait !== "vm-suspended") continue;
      const task = v.pcpu >= 0 && this.#pcpus[v.pcpu].tasks.includes(v);
      if (!task) {
        v.state = VCpuState.Free;
        v.wait = "not-started";
      } else if (v.hsm === HsmStatus.Stopped && v.counted) {
        v.state = VCpuState.Blocked;
        v.wait = "cpu-down";
      } else {
        v.state = VCpuState.Ready;
        v.wait = undefined;
      }
    }
    // vCPUs halted in wfi or HSM suspend wake if an interrupt arrived while the VM was suspended.
    for (const v of vm.vcpus) this.#maybeWake(vm, v);
    return { ok: true, action: "resume", vmId: id, previousStatus, status: vm.status, notes: [] };
  }

  /**
   * Restarts a VM: a Stopped or Loaded VM is simply started; a Running or Suspended one is
   * stopped, waited for (in virtual time, the seed's 5 s budget) and started afresh.
   */
  restartVm(id: number, options: { force?: boolean } = {}): RestartResult {
    const vm = this.#vms.get(id);
    const base = { action: "restart" as const, waitedNs: 0 };
    if (!vm) return { ...this.#notFound("restart", id), ...base };
    const previousStatus = vm.status;
    const force = options.force ?? false;
    if (vm.status === "stopped" || vm.status === "loaded") {
      const r = this.startVm(id);
      return { ...r, ...base, previousStatus, path: "start" };
    }
    if (vm.status === "loading") {
      return {
        ...this.#refuse("restart", vm, "INVALID_STATE", "VM is still loading, cannot restart"),
        ...base,
      };
    }
    if (vm.status === "stopping" && !force) {
      return {
        ...this.#refuse("restart", vm, "INVALID_STATE", "VM is currently stopping"),
        ...base,
      };
    }
    const notes: string[] = [];
    if (vm.status !== "stopping") {
      const stop = this.stopVm(id, { force });
      if (!stop.ok) return { ...stop, ...base, action: "restart" };
    } else {
      notes.push(`VM[${id}] is currently stopping, waiting...`);
    }
    // Wait for Stopped: every vCPU leaves its loop at its next scheduling point, which costs
    // no guest time, so the wait ends at once and can never hang.
    const t0 = this.clock.now();
    this.#settleStopping(vm);
    const waitedNs = this.clock.now() - t0;
    if ((vm.status as VmStatus) !== "stopped") {
      return {
        ok: false,
        action: "restart",
        vmId: id,
        previousStatus,
        status: vm.status,
        error: { code: "TIMEOUT", message: `VM[${id}] stop timeout` },
        notes,
        waitedNs,
      };
    }
    const r = this.startVm(id);
    return {
      ...r,
      action: "restart",
      previousStatus,
      notes: [...notes, ...r.notes],
      path: "stop-start",
      waitedNs,
    };
  }

  /**
   * Deletes a VM: refuses a non-Stopped VM without `force`; stops it, removes it from the list,
   * drops its vCPU tasks, releases memory, IVC channels, timers and console subscribers. Without
   * `keepData`, removes the files the seed names under `/guest/vms/<name>/`.
   */
  deleteVm(id: number, options: { force?: boolean; keepData?: boolean } = {}): DeleteResult {
    const vm = this.#vms.get(id);
    const keepData = options.keepData ?? false;
    const base = {
      action: "delete" as const,
      keepData,
      removedFiles: [] as string[],
      leakedReferences: [] as string[],
    };
    if (!vm) return { ...this.#notFound("delete", id), ...base };
    const previousStatus = vm.status;
    const refusal = canDeleteVm(vm.status, options.force ?? false);
    if (refusal) return { ...this.#refuse("delete", vm, "INVALID_STATE", refusal), ...base };
    const notes: string[] = [];
    if (vm.status === "running" || vm.status === "suspended" || vm.status === "stopping") {
      notes.push(`VM[${id}] is ${vmStatusName(vm.status)}, sending shutdown signal...`);
      this.#shutdown(vm, "delete");
      this.#settleStopping(vm);
    } else if (vm.status === "loaded" || vm.status === "loading") {
      this.#setStatus(vm, "stopped", "delete");
    }
    this.#vms.remove(id);
    for (const v of vm.vcpus) this.#removeTask(v);
    for (const t of this.#bootTimers.get(vm) ?? []) this.clock.cancel(t);
    this.#bootTimers.delete(vm);
    this.#ivc.releaseVm(id);
    this.#active.delete(vm);
    this.#host.freeOwner(vm.owner);
    vm.console.unsubscribeAll();
    vm.console.onInput = undefined;
    for (const r of vm.regions) if (r.mapType === MapType.Alloc) r.memory?.clear();
    const removedFiles: string[] = [];
    if (!keepData) {
      for (const f of ["disk.img", "config.toml", "vm.log"]) {
        const p = `/guest/vms/${vm.name}/${f}`;
        try {
          if (this.fs.stat(p)) {
            this.fs.remove(p);
            removedFiles.push(p);
          }
        } catch (_) {
          // A file we could not remove stays; deletion of the VM itself goes on.
        }
      }
    }
    const leakedReferences = this.references(id);
    this.#events.emit({
      type: "status",
      vmId: id,
      from: "stopped",
      to: "stopped",
      timeNs: this.#eventTime(),
      reason: "deleted",
    });
    return {
      ok: true,
      action: "delete",
      vmId: id,
      previousStatus,
      notes,
      keepData,
      removedFiles,
      leakedReferences,
    };
  }

  /** Virtual time of an event: the running vCPU's own time inside a slice. */
  #eventTime(): number {
    return this.#current ? this.#vcpuNowNs(this.#current) : this.clock.now();
  }

  #setStatus(vm: Vm, to: VmStatus, reason?: string): void {
    const from = vm.status;
    vm.status = to;
    if (from !== to || reason === "created") {
      this.#events.emit({
        type: "status",
        vmId: vm.id,
        from,
        to,
        timeNs: this.#eventTime(),
        reason,
      });
    }
  }

  // ─────────────────────────── console ───────────────────────────

  #consoleOut(vm: Vm, data: Uint8Array): void {
    vm.console.write(data);
    this.#events.emit({ type: "console", vmId: vm.id, data, timeNs: this.#eventTime() });
  }

  /** Moves console input into the VM's UART while it has room. */
  #pumpInput(vm: Vm): void {
    if (!vm.uart || vm.status !== "running" && vm.status !== "suspended") return;
    while (vm.console.inputPending > 0 && vm.uart.pendingInput() < vm.uart.inputCapacity) {
      const b = vm.console.readInput();
      vm.uart.sendInput(Uint8Array.of(b));
    }
  }

  // ─────────────────────────── time and scheduling ───────────────────────────

  #current: VCpu | undefined;

  /** Virtual time as the given vCPU sees it (inside its slice). */
  #vcpuNowNs(v: VCpu): number {
    if (this.#current === v) {
      return v.sliceStartNs + (v.executed - v.sliceStartExecuted) * this.nsPerInstruction;
    }
    return this.clock.now();
  }

  /** Runs the hypervisor for `virtualNs` nanoseconds of virtual time (synchronous). */
  runFor(virtualNs: number): void {
    const target = this.clock.now() + Math.max(0, virtualNs);
    while (this.clock.now() < target) this.#step(target);
    this.#fireDue();
  }

  /**
   * Runs until `predicate` holds or `timeoutNs` of virtual time passed (synchronous). Returns
   * whether the predicate held.
   */
  runUntil(predicate: () => boolean, timeoutNs: number): boolean {
    const target = this.clock.now() + Math.max(0, timeoutNs);
    if (predicate()) return true;
    while (this.clock.now() < target) {
      this.#step(target);
      if (predicate()) return true;
    }
    this.#fireDue();
    return predicate();
  }

  /**
   * Waits until `predicate` holds or `timeoutNs` of virtual time passed; resolves to whether the
   * predicate held. When a {@linkcode HypervisorDriver} runs the core, it waits for the driver.
   * Otherwise, in warp mode it runs the core synchronously, and in realtime mode it runs a
   * driver for the duration of the wait, so that virtual time never runs ahead of the wall clock.
   */
  async waitFor(predicate: () => boolean, timeoutNs: number): Promise<boolean> {
    if (this.#waitHook) return this.#waitHook(predicate, timeoutNs);
    if (this.clock.mode === "warp") return this.runUntil(predicate, timeoutNs);
    const driver = new HypervisorDriver(this);
    driver.start();
    try {
      return await driver.waitFor(predicate, timeoutNs);
    } finally {
      await driver.stop();
    }
  }

  #waitHook?: (predicate: () => boolean, timeoutNs: number) => Promise<boolean>;

  /** Lets the driver take over {@linkcode Hypervisor.waitFor} (undefined gives it back). */
  setWaitHook(hook?: (predicate: () => boolean, timeoutNs: number) => Promise<boolean>): void {
    this.#waitHook = hook;
  }

  /** Whether any vCPU is runnable (the driver sleeps when not). */
  hasRunnable(): boolean {
    return this.#pcpus.some((p) => p.tasks.some((t) => t.runnable));
  }

  /** Virtual time of the next event when nothing is runnable (undefined: none). */
  nextEventNs(): number | undefined {
    let next = this.clock.nextDeadline() ?? Infinity;
    const now = this.clock.now();
    for (const vm of this.#active) {
      for (const v of vm.vcpus) {
        if (v.timerDeadlineNs > now && v.timerDeadlineNs < next && v.counted) {
          next = v.timerDeadlineNs;
        }
      }
    }
    return next === Infinity ? undefined : next;
  }

  #fireDue(): void {
    this.clock.runDue();
    const now = this.clock.now();
    for (const vm of this.#active) {
      for (const v of vm.vcpus) {
        if (v.timerDeadlineNs <= now && v.counted) {
          v.timerDeadlineNs = Infinity;
          v.hart.setIrqLine(1 << 5, true);
          this.#maybeWake(vm, v);
        }
      }
    }
  }

  #step(target: number): void {
    this.#fireDue();
    const now = this.clock.now();
    const next = this.nextEventNs() ?? Infinity;
    if (!this.hasRunnable()) {
      this.clock.advanceTo(Math.min(next, target));
      this.#fireDue();
      return;
    }
    let end = Math.min(now + this.quantumNs, target, next);
    if (end <= now) end = now + this.nsPerInstruction;
    for (const p of this.#pcpus) this.#runPcpu(p, now, end);
    this.clock.advanceTo(end);
    this.#fireDue();
  }

  #pick(p: PCpu): VCpu | undefined {
    const n = p.tasks.length;
    for (let k = 0; k < n; k++) {
      const i = (p.rr + k) % n;
      const v = p.tasks[i];
      if (v.runnable) {
        if (k !== 0) {
          p.rr = i;
          p.sliceLeft = this.sliceInstructions;
        }
        return v;
      }
    }
    return undefined;
  }

  #runPcpu(p: PCpu, start: number, end: number): void {
    let t = start;
    while (t < end) {
      const v = this.#pick(p);
      if (!v) break;
      for (const o of p.tasks) {
        if (o !== v && o.state === VCpuState.Running) o.state = VCpuState.Ready;
      }
      const vm = this.#vms.get(v.vmId)!;
      if (vm.status === "stopping") {
        this.#vcpuExit(vm, v);
        continue;
      }
      if (vm.status !== "running") {
        v.state = VCpuState.Blocked;
        v.wait = "vm-suspended";
        continue;
      }
      let budget = Math.min(p.sliceLeft, Math.ceil((end - t) / this.nsPerInstruction));
      budget = Math.max(1, budget);
      v.state = VCpuState.Running;
      const executed = Math.max(1, this.#runVcpu(vm, v, t, budget));
      const ns = executed * this.nsPerInstruction;
      t += ns;
      p.busyNs += ns;
      p.sliceLeft -= executed;
      if (p.sliceLeft <= 0) {
        p.sliceLeft = this.sliceInstructions;
        if (p.tasks.length > 1) {
          p.rr = (p.rr + 1) % p.tasks.length;
          if (v.runnable && p.tasks.some((o) => o !== v && o.runnable)) {
            v.preemptions++;
            v.state = VCpuState.Ready;
          }
        }
      }
    }
  }

  /** Runs one vCPU for at most `budget` instructions starting at virtual time `t`. */
  #runVcpu(vm: Vm, v: VCpu, t: number, budget: number): number {
    const hart = v.hart;
    v.sliceStartNs = t;
    v.sliceStartExecuted = v.executed;
    this.#current = v;
    try {
      while (true) {
        const done = v.executed - v.sliceStartExecuted;
        let remaining = budget - done;
        if (remaining <= 0) break;
        const nowNs = v.sliceStartNs + done * this.nsPerInstruction;
        if (v.timerDeadlineNs <= nowNs) {
          v.timerDeadlineNs = Infinity;
          hart.setIrqLine(1 << 5, true);
        } else if (v.timerDeadlineNs !== Infinity) {
          remaining = Math.min(
            remaining,
            Math.max(1, Math.ceil((v.timerDeadlineNs - nowNs) / this.nsPerInstruction)),
          );
        }
        // The hart publishes instret when a run ends: short runs keep the guest's `time` fine-grained.
        const reason = hart.run(Math.min(remaining, RUN_CHUNK));
        v.executed += hart.lastRunInstructions;
        if (reason === StopReason.Budget) {
          if (v.executed - v.sliceStartExecuted >= budget) break;
          continue;
        }
        const boots = vm.boots;
        this.#handleStop(vm, v, reason);
        if (!v.runnable || vm.status !== "running" || vm.boots !== boots) break;
      }
      if (vm.status === "running" && v.runnable) this.#checkTrapLoop(vm, v);
    } catch (e) {
      // An emulation error (a device or hart bug) ends this VM, never the host.
      v.exits.count("FailEntry");
      this.#fault(
        vm,
        v,
        "FailEntry",
        undefined,
        hart.pc,
        `emulation error: ${(e as Error).message}`,
      );
    } finally {
      this.#current = undefined;
    }
    const executed = v.executed - v.sliceStartExecuted;
    v.runNs += executed * this.nsPerInstruction;
    if (vm.uart && vm.console.inputPending > 0) this.#pumpInput(vm);
    return executed;
  }

  /**
   * A double fault: the trap handler's first instruction traps again (sepc == stvec == pc for an
   * exception), so the vCPU would loop forever. Ends the VM with a clear error.
   */
  #checkTrapLoop(vm: Vm, v: VCpu): void {
    const h = v.hart;
    if (h.priv !== 1) return;
    const stvec = Number(h.readCsr(Csr.stvec) & ~3n);
    if (h.pc !== stvec) return;
    const scause = h.readCsr(Csr.scause);
    if (scause >> 63n || Number(h.readCsr(Csr.sepc)) !== stvec) return;
    v.exits.count("FailEntry");
    this.#fault(
      vm,
      v,
      "DoubleFault",
      undefined,
      stvec,
      `double fault: the trap handler at stvec ${hex(stvec)} itself traps (scause ${
        causeName(scause)
      })`,
    );
  }

  #handleStop(vm: Vm, v: VCpu, reason: number): void {
    const hart = v.hart;
    switch (reason) {
      case StopReason.Ecall:
        v.extraInstret++;
        v.executed++;
        this.#handleEcall(vm, v);
        return;
      case StopReason.Wfi:
        v.exits.count("Halt");
        this.#halt(vm, v, "wfi");
        return;
      case StopReason.BusError: {
        const e = hart.lastBusError;
        v.exits.count("NestedPageFault");
        if (e.fetch) {
          const stvec = Number(hart.readCsr(Csr.stvec));
          const scause = hart.readCsr(Csr.scause);
          const sepc = Number(hart.readCsr(Csr.sepc));
          if (e.addr === stvec && hart.priv === 1 && scause !== 0n) {
            this.#fault(
              vm,
              v,
              "UnhandledTrap",
              e.addr,
              sepc,
              `guest trap (scause ${causeName(scause)}) with no handler (stvec ${
                hex(stvec)
              } is not mapped)`,
            );
            return;
          }
        }
        const access = e.fetch
          ? "instruction fetch"
          : e.write
          ? `${e.width}-byte write`
          : `${e.width}-byte read`;
        this.#fault(
          vm,
          v,
          "NestedPageFault",
          e.addr,
          e.pc,
          `nested page fault: ${access} at unmapped guest-physical address ${hex(e.addr)} (flags ${
            e.fetch ? AccessFlags.EXECUTE : e.write ? AccessFlags.WRITE : AccessFlags.READ
          })`,
        );
        return;
      }
      case StopReason.Breakpoint:
        v.exits.count("FailEntry");
        this.#fault(vm, v, "GuestError", undefined, hart.pc, "ebreak with no debugger attached");
        return;
      default:
        v.exits.count("FailEntry");
        this.#fault(
          vm,
          v,
          "FailEntry",
          undefined,
          hart.pc,
          `the vCPU cannot continue (hart stop reason ${reason})`,
        );
    }
  }

  /** Stops `vm` because of a guest error; other VMs are not affected. */
  #fault(vm: Vm, v: VCpu, kind: string, addr: number | undefined, pc: number, what: string): void {
    const message = `VM[${vm.id}] VCpu[${v.id}] ${what} at pc ${hex(pc)}`;
    vm.lastError = message;
    this.#events.emit({
      type: "fault",
      vmId: vm.id,
      vcpuId: v.id,
      kind,
      addr,
      pc,
      message,
      timeNs: this.#vcpuNowNs(v),
    });
    this.#shutdown(vm, "fault");
    this.#settleStopping(vm);
  }

  /** Halt: block until an interrupt is pending (or the VM stops). */
  #halt(vm: Vm, v: VCpu, wait: VCpuWait): void {
    if (v.interruptPending()) return;
    v.state = VCpuState.Blocked;
    v.wait = wait;
    void vm;
  }

  /** Wakes a vCPU halted in wfi/HSM suspend when an interrupt became pending. */
  #maybeWake(vm: Vm, v: VCpu): void {
    if (v.state !== VCpuState.Blocked) return;
    if (v.wait !== "wfi" && v.wait !== "hsm-suspend") return;
    if (vm.status !== "running") return;
    if (!v.interruptPending()) return;
    if (v.wait === "hsm-suspend") {
      v.hsm = HsmStatus.Started;
      if (v.resume) {
        v.hart.pc = v.resume.addr;
        v.hart.setX(10, BigInt(v.hartId));
        v.hart.setX(11, v.resume.opaque);
        v.hart.writeCsr(Csr.satp, 0n);
        v.hart.writeCsr(Csr.sstatus, v.hart.readCsr(Csr.sstatus) & ~2n);
        v.resume = undefined;
      }
    }
    v.state = VCpuState.Ready;
    v.wait = undefined;
  }

  /** A PLIC context line of `vm` changed: drive the vCPU's SEIP. */
  #externalLine(vm: Vm, vcpuId: number, level: boolean): void {
    const v = vm.vcpus[vcpuId];
    if (!v) return;
    v.hart.setIrqLine(1 << 9, level);
    if (level) {
      v.exits.count("ExternalInterrupt");
      this.#maybeWake(vm, v);
    }
  }

  #sendIpi(vm: Vm, target: VCpu): void {
    target.hart.setIrqLine(1 << 1, true);
    this.#maybeWake(vm, target);
  }

  // ─────────────────────────── SBI ───────────────────────────

  #handleEcall(vm: Vm, v: VCpu): void {
    const h = v.hart;
    const ext = h.getXLow(17) >>> 0;
    const fid = h.getXLow(16) >>> 0;
    const a = (i: number) => h.getX(10 + i);
    let advance = true;
    const ret = (error: number, value: bigint | number = 0n) => {
      h.setX(10, toI64(error));
      h.setX(11, typeof value === "bigint" ? BigInt.asUintN(64, value) : toI64(value));
    };
    const count = (k: ExitKind) => v.exits.count(k);
    if (ext <= 8) {
      // Legacy extensions: a0 only.
      switch (ext) {
        case SbiExtension.LegacySetTimer:
          count("Nothing");
          this.#setTimer(v, a(0));
          h.setX(10, 0n);
          break;
        case SbiExtension.LegacyPutchar:
          count("Nothing");
          this.#consoleOut(vm, Uint8Array.of(Number(a(0) & 0xffn)));
          h.setX(10, 0n);
          break;
        case SbiExtension.LegacyGetchar:
          count("Nothing");
          h.setX(10, toI64(vm.console.readInput()));
          break;
        case SbiExtension.LegacyClearIpi:
          count("Nothing");
          h.setIrqLine(1 << 1, false);
          h.setX(10, 0n);
          break;
        case SbiExtension.LegacySendIpi: {
          const mask = vm.bus.read64(Number(a(0) & 0xffff_ffff_ffffn));
          if (mask === undefined) {
            count("Nothing");
            h.setX(10, toI64(SbiError.InvalidAddress));
            break;
          }
          h.setX(10, toI64(this.#ipi(vm, v, mask, 0n)));
          break;
        }
        case SbiExtension.LegacyShutdown:
          count("SystemDown");
          this.#systemDown(vm, v);
          advance = false;
          break;
        default:
          count("Nothing");
          h.setX(10, 0n);
      }
      if (advance) h.pc = h.pc + 4;
      return;
    }
    switch (ext) {
      case SbiExtension.Base:
        count("Nothing");
        switch (fid) {
          case 0:
            ret(0, SBI_SPEC_VERSION);
            break;
          case 1:
            ret(0, SBI_IMPL_ID);
            break;
          case 2:
            ret(0, SBI_IMPL_VERSION);
            break;
          case 3:
            ret(0, sbiExtensionAvailable(Number(BigInt.asIntN(64, a(0)))) ? 1 : 0);
            break;
          case 4:
          case 5:
          case 6:
            ret(0, 0);
            break;
          default:
            ret(SbiError.NotSupported);
        }
        break;
      case SbiExtension.Time:
        count("Nothing");
        if (fid === 0) {
          this.#setTimer(v, a(0));
          ret(0);
        } else ret(SbiError.NotSupported);
        break;
      case SbiExtension.Ipi:
        if (fid === 0) ret(this.#ipi(vm, v, a(0), a(1)));
        else {
          count("Nothing");
          ret(SbiError.NotSupported);
        }
        break;
      case SbiExtension.Rfence:
        count("Nothing");
        if (fid <= 6) ret(this.#checkHartMask(vm, a(0), a(1)) ? 0 : SbiError.InvalidParam);
        else ret(SbiError.NotSupported);
        break;
      case SbiExtension.Hsm:
        advance = this.#hsm(vm, v, fid, ret);
        break;
      case SbiExtension.Srst: {
        if (fid !== 0) {
          count("Nothing");
          ret(SbiError.NotSupported);
          break;
        }
        const type = Number(a(0) & 0xffffffffn);
        if (type === SrstType.Shutdown) {
          count("SystemDown");
          this.#systemDown(vm, v);
          advance = false;
        } else if (type === SrstType.ColdReboot || type === SrstType.WarmReboot) {
          count("SystemDown");
          this.#reboot(vm);
          advance = false;
        } else {
          count("Nothing");
          ret(SbiError.InvalidParam);
        }
        break;
      }
      case SbiExtension.Dbcn:
        count("Nothing");
        this.#dbcn(vm, fid, a, ret);
        break;
      case SbiExtension.Hvc:
        count("Hypercall");
        h.setX(10, toI64(this.#hypercall(vm, v, fid, [a(0), a(1), a(2), a(3), a(4), a(5)])));
        break;
      default:
        count("Nothing");
        ret(SbiError.NotSupported);
    }
    if (advance) h.pc = h.pc + 4;
  }

  #setTimer(v: VCpu, ticks: bigint): void {
    v.hart.setIrqLine(1 << 5, false);
    const t = Number(ticks) * this.nsPerTick;
    v.timerDeadlineNs = ticks >= U64 >> 1n || !Number.isFinite(t) || t > Number.MAX_SAFE_INTEGER
      ? Infinity
      : t;
    if (v.timerDeadlineNs <= this.#vcpuNowNs(v)) {
      v.timerDeadlineNs = Infinity;
      v.hart.setIrqLine(1 << 5, true);
    }
  }

  #checkHartMask(vm: Vm, mask: bigint, base: bigint): boolean {
    if (base === U64) return true;
    for (let i = 0n; i < 64n; i++) {
      if ((mask >> i) & 1n && !vm.vcpuByHartId(Number(base + i))) return false;
    }
    return true;
  }

  /** SBI send_ipi: the SendIPI exit (self, other, broadcast). Returns the SBI error. */
  #ipi(vm: Vm, v: VCpu, mask: bigint, base: bigint): number {
    v.exits.count("SendIPI");
    let targets: VCpu[];
    if (base === U64) targets = [...vm.vcpus];
    else {
      targets = [];
      for (let i = 0n; i < 64n; i++) {
        if (!((mask >> i) & 1n)) continue;
        const t = vm.vcpuByHartId(Number(base + i));
        if (!t) return SbiError.InvalidParam;
        targets.push(t);
      }
    }
    for (const t of targets) this.#sendIpi(vm, t);
    return SbiError.Success;
  }

  /** HSM; returns whether pc advances past the ecall. */
  #hsm(vm: Vm, v: VCpu, fid: number, ret: (e: number, val?: bigint | number) => void): boolean {
    const h = v.hart;
    switch (fid) {
      case 0: { // hart_start -> CpuUp
        const hartId = Number(h.getX(10));
        const entry = Number(h.getX(11) & 0xffff_ffff_ffff_ffffn);
        const opaque = h.getX(12);
        v.exits.count("CpuUp");
        const target = vm.vcpuByHartId(hartId);
        if (!target) {
          ret(SbiError.InvalidParam);
          return true;
        }
        if (target.hsm !== HsmStatus.Stopped) {
          ret(SbiError.AlreadyAvailable);
          return true;
        }
        if (target.state !== VCpuState.Free && target.wait !== "cpu-down") {
          ret(SbiError.Failed);
          return true;
        }
        // The seed's vcpu_on: entry, a0 = hart id, a1 = arg, then a task.
        target.hart.reset(entry, 1);
        this.#initSupervisor(target);
        target.hart.setX(10, BigInt(target.hartId));
        target.hart.setX(11, opaque);
        target.timerDeadlineNs = Infinity;
        target.hsm = HsmStatus.Started;
        if (target.wait === "cpu-down") {
          target.state = VCpuState.Ready;
          target.wait = undefined;
          this.#events.emit({
            type: "vcpu",
            vmId: vm.id,
            vcpuId: target.id,
            change: "up",
            pcpu: target.pcpu,
            timeNs: this.#vcpuNowNs(v),
          });
        } else {
          target.state = VCpuState.Free;
          this.#spawnTask(vm, target);
        }
        ret(0);
        return true;
      }
      case 1: // hart_stop -> CpuDown
        v.exits.count("CpuDown");
        v.hsm = HsmStatus.Stopped;
        v.state = VCpuState.Blocked;
        v.wait = "cpu-down";
        v.hart.setIrqLine(1 << 5, false);
        v.timerDeadlineNs = Infinity;
        this.#events.emit({
          type: "vcpu",
          vmId: vm.id,
          vcpuId: v.id,
          change: "down",
          pcpu: v.pcpu,
          timeNs: this.#vcpuNowNs(v),
        });
        return false;
      case 2: { // hart_get_status
        v.exits.count("Nothing");
        const target = vm.vcpuByHartId(Number(h.getX(10)));
        if (!target) ret(SbiError.InvalidParam);
        else ret(0, target.hsm);
        return true;
      }
      case 3: { // hart_suspend -> Halt
        const type = Number(h.getX(10) & 0xffffffffn);
        v.exits.count("Halt");
        if (type === 0) {
          ret(0);
          v.resume = undefined;
        } else if (type === 0x80000000) {
          v.resume = { addr: Number(h.getX(11)), opaque: h.getX(12) };
          ret(0);
        } else {
          ret(SbiError.InvalidParam);
          return true;
        }
        v.hsm = HsmStatus.Suspended;
        h.pc = h.pc + 4;
        if (v.interruptPending()) {
          this.#maybeWakeNow(vm, v);
        } else {
          v.state = VCpuState.Blocked;
          v.wait = "hsm-suspend";
        }
        return false;
      }
      default:
        v.exits.count("Nothing");
        ret(SbiError.NotSupported);
        return true;
    }
  }

  #maybeWakeNow(vm: Vm, v: VCpu): void {
    v.state = VCpuState.Blocked;
    v.wait = "hsm-suspend";
    this.#maybeWake(vm, v);
  }

  #dbcn(
    vm: Vm,
    fid: number,
    a: (i: number) => bigint,
    ret: (e: number, v?: bigint | number) => void,
  ): void {
    switch (fid) {
      case 0: { // console_write(num, base_lo, base_hi)
        const n = Number(a(0) & 0xffff_ffffn);
        const addr = Number(a(1) + (a(2) << 32n));
        const data = n > 0 ? vm.bus.readBytes(addr, Math.min(n, 1 << 20)) : new Uint8Array(0);
        if (!data) return ret(SbiError.InvalidParam);
        this.#consoleOut(vm, data);
        return ret(0, data.length);
      }
      case 1: { // console_read
        const n = Number(a(0) & 0xffff_ffffn);
        const addr = Number(a(1) + (a(2) << 32n));
        const bytes: number[] = [];
        while (bytes.length < n && vm.console.inputPending > 0) bytes.push(vm.console.readInput());
        if (bytes.length > 0 && !vm.bus.writeBytes(addr, Uint8Array.from(bytes))) {
          return ret(SbiError.InvalidParam);
        }
        return ret(0, bytes.length);
      }
      case 2:
        this.#consoleOut(vm, Uint8Array.of(Number(a(0) & 0xffn)));
        return ret(0);
      default:
        return ret(SbiError.NotSupported);
    }
  }

  #systemDown(vm: Vm, _v: VCpu): void {
    this.#shutdown(vm, "guest shutdown");
    this.#settleStopping(vm);
  }

  #reboot(vm: Vm): void {
    this.#shutdown(vm, "guest reboot");
    this.#settleStopping(vm);
    const r = this.startVm(vm.id);
    if (!r.ok) vm.lastError = `reboot failed: ${r.error?.message}`;
  }

  // ─────────────────────────── hypercalls ───────────────────────────

  /** Executes a hypercall; returns a0 (-1 on any error, as AxVisor). */
  #hypercall(vm: Vm, v: VCpu, code: number, args: bigint[]): number {
    try {
      switch (code) {
        case HyperCallCode.HypervisorDisable:
        case HyperCallCode.HyperVisorPrepareDisable:
          throw new IvcError(
            `${hyperCallName(code)} is only for the host VM (vm_type 0)${
              vm.config.base.vmType === 0 ? " and the emulated hypervisor cannot be disabled" : ""
            }`,
          );
        case HyperCallCode.HyperVisorDebug:
          this.#events.emit({
            type: "log",
            level: "info",
            vmId: vm.id,
            message: `VM[${vm.id}] VCpu[${v.id}] debug hypercall args ${
              args.map((x) => `0x${x.toString(16)}`).join(" ")
            }`,
            timeNs: this.#vcpuNowNs(v),
          });
          return 0;
        case HyperCallCode.HIVCPublishChannel: {
          const [key, basePtr, sizePtr] = args;
          const size = this.#readGuestU64(vm, sizePtr);
          const r = this.#ivc.publish(vm, key, Number(size));
          this.#writeGuestU64(vm, basePtr, BigInt(r.gpa));
          this.#writeGuestU64(vm, sizePtr, BigInt(r.size));
          return 0;
        }
        case HyperCallCode.HIVCSubscribChannel: {
          const [pub, key, basePtr, sizePtr] = args;
          const r = this.#ivc.subscribe(vm, Number(pub), key);
          this.#writeGuestU64(vm, basePtr, BigInt(r.gpa));
          this.#writeGuestU64(vm, sizePtr, BigInt(r.size));
          return 0;
        }
        case HyperCallCode.HIVCUnPublishChannel:
          this.#ivc.unpublish(vm, args[0]);
          return 0;
        case HyperCallCode.HIVCUnSubscribChannel:
          this.#ivc.unsubscribe(vm, Number(args[0]), args[1]);
          return 0;
        default:
          throw new IvcError(`unknown hypercall code ${code}`);
      }
    } catch (e) {
      vm.lastError = `hypercall ${hyperCallName(code)} failed: ${(e as Error).message}`;
      this.#events.emit({
        type: "log",
        level: "warn",
        vmId: vm.id,
        message: `VM[${vm.id}] VCpu[${v.id}] Hypercall [${hex(code)}] failed: ${
          (e as Error).message
        }`,
        timeNs: this.#vcpuNowNs(v),
      });
      return -1;
    }
  }

  #readGuestU64(vm: Vm, gpa: bigint): bigint {
    const v = vm.bus.read64(Number(gpa));
    if (v === undefined) throw new IvcError(`guest address ${hex(Number(gpa))} is not mapped`);
    return v;
  }

  #writeGuestU64(vm: Vm, gpa: bigint, value: bigint): void {
    if (!vm.bus.write64(Number(gpa), value)) {
      throw new IvcError(`guest address ${hex(Number(gpa))} is not mapped`);
    }
  }
}

const CAUSES: Record<number, string> = {
  0: "instruction address misaligned",
  1: "instruction access fault",
  2: "illegal instruction",
  3: "breakpoint",
  4: "load address misaligned",
  5: "load access fault",
  6: "store address misaligned",
  7: "store access fault",
  8: "ecall from U-mode",
  12: "instruction page fault",
  13: "load page fault",
  15: "store page fault",
};

function causeName(scause: bigint): string {
  const interrupt = (scause >> 63n) & 1n;
  const code = Number(scause & 0xffffn);
  if (interrupt) return `interrupt ${code}`;
  return `${code}: ${CAUSES[code] ?? "exception"}`;
}
