/**
 * The bare-metal runner's logic, free of Deno I/O: a one-hart machine in the style of spike
 * (RAM at 0x8000_0000, sparse), image loading (ELF64 or raw binary), and a run loop that watches
 * HTIF `tohost`, bounds the run, traces instructions and measures speed.
 *
 * Exit codes (the contract `bin/bare.ts` documents): {@linkcode EXIT_PASS} 0 when the guest
 * stores 1 to `tohost`; {@linkcode EXIT_FAIL} 1 for any other odd value `v` (test `v >> 1`
 * failed); {@linkcode EXIT_BUDGET} 2 when `--max-insns` instructions retired first;
 * {@linkcode EXIT_STOPPED} 3 when the machine stopped otherwise (a hart halted or stuck in a trap
 * loop, an HTIF request that cannot be served); {@linkcode EXIT_USAGE} 4 for bad arguments or an
 * image that cannot be loaded.
 *
 * @module
 */

import { Bus } from "./bus.ts";
import { SparseMemory } from "./memory.ts";
import { Hart, StopReason } from "./riscv/hart.ts";
import { disassemble } from "./riscv/disassembler.ts";
import {
  isElf,
  type LoadedRange,
  loadElf,
  loadRaw,
  type LoadTarget,
  parseElf,
} from "./riscv/elf.ts";
import { assemble } from "./riscv/assembler.ts";
import { Htif } from "./htif.ts";
import { Machine, type MachineStop } from "./boards/machine.ts";
import type { BoardSpec } from "./boards/spec.ts";
import { boardDeviceTree } from "./boards/device_tree.ts";
import { dtbAddressFor } from "./boards/machine.ts";
import { readFdt } from "./fdt/reader.ts";
import { writeFdt } from "./fdt/writer.ts";
import { formatAddress } from "./riscv/address.ts";

/** Exit code: the guest stored 1 to `tohost` (pass), or called `exit(0)`. */
export const EXIT_PASS = 0;
/** Exit code: the guest stored another odd value to `tohost` (a test failed). */
export const EXIT_FAIL = 1;
/** Exit code: the instruction budget (`--max-insns`) was spent. */
export const EXIT_BUDGET = 2;
/** Exit code: the machine stopped without an exit request (halt, trap loop, bad HTIF request). */
export const EXIT_STOPPED = 3;
/** Exit code: bad command-line arguments or an image that cannot be loaded. */
export const EXIT_USAGE = 4;

/** Physical address of the bare machine's RAM (and of a raw image). */
export const BARE_RAM_BASE = 0x8000_0000;
/** Size of the bare machine's RAM: 2 GiB, costing host memory only where touched. */
export const BARE_RAM_SIZE = 0x8000_0000;
/** Default instruction budget: generous (about a minute of guest time). */
export const DEFAULT_MAX_INSNS = 10_000_000_000;
/** Default number of traced instructions. */
export const DEFAULT_TRACE_LIMIT = 100_000;
/**
 * Longest run between two looks at console input and `--until`. A store to `tohost` does not
 * wait for it: a write watch ends the hart's run right after the store, and the request is
 * served at once (so `--stats` counts exactly the instructions up to that store).
 */
export const POLL_INTERVAL = 100_000;

/** An image given to the runner: a name for messages and its bytes. */
export interface ImageFile {
  /** File name (used in messages). */
  name: string;
  /** Contents. */
  bytes: Uint8Array;
}

/** An image placed in memory. */
export interface LoadedImage {
  /**
   * `elf` (loaded by its program headers), `assembly` (a `.S`/`.s` source assembled at the raw
   * address) or `raw` (copied at an address).
   */
  kind: "elf" | "assembly" | "raw";
  /** File name. */
  name: string;
  /** Where execution of this image starts. */
  entry: number;
  /** The physical ranges written. */
  ranges: LoadedRange[];
  /** Physical address of a symbol (ELF only), `undefined` when unknown. */
  symbol(name: string): number | undefined;
}

/**
 * Loads an ELF64 image by its program headers, an assembly source (a name ending in `.S` or
 * `.s`) assembled at `rawAddress` (entry `_start`, else the first byte), or any other file (or
 * any file at all, with `asRaw`) as a raw binary at `rawAddress` (default
 * {@linkcode BARE_RAM_BASE}).
 *
 * @throws {ElfError} for a malformed or foreign ELF, or an image outside memory
 * @throws {AssemblerError} for a source that does not assemble (naming line and column)
 */
