/**
 * A virtual machine: its config, status, guest-physical address space (the "EPT"), memory
 * regions, devices, console, vCPUs and statistics. Lifecycle is driven by the
 * {@linkcode Hypervisor}; this class holds the state and answers what `vm list/show/stats` need.
 *
 * @module
 */

import type { Bus } from "../hw/bus.ts";
import type { SparseMemory } from "../hw/memory.ts";
import type { Ns16550a } from "../hw/devices/ns16550a.ts";
import type { Plic } from "../hw/devices/plic.ts";
import type { MmioDevice } from "../hw/device.ts";
import { Console } from "./console.ts";
import type { MapType, VmConfig } from "./config.ts";
import { ExitCounters } from "./exit_reason.ts";
import type { HostAllocation } from "./host_memory.ts";
import type { IvcEndpoint } from "./ivc.ts";
import { summarizeVcpuStates, VCpuState, type VmStatus } from "./status.ts";
import type { VCpu, VCpuWait } from "./vcpu.ts";

/**
 * Why a VM stopped: a guest fault (or emulation error), the guest powered itself off (SBI
 * shutdown), a user stopped or deleted it.
 */
export type VmStopReason = "fault" | "poweroff" | "stopped by user";

/** One mapped memory region of a VM. */
export interface GuestRegion {
  /** Index in the config's `memory_regions`. */
  index: number;
  /** Guest-physical base. */
  gpa: number;
  /** Host-physical base (board RAM address; equal to gpa for identical and reserved). */
  hpa: number;
  /** Size in bytes. */
  size: number;
  /** Mapping flags (R=1 W=2 X=4 U=8 device=0x10). */
  flags: number;
  /** 0 allocated, 1 identical, 2 reserved. */
  mapType: MapType;
  /** Whether the hypervisor allocated it (and frees it on delete): the seed's `needs_dealloc`. */
  needsDealloc: boolean;
  /** Backing memory and the offset of `gpa` in it (undefined when a device backs a reserved range). */
  memory?: SparseMemory;
  /** Offset of the region in `memory`. */
  memoryOffset: number;
  /** Host allocation (allocated and identical regions). */
  allocation?: HostAllocation;
}

/** One device in a VM's address space. */
export interface GuestDevice {
  /** Name from the config. */
  name: string;
  /** Emulated by the VMM or passed through from the board. */
  kind: "emulated" | "passthrough";
  /** Model: `ns16550a`, `plic`, `ivc`, `dummy`, or the board device type. */
  model: string;
  /** emu_type of an emulated device. */
  emuType?: number;
  /** Guest-physical base. */
  gpa: number;
  /** Host-physical base (passthrough). */
  hpa?: number;
  /** Window size. */
  size: number;
  /** Interrupt id (0: none). */
  irq: number;
  /** The MMIO device answering (not for IVC ranges). */
  device?: MmioDevice;
}

/** A shared-memory mapping made by IVC. */
export interface IvcMapping {
  /** GPA in this VM. */
  gpa: number;
  /** Size. */
  size: number;
  /** Label (`ivc PUB:KEY`). */
  label: string;
}

/** Counters of one boot or of every boot (see {@linkcode VmStats}). */
export interface VmCounters {
  /** Instructions retired by all vCPUs. */
  instret: number;
  /** VM exits per reason, summed over vCPUs. */
  exits: Record<string, number>;
  /** VM exits in all. */
  totalExits: number;
  /** Console bytes the guest wrote. */
  consoleBytes: number;
  /** Virtual ns the vCPUs ran guest code, summed (at most vCPUs x up time). */
  runNs: number;
}

/**
 * Statistics of a VM (for `vm show --stats` and `vm stats`). `boot` counts the current (or last)
 * boot only, `total` every boot since the VM was created; the per-vCPU rows are this boot.
 * The flat fields are kept for compatibility: `exits`, `totalExits` and `consoleBytes` are
 * totals, `instret` is this boot.
 */
