/**
 * A bounded outgoing buffer for one session.
 *
 * Replies, prompts and status events are *essential*: they are always queued (up to a hard limit,
 * beyond which the client is considered stuck and the session is closed). Guest console output is
 * *droppable*: when more than `softLimit` bytes are waiting, new console output is dropped and
 * counted, and once the client has caught up (the queue is under half the soft limit) a notice
 * saying how much was lost is queued. So a slow or stuck client costs a bounded amount of memory
 * and never stalls the emulator or other sessions.
 *
 * The transport drains the queue with {@linkcode OutputQueue.take} and
 * {@linkcode OutputQueue.waitForData}.
 *
 * @module
 */

/** Limits of an {@linkcode OutputQueue}. */
export interface OutputQueueLimits {
  /** Queued bytes above which droppable output is dropped (default 256 KiB). */
  softLimit?: number;
  /** Queued bytes above which the session is closed as stuck (default 4 MiB). */
  hardLimit?: number;
}

/** Default soft limit: 256 KiB. */
export const DEFAULT_SOFT_LIMIT = 256 * 1024;
/** Default hard limit: 4 MiB. */
export const DEFAULT_HARD_LIMIT = 4 * 1024 * 1024;

const encoder = new TextEncoder();

/** A FIFO of encoded chunks with a drop policy for console output. */
export class OutputQueue {
  /** Bytes above which droppable output is dropped. */
  readonly softLimit: number;
  /** Bytes above which the queue overflows (the session must be closed). */
  readonly hardLimit: number;
  #chunks: Uint8Array[] = [];
  #head = 0;
  #bytes = 0;
  #dropped = 0;
  #droppedTotal = 0;
  #overflowed = false;
  #closed = false;
  #ended = false;
  #waiters: (() => void)[] = [];
  #drainWaiters: (() => void)[] = [];
  #emptyWaiters: (() => void)[] = [];
  #notice: (droppedBytes: number) => string;

  /** Creates a queue; `notice` renders the "output dropped" notice for this session's mode. */
  constructor(limits: OutputQueueLimits = {}, notice?: (droppedBytes: number) => string) {
    this.softLimit = limits.softLimit ?? DEFAULT_SOFT_LIMIT;
    this.hardLimit = limits.hardLimit ?? DEFAULT_HARD_LIMIT;
    this.#notice = notice ?? defaultNotice;
  }

  /** Replaces the renderer of the "output dropped" notice (when the session changes mode). */
  setNotice(notice: (droppedBytes: number) => string): void {
    this.#notice = notice;
  }

  /** Bytes waiting to be sent. */
  get queuedBytes(): number {
    return this.#bytes;
  }

  /** Droppable bytes dropped since the last notice. */
  get droppedBytes(): number {
    return this.#dropped;
  }

  /** Droppable bytes dropped over the queue's life. */
  get droppedTotal(): number {
    return this.#droppedTotal;
  }

  /** True once essential output exceeded the hard limit: the client is not reading. */
  get overflowed(): boolean {
    return this.#overflowed;
  }

  /** True after {@linkcode OutputQueue.close} (output is being thrown away). */
  get closed(): boolean {
    return this.#closed;
  }

  /** True after {@linkcode OutputQueue.end}: no more output will be queued. */
  get ended(): boolean {
    return this.#ended;
  }

  /** True when the queue ended (or closed) and everything queued has been taken. */
  get finished(): boolean {
    return this.#closed || this.#overflowed || (this.#ended && this.#bytes === 0);
  }

