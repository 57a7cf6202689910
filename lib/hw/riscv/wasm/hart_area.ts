/**
 * A hart's *area*: the state that translated WebAssembly code (wasm_block.ts) reads and writes,
 * at a fixed layout inside one memory, so that the interpreter and the wasm tier share it
 * without copying:
 *
 * | offset                         | size     | content                                          |
 * | ------------------------------ | -------- | ------------------------------------------------ |
 * | {@linkcode AREA_XL}            | 34 × 4   | low halves of x0..x31 (+ the x0 sink), int32     |
 * | {@linkcode AREA_XH}            | 34 × 4   | high halves, int32                               |
 * | {@linkcode AREA_EXIT_PC}       | 8        | exit record: next pc (i64)                       |
 * | {@linkcode AREA_EXIT_DONE}     | 4        | exit record: instructions done (i32)             |
 * | {@linkcode AREA_EXIT_REASON}   | 4        | exit record: a `BlockExit` (i32)                 |
 * | {@linkcode AREA_LOAD_TAG}      | 256 × 8  | load TLB tags (f64 virtual page, -1 empty)       |
 * | {@linkcode AREA_STORE_TAG}     | 256 × 8  | store TLB tags (pages without decoded code)      |
 * | {@linkcode AREA_LOAD_FRAME}    | 256 × 4  | load TLB: byte offset of the page in the memory  |
 * | {@linkcode AREA_STORE_FRAME}   | 256 × 4  | store TLB: the same (0: no wasm mapping)         |
 * | {@linkcode AREA_CHAIN_GEN}     | 4        | jump cache generation (i32)                      |
 * | {@linkcode AREA_CHAINS}        | 4        | units entered from another unit (i32 counter)    |
 * | {@linkcode AREA_JUMP_TAG}      | 512 × 8  | jump cache: pc of the entry (f64)                |
 * | {@linkcode AREA_JUMP_UNIT}     | 512 × 4  | jump cache: the unit's index in the hart's table |
 * | {@linkcode AREA_JUMP_GEN}      | 512 × 4  | jump cache: generation the entry was made in     |
 *
 * The register halves are the hart's `xl`/`xh` and the tags are soft_tlb.ts's `rTag`/`wTag`
 * (views onto the area), so the interpreter, the JavaScript tier and the wasm tier see one
 * state. A tag is the virtual page base as the hart keeps addresses (a double holding the signed
 * 64-bit value, exact below 2^53 in magnitude); wasm compares it with `f64(va & -4096)`, which is
 * exact for the same values, and no tag is ever filled for a larger address. A frame of 0 means
 * "not mapped for wasm" (a fallback `ArrayBuffer` page of the frame pool, whose frame 0 is never
 * a RAM page): the wasm code then exits to the slow path although the JavaScript TLB hits.
 *
 * The *jump cache* lets a unit that leaves to a pc where another unit starts call it directly
 * (a tail call through the hart's function table), as QEMU's `lookup_and_goto_ptr` does: the run
 * loop enters each unit it calls, by virtual pc, with the current generation; an entry is used
 * only while the generation is unchanged, and the hart bumps it whenever the pc -> unit mapping
 * or the right to fetch may have changed (privilege changes, satp writes, sfence.vma of the whole
 * space, fence.i that dropped code, code dropped by stores, reset, restore, remote fences, bus
 * or memory changes); sfence.vma of one address drops the entries of its gigapage only.
 *
 * In the hart the area comes from the process-wide frame pool (frame_pool.ts), whose shared
 * memory translated modules import; without a pool it is a plain buffer and the wasm tier is off.
 *
 * @module
 */

import { FRAME_SIZE, type FramePool, framePool } from "../../frame_pool.ts";

/** Offset of the low register halves (34 int32: x0..x31 and the x0 write sink). */
export const AREA_XL = 0;
/** Offset of the high register halves. */
export const AREA_XH = 256;
/** Offset of the exit record's next pc (i64). */
export const AREA_EXIT_PC = 512;
/** Offset of the exit record's instruction count (i32). */
export const AREA_EXIT_DONE = 520;
/** Offset of the exit record's reason (i32, a `BlockExit`). */
export const AREA_EXIT_REASON = 524;
/** Offset of the jump cache generation (i32). */
export const AREA_CHAIN_GEN = 528;
/** Offset of the count of units entered from another unit (i32, wraps). */
export const AREA_CHAINS = 532;
/** Offset of the load TLB tags (256 f64). */
export const AREA_LOAD_TAG = 1024;
/** Offset of the store TLB tags (256 f64). */
export const AREA_STORE_TAG = 3072;
/** Offset of the load TLB frames (256 i32). */
export const AREA_LOAD_FRAME = 5120;
/** Offset of the store TLB frames (256 i32). */
export const AREA_STORE_FRAME = 6144;
/** Entries of the jump cache (a power of two). */
export const AREA_JUMP_ENTRIES = 512;
/**
 * The jump cache entry of `pc` is `((p >>> 1) ^ (p >>> JUMP_HASH_SHIFT)) & 511` with `p` the low
 * 32 bits of pc (functions at the same offset in different pages go to different entries).
 */
