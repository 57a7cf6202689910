/**
 * Execution statistics of a hart, in the spirit of v86's: where the time goes between the
 * interpreter and the compiled tier, why compiled code returns to the interpreter, how often
 * code is compiled and invalidated, page walks, TLB flushes, traps and interrupts by cause.
 * Counting costs a few increments on slow paths and one per compiled-block call.
 *
 * @module
 */

/**
 * Why a compiled unit (a region, region.ts) returned to the dispatcher (the index in
 * `blockExits`; the sum is the number of calls).
 */
export const BlockExit = {
  /**
   * The region ended: the next instruction is one the tier leaves to the interpreter (system,
   * CSR, atomic, page-crossing), the end of the page, or beyond the region's size limit.
   */
  End: 0,
  /**
   * A jump or a taken branch left the region: to another page, through `jalr`, or to code of
   * the page the region does not hold (cold, or not on a cycle through its entry).
   */
  Jump: 1,
  /**
   * A load or store needs the slow path (TLB miss, device, page crossing), or a store into a
   * code page dropped compiled code (the region exits right after it).
   */
  Memory: 2,
  /**
   * The instruction budget of the run does not allow the longest run from a backward jump's
   * target to the next budget check.
   */
  Budget: 3,
} as const;

/** Names of the {@linkcode BlockExit} reasons, by index. */
export const BLOCK_EXIT_NAMES: readonly string[] = ["end", "jump", "memory", "budget"];

/** Why the TLBs dropped entries (the index in `HartStats.tlbFlushesBy`). */
export const TlbFlushCause = {
  /** `sfence.vma` with rs1 = x0: everything. */
  Sfence: 0,
  /** `sfence.vma` with an address, or a ranged remote sfence: that page's entries. */
  SfencePage: 1,
  /** A satp write: everything. */
  Satp: 2,
  /**
   * A change of translation context (privilege, mstatus MPRV/MPP/SUM/MXR) that left entries
   * the new context may not use: those entries.
   */
  Context: 3,
  /** A remote sfence.vma of the whole address space (`Hart.flushTlb`). */
  Remote: 4,
  /** Reset, restore, memory reloaded (`flushCaches`): everything. */
  Host: 5,
} as const;

/** Names of the {@linkcode TlbFlushCause} values, by index. */
export const TLB_FLUSH_CAUSE_NAMES: readonly string[] = [
  "sfence",
  "sfence-page",
  "satp",
  "context",
  "remote",
  "host",
];

/** Counters of one hart (plain numbers; see {@linkcode HartStats.snapshot}). */
export class HartStats {
  /** Blocks compiled for this hart (a source shared with another block is not parsed again). */
  compilations = 0;
  /** Of {@linkcode HartStats.compilations}, the regions translated into WebAssembly. */
  wasmCompilations = 0;
  /** Compiled-block returns to the interpreter by {@linkcode BlockExit} reason. */
  readonly blockExits: Float64Array = new Float64Array(4);
  /**
   * Units entered directly from another unit through the jump cache (wasm/hart_area.ts), not
   * counted in {@linkcode HartStats.blockExits}.
   */
  chainedCalls = 0;
  /** fence.i executed (and remote fence.i received). */
  fenceI = 0;
  /** fence.i that had to drop the decoded code (the host wrote RAM since it was decoded). */
  fenceIFlushes = 0;
  /** Whole-cache drops of the decoded code (reset, restore, memory reloaded, fence.i above). */
  codeFlushes = 0;
  /** Whole software-TLB flushes (sfence.vma x0, satp writes, remote sfence, resets). */
  tlbFlushes = 0;
  /**
   * TLB flushes and partial drops by {@linkcode TlbFlushCause} (a partial drop removes only the
   * entries of one page, or those a new translation context may not use).
   */
  readonly tlbFlushesBy: Float64Array = new Float64Array(TLB_FLUSH_CAUSE_NAMES.length);
  /** Sv39 page walks (TLB refills and faulting translations). */
  pageWalks = 0;
  /** Exceptions taken, by cause (0..15). */
  readonly exceptions: Float64Array = new Float64Array(16);
  /** Interrupts taken, by cause (0..15). */
  readonly interrupts: Float64Array = new Float64Array(16);

  /** The counters as plain JSON data; `instret`/`blockInstructions` come from the hart. */
  snapshot(instret: number, blockInstructions: number): HartStatsRecord {
    const byCause = (a: Float64Array) => {
      const out: Record<string, number> = {};
      a.forEach((n, i) => n > 0 && (out[i] = n));
      return out;
    };
    const exits: Record<string, number> = {};
    BLOCK_EXIT_NAMES.forEach((name, i) => (exits[name] = this.blockExits[i]));
    const flushCauses: Record<string, number> = {};
    TLB_FLUSH_CAUSE_NAMES.forEach((name, i) => (flushCauses[name] = this.tlbFlushesBy[i]));
    return {
      instret,
      blockInstructions,
      interpretedInstructions: Math.max(0, instret - blockInstructions),
      compilations: this.compilations,
      wasmCompilations: this.wasmCompilations,
      blockExits: exits,
      chainedCalls: this.chainedCalls,
      fenceI: this.fenceI,
      fenceIFlushes: this.fenceIFlushes,
      codeFlushes: this.codeFlushes,
      tlbFlushes: this.tlbFlushes,
      tlbFlushCauses: flushCauses,
      pageWalks: this.pageWalks,
      exceptions: byCause(this.exceptions),
      interrupts: byCause(this.interrupts),
    };
  }
}

/** A hart's statistics as plain data (see {@linkcode HartStats}). */
export interface HartStatsRecord {
  /** Instructions retired. */
  instret: number;
  /** Instructions executed inside compiled blocks. */
  blockInstructions: number;
  /** Instructions the interpreter executed (instret minus blockInstructions). */
  interpretedInstructions: number;
  /** Blocks compiled. */
  compilations: number;
  /** Of those, regions translated into WebAssembly. */
  wasmCompilations: number;
  /** Compiled-block returns by reason name. */
  blockExits: Record<string, number>;
  /** Units entered directly from another unit (no return to the run loop). */
  chainedCalls: number;
  /** fence.i executed. */
  fenceI: number;
  /** fence.i that dropped the decoded code. */
  fenceIFlushes: number;
  /** Whole-cache drops of decoded code. */
  codeFlushes: number;
  /** Whole software-TLB flushes. */
  tlbFlushes: number;
  /** TLB flushes and partial drops by cause name (see {@linkcode TlbFlushCause}). */
  tlbFlushCauses: Record<string, number>;
  /** Sv39 page walks. */
  pageWalks: number;
  /** Exceptions by cause number. */
  exceptions: Record<string, number>;
  /** Interrupts by cause number. */
  interrupts: Record<string, number>;
}

/** Counters shared by every hart of the process (the code caches are shared). */
export const codeCacheStats: {
  /** Block sources parsed into functions (`new Function`). */
  sourcesParsed: number;
  /** Block compilations that reused an already parsed source. */
  sourcesShared: number;
  /** Decoded pages whose compiled blocks a store into them dropped (self-modifying code). */
  storeInvalidations: number;
} = { sourcesParsed: 0, sourcesShared: 0, storeInvalidations: 0 };
