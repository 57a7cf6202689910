/**
 * CLINT / ACLINT (MSWI + MTIMER in the SiFive CLINT layout used by QEMU `virt`):
 *
 * | offset          | register                                   |
 * |-----------------|--------------------------------------------|
 * | 0x0000 + 4*h    | msip of hart index `h` (bit 0)             |
 * | 0x4000 + 8*h    | mtimecmp of hart index `h` (64-bit)        |
 * | 0xBFF8          | mtime (64-bit)                             |
 *
 * `h` is the hart's position on the board (0..harts-1), not its `mhartid`. Time comes from an
 * injected clock (ticks of the board's timebase); writing `mtime` shifts the device's view by an
 * offset. MTIP of hart `h` is high while `mtime >= mtimecmp[h]`; the owner calls
 * {@linkcode Aclint.updateTimers} after advancing the clock, and {@linkcode Aclint.nextDeadline}
 * tells an idle machine how far it may jump ahead.
 *
 * @module
 */

import type { AccessWidth, DeviceState, IrqLine, MmioDevice } from "../device.ts";
import { mergeRegisterPart, readRegisterPart } from "../device.ts";

/** Offset of the msip registers. */
export const ACLINT_MSIP_BASE = 0x0000;
/** Offset of the mtimecmp registers. */
export const ACLINT_MTIMECMP_BASE = 0x4000;
/** Offset of mtime. */
export const ACLINT_MTIME = 0xbff8;
/** Largest number of harts the layout allows. */
export const ACLINT_MAX_HARTS = 4095;

const TWO_32 = 0x1_0000_0000;

/** The interrupt wires of one hart. */
export interface AclintHartLines {
  /** Machine software interrupt (mip.MSIP). */
  msip: IrqLine;
  /** Machine timer interrupt (mip.MTIP). */
  mtip: IrqLine;
}

/** Options for {@linkcode Aclint}. */
export interface AclintOptions {
  /** One entry per hart, in board order. */
  harts: AclintHartLines[];
  /** Current time in timebase ticks (a non-negative integer below 2^53). */
  clock: () => number;
  /** Size of the register window. Default 0x10000. */
  size?: number;
}

/** The saved state of an {@linkcode Aclint}. */
export interface AclintState extends DeviceState {
  /** msip bit per hart. */
  msip: number[];
  /** mtimecmp per hart, as hexadecimal strings (64-bit values). */
  mtimecmp: string[];
  /** mtime as the guest last saw it, as a hexadecimal string. */
  mtime: string;
}

/** Emulated CLINT / ACLINT. */
export class Aclint implements MmioDevice {
  /** Model name. */
  readonly kind = "aclint";
  /** Size of the register window in bytes. */
  readonly size: number;
  /** Number of harts served. */
  readonly hartCount: number;

  #lines: AclintHartLines[];
  #clock: () => number;
  #offset = 0; // mtime = clock() + offset
  #msip: Uint8Array;
  #cmpLo: Uint32Array;
  #cmpHi: Uint32Array;
  #cmp: Float64Array; // mtimecmp as a (possibly rounded) number, for comparisons
  #mtip: Uint8Array;

  /** Creates a CLINT with msip clear and every mtimecmp at its maximum (no timer pending). */
  constructor(options: AclintOptions) {
    const n = options.harts.length;
    if (n < 1 || n > ACLINT_MAX_HARTS) {
      throw new RangeError(`aclint: needs 1..${ACLINT_MAX_HARTS} harts, got ${n}`);
    }
    this.size = options.size ?? 0x10000;
    if (this.size < 0xc000) {
      throw new RangeError(
        `aclint: a window of 0x${this.size.toString(16)} bytes cannot hold mtime at 0xbff8`,
      );
    }
    this.hartCount = n;
    this.#lines = options.harts;
    this.#clock = options.clock;
    this.#msip = new Uint8Array(n);
    this.#cmpLo = new Uint32Array(n);
    this.#cmpHi = new Uint32Array(n);
    this.#cmp = new Float64Array(n);
    this.#mtip = new Uint8Array(n);
    this.#resetCompare();
  }

  /** The current mtime value in ticks. */
  mtime(): number {
    return this.#clock() + this.#offset;
  }

  /** Sets mtime (as a guest write to the mtime register does). */
  setMtime(ticks: number): void {
    this.#offset = ticks - this.#clock();
    this.updateTimers();
  }