export interface VmStats {
  /** Exits per reason summed over vCPUs and boots (= `total.exits`). */
  exits: Record<string, number>;
  /** Exits over every boot (= `total.totalExits`). */
  totalExits: number;
  /** Per vCPU, this boot: exits per reason, instructions, preemptions, run time. */
  vcpus: {
    id: number;
    exits: Record<string, number>;
    totalExits: number;
    instret: number;
    preemptions: number;
    /** Virtual ns running guest code this boot (never more than `boot.upNs`). */
    runNs: number;
    /** Virtual ns running guest code over every boot. */
    totalRunNs: number;
    /** Virtual ns stalled on the console budget this boot. */
    throttledNs: number;
  }[];
  /** Instructions retired by all vCPUs this boot (= `boot.instret`). */
  instret: number;
  /** Console bytes written over every boot (= `total.consoleBytes`). */
  consoleBytes: number;
  /** Times this VM was started. */
  boots: number;
  /** The current or last boot; `upNs` is its virtual up time (undefined before the first). */
  boot: VmCounters & { upNs?: number };
  /** Every boot together. */
  total: VmCounters;
}

/** A virtual machine. */
export class Vm implements IvcEndpoint {
  /** VM id. */
  readonly id: number;
  /** VM name. */
  readonly name: string;
  /** The parsed config. */
  readonly config: VmConfig;
  /** Current status. */
  status: VmStatus = "loading";
  /** The guest-physical address space. */
  readonly bus: Bus;
  /** Memory regions, in config order. */
  readonly regions: GuestRegion[] = [];
  /** Devices (emulated, passthrough, IVC ranges), by address. */
  readonly devices: GuestDevice[] = [];
  /** vCPUs, by id. */
  readonly vcpus: VCpu[] = [];
  /** The VM's console. */
  readonly console: Console;
  /** Host address of the root of the guest-physical mapping (the "EPT root"). */
  eptRoot = 0;
  /** The EPT root's host allocation. */
  eptAllocation?: HostAllocation;
  /** The emulated console UART, if configured. */
  uart?: Ns16550a;
  /** The emulated PLIC, if configured. */
  plic?: Plic;
  /** IVC device range (emu_type 0xA), if configured. */
  ivcRange?: { gpa: number; size: number };
  /** IVC mappings currently in place. */
  readonly ivcMappings: IvcMapping[] = [];
  /** Guest-physical address where the device tree was placed at the last boot. */
  dtbGpa?: number;
  /** Size of the device tree placed at the last boot. */
  dtbSize = 0;
  /** Loaded image ranges at the last boot. */
  loadedImages: { what: string; gpa: number; size: number }[] = [];
  /** The seed's running/halting vCPU counter. */
  runningHaltingCount = 0;
  /** Times started. */
  boots = 0;
  /** Last fault or error that stopped the VM. */
  lastError?: string;
  /** Why the VM last stopped (undefined while it runs, and before its first stop). */
  stopReason?: VmStopReason;
  /** Exit counters of vCPUs from previous boots (kept across restarts). */
  readonly pastExits: ExitCounters = new ExitCounters();
  /** Instructions retired in previous boots. */
  pastInstret = 0;
  /** Console bytes written before the current boot. */
  consoleBytesAtBoot = 0;
  /** Virtual time of the last start. */
  startedAtNs?: number;
  /**
   * Virtual time of the last `vm suspend`, while the VM is Suspended. The guest's clock does not
   * count the suspension (each vCPU's `timeOffsetNs` grows by it on resume), so after
   * `vm resume` the guest sees no jump: no burst of expired timers, no soft-lockup reports.
   */
  suspendedAtNs?: number;
  /** Virtual time the last boot ended (undefined while it runs). */
  stoppedAtNs?: number;
  /** Host label used for allocations and timers. */
  readonly owner: string;
  /**
   * This VM instance's identity, unique for the life of the hypervisor: a VM id (and name) may
   * be reused by a VM created after this one is deleted, its instance never is. Holders of a
   * reference by id (a console attach) check it to notice the VM they meant went away.
   */
  instance = 0;

  /** Creates an empty VM shell (the {@linkcode Hypervisor} fills it in). */
  constructor(config: VmConfig, bus: Bus, consoleCapacity?: number) {
    this.id = config.base.id;
    this.name = config.base.name;
    this.config = config;
    this.bus = bus;
    this.console = new Console(consoleCapacity);
    this.owner = `VM[${this.id}]`;
  }

  /** Total configured memory in bytes. */
  get memorySize(): number {
    return this.regions.reduce((s, r) => s + r.size, 0);
  }

  /** The `vm list` vCPU summary, e.g. `Run:2,Blk:1`. */
  vcpuSummary(): string {
    return summarizeVcpuStates(this.vcpus.map((v) => v.state));
  }

