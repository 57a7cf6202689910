/**
 * The FPU's non-arithmetic operations: fmin/fmax, sign injection, comparisons, fclass, and the
 * conversions (to and from integers, single <-> double). All work on the registers' bits;
 * values go through JS doubles only where they are exact (every single and every non-NaN double
 * is one).
 *
 * @module
 */

import type { FpFormat, FpRegisters } from "../fpu.ts";
import {
  NV,
  NX,
  RDN,
  RMM,
  RNE,
  RTZ,
  RUP,
  slowConvert,
  slowDoubleToSingle,
  slowFromInt,
} from "./exact.ts";
import { writeDirectedD } from "./arith.ts";

const scratch = new ArrayBuffer(8);
const sf32 = new Float32Array(scratch);
const si32 = new Int32Array(scratch);

const TWO_M125 = 2 ** -125;
const TWO_127 = 2 ** 127;
const TWO_31 = 2 ** 31;
const TWO_32 = 2 ** 32;
const TWO_63 = 2 ** 63;
const TWO_64 = 2 ** 64;

/** The single word of register `i` (an improperly boxed single reads as the canonical NaN). */
function singleWord(r: FpRegisters, i: number): number {
  return r.words[2 * i + 1] === -1 ? r.words[2 * i] : 0x7fc00000;
}

/** Whether the single word `w` is a NaN. */
function isNaNS(w: number): boolean {
  return (w & 0x7fffffff) > 0x7f800000;
}
/** Whether the single word `w` is a signalling NaN. */
function isSNaNS(w: number): boolean {
  return isNaNS(w) && (w & 0x400000) === 0;
}
/** Whether the double with high word `hi` and low word `lo` is a NaN. */
function isNaND(hi: number, lo: number): boolean {
  const h = hi & 0x7fffffff;
  return h > 0x7ff00000 || (h === 0x7ff00000 && lo !== 0);
}
/** Whether the double with high word `hi` and low word `lo` is a signalling NaN. */
function isSNaND(hi: number, lo: number): boolean {
  return isNaND(hi, lo) && (hi & 0x80000) === 0;
}

/** The value of single word `w` (not a NaN) as a double. */
function singleValue(w: number): number {
  si32[0] = w;
  return sf32[0];
}

/** fmin/fmax (version 2.2 semantics: a single NaN operand yields the other). */
export function fpMinMax(
  r: FpRegisters,
  fmt: FpFormat,
  rd: number,
  rs1: number,
  rs2: number,
  max: boolean,
): void {
  const w = r.words;
  if (fmt === 0) {
    const a = singleWord(r, rs1), b = singleWord(r, rs2);
    const an = isNaNS(a), bn = isNaNS(b);
    if (isSNaNS(a) || isSNaNS(b)) r.fflags |= NV;
    let res: number;
    if (an && bn) res = 0x7fc00000;
    else if (an) res = b;
    else if (bn) res = a;
    else {
      const x = singleValue(a), y = singleValue(b);
      if (x === y) res = max ? a & b : a | b; // ±0: max takes +0, min takes -0
      else res = (x < y) !== max ? a : b;
    }
    w[2 * rd] = res;
    w[2 * rd + 1] = -1;
    return;
  }
  const ah = w[2 * rs1 + 1], al = w[2 * rs1], bh = w[2 * rs2 + 1], bl = w[2 * rs2];
  const an = isNaND(ah, al), bn = isNaND(bh, bl);
  if (isSNaND(ah, al) || isSNaND(bh, bl)) r.fflags |= NV;
  let rh: number, rl: number;
  if (an && bn) {
    rh = 0x7ff80000;
    rl = 0;
  } else if (an) {
    rh = bh;
    rl = bl;
  } else if (bn) {
    rh = ah;
    rl = al;
  } else {
    const x = r.f64[rs1], y = r.f64[rs2];
    if (x === y) {
      rh = max ? ah & bh : ah | bh;
      rl = al;
    } else if ((x < y) !== max) {
      rh = ah;
      rl = al;
    } else {
      rh = bh;
      rl = bl;
    }
  }
  w[2 * rd] = rl;
  w[2 * rd + 1] = rh;
}

/** fsgnj (kind 0), fsgnjn (1), fsgnjx (2). */
export function fpSignInject(
  r: FpRegisters,
  fmt: FpFormat,
  rd: number,
  rs1: number,
  rs2: number,
  kind: number,
): void {
  const w = r.words;
  let a: number, b: number;
  if (fmt === 0) {
    a = singleWord(r, rs1);
    b = singleWord(r, rs2);
  } else {
    a = w[2 * rs1 + 1];
    b = w[2 * rs2 + 1];
  }
  const sign = kind === 0 ? b : kind === 1 ? ~b : a ^ b;
  const res = (a & 0x7fffffff) | (sign & 0x80000000);
  if (fmt === 0) {
    w[2 * rd] = res;
    w[2 * rd + 1] = -1;
  } else {
    w[2 * rd] = w[2 * rs1];
    w[2 * rd + 1] = res;
  }
}

