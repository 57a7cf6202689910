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
import { isElf, type LoadedRange, loadElf, loadRaw, type LoadTarget, parseElf } from "./riscv/elf.ts";
import { Htif } from "./htif.ts";

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
/** Instructions run between two polls of `tohost`. */
export const POLL_INTERVAL = 50_000;

/** An image given to the runner: a name for messages and its bytes. */
export interface ImageFile {
  /** File name (used in messages). */
  name: string;
  /** Contents. */
  bytes: Uint8Array;
}

/** An image placed in memory. */
export interface LoadedImage {
  /** `elf` (loaded by its program headers) or `raw` (copied at an address). */
  kind: "elf" | "raw";
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
 * Loads an ELF64 image by its program headers, or any other file as a raw binary at
 * `rawAddress` (default {@linkcode BARE_RAM_BASE}).
 *
 * @throws {ElfError} for a malformed or foreign ELF, or an image outside memory
 */
export function loadImage(
  target: LoadTarget,
  file: ImageFile,
  rawAddress: number = BARE_RAM_BASE,
): LoadedImage {
  if (isElf(file.bytes)) {
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
  const range = loadRaw(file.bytes, rawAddress, target, file.name);
  return { kind: "raw", name: file.name, entry: rawAddress, ranges: [range], symbol: () => undefined };
}

/** Why a run ended. */
export type RunOutcome =
  | "pass"
  | "fail"
  | "budget"
  | "halted"
  | "stuck"
  | "htif-error";

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
  /** Millions of instructions per host second. */
  mips: number;
}

/** How to run: bounds, tracing, output sinks and the host clock. */
export interface RunOptions {
  /** Instruction budget (instructions retired); default {@linkcode DEFAULT_MAX_INSNS}. */
  maxInsns?: number;
  /** Print each executed instruction (pc, bits, disassembly) through `log`. */
  trace?: boolean;
  /** How many instructions to trace before tracing stops; default {@linkcode DEFAULT_TRACE_LIMIT}. */
  traceLimit?: number;
  /** The guest's console output (HTIF console, UART): the runner's stdout. */
  output?: (bytes: Uint8Array) => void;
  /** Runner messages and trace lines, one line per call, no newline: the runner's stderr. */
  log?: (line: string) => void;
  /** Host clock in milliseconds, for the MIPS figure (default `performance.now`). */
  now?: () => number;
}

/** What {@linkcode runMachine} drives: harts sharing one bus, and an HTIF mailbox if any. */
export interface RunTarget {
  /** The harts, run round-robin. */
  harts: Hart[];
  /** The physical bus (instruction fetch for traces, HTIF). */
  bus: Bus;
  /** HTIF watcher when the image has `tohost`. */
  htif?: Htif;
  /** Called after every slice with the instructions it retired (devices that count time). */
  advance?: (instructions: number) => void;
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
  /** HTIF watcher, set by {@linkcode BareMachine.load} when the image has `tohost`. */
  htif?: Htif;

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
   * Loads an image (ELF or raw at `rawAddress`), points hart 0 at its entry in M-mode and arms
   * HTIF when the image has a `tohost` symbol (or `tohost` is given).
   */
  load(file: ImageFile, options: { rawAddress?: number; tohost?: number } = {}): LoadedImage {
    const image = loadImage(this.bus, file, options.rawAddress);
    this.hart.reset(image.entry, 3);
    const tohost = options.tohost ?? image.symbol("tohost");
    if (tohost !== undefined) {
      const fromhost = options.tohost === undefined ? image.symbol("fromhost") : undefined;
      this.htif = new Htif(this.bus, { tohost, fromhost });
    }
    return image;
  }
}

const hex = (n: number): string => `0x${n.toString(16)}`;
const REASON_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(StopReason).map(([name, value]) => [value, name]),
);

/** Formats one trace line like spike: `core   0: 0x0000000080000000 (0x00000297) auipc t0,0x0`. */
export function traceLine(hartId: number, pc: number, word: number | undefined): string {
  const core = `core ${String(hartId).padStart(3)}: 0x${pc.toString(16).padStart(16, "0")}`;
  if (word === undefined) return `${core} (no memory at this address)`;
  const d = disassemble(word, pc);
  const bits = d.length === 2 ? (word & 0xffff).toString(16).padStart(4, "0")
    : (word >>> 0).toString(16).padStart(8, "0");
  return `${core} (0x${bits}) ${d.text}`;
}

