/**
 * A process-wide pool of 4 KiB page frames inside one shared `WebAssembly.Memory`.
 *
 * Guest RAM pages ({@linkcode SparseMemory}) live in frames of this pool so that WebAssembly code
 * can reach them: a page view is `new DataView(pool.buffer, offset, 4096)` and
 * {@linkcode FramePool.frameOffset} gives back `offset`, the byte address of the page inside
 * {@linkcode FramePool.memory}.
 *
 * Layout: frame `n` covers bytes `[n * 4096, (n + 1) * 4096)` of the memory. Frame 0 is never
 * handed out, so a wasm TLB can use offset 0 as "no frame". Single frames are recycled through a
 * free list; contiguous multi-frame *areas* (a hart's register file and TLBs) reuse a freed area of
 * the same length when one is still whole, else are carved from fresh frames at the top (in
 * constant time: areas come and go with harts, and a search of every frame for a free run made
 * each allocation as slow as the pool is large).
 *
 * Growth: the memory is `shared`, so `grow` never detaches the buffers (and views) handed out
 * before: each grow makes a longer `SharedArrayBuffer` object appear as `memory.buffer` while the
 * older objects keep viewing the same bytes. The pool grows by at least the requested frames and
 * by up to its current size (doubling), capped at 64 MiB per step and at the maximum.
 *
 * Limits: a wasm32 memory holds at most 65536 wasm pages (4 GiB, 1 Mi frames); the engine may
 * refuse earlier (address space, `ulimit -v`). When the pool cannot grow, allocation returns -1
 * and callers fall back to a plain `ArrayBuffer` page, which keeps working everywhere except in
 * the wasm tier (which will not map such a page). Frames given back stay committed (the memory
 * never shrinks), and frames of memories dropped without `clear` return only when their
 * finalizers run (between tasks, not inside one long synchronous loop).
 *
 * Speed (V8): `DataView` and typed-array element access over the shared buffer is as fast as over
 * an `ArrayBuffer`. Bulk copies in and out use relaxed-atomic copies: as fast when source and
 * destination share their alignment mod 8, about 2-4x slower otherwise; `TypedArray.fill` is
 * about 8x slower, which is why frames are zeroed by copying a zero frame.
 *
 * @module
 */

/** Size of one frame in bytes (a guest page). */
export const FRAME_SIZE = 4096;
/** Size of one WebAssembly memory page in bytes. */
export const WASM_PAGE_SIZE = 65536;
/** The largest wasm32 memory in wasm pages (4 GiB). */
export const MAX_WASM_PAGES = 65536;

const FRAMES_PER_WASM_PAGE = WASM_PAGE_SIZE / FRAME_SIZE;
/** Zeros to clear a reused frame with (`set` beats `fill` on shared memory in V8). */
const ZERO_FRAME = new Uint8Array(FRAME_SIZE);
/** Largest growth step in wasm pages (64 MiB). */
const MAX_STEP_PAGES = 1024;

/** The pool of every `SharedArrayBuffer` object a pool's `memory.buffer` has been (one per growth). */
const owners = new WeakMap<ArrayBufferLike, FramePool>();

/** The pool whose memory `view` looks into, or `undefined` for any other view. */
export function framePoolOf(view: ArrayBufferView): FramePool | undefined {
  return owners.get(view.buffer);
}

/** Options of a {@linkcode FramePool} (tests shrink the maximum to exercise exhaustion). */
export interface FramePoolOptions {
  /** Wasm pages (64 KiB) reserved at creation; default 16 (1 MiB). */
  initialPages?: number;
  /** Wasm pages the pool may grow to; default and upper bound {@linkcode MAX_WASM_PAGES}. */
  maximumPages?: number;
}

