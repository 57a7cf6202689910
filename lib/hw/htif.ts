/**
 * HTIF, the Host-Target InterFace of spike and the official RISC-V tests: a pair of 64-bit
 * mailboxes in guest memory, `tohost` and `fromhost`, found through the image's symbol table.
 *
 * The host polls `tohost` ({@linkcode Htif.poll}); a non-zero value is a request that the host
 * consumes (it writes `tohost` back to zero) and, where the protocol says so, answers in
 * `fromhost`. A request is `device << 56 | command << 48 | payload`:
 *
 * - device 0, command 0, odd payload: exit. `1` means pass; any other odd value `v` means the
 *   test numbered `v >> 1` failed (riscv-tests' `RVTEST_FAIL`).
 * - device 0, command 0, even non-zero payload: a proxy-kernel system call; the payload points at
 *   `magic_mem[8]` = {which, arg0, arg1, arg2}. `write` (64) to fd 1 or 2 and `exit` (93) are
 *   served; the result goes to `magic_mem[0]` and `fromhost` is set to 1.
 * - device 1 (console), command 1: put the payload's low byte; answered `0x100 | byte`.
 * - device 1, command 0: read a byte; answered when input is available
 *   ({@linkcode Htif.pushInput}).
 *
 * @module
 */

/** The memory HTIF reads and writes; a `Bus` fits this interface. */
export interface HtifMemory {
  /** Reads 8 bytes; `undefined` when nothing answers. */
  read64(addr: number): bigint | undefined;
  /** Writes 8 bytes; `false` when nothing answers. */
  write64(addr: number, value: bigint): boolean;
  /** Reads bytes; `undefined` when any byte is unanswered. */
  readBytes(addr: number, length: number): Uint8Array | undefined;
}

/** What a poll found in `tohost`. */
export type HtifEvent =
  | {
    /** The guest asked to stop. */
    kind: "exit";
    /** 0 = pass; otherwise the failing test number (or the `exit` syscall's status). */
    code: number;
    /** The raw `tohost` value. */
    value: bigint;
  }
  | {
    /** The guest wrote to the console. */
    kind: "output";
    /** The bytes written. */
    bytes: Uint8Array;
  }
  | {
    /** The request is not one HTIF defines (or it cannot be served); the guest is stuck. */
    kind: "error";
    /** What is wrong, naming the request. */
    message: string;
    /** The raw `tohost` value. */
    value: bigint;
  };

/** Proxy-kernel system call numbers served through the `magic_mem` block. */
export const HTIF_SYS_WRITE = 64;
/** `exit(status)`. */
export const HTIF_SYS_EXIT = 93;

const hex = (value: number | bigint): string => `0x${value.toString(16)}`;

/** Watches a guest's `tohost` mailbox and serves its requests. */
export class Htif {
  /** Address of `tohost`. */
  readonly tohost: number;
  /** Address of `fromhost`, when the image has one (answers need it). */
  readonly fromhost: number | undefined;
  #memory: HtifMemory;
  #input: number[] = [];
  #pendingRead: bigint | undefined;

  /**
   * Creates a watcher for the mailboxes at the given addresses.
   *
   * @param memory where the mailboxes live
   * @param addresses the physical addresses of the `tohost` and `fromhost` symbols
   */
  constructor(memory: HtifMemory, addresses: { tohost: number; fromhost?: number }) {
    this.#memory = memory;
    this.tohost = addresses.tohost;
    this.fromhost = addresses.fromhost;
  }

  /** Queues bytes for the guest's console reads (device 1, command 0). */
  pushInput(bytes: Iterable<number>): void {
    for (const b of bytes) this.#input.push(b & 0xff);
  }

  /**
   * Checks `tohost` once: consumes a pending request, answers it in `fromhost` where the
   * protocol asks for an answer, and says what it was. `undefined` when `tohost` is zero.
   */
  poll(): HtifEvent | undefined {
    this.#answerPendingRead();
    const value = this.#memory.read64(this.tohost);
    if (value === undefined) {
      return {
        kind: "error",
        message: `HTIF: tohost at ${hex(this.tohost)} is not backed by memory`,
        value: 0n,
      };
    }
    if (value === 0n) return undefined;
    this.#memory.write64(this.tohost, 0n);
    const device = Number(value >> 56n);
    const command = Number((value >> 48n) & 0xffn);
    const payload = value & 0xffff_ffff_ffffn;
    if (device === 0 && command === 0) {
      if ((payload & 1n) === 1n) return { kind: "exit", code: Number(payload >> 1n), value };
      return this.#syscall(payload, value);
    }
    if (device === 1 && command === 1) {
      this.#respond(value, 0x100n | (payload & 0xffn));
      return { kind: "output", bytes: Uint8Array.of(Number(payload & 0xffn)) };
    }
    if (device === 1 && command === 0) {
      this.#pendingRead = value;
      this.#answerPendingRead();
      return undefined;
    }
    return {
      kind: "error",
      message: `HTIF: unsupported request ${hex(value)} (device ${device}, command ${command})`,
      value,
    };
  }

  #answerPendingRead(): void {
    if (this.#pendingRead === undefined || this.#input.length === 0) return;
    if (this.fromhost === undefined) return;
    if (this.#memory.read64(this.fromhost) !== 0n) return;
    const request = this.#pendingRead;
    this.#pendingRead = undefined;
    this.#respond(request, BigInt(this.#input.shift()!));
  }

  #respond(request: bigint, payload: bigint): void {
    if (this.fromhost === undefined) return;
    this.#memory.write64(this.fromhost, ((request >> 48n) << 48n) | payload);
  }

  #syscall(pointer: bigint, value: bigint): HtifEvent {
    const addr = Number(pointer);
    const block = this.#memory.readBytes(addr, 32);
    if (block === undefined) {
      return {
        kind: "error",
        message: `HTIF: system call block at ${hex(addr)} is not backed by memory`,
        value,
      };
    }
    const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
    const which = view.getBigUint64(0, true);
    const [a0, a1, a2] = [8, 16, 24].map((at) => view.getBigUint64(at, true));
    const finish = (result: bigint) => {
      this.#memory.write64(addr, result);
      if (this.fromhost !== undefined) this.#memory.write64(this.fromhost, 1n);
    };
    if (which === BigInt(HTIF_SYS_EXIT)) {
      return { kind: "exit", code: Number(BigInt.asIntN(32, a0)), value };
    }
    if (which === BigInt(HTIF_SYS_WRITE) && (a0 === 1n || a0 === 2n)) {
      const length = Number(a2 > 0x10000000n ? 0x10000000n : a2);
      const bytes = this.#memory.readBytes(Number(a1), length);
      if (bytes === undefined) {
        return {
          kind: "error",
          message: `HTIF: write(${a0}, ${hex(a1)}, ${a2}): the buffer is not backed by memory`,
          value,
        };
      }
      finish(BigInt(length));
      return { kind: "output", bytes };
    }
    return {
      kind: "error",
      message: `HTIF: unsupported system call ${which} (args ${hex(a0)}, ${hex(a1)}, ${
        hex(a2)
      }) in block at ${hex(addr)}`,
      value,
    };
  }
}
