/**
 * The FPU's exact slow path: every arithmetic operation computed on integer significands
 * (BigInt), then rounded once by {@linkcode roundPack} in any of the five rounding modes with
 * exact flags (overflow by rounding mode and sign, underflow with tininess detected after
 * rounding and only when inexact). The fast paths in `arith.ts` fall back here for every case
 * they cannot prove cheaply: NaN and infinite operands, results near the overflow and underflow
 * thresholds, round-to-nearest-max-magnitude, and so on.
 *
 * @module
 */

import type { FpFormat, FpRegisters } from "../fpu.ts";

/** fflags bits (kept local so that this file has no runtime import of `fpu.ts`). */
export const NX = 1, UF = 2, OF = 4, DZ = 8, NV = 16;
/** Rounding modes. */
export const RNE = 0, RTZ = 1, RDN = 2, RUP = 3, RMM = 4;

/** Significand precision (with the hidden bit) of S and D. */
const PREC = [24, 53];
/** Least normal exponent of S and D. */
const EMIN = [-126, -1022];
/** Greatest finite exponent of S and D. */
const EMAX = [127, 1023];

/** Operand classes of {@linkcode Unpacked}. */
export const ZERO = 0, FINITE = 1, INF = 2, QNAN = 3, SNAN = 4;

/** An operand split into class, sign and (for finite values) `m * 2^e`. */
export interface Unpacked {
  /** {@linkcode ZERO}, {@linkcode FINITE}, {@linkcode INF}, {@linkcode QNAN} or {@linkcode SNAN}. */
  cls: number;
  /** 0 positive, 1 negative. */
  sign: number;
  /** Integer significand (FINITE only). */
  m: bigint;
  /** Exponent of the significand's least bit (FINITE only). */
  e: number;
}

/** Reads register `i` in format `fmt` bit-exactly (an improperly boxed single is the canonical NaN). */
export function unpack(r: FpRegisters, fmt: FpFormat, i: number): Unpacked {
  const w = r.words;
  if (fmt === 0) {
    const v = w[2 * i + 1] === -1 ? w[2 * i] : 0x7fc00000;
    const sign = v >>> 31;
    const be = (v >>> 23) & 0xff;
    const frac = v & 0x7fffff;
    if (be === 0xff) {
      if (frac === 0) return { cls: INF, sign, m: 0n, e: 0 };
      return { cls: frac & 0x400000 ? QNAN : SNAN, sign, m: 0n, e: 0 };
    }
    if (be === 0) {
      if (frac === 0) return { cls: ZERO, sign, m: 0n, e: 0 };
      return { cls: FINITE, sign, m: BigInt(frac), e: -149 };
    }
    return { cls: FINITE, sign, m: BigInt(frac | 0x800000), e: be - 150 };
  }
  const hi = w[2 * i + 1];
  const lo = w[2 * i] >>> 0;
  const sign = hi >>> 31;
  const be = (hi >>> 20) & 0x7ff;
  const fhi = hi & 0xfffff;
  if (be === 0x7ff) {
    if ((fhi | lo) === 0) return { cls: INF, sign, m: 0n, e: 0 };
    return { cls: fhi & 0x80000 ? QNAN : SNAN, sign, m: 0n, e: 0 };
  }
  const frac = (BigInt(fhi) << 32n) | BigInt(lo);
  if (be === 0) {
    if (frac === 0n) return { cls: ZERO, sign, m: 0n, e: 0 };
    return { cls: FINITE, sign, m: frac, e: -1074 };
  }
  return { cls: FINITE, sign, m: frac | (1n << 52n), e: be - 1075 };
}

/** Whether an unpacked operand is a NaN. */
function isNaNClass(u: Unpacked): boolean {
  return u.cls >= QNAN;
}

/** Writes the canonical NaN of `fmt` to `rd`. */
export function writeNaN(r: FpRegisters, fmt: FpFormat, rd: number): void {
  if (fmt === 0) {
    r.words[2 * rd] = 0x7fc00000;
    r.words[2 * rd + 1] = -1;
  } else {
    r.words[2 * rd] = 0;
    r.words[2 * rd + 1] = 0x7ff80000;
  }
}

