/**
 * A virtual CPU: a hart running the guest in S-mode, its AxVisor state, HSM state, timer and
 * exit counters. The scheduler (scheduler.ts) runs it on a pCPU.
 *
 * @module
 */

import { ExitCounters } from "./exit_reason.ts";
import { VCpuState, vcpuStateName } from "./status.ts";
import { HsmStatus } from "./sbi.ts";
import { Csr } from "../hw/riscv/csr.ts";
import type { HartStats } from "../hw/riscv/hart_stats.ts";

/** CSR numbers (the hart's CSR table), for users of vCPU registers. */
export { Csr };

/** What the VMM needs from a hart (the contract of lib/hw/riscv/hart.ts). */
export interface GuestHart {
  /** Program counter. */
  pc: number;
  /** Privilege level: 0 U, 1 S, 3 M. */
  priv: number;
  /** Instructions retired. */
  readonly instret: number;
  /** Instructions executed by the last run (retired or trapped). */
  readonly lastRunInstructions: number;
  /**
   * Instructions retired so far, live during a run (equals `instret` outside one). Optional:
   * without it the VMM's guest time advances only when a run ends.
   */
  instretNow?(): number;
  /** Runs at most `budget` instructions; returns a StopReason. */
  run(budget: number): number;
  /** The last unanswered access (after a BusError stop). */
  readonly lastBusError: {
    addr: number;
    width: number;
    write: boolean;
    fetch: boolean;
    pc: number;
  };
  /** Reads register x`i`. */
  getX(i: number): bigint;
  /** Low 32 bits of register x`i`, signed (fast path). */
  getXLow(i: number): number;
  /** High 32 bits of register `i`, signed. */
  getXHigh(i: number): number;
  /** Sets register `i` from its 32-bit halves (no BigInt). */
  setXHalves(i: number, lo: number, hi: number): void;
  /** Writes register x`i`. */
  setX(i: number, value: bigint): void;
  /** Drives an interrupt wire into mip. */
  setIrqLine(mipBit: number, level: boolean): void;
  /** Interrupts pending in mip and enabled in mie, as a bit mask (no BigInt). */
  pendingEnabledInterrupts(): number;
  /** Reads a CSR without privilege checks. */
  readCsr(num: number): bigint;
  /** Writes a CSR without privilege checks. */
  writeCsr(num: number, value: bigint): void;
  /** Resets the hart to `pc` at privilege `priv`. */
  reset(pc: number, priv: 0 | 1 | 3): void;
  /** Frees the hart's host resources now, for a deleted VM: the hart never runs again. */
  dispose(): void;
  /** Whether `dispose` was called. */
  readonly disposed: boolean;
  /** Drops cached translations and decoded instructions (remote fences from other harts). */
  flushCaches(): void;
  /**
   * Sstc: the `stimecmp` value (time ticks) at which the hart raises STIP by itself, or
   * undefined when the guest has no Sstc timer armed. Optional (harts without Sstc).
   */
  sstcDeadline?(): number | undefined;
  /** Drops cached translations (remote sfence.vma from other harts). */
  flushTlb(): void;
  /**
   * Drops the cached translations of `size` bytes from virtual address `va` (SBI's unsigned
   * 64-bit start_addr and size; size 0 or all ones: everything). Optional: without it, remote
   * fences use {@linkcode GuestHart.flushTlb}.
   */
  flushTlbRange?(va: bigint, size: bigint): void;
  /** Makes stores into code visible to instruction fetch (remote fence.i from other harts). */
  fenceI(): void;
  /** Execution statistics (`vm stats --jit`), when the hart keeps them. */
  readonly stats?: HartStats;
  /** Instructions executed in compiled blocks, when the hart has a compiled tier. */
  readonly blockInstructions?: number;
  /** Raw 64 bits of FP register f`i` (absent on harts without F/D). */
  getF?(i: number): bigint;
}

/** Why a Blocked or Free vCPU is waiting. */
export type VCpuWait =
  | "not-started"
  | "boot-delay"
  | "vm-not-running"
  | "wfi"
  | "hsm-suspend"
  | "cpu-down"
  | "vm-suspended"
  | "exited";

/** Options of {@linkcode VCpu}. */
export interface VCpuOptions {
  /** VM id. */
  vmId: number;
  /** vCPU id (index in the VM). */
  id: number;
  /** Hart id the guest sees (`phys_cpu_ids[id]`, else the vCPU id). */
  hartId: number;
  /** Affinity mask over the board's pCPUs, when configured. */
  physCpuSet?: number;
  /** The hart. */
  hart: GuestHart;
}