/** fle (kind 0), flt (1), feq (2), as funct3 encodes them; returns 0 or 1. */
export function fpCompare(
  r: FpRegisters,
  fmt: FpFormat,
  rs1: number,
  rs2: number,
  kind: number,
): number {
  let x: number, y: number, anyNaN: boolean, anySNaN: boolean;
  if (fmt === 0) {
    const a = singleWord(r, rs1), b = singleWord(r, rs2);
    anyNaN = isNaNS(a) || isNaNS(b);
    anySNaN = isSNaNS(a) || isSNaNS(b);
    x = singleValue(a);
    y = singleValue(b);
  } else {
    x = r.f64[rs1];
    y = r.f64[rs2];
    if (x === x && y === y) {
      return kind === 0 ? (x <= y ? 1 : 0) : kind === 1 ? (x < y ? 1 : 0) : (x === y ? 1 : 0);
    }
    const w = r.words;
    anyNaN = true;
    anySNaN = isSNaND(w[2 * rs1 + 1], w[2 * rs1]) || isSNaND(w[2 * rs2 + 1], w[2 * rs2]);
  }
  if (anyNaN) {
    if (kind !== 2 || anySNaN) r.fflags |= NV; // feq is quiet, flt/fle signal on any NaN
    return 0;
  }
  return kind === 0 ? (x <= y ? 1 : 0) : kind === 1 ? (x < y ? 1 : 0) : (x === y ? 1 : 0);
}

/** fclass: a 10-bit mask. */
export function fpClass(r: FpRegisters, fmt: FpFormat, rs1: number): number {
  let sign: number, expMax: boolean, expZero: boolean, fracZero: boolean, quiet: boolean;
  if (fmt === 0) {
    const v = singleWord(r, rs1);
    sign = v >>> 31;
    const be = (v >>> 23) & 0xff;
    expMax = be === 0xff;
    expZero = be === 0;
    fracZero = (v & 0x7fffff) === 0;
    quiet = (v & 0x400000) !== 0;
  } else {
    const hi = r.words[2 * rs1 + 1], lo = r.words[2 * rs1];
    sign = hi >>> 31;
    const be = (hi >>> 20) & 0x7ff;
    expMax = be === 0x7ff;
    expZero = be === 0;
    fracZero = ((hi & 0xfffff) | lo) === 0;
    quiet = (hi & 0x80000) !== 0;
  }
  if (expMax) {
    if (!fracZero) return quiet ? 1 << 9 : 1 << 8;
    return sign ? 1 << 0 : 1 << 7;
  }
  if (expZero) {
    if (fracZero) return sign ? 1 << 3 : 1 << 4;
    return sign ? 1 << 2 : 1 << 5;
  }
  return sign ? 1 << 1 : 1 << 6;
}

/**
 * fcvt.{w,wu,l,lu}.{s,d}: writes `r.intOut` (W forms sign-extend their 32-bit result).
 * Saturates with NV on NaN or out of range.
 */
export function fpToInt(
  r: FpRegisters,
  fmt: FpFormat,
  rs1: number,
  rm: number,
  signed: boolean,
  wide: boolean,
): void {
  let x: number;
  if (fmt === 0) {
    const v = singleWord(r, rs1);
    x = isNaNS(v) ? NaN : singleValue(v);
  } else x = r.f64[rs1]; // only NaN-ness matters for a NaN
  const out = r.intOut;
  if (x !== x) {
    r.fflags |= NV;
    saturate(out, signed, wide, false);
    return;
  }
  let t = Math.trunc(x); // exact; for |x| >= 2^52, x is an integer and frac is 0
  const frac = x - t;
  if (frac !== 0) {
    switch (rm) {
      case RNE:
        if (Math.abs(frac) > 0.5 || (Math.abs(frac) === 0.5 && t % 2 !== 0)) t += x < 0 ? -1 : 1;
        break;
      case RDN:
        if (frac < 0) t -= 1;
        break;
      case RUP:
        if (frac > 0) t += 1;
        break;
      case RMM:
        if (Math.abs(frac) >= 0.5) t += x < 0 ? -1 : 1;
        break;
      case RTZ:
        break;
    }
  }
  let inRange: boolean;
  if (signed) inRange = wide ? t >= -TWO_63 && t < TWO_63 : t >= -TWO_31 && t < TWO_31;
  else inRange = t > -1 && (wide ? t < TWO_64 : t < TWO_32);
  if (!inRange) {
    r.fflags |= NV;
    saturate(out, signed, wide, x < 0);
    return;
  }
  if (frac !== 0) r.fflags |= NX;
  if (!wide) {
    out[0] = t; // ToInt32 wraps 2^31..2^32-1 to the sign-extended pattern
    out[1] = out[0] >> 31;
    return;
  }
  const hi = Math.floor(t / TWO_32);
  out[0] = t - hi * TWO_32;
  out[1] = hi;
}