/** Writes ±0 (sign 0 or 1) to `rd`. */
export function writeZero(r: FpRegisters, fmt: FpFormat, rd: number, sign: number): void {
  if (fmt === 0) {
    r.words[2 * rd] = sign << 31;
    r.words[2 * rd + 1] = -1;
  } else {
    r.words[2 * rd] = 0;
    r.words[2 * rd + 1] = sign << 31;
  }
}

/** Writes ±infinity to `rd`. */
export function writeInf(r: FpRegisters, fmt: FpFormat, rd: number, sign: number): void {
  if (fmt === 0) {
    r.words[2 * rd] = (sign << 31) | 0x7f800000;
    r.words[2 * rd + 1] = -1;
  } else {
    r.words[2 * rd] = 0;
    r.words[2 * rd + 1] = (sign << 31) | 0x7ff00000;
  }
}

/** Writes ±(the greatest finite value) to `rd`. */
function writeMax(r: FpRegisters, fmt: FpFormat, rd: number, sign: number): void {
  if (fmt === 0) {
    r.words[2 * rd] = (sign << 31) | 0x7f7fffff;
    r.words[2 * rd + 1] = -1;
  } else {
    r.words[2 * rd] = -1;
    r.words[2 * rd + 1] = (sign << 31) | 0x7fefffff;
  }
}

/** Number of significant bits of a positive BigInt. */
export function bitLength(m: bigint): number {
  // toString(16) is exact and fast enough for the slow path
  const s = m.toString(16);
  const lead = parseInt(s[0], 16);
  return (s.length - 1) * 4 + (32 - Math.clz32(lead));
}

/**
 * Rounds `m` (> 0) right by `shift` (> 0) bits per `rm` for a value of sign `sign`. Returns the
 * rounded integer; sets {@linkcode roundInexact}.
 */
function roundShift(m: bigint, shift: number, sign: number, rm: number): bigint {
  const s = BigInt(shift);
  const q = m >> s;
  const rem = m - (q << s);
  roundInexact = rem !== 0n;
  if (!roundInexact) return q;
  const half = 1n << (s - 1n);
  let inc: boolean;
  switch (rm) {
    case RNE:
      inc = rem > half || (rem === half && (q & 1n) === 1n);
      break;
    case RTZ:
      inc = false;
      break;
    case RDN:
      inc = sign === 1;
      break;
    case RUP:
      inc = sign === 0;
      break;
    default: // RMM
      inc = rem >= half;
  }
  return inc ? q + 1n : q;
}
let roundInexact = false;

/**
 * Rounds the exact value `(-1)^sign * m * 2^e` (`m` > 0) to format `fmt` per `rm`, writes it to
 * `rd` and ORs the flags into `r.fflags`.
 */