export function loadImage(
  target: LoadTarget,
  file: ImageFile,
  rawAddress: number = BARE_RAM_BASE,
  asRaw = false,
): LoadedImage {
  if (!asRaw && isElf(file.bytes)) {
    const elf = parseElf(file.bytes, file.name);
    const ranges = loadElf(elf, target, file.name);
    return {
      kind: "elf",
      name: file.name,
      entry: elf.entry,
      ranges,
      symbol: (name) => elf.symbolAddress(name),
    };
  }
  if (!asRaw && /\.[sS]$/.test(file.name)) {
    const program = assemble(new TextDecoder().decode(file.bytes), {
      origin: rawAddress,
      fileName: file.name,
    });
    const range = loadRaw(program.image, program.origin, target, file.name);
    return {
      kind: "assembly",
      name: file.name,
      entry: program.symbols.get("_start") ?? program.origin,
      ranges: [range],
      symbol: (name) => program.symbols.get(name),
    };
  }
  const range = loadRaw(file.bytes, rawAddress, target, file.name);
  return {
    kind: "raw",
    name: file.name,
    entry: rawAddress,
    ranges: [range],
    symbol: () => undefined,
  };
}

/** Anything the runner can drive: a {@linkcode BareMachine} or a board's `Machine`. */
export interface RunTarget {
  /** The physical address space (instruction fetch for traces, HTIF). */
  readonly bus: Bus;
  /** The harts, in board order. */
  readonly harts: Hart[];
  /** Runs until `maxInsns` instructions were executed or the machine stopped. */
  run(maxInsns: number): MachineStop;
  /** Subscribes to console (UART) output; absent on a machine without a console. */
  onConsoleOutput?(listener: (bytes: Uint8Array) => void): () => void;
  /** Feeds console (UART) input; returns how many bytes were accepted. */
  sendConsoleInput?(bytes: Uint8Array): number;
}

/** A one-hart machine like spike's default: RAM at {@linkcode BARE_RAM_BASE}, nothing else. */
export class BareMachine implements RunTarget {
  /** The RAM. */
  readonly memory: SparseMemory;
  /** The bus with the RAM mapped. */
  readonly bus: Bus;
  /** Hart 0. */
  readonly hart: Hart;
  /** The harts (just hart 0). */
  readonly harts: Hart[];

  /** Creates the machine; `ramSize` defaults to {@linkcode BARE_RAM_SIZE}. */
  constructor(options: { ramBase?: number; ramSize?: number } = {}) {
    const base = options.ramBase ?? BARE_RAM_BASE;
    this.memory = new SparseMemory(options.ramSize ?? BARE_RAM_SIZE);
    this.bus = new Bus();
    this.bus.mapRam(base, this.memory.size, this.memory, 0, "ram");
    this.hart = new Hart({ bus: this.bus, hartId: 0 });
    this.harts = [this.hart];
  }

  /**
   * Runs hart 0 for up to `maxInsns` instructions. A `wfi` with no interrupt pending ends the
   * run as `idle`: nothing on this machine can raise one.
   */
  run(maxInsns: number): MachineStop {
    const reason = this.hart.run(maxInsns);
    const instructions = this.hart.lastRunInstructions;
    switch (reason) {
      case StopReason.Budget:
        return { reason: "budget", instructions };
      case StopReason.Wfi:
        return { reason: "idle", instructions };
      case StopReason.Breakpoint:
        return { reason: "breakpoint", instructions, hart: 0 };
      case StopReason.BusError:
        return { reason: "bus-error", instructions, hart: 0 };
      case StopReason.Ecall:
        return { reason: "ecall", instructions, hart: 0 };
      case StopReason.Requested:
        return { reason: "requested", instructions, hart: 0 };
      default:
        return { reason: "halted", instructions, hart: 0 };
    }
  }
}