/** One virtual CPU. */
export class VCpu {
  /** VM id. */
  readonly vmId: number;
  /** vCPU id. */
  readonly id: number;
  /** Hart id the guest sees (DTB `reg`, HSM and IPI target). */
  readonly hartId: number;
  /**
   * Affinity mask over pCPUs (`phys_cpu_sets`), or undefined (any pCPU). Change it with
   * {@linkcode Hypervisor.pinVcpu}, which also moves the task.
   */
  physCpuSet?: number;
  /** The task name, `VM[i]-VCpu[j]`. */
  readonly taskName: string;
  /** The hart executing the guest. */
  readonly hart: GuestHart;
  /** Exits of this vCPU per reason. */
  readonly exits: ExitCounters = new ExitCounters();
  /** AxVisor state. */
  state: VCpuState = VCpuState.Created;
  /** Why it waits (when Blocked or Free). */
  wait: VCpuWait | undefined = "not-started";
  /** pCPU (board hart index) its task is placed on; -1 before placement. */
  pcpu: number = -1;
  /** SBI HSM state. */
  hsm: number = HsmStatus.Stopped;
  /** Whether its task exists and has counted itself running (the seed's running/halting count). */
  counted = false;
  /** Timer deadline in virtual ns (Infinity: none). */
  timerDeadlineNs: number = Infinity;
  /** Resume address and opaque of a non-retentive HSM suspend. */
  resume?: { addr: number; opaque: bigint };
  /**
   * Hypervisor time minus the guest's time, in ns: 0 unless the VM was restored from a snapshot
   * (its guest time then continues from the saved value). Timer deadlines are hypervisor times.
   */
  timeOffsetNs = 0;
  /** Virtual time at which the current slice started. */
  sliceStartNs = 0;
  /**
   * Instructions executed (retired or trapped, plus the ecalls the VMM handles): the vCPU's own
   * clock. Virtual time advances with it, even when the guest only traps.
   */
  executed = 0;
  /** {@linkcode VCpu.executed} at the start of the current slice. */
  sliceStartExecuted = 0;
  /** Instructions accounted without the hart retiring them (ecalls handled by the VMM). */
  extraInstret = 0;
  /** Preemptions at the end of a time slice, this boot. */
  preemptions = 0;
  /** Virtual ns spent running guest code, over every boot. */
  runNs = 0;
  /** Virtual ns spent running guest code, this boot (never more than the boot's up time). */
  bootRunNs = 0;
  /** Instructions retired this boot before the hart was last reset by HSM hart_start. */
  retiredBefore = 0;
  /** Virtual ns spent stalled on a full console (the per-round console budget), this boot. */
  throttledNs = 0;

  /** Creates a vCPU in state Created. */
  constructor(options: VCpuOptions) {
    this.vmId = options.vmId;
    this.id = options.id;
    this.hartId = options.hartId;
    this.physCpuSet = options.physCpuSet;
    this.hart = options.hart;
    this.taskName = `VM[${options.vmId}]-VCpu[${options.id}]`;
  }

  /**
   * Instructions retired by the guest on this vCPU in the current boot (including VMM-handled
   * ecalls, and what it ran before an HSM hart_stop/hart_start reset its hart).
   */
  get instret(): number {
    return this.retiredBefore + this.hart.instret + this.extraInstret;
  }

  /** Keeps the hart's retired count before the VMM resets the hart within a boot (HSM start). */
  foldRetired(): void {
    this.retiredBefore += this.hart.instret;
  }

  /** Starts the per-boot counters afresh (at `vm start`); totals are kept by the VM. */
  resetBootCounters(): void {
    this.retiredBefore = 0;
    this.extraInstret = 0;
    this.bootRunNs = 0;
    this.throttledNs = 0;
    this.preemptions = 0;
  }

  /** State name (`Running`, `Blocked`...). */
  get stateName(): string {
    return vcpuStateName(this.state);
  }

  /** Whether the scheduler may pick it. */
  get runnable(): boolean {
    return this.state === VCpuState.Ready || this.state === VCpuState.Running;
  }

  /** Whether an interrupt is pending and locally enabled (what wakes a `wfi`). */
  interruptPending(): boolean {
    return (this.hart.pendingEnabledInterrupts() & 0x222) !== 0;
  }

  /**
   * Hypervisor time (ns) at which the guest's Sstc timer (`stimecmp`, in guest ticks) raises
   * STIP, or Infinity when none is armed. The scheduler wakes a vCPU waiting in wfi then and
   * ends runs there. Guest time runs {@linkcode VCpu.timeOffsetNs} behind (suspend, restore).
   */
  sstcDeadlineNs(nsPerTick: number): number {
    const ticks = this.hart.sstcDeadline?.();
    return ticks === undefined ? Infinity : ticks * nsPerTick + this.timeOffsetNs;
  }

  /**
   * FP state for `vcpu dump`: f0..f31 (raw 64 bits), fcsr and mstatus.FS (0 Off .. 3 Dirty);
   * undefined when the hart has no F/D.
   */
  fpRegisters(): { f: bigint[]; fcsr: number; fs: number } | undefined {
    const h = this.hart;
    if (h.getF === undefined) return undefined;
    const f: bigint[] = [];
    for (let i = 0; i < 32; i++) f.push(h.getF(i));
    const fs = Number((h.readCsr(Csr.sstatus) >> 13n) & 3n);
    return { f, fcsr: Number(h.readCsr(0x003)), fs };
  }

  /** Registers (x0..x31) and pc, for `vm show` and debugging. */
  registers(): { pc: number; x: bigint[] } {
    const x: bigint[] = [];
    for (let i = 0; i < 32; i++) x.push(this.hart.getX(i));
    return { pc: this.hart.pc, x };
  }
}
