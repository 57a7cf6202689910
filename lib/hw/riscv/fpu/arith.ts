/**
 * The FPU's arithmetic (add, sub, mul, div, sqrt, fused multiply-add) with fast paths on JS
 * doubles and the exact BigInt path of `exact.ts` behind them.
 *
 * Every fast path computes the round-to-nearest result `q` with one or two hardware roundings,
 * then the exact sign of the rounding error `V - q` with error-free transformations (TwoSum,
 * Dekker's TwoProduct with Veltkamp splitting, exact remainders). That sign gives the flags (NX
 * when nonzero) and the directed roundings: RTZ, RDN and RUP are `q` or its neighbour one unit
 * in the last place away. The fast paths only take operands and results well inside the normal
 * range (so that no step underflows or overflows and the result is never tiny) and never take
 * RMM where a tie is possible; everything else goes to the exact path. In round-to-nearest with
 * NX already accrued (the common state of a running program) no flag can change, so add, mul,
 * div and sqrt skip the error computation altogether.
 *
 * Singles: the double result of two singles rounded to single is correctly rounded for + - * /
 * and sqrt in round-to-nearest (53 >= 2 * 24 + 2), and the exact error sign comes from the
 * double computation. The single fused multiply-add computes the product exactly in a double,
 * then watches for the one double-rounding hazard (the double sum landing exactly on a single
 * midpoint while the sum was inexact).
 *
 * @module
 */

import type { FpFormat, FpRegisters } from "../fpu.ts";
import { NX, RDN, RMM, RNE, RTZ, slowAdd, slowDiv, slowFma, slowMul, slowSqrt } from "./exact.ts";

const scratch = new ArrayBuffer(8);
const sf64 = new Float64Array(scratch);
const sf32 = new Float32Array(scratch);
const si32 = new Int32Array(scratch);

const TWO_M960 = 2 ** -960;
const TWO_1020 = 2 ** 1020;
const TWO_995 = 2 ** 995;
const TWO_M125 = 2 ** -125;
const TWO_127 = 2 ** 127;
/** Veltkamp's splitting constant for doubles: 2^27 + 1. */
const SPLIT = 134217729;

/** The rounding error of the double product `p = fl(a * b)`: `a * b - p`, exact (Dekker). */
function productError(a: number, b: number, p: number): number {
  let t = SPLIT * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLIT * b;
  const bh = t - (t - b);
  const bl = b - bh;
  return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}

/**
 * Writes the double `q` (normal, |q| in [2^-1020, 2^1020)) rounded per the directed mode `rm`
 * given the sign of the exact value's error `err = V - q` (nonzero): `q` or its neighbour.
 */
export function writeDirectedD(
  r: FpRegisters,
  rd: number,
  q: number,
  err: number,
  rm: number,
): void {
  sf64[0] = q;
  let lo = si32[0], hi = si32[1];
  // +1: one unit up in magnitude, -1: one down, 0: q itself
  let step = 0;
  if (rm === RTZ) step = (err > 0) === (q > 0) ? 0 : -1;
  else if (rm === RDN) step = err < 0 ? (q > 0 ? -1 : 1) : 0;
  else if (rm !== RNE && rm !== RMM) step = err > 0 ? (q > 0 ? 1 : -1) : 0; // RUP
  if (step > 0) {
    lo = (lo + 1) | 0;
    if (lo === 0) hi = (hi + 1) | 0;
  } else if (step < 0) {
    if (lo === 0) hi = (hi - 1) | 0;
    lo = (lo - 1) | 0;
  }
  r.words[2 * rd] = lo;
  r.words[2 * rd + 1] = hi;
}

/** Writes the single `q` (normal, |q| in [2^-125, 2^127)) per directed `rm` and `err = V - q`. */
function writeDirectedS(r: FpRegisters, rd: number, q: number, err: number, rm: number): void {
  sf32[0] = q;
  let bits = si32[0];
  if (rm === RTZ) {
    if ((err > 0) !== (q > 0)) bits = (bits - 1) | 0;
  } else if (rm === RDN) {
    if (err < 0) bits = q > 0 ? (bits - 1) | 0 : (bits + 1) | 0;
  } else if (rm !== RNE && rm !== RMM) {
    if (err > 0) bits = q > 0 ? (bits + 1) | 0 : (bits - 1) | 0;
  }
  r.words[2 * rd] = bits;
  r.words[2 * rd + 1] = -1;
}