export function roundPack(
  r: FpRegisters,
  fmt: FpFormat,
  rd: number,
  sign: number,
  m: bigint,
  e: number,
  rm: number,
): void {
  const p = PREC[fmt], emin = EMIN[fmt], emax = EMAX[fmt];
  const n = bitLength(m);
  const lead = e + n - 1; // exponent of the leading bit
  let flags = 0;
  let tiny = false;
  if (lead < emin) {
    // tininess after rounding: round to p bits as if the exponent range were unbounded
    if (n > p) {
      const q = roundShift(m, n - p, sign, rm);
      tiny = !(q >> BigInt(p) === 1n && lead + 1 >= emin);
    } else tiny = true;
  }
  const keep = lead < emin ? p - (emin - lead) : p;
  const shift = n - keep;
  let q: bigint;
  let inexact = false;
  if (shift <= 0) q = m;
  else {
    q = roundShift(m, shift, sign, rm);
    inexact = roundInexact;
  }
  const qe = shift <= 0 ? e : e + shift; // value = q * 2^qe
  if (inexact) {
    flags |= NX;
    if (tiny) flags |= UF;
  }
  if (q === 0n) {
    r.fflags |= flags;
    writeZero(r, fmt, rd, sign);
    return;
  }
  const qn = bitLength(q);
  const top = qe + qn - 1;
  if (top > emax) {
    r.fflags |= flags | OF | NX;
    const toInf = rm === RNE || rm === RMM || (rm === RDN && sign === 1) ||
      (rm === RUP && sign === 0);
    if (toInf) writeInf(r, fmt, rd, sign);
    else writeMax(r, fmt, rd, sign);
    return;
  }
  r.fflags |= flags;
  // encode: a normal value has significand q * 2^(qe - (top - p + 1)); a subnormal one has
  // q * 2^(qe - (emin - p + 1)) and biased exponent 0
  let be: number, sig: bigint;
  if (top >= emin) {
    be = top + (fmt === 0 ? 127 : 1023);
    const sh = qe - (top - p + 1);
    sig = sh >= 0 ? q << BigInt(sh) : q >> BigInt(-sh);
    sig -= 1n << BigInt(p - 1);
  } else {
    be = 0;
    const sh = qe - (emin - p + 1);
    sig = sh >= 0 ? q << BigInt(sh) : q >> BigInt(-sh);
  }
  if (fmt === 0) {
    r.words[2 * rd] = (sign << 31) | (be << 23) | Number(sig);
    r.words[2 * rd + 1] = -1;
  } else {
    r.words[2 * rd] = Number(sig & 0xffffffffn) | 0;
    r.words[2 * rd + 1] = (sign << 31) | (be << 20) | Number(sig >> 32n);
  }
}

/** Writes a finite unpacked value exactly (it is representable in `fmt`). */
function writeExact(r: FpRegisters, fmt: FpFormat, rd: number, u: Unpacked, rm: number): void {
  if (u.cls === ZERO) writeZero(r, fmt, rd, u.sign);
  else roundPack(r, fmt, rd, u.sign, u.m, u.e, rm);
}

/** The exact sum of two finite nonzero values, rounded; the zero-sum sign rule per `rm`. */
function addFinite(
  r: FpRegisters,
  fmt: FpFormat,
  rd: number,
  sa: number,
  ma: bigint,
  ea: number,
  sb: number,
  mb: bigint,
  eb: number,
  rm: number,
): void {
  const e = Math.min(ea, eb);
  const va = ma << BigInt(ea - e);
  const vb = mb << BigInt(eb - e);
  const sum = (sa ? -va : va) + (sb ? -vb : vb);
  if (sum === 0n) writeZero(r, fmt, rd, rm === RDN ? 1 : 0);
  else if (sum < 0n) roundPack(r, fmt, rd, 1, -sum, e, rm);
  else roundPack(r, fmt, rd, 0, sum, e, rm);
}

/** rd = rs1 ± rs2 (subtract when `negB`), exactly rounded. */
export function slowAdd(
  r: FpRegisters,
  fmt: FpFormat,
  rd: number,
  rs1: number,
  rs2: number,
  rm: number,
  negB: boolean,
): void {
  const a = unpack(r, fmt, rs1), b = unpack(r, fmt, rs2);
  if (negB) b.sign ^= 1;
  if (isNaNClass(a) || isNaNClass(b)) {
    if (a.cls === SNAN || b.cls === SNAN) r.fflags |= NV;
    return writeNaN(r, fmt, rd);
  }
  if (a.cls === INF) {
    if (b.cls === INF && a.sign !== b.sign) {
      r.fflags |= NV;
      return writeNaN(r, fmt, rd);
    }
    return writeInf(r, fmt, rd, a.sign);
  }
  if (b.cls === INF) return writeInf(r, fmt, rd, b.sign);
  if (a.cls === ZERO && b.cls === ZERO) {
    return writeZero(r, fmt, rd, a.sign === b.sign ? a.sign : rm === RDN ? 1 : 0);
  }
  if (a.cls === ZERO) return writeExact(r, fmt, rd, b, rm);
  if (b.cls === ZERO) return writeExact(r, fmt, rd, a, rm);
  addFinite(r, fmt, rd, a.sign, a.m, a.e, b.sign, b.m, b.e, rm);
}

