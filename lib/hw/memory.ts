/**
 * Sparse physical memory: RAM that costs host memory only where it has been written.
 *
 * Memory is split into 4 KiB pages. A page is allocated the first time a byte in it is written;
 * untouched pages read as zero. Configuring gigabytes of guest RAM therefore costs only a small
 * page directory until the guest touches it.
 *
 * Every page is one `ArrayBuffer` viewed through a little-endian `DataView`. CPU emulators use
 * {@linkcode SparseMemory.page} and {@linkcode SparseMemory.pageForWrite} to cache page views in
 * their TLBs and reach aligned and unaligned accesses without further lookups.
 *
 * @module
 */

/** Size of one memory page in bytes. */
export const PAGE_SIZE = 4096;
/** log2 of {@linkcode PAGE_SIZE}. */
export const PAGE_SHIFT = 12;

/** Pages per second-level directory chunk (2 MiB of memory per chunk). */
const CHUNK_PAGES = 512;
const CHUNK_SHIFT = 9;

const hex = (n: number): string => `0x${n.toString(16)}`;

/** Raised when an access or an argument falls outside a {@linkcode SparseMemory}. */
export class MemoryRangeError extends RangeError {
  /** Machine-readable error code. */
  readonly code = "MEMORY_RANGE";
  /** Creates the error with a message naming the offending offset, length and memory size. */
  constructor(message: string) {
    super(message);
    this.name = "MemoryRangeError";
  }
}

/** RAM that costs host memory only where written (4 KiB pages allocated on first write). */
export class SparseMemory {
  /** Size of the memory in bytes (a multiple of 4096). */
  readonly size: number;
  /**
   * Incremented whenever pages are dropped ({@linkcode SparseMemory.clear}). Caches of page views
   * (TLBs) compare it to know that their views are stale.
   */
  generation = 0;
  /**
   * Incremented by every write through this object's methods (loaders, devices, the host): harts
   * write their pages directly and track stores into code themselves; `fence.i` compares this
   * count to know whether someone else may have written code behind their back.
   */
  hostWrites = 0;
  #dir: (DataView | undefined)[][] = [];
  #pageCount: number;
  #resident = 0;

  /**
   * Creates a memory of `size` bytes, all zero.
   *
   * @param size bytes, a positive multiple of 4096 below 2^53
   * @throws {MemoryRangeError} when `size` is not a positive multiple of 4096
   */
  constructor(size: number) {
    if (!Number.isSafeInteger(size) || size <= 0 || size % PAGE_SIZE !== 0) {
      throw new MemoryRangeError(
        `SparseMemory size ${size} is invalid: it must be a positive multiple of ${PAGE_SIZE}`,
      );
    }
    this.size = size;
    this.#pageCount = size / PAGE_SIZE;
  }

  /** Number of pages in this memory. */
  get pageCount(): number {
    return this.#pageCount;
  }

  /**
   * The page view of page `index` (offset `index * 4096`), or `undefined` when the page has never
   * been written (it reads as zero). The view is little-endian by convention: pass `true` as the
   * `littleEndian` argument of every `DataView` accessor.
   */
  page(index: number): DataView | undefined {
    const chunk = this.#dir[index >>> CHUNK_SHIFT];
    return chunk === undefined ? undefined : chunk[index & (CHUNK_PAGES - 1)];
  }

  /** The page view of page `index`, allocating the page (zero-filled) if it does not exist yet. */
  pageForWrite(index: number): DataView {
    if (index < 0 || index >= this.#pageCount || !Number.isInteger(index)) {
      throw new MemoryRangeError(
        `page ${index} is outside this ${hex(this.size)}-byte memory (${this.#pageCount} pages)`,
      );
    }
    let chunk = this.#dir[index >>> CHUNK_SHIFT];
    if (chunk === undefined) {
      chunk = this.#dir[index >>> CHUNK_SHIFT] = new Array<DataView | undefined>(CHUNK_PAGES);
    }
    let page = chunk[index & (CHUNK_PAGES - 1)];
    if (page === undefined) {
      page = chunk[index & (CHUNK_PAGES - 1)] = new DataView(new ArrayBuffer(PAGE_SIZE));
      this.#resident++;
    }
    return page;
  }

  /** Host bytes allocated for pages. */
  residentBytes(): number {
    return this.#resident * PAGE_SIZE;
  }

  /** Indexes of the pages that have been allocated, in ascending order. */
  residentPages(): number[] {
    const out: number[] = [];
    for (let c = 0; c < this.#dir.length; c++) {
      const chunk = this.#dir[c];
      if (chunk === undefined) continue;
      for (let i = 0; i < CHUNK_PAGES; i++) {
        if (chunk[i] !== undefined) out.push(c * CHUNK_PAGES + i);
      }
    }
    return out;
  }

  /** Drops every page: the whole memory reads as zero again and costs nothing. */
  clear(): void {
    this.#dir = [];
    this.#resident = 0;
    this.generation++;
  }

