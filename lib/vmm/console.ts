/**
 * A VM's console: a ring buffer of output (64 KiB by default), live subscribers, and an input
 * queue read by the guest (UART receive, SBI console_getchar, DBCN console_read).
 *
 * @module
 */

/** Default size of the output ring buffer in bytes. */
export const DEFAULT_CONSOLE_CAPACITY = 64 * 1024;

/**
 * Most input bytes queued for a guest that does not read them: more is refused (the writer is
 * told how much was taken), so a client pasting without end cannot fill the host's memory.
 */
export const CONSOLE_INPUT_LIMIT = 64 * 1024;

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Receives console output as it is written. */
export type ConsoleListener = (data: Uint8Array) => void;

/** A console's state as plain data (see {@linkcode Console.snapshot}). */
export interface ConsoleState {
  /** Format version. */
  version: 1;
  /** Buffered output bytes, oldest first. */
  output: number[];
  /** Total bytes ever written. */
  totalWritten: number;
  /** Input bytes not read by the guest yet. */
  input: number[];
}

/** Output ring buffer, subscribers and input queue of one VM console. */
export class Console {
  /** Capacity of the output ring buffer in bytes. */
  readonly capacity: number;
  #ring: Uint8Array;
  #start = 0;
  #length = 0;
  #total = 0;
  #listeners = new Set<ConsoleListener>();
  #input: number[] = [];
  #inputHead = 0;
  /** Called whenever input arrives (the VM uses it to feed its UART and raise interrupts). */
  onInput?: () => void;

  /** Creates a console whose ring buffer keeps the last `capacity` bytes. */
  constructor(capacity = DEFAULT_CONSOLE_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity <= 0) {
      throw new RangeError(`console capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
    this.#ring = new Uint8Array(0);
  }

  /**
   * Grows the ring to hold `need` bytes (at most `capacity`). The ring starts empty and doubles
   * as output arrives, so that a VM that prints little (or was only created) does not hold the
   * whole capacity; until it reaches `capacity` it never wraps (its bytes start at 0).
   */
  #reserve(need: number): void {
    const ring = this.#ring;
    if (need <= ring.length || ring.length === this.capacity) return;
    let size = Math.max(ring.length * 2, 256);
    while (size < need) size *= 2;
    const next = new Uint8Array(Math.min(size, this.capacity));
    next.set(ring.subarray(0, this.#length));
    this.#ring = next;
  }

  /** Appends guest output and notifies subscribers. */
  write(data: Uint8Array): void {
    if (data.length === 0) return;
    this.#total += data.length;
    const cap = this.capacity;
    let src = data;
    this.#reserve(Math.min(cap, this.#length + src.length));
    if (src.length >= cap) {
      src = src.subarray(src.length - cap);
      this.#ring.set(src, 0);
      this.#start = 0;
      this.#length = cap;
    } else {
      let end = (this.#start + this.#length) % cap;
      const first = Math.min(src.length, cap - end);
      this.#ring.set(src.subarray(0, first), end);
      this.#ring.set(src.subarray(first), 0);
      end = (end + src.length) % cap;
      const newLength = this.#length + src.length;
      if (newLength > cap) {
        this.#start = (this.#start + newLength - cap) % cap;
        this.#length = cap;
      } else {
        this.#length = newLength;
      }
    }
    for (const l of [...this.#listeners]) l(data);
  }

  /** Appends one output byte. */
  writeByte(byte: number): void {
    this.write(Uint8Array.of(byte & 0xff));
  }

  /** The buffered output (at most `capacity` bytes, oldest first). */
  output(): Uint8Array {
    const out = new Uint8Array(this.#length);
    const first = Math.min(this.#length, this.capacity - this.#start);
    out.set(this.#ring.subarray(this.#start, this.#start + first), 0);
    out.set(this.#ring.subarray(0, this.#length - first), first);
    return out;
  }

  /** The buffered output decoded as UTF-8. */
  text(): string {
    return decoder.decode(this.output());
  }

  /** Total bytes ever written (including those that fell out of the ring). */
  get totalWritten(): number {
    return this.#total;
  }

  /** Forgets buffered output (not the input). */
  clearOutput(): void {
    this.#start = 0;
    this.#length = 0;
  }

  /** Subscribes to output; returns the unsubscribe function. */
  subscribe(listener: ConsoleListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Number of live subscribers. */
  get subscriberCount(): number {
    return this.#listeners.size;
  }

  /** Drops every subscriber (when the VM is deleted). */
  unsubscribeAll(): void {
    this.#listeners.clear();
  }

  /** Input bytes dropped because the guest was not reading (the queue was full). */
  inputDropped = 0;

  /**
   * Queues input for the guest (a string is UTF-8 encoded); returns how many bytes were taken.
   * At most {@linkcode CONSOLE_INPUT_LIMIT} bytes wait; beyond that, input is dropped (counted
   * in {@linkcode Console.inputDropped}), as a serial line drops what a receiver does not take.
   */
  writeInput(data: Uint8Array | string): number {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    const take = Math.max(0, Math.min(CONSOLE_INPUT_LIMIT - this.inputPending, bytes.length));
    for (let i = 0; i < take; i++) this.#input.push(bytes[i]);
    this.inputDropped += bytes.length - take;
    if (take > 0) this.onInput?.();
    return take;
  }

  /** Bytes of input waiting to be read by the guest. */
  get inputPending(): number {
    return this.#input.length - this.#inputHead;
  }

  /** Takes one input byte, or -1 when none is queued. */
  readInput(): number {
    if (this.#inputHead >= this.#input.length) return -1;
    const b = this.#input[this.#inputHead++];
    if (this.#inputHead > 4096 && this.#inputHead * 2 > this.#input.length) {
      this.#input = this.#input.slice(this.#inputHead);
      this.#inputHead = 0;
    }
    return b;
  }

  /** The console's state as plain data: buffered output, total written and queued input. */
  snapshot(): ConsoleState {
    return {
      version: 1,
      output: Array.from(this.output()),
      totalWritten: this.#total,
      input: this.#input.slice(this.#inputHead),
    };
  }

  /** Restores a state taken by {@linkcode Console.snapshot} (subscribers stay). */
  restore(state: ConsoleState): void {
    if (state.version !== 1) throw new TypeError(`console state version ${state.version} unknown`);
    this.#start = 0;
    this.#length = 0;
    const out = Uint8Array.from(state.output.slice(-this.capacity));
    this.#reserve(out.length);
    this.#ring.set(out, 0);
    this.#length = out.length;
    this.#total = state.totalWritten;
    this.#input = state.input.slice();
    this.#inputHead = 0;
  }

  /** Drops queued input (on restart). */
  clearInput(): void {
    this.#input = [];
    this.#inputHead = 0;
  }
}
