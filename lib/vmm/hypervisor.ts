/**
 * The hypervisor, the facade of the VMM core: VM list, VM creation from AxVisor configs,
 * lifecycle (start, stop, suspend, resume, restart, delete), vCPU affinity, virtual time and the
 * run loop. The concepts it drives live in their own files: the per-pCPU run queues in
 * scheduler.ts, the SBI per extension in sbi_dispatcher.ts and sbi_hsm.ts, hypercalls and IVC
 * in hypercall_handler.ts, VM-exit handling and accounting in exit_handler.ts, interrupt lines
 * and wake-ups in vcpu_interrupts.ts, VM construction in vm_builder.ts.
 *
 * The core is synchronous and deterministic: {@linkcode Hypervisor.runFor} advances one virtual
 * clock by executing guest instructions on every pCPU in turn, a round of `quantum` virtual
 * nanoseconds at a time. Idle pCPUs cost nothing; when no vCPU is runnable, time jumps to the
 * next event. {@linkcode HypervisorDriver} (driver.ts) runs this core in the background for
 * interactive use.
 *
 * @module
 */

import { Bus } from "../hw/bus.ts";
import type { BoardSpec } from "../hw/boards/spec.ts";
import { DEFAULT_RTC_EPOCH_NS } from "../hw/devices/goldfish_rtc.ts";
import { StopReason } from "../hw/riscv/hart.ts";
import { type ClockMode, type TimerEvent, type TimerHandle, VirtualClock } from "./clock.ts";
import { HypervisorDriver } from "./driver.ts";
import { ConfigError, configKeyLine, MapType, parseVmConfig, type VmConfig } from "./config.ts";
import { Console } from "./console.ts";
import { EventHub, type HypervisorEvent, type HypervisorListener } from "./events.ts";
import { ExitHandler } from "./exit_handler.ts";
import type { FileSystem } from "./filesystem.ts";
import { HostMemory } from "./host_memory.ts";
import { HypercallHandler } from "./hypercall_handler.ts";
import { ImageError } from "./image_loader.ts";
import { IvcRegistry } from "./ivc.ts";
import type {
  DeleteResult,
  LifecycleErrorCode,
  LifecycleResult,
  PinResult,
  RestartResult,
  SuspendResult,
} from "./lifecycle.ts";
import { HsmStatus } from "./sbi.ts";
import { SbiDispatcher } from "./sbi_dispatcher.ts";
import { type PCpu, Scheduler, SchedulerError } from "./scheduler.ts";
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
import type { VCpu } from "./vcpu.ts";
import { fireTimer, initSupervisor, maybeWakeVcpu, SupervisorIrq } from "./vcpu_interrupts.ts";
import { Vm, type VmStopReason } from "./vm.ts";
import { isaString } from "../hw/riscv/isa.ts";
import { parse as parseToml, stringify as stringifyToml } from "npm:smol-toml@^1.9.1";
import {
  applyVcpu,
  captureVmState,
  checkVmState,
  incompatibility,
  loadCounters,
  type TimerEventData,
  type VmState,
} from "./persist.ts";
import {
  decodeSnapshot,
  encodeSnapshot,
  type PageSource,
  type RegionPages,
  SnapshotFormatError,
  type SnapshotHeader,
} from "./snapshot_file.ts";
import {
  type MemorySource,
  type RestoreResult,
  SnapshotError,
  type SnapshotResult,
  type VmCapture,
} from "./snapshot_types.ts";
import { VmList } from "./vm_list.ts";
import { VmBuilder, VmCreateError } from "./vm_builder.ts";
import { VM_DATA_FILES, vmDataPath, vmNameProblem } from "./vm_name.ts";
import { formatAddress } from "../hw/riscv/address.ts";

export { VmCreateError };
export type { PCpu };

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
  /**
   * Wall-clock time (ns since the Unix epoch) that board real-time clocks (a `goldfish-rtc`
   * passed through to a guest) read at virtual time 0; they advance with virtual time. Default
   * 2026-01-01T00:00:00Z, so runs are repeatable; `bin/axvisor.ts` passes the host's time.
   */
  rtcEpochNs?: number;
}

const hex = formatAddress;

/** The {@linkcode VmStopReason} of a shutdown reason. */
function stopReasonOf(reason: string): VmStopReason {
  if (reason === "fault") return "fault";
  if (reason === "guest shutdown" || reason === "guest reboot") return "poweroff";
  return "stopped by user";
}

/** Largest coalesced `console` event in bytes (a longer burst is split). */
export const CONSOLE_EVENT_MAX_BYTES = 4096;

/**
 * Console bytes a VM may write per scheduling round (one quantum of virtual time, 100 us on the
 * default board: 160 MB/s of virtual time). Past it, its vCPUs stall until the next round, so no
 * guest can flood its console (and the sessions and logs behind it) faster than that.
 */
