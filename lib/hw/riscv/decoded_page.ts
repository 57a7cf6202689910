/**
 * Decoded code pages: the per-physical-page cache of decoded instructions and compiled blocks,
 * and the store path that keeps it coherent with self-modifying code.
 *
 * @module
 */

import type { BlockFn } from "./jit.ts";

/** Shared empty block table of pages that have no compiled block yet. */
export const NO_BLOCKS: (BlockFn | null)[] = new Array<BlockFn | null>(2048).fill(null);
const NO_BLOCK_BYTES = new Uint8Array(2048);
const NO_BLOCK_LENGTHS = new Uint16Array(2048);
const NO_UNIT_INDICES = new Int32Array(2048).fill(-1);

/** Decoded instructions of one physical code page (2048 halfword slots). */
export class DecodedPage {
  /** Packed decoded words by halfword slot (0 = not decoded yet). */
  readonly ops: Int32Array = new Int32Array(2048);
  /** Immediates by halfword slot. */
  readonly imms: Int32Array = new Int32Array(2048);
  /**
   * Compiled blocks by the slot they start at (second tier). Shared empty tables until the
   * first block of the page is compiled, so that cold code pages stay small.
   */
  blocks: (BlockFn | null)[] = NO_BLOCKS;
  /**
   * Budget each compiled unit needs to be called: the longest run of instructions from its
   * entry before it checks the budget itself (region.ts).
   */
  blockLengths: Uint16Array = NO_BLOCK_LENGTHS;
  /**
   * Per slot where a wasm unit starts, its index in the hart's function table (wasm_tier.ts),
   * which the run loop puts in the jump cache; else -1.
   */
  unitIndex: Int32Array = NO_UNIT_INDICES;
  /** 1 for every slot that some compiled unit (region) covers. */
  covered: Uint8Array = NO_BLOCK_BYTES;
  /**
   * Execution counts of interpreted instructions, to find hot ones (32-bit: the compile
   * threshold may exceed 65535).
   */
  readonly heat: Int32Array = new Int32Array(2048);
  /** Number of compiled blocks on the page. */
  blockCount = 0;
  /** Creates the decoded form of the RAM page viewed by `view`. */
  constructor(
    /** The RAM page view (repointed when copy-on-write gives the page a private copy). */
    public view: DataView,
  ) {}
}

/** A placeholder view for empty TLB entries. */
export const dummyView = new DataView(new ArrayBuffer(8));

/** A placeholder page for empty TLB entries. */
export const dummyPage = new DecodedPage(dummyView);