  #check(offset: number, length: number): void {
    if (
      !(offset >= 0 && length >= 0 && offset + length <= this.size) || !Number.isInteger(offset) ||
      !Number.isInteger(length)
    ) {
      throw new MemoryRangeError(
        `access of ${length} byte(s) at offset ${
          Number.isFinite(offset) ? hex(offset) : String(offset)
        } is outside this ${hex(this.size)}-byte memory`,
      );
    }
  }

  /** Reads the unsigned byte at `offset`. */
  read8(offset: number): number {
    this.#check(offset, 1);
    return this.#read(offset, 1);
  }

  #page(offset: number): DataView | undefined {
    return this.page(Math.floor(offset / PAGE_SIZE));
  }

  #read(offset: number, width: 1 | 2 | 4): number {
    const within = offset & 4095;
    if (within + width <= PAGE_SIZE) {
      const p = this.#page(offset);
      if (p === undefined) return 0;
      return width === 4
        ? p.getUint32(within, true)
        : width === 2
        ? p.getUint16(within, true)
        : p.getUint8(within);
    }
    let v = 0;
    for (let i = width - 1; i >= 0; i--) {
      const o = offset + i;
      v = v * 256 + (this.#page(o)?.getUint8(o & 4095) ?? 0);
    }
    return v;
  }

  #write(offset: number, width: 1 | 2 | 4, value: number): void {
    this.hostWrites++;
    const within = offset & 4095;
    if (within + width <= PAGE_SIZE) {
      const p = this.pageForWrite(Math.floor(offset / PAGE_SIZE));
      if (width === 4) p.setUint32(within, value >>> 0, true);
      else if (width === 2) p.setUint16(within, value & 0xffff, true);
      else p.setUint8(within, value & 0xff);
      return;
    }
    for (let i = 0; i < width; i++) {
      const o = offset + i;
      this.pageForWrite(Math.floor(o / PAGE_SIZE)).setUint8(o & 4095, (value >>> (8 * i)) & 0xff);
    }
  }

  /** Reads the unsigned 16-bit little-endian value at `offset` (any alignment). */
  read16(offset: number): number {
    this.#check(offset, 2);
    return this.#read(offset, 2);
  }

  /** Reads the unsigned 32-bit little-endian value at `offset` (any alignment). */
  read32(offset: number): number {
    this.#check(offset, 4);
    return this.#read(offset, 4);
  }

  /** Reads the unsigned 64-bit little-endian value at `offset` (any alignment). */
  read64(offset: number): bigint {
    this.#check(offset, 8);
    const lo = this.#read(offset, 4);
    const hi = this.#read(offset + 4, 4);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** Writes the low 8 bits of `value` at `offset`. */
  write8(offset: number, value: number): void {
    this.#check(offset, 1);
    this.#write(offset, 1, value);
  }

  /** Writes the low 16 bits of `value` little-endian at `offset` (any alignment). */
  write16(offset: number, value: number): void {
    this.#check(offset, 2);
    this.#write(offset, 2, value);
  }

  /** Writes the low 32 bits of `value` little-endian at `offset` (any alignment). */
  write32(offset: number, value: number): void {
    this.#check(offset, 4);
    this.#write(offset, 4, value);
  }

  /** Writes the low 64 bits of `value` (two's complement for negatives) at `offset`. */
  write64(offset: number, value: bigint): void {
    this.#check(offset, 8);
    const v = BigInt.asUintN(64, value);
    this.#write(offset, 4, Number(v & 0xffffffffn));
    this.#write(offset + 4, 4, Number(v >> 32n));
  }

  /** Copies `length` bytes starting at `offset` into a new array (untouched pages give zeros). */
  readBytes(offset: number, length: number): Uint8Array {
    this.#check(offset, length);
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const o = offset + done;
      const within = o & 4095;
      const n = Math.min(PAGE_SIZE - within, length - done);
      const p = this.#page(o);
      if (p !== undefined) {
        out.set(new Uint8Array(p.buffer, within, n), done);
      }
      done += n;
    }
    return out;
  }

  /** Copies `data` into memory starting at `offset`. */
  writeBytes(offset: number, data: Uint8Array): void {
    this.#check(offset, data.length);
    this.hostWrites++;
    let done = 0;
    while (done < data.length) {
      const o = offset + done;
      const within = o & 4095;
      const n = Math.min(PAGE_SIZE - within, data.length - done);
      const p = this.pageForWrite(Math.floor(o / PAGE_SIZE));
      new Uint8Array(p.buffer, within, n).set(data.subarray(done, done + n));
      done += n;
    }
  }

  /**
   * Sets `length` bytes starting at `offset` to `byte`. Filling untouched pages with zero
   * allocates nothing.
   */
  fill(offset: number, length: number, byte: number): void {
    this.#check(offset, length);
    this.hostWrites++;
    const b = byte & 0xff;
    let done = 0;
    while (done < length) {
      const o = offset + done;
      const within = o & 4095;
      const n = Math.min(PAGE_SIZE - within, length - done);
      const index = Math.floor(o / PAGE_SIZE);
      if (b === 0 && this.page(index) === undefined) {
        done += n;
        continue;
      }
      new Uint8Array(this.pageForWrite(index).buffer, within, n).fill(b);
      done += n;
    }
  }
}