/** Writes a single (any value but NaN) NaN-boxed. */
function writeS(r: FpRegisters, rd: number, q: number): void {
  sf32[0] = q;
  r.words[2 * rd] = si32[0];
  r.words[2 * rd + 1] = -1;
}

/** Writes the fast path's result: `q` when exact, else NX and `q` rounded per `rm` from `err`. */
function finishD(r: FpRegisters, rd: number, q: number, err: number, rm: number): void {
  if (err === 0 || rm === RNE || rm === RMM) {
    if (err !== 0) r.fflags |= NX;
    r.f64[rd] = q;
    return;
  }
  r.fflags |= NX;
  writeDirectedD(r, rd, q, err, rm);
}

/** As {@linkcode finishD} for singles. */
function finishS(r: FpRegisters, rd: number, q: number, err: number, rm: number): void {
  if (err === 0 || rm === RNE || rm === RMM) {
    if (err !== 0) r.fflags |= NX;
    writeS(r, rd, q);
    return;
  }
  r.fflags |= NX;
  writeDirectedS(r, rd, q, err, rm);
}

/** Reads single `i` as a double, or NaN when it is improperly boxed (the caller goes slow). */
function readS(r: FpRegisters, i: number): number {
  if (r.words[2 * i + 1] !== -1) return NaN;
  si32[0] = r.words[2 * i];
  return sf32[0];
}

/** D: rd = rs1 + (neg ? -rs2 : rs2). */
function addD(r: FpRegisters, rd: number, rs1: number, rs2: number, rm: number, neg: boolean) {
  const a = r.f64[rs1];
  const b = neg ? -r.f64[rs2] : r.f64[rs2];
  const s = a + b;
  const as = Math.abs(s);
  if (as >= TWO_M960 && as < TWO_1020 && rm !== RMM) {
    const bb = s - a;
    if (rm === RNE && (r.fflags & NX) !== 0) r.f64[rd] = s; // no flag can change: skip the error
    else finishD(r, rd, s, (a - (s - bb)) + (b - bb), rm);
  } else if (s === 0 && rm !== RDN) {
    r.f64[rd] = s; // an exact zero (a rounded sum is never zero); JS's zero sign is RNE's
  } else slowAdd(r, 1, rd, rs1, rs2, rm, neg);
}

/** S: rd = rs1 + (neg ? -rs2 : rs2). */
function addS(r: FpRegisters, rd: number, rs1: number, rs2: number, rm: number, neg: boolean) {
  const a = readS(r, rs1);
  const b = neg ? -readS(r, rs2) : readS(r, rs2);
  const d = a + b;
  const q = Math.fround(d);
  const aq = Math.abs(q);
  if (aq >= TWO_M125 && aq < TWO_127 && rm !== RMM) {
    const bb = d - a;
    const diff = d - q;
    finishS(r, rd, q, diff !== 0 ? diff : (a - (d - bb)) + (b - bb), rm);
  } else if (d === 0 && rm !== RDN) {
    writeS(r, rd, d);
  } else slowAdd(r, 0, rd, rs1, rs2, rm, neg);
}

/** rd = rs1 + rs2. */
export function fpAdd(
  r: FpRegisters,
  fmt: FpFormat,
  rd: number,
  rs1: number,
  rs2: number,
  rm: number,
): void {
  if (fmt === 1) addD(r, rd, rs1, rs2, rm, false);
  else addS(r, rd, rs1, rs2, rm, false);
}

/** rd = rs1 - rs2. */
export function fpSub(
  r: FpRegisters,
  fmt: FpFormat,
  rd: number,
  rs1: number,
  rs2: number,
  rm: number,
): void {
  if (fmt === 1) addD(r, rd, rs1, rs2, rm, true);
  else addS(r, rd, rs1, rs2, rm, true);
}