  /** mtimecmp of hart index `hart`. */
  mtimecmp(hart: number): bigint {
    return (BigInt(this.#cmpHi[hart]) << 32n) | BigInt(this.#cmpLo[hart]);
  }

  /** Sets mtimecmp of hart index `hart`. */
  setMtimecmp(hart: number, value: bigint): void {
    this.#cmpLo[hart] = Number(value & 0xffffffffn);
    this.#cmpHi[hart] = Number((value >> 32n) & 0xffffffffn);
    this.#recompute(hart);
  }

  /** Whether hart index `hart`'s msip bit is set. */
  msip(hart: number): boolean {
    return this.#msip[hart] === 1;
  }

  /** Re-evaluates every hart's MTIP against the current time. Call after advancing the clock. */
  updateTimers(): void {
    const now = this.mtime();
    for (let h = 0; h < this.hartCount; h++) {
      const level = now >= this.#cmp[h] ? 1 : 0;
      if (level !== this.#mtip[h]) {
        this.#mtip[h] = level;
        this.#lines[h].mtip.set(level === 1);
      }
    }
  }

  /**
   * The clock value (in the injected clock's ticks) at which the next timer interrupt fires, or
   * `undefined` when no hart has a deadline in the future that fits below 2^53.
   */
  nextDeadline(): number | undefined {
    const now = this.mtime();
    let best = Infinity;
    for (let h = 0; h < this.hartCount; h++) {
      const cmp = this.#cmp[h];
      if (cmp > now && cmp < best) best = cmp;
    }
    if (best >= Number.MAX_SAFE_INTEGER) return undefined;
    return best - this.#offset;
  }

  /** Reads a register; 64-bit registers are read in 32-bit halves (or narrower parts). */
  read(offset: number, width: AccessWidth): number {
    return readRegisterPart(this.#readWord(offset & ~3), offset, width);
  }

  /** Writes a register; narrower writes merge into the 32-bit word. */
  write(offset: number, width: AccessWidth, value: number): void {
    const aligned = offset & ~3;
    const current = width === 4 ? 0 : this.#readWord(aligned);
    this.#writeWord(aligned, mergeRegisterPart(current, offset, width, value));
  }

  /** Clears msip, sets every mtimecmp to its maximum and mtime back to the clock's value. */
  reset(): void {
    this.#offset = 0;
    this.#msip.fill(0);
    for (let h = 0; h < this.hartCount; h++) this.#lines[h].msip.set(false);
    this.#resetCompare();
  }

  /** Captures msip, mtimecmp and mtime. */
  snapshot(): AclintState {
    const mtimecmp: string[] = [];
    for (let h = 0; h < this.hartCount; h++) mtimecmp.push("0x" + this.mtimecmp(h).toString(16));
    return { msip: Array.from(this.#msip), mtimecmp, mtime: "0x" + this.mtime().toString(16) };
  }

  /**
   * Restores a state taken by {@linkcode Aclint.snapshot}: mtime continues from the saved value,
   * whatever the injected clock says now.
   */
  restore(state: DeviceState): void {
    const s = state as Partial<AclintState>;
    if (!Array.isArray(s.msip) || s.msip.length !== this.hartCount) {
      throw new TypeError(`aclint restore: msip must have ${this.hartCount} entries`);
    }
    if (!Array.isArray(s.mtimecmp) || s.mtimecmp.length !== this.hartCount) {
      throw new TypeError(`aclint restore: mtimecmp must have ${this.hartCount} entries`);
    }
    const big = (name: string, v: unknown): bigint => {
      try {
        if (typeof v !== "string") throw new Error();
        return BigInt(v);
      } catch {
        throw new TypeError(
          `aclint restore: ${name} must be a 64-bit number as a string, got ${JSON.stringify(v)}`,
        );
      }
    };
    const mtime = big("mtime", s.mtime);
    const cmps = s.mtimecmp.map((v, h) => big(`mtimecmp[${h}]`, v));
    this.#offset = Number(mtime) - this.#clock();
    for (let h = 0; h < this.hartCount; h++) {
      this.#msip[h] = s.msip[h] ? 1 : 0;
      this.#lines[h].msip.set(this.#msip[h] === 1);
      this.#cmpLo[h] = Number(cmps[h] & 0xffffffffn);
      this.#cmpHi[h] = Number((cmps[h] >> 32n) & 0xffffffffn);
      this.#cmp[h] = this.#cmpHi[h] * TWO_32 + this.#cmpLo[h];
    }
    this.#mtip.fill(2);
    this.updateTimers();
  }

  #resetCompare(): void {
    this.#cmpLo.fill(0xffffffff);
    this.#cmpHi.fill(0xffffffff);
    this.#cmp.fill(0xffffffff * TWO_32 + 0xffffffff);
    this.#mtip.fill(2); // unknown: report every line on the next update
    this.updateTimers();
  }

  #recompute(hart: number): void {
    this.#cmp[hart] = this.#cmpHi[hart] * TWO_32 + this.#cmpLo[hart];
    const level = this.mtime() >= this.#cmp[hart] ? 1 : 0;
    if (level !== this.#mtip[hart]) {
      this.#mtip[hart] = level;
      this.#lines[hart].mtip.set(level === 1);
    }
  }

  #readWord(offset: number): number {
    if (offset < ACLINT_MTIMECMP_BASE) {
      const h = offset >>> 2;
      return h < this.hartCount ? this.#msip[h] : 0;
    }
    if (offset === ACLINT_MTIME || offset === ACLINT_MTIME + 4) {
      const now = this.mtime();
      return offset === ACLINT_MTIME ? now % TWO_32 : Math.floor(now / TWO_32) >>> 0;
    }
    if (offset < ACLINT_MTIME) {
      const rel = offset - ACLINT_MTIMECMP_BASE;
      const h = rel >>> 3;
      if (h >= this.hartCount) return 0;
      return (rel & 4) ? this.#cmpHi[h] : this.#cmpLo[h];
    }
    return 0;
  }

  #writeWord(offset: number, value: number): void {
    if (offset < ACLINT_MTIMECMP_BASE) {
      const h = offset >>> 2;
      if (h >= this.hartCount) return;
      const bit = value & 1;
      if (bit !== this.#msip[h]) {
        this.#msip[h] = bit;
        this.#lines[h].msip.set(bit === 1);
      }
      return;
    }
    if (offset === ACLINT_MTIME || offset === ACLINT_MTIME + 4) {
      const now = this.mtime();
      let lo = now % TWO_32, hi = Math.floor(now / TWO_32);
      if (offset === ACLINT_MTIME) lo = value;
      else hi = value;
      this.setMtime(Math.min(hi * TWO_32 + lo, Number.MAX_SAFE_INTEGER));
      return;
    }
    if (offset < ACLINT_MTIME) {
      const rel = offset - ACLINT_MTIMECMP_BASE;
      const h = rel >>> 3;
      if (h >= this.hartCount) return;
      if (rel & 4) this.#cmpHi[h] = value;
      else this.#cmpLo[h] = value;
      this.#recompute(h);
    }
  }
}
