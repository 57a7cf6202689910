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
 * | {@linkcode AREA_CHAIN_GEN}     | 4        | jump cache generation (i32)                      |
 * | {@linkcode AREA_CHAINS}        | 4        | units entered from another unit (i32 counter)    |
 * | {@linkcode AREA_LOAD_TLB}      | 256 × 16 | load TLB for wasm: page (i64, -1 empty), delta   |
 * | {@linkcode AREA_STORE_TLB}     | 256 × 16 | store TLB for wasm (pages without decoded code)  |
 * | {@linkcode AREA_JUMP_TAG}      | 512 × 8  | jump cache: pc of the entry (f64)                |
 * | {@linkcode AREA_JUMP_UNIT}     | 512 × 4  | jump cache: the unit's index in the hart's table |
 * | {@linkcode AREA_JUMP_GEN}      | 512 × 4  | jump cache: generation the entry was made in     |
 *
 * The register halves are the hart's `xl`/`xh` (views onto the area), so the interpreter, the
 * JavaScript tier and the wasm tier see one register file. The wasm TLBs mirror soft_tlb.ts's
 * load and store TLBs, which keep them in step ({@linkcode WasmTlb}), in the form QEMU's
 * generated code reads its TLB: an entry holds the virtual page as a 64-bit integer and a
 * *delta* such that the access's byte offset in the memory is the low 32 bits of the virtual
 * address plus the delta (wrapping), so a hit costs one integer compare and one add. An entry is
 * empty (-1, which no page address equals) whenever the JavaScript entry is, and also when its
 * page is not in the pool memory (a fallback `ArrayBuffer` page): the wasm code then exits to
 * the slow path although the JavaScript TLB hits. Pages are exact below 2^53 in magnitude, as
 * the hart keeps addresses; no entry is filled for a larger address.
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
/** Offset of the wasm load TLB (256 entries of {@linkcode AREA_TLB_ENTRY_BYTES}). */
export const AREA_LOAD_TLB = 1024;
/** Offset of the wasm store TLB. */
export const AREA_STORE_TLB = 5120;
/** Bytes of a wasm TLB entry: the page (i64) at 0, the delta (i32) at {@linkcode AREA_TLB_DELTA}. */
export const AREA_TLB_ENTRY_BYTES = 16;
/** Offset of an entry's delta in it. */
export const AREA_TLB_DELTA = 8;
/** Entries of the jump cache (a power of two). */
export const AREA_JUMP_ENTRIES = 512;
/**
 * The jump cache entry of `pc` is `((p >>> 1) ^ (p >>> JUMP_HASH_SHIFT)) & 511` with `p` the low
 * 32 bits of pc (functions at the same offset in different pages go to different entries).
 */
export const JUMP_HASH_SHIFT = 10;
/** Offset of the jump cache's pcs (f64). */
export const AREA_JUMP_TAG = 9216;
/** Offset of the jump cache's unit indices (i32). */
export const AREA_JUMP_UNIT = 13312;
/** Offset of the jump cache's generations (i32). */
export const AREA_JUMP_GEN = 15360;
/** Bytes of one area (five frames). */
export const HART_AREA_BYTES = 20480;
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
  /** The wasm load TLB. */
  readonly loadTlb: WasmTlb;
  /** The wasm store TLB. */
  readonly storeTlb: WasmTlb;
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
    const entries = 4 * AREA_TLB_ENTRIES;
    this.loadTlb = new WasmTlb(new Int32Array(buffer, offset + AREA_LOAD_TLB, entries));
    this.storeTlb = new WasmTlb(new Int32Array(buffer, offset + AREA_STORE_TLB, entries));
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

/**
 * One wasm TLB of an area (see the module documentation): 256 entries of four int32s (page low
 * and high halves, delta, unused). soft_tlb.ts keeps it in step with its own entries.
 */
export class WasmTlb {
  /** The entries, four int32s each. */
  readonly entries: Int32Array;

  /** Views the entries, emptying them unless `keep`. */
  constructor(entries: Int32Array, keep = false) {
    this.entries = entries;
    if (!keep) this.flush();
  }

  /**
   * Entry `i` maps the virtual page `page` (a multiple of 4096, exact below 2^53 in magnitude)
   * to the frame at byte offset `frame` of the memory; a frame of 0 (none) empties it.
   */
  set(i: number, page: number, frame: number): void {
    const e = this.entries;
    if (frame === 0) {
      e[4 * i] = e[4 * i + 1] = -1;
      return;
    }
    const lo = page | 0;
    e[4 * i] = lo;
    e[4 * i + 1] = Math.floor(page / 4294967296) | 0;
    e[4 * i + 2] = (frame - lo) | 0;
  }

  /** Empties entry `i`. */
  drop(i: number): void {
    this.entries[4 * i] = this.entries[4 * i + 1] = -1;
  }

  /** Empties every entry. */
  flush(): void {
    this.entries.fill(-1);
  }
}

/** Gives areas back to the pool when their hart is collected. */
const areaRegistry = new FinalizationRegistry<{ pool: FramePool; offset: number }>(
  ({ pool, offset }) => pool.freeArea(offset),
);

/** Frees `area` (when it is the pool's) once `owner` is garbage, unless {@linkcode releaseNow} did. */
export function releaseWith(owner: object, area: HartArea): void {
  if (area.pool !== null) {
    areaRegistry.register(owner, { pool: area.pool, offset: area.offset }, owner);
  }
}

/**
 * Frees `area` (registered with {@linkcode releaseWith} for `owner`) now. Frames freed by a
 * finalizer come back only after a collection, and fresh frames cost a page fault each on first
 * touch (about 10 µs on a sandboxed host): a loop that creates and deletes VMs ran 2.5x slower
 * when their areas waited for the collector. Nothing may use the area's views afterwards.
 */
export function releaseNow(owner: object, area: HartArea): void {
  if (area.pool !== null && areaRegistry.unregister(owner)) area.pool.freeArea(area.offset);
}
