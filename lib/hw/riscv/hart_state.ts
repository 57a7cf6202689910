/**
 * The hart's contract with its callers, apart from the interpreter: why a run stops, the
 * options, bus-error details and the saved architectural state (snapshots).
 *
 * @module
 */

import type { Bus } from "../bus.ts";

/** Why {@linkcode Hart.run} returned. */
export const StopReason = {
  /** The instruction budget was spent. */
  Budget: 0,
  /** `wfi` executed (exitOnWfi), or the hart waits for an interrupt. `pc` is after the wfi. */
  Wfi: 1,
  /** S-mode `ecall` with exitOnSupervisorEcall. `pc` is at the ecall. */
  Ecall: 2,
  /** An access nobody answered, with exitOnBusError. See {@linkcode Hart.lastBusError}. */
  BusError: 3,
  /** `ebreak` with exitOnEbreak. `pc` is at the ebreak. */
  Breakpoint: 4,
  /** The hart is halted ({@linkcode Hart.halted}). */
  Halted: 5,
  /**
   * {@linkcode Hart.requestStop} was called during the run (by a device or a write watch): the
   * instruction that caused it completed and counts as retired; `pc` is after it.
   */
  Requested: 6,
} as const;

/** One of the {@linkcode StopReason} values. */
export type StopReasonCode = typeof StopReason[keyof typeof StopReason];

/** Names of the stop reasons, by code. */
export const STOP_REASON_NAMES: readonly string[] = [
  "budget",
  "wfi",
  "ecall",
  "bus-error",
  "breakpoint",
  "halted",
  "requested",
];

/** Options of a {@linkcode Hart}. */
export interface HartOptions {
  /** The physical address space. */
  bus: Bus;
  /** Value of mhartid. */
  hartId: number;
  /**
   * Value of the `time` CSR in timebase ticks. Defaults to a clock that reads 0. It receives
   * the hart's live instruction count ({@linkcode Hart.instretNow}), so a clock derived from
   * executed instructions advances inside a long run.
   */
  readTime?: (instretNow: number) => number;
  /** VMM: an S-mode ecall stops the run with StopReason.Ecall instead of trapping. */
  exitOnSupervisorEcall?: boolean;
  /** VMM: wfi stops the run with StopReason.Wfi instead of waiting for an interrupt. */
  exitOnWfi?: boolean;
  /** VMM: an unanswered access stops the run (StopReason.BusError) instead of an access fault. */
  exitOnBusError?: boolean;
  /** Debuggers: ebreak stops the run with StopReason.Breakpoint instead of trapping. */
  exitOnEbreak?: boolean;
  /**
   * Translate hot code into JavaScript functions (the second tier). Default `true`; `false`
   * keeps every instruction in the interpreter (differential testing, debugging).
   */
  jit?: boolean;
  /**
   * With `jit`, translate hot integer regions into WebAssembly (wasm/wasm_tier.ts) instead of
   * JavaScript. Default `true`; off (JavaScript tier only) without a frame pool.
   */
  wasm?: boolean;
  /**
   * How many times an instruction is interpreted before a block is compiled from it (1..2^31-1,
   * default 60000: a block costs V8 a parse and a tier-up, which only pays back on code that
   * runs tens of thousands of times; see bench/linux_init_bench.ts). Tests use 1 to push nearly
   * everything through the second tier. Given, it applies to the wasm tier too; by default the
   * wasm tier translates after 2000 runs (its units are far cheaper to compile), and code it
   * does not take goes to the JavaScript tier after 60000.
   */
  jitThreshold?: number;
  /**
   * Configure M-mode CSRs as SBI firmware does for an S-mode guest, at construction and on
   * every reset: all delegable exceptions in medeleg, the S-level interrupts in mideleg, and
   * cycle/time/instret readable from S and U (mcounteren = scounteren = 7).
   */
  guestDelegation?: boolean;
  /**
   * Implement Sstc (the `stimecmp` CSR and menvcfg.STCE). Default `true`; `false` makes
   * stimecmp an illegal CSR and menvcfg.STCE read-only zero.
   */
  sstc?: boolean;
}

/** Details of the last unanswered access (see {@linkcode HartOptions.exitOnBusError}). */
export interface BusErrorInfo {
  /** Physical address of the access (virtual address when it could not be translated). */
  addr: number;
  /** Access width in bytes. */
  width: number;
  /** Whether it was a store. */
  write: boolean;
  /** Whether it was an instruction fetch. */
  fetch: boolean;
  /** pc of the instruction. */
  pc: number;
}

/** A hart's architectural state, as plain JSON-serialisable data. */
export interface HartState {
  /** Format version. */
  version: 1;
  /** Program counter (signed 64-bit value as a number). */
  pc: number;
  /** Privilege level. */
  priv: 0 | 1 | 3;
  /** Low halves of x0..x31 (signed int32). */
  xl: number[];
  /** High halves of x0..x31 (signed int32). */
  xh: number[];
  /** Instructions retired. */
  instret: number;
  /** mstatus low 32 bits. */
  mstatus: number;
  /** Software-writable mip bits. */
  mipSw: number;
  /** mip bits driven by external lines. */
  mipExt: number;
  /** mie. */
  mie: number;
  /** mideleg. */
  mideleg: number;
  /** medeleg. */
  medeleg: number;
  /** Counter offsets and frozen values: [cycleOffset, instretOffset, cycleFrozen, instretFrozen]. */
  counters: number[];
  /** Other CSRs with a non-zero value: [number, lo, hi] triples. */
  csrs: number[][];
  /** Whether the hart waits in wfi. */
  waiting: boolean;
  /** Whether the hart is halted. */
  halted: boolean;
  /** f0..f31 as 64 int32 words (`[2i]` low, `[2i + 1]` high); absent in older snapshots. */
  fpr?: number[];
  /** fcsr (frm << 5 | fflags); absent in older snapshots. */
  fcsr?: number;
}