/** What to run: the image, optionally a board and extra images. */
export interface RunConfig {
  /** The main image: ELF64 (loaded by its program headers) or raw (at 0x8000_0000). */
  image: ImageFile;
  /** Run on this board (every hart starts at the entry, a0 = hart id, a1 = DTB address). */
  board?: BoardSpec;
  /** Extra images: raw at `address`, or an ELF by its program headers when no address. */
  loads?: { file: ImageFile; address?: number }[];
  /** Address of `tohost` when the image has no such symbol (e.g. a raw binary). */
  tohost?: number;
  /** Prepare for tracing (a board then schedules its harts one instruction at a time). */
  trace?: boolean;
  /**
   * A Linux initramfs (board only): loaded into RAM where QEMU puts one (2 MiB + min(RAM / 2,
   * 128 MiB) into the first RAM range) and named in `/chosen` (`linux,initrd-start`/`-end`).
   */
  initrd?: ImageFile;
  /** The kernel command line (board only): `/chosen/bootargs`. */
  append?: string;
  /** A device tree blob to boot with instead of the board's own (board only), as QEMU's `-dtb`. */
  dtb?: ImageFile;
  /** What the board's RTC reads at boot, in ns since the Unix epoch (default 2026-01-01). */
  rtcEpochNs?: number;
}

const MIB = 1024 * 1024;

/** Where {@linkcode prepareRun} loads an initrd on `board` (as QEMU's riscv boards do). */
export function initrdAddressFor(board: BoardSpec): number {
  const ram = board.memory[0];
  return ram.base + 2 * MIB + Math.min(Math.floor(ram.size / 2), 128 * MIB);
}

/**
 * The device tree a board boots with given `--dtb`, `--initrd` and `--append`: the DTB file
 * (or the board's own tree) with `/chosen` updated. Returns `undefined` when none is given.
 *
 * @throws {LoadError} for a DTB that does not parse or an initrd that does not fit
 */
function bootDeviceTree(
  board: BoardSpec,
  config: RunConfig,
  initrdAt: number,
): Uint8Array | undefined {
  if (!config.dtb && !config.initrd && config.append === undefined) return undefined;
  let root;
  let bootCpuId = board.cpus.hartIds[0];
  if (config.dtb) {
    try {
      const doc = readFdt(config.dtb.bytes);
      root = doc.root;
      bootCpuId = doc.bootCpuId;
    } catch (e) {
      throw new LoadError(`${config.dtb.name}: ${(e as Error).message}`);
    }
  } else {
    root = boardDeviceTree(board);
  }
  const chosen = root.child("chosen") ?? root.add("chosen");
  if (config.append !== undefined) chosen.set("bootargs", config.append);
  if (config.initrd) {
    chosen.set("linux,initrd-start", BigInt(initrdAt));
    chosen.set("linux,initrd-end", BigInt(initrdAt + config.initrd.bytes.length));
  }
  return writeFdt(root, { bootCpuId, padding: 4096 });
}

/** A machine with its images loaded and its harts at the entry point. */
export interface PreparedRun {
  /** The machine. */
  target: RunTarget;
  /** The main image. */
  image: LoadedImage;
  /** The extra images, in order. */
  extra: LoadedImage[];
  /** The HTIF watcher, when the image has `tohost` (or `tohost` was given). */
  htif?: Htif;
}

/** Raised by {@linkcode prepareRun} for an extra image that cannot be placed. */
export class LoadError extends Error {
  /** Creates the error with a message naming the file and the range. */
  constructor(message: string) {
    super(message);
    this.name = "LoadError";
  }
}

/**
 * Builds the machine (a {@linkcode BareMachine}, or the board's `Machine`), loads the images and
 * starts hart(s) at the entry in M-mode.
 *
 * @throws {ElfError} for a malformed, foreign or misplaced ELF image
 * @throws {LoadError} for a raw image outside RAM
 */
