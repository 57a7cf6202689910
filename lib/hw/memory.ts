/**
 * Sparse physical memory: RAM that costs host memory only where it has been written.
 *
 * Memory is split into 4 KiB pages. A page is allocated the first time a byte in it is written;
 * untouched pages read as zero. Configuring gigabytes of guest RAM therefore costs only a small
 * page directory until the guest touches it.
 *
 * Every page is a 4 KiB frame of the process-wide {@linkcode framePool} (one shared
 * `WebAssembly.Memory`, so that WebAssembly code can reach guest RAM) viewed through a
 * little-endian `DataView` of 4096 bytes at the frame's offset: page views share one buffer, so
 * code reaching the bytes must add the view's `byteOffset`. When the pool cannot grow, a page is
 * a plain `ArrayBuffer` instead (byteOffset 0), which works everywhere but in the wasm tier.
 * CPU emulators use {@linkcode SparseMemory.page} and {@linkcode SparseMemory.pageForWrite} to
 * cache page views in their TLBs and reach aligned and unaligned accesses without further
 * lookups.
 *
 * Frames and stale views. A frame goes back to the pool exactly when no memory holds its view
 * any more: a page dropped ({@linkcode SparseMemory.setPage}, {@linkcode SparseMemory.clear},
 * {@linkcode SparseMemory.shareFrom} replacing the contents), the old view of a copy-on-write
 * copy once its other holders let go, or, for a memory that is garbage collected, through a
 * `FinalizationRegistry` whose held value is the memory's page directory (never the memory).
 * The frame may be handed out again at once, so an old view must never be used afterwards. The
 * invariant that keeps this: every page view is a new `DataView` object (never reused for
 * another page), and a view of a dropped page is only reachable from caches that are flushed
 * before their next use: `clear` and `shareFrom` bump {@linkcode SparseMemory.generation}, callers
 * of `setPage` bump it themselves (snapshot restore does), caches of a memory leave a bus with
 * it (the bus generation), and copy-on-write tells watchers (`pageReplaced`) before the old view
 * can lose its last holder.
 *
 * @module
 */

import { type FramePool, framePool, framePoolOf } from "./frame_pool.ts";

export { FramePool, type FramePoolOptions } from "./frame_pool.ts";

/** Size of one memory page in bytes. */
export const PAGE_SIZE = 4096;
/** log2 of {@linkcode PAGE_SIZE}. */
export const PAGE_SHIFT = 12;

/** Pages per second-level directory chunk (2 MiB of memory per chunk). */
const CHUNK_PAGES = 512;
const CHUNK_SHIFT = 9;

const hex = (n: number): string => `0x${n.toString(16)}`;

/**
 * How many memories hold each page view (absent: one). Views are shared between memories
 * copy-on-write; a page whose view has a single holder left is written in place even if it was
 * shared once, and its frame goes back to the pool when that holder lets go.
 */
const holders = new WeakMap<DataView, number>();

/** A memory lets go of `view`: the last holder gives its frame back to the pool. */
function release(view: DataView): void {
  const n = holders.get(view) ?? 1;
  if (n > 2) holders.set(view, n - 1);
  else if (n === 2) holders.delete(view);
  else {
    const pool = framePoolOf(view);
    if (pool !== undefined) pool.freeFrame(view.byteOffset);
  }
}

/** What a memory's finalizer needs: its page directory (the memory itself must stay collectable). */
interface Held {
  dir: (DataView | undefined)[][];
}

/** Gives back the pages of memories that were garbage collected. */
const finalizer = new FinalizationRegistry<Held>((held) => {
  for (const chunk of held.dir) {
    if (chunk === undefined) continue;
    for (const view of chunk) if (view !== undefined) release(view);
  }
});

/** Options of a {@linkcode SparseMemory}. */
export interface SparseMemoryOptions {
  /**
   * Where pages come from: default the process-wide {@linkcode framePool}; `null` for plain
   * `ArrayBuffer` pages (no wasm access).
   */
  pool?: FramePool | null;
}

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

