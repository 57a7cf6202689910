/**
 * A running board: RAM, bus, devices, harts and the board's DTB, with a deterministic scheduler
 * that runs the harts round-robin in slices and keeps virtual time.
 *
 * Virtual time is counted in instructions: each hart retires `cpus.frequency` instructions per
 * virtual second, harts run in parallel (a round of slices lasts as long as the longest slice),
 * and mtime advances at the board's timebase frequency between rounds. A hart that executes
 * `wfi` sleeps until an interrupt is pending for it (`mip & mie`, enabled globally or not, as the
 * ISA says); when every hart sleeps, time jumps to the next timer deadline, and with no deadline
 * the run returns `idle` (waiting for console input). The same inputs always give the same run.
 *
 * The console is the board's `chosen.stdout` UART; other UARTs are reachable through
 * {@linkcode Machine.devices} (`Ns16550a.setOutput`, `Ns16550a.sendInput`).
 *
 * ```ts
 * import { loadBoard, Machine } from "./mod.ts";
 * const machine = new Machine(loadBoard("qemu-virt"));
 * machine.onConsoleOutput((bytes) => console.log(new TextDecoder().decode(bytes)));
 * machine.load(0x8000_0000, Deno.readFileSync("fw_jump.bin"));
 * machine.boot(0x8000_0000); // every hart at the entry, M-mode, a0 = hartid, a1 = DTB
 * const stop = machine.run(50_000_000); // { reason: "budget" | "finished" | "idle" | ..., ... }
 * ```
 *
 * @module
 */

import { Bus } from "../bus.ts";
import type { IrqLine, MmioDevice, TimedDevice } from "../device.ts";
import { isTimedDevice, NO_IRQ } from "../device.ts";
import { SparseMemory } from "../memory.ts";
import { Hart, StopReason } from "../riscv/hart.ts";
import { Aclint } from "../devices/aclint.ts";
import { Ns16550a } from "../devices/ns16550a.ts";
import { Plic } from "../devices/plic.ts";
import { type FinisherEvent, SifiveTest } from "../devices/sifive_test.ts";
import { deviceKind } from "./device_kinds.ts";
import { boardDtb } from "./device_tree.ts";
import type { BoardSpec } from "./spec.ts";

/** mip bits (as masks) driven by the board's interrupt controllers. */
const MIP_MSIP = 1 << 3, MIP_MTIP = 1 << 7, MIP_SEIP = 1 << 9, MIP_MEIP = 1 << 11;
const MIB = 1024 * 1024;
/** The hart stop reasons that end a machine run, and how the run reports them. */
const HART_STOPS: ReadonlyMap<number, MachineStopReason> = new Map([
  [StopReason.Breakpoint, "breakpoint"],
  [StopReason.Halted, "halted"],
  [StopReason.BusError, "bus-error"],
  [StopReason.Ecall, "ecall"],
  [StopReason.Requested, "requested"],
]);
const THREE_GIB = 3 * 1024 * MIB;

/** Why {@linkcode Machine.run} returned. */
export type MachineStopReason =
  | "finished" // the test finisher was written (see `finisher`)
  | "budget" // the instruction budget ran out
  | "idle" // every hart sleeps and nothing is scheduled to wake one (e.g. waiting for input)
  | "breakpoint" // a hart stopped on a breakpoint
  | "halted" // a hart halted
  | "bus-error" // a hart reported an unanswered access as a stop
  | "ecall" // a hart reported an ecall as a stop
  | "requested"; // a hart's run was ended by Hart.requestStop (e.g. a write watch on `tohost`)

/** The result of {@linkcode Machine.run}. */
export interface MachineStop {
  /** Why the run ended. */
  reason: MachineStopReason;
  /** Instructions retired during this call, summed over all harts. */
  instructions: number;
  /** The finisher request (reason `finished`). */
  finisher?: FinisherEvent;
  /**
   * Board index of the hart that caused the stop (breakpoint, halted, bus-error, ecall,
   * requested).
   */
  hart?: number;
}

/** Options for {@linkcode Machine}. */
export interface MachineOptions {
  /** Instructions a hart runs before the next hart's turn. Default 4096. */
  slice?: number;
  /**
   * The device tree blob to give the harts (in a1) instead of the board's own (e.g. one with
   * `/chosen` bootargs and initrd range, or a user's `--dtb`).
   */
  dtb?: Uint8Array;
  /**
   * Wall-clock time (ns since the Unix epoch) that real-time clocks (a `goldfish-rtc`) read at
   * boot; they advance with virtual time. Default 2026-01-01T00:00:00Z, so runs are repeatable.
   */
  rtcEpochNs?: number;
}