export function prepareRun(config: RunConfig): PreparedRun {
  let target: RunTarget;
  let writer: LoadTarget;
  if (!config.board && (config.initrd || config.dtb || config.append !== undefined)) {
    throw new LoadError("an initrd, a kernel command line or a DTB needs a board (--board)");
  }
  let initrdAt = 0;
  if (config.board) {
    initrdAt = initrdAddressFor(config.board);
    const dtb = bootDeviceTree(config.board, config, initrdAt);
    if (config.initrd && dtb) {
      const end = initrdAt + config.initrd.bytes.length;
      const dtbAt = dtbAddressFor(config.board, dtb.length);
      if (end > dtbAt) {
        throw new LoadError(
          `${config.initrd.name}: ${config.initrd.bytes.length} bytes at 0x${
            initrdAt.toString(16)
          } overlap the device tree at 0x${dtbAt.toString(16)}`,
        );
      }
    }
    const machine = new Machine(config.board, {
      ...(config.trace ? { slice: 1 } : {}),
      dtb,
      rtcEpochNs: config.rtcEpochNs,
    });
    target = machine;
    writer = {
      writeBytes(addr, data) {
        try {
          machine.load(addr, data);
          return true;
        } catch {
          return false;
        }
      },
    };
  } else {
    target = new BareMachine();
    writer = target.bus;
  }
  const image = loadImage(writer, config.image);
  const extra = (config.loads ?? []).map(({ file, address }) => {
    if (address === undefined && !isElf(file.bytes)) {
      throw new LoadError(`${file.name}: not an ELF file, so it needs an address (FILE@ADDR)`);
    }
    return address === undefined ? loadImage(writer, file) : loadImage(writer, file, address, true);
  });
  if (config.initrd) extra.push(loadImage(writer, config.initrd, initrdAt, true));
  if (target instanceof Machine) {
    target.boot(image.entry);
  } else {
    target.harts[0].reset(image.entry, 3);
  }
  const tohost = config.tohost ?? image.symbol("tohost");
  const htif = tohost === undefined ? undefined : new Htif(target.bus, {
    tohost,
    fromhost: config.tohost === undefined ? image.symbol("fromhost") : undefined,
  });
  // A store to `tohost` ends the hart's run right after it, so the runner serves the request
  // (an exit or a console write) before the guest runs on.
  if (tohost !== undefined) {
    for (const hart of target.harts) hart.watchWrites(tohost, 8, () => hart.requestStop());
  }
  return { target, image, extra, htif };
}

/** Why a run ended. */
export type RunOutcome =
  | "pass"
  | "fail"
  | "budget"
  | "stopped"
  | "stuck"
  | "htif-error"
  | "until";

/** The result of {@linkcode runMachine}. */
export interface RunResult {
  /** Process exit code: one of the `EXIT_*` constants. */
  exitCode: number;
  /** Why the run ended. */
  outcome: RunOutcome;
  /** For `fail`: the failing test number (`tohost >> 1`) or the exit status. */
  testNumber?: number;
  /** A line explaining the end of the run; empty for a pass. */
  message: string;
  /** Instructions retired (all harts). */
  instret: number;
  /** Host seconds the run took (from the injected clock). */
  seconds: number;
  /** Millions of instructions retired per host second. */
  mips: number;
}

/** How to run: bounds, tracing, output sinks and the host clock. */
export interface RunOptions {
  /** Instruction budget (instructions retired); default {@linkcode DEFAULT_MAX_INSNS}. */
  maxInsns?: number;
  /** Print each executed instruction (hart, pc, bits, disassembly) through `log`. */
  trace?: boolean;
  /** How many instructions to trace before tracing stops; default {@linkcode DEFAULT_TRACE_LIMIT}. */
  traceLimit?: number;
  /** The guest's console output (HTIF console, UART): the runner's stdout. */
  output?: (bytes: Uint8Array) => void;
  /** Runner messages and trace lines, one line per call, no newline: the runner's stderr. */
  log?: (line: string) => void;
  /** Host clock in milliseconds, for the MIPS figure (default `performance.now`). */
  now?: () => number;
  /** Console input given to the guest (the UART on a board, HTIF console reads on bare). */
  input?: Uint8Array;
  /** Hold `input` back until the console output contains this text (e.g. a prompt). */
  inputAfter?: string;
  /** End the run with exit 0 once the console output contains this text. */
  until?: string;
}

const hex = formatAddress;

/**
 * Formats one trace line like spike: `core   0: 0x0000000080000000 (0x00000297) auipc t0,0x0`.
 * `word` is the instruction, `undefined` when nothing answers at `pc`, or `"virtual"` when the
 * hart fetches through page tables (the bits are then not shown).
 */
export function traceLine(
  hartId: number,
  pc: number,
  word: number | undefined | "virtual",
): string {
  const core = `core ${String(hartId).padStart(3)}: 0x${
    BigInt.asUintN(64, BigInt(pc)).toString(16).padStart(16, "0")
  }`;
  if (word === "virtual") return `${core} (virtual address: instruction not shown)`;
  if (word === undefined) return `${core} (no memory at this address)`;
  const d = disassemble(word, pc);
  const bits = d.length === 2
    ? (word & 0xffff).toString(16).padStart(4, "0")
    : (word >>> 0).toString(16).padStart(8, "0");
  return `${core} (0x${bits}) ${d.text}`;
}

