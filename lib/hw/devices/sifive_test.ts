/**
 * SiFive test finisher ("sifive,test0"), as on QEMU `virt`: a 32-bit write at offset 0 ends the
 * run. The low 16 bits say how: 0x5555 pass (power off), 0x3333 fail with the exit code in bits
 * 31:16, 0x7777 reset. Other values are ignored, as QEMU does. Reads return 0.
 *
 * @module
 */

import type { AccessWidth, DeviceState, MmioDevice } from "../device.ts";

/** Status value: pass / power off. */
export const FINISHER_PASS = 0x5555;
/** Status value: fail, with the code in bits 31:16. */
export const FINISHER_FAIL = 0x3333;
/** Status value: reset. */
export const FINISHER_RESET = 0x7777;

/** How the guest ended the run. */
export type FinisherKind = "pass" | "fail" | "reset";

/** What a write to the finisher requested. */
export interface FinisherEvent {
  /** Pass (power off), fail or reset. */
  kind: FinisherKind;
  /** Exit code: 0 on pass and reset, bits 31:16 of the written value on fail. */
  code: number;
}

/** Options for {@linkcode SifiveTest}. */
export interface SifiveTestOptions {
  /** Called when the guest writes a recognised status. */
  onFinish?: (event: FinisherEvent) => void;
  /** Size of the register window. Default 0x1000. */
  size?: number;
}

/** The saved state of a {@linkcode SifiveTest}. */
export interface SifiveTestState extends DeviceState {
  /** The last request, or null. */
  last: FinisherEvent | null;
}

/** Emulated SiFive test finisher. */
export class SifiveTest implements MmioDevice {
  /** Model name. */
  readonly kind = "sifive-test";
  /** Size of the register window in bytes. */
  readonly size: number;
  #onFinish: (event: FinisherEvent) => void;
  #last: FinisherEvent | null = null;

  /** Creates a finisher. */
  constructor(options: SifiveTestOptions = {}) {
    this.size = options.size ?? 0x1000;
    this.#onFinish = options.onFinish ?? (() => {});
  }

  /** Replaces the callback. */
  setOnFinish(onFinish: (event: FinisherEvent) => void): void {
    this.#onFinish = onFinish;
  }

  /** The last request since reset, or null. */
  get last(): FinisherEvent | null {
    return this.#last;
  }

  /** Reads return 0. */
  read(_offset: number, _width: AccessWidth): number {
    return 0;
  }

  /** A 32-bit write at offset 0 with a recognised status ends the run. */
  write(offset: number, width: AccessWidth, value: number): void {
    if (offset !== 0 || width !== 4) return;
    const status = value & 0xffff;
    let event: FinisherEvent;
    if (status === FINISHER_PASS) event = { kind: "pass", code: 0 };
    else if (status === FINISHER_FAIL) event = { kind: "fail", code: (value >>> 16) & 0xffff };
    else if (status === FINISHER_RESET) event = { kind: "reset", code: 0 };
    else return;
    this.#last = event;
    this.#onFinish(event);
  }

  /** Forgets the last request. */
  reset(): void {
    this.#last = null;
  }

  /** Captures the last request. */
  snapshot(): SifiveTestState {
    return { last: this.#last ? { ...this.#last } : null };
  }

  /** Restores a state taken by {@linkcode SifiveTest.snapshot}. */
  restore(state: DeviceState): void {
    const last = (state as Partial<SifiveTestState>).last;
    if (last === null || last === undefined) {
      this.#last = null;
      return;
    }
    if (!["pass", "fail", "reset"].includes(last.kind) || !Number.isInteger(last.code)) {
      throw new TypeError(`sifive-test restore: bad last event ${JSON.stringify(last)}`);
    }
    this.#last = { kind: last.kind, code: last.code };
  }
}