/**
 * Told when copy-on-write replaced a page view of a {@linkcode SparseMemory} by a private copy
 * (same content), so that caches holding the old view (a hart's TLBs and decoded pages) can
 * point at the new one.
 */
export interface PageReplacementWatcher {
  /** Page view `old` was replaced by `now`, which holds the same bytes. */
  pageReplaced(old: DataView, now: DataView): void;
  /**
   * Pages of this memory became shared copy-on-write: views cached for writing must be dropped
   * (the next write goes through {@linkcode SparseMemory.pageForWrite}, which copies).
   */
  pagesShared(): void;
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
  #held: Held = { dir: this.#dir };
  #pool: FramePool | null;
  #pageCount: number;
  #resident = 0;
  /** Pages whose view may be shared with another memory (copied before the first write). */
  #shared = new Set<number>();
  #watchers = new Set<PageReplacementWatcher>();

  /**
   * Creates a memory of `size` bytes, all zero.
   *
   * @param size bytes, a positive multiple of 4096 below 2^53
   * @param options where pages come from
   * @throws {MemoryRangeError} when `size` is not a positive multiple of 4096
   */
  constructor(size: number, options: SparseMemoryOptions = {}) {
    if (!Number.isSafeInteger(size) || size <= 0 || size % PAGE_SIZE !== 0) {
      throw new MemoryRangeError(
        `SparseMemory size ${size} is invalid: it must be a positive multiple of ${PAGE_SIZE}`,
      );
    }
    this.size = size;
    this.#pageCount = size / PAGE_SIZE;
    this.#pool = options.pool === undefined ? framePool() : options.pool;
    finalizer.register(this, this.#held);
  }

  /** The pool pages come from (`null`: plain `ArrayBuffer` pages). */
  get pool(): FramePool | null {
    return this.#pool;
  }

  /** A new page view: a pool frame (zeroed if `zero`), or an `ArrayBuffer` when the pool is full. */
  #newPage(zero: boolean): DataView {
    const pool = this.#pool;
    if (pool !== null) {
      const offset = pool.allocFrame(zero);
      if (offset >= 0) return pool.view(offset);
    }
    return new DataView(new ArrayBuffer(PAGE_SIZE));
  }