export const CONSOLE_BYTES_PER_ROUND = 16 * 1024;

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
  /** VM instances created so far (the source of {@linkcode Vm.instance}). */
  #instances = 0;
  readonly #scheduler: Scheduler;
  readonly #pcpus: readonly PCpu[];
  readonly #events = new EventHub();
  readonly #ivc = new IvcRegistry();
  readonly #host: HostMemory;
  readonly #active = new Set<Vm>();
  /**
   * The same VMs as an array, for the per-round loops: indexed, they allocate no iterator even
   * while V8 still interprets them (the ticks of idle guests).
   */
  #activeList: Vm[] = [];
  readonly #bootTimers = new Map<
    Vm,
    { kind: "boot-delay"; vcpuId: number; handle: TimerHandle }[]
  >();
  readonly #consoleCapacity?: number;
  readonly #jit: boolean;
  readonly #builder: VmBuilder;
  readonly #sbi: SbiDispatcher;
  readonly #hypercalls: HypercallHandler;
  readonly #exits: ExitHandler;

  /** Creates a hypervisor on `board` with no VM. */
  constructor(options: HypervisorOptions) {
    this.board = options.board;
    this.fs = options.fs;
    this.clock = new VirtualClock(options.clock ?? "warp");
    this.clock.setEventHandler((event, handle) => this.#timerEvent(event, handle));
    this.bootDelaySeconds = options.bootDelaySeconds ?? 0;
    this.nsPerInstruction = 1e9 / options.board.cpus.frequency;
    this.nsPerTick = 1e9 / options.board.timebaseFrequency;
    this.sliceInstructions = options.sliceInstructions ?? 10_000;
    this.quantumNs = this.sliceInstructions * this.nsPerInstruction;
    this.#consoleCapacity = options.consoleCapacity;
    this.#jit = options.jit ?? true;
    this.restartTimeoutNs = options.restartTimeoutNs ?? 5e9;
    this.#scheduler = new Scheduler(options.board.cpus.hartIds, this.sliceInstructions);
    this.#pcpus = this.#scheduler.pcpus;
    this.#host = new HostMemory(options.board.memory);
    this.#builder = new VmBuilder({
      board: this.board,
      fs: this.fs,
      host: this.#host,
      boardConsole: this.boardConsole,
      jit: this.#jit,
      current: () => this.#current,
      timeTicks: (v) => Math.floor((this.#vcpuNowNs(v) - v.timeOffsetNs) / this.nsPerTick),
      consoleOut: (vm, data) => this.#consoleOut(vm, data),
      externalLine: (vm, vcpuId, level) => this.#externalLine(vm, vcpuId, level),
      pumpInput: (vm) => this.#pumpInput(vm),
      randomSeeds: () => this.clock.mode === "realtime",
      deviceNowNs: () => this.#current ? this.#vcpuNowNs(this.#current) : this.clock.now(),
      rtcEpochNs: options.rtcEpochNs ?? DEFAULT_RTC_EPOCH_NS,
      scheduleAt: (atNs, callback, owner) => {
        const handle = this.clock.schedule(atNs, callback, owner);
        return () => this.clock.cancel(handle);
      },
    });
    const emit = (e: HypervisorEvent) => this.#emit(e);
    const vcpuNowNs = (v: VCpu) => this.#vcpuNowNs(v);
    this.#hypercalls = new HypercallHandler({ ivc: this.#ivc, emit, vcpuNowNs });
    this.#sbi = new SbiDispatcher({
      nsPerTick: this.nsPerTick,
      vcpuNowNs,
      emit,
      consoleOut: (vm, data) => this.#consoleOut(vm, data),
      hypercall: (vm, v, code, args) => this.#hypercalls.call(vm, v, code, args),
      systemDown: (vm) => this.#systemDown(vm),
      reboot: (vm) => this.#reboot(vm),
      spawnTask: (vm, v) => this.#spawnTask(vm, v),
    });
    this.#exits = new ExitHandler({
      sbi: this.#sbi,
      vcpuNowNs,
      emit,
      stopForFault: (vm) => {
        this.#shutdown(vm, "fault");
        this.#settleStopping(vm);
      },
    });
  }

  // ─────────────────────────── queries ───────────────────────────

  /** The VM with this id (number) or name (string), if any. */
  vm(idOrName: number | string): Vm | undefined {
    if (typeof idOrName === "number") return this.#vms.get(idOrName);
    const asId = /^\d+$/.test(idOrName) ? this.#vms.get(Number(idOrName)) : undefined;
    return asId ?? this.#vms.list().find((v) => v.name === idOrName);
  }

  /**
   * The VM with id `id` when it is still instance `instance` (see {@linkcode Vm.instance});
   * `undefined` once that VM was deleted, even if another VM now has the id.
   */
  vmInstance(id: number, instance: number): Vm | undefined {
    const vm = this.#vms.get(id);
    return vm?.instance === instance ? vm : undefined;
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
   * timers, IVC channels, host memory, boot timers, passthrough interrupt routes). Empty once a
   * VM is fully deleted.
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
    for (const r of this.#builder.irqRoutes()) {
      if (r.vmId === id) out.push(`passthrough IRQ of ${r.device} (PLIC source ${r.irq})`);
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
  createVmFromConfig(config: VmConfig, options: { readImages?: boolean } = {}): Vm {
    const file = config.file;
    const id = config.base.id;
    const nameProblem = vmNameProblem(config.base.name);
    if (nameProblem) {
      // Configs built in code bypass parseVmConfig: the name is checked here too.
      throw new ConfigError(
        file,
        nameProblem,
        "base.name",
        configKeyLine(config.text ?? "", "base", "name"),
      );
    }
    if (this.#vms.has(id)) {
      throw new VmCreateError(`${file}: base.id: VM with id ${id} already exists`);
    }
    const sameName = this.#vms.list().find((v) => v.name === config.base.name);
    if (sameName) {
      const line = configKeyLine(config.text ?? "", "base", "name");
      throw new VmCreateError(
        `${file}${line ? `:${line}` : ""}: base.name: VM name ${
          JSON.stringify(config.base.name)
        } is already used by VM[${sameName.id}] (names must be unique: they name the data folder /guest/vms/${config.base.name}/)`,
      );
    }
    const bus = new Bus();
    const vm = new Vm(config, bus, this.#consoleCapacity);
    vm.instance = ++this.#instances;
    try {
      this.#builder.validateCpus(config);
      this.#builder.buildMemory(vm);
      this.#builder.buildDevices(vm);
      vm.eptAllocation = this.#host.allocate(0x1000, vm.owner, "EPT root");
      vm.eptRoot = vm.eptAllocation.hpa;
      this.#builder.buildVcpus(vm);
      // Read the images once now so that a missing or broken image fails at create.
      if (options.readImages ?? true) this.#builder.readImages(vm);
    } catch (e) {
      this.#host.freeOwner(vm.owner);
      this.#builder.releaseVm(vm);
      this.#freeGuest(vm);
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
      this.#builder.rewirePassthroughIrqs(vm);
    } catch (e) {
      return this.#refuse("start", vm, "FAILED", (e as Error).message);
    }
    for (const v of vm.vcpus) {
      vm.pastExits.add(v.exits);
      vm.pastInstret += v.instret;
      v.exits.reset();
      v.resetBootCounters();
      this.#resetVcpu(vm, v);
    }
    vm.consoleBytesAtBoot = vm.console.totalWritten;
    vm.stoppedAtNs = undefined;
    vm.lastError = undefined;
    vm.stopReason = undefined;
    vm.runningHaltingCount = 0;
    vm.boots++;
    vm.startedAtNs = this.clock.now();
    vm.suspendedAtNs = undefined;
    this.#setActive(vm, true);
    this.runningVmCount++;
    this.#setStatus(vm, "running", "start");
    // The seed's setup_vm_primary_vcpu + notify_primary_vcpu.
    const primary = vm.vcpus[0];
    primary.hart.reset(vm.config.kernel.entryPoint, 1);
    initSupervisor(primary);
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
    initSupervisor(v);
    v.state = VCpuState.Free;
    v.wait = "not-started";
    v.hsm = HsmStatus.Stopped;
    v.counted = false;
    v.timerDeadlineNs = Infinity;
    v.resume = undefined;
    v.hart.setIrqLine(SupervisorIrq.STIP, false);
    v.hart.setIrqLine(SupervisorIrq.SEIP, false);
  }

  /** Places a vCPU task on a pCPU honouring its mask (fewest tasks first) and makes it wait for its boot delay. */
  #spawnTask(vm: Vm, v: VCpu): void {
    this.#scheduler.place(v);
    const delayNs = Math.max(0, (vm.id - 1) * this.bootDelaySeconds * 1e9);
    if (delayNs > 0 && !v.counted && v.id === 0) {
      v.state = VCpuState.Blocked;
      v.wait = "boot-delay";
      this.#scheduleBootDelay(vm, v, this.clock.now() + delayNs);
      return;
    }
    this.#vcpuBegin(vm, v);
  }

  /** Schedules the timer event "vCPU `v` of `vm` ends its boot delay at `atNs`" (data). */
  #scheduleBootDelay(vm: Vm, v: VCpu, atNs: number): void {
    const t = this.clock.scheduleEvent(
      atNs,
      { kind: "boot-delay", vmId: vm.id, vcpuId: v.id },
      `${vm.owner} boot delay`,
    );
    const list = this.#bootTimers.get(vm) ?? [];
    list.push({ kind: "boot-delay", vcpuId: v.id, handle: t });
    this.#bootTimers.set(vm, list);
  }

  /** A timer event is due (the clock's event handler). */
  #timerEvent(event: TimerEvent, handle: TimerHandle): void {
    const vm = this.#vms.get(event.vmId);
    if (!vm) return;
    const list = this.#bootTimers.get(vm);
    const i = list ? list.findIndex((x) => x.handle === handle) : -1;
    if (i < 0) return; // not ours any more (cancelled with its VM)
    list!.splice(i, 1);
    if (list!.length === 0) this.#bootTimers.delete(vm);
    const v = vm.vcpus[event.vcpuId];
    if (event.kind === "boot-delay" && v) this.#vcpuBegin(vm, v);
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
    this.#emit({
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
      vm.stopReason = "stopped by user";
      this.#setStatus(vm, "stopped", "stop");
      return { ok: true, action: "stop", vmId: id, previousStatus, status: vm.status, notes };
    }
    this.#shutdown(vm, force ? "force stop" : "stop");
    if (force) this.#settleStopping(vm);
    return { ok: true, action: "stop", vmId: id, previousStatus, status: vm.status, notes };
  }

  /** The seed's `vm.shutdown()`: Stopping, and every waiting vCPU is woken to observe it. */
  #shutdown(vm: Vm, reason: string): void {
    // The first reason wins (a fault while a user stop is pending is still a user stop).
    if (vm.status !== "stopping") vm.stopReason = stopReasonOf(reason);
    if (vm.status !== "stopping") this.#setStatus(vm, "stopping", reason);
    for (const t of this.#bootTimers.get(vm) ?? []) this.clock.cancel(t.handle);
    this.#bootTimers.delete(vm);
    let any = false;
    for (const v of vm.vcpus) {
      if (this.#scheduler.hasTask(v)) {
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
      if (this.#scheduler.hasTask(v)) this.#vcpuExit(vm, v);
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
      this.#emit({
        type: "vcpu",
        vmId: vm.id,
        vcpuId: v.id,
        change: "down",
        pcpu: v.pcpu,
        timeNs: this.#eventTime(),
      });
    }
    const anyTask = vm.vcpus.some((x) => this.#scheduler.hasTask(x));
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
    this.#setActive(vm, false);
    if (this.runningVmCount > 0) this.runningVmCount--;
    vm.stoppedAtNs = this.#eventTime();
    this.#setStatus(vm, "stopped", "last vCPU exited");
  }

  #removeTask(v: VCpu): void {
    this.#scheduler.remove(v);
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
    vm.suspendedAtNs = this.clock.now();
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
    // The guest's clock did not run while suspended (see Vm.suspendedAtNs).
    if (vm.suspendedAtNs !== undefined) {
      const paused = this.clock.now() - vm.suspendedAtNs;
      for (const v of vm.vcpus) {
        v.timeOffsetNs += paused;
        if (v.timerDeadlineNs !== Infinity) v.timerDeadlineNs += paused;
      }
    }
    vm.suspendedAtNs = undefined;
    for (const v of vm.vcpus) {
      if (v.wait !== "vm-suspended") continue;
      const task = this.#scheduler.hasTask(v);
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
    for (const v of vm.vcpus) maybeWakeVcpu(vm, v);
    return { ok: true, action: "resume", vmId: id, previousStatus, status: vm.status, notes: [] };
  }

  /**
   * Pins vCPU `vcpuId` of VM `vmId` to the pCPUs of `mask` (bit `i`: pCPU `i` of the board, the
   * `phys_cpu_sets` convention): checks that the mask names only existing pCPUs, sets the vCPU's
   * `physCpuSet`, and moves its task, when placed on a pCPU outside the mask, to the least loaded
   * allowed pCPU (it continues there at its next slice; no guest state changes). Emits a
   * `vcpu-pin` event. A vCPU not started yet is placed by its mask when it starts.
   */
  pinVcpu(vmId: number, vcpuId: number, mask: number): PinResult {
    const vm = this.#vms.get(vmId);
    const base = { vmId, vcpuId, mask, from: -1, to: -1 };
    if (!vm) {
      return { ...base, ok: false, error: { code: "NOT_FOUND", message: `VM[${vmId}] not found` } };
    }
    const v = vm.vcpus[vcpuId];
    if (!Number.isInteger(vcpuId) || !v) {
      return {
        ...base,
        ok: false,
        error: {
          code: "NOT_FOUND",
          message: `VM[${vmId}] has no VCpu ${vcpuId} (it has ${vm.vcpus.length}: 0..${
            vm.vcpus.length - 1
          })`,
        },
      };
    }
    const all = this.#scheduler.allMask;
    if (!Number.isInteger(mask) || mask <= 0 || mask > all) {
      return {
        ...base,
        from: v.pcpu,
        to: v.pcpu,
        ok: false,
        error: {
          code: "INVALID_VALUE",
          message: `pCPU mask ${
            Number.isInteger(mask) && mask >= 0 ? hex(mask) : String(mask)
          } for VM[${vmId}] VCpu ${vcpuId}: the board ${this.board.name} has ${this.#pcpus.length} pCPU(s), so the mask must be between 0x1 and ${
            hex(all)
          }`,
        },
      };
    }
    const previousMask = v.physCpuSet;
    let moved: { from: number; to: number };
    try {
      moved = this.#scheduler.move(v, mask);
    } catch (e) {
      if (!(e instanceof SchedulerError)) throw e;
      return { ...base, ok: false, error: { code: "INVALID_VALUE", message: e.message } };
    }
    v.physCpuSet = mask;
    // A vCPU whose task has exited keeps its last pCPU for display; it is placed afresh at start.
    const from = this.#scheduler.hasTask(v) ? moved.from : -1;
    const to = this.#scheduler.hasTask(v) ? moved.to : -1;
    this.#emit({
      type: "vcpu-pin",
      vmId,
      vcpuId,
      mask,
      from,
      to,
      timeNs: this.#eventTime(),
    });
    return { ok: true, vmId, vcpuId, mask, previousMask, from, to };
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
   * Gives a VM's host frames back at once (its RAM pages and its harts' areas, which would
   * otherwise wait for the collector): for a VM that is gone and never runs again.
   */
  #freeGuest(vm: Vm): void {
    for (const v of vm.vcpus) v.hart.dispose();
    for (const r of vm.regions) if (r.mapType === MapType.Alloc) r.memory?.clear();
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
    for (const t of this.#bootTimers.get(vm) ?? []) this.clock.cancel(t.handle);
    this.#bootTimers.delete(vm);
    this.#ivc.releaseVm(id);
    this.#setActive(vm, false);
    this.#host.freeOwner(vm.owner);
    this.#builder.releaseVm(vm);
    vm.console.unsubscribeAll();
    vm.console.onInput = undefined;
    this.#freeGuest(vm);
    const removedFiles: string[] = [];
    if (!keepData) {
      for (const f of VM_DATA_FILES) {
        let p: string;
        try {
          // Refuses a name that could reach outside /guest/vms/ (validated at create too).
          p = vmDataPath(vm.name, f);
        } catch (e) {
          notes.push(`data files kept: ${(e as Error).message}`);
          break;
        }
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
    this.#emit({
      type: "status",
      vmId: id,
      from: "stopped",
      to: "stopped",
      timeNs: this.#eventTime(),
      reason: "deleted",
      instance: vm.instance,
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
      this.#emit({
        type: "status",
        vmId: vm.id,
        from,
        to,
        timeNs: this.#eventTime(),
        reason,
        ...(reason === "created" ? { instance: vm.instance } : {}),
      });
    }
  }

  // ─────────────────────────── console ───────────────────────────

  /**
   * Guest console output: written to the VM's console at once, and coalesced into one `console`
   * event per VM per scheduling round (at most {@linkcode CONSOLE_EVENT_MAX_BYTES} each), so that
   * a guest printing one byte per `ecall` costs listeners (sessions, logs) one event per round,
   * not one per byte. Any other event first flushes the pending output, keeping the order.
   */
  #consoleOut(vm: Vm, data: Uint8Array): void {
    if (data.length === 0) return;
    vm.console.write(data);
    this.#consoleRoundBytes.set(vm, (this.#consoleRoundBytes.get(vm) ?? 0) + data.length);
    let p = this.#pendingConsole.get(vm);
    if (!p) {
      p = { chunks: [], bytes: 0, timeNs: this.#eventTime() };
      this.#pendingConsole.set(vm, p);
    }
    p.chunks.push(data);
    p.bytes += data.length;
    if (p.bytes >= CONSOLE_EVENT_MAX_BYTES) this.#flushConsole();
  }

  readonly #pendingConsole = new Map<Vm, { chunks: Uint8Array[]; bytes: number; timeNs: number }>();
  /** Console bytes each VM wrote in the current scheduling round (the throttle). */
  readonly #consoleRoundBytes = new Map<Vm, number>();

  /** Emits the console output held for coalescing, one event per VM. */
  #flushConsole(): void {
    if (this.#pendingConsole.size === 0) return;
    const pending = [...this.#pendingConsole];
    this.#pendingConsole.clear();
    for (const [vm, p] of pending) {
      const data = new Uint8Array(p.bytes);
      let at = 0;
      for (const c of p.chunks) {
        data.set(c, at);
        at += c.length;
      }
      this.#events.emit({ type: "console", vmId: vm.id, data, timeNs: p.timeNs });
    }
  }

  /** Emits an event after the console output written before it. */
  #emit(event: HypervisorEvent): void {
    this.#flushConsole();
    this.#events.emit(event);
  }

  /** Whether `vm` used up its console budget for this round (its vCPUs stall until the next). */
  #consoleThrottled(vm: Vm): boolean {
    return (this.#consoleRoundBytes.get(vm) ?? 0) >= CONSOLE_BYTES_PER_ROUND;
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
      // Inside a hart run, instretNow() - instret counts what the run retired so far (0 outside).
      const live = v.hart.instretNow ? v.hart.instretNow() - v.hart.instret : 0;
      // Whole nanoseconds, like the clock itself (a sub-ns instruction time would leak fractions).
      return Math.floor(
        v.sliceStartNs + (v.executed - v.sliceStartExecuted + live) * this.nsPerInstruction,
      );
    }
    return this.clock.now();
  }

  /**
   * Runs the hypervisor for `virtualNs` nanoseconds of virtual time (synchronous). `shouldYield`,
   * asked after every scheduling round, may end the run early (the driver bounds its slice of
   * the event loop in wall time this way); returns whether the whole span ran.
   */
  runFor(virtualNs: number, shouldYield?: () => boolean): boolean {
    const target = this.clock.now() + Math.ceil(Math.max(0, virtualNs));
    while (this.clock.now() < target) {
      this.#step(target);
      if (shouldYield?.() && this.clock.now() < target) {
        this.#flushConsole();
        return false;
      }
    }
    this.#fireDue();
    this.#flushConsole();
    return true;
  }

  /**
   * Runs until `predicate` holds or `timeoutNs` of virtual time passed (synchronous). Returns
   * whether the predicate held.
   */
  runUntil(predicate: () => boolean, timeoutNs: number): boolean {
    const target = this.clock.now() + Math.ceil(Math.max(0, timeoutNs));
    if (predicate()) return true;
    while (this.clock.now() < target) {
      this.#step(target);
      if (predicate()) return true;
    }
    this.#fireDue();
    this.#flushConsole();
    return predicate();
  }

  /**
   * Waits until `predicate` holds or `timeoutNs` of virtual time passed; resolves to whether the
   * predicate held. When a {@linkcode HypervisorDriver} runs the core, it waits for the driver.
   * Otherwise, in warp mode it runs the core synchronously, and in realtime mode it runs a
   * driver for the duration of the wait, so that virtual time never runs ahead of the wall clock.
   */
  async waitFor(
    predicate: () => boolean,
    timeoutNs: number,
    signal?: AbortSignal,
  ): Promise<boolean> {
    if (this.#waitHook) return this.#waitHook(predicate, timeoutNs, signal);
    if (this.clock.mode === "warp") return this.runUntil(predicate, timeoutNs);
    const driver = new HypervisorDriver(this);
    driver.start();
    try {
      return await driver.waitFor(predicate, timeoutNs, signal);
    } finally {
      await driver.stop();
    }
  }

  #waitHook?: (
    predicate: () => boolean,
    timeoutNs: number,
    signal?: AbortSignal,
  ) => Promise<boolean>;

  /** Lets the driver take over {@linkcode Hypervisor.waitFor} (undefined gives it back). */
  setWaitHook(
    hook?: (predicate: () => boolean, timeoutNs: number, signal?: AbortSignal) => Promise<boolean>,
  ): void {
    this.#waitHook = hook;
  }

  /** Whether any vCPU is runnable (the driver sleeps when not). */
  hasRunnable(): boolean {
    return this.#scheduler.hasRunnable();
  }

  /** Adds `vm` to the active VMs or removes it (the set and its array). */
  #setActive(vm: Vm, active: boolean): void {
    if (active) this.#active.add(vm);
    else this.#active.delete(vm);
    this.#activeList = [...this.#active];
  }

  /** Virtual time of the next event when nothing is runnable (undefined: none). */
  nextEventNs(): number | undefined {
    let next = this.clock.nextDeadline() ?? Infinity;
    const now = this.clock.now();
    // Indexed loops: asked several times per round, even before V8 optimises them.
    const active = this.#activeList;
    for (let i = 0; i < active.length; i++) {
      const vm = active[i];
      if (vm.status === "suspended") continue; // its clock stands still (Vm.suspendedAtNs)
      for (let j = 0; j < vm.vcpus.length; j++) {
        const v = vm.vcpus[j];
        if (v.timerDeadlineNs > now && v.timerDeadlineNs < next && v.counted) {
          next = v.timerDeadlineNs;
        }
        const sstc = v.sstcDeadlineNs(this.nsPerTick);
        if (sstc > now && sstc < next && v.counted) next = sstc;
      }
    }
    return next === Infinity ? undefined : next;
  }

  #fireDue(): void {
    this.clock.runDue();
    const now = this.clock.now();
    const active = this.#activeList;
    for (let i = 0; i < active.length; i++) {
      const vm = active[i];
      if (vm.status === "suspended") continue; // its timers wait for vm resume
      for (let j = 0; j < vm.vcpus.length; j++) {
        const v = vm.vcpus[j];
        if (v.timerDeadlineNs <= now && v.counted) fireTimer(vm, v);
        // Sstc: the hart raises STIP itself once time reaches stimecmp; wake a wfi.
        if (v.counted && v.sstcDeadlineNs(this.nsPerTick) <= now) maybeWakeVcpu(vm, v);
      }
    }
  }

  #step(target: number): void {
    this.#consoleRoundBytes.clear();
    try {
      this.#round(target);
    } finally {
      this.#flushConsole();
    }
  }

  /** One scheduling round: every pCPU runs its vCPUs up to the round's end. */
  #round(target: number): void {
    if (this.boardConsole.inputPending > 0) this.#builder.pumpBoardInput();
    this.#fireDue();
    const now = this.clock.now();
    const next = this.nextEventNs() ?? Infinity;
    if (!this.hasRunnable()) {
      // Rounded up: the clock holds whole nanoseconds and must still make progress.
      this.clock.advanceTo(Math.ceil(Math.min(next, target)));
      this.#fireDue();
      return;
    }
    let end = Math.ceil(Math.min(now + this.quantumNs, target, next));
    if (end <= now) end = now + Math.max(1, Math.ceil(this.nsPerInstruction));
    const pcpus = this.#pcpus;
    for (let i = 0; i < pcpus.length; i++) {
      this.#scheduler.runPcpu(pcpus[i], now, end, this.nsPerInstruction, this.#schedulerHooks);
    }
    this.clock.advanceTo(end);
    this.#fireDue();
  }

  /** What the scheduler asks: may a picked task run (its VM's state), and running it. */
  readonly #schedulerHooks = {
    admit: (v: VCpu): boolean => {
      const vm = this.#vms.get(v.vmId)!;
      if (vm.status === "stopping") {
        this.#vcpuExit(vm, v);
        return false;
      }
      if (vm.status !== "running") {
        v.state = VCpuState.Blocked;
        v.wait = "vm-suspended";
        return false;
      }
      return true;
    },
    run: (v: VCpu, t: number, budget: number): number =>
      this.#runVcpu(this.#vms.get(v.vmId)!, v, t, budget),
  };

  /** Runs one vCPU for at most `budget` instructions starting at virtual time `t`. */
  #runVcpu(vm: Vm, v: VCpu, t: number, budget: number): number {
    const hart = v.hart;
    if (this.#consoleThrottled(vm)) {
      // The VM wrote its console budget for this round: its vCPU waits for the console (time
      // passes, no instruction retires), as behind a real UART's baud rate.
      v.throttledNs += budget * this.nsPerInstruction;
      return budget;
    }
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
          hart.setIrqLine(SupervisorIrq.STIP, true);
        } else if (v.timerDeadlineNs !== Infinity) {
          remaining = Math.min(
            remaining,
            Math.max(1, Math.ceil((v.timerDeadlineNs - nowNs) / this.nsPerInstruction)),
          );
        }
        const sstcNs = v.sstcDeadlineNs(this.nsPerTick);
        if (sstcNs > nowNs && sstcNs !== Infinity) {
          // End the run when stimecmp is reached, so the hart sees STIP at the next run.
          remaining = Math.min(
            remaining,
            Math.max(1, Math.ceil((sstcNs - nowNs) / this.nsPerInstruction)),
          );
        }
        // The guest's `time` follows the hart's live count (#vcpuNowNs), so one run may be long.
        const reason = hart.run(remaining);
        v.executed += hart.lastRunInstructions;
        if (reason === StopReason.Budget) {
          if (v.executed - v.sliceStartExecuted >= budget) break;
          continue;
        }
        const boots = vm.boots;
        this.#exits.handleStop(vm, v, reason);
        if (!v.runnable || vm.status !== "running" || vm.boots !== boots) break;
        if (this.#consoleThrottled(vm)) break;
      }
      if (vm.status === "running" && v.runnable) this.#exits.checkTrapLoop(vm, v);
    } catch (e) {
      // An emulation error (a device or hart bug) ends this VM, never the host.
      this.#exits.emulationError(vm, v, e);
    } finally {
      this.#current = undefined;
    }
    const executed = v.executed - v.sliceStartExecuted;
    v.runNs += executed * this.nsPerInstruction;
    v.bootRunNs += executed * this.nsPerInstruction;
    if (vm.uart && vm.console.inputPending > 0) this.#pumpInput(vm);
    return executed;
  }

  // ─────────────────────────── interrupts and guest-initiated stops ───────────────────────────

  /** A PLIC context line of `vm` changed: drive the vCPU's SEIP. */
  #externalLine(vm: Vm, vcpuId: number, level: boolean): void {
    const v = vm.vcpus[vcpuId];
    if (!v) return;
    v.hart.setIrqLine(SupervisorIrq.SEIP, level);
    if (level) {
      v.exits.count("ExternalInterrupt");
      maybeWakeVcpu(vm, v);
    }
  }

  /** The guest shut itself down. */
  #systemDown(vm: Vm): void {
    this.#shutdown(vm, "guest shutdown");
    this.#settleStopping(vm);
  }

  /** The guest asked for a reboot: stop, then start afresh. */
  #reboot(vm: Vm): void {
    this.#shutdown(vm, "guest reboot");
    this.#settleStopping(vm);
    const r = this.startVm(vm.id);
    if (!r.ok) vm.lastError = `reboot failed: ${r.error?.message}`;
  }
  // ─────────────────────────── snapshot, restore, clone ───────────────────────────

  /** Refuses a VM whose state cannot be captured now; returns it otherwise. */
  #capturable(idOrName: number | string | Vm, what: string): Vm {
    const vm = idOrName instanceof Vm ? idOrName : this.vm(idOrName);
    if (!vm || this.#vms.get(vm.id) !== vm) {
      throw new SnapshotError(
        "NOT_FOUND",
        `VM[${idOrName instanceof Vm ? idOrName.id : idOrName}] not found`,
      );
    }
    if (this.#current) {
      throw new SnapshotError(
        "INVALID_STATE",
        `cannot ${what} VM[${vm.id}] from inside a running vCPU (no consistent point)`,
      );
    }
    if (vm.status === "loading" || vm.status === "stopping") {
      throw new SnapshotError(
        "INVALID_STATE",
        `cannot ${what} VM[${vm.id}] while it is ${vmStatusName(vm.status)}`,
      );
    }
    if (vm.ivcMappings.length > 0) {
      throw new SnapshotError(
        "UNSUPPORTED",
        `cannot ${what} VM[${vm.id}]: it shares memory with other VMs over IVC (${
          vm.ivcMappings.map((m) => m.label).join(", ")
        }); unmap the IVC channels first`,
      );
    }
    return vm;
  }

  /**
   * Captures `vm` between two instructions (the hypervisor never calls this mid-instruction):
   * its state as data, and frozen copy-on-write copies of its memory (the VM may run on while
   * the copies are written out).
   */
  #capture(vm: Vm, freeze = true): VmCapture {
    const offset = vm.vcpus[0]?.timeOffsetNs ?? 0;
    const guestNowNs = this.clock.now() - offset;
    const timers: TimerEventData[] = (this.#bootTimers.get(vm) ?? []).map((t) => ({
      kind: t.kind,
      vcpuId: t.vcpuId,
      atNs: t.handle.at - offset,
    }));
    const state = captureVmState(vm, {
      hasTask: (v) => this.#scheduler.hasTask(v),
      timers,
      guestNowNs,
    });
    const memories = state.regions.map((r) => {
      const region = vm.regions.find((x) => x.index === r.index)!;
      return {
        region: r.index,
        // Unfrozen (a clone applied in the same step): the live memory itself.
        memory: freeze ? region.memory!.cloneShared() : region.memory!,
        first: region.memoryOffset / 4096,
        pages: r.pages,
      };
    });
    return { state, memories };
  }

  /**
   * Writes a snapshot of a VM into bytes (the format of docs/snapshot.md). The state is taken
   * at once, between instructions; the VM keeps running while the bytes are compressed (its
   * memory is frozen copy-on-write). With `stop`, the VM is stopped right after the capture.
   */
  async snapshot(
    idOrName: number | string | Vm,
    options: { name?: string; stop?: boolean } = {},
  ): Promise<SnapshotResult> {
    const vm = this.#capturable(idOrName, "snapshot");
    const started = performance.now();
    const capture = this.#capture(vm);
    const status = vm.status;
    if (options.stop && (vm.status === "running" || vm.status === "suspended")) {
      this.stopVm(vm.id, { force: true });
    }
    const pauseMs = performance.now() - started;
    const sources: PageSource[] = capture.memories.map((m) => {
      // Pages that hold only zeros read as zero when absent: they are not saved.
      const indexes = m.memory.residentPages()
        .filter((p) => p >= m.first && p < m.first + m.pages && !isZeroPage(m.memory.page(p)!))
        .map((p) => p - m.first);
      return {
        region: m.region,
        indexes,
        page: (i: number) => pageBytes(m.memory.page(m.first + i)!),
      };
    });
    let bytes: Uint8Array;
    try {
      bytes = await encodeSnapshot(
        {
          board: this.board.name,
          isa: isaString(),
          vm: { id: vm.id, name: vm.name },
          name: options.name ?? "",
          savedAtNs: this.clock.now(),
        },
        capture.state,
        sources,
      );
    } finally {
      // The frozen copies let go of the pages: the VM writes them in place again.
      for (const m of capture.memories) m.memory.clear();
    }
    return {
      vmId: vm.id,
      status,
      bytes,
      pages: sources.reduce((n, x) => n + x.indexes.length, 0),
      pauseMs,
    };
  }

  /** Decodes and checks a snapshot file against this board; throws SnapshotFormatError. */
  async #decode(
    file: Uint8Array,
    what: string,
  ): Promise<{ header: SnapshotHeader; state: VmState; regions: RegionPages[] }> {
    const decoded = await decodeSnapshot(file, what);
    const { header } = decoded;
    if (header.board !== this.board.name) {
      throw new SnapshotFormatError(
        "INCOMPATIBLE",
        `${what} was taken on board ${header.board}; this hypervisor runs board ${this.board.name}`,
      );
    }
    if (header.isa !== isaString()) {
      throw new SnapshotFormatError(
        "INCOMPATIBLE",
        `${what} needs harts with ISA ${header.isa}; these harts are ${isaString()}`,
      );
    }
    const state = checkVmState(decoded.state);
    for (const r of decoded.regions) {
      const meta = state.regions.find((x) => x.index === r.region);
      let last = -1;
      const bad = !meta || r.parts.some((part) =>
        part.indexes.some((i) => {
          const wrong = i >= meta.pages || i <= last;
          last = i;
          return wrong;
        })
      );
      if (bad) {
        throw new SnapshotFormatError(
          "CORRUPTED",
          `${what}: pages of memory region ${r.region} are out of range or out of order`,
        );
      }
    }
    return { header, state, regions: decoded.regions };
  }

  /**
   * Replaces VM `vm`'s whole state by `state` and `pages` (or shared memories, for clones). On
   * any failure the previous state is put back, so the VM is never left half restored.
   */
  #apply(vm: Vm, state: VmState, memory: MemorySource): void {
    const problem = incompatibility(vm, state);
    if (problem) throw new SnapshotFormatError("INCOMPATIBLE", problem);
    const before = this.#capture(vm);
    try {
      this.#applyUnchecked(vm, state, memory);
    } catch (e) {
      this.#applyUnchecked(vm, before.state, { kind: "shared", memories: before.memories });
      throw e;
    } finally {
      for (const m of before.memories) m.memory.clear();
    }
  }

  #applyUnchecked(vm: Vm, state: VmState, memory: MemorySource): void {
    const offset = this.clock.now() - state.guestNowNs;
    for (const v of vm.vcpus) this.#removeTask(v);
    for (const t of this.#bootTimers.get(vm) ?? []) this.clock.cancel(t.handle);
    this.#bootTimers.delete(vm);
    // Memory.
    for (const r of state.regions) {
      const region = vm.regions.find((x) => x.index === r.index)!;
      const mem = region.memory!;
      const first = region.memoryOffset / 4096;
      if (memory.kind === "shared") {
        const src = memory.memories.find((m) => m.region === r.index)!;
        if (region.mapType === MapType.Alloc && first === 0 && src.first === 0) {
          mem.shareFrom(src.memory);
          continue;
        }
        for (const p of mem.residentPages()) {
          if (p >= first && p < first + r.pages) mem.setPage(p, undefined);
        }
        for (const p of src.memory.residentPages()) {
          if (p >= src.first && p < src.first + r.pages) {
            mem.setPage(first + p - src.first, pageBytes(src.memory.page(p)!));
          }
        }
      } else {
        if (region.mapType === MapType.Alloc) mem.clear();
        else {
          for (const p of mem.residentPages()) {
            if (p >= first && p < first + r.pages) mem.setPage(p, undefined);
          }
        }
        const pages = memory.regions.find((x) => x.region === r.index);
        for (const part of pages?.parts ?? []) {
          part.indexes.forEach((idx, k) => {
            mem.setPage(first + idx, part.data.subarray(k * 4096, (k + 1) * 4096));
          });
        }
      }
      mem.generation++;
    }
    // Devices.
    for (const d of state.devices) {
      vm.devices.find((x) => x.name === d.name)!.device!.restore(d.state);
    }
    // Passthrough devices still signalling are seen by the restored PLIC (as at every boot).
    this.#builder.rewirePassthroughIrqs(vm);
    // vCPUs.
    state.vcpus.forEach((s, i) => {
      const v = vm.vcpus[i];
      applyVcpu(v, s, offset);
      if (s.task) {
        if (
          s.pcpu >= 0 && s.pcpu < this.#pcpus.length &&
          (v.physCpuSet === undefined || (v.physCpuSet & 2 ** s.pcpu) !== 0)
        ) {
          v.pcpu = s.pcpu;
          this.#pcpus[s.pcpu].tasks.push(v);
        } else {
          this.#scheduler.place(v);
        }
      } else {
        v.pcpu = s.pcpu;
      }
    });
    vm.console.restore(state.console);
    vm.boots = state.boots;
    vm.lastError = state.lastError ?? undefined;
    vm.runningHaltingCount = state.runningHaltingCount;
    vm.dtbGpa = state.dtb?.gpa;
    vm.dtbSize = state.dtb?.size ?? 0;
    vm.loadedImages = state.loadedImages.map((x) => ({ ...x }));
    loadCounters(vm.pastExits, state.pastExits);
    this.#ivc.releaseVm(vm.id);
    const active = state.status === "running" || state.status === "suspended";
    if (active && !this.#active.has(vm)) {
      this.#setActive(vm, true);
      this.runningVmCount++;
      vm.startedAtNs = this.clock.now();
    } else if (!active && this.#active.has(vm)) {
      this.#setActive(vm, false);
      if (this.runningVmCount > 0) this.runningVmCount--;
    }
    for (const t of state.timers) {
      const v = vm.vcpus[t.vcpuId];
      if (v) this.#scheduleBootDelay(vm, v, t.atNs + offset);
    }
    this.#setStatus(vm, state.status, "restore");
    this.#pumpInput(vm);
  }

  /**
   * Restores a snapshot file into an existing VM (stopped or running: its whole state is
   * replaced). A bad or incompatible file changes nothing.
   */
  async restore(
    idOrName: number | string | Vm,
    file: Uint8Array,
    what = "snapshot",
  ): Promise<RestoreResult> {
    const target = idOrName instanceof Vm ? idOrName : this.vm(idOrName);
    if (!target) throw new SnapshotError("NOT_FOUND", `VM[${idOrName}] not found`);
    const decoded = await this.#decode(file, what);
    // Decoding yields: check the VM again (it may have been deleted or moved meanwhile).
    const vm = this.#capturable(target, "restore");
    const started = performance.now();
    const previousStatus = vm.status;
    this.#apply(vm, decoded.state, { kind: "pages", regions: decoded.regions });
    return {
      vmId: vm.id,
      previousStatus,
      status: vm.status,
      header: decoded.header,
      applyMs: performance.now() - started,
    };
  }

  /** A VM config text with another id and name (comments are not kept). */
  #renamedConfig(text: string, file: string, id: number, name: string): VmConfig {
    let doc: Record<string, unknown>;
    try {
      doc = parseToml(text) as Record<string, unknown>;
    } catch (e) {
      throw new SnapshotFormatError(
        "CORRUPTED",
        `the saved config is not TOML: ${(e as Error).message}`,
      );
    }
    const base = { ...(doc.base as Record<string, unknown> ?? {}) };
    base.id = id;
    base.name = name;
    doc.base = base;
    return parseVmConfig(stringifyToml(doc), file);
  }

  /** The id for a new VM: `requested`, else one more than the largest id in use. */
  #newId(requested?: number): number {
    if (requested !== undefined) {
      if (!Number.isSafeInteger(requested) || requested < 0) {
        throw new SnapshotError(
          "INVALID_ARGUMENT",
          `VM id ${requested} is not a non-negative integer`,
        );
      }
      if (this.#vms.has(requested)) {
        throw new SnapshotError("EXISTS", `VM with id ${requested} already exists`);
      }
      return requested;
    }
    return this.vms().reduce((m, v) => Math.max(m, v.id), 0) + 1;
  }

  #checkNewName(name: string): void {
    if (this.vm(name)) throw new SnapshotError("EXISTS", `a VM named ${name} already exists`);
  }

  /**
   * Creates a new VM from a snapshot file: the saved config with a new id (default: the next
   * free one) and name (default: the saved name, when free), then the saved state. The images
   * need not exist (the memory holds everything) until the VM is started afresh.
   */
  async restoreNew(
    file: Uint8Array,
    options: { id?: number; name?: string; what?: string } = {},
  ): Promise<RestoreResult> {
    const what = options.what ?? "snapshot";
    const decoded = await this.#decode(file, what);
    const id = this.#newId(
      options.id ?? (this.#vms.has(decoded.header.vm.id) ? undefined : decoded.header.vm.id),
    );
    const name = options.name ?? decoded.header.vm.name;
    this.#checkNewName(name);
    const config = this.#renamedConfig(
      decoded.state.configText,
      decoded.state.configFile,
      id,
      name,
    );
    const vm = this.createVmFromConfig(config, { readImages: false });
    try {
      const started = performance.now();
      this.#apply(vm, decoded.state, { kind: "pages", regions: decoded.regions });
      return {
        vmId: vm.id,
        previousStatus: "loaded",
        status: vm.status,
        header: decoded.header,
        applyMs: performance.now() - started,
      };
    } catch (e) {
      this.deleteVm(vm.id, { force: true, keepData: true });
      throw e;
    }
  }

  /**
   * Clones a VM in this process: a new VM (id `options.id` or the next free one, name
   * `options.name`) with the same config, state and memory, sharing unchanged memory pages
   * copy-on-write. The source keeps running; the clone starts in the source's status.
   */
  clone(idOrName: number | string | Vm, options: { name: string; id?: number }): Vm {
    const src = this.#capturable(idOrName, "clone");
    const id = this.#newId(options.id);
    this.#checkNewName(options.name);
    const config = this.#renamedConfig(src.config.text ?? "", src.config.file, id, options.name);
    if (config.kernel.memoryRegions.some((r) => r.mapType !== MapType.Alloc)) {
      throw new SnapshotError(
        "UNSUPPORTED",
        `cannot clone VM[${src.id}]: its identical or reserved memory regions are board memory that only one VM can own`,
      );
    }
    const vm = this.createVmFromConfig(config, { readImages: false });
    try {
      // Captured and applied in one synchronous step: the clone shares the live pages directly.
      const capture = this.#capture(src, false);
      this.#apply(vm, capture.state, { kind: "shared", memories: capture.memories });
    } catch (e) {
      this.deleteVm(vm.id, { force: true, keepData: true });
      throw e;
    }
    return vm;
  }
}

/** Whether a page holds only zero bytes. */
function isZeroPage(view: DataView): boolean {
  const words = new Int32Array(view.buffer, view.byteOffset, view.byteLength >> 2);
  for (let i = 0; i < words.length; i++) if (words[i] !== 0) return false;
  return true;
}

/** The bytes a page view sees (page views share the frame pool's buffer: mind the offset). */
function pageBytes(view: DataView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}