/** Where a board places its DTB: as QEMU does, near the top of the first RAM range, below 3 GiB. */
export function dtbAddressFor(spec: BoardSpec, dtbSize: number): number {
  const ram = spec.memory[0];
  const end = ram.base + ram.size;
  const top = ram.base < THREE_GIB ? Math.min(end, THREE_GIB) : end;
  const address = Math.floor((top - dtbSize) / (2 * MIB)) * 2 * MIB;
  if (address >= ram.base) return address;
  return Math.floor((end - dtbSize) / 8) * 8;
}

/** An instantiated board. */
export class Machine {
  /** The board this machine was built from. */
  readonly spec: BoardSpec;
  /** The physical address space. */
  readonly bus: Bus = new Bus();
  /** RAM of each `[[memory]]` range, in the order of `spec.memory`. */
  readonly memories: SparseMemory[];
  /** RAM of the first range. */
  readonly memory: SparseMemory;
  /** The harts, in board order (index = CLINT hart index; `hartId` = mhartid). */
  readonly harts: Hart[];
  /** Devices by name. */
  readonly devices: ReadonlyMap<string, MmioDevice>;
  /** The console UART (the board's `chosen.stdout`), if any. */
  readonly console: Ns16550a | undefined;
  /** The PLIC, if any. */
  readonly plic: Plic | undefined;
  /** The CLINT/ACLINT, if any. */
  readonly aclint: Aclint | undefined;
  /** The test finisher, if any. */
  readonly finisher: SifiveTest | undefined;
  /** The board's device tree blob. */
  readonly dtb: Uint8Array;
  /** Physical address the DTB is placed at (passed to harts in a1). */
  readonly dtbAddress: number;
  /** Instructions per slice. */
  readonly slice: number;

  #cycles = 0; // elapsed virtual time, in instructions of one hart
  #sliceStart: number[] = []; // each hart's instret when its current slice began
  #finished: FinisherEvent | undefined;
  #output: number[] = [];
  #listeners: ((bytes: Uint8Array) => void)[] = [];
  #timed: TimedDevice[] = []; // devices with alarms (an RTC), updated as time advances

  /** Builds RAM, bus, devices, harts and the DTB (and writes the DTB into RAM). */
  constructor(spec: BoardSpec, options: MachineOptions = {}) {
    this.spec = spec;
    this.slice = options.slice ?? 4096;
    if (!Number.isInteger(this.slice) || this.slice < 1) {
      throw new RangeError(`machine: slice must be a positive integer, got ${options.slice}`);
    }
    this.memories = spec.memory.map((m, i) => {
      const memory = new SparseMemory(m.size);
      this.bus.mapRam(m.base, m.size, memory, 0, spec.memory.length === 1 ? "ram" : `ram${i}`);
      return memory;
    });
    this.memory = this.memories[0];

    const n = spec.cpus.hartIds.length;
    // A hart reads time live: the round's start plus what it retired so far in its slice, so
    // rdtime advances with every instruction (Linux measures short copies with it).
    const readTime = (h: number) => (instretNow: number) =>
      this.time() + this.#ticksFor(instretNow - this.#sliceStart[h]);
    // Harts wait in wfi by themselves (Hart.waiting) and wake when a wire makes an interrupt
    // pending; the scheduler skips waiting harts.
    this.#sliceStart = new Array(n).fill(0);
    this.harts = spec.cpus.hartIds.map((hartId, h) =>
      new Hart({ bus: this.bus, hartId, readTime: readTime(h) })
    );
    const wire = (h: number, mask: number): IrqLine => ({
      set: (level: boolean) => this.harts[h].setIrqLine(mask, level),
    });

    const devices = new Map<string, MmioDevice>();
    const plicSpec = spec.devices.find((d) => d.type === "plic");
    let plic: Plic | undefined;
    if (plicSpec) {
      const contexts: IrqLine[] = [];
      for (let h = 0; h < n; h++) contexts.push(wire(h, MIP_MEIP), wire(h, MIP_SEIP));
      plic = deviceKind("plic").create(plicSpec, { plicContexts: contexts }) as Plic;
    }
    let consoleUart: Ns16550a | undefined;
    let aclint: Aclint | undefined;
    let finisher: SifiveTest | undefined;
    const timed: TimedDevice[] = [];
    for (const d of spec.devices) {
      const isConsole = d.type === "ns16550a" && d.name === spec.chosen.stdout;
      const device = d.type === "plic" ? plic! : deviceKind(d.type).create(d, {
        irq: d.irq !== undefined && plic ? plic.irq(d.irq) : NO_IRQ,
        output: isConsole ? (byte) => this.#emit(byte) : undefined,
        clockNs: () => this.elapsedNs(),
        epochNs: options.rtcEpochNs,
        clintHarts: spec.cpus.hartIds.map((_, h) => ({
          msip: wire(h, MIP_MSIP),
          mtip: wire(h, MIP_MTIP),
        })),
        ticks: () => this.#ticks(),
        // The write that finishes ends the writing hart's run right after it.
        onFinish: (e) => {
          this.#finished ??= e;
          for (const h of this.harts) h.requestStop();
        },
      });
      if (device instanceof Aclint) aclint = device;
      if (device instanceof SifiveTest) finisher = device;
      if (isConsole) consoleUart = device as Ns16550a;
      if (isTimedDevice(device)) timed.push(device);
      devices.set(d.name, device);
      this.bus.mapDevice(d.base, device, d.name);
    }
    this.#timed = timed;
    this.devices = devices;
    this.plic = plic;
    this.aclint = aclint;
    this.finisher = finisher;
    this.console = consoleUart;

    this.dtb = options.dtb ?? boardDtb(spec);
    this.dtbAddress = dtbAddressFor(spec, this.dtb.length);
    this.#placeDtb();
  }