  /** Replaces the page directory (the finalizer follows). */
  #setDir(dir: (DataView | undefined)[][]): void {
    this.#dir = dir;
    this.#held.dir = dir;
  }

  /** Lets go of every page (before the directory is replaced). */
  #releaseAll(): void {
    for (const chunk of this.#dir) {
      if (chunk === undefined) continue;
      for (const view of chunk) if (view !== undefined) release(view);
    }
    this.#shared.clear();
  }

  /** Number of pages in this memory. */
  get pageCount(): number {
    return this.#pageCount;
  }

  /**
   * The page view of page `index` (offset `index * 4096`), or `undefined` when the page has never
   * been written (it reads as zero). The view is little-endian by convention: pass `true` as the
   * `littleEndian` argument of every `DataView` accessor. Its 4096 bytes usually sit in the frame
   * pool's shared buffer: typed arrays over them need `view.byteOffset` (see the module notes on
   * when a cached view goes stale).
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
      page = chunk[index & (CHUNK_PAGES - 1)] = this.#newPage(true);
      this.#resident++;
    } else if (this.#shared.size !== 0 && this.#shared.delete(index)) {
      if ((holders.get(page) ?? 1) > 1) {
        // Copy-on-write: this memory takes a private copy; the other holders keep the old view.
        const old = page;
        page = this.#newPage(false);
        new Uint8Array(page.buffer, page.byteOffset, PAGE_SIZE).set(
          new Uint8Array(old.buffer, old.byteOffset, PAGE_SIZE),
        );
        chunk[index & (CHUNK_PAGES - 1)] = page;
        for (const w of this.#watchers) w.pageReplaced(old, page);
        release(old); // not the last holder: the frame stays with the others
      }
    }
    return page;
  }

  /**
   * Pages that may still be shared copy-on-write with another memory (a page whose other
   * holders let go is counted until this memory writes it).
   */
  get sharedPages(): number {
    return this.#shared.size;
  }

  /**
   * A copy of this memory that shares every page copy-on-write: the copy costs a page directory,
   * and whichever side writes a shared page first takes a private copy of it. Caches holding
   * this memory's page views for writing are told to drop them (watchers' `pagesShared`).
   */
  cloneShared(): SparseMemory {
    const copy = new SparseMemory(this.size, { pool: this.#pool });
    copy.shareFrom(this);
    return copy;
  }

  /**
   * Drops this memory's pages and shares every page of `source` (same size) copy-on-write, as
   * {@linkcode SparseMemory.cloneShared} does. Caches of this memory start over (its generation
   * is bumped); caches of `source` only drop what they hold for writing.
   */
  shareFrom(source: SparseMemory): void {
    if (source.size !== this.size) {
      throw new MemoryRangeError(
        `cannot share a ${hex(source.size)}-byte memory into a ${hex(this.size)}-byte one`,
      );
    }
    this.#releaseAll();
    this.#setDir([]);
    for (let c = 0; c < source.#dir.length; c++) {
      const chunk = source.#dir[c];
      if (chunk === undefined) continue;
      this.#dir[c] = chunk.slice();
      for (let i = 0; i < CHUNK_PAGES; i++) {
        const view = chunk[i];
        if (view === undefined) continue;
        const index = c * CHUNK_PAGES + i;
        holders.set(view, (holders.get(view) ?? 1) + 1);
        source.#shared.add(index);
        this.#shared.add(index);
      }
    }
    this.#resident = source.#resident;
    // The source's caches may hold views for writing that are shared now: they drop those
    // (reads and decoded code stay valid). This memory's content changed entirely.
    for (const w of source.#watchers) w.pagesShared();
    this.generation++;
  }

  /**
   * Replaces the content of page `index` with `data` (4096 bytes), or drops the page when `data`
   * is undefined. For restoring snapshots; caches notice through the generation only when the
   * caller bumps it (see {@linkcode SparseMemory.clear}).
   */
  setPage(index: number, data: Uint8Array | undefined): void {
    if (index < 0 || index >= this.#pageCount || !Number.isInteger(index)) {
      throw new MemoryRangeError(
        `page ${index} is outside this ${hex(this.size)}-byte memory (${this.#pageCount} pages)`,
      );
    }
    if (data !== undefined && data.length !== PAGE_SIZE) {
      throw new MemoryRangeError(`page data must be ${PAGE_SIZE} bytes, got ${data.length}`);
    }
    let chunk = this.#dir[index >>> CHUNK_SHIFT];
    const old = chunk?.[index & (CHUNK_PAGES - 1)];
    const had = old !== undefined;
    if (had) {
      this.#shared.delete(index);
      chunk![index & (CHUNK_PAGES - 1)] = undefined;
      release(old);
    }
    if (data === undefined) {
      if (had) this.#resident--;
      return;
    }
    if (chunk === undefined) {
      chunk = this.#dir[index >>> CHUNK_SHIFT] = new Array<DataView | undefined>(CHUNK_PAGES);
    }
    // A fresh view: the old one may be shared with another memory (or cached by a hart).
    const page = this.#newPage(false);
    new Uint8Array(page.buffer, page.byteOffset, PAGE_SIZE).set(data);
    chunk[index & (CHUNK_PAGES - 1)] = page;
    if (!had) this.#resident++;
  }

  /** Registers a cache to tell when copy-on-write replaces a page view. */
  watchReplacements(watcher: PageReplacementWatcher): void {
    this.#watchers.add(watcher);
  }

  /** Stops telling `watcher` about replaced page views. */
  unwatchReplacements(watcher: PageReplacementWatcher): void {
    this.#watchers.delete(watcher);
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
    this.#releaseAll();
    this.#setDir([]);
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
        out.set(new Uint8Array(p.buffer, p.byteOffset + within, n), done);
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
      new Uint8Array(p.buffer, p.byteOffset + within, n).set(data.subarray(done, done + n));
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
      const p = this.pageForWrite(index);
      new Uint8Array(p.buffer, p.byteOffset + within, n).fill(b);
      done += n;
    }
  }
}