export const JUMP_HASH_SHIFT = 10;
/** Offset of the jump cache's pcs (f64). */
export const AREA_JUMP_TAG = 8192;
/** Offset of the jump cache's unit indices (i32). */
export const AREA_JUMP_UNIT = 12288;
/** Offset of the jump cache's generations (i32). */
export const AREA_JUMP_GEN = 14336;
/** Bytes of one area (four frames). */
export const HART_AREA_BYTES = 16384;
/** Entries per TLB of an area. */
export const AREA_TLB_ENTRIES = 256;

/** Typed views onto one hart's area. */
export class HartArea {
  /** Byte offset of the area in its buffer (the `base` region functions take). */
  readonly offset: number;
  /** The pool the area lives in, or `null` for a private buffer (no wasm tier). */
  readonly pool: FramePool | null;
  /** Low register halves. */
  readonly xl: Int32Array;
  /** High register halves. */
  readonly xh: Int32Array;
  /** The exit record as int32: pc low, pc high, done, reason. */
  readonly exit: Int32Array;
  /**
   * The exit record's done and reason: the run loop's unit status (`st` of jit.ts), which
   * JavaScript units write too.
   */
  readonly status: Int32Array;
  /** Load TLB tags. */
  readonly rTag: Float64Array;
  /** Store TLB tags. */
  readonly wTag: Float64Array;
  /** Load TLB frames (byte offsets of the pages in the pool memory; 0: none). */
  readonly rFrame: Int32Array;
  /** Store TLB frames. */
  readonly wFrame: Int32Array;
  /** The jump cache generation and the chain counter. */
  readonly chain: Int32Array;
  /** Jump cache pcs. */
  readonly jumpTag: Float64Array;
  /** Jump cache unit indices. */
  readonly jumpUnit: Int32Array;
  /** Jump cache generations. */
  readonly jumpGen: Int32Array;

  /** Views the area at `offset` of `buffer` (`pool`'s when `pool` is given). */
  constructor(buffer: ArrayBufferLike, offset: number, pool: FramePool | null) {
    this.offset = offset;
    this.pool = pool;
    this.xl = new Int32Array(buffer, offset + AREA_XL, 34);
    this.xh = new Int32Array(buffer, offset + AREA_XH, 34);
    this.exit = new Int32Array(buffer, offset + AREA_EXIT_PC, 4);
    this.status = new Int32Array(buffer, offset + AREA_EXIT_DONE, 2);
    this.rTag = new Float64Array(buffer, offset + AREA_LOAD_TAG, AREA_TLB_ENTRIES).fill(-1);
    this.wTag = new Float64Array(buffer, offset + AREA_STORE_TAG, AREA_TLB_ENTRIES).fill(-1);
    this.rFrame = new Int32Array(buffer, offset + AREA_LOAD_FRAME, AREA_TLB_ENTRIES);
    this.wFrame = new Int32Array(buffer, offset + AREA_STORE_FRAME, AREA_TLB_ENTRIES);
    this.chain = new Int32Array(buffer, offset + AREA_CHAIN_GEN, 2);
    this.chain[0] = 1; // entries start at generation 0: none is valid
    this.jumpTag = new Float64Array(buffer, offset + AREA_JUMP_TAG, AREA_JUMP_ENTRIES);
    this.jumpUnit = new Int32Array(buffer, offset + AREA_JUMP_UNIT, AREA_JUMP_ENTRIES);
    this.jumpGen = new Int32Array(buffer, offset + AREA_JUMP_GEN, AREA_JUMP_ENTRIES);
  }

  /**
   * A new area: in the process-wide frame pool when there is one and it has room (`usePool`),
   * else in a private buffer.
   */
  static create(usePool = true): HartArea {
    const pool = usePool ? framePool() : null;
    const offset = pool === null ? -1 : pool.allocArea(HART_AREA_BYTES);
    if (pool === null || offset < 0) {
      return new HartArea(new ArrayBuffer(HART_AREA_BYTES), 0, null);
    }
    return new HartArea(pool.buffer, offset, pool);
  }

  /** The frame (byte offset in the pool memory) of a RAM page view, or 0 when wasm cannot reach it. */
  frameOf(view: DataView): number {
    if (this.pool === null || view.byteLength !== FRAME_SIZE) return 0;
    const offset = this.pool.frameOffset(view);
    return offset > 0 ? offset : 0;
  }

  /**
   * The exit record's next pc (exact below 2^53 in magnitude). Only `RegionFn`s write it; the
   * hart's units (`HartRegionFn`) return the next pc instead.
   */
  get exitPc(): number {
    return this.exit[1] * 4294967296 + (this.exit[0] >>> 0);
  }
}

/** Gives areas back to the pool when their hart is collected. */
const areaRegistry = new FinalizationRegistry<{ pool: FramePool; offset: number }>(
  ({ pool, offset }) => pool.freeArea(offset),
);

/** Frees `area` (when it is the pool's) once `owner` is garbage. */
export function releaseWith(owner: object, area: HartArea): void {
  if (area.pool !== null) areaRegistry.register(owner, { pool: area.pool, offset: area.offset });
}