/** rd = rs1 * rs2, exactly rounded. */
export function slowMul(
  r: FpRegisters,
  fmt: FpFormat,
  rd: number,
  rs1: number,
  rs2: number,
  rm: number,
): void {
  const a = unpack(r, fmt, rs1), b = unpack(r, fmt, rs2);
  const sign = a.sign ^ b.sign;
  if (isNaNClass(a) || isNaNClass(b)) {
    if (a.cls === SNAN || b.cls === SNAN) r.fflags |= NV;
    return writeNaN(r, fmt, rd);
  }
  if (a.cls === INF || b.cls === INF) {
    if (a.cls === ZERO || b.cls === ZERO) {
      r.fflags |= NV;
      return writeNaN(r, fmt, rd);
    }
    return writeInf(r, fmt, rd, sign);
  }
  if (a.cls === ZERO || b.cls === ZERO) return writeZero(r, fmt, rd, sign);
  roundPack(r, fmt, rd, sign, a.m * b.m, a.e + b.e, rm);
}

/** rd = rs1 / rs2, exactly rounded. */
export function slowDiv(
  r: FpRegisters,
  fmt: FpFormat,
  rd: number,
  rs1: number,
  rs2: number,
  rm: number,
): void {
  const a = unpack(r, fmt, rs1), b = unpack(r, fmt, rs2);
  const sign = a.sign ^ b.sign;
  if (isNaNClass(a) || isNaNClass(b)) {
    if (a.cls === SNAN || b.cls === SNAN) r.fflags |= NV;
    return writeNaN(r, fmt, rd);
  }
  if (a.cls === INF) {
    if (b.cls === INF) {
      r.fflags |= NV;
      return writeNaN(r, fmt, rd);
    }
    return writeInf(r, fmt, rd, sign);
  }
  if (b.cls === INF) return writeZero(r, fmt, rd, sign);
  if (b.cls === ZERO) {
    if (a.cls === ZERO) {
      r.fflags |= NV;
      return writeNaN(r, fmt, rd);
    }
    r.fflags |= DZ;
    return writeInf(r, fmt, rd, sign);
  }
  if (a.cls === ZERO) return writeZero(r, fmt, rd, sign);
  const s = 2 * PREC[fmt] + 4;
  const num = a.m << BigInt(s);
  const q = num / b.m;
  const sticky = num - q * b.m === 0n ? 0n : 1n;
  roundPack(r, fmt, rd, sign, (q << 1n) | sticky, a.e - b.e - s - 1, rm);
}