/** rd = rs1 * rs2. */
export function fpMul(
  r: FpRegisters,
  fmt: FpFormat,
  rd: number,
  rs1: number,
  rs2: number,
  rm: number,
): void {
  if (fmt === 1) {
    const a = r.f64[rs1], b = r.f64[rs2];
    const p = a * b;
    const ap = Math.abs(p);
    if (
      ap >= TWO_M960 && ap < TWO_1020 && rm !== RMM && Math.abs(a) < TWO_995 &&
      Math.abs(b) < TWO_995
    ) {
      if (rm === RNE && (r.fflags & NX) !== 0) r.f64[rd] = p;
      else finishD(r, rd, p, productError(a, b, p), rm);
    } else if (p === 0 && (a === 0 || b === 0)) {
      r.f64[rd] = p;
    } else slowMul(r, 1, rd, rs1, rs2, rm);
    return;
  }
  const a = readS(r, rs1), b = readS(r, rs2);
  const d = a * b; // exact: 24 x 24 bits
  const q = Math.fround(d);
  const aq = Math.abs(q);
  if (aq >= TWO_M125 && aq < TWO_127 && rm !== RMM) finishS(r, rd, q, d - q, rm);
  else if (d === 0) writeS(r, rd, d);
  else slowMul(r, 0, rd, rs1, rs2, rm);
}

/** rd = rs1 / rs2. (A quotient of normal floats is never exactly halfway: RMM is RNE here.) */
export function fpDiv(
  r: FpRegisters,
  fmt: FpFormat,
  rd: number,
  rs1: number,
  rs2: number,
  rm: number,
): void {
  if (fmt === 1) {
    const a = r.f64[rs1], b = r.f64[rs2];
    const q = a / b;
    const aq = Math.abs(q), aa = Math.abs(a), ab = Math.abs(b);
    if (
      aq >= TWO_M960 && aq < TWO_995 && ab >= TWO_M960 && ab < TWO_995 && aa >= TWO_M960 &&
      aa < TWO_1020
    ) {
      // the remainder a - q*b is exact: a - ph by Sterbenz, and it is representable
      if (rm === RNE && (r.fflags & NX) !== 0) r.f64[rd] = q;
      else {
        const ph = q * b;
        const rem = (a - ph) - productError(q, b, ph);
        finishD(r, rd, q, b > 0 ? rem : -rem, rm);
      }
    } else if (a === 0 && ab > 0 && ab < Infinity) {
      r.f64[rd] = q;
    } else slowDiv(r, 1, rd, rs1, rs2, rm);
    return;
  }
  const a = readS(r, rs1), b = readS(r, rs2);
  const q = Math.fround(a / b);
  const aq = Math.abs(q);
  if (aq >= TWO_M125 && aq < TWO_127) {
    const rem = a - q * b; // exact: q * b has 48 bits, and a is close to it
    finishS(r, rd, q, b > 0 ? rem : -rem, rm);
  } else if (a === 0 && b !== 0 && Math.abs(b) < Infinity) {
    writeS(r, rd, q);
  } else slowDiv(r, 0, rd, rs1, rs2, rm);
}

/** rd = sqrt(rs1). */
export function fpSqrt(r: FpRegisters, fmt: FpFormat, rd: number, rs1: number, rm: number): void {
  // a square root is never exactly halfway between two floats: RMM is RNE here
  if (fmt === 1) {
    const a = r.f64[rs1];
    if (a >= TWO_M960 && a < TWO_1020) {
      const s = Math.sqrt(a);
      if (rm === RNE && (r.fflags & NX) !== 0) r.f64[rd] = s;
      else {
        const ph = s * s;
        finishD(r, rd, s, (a - ph) - productError(s, s, ph), rm);
      }
    } else if (a === 0) r.f64[rd] = a;
    else slowSqrt(r, 1, rd, rs1, rm);
    return;
  }
  const a = readS(r, rs1);
  if (a > 0 && a < Infinity) {
    const q = Math.fround(Math.sqrt(a));
    finishS(r, rd, q, a - q * q, rm);
  } else if (a === 0) writeS(r, rd, a);
  else slowSqrt(r, 0, rd, rs1, rm);
}

/**
 * Fused multiply-add with one rounding: rd = (±(rs1 * rs2)) ± rs3. fmadd: (false, false);
 * fmsub: (false, true); fnmsub: (true, false); fnmadd: (true, true).
 */