  /** Queues essential output. Returns false when the queue is closed or overflowed. */
  push(data: string | Uint8Array): boolean {
    if (this.#closed || this.#ended || this.#overflowed) return false;
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    if (bytes.length === 0) return true;
    if (this.#bytes + bytes.length > this.hardLimit) {
      this.#overflowed = true;
      this.#wake();
      this.#wakeEmpty();
      const waiters = this.#drainWaiters;
      this.#drainWaiters = [];
      for (const w of waiters) w();
      return false;
    }
    this.#enqueue(bytes);
    return true;
  }

  /** Queues droppable output (guest console). Returns false when it was dropped. */
  pushDroppable(data: string | Uint8Array): boolean {
    if (this.#closed || this.#ended || this.#overflowed) return false;
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    if (bytes.length === 0) return true;
    if (this.#dropped > 0 || this.#bytes + bytes.length > this.softLimit) {
      this.#dropped += bytes.length;
      this.#droppedTotal += bytes.length;
      return false;
    }
    this.#enqueue(bytes);
    return true;
  }

  /**
   * Removes and returns everything queued, concatenated (up to `maxBytes`, default 64 KiB), or
   * `undefined` when nothing is queued.
   */
  take(maxBytes = 64 * 1024): Uint8Array | undefined {
    if (this.#bytes === 0) {
      this.#maybeNotice();
      if (this.#bytes === 0) return undefined;
    }
    const parts: Uint8Array[] = [];
    let size = 0;
    while (this.#head < this.#chunks.length && size < maxBytes) {
      const chunk = this.#chunks[this.#head];
      if (size + chunk.length > maxBytes && size > 0) break;
      parts.push(chunk);
      size += chunk.length;
      this.#chunks[this.#head++] = EMPTY;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#chunks.length) {
      this.#chunks = this.#chunks.slice(this.#head);
      this.#head = 0;
    }
    this.#bytes -= size;
    this.#maybeNotice();
    if (this.#bytes <= this.softLimit / 2) {
      const waiters = this.#drainWaiters;
      this.#drainWaiters = [];
      for (const w of waiters) w();
    }
    if (this.#bytes === 0) this.#wakeEmpty();
    if (parts.length === 1) return parts[0];
    const out = new Uint8Array(size);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  /** Resolves when data is queued (or at once if some is), or when the queue closes. */
  waitForData(): Promise<void> {
    if (this.#bytes > 0 || this.#closed || this.#ended || this.#overflowed || this.#dropped > 0) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Resolves when at most half the soft limit is queued (or the queue closes). */
  waitForDrain(): Promise<void> {
    if (this.#bytes <= this.softLimit / 2 || this.#closed || this.#overflowed) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /**
   * Resolves when nothing is queued (everything was taken by the transport) or the queue
   * closes. A pending "output dropped" notice counts as queued.
   */
  waitForEmpty(): Promise<void> {
    if ((this.#bytes === 0 && this.#dropped === 0) || this.#closed || this.#overflowed) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#emptyWaiters.push(resolve));
  }

  /** Ends the queue: what is queued still drains, further pushes are refused. */
  end(): void {
    if (this.#dropped > 0) {
      const n = this.#dropped;
      this.#dropped = 0;
      if (!this.#closed && !this.#overflowed) this.#enqueue(encoder.encode(this.#notice(n)));
    }
    this.#ended = true;
    this.#wake();
  }

  /** Closes the queue: queued output is discarded, pushes are refused, waiters released. */
  close(): void {
    this.#chunks = [];
    this.#head = 0;
    this.#bytes = 0;
    this.#closed = true;
    this.#wake();
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w();
    this.#wakeEmpty();
  }

  #wakeEmpty(): void {
    const waiters = this.#emptyWaiters;
    this.#emptyWaiters = [];
    for (const w of waiters) w();
  }

  #enqueue(bytes: Uint8Array): void {
    this.#chunks.push(bytes);
    this.#bytes += bytes.length;
    this.#wake();
  }

  #maybeNotice(): void {
    if (this.#dropped > 0 && this.#bytes <= this.softLimit / 2) {
      const n = this.#dropped;
      this.#dropped = 0;
      this.#enqueue(encoder.encode(this.#notice(n)));
    }
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}

const EMPTY = new Uint8Array(0);

function defaultNotice(droppedBytes: number): string {
  return `[axvisor] ${droppedBytes} bytes of console output dropped: the client is too slow\n`;
}
