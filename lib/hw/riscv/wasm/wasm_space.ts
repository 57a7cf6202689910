/**
 * The linear memory that translated WebAssembly code (`wasm_block.ts`) runs against, and its
 * layout: the integer register file, the exit record, the load and store software TLBs, and a
 * flat guest RAM, all in one `WebAssembly.Memory`:
 *
 * | offset                 | size        | content                                        |
 * | ---------------------- | ----------- | ---------------------------------------------- |
 * | {@linkcode REGS}       | 32 × 8      | x0..x31, little-endian i64 (x0 stays 0)        |
 * | {@linkcode EXIT}       | 16          | next pc (i64), done (i32), reason (i32)        |
 * | {@linkcode LOAD_TLB}   | 256 × 16    | per entry: page tag (i64, -1 empty), delta (i32) |
 * | {@linkcode STORE_TLB}  | 256 × 16    | the same, writable non-code pages only         |
 * | {@linkcode RAM_OFFSET} | RAM size    | guest RAM, flat                                |
 *
 * A TLB entry is indexed by bits 12..19 of the virtual address. Its tag is the virtual page
 * address; its delta is `(linear address of the page - virtual page address) mod 2^32`, so the
 * linear address of an access is `wrap32(va) + delta` (one i32 add). The translated code compares
 * the tag with `va & (-4096 | (width - 1))`: an access that is misaligned (and so may cross a page)
 * never matches and leaves to the slow path, as a miss does.
 *
 * The exit record's reason is a `BlockExit` of hart_stats.ts (end, jump, memory, budget).
 *
 * The offsets of the table are those of hart 0's *area*; hart `i`'s area starts at
 * `i * HART_AREA_BYTES` (the `base` a region function takes), up to {@linkcode MAX_HARTS} areas
 * below the RAM.
 *
 * @module
 */

/** Offset of the register file (x0..x31, i64 each). */
export const REGS = 0;
/** Offset of the exit record. */
export const EXIT = 256;
/** Offset of the exit record's next pc (i64). */
export const EXIT_PC: number = EXIT;
/** Offset of the exit record's count of instructions done (i32). */
export const EXIT_DONE: number = EXIT + 8;
/** Offset of the exit record's reason (i32, a `BlockExit`). */
export const EXIT_REASON: number = EXIT + 12;
/** Number of entries of each TLB. */
export const TLB_ENTRIES = 256;
/** Bytes per TLB entry. */
export const TLB_ENTRY_BYTES = 16;
/** Offset of the load TLB. */
export const LOAD_TLB = 1024;
/** Offset of the store TLB. */
export const STORE_TLB: number = LOAD_TLB + TLB_ENTRIES * TLB_ENTRY_BYTES;
/** Bytes of one hart's area (registers, exit record, TLBs). */
export const HART_AREA_BYTES = 0x2400;
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
    return this.view.getBigInt64(this.base + REGS + 8 * i, true);
  }

  /** Sets register `i` (wrapped to 64 bits); x0 stays 0. */
  setX(i: number, value: bigint): void {
    if (i !== 0) this.view.setBigInt64(this.base + REGS + 8 * i, BigInt.asIntN(64, value), true);
  }

  /** Low 32 bits of register `i`, as an int32. */
  xLow(i: number): number {
    return this.i32[((this.base + REGS) >> 2) + 2 * i];
  }

  /** The exit record's next pc, as the hart keeps pc (high half signed: exact below 2^53). */
  get exitPc(): number {
    const w = (this.base + EXIT_PC) >> 2;
    return this.i32[w + 1] * 4294967296 + (this.i32[w] >>> 0);
  }

  /** The exit record's count of instructions done. */
  get exitDone(): number {
    return this.i32[(this.base + EXIT_DONE) >> 2];
  }

  /** The exit record's reason (a `BlockExit`). */
  get exitReason(): number {
    return this.i32[(this.base + EXIT_REASON) >> 2];
  }

  /** Linear address of guest physical `pa`, or -1 outside RAM. */
  linear(pa: number): number {
    const o = pa - this.ramBase;
    return o >= 0 && o < this.ramBytes ? RAM_OFFSET + o : -1;
  }

  /** Maps the virtual page of `va` to the linear page at `linearPage` in the `kind` TLB. */
  fillTlb(kind: TlbKind, va: number, linearPage: number): void {
    const page = va - (va % 4096);
    const e = this.tlbEntry(kind, page);
    this.view.setBigInt64(e, BigInt(page), true);
    this.i32[(e + 8) >> 2] = (linearPage - page) | 0;
  }

  /** Empties the entry of `va`'s page in the `kind` TLB (when it maps that page). */
  dropTlb(kind: TlbKind, va: number): void {
    const page = va - (va % 4096);
    const e = this.tlbEntry(kind, page);
    if (this.view.getBigInt64(e, true) === BigInt(page)) this.view.setBigInt64(e, -1n, true);
  }

  /** Empties both TLBs. */
  flushTlbs(): void {
    for (let i = 0; i < TLB_ENTRIES; i++) {
      this.view.setBigInt64(this.base + LOAD_TLB + i * 16, -1n, true);
      this.view.setBigInt64(this.base + STORE_TLB + i * 16, -1n, true);
    }
  }

  /** Memory offset of the `kind` TLB entry of the page at `page`. */
  private tlbEntry(kind: TlbKind, page: number): number {
    return this.base + (kind === "load" ? LOAD_TLB : STORE_TLB) +
      ((page / 4096) % TLB_ENTRIES) * TLB_ENTRY_BYTES;
  }
}