export function fpFma(
  r: FpRegisters,
  fmt: FpFormat,
  rd: number,
  rs1: number,
  rs2: number,
  rs3: number,
  rm: number,
  negateProduct: boolean,
  negateAddend: boolean,
): void {
  if (fmt === 1) fmaD(r, rd, rs1, rs2, rs3, rm, negateProduct, negateAddend);
  else fmaS(r, rd, rs1, rs2, rs3, rm, negateProduct, negateAddend);
}

function fmaD(
  r: FpRegisters,
  rd: number,
  rs1: number,
  rs2: number,
  rs3: number,
  rm: number,
  negP: boolean,
  negC: boolean,
): void {
  const a = negP ? -r.f64[rs1] : r.f64[rs1];
  const b = r.f64[rs2];
  const c = negC ? -r.f64[rs3] : r.f64[rs3];
  const p = a * b;
  const ap = Math.abs(p);
  if (
    ap >= TWO_M960 && ap < TWO_1020 && Math.abs(a) < TWO_995 && Math.abs(b) < TWO_995 &&
    Math.abs(c) < TWO_1020
  ) {
    // V = p + pe + c = s + t + pe = s + t2 + e2 = s2 + t3 + e2, all exact
    const pe = productError(a, b, p);
    const s = p + c;
    let bb = s - p;
    const t = (p - (s - bb)) + (c - bb);
    const t2 = t + pe;
    bb = t2 - t;
    const e2 = (t - (t2 - bb)) + (pe - bb);
    const s2 = s + t2;
    bb = s2 - s;
    const t3 = (s - (s2 - bb)) + (t2 - bb);
    const as2 = Math.abs(s2);
    if (as2 >= TWO_M960 && as2 < TWO_1020) {
      const w = t3 + e2; // fl(V - s2): zero exactly when V == s2 (no underflow to zero in a sum)
      if (w === 0) {
        r.f64[rd] = s2;
        return;
      }
      sf64[0] = s2;
      const hi = si32[1];
      if (((hi & 0xfffff) | si32[0]) !== 0) {
        // s2 is not a power of two: its half-ulp h is the same on both sides. V - s2 = t3 + e2;
        // |fl(t3 + e2)| < h proves |V - s2| < h (h is a float, rounding is monotone), so s2 is
        // RN(V), V is no tie, and fl keeps the sign of t3 + e2
        si32[1] = (((hi >>> 20) & 0x7ff) - 53) << 20;
        si32[0] = 0;
        const h = sf64[0];
        if (Math.abs(w) < h) {
          finishD(r, rd, s2, w, rm);
          return;
        }
      }
    }
  } else if (p === 0 && (a === 0 || b === 0) && c !== 0 && Math.abs(c) < Infinity) {
    r.f64[rd] = c;
    return;
  }
  slowFma(r, 1, rd, rs1, rs2, rs3, rm, negP, negC);
}

function fmaS(
  r: FpRegisters,
  rd: number,
  rs1: number,
  rs2: number,
  rs3: number,
  rm: number,
  negP: boolean,
  negC: boolean,
): void {
  const a = readS(r, rs1), b = readS(r, rs2), c0 = readS(r, rs3);
  const p = negP ? -(a * b) : a * b; // exact
  const c = negC ? -c0 : c0;
  const d = p + c;
  const q = Math.fround(d);
  const aq = Math.abs(q);
  if (aq >= TWO_M125 && aq < TWO_127 && rm !== RMM) {
    const bb = d - p;
    const t = (p - (d - bb)) + (c - bb); // V = d + t
    const diff = d - q;
    if (t === 0 || diff === 0) {
      finishS(r, rd, q, diff !== 0 ? diff : t, rm);
      return;
    }
    // double rounding hazard: d exactly on a single midpoint (half-ulp h, or h/2 below a
    // power of two) while t != 0
    sf32[0] = q;
    const be = (si32[0] >>> 23) & 0xff;
    const h = 2 ** (be - 151);
    const ad = Math.abs(diff);
    if (ad !== h && ad !== h / 2) {
      finishS(r, rd, q, diff, rm);
      return;
    }
  } else if (d === 0 && rm !== RDN) {
    writeS(r, rd, d); // an exact zero (the sum of a 48-bit product and a single never underflows)
    return;
  }
  slowFma(r, 0, rd, rs1, rs2, rs3, rm, negP, negC);
}
