/**
 * The linear memory that translated WebAssembly code (`wasm_block.ts`) runs against, and its
 * layout: the integer register file, the exit record, the load and store software TLBs, and a
 * flat guest RAM, all in one `WebAssembly.Memory`:
 *
 * - below {@linkcode RAM_OFFSET}: hart areas, each laid out as hart_area.ts says (register
 *   halves, exit record, load and store TLBs with 64-bit page tags and deltas);
 * - from {@linkcode RAM_OFFSET}: guest RAM, flat.
 *
 * A TLB entry is indexed by bits 12..19 of the virtual address. Its tag is the virtual page
 * address; its delta the linear address of the page less the tag's low word, so the linear
 * address of an access is `low word of va + delta`. The translated code compares the tag with
 * the page of the access's last byte: an access across pages never matches and leaves to the
 * slow path, as a miss does. In a hart the same layout lives in the frame pool (hart_area.ts).
 *
 * The exit record's reason is a `BlockExit` of hart_stats.ts (end, jump, memory, budget).
 *
 * The offsets of the table are those of hart 0's *area*; hart `i`'s area starts at
 * `i * HART_AREA_BYTES` (the `base` a region function takes), up to {@linkcode MAX_HARTS} areas
 * below the RAM.
 *
 * @module
 */

import {
  AREA_EXIT_DONE,
  AREA_EXIT_PC,
  AREA_EXIT_REASON,
  AREA_LOAD_TLB,
  AREA_STORE_TLB,
  AREA_TLB_ENTRIES,
  AREA_XH,
  AREA_XL,
  HART_AREA_BYTES,
  WasmTlb,
} from "./hart_area.ts";

/** Number of entries of each TLB. */
export const TLB_ENTRIES = AREA_TLB_ENTRIES;
export { HART_AREA_BYTES };
/** Offset of guest RAM (1 MiB: the hart areas lie below; untouched pages cost nothing). */
export const RAM_OFFSET = 0x100000;
/** Most harts one space holds. */
export const MAX_HARTS: number = Math.floor(RAM_OFFSET / HART_AREA_BYTES);
/** Bytes of a wasm memory page. */
export const WASM_PAGE = 0x10000;

/** Which TLB an entry goes into. */
export type TlbKind = "load" | "store";

/**
 * One guest's linear memory: the harts' areas (registers, exit record, TLBs) and a flat RAM of
 * `ramBytes` bytes mapped at guest physical `ramBase`, with typed views onto each part. The
 * register, exit and TLB accessors work on the area of {@linkcode WasmSpace.base} (hart 0 for
 * a new space; {@linkcode WasmSpace.forHart} gives another hart's view).
 */
export class WasmSpace {
  /** Offset of this view's hart area (the `base` to pass to region functions). */
  readonly base: number = 0;
  /** The memory that translated modules import as `env.mem`. */
  readonly memory: WebAssembly.Memory;
  /** Guest physical address of the first RAM byte. */
  readonly ramBase: number;
  /** RAM size in bytes. */
  readonly ramBytes: number;
  /** Whole-memory views (valid as long as the memory does not grow). */
  readonly i32: Int32Array;
  /** Byte view of the whole memory. */
  readonly u8: Uint8Array;
  /** DataView of the whole memory. */
  readonly view: DataView;

  /** Creates the memory for a RAM of `ramBytes` (a multiple of 4096) at `ramBase`. */
  constructor(ramBase: number, ramBytes: number) {
    this.ramBase = ramBase;
    this.ramBytes = ramBytes;
    const pages = Math.ceil((RAM_OFFSET + ramBytes) / WASM_PAGE);
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    this.i32 = new Int32Array(this.memory.buffer);
    this.u8 = new Uint8Array(this.memory.buffer);
    this.view = new DataView(this.memory.buffer);
    this.flushTlbs();
  }