/** A pool of 4 KiB frames and contiguous areas inside one shared `WebAssembly.Memory`. */
export class FramePool {
  /** The shared memory holding every frame (give it to wasm instances as their memory). */
  readonly memory: WebAssembly.Memory;
  /** The most pages {@linkcode FramePool.memory} may grow to. */
  readonly maximumPages: number;
  #buffer: SharedArrayBuffer;
  #bytes: Uint8Array;
  /** 1 per frame in use (frame 0 always), 0 for a free one; as long as the memory's frames. */
  #used: Uint8Array;
  /** Free frames below `#top`, as frame numbers (entries taken since by an area are skipped). */
  #free: number[] = [];
  /** Frames at and above `#top` have never been handed out (they are still zero). */
  #top = 1;
  #inUse = 1;
  #areas = new Map<number, number>();
  /**
   * First frames of freed areas by their length in frames (their frames are also on `#free`, so
   * an entry whose frames were handed out singly since is skipped when popped).
   */
  #freedAreas = new Map<number, number[]>();
  #exhausted = false;

  /**
   * Creates a pool (most code uses the process-wide {@linkcode framePool} instead).
   *
   * @throws {RangeError} when the options are out of range or the engine refuses the memory
   */
  constructor(options: FramePoolOptions = {}) {
    const maximum = options.maximumPages ?? MAX_WASM_PAGES;
    const initial = Math.min(options.initialPages ?? 16, maximum);
    if (!(Number.isInteger(maximum) && maximum >= 1 && maximum <= MAX_WASM_PAGES)) {
      throw new RangeError(`frame pool maximum ${maximum} must be 1..${MAX_WASM_PAGES} pages`);
    }
    if (!(Number.isInteger(initial) && initial >= 1)) {
      throw new RangeError(`frame pool initial size ${initial} must be at least 1 page`);
    }
    this.maximumPages = maximum;
    this.memory = new WebAssembly.Memory({ initial, maximum, shared: true });
    this.#buffer = this.memory.buffer as SharedArrayBuffer;
    owners.set(this.#buffer, this);
    this.#bytes = new Uint8Array(this.#buffer);
    this.#used = new Uint8Array(this.capacityFrames);
    this.#used[0] = 1;
  }

  /** The current buffer of {@linkcode FramePool.memory} (views made from it stay valid). */
  get buffer(): SharedArrayBuffer {
    return this.#buffer;
  }

  /** Frames the memory holds now (used or free). */
  get capacityFrames(): number {
    return this.#buffer.byteLength / FRAME_SIZE;
  }

  /** Frames handed out (frames and areas) plus the reserved frame 0. */
  get usedFrames(): number {
    return this.#inUse;
  }

  /** Frames the pool could ever hold. */
  get maximumFrames(): number {
    return this.maximumPages * FRAMES_PER_WASM_PAGE;
  }

  /**
   * The byte offset in {@linkcode FramePool.memory} of the bytes `view` sees, or -1 when `view`
   * is not a view of this pool (a fallback `ArrayBuffer` page, or another pool's).
   */
  frameOffset(view: ArrayBufferView): number {
    return owners.get(view.buffer) === this ? view.byteOffset : -1;
  }

  /**
   * Takes one frame and returns its byte offset (a multiple of 4096, never 0), or -1 when the
   * pool cannot grow. The frame reads as zero unless `zero` is false (the caller overwrites it).
   */
  allocFrame(zero = true): number {
    while (this.#free.length !== 0) {
      const frame = this.#free.pop()!;
      if (this.#used[frame] !== 0) continue; // taken by an area since it was freed
      this.#used[frame] = 1;
      this.#inUse++;
      const offset = frame * FRAME_SIZE;
      if (zero) this.#bytes.set(ZERO_FRAME, offset); // faster than fill on shared memory
      return offset;
    }
    if (this.#top >= this.capacityFrames && !this.#grow(1)) return -1;
    const frame = this.#top++;
    this.#used[frame] = 1;
    this.#inUse++;
    return frame * FRAME_SIZE;
  }

  /** A little-endian-by-convention page view of the frame at `offset`. */
  view(offset: number): DataView {
    return new DataView(this.#buffer, offset, FRAME_SIZE);
  }

  /**
   * Gives back the frame at byte offset `offset` (from {@linkcode FramePool.allocFrame}).
   * No view of it may be used afterwards: the frame is handed out again.
   *
   * @throws {RangeError} when `offset` is not a frame in use (a double free)
   */
  freeFrame(offset: number): void {
    const frame = this.#frameOf(offset);
    if (this.#areas.has(offset)) {
      throw new RangeError(`frame ${offset} starts an area: free it with freeArea`);
    }
    this.#used[frame] = 0;
    this.#inUse--;
    this.#free.push(frame);
  }

  /**
   * Takes `bytes` (rounded up to whole frames) of contiguous, zeroed memory and returns its byte
   * offset, or -1 when the pool cannot grow.
   */
  allocArea(bytes: number): number {
    if (!(Number.isSafeInteger(bytes) && bytes > 0)) {
      throw new RangeError(`area size ${bytes} must be a positive integer`);
    }
    const n = Math.ceil(bytes / FRAME_SIZE);
    let start = this.#freedArea(n);
    if (start < 0) {
      // Fresh frames at the top, taking in the free frames just below it.
      let s = this.#top;
      while (s > 1 && this.#used[s - 1] === 0) s--;
      const need = s + n - this.capacityFrames;
      if (need > 0 && !this.#grow(need)) return -1;
      start = s;
      this.#top = Math.max(this.#top, s + n);
    }
    this.#used.fill(1, start, start + n);
    this.#inUse += n;
    const offset = start * FRAME_SIZE;
    for (let f = 0; f < n; f++) this.#bytes.set(ZERO_FRAME, offset + f * FRAME_SIZE);
    this.#areas.set(offset, n);
    return offset;
  }

  /**
   * The first frame of an area of `n` frames freed before and still whole (no single frame of it
   * handed out since), taken off the list of freed areas; -1 when there is none.
   */
  #freedArea(n: number): number {
    const list = this.#freedAreas.get(n);
    while (list !== undefined && list.length !== 0) {
      const first = list.pop()!;
      let whole = true;
      for (let f = first; whole && f < first + n; f++) whole = this.#used[f] === 0;
      if (whole) return first;
    }
    return -1;
  }

  /**
   * Gives back the area at `offset` (from {@linkcode FramePool.allocArea}).
   *
   * @throws {RangeError} when no area starts at `offset`
   */
  freeArea(offset: number): void {
    const n = this.#areas.get(offset);
    if (n === undefined) throw new RangeError(`no area starts at offset ${offset}`);
    this.#areas.delete(offset);
    const first = offset / FRAME_SIZE;
    for (let f = first + n - 1; f >= first; f--) {
      this.#used[f] = 0;
      this.#free.push(f);
    }
    let list = this.#freedAreas.get(n);
    if (list === undefined) this.#freedAreas.set(n, list = []);
    list.push(first);
    this.#inUse -= n;
  }

  #frameOf(offset: number): number {
    const frame = offset / FRAME_SIZE;
    if (!(Number.isInteger(frame) && frame > 0 && frame < this.#top && this.#used[frame] !== 0)) {
      throw new RangeError(`offset ${offset} is not a frame in use`);
    }
    return frame;
  }

  /** Grows by at least `frames` frames; false when the maximum is reached or the engine refuses. */
  #grow(frames: number): boolean {
    if (this.#exhausted) return false;
    const current = this.memory.buffer.byteLength / WASM_PAGE_SIZE;
    const needed = Math.ceil(frames / FRAMES_PER_WASM_PAGE);
    const room = this.maximumPages - current;
    if (needed > room) return false;
    const step = Math.min(room, Math.max(needed, Math.min(current, MAX_STEP_PAGES)));
    try {
      this.memory.grow(step);
    } catch {
      try {
        this.memory.grow(needed);
      } catch {
        this.#exhausted = true;
        return false;
      }
    }
    this.#buffer = this.memory.buffer as SharedArrayBuffer;
    owners.set(this.#buffer, this);
    this.#bytes = new Uint8Array(this.#buffer);
    const used = new Uint8Array(this.capacityFrames);
    used.set(this.#used);
    this.#used = used;
    return true;
  }
}

let shared: FramePool | null | undefined;

/**
 * The process-wide frame pool, created on first use; `null` when the engine cannot create a
 * shared `WebAssembly.Memory` (callers then use plain `ArrayBuffer` pages).
 */
export function framePool(): FramePool | null {
  if (shared === undefined) {
    try {
      shared = new FramePool();
    } catch {
      shared = null;
    }
  }
  return shared;
}