function fetchForTrace(bus: Bus, pc: number): number | undefined {
  const lo = bus.read(pc, 2);
  if (lo === undefined) return undefined;
  if ((lo & 3) !== 3) return lo;
  const hi = bus.read(pc + 2, 2);
  return hi === undefined ? undefined : (lo | (hi << 16)) >>> 0;
}

/**
 * Runs a machine until an HTIF exit, the instruction budget, or a stop; never throws for guest
 * behaviour. Console output goes to `options.output`, messages and traces to `options.log`.
 */
export function runMachine(target: RunTarget, options: RunOptions = {}): RunResult {
  const maxInsns = options.maxInsns ?? DEFAULT_MAX_INSNS;
  const log = options.log ?? (() => {});
  const output = options.output ?? (() => {});
  const now = options.now ?? (() => performance.now());
  let traceLeft = options.trace ? (options.traceLimit ?? DEFAULT_TRACE_LIMIT) : 0;
  const { harts, bus, htif } = target;
  const startInstret = harts.map((h) => h.instret);
  const retired = () => harts.reduce((sum, h, i) => sum + (h.instret - startInstret[i]), 0);
  const started = now();

  const finish = (
    exitCode: number,
    outcome: RunOutcome,
    message: string,
    testNumber?: number,
  ): RunResult => {
    const seconds = Math.max(0, (now() - started) / 1000);
    const instret = retired();
    if (message) log(message);
    return {
      exitCode,
      outcome,
      testNumber,
      message,
      instret,
      seconds,
      mips: seconds > 0 ? instret / seconds / 1e6 : 0,
    };
  };

  const pollHtif = (): RunResult | undefined => {
    if (!htif) return undefined;
    for (let guard = 0; guard < 1024; guard++) {
      const event = htif.poll();
      if (!event) return undefined;
      if (event.kind === "output") {
        output(event.bytes);
        continue;
      }
      if (event.kind === "error") return finish(EXIT_STOPPED, "htif-error", event.message);
      if (event.code === 0) return finish(EXIT_PASS, "pass", "");
      return finish(
        EXIT_FAIL,
        "fail",
        `*** FAILED *** test ${event.code} (tohost = ${event.value})`,
        event.code,
      );
    }
    return undefined;
  };

  let stuckSlices = 0;
  while (true) {
    const done = retired();
    const remaining = maxInsns - done;
    if (remaining <= 0) {
      const end = pollHtif();
      if (end) return end;
      const where = harts.map((h, i) => `hart ${i} pc ${hex(h.pc)}`).join(", ");
      return finish(
        EXIT_BUDGET,
        "budget",
        `stopped: instruction budget spent (--max-insns ${maxInsns}) without an exit request (${where})`,
      );
    }
    let progressed = false;
    for (let i = 0; i < harts.length; i++) {
      const hart = harts[i];
      const before = hart.instret;
      let reason: number;
      if (traceLeft > 0) {
        log(traceLine(i, hart.pc, fetchForTrace(bus, hart.pc)));
        traceLeft--;
        if (traceLeft === 0) {
          log(`trace limit reached (${options.traceLimit ?? DEFAULT_TRACE_LIMIT}); running on without tracing`);
        }
        reason = hart.run(1);
      } else {
        const share = Math.max(1, Math.floor(remaining / harts.length));
        reason = hart.run(Math.min(POLL_INTERVAL, share));
      }
      const ran = hart.instret - before;
      if (ran > 0) progressed = true;
      target.advance?.(ran);
      if (reason !== StopReason.Budget) {
        const end = pollHtif();
        if (end) return end;
        return finish(
          EXIT_STOPPED,
          "halted",
          `stopped: hart ${i} stopped (${REASON_NAMES[reason] ?? reason}) at pc ${hex(hart.pc)}`,
        );
      }
    }
    const end = pollHtif();
    if (end) return end;
    stuckSlices = progressed ? 0 : stuckSlices + 1;
    if (stuckSlices >= 4) {
      const hart = harts[0];
      const cause = hart.readCsr(0x342), tval = hart.readCsr(0x343), epc = hart.readCsr(0x341);
      return finish(
        EXIT_STOPPED,
        "stuck",
        `stopped: no instruction retires (trap loop): hart 0 pc ${hex(hart.pc)}, mcause ${cause}, ` +
          `mepc 0x${epc.toString(16)}, mtval 0x${tval.toString(16)}`,
      );
    }
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