  /** The same space seen from hart `hart`'s area (its TLBs are emptied on first use). */
  forHart(hart: number): WasmSpace {
    if (!Number.isInteger(hart) || hart < 0 || hart >= MAX_HARTS) {
      throw new RangeError(`wasm_space: hart ${hart} is not in 0..${MAX_HARTS - 1}`);
    }
    const view = Object.assign(Object.create(WasmSpace.prototype), this, {
      base: hart * HART_AREA_BYTES,
    }) as WasmSpace;
    if (hart !== 0 && !this.areas.has(hart)) {
      this.areas.add(hart);
      view.flushTlbs();
    }
    return view;
  }

  private readonly areas = new Set<number>();

  /** Minimum memory size (64 KiB pages) a module importing this memory must declare. */
  get pages(): number {
    return this.memory.buffer.byteLength / WASM_PAGE;
  }

  /** Register `i` as a signed bigint. */
  getX(i: number): bigint {
    const lo = this.i32[(this.base + AREA_XL >> 2) + i];
    const hi = this.i32[(this.base + AREA_XH >> 2) + i];
    return (BigInt(hi) << 32n) | BigInt(lo >>> 0);
  }

  /** Sets register `i` (wrapped to 64 bits); x0 stays 0. */
  setX(i: number, value: bigint): void {
    if (i === 0) return;
    const v = BigInt.asIntN(64, value);
    this.i32[(this.base + AREA_XL >> 2) + i] = Number(BigInt.asIntN(32, v));
    this.i32[(this.base + AREA_XH >> 2) + i] = Number(v >> 32n);
  }

  /** Low 32 bits of register `i`, as an int32. */
  xLow(i: number): number {
    return this.i32[((this.base + AREA_XL) >> 2) + i];
  }

  /** The exit record's next pc, as the hart keeps pc (high half signed: exact below 2^53). */
  get exitPc(): number {
    const w = (this.base + AREA_EXIT_PC) >> 2;
    return this.i32[w + 1] * 4294967296 + (this.i32[w] >>> 0);
  }

  /** The exit record's count of instructions done. */
  get exitDone(): number {
    return this.i32[(this.base + AREA_EXIT_DONE) >> 2];
  }

  /** The exit record's reason (a `BlockExit`). */
  get exitReason(): number {
    return this.i32[(this.base + AREA_EXIT_REASON) >> 2];
  }

  /** Linear address of guest physical `pa`, or -1 outside RAM. */
  linear(pa: number): number {
    const o = pa - this.ramBase;
    return o >= 0 && o < this.ramBytes ? RAM_OFFSET + o : -1;
  }

  /** Maps the virtual page of `va` to the linear page at `linearPage` in the `kind` TLB. */
  fillTlb(kind: TlbKind, va: number, linearPage: number): void {
    const page = va - (va % 4096);
    this.tlb(kind).set(this.tlbIndex(page), page, linearPage);
  }

  /** Empties the entry of `va`'s page in the `kind` TLB (when it maps that page). */
  dropTlb(kind: TlbKind, va: number): void {
    const page = va - (va % 4096);
    const i = this.tlbIndex(page);
    const e = this.tlb(kind).entries;
    if (e[4 * i] === (page | 0) && e[4 * i + 1] === (Math.floor(page / 4294967296) | 0)) {
      this.tlb(kind).drop(i);
    }
  }

  /** Empties both TLBs. */
  flushTlbs(): void {
    this.tlb("load").flush();
    this.tlb("store").flush();
  }

  /** This view's hart's `kind` TLB. */
  private tlb(kind: TlbKind): WasmTlb {
    const offset = this.base + (kind === "load" ? AREA_LOAD_TLB : AREA_STORE_TLB);
    return new WasmTlb(new Int32Array(this.memory.buffer, offset, 4 * TLB_ENTRIES), true);
  }

  private tlbIndex(page: number): number {
    return ((page / 4096) % TLB_ENTRIES + TLB_ENTRIES) % TLB_ENTRIES;
  }
}