/**
 * Reads the instruction at `pc` for a trace, through the bus when the hart fetches physical
 * addresses (M-mode, or satp off); `"virtual"` under Sv39, `undefined` when nothing answers.
 */
function fetchForTrace(hart: Hart, pc: number): number | undefined | "virtual" {
  if (hart.priv !== 3 && hart.readCsr(0x180) >> 60n !== 0n) return "virtual";
  if (pc < 0) return undefined;
  const lo = hart.bus.read(pc, 2);
  if (lo === undefined) return undefined;
  if ((lo & 3) !== 3) return lo;
  const hi = hart.bus.read(pc + 2, 2);
  return hi === undefined ? undefined : (lo | (hi << 16)) >>> 0;
}

/**
 * Runs a prepared machine until an HTIF exit or the board's finisher, the instruction budget, or
 * a stop; never throws for guest behaviour. Console output goes to `options.output`, messages
 * and traces to `options.log`.
 */
export function runMachine(prepared: PreparedRun, options: RunOptions = {}): RunResult {
  const { target, htif } = prepared;
  const maxInsns = options.maxInsns ?? DEFAULT_MAX_INSNS;
  const log = options.log ?? (() => {});
  const output = options.output ?? (() => {});
  const now = options.now ?? (() => performance.now());
  const traceLimit = options.traceLimit ?? DEFAULT_TRACE_LIMIT;
  let traceLeft = options.trace ? traceLimit : 0;
  const harts = target.harts;
  const until = options.until === undefined ? undefined : new OutputWatch(options.until);
  const trigger = options.inputAfter === undefined
    ? undefined
    : new OutputWatch(options.inputAfter);
  const emit = (bytes: Uint8Array) => {
    output(bytes);
    until?.feed(bytes);
    trigger?.feed(bytes);
  };
  let pendingInput = options.input ?? new Uint8Array(0);
  const feedInput = () => {
    if (pendingInput.length === 0 || (trigger && !trigger.matched)) return;
    if (target.sendConsoleInput) {
      pendingInput = pendingInput.subarray(target.sendConsoleInput(pendingInput));
    } else if (htif) {
      htif.pushInput(pendingInput);
      pendingInput = new Uint8Array(0);
    }
  };
  const startInstret = harts.map((h) => h.instret);
  const retired = () => harts.reduce((sum, h, i) => sum + (h.instret - startInstret[i]), 0);
  const unsubscribe = target.onConsoleOutput?.(emit);
  const started = now();

  const finish = (
    exitCode: number,
    outcome: RunOutcome,
    message: string,
    testNumber?: number,
  ): RunResult => {
    unsubscribe?.();
    const seconds = Math.max(0, (now() - started) / 1000);
    const instret = retired();
    if (message) log(message);
    const result: RunResult = {
      exitCode,
      outcome,
      message,
      instret,
      seconds,
      mips: seconds > 0 ? instret / seconds / 1e6 : 0,
    };
    if (testNumber !== undefined) result.testNumber = testNumber;
    return result;
  };
  const where = () => {
    const shown = harts.slice(0, 8).map((h) =>
      `hart ${h.hartId} pc ${hex(BigInt.asUintN(64, BigInt(h.pc)))}${h.waiting ? " (wfi)" : ""}`
    );
    return shown.join(", ") + (harts.length > 8 ? `, ... (${harts.length} harts)` : "");
  };

  const pollHtif = (): RunResult | undefined => {
    if (!htif) return undefined;
    for (let guard = 0; guard < 1024; guard++) {
      const event = htif.poll();
      if (!event) return undefined;
      if (event.kind === "output") {
        emit(event.bytes);
        continue;
      }
      if (event.kind === "error") return finish(EXIT_STOPPED, "htif-error", event.message);
      if (event.code === 0) return finish(EXIT_PASS, "pass", "");
      return finish(
        EXIT_FAIL,
        "fail",
        `*** FAILED *** test ${event.code} (tohost = ${hex(event.value)})`,
        event.code,
      );
    }
    return undefined;
  };

  const onStop = (stop: MachineStop): RunResult | undefined => {
    const end = pollHtif();
    if (end) return end;
    if (until?.matched) return finish(EXIT_PASS, "until", "");
    feedInput();
    if (stop.reason === "budget" || stop.reason === "requested") return undefined;
    const hart = stop.hart === undefined ? undefined : harts[stop.hart];
    const at = hart ? `hart ${hart.hartId} at pc ${hex(BigInt.asUintN(64, BigInt(hart.pc)))}` : "";
    switch (stop.reason) {
      case "finished": {
        const event = stop.finisher!;
        if (event.kind === "pass") return finish(EXIT_PASS, "pass", "");
        if (event.kind === "fail") {
          return finish(
            EXIT_FAIL,
            "fail",
            `*** FAILED *** test finisher: fail with code ${event.code}`,
            event.code,
          );
        }
        return finish(
          EXIT_STOPPED,
          "stopped",
          "stopped: the guest asked the test finisher for a reset",
        );
      }
      case "idle":
        return finish(
          EXIT_STOPPED,
          "stopped",
          `stopped: every hart waits in wfi and nothing can wake one (${where()})`,
        );
      default:
        return finish(EXIT_STOPPED, "stopped", `stopped: ${stop.reason} on ${at || where()}`);
    }
  };

  let idleChunks = 0;
  feedInput();
  while (true) {
    const remaining = maxInsns - retired();
    if (remaining <= 0) {
      const end = pollHtif();
      if (end) return end;
      return finish(
        EXIT_BUDGET,
        "budget",
        `stopped: instruction budget spent (--max-insns ${maxInsns}) without an exit (${where()})`,
      );
    }
    const before = retired();
    let stop: MachineStop;
    if (traceLeft > 0) {
      const awake = harts.filter((h) => !h.waiting);
      const pre = awake.map((h) => ({
        h,
        pc: h.pc,
        instret: h.instret,
        word: fetchForTrace(h, h.pc),
      }));
      stop = target.run(Math.max(1, Math.min(awake.length, remaining)));
      for (const p of pre) {
        if (p.h.pc === p.pc && p.h.instret === p.instret) continue;
        if (traceLeft <= 0) break;
        log(traceLine(p.h.hartId, p.pc, p.word));
        traceLeft--;
      }
      if (traceLeft <= 0) log(`trace limit reached (${traceLimit}); running on without tracing`);
    } else {
      stop = target.run(Math.min(POLL_INTERVAL, remaining));
    }
    const end = onStop(stop);
    if (end) return end;
    idleChunks = retired() > before ? 0 : idleChunks + 1;
    if (idleChunks >= 3 && traceLeft <= 0 || idleChunks >= 64) {
      const hart = harts.find((h) => !h.waiting) ?? harts[0];
      const cause = hart.readCsr(0x342), epc = hart.readCsr(0x341), tval = hart.readCsr(0x343);
      return finish(
        EXIT_STOPPED,
        "stuck",
        `stopped: no instruction retires (a trap loop): hart ${hart.hartId} pc ${
          hex(BigInt.asUintN(64, BigInt(hart.pc)))
        }, mcause ${cause}, mepc ${hex(epc)}, mtval ${hex(tval)}`,
      );
    }
  }
}

/** Watches a byte stream for a text, across chunk boundaries. */
class OutputWatch {
  matched = false;
  #needle: Uint8Array;
  #tail = new Uint8Array(0);

  constructor(text: string) {
    this.#needle = new TextEncoder().encode(text);
  }

  feed(bytes: Uint8Array): void {
    if (this.matched) return;
    const joined = new Uint8Array(this.#tail.length + bytes.length);
    joined.set(this.#tail);
    joined.set(bytes, this.#tail.length);
    const n = this.#needle;
    outer: for (let i = 0; i + n.length <= joined.length; i++) {
      for (let k = 0; k < n.length; k++) if (joined[i + k] !== n[k]) continue outer;
      this.matched = true;
      return;
    }
    this.#tail = joined.slice(Math.max(0, joined.length - n.length + 1));
  }
}

/** Formats the `--stats` report: instructions retired, host time and MIPS. */
export function formatStats(result: RunResult): string[] {
  return [
    `instructions retired: ${result.instret}`,
    `host time: ${result.seconds.toFixed(3)} s`,
    `MIPS: ${result.mips.toFixed(1)}`,
  ];
}