/** The saturated result of an invalid conversion: the most positive or the most negative. */
function saturate(out: Int32Array, signed: boolean, wide: boolean, negative: boolean): void {
  if (signed) {
    if (wide) {
      out[0] = negative ? 0 : -1;
      out[1] = negative ? -0x80000000 : 0x7fffffff;
    } else {
      out[0] = negative ? -0x80000000 : 0x7fffffff;
      out[1] = negative ? -1 : 0;
    }
  } else {
    out[0] = negative ? 0 : -1;
    out[1] = negative ? 0 : -1; // WU's 0xffffffff sign-extends
  }
}

/** Rounds the exact double `x` (finite) to a single per `rm` into `rd`. */
function doubleToSingle(r: FpRegisters, rd: number, x: number, rm: number): void {
  const q = Math.fround(x);
  const aq = Math.abs(q);
  if (aq >= TWO_M125 && aq < TWO_127 && rm !== RMM) {
    const err = x - q; // exact
    si32[0] = 0;
    sf32[0] = q;
    let bits = si32[0];
    if (err !== 0) {
      r.fflags |= NX;
      if (rm === RTZ) {
        if ((err > 0) !== (q > 0)) bits = (bits - 1) | 0;
      } else if (rm === RDN) {
        if (err < 0) bits = q > 0 ? (bits - 1) | 0 : (bits + 1) | 0;
      } else if (rm === RUP) {
        if (err > 0) bits = q > 0 ? (bits + 1) | 0 : (bits - 1) | 0;
      }
    }
    r.words[2 * rd] = bits;
    r.words[2 * rd + 1] = -1;
  } else if (x === 0) {
    sf32[0] = x;
    r.words[2 * rd] = si32[0];
    r.words[2 * rd + 1] = -1;
  } else slowDoubleToSingle(r, rd, x, rm);
}

/** fcvt.{s,d}.{w,wu,l,lu}: from the integer `hi:lo` (W forms use `lo` only). */
export function fpFromInt(
  r: FpRegisters,
  fmt: FpFormat,
  rd: number,
  lo: number,
  hi: number,
  rm: number,
  signed: boolean,
  wide: boolean,
): void {
  let v: number;
  if (!wide) v = signed ? lo | 0 : lo >>> 0;
  else if (signed ? hi >= -0x200000 && hi < 0x200000 : hi >>> 0 < 0x200000) {
    v = (signed ? hi | 0 : hi >>> 0) * TWO_32 + (lo >>> 0); // exact: |v| < 2^53
  } else if (fmt === 1 && rm !== RMM) {
    // hi * 2^32 and lo are exact doubles: their sum is one correctly rounded addition, and
    // TwoSum gives its exact error
    const h = (signed ? hi | 0 : hi >>> 0) * TWO_32;
    const l = lo >>> 0;
    const s = h + l;
    const bb = s - h;
    const err = (h - (s - bb)) + (l - bb);
    if (err === 0) r.f64[rd] = s;
    else {
      r.fflags |= NX;
      if (rm === RNE) r.f64[rd] = s;
      else writeDirectedD(r, rd, s, err, rm);
    }
    return;
  } else {
    const big = ((signed ? BigInt(hi | 0) : BigInt(hi >>> 0)) << 32n) + BigInt(lo >>> 0);
    slowFromInt(r, fmt, rd, big, rm);
    return;
  }
  if (fmt === 1) r.f64[rd] = v;
  else doubleToSingle(r, rd, v, rm);
}

/** fcvt.s.d (toFmt 0) and fcvt.d.s (toFmt 1). */
export function fpConvert(
  r: FpRegisters,
  toFmt: FpFormat,
  rd: number,
  rs1: number,
  rm: number,
): void {
  if (toFmt === 1) {
    const v = singleWord(r, rs1);
    if (isNaNS(v)) slowConvert(r, 1, rd, rs1, rm);
    else r.f64[rd] = singleValue(v);
    return;
  }
  const x = r.f64[rs1];
  if (x === x) {
    if (Math.abs(x) === Infinity) {
      sf32[0] = x;
      r.words[2 * rd] = si32[0];
      r.words[2 * rd + 1] = -1;
    } else doubleToSingle(r, rd, x, rm);
  } else slowConvert(r, 0, rd, rs1, rm);
}