  /**
   * Virtual time elapsed since boot, in timebase ticks (the clock behind mtime). It advances
   * between rounds of slices, so a hart sees time move at most `slice` instructions apart.
   */
  #ticks(): number {
    return Math.floor(this.#cycles * this.spec.timebaseFrequency / this.spec.cpus.frequency);
  }

  /** Timebase ticks that `instructions` more instructions of one hart add to the clock. */
  #ticksFor(instructions: number): number {
    const cycles = this.#cycles + Math.max(0, instructions);
    return Math.floor(cycles * this.spec.timebaseFrequency / this.spec.cpus.frequency) -
      this.#ticks();
  }

  /** The current value of mtime (and of the harts' `time` CSR), in timebase ticks. */
  time(): number {
    return this.aclint ? this.aclint.mtime() : this.#ticks();
  }

  /** Virtual time elapsed since boot, in nanoseconds. */
  elapsedNs(): number {
    return Math.floor(this.#cycles * 1e9 / this.spec.cpus.frequency);
  }

  /** Board index of the hart whose mhartid is `hartId`, or -1. */
  hartIndex(hartId: number): number {
    return this.spec.cpus.hartIds.indexOf(hartId);
  }

  /** Whether hart `index` sleeps in `wfi`. */
  isSleeping(index: number): boolean {
    return this.harts[index].waiting;
  }

  /** Subscribes to the console's output; returns a function that unsubscribes. */
  onConsoleOutput(listener: (bytes: Uint8Array) => void): () => void {
    this.#listeners.push(listener);
    return () => {
      const i = this.#listeners.indexOf(listener);
      if (i >= 0) this.#listeners.splice(i, 1);
    };
  }

  /** Queues host input for the console; returns how many bytes were accepted (0 without one). */
  sendConsoleInput(bytes: Uint8Array | string): number {
    return this.console ? this.console.sendInput(bytes) : 0;
  }

  /**
   * Copies `data` into RAM at physical address `address`.
   *
   * @throws {RangeError} when the range is not entirely RAM
   */
  load(address: number, data: Uint8Array): void {
    for (let at = 0; at < data.length;) {
      const region = this.bus.find(address + at);
      if (!region || region.kind !== "ram") {
        throw new RangeError(
          `cannot load ${data.length} bytes at 0x${address.toString(16)}: 0x${
            (address + at).toString(16)
          } is not RAM on board ${this.spec.name}`,
        );
      }
      const n = Math.min(data.length - at, region.base + region.size - (address + at));
      region.memory!.writeBytes(
        region.memoryOffset! + address + at - region.base,
        data.subarray(at, at + n),
      );
      at += n;
    }
  }

  /**
   * Starts (or restarts) the machine: resets devices and time, rewrites the DTB, and puts every
   * hart at `entry` in M-mode with a0 = its hart id and a1 = the DTB address, as firmware expects.
   * RAM contents are kept.
   */
  boot(entry: number): void {
    for (const device of this.devices.values()) device.reset();
    this.#cycles = 0;
    this.#finished = undefined;
    this.#output = [];
    this.aclint?.updateTimers();
    this.#placeDtb();
    this.harts.forEach((hart, h) => {
      hart.reset(entry, 3);
      hart.setX(10, BigInt(this.spec.cpus.hartIds[h]));
      hart.setX(11, BigInt(this.dtbAddress));
    });
  }

  /**
   * Runs the harts round-robin until `maxInsns` instructions (summed over harts) have retired,
   * the test finisher is written, every hart sleeps with nothing to wake it, or a hart stops.
   */
  run(maxInsns: number): MachineStop {
    let executed = 0;
    const n = this.harts.length;
    const stop = (reason: MachineStopReason, hart?: number): MachineStop => {
      this.#flush();
      const result: MachineStop = { reason, instructions: executed };
      if (hart !== undefined) result.hart = hart;
      if (reason === "finished") result.finisher = this.#finished;
      return result;
    };
    if (this.#finished) return stop("finished");
    while (executed < maxInsns) {
      let longest = 0;
      let anyAwake = false;
      for (let h = 0; h < n && executed < maxInsns; h++) {
        const hart = this.harts[h];
        if (hart.waiting) continue;
        anyAwake = true;
        this.#sliceStart[h] = hart.instret;
        const reason = hart.run(Math.min(this.slice, maxInsns - executed));
        // Count at least one instruction per slice so that every slice advances time.
        const ran = Math.max(hart.lastRunInstructions, 1);
        executed += ran;
        if (ran > longest) longest = ran;
        if (this.#output.length >= 4096) this.#flush();
        if (this.#finished) {
          this.#cycles += longest;
          return stop("finished");
        }
        const hartStop = HART_STOPS.get(reason); // none for Budget, or Wfi (the hart now waits)
        if (hartStop !== undefined) {
          this.#cycles += longest;
          return stop(hartStop, h);
        }
      }
      if (anyAwake) {
        this.#cycles += longest;
        this.aclint?.updateTimers();
        this.#wakeSstc();
        this.#updateTimed();
        continue;
      }
      // Every hart sleeps: jump to the next timer deadline (the CLINT's mtimecmp, a hart's Sstc
      // stimecmp or a device's alarm), or report idleness.
      const deadline = this.#nextDeadline();
      const timedNs = this.#nextTimedNs();
      if (deadline === undefined && timedNs === undefined) return stop("idle");
      const target = Math.min(
        deadline === undefined
          ? Infinity
          : Math.ceil(deadline * this.spec.cpus.frequency / this.spec.timebaseFrequency),
        timedNs === undefined ? Infinity : Math.ceil(timedNs * this.spec.cpus.frequency / 1e9),
      );
      this.#cycles = Math.max(this.#cycles + 1, target);
      this.aclint?.updateTimers();
      this.#wakeSstc();
      this.#updateTimed();
    }
    return stop("budget");
  }

  /** The next timer deadline in clock ticks (before mtime's offset): mtimecmp or stimecmp. */
  #nextDeadline(): number | undefined {
    let next = this.aclint?.nextDeadline();
    const offset = this.time() - this.#ticks(); // what a guest write to mtime shifted
    for (const hart of this.harts) {
      const cmp = hart.sstcDeadline();
      if (cmp === undefined) continue;
      const at = Math.max(cmp - offset, this.#ticks());
      if (next === undefined || at < next) next = at;
    }
    return next;
  }

  /** The earliest deadline of a timed device (ns of virtual time), if any. */
  #nextTimedNs(): number | undefined {
    let next: number | undefined;
    for (const d of this.#timed) {
      const at = d.deadlineNs();
      if (at !== undefined && (next === undefined || at < next)) next = at;
    }
    return next;
  }

  /** Lets timed devices whose deadline has come do their work (an RTC alarm interrupts). */
  #updateTimed(): void {
    for (const d of this.#timed) {
      const at = d.deadlineNs();
      if (at !== undefined && at <= this.elapsedNs()) d.update();
    }
  }

  /** Wakes harts waiting in wfi whose Sstc timer (stimecmp) has expired: STIP is now pending. */
  #wakeSstc(): void {
    const now = this.time();
    for (const hart of this.harts) {
      if (!hart.waiting) continue;
      const cmp = hart.sstcDeadline();
      if (cmp !== undefined && cmp <= now) hart.waiting = false;
    }
  }

  #emit(byte: number): void {
    this.#output.push(byte);
  }

  #flush(): void {
    if (this.#output.length === 0) return;
    const bytes = Uint8Array.from(this.#output);
    this.#output = [];
    for (const listener of this.#listeners.slice()) listener(bytes);
  }

  #placeDtb(): void {
    this.load(this.dtbAddress, this.dtb);
  }
}