/** Integer square root (floor) of a positive BigInt. */
function isqrt(n: bigint): bigint {
  const bits = bitLength(n);
  let x = 1n << BigInt((bits >> 1) + 1); // >= sqrt(n)
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/** rd = sqrt(rs1), exactly rounded. */
export function slowSqrt(r: FpRegisters, fmt: FpFormat, rd: number, rs1: number, rm: number): void {
  const a = unpack(r, fmt, rs1);
  if (isNaNClass(a)) {
    if (a.cls === SNAN) r.fflags |= NV;
    return writeNaN(r, fmt, rd);
  }
  if (a.cls === ZERO) return writeZero(r, fmt, rd, a.sign);
  if (a.sign === 1) {
    r.fflags |= NV;
    return writeNaN(r, fmt, rd);
  }
  if (a.cls === INF) return writeInf(r, fmt, rd, 0);
  const p = PREC[fmt];
  let s = Math.max(0, 2 * p + 6 - bitLength(a.m));
  if (((a.e - s) & 1) !== 0) s++;
  const v = a.m << BigInt(s);
  const root = isqrt(v);
  const sticky = v - root * root === 0n ? 0n : 1n;
  roundPack(r, fmt, rd, 0, (root << 1n) | sticky, (a.e - s) / 2 - 1, rm);
}

/** rd = ±(rs1 * rs2) ± rs3 with one rounding. */
export function slowFma(
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
  const a = unpack(r, fmt, rs1), b = unpack(r, fmt, rs2), c = unpack(r, fmt, rs3);
  const ps = a.sign ^ b.sign ^ (negateProduct ? 1 : 0);
  const cs = c.sign ^ (negateAddend ? 1 : 0);
  const infZero = (a.cls === INF && b.cls === ZERO) || (a.cls === ZERO && b.cls === INF);
  if (isNaNClass(a) || isNaNClass(b) || isNaNClass(c)) {
    // QEMU (and the spec's "invalid operation" for inf * 0) raise NV for inf * 0 even when
    // the addend is a quiet NaN
    if (a.cls === SNAN || b.cls === SNAN || c.cls === SNAN || infZero) r.fflags |= NV;
    return writeNaN(r, fmt, rd);
  }
  if (infZero) {
    r.fflags |= NV;
    return writeNaN(r, fmt, rd);
  }
  if (a.cls === INF || b.cls === INF) {
    if (c.cls === INF && cs !== ps) {
      r.fflags |= NV;
      return writeNaN(r, fmt, rd);
    }
    return writeInf(r, fmt, rd, ps);
  }
  if (c.cls === INF) return writeInf(r, fmt, rd, cs);
  if (a.cls === ZERO || b.cls === ZERO) {
    if (c.cls === ZERO) return writeZero(r, fmt, rd, ps === cs ? ps : rm === RDN ? 1 : 0);
    c.sign = cs;
    return writeExact(r, fmt, rd, c, rm);
  }
  if (c.cls === ZERO) return roundPack(r, fmt, rd, ps, a.m * b.m, a.e + b.e, rm);
  addFinite(r, fmt, rd, ps, a.m * b.m, a.e + b.e, cs, c.m, c.e, rm);
}

/** Rounds the integer `v` (any size) to `fmt` per `rm` into `rd`. */
export function slowFromInt(
  r: FpRegisters,
  fmt: FpFormat,
  rd: number,
  v: bigint,
  rm: number,
): void {
  if (v === 0n) writeZero(r, fmt, rd, 0);
  else if (v < 0n) roundPack(r, fmt, rd, 1, -v, 0, rm);
  else roundPack(r, fmt, rd, 0, v, 0, rm);
}

/** fcvt.s.d (toFmt 0) and fcvt.d.s (toFmt 1), exactly. */
export function slowConvert(
  r: FpRegisters,
  toFmt: FpFormat,
  rd: number,
  rs1: number,
  rm: number,
): void {
  const a = unpack(r, toFmt === 0 ? 1 : 0, rs1);
  if (isNaNClass(a)) {
    if (a.cls === SNAN) r.fflags |= NV;
    return writeNaN(r, toFmt, rd);
  }
  if (a.cls === INF) return writeInf(r, toFmt, rd, a.sign);
  if (a.cls === ZERO) return writeZero(r, toFmt, rd, a.sign);
  roundPack(r, toFmt, rd, a.sign, a.m, a.e, rm);
}

const dbuf = new Float64Array(1);
const dwords = new Int32Array(dbuf.buffer);

/** Rounds the finite double `x` (not NaN) to a single per `rm` into `rd`, exactly. */
export function slowDoubleToSingle(r: FpRegisters, rd: number, x: number, rm: number): void {
  dbuf[0] = x;
  const hi = dwords[1], lo = dwords[0] >>> 0;
  const sign = hi >>> 31;
  const be = (hi >>> 20) & 0x7ff;
  const frac = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (be === 0 && frac === 0n) return writeZero(r, 0, rd, sign);
  if (be === 0) return roundPack(r, 0, rd, sign, frac, -1074, rm);
  roundPack(r, 0, rd, sign, frac | (1n << 52n), be - 1075, rm);
}