  /**
   * The seed's per-VM wait queue: the vCPUs whose task waits (state Blocked), with the reason
   * (wfi, HSM suspend, CPU down, suspended VM, boot delay).
   */
  waitQueue(): { vcpuId: number; wait: VCpuWait }[] {
    return this.vcpus
      .filter((v) => v.state === VCpuState.Blocked)
      .map((v) => ({ vcpuId: v.id, wait: v.wait ?? "vm-suspended" }));
  }

  /** The vCPU whose guest hart id is `hartId`. */
  vcpuByHartId(hartId: number): VCpu | undefined {
    return this.vcpus.find((v) => v.hartId === hartId);
  }

  /** Whether a vCPU loop should keep running (the seed's `vm.running()`). */
  get running(): boolean {
    return this.status === "running";
  }

  /** Affinity details: vCPU id, mask (if any), placed pCPU. */
  vcpuAffinities(): { vcpuId: number; mask?: number; pcpu: number; hartId: number }[] {
    return this.vcpus.map((v) => ({
      vcpuId: v.id,
      mask: v.physCpuSet,
      pcpu: v.pcpu,
      hartId: v.hartId,
    }));
  }

  /** Maps IVC shared memory into this VM's IVC range; returns the chosen GPA. */
  mapShared(memory: SparseMemory, size: number, label: string): number {
    const range = this.ivcRange;
    if (!range) {
      throw new Error(`VM[${this.id}] has no IVC device range (emu_devices entry of type 0xA)`);
    }
    let gpa = range.gpa;
    const taken = [...this.ivcMappings].sort((a, b) => a.gpa - b.gpa);
    for (const m of taken) {
      if (gpa + size <= m.gpa) break;
      gpa = Math.max(gpa, m.gpa + m.size);
    }
    if (gpa + size > range.gpa + range.size) {
      throw new Error(
        `VM[${this.id}] IVC range 0x${range.gpa.toString(16)}+0x${
          range.size.toString(16)
        } has no room for 0x${size.toString(16)} more bytes`,
      );
    }
    this.bus.mapRam(gpa, size, memory, 0, label);
    this.ivcMappings.push({ gpa, size, label });
    return gpa;
  }

  /** Unmaps an IVC mapping. */
  unmapShared(gpa: number): void {
    const i = this.ivcMappings.findIndex((m) => m.gpa === gpa);
    if (i < 0) return;
    this.ivcMappings.splice(i, 1);
    this.bus.unmap(gpa);
  }

  /** Exit counters summed over vCPUs (current boot plus previous boots). */
  exitCounters(): ExitCounters {
    const c = new ExitCounters();
    c.add(this.pastExits);
    for (const v of this.vcpus) c.add(v.exits);
    return c;
  }

  /** Statistics for `vm stats`; `nowNs` (the virtual clock) gives a running boot's up time. */
  stats(nowNs?: number): VmStats {
    const c = this.exitCounters();
    const bootExits = new ExitCounters();
    for (const v of this.vcpus) bootExits.add(v.exits);
    const instret = this.vcpus.reduce((s, v) => s + v.instret, 0);
    const end = this.stoppedAtNs ?? nowNs;
    const upNs = this.startedAtNs !== undefined && end !== undefined
      ? Math.max(0, end - this.startedAtNs)
      : undefined;
    const bootRun = this.vcpus.reduce((s, v) => s + v.bootRunNs, 0);
    const totalRun = this.vcpus.reduce((s, v) => s + v.runNs, 0);
    return {
      exits: c.toRecord(),
      totalExits: c.total(),
      vcpus: this.vcpus.map((v) => ({
        id: v.id,
        exits: v.exits.toRecord(),
        totalExits: v.exits.total(),
        instret: v.instret,
        preemptions: v.preemptions,
        runNs: v.bootRunNs,
        totalRunNs: v.runNs,
        throttledNs: v.throttledNs,
      })),
      instret,
      consoleBytes: this.console.totalWritten,
      boots: this.boots,
      boot: {
        instret,
        exits: bootExits.toRecord(),
        totalExits: bootExits.total(),
        consoleBytes: this.console.totalWritten - this.consoleBytesAtBoot,
        runNs: bootRun,
        upNs,
      },
      total: {
        instret: this.pastInstret + instret,
        exits: c.toRecord(),
        totalExits: c.total(),
        consoleBytes: this.console.totalWritten,
        runNs: totalRun,
      },
    };
  }
}
