/**
 * The FP operations as the differential test drives them on both sides: each with its assembly
 * form (for QEMU), the call of our FPU that does the same, and an edge-biased operand
 * generator (zeros, subnormals, min/max normals, infinities, quiet and signalling NaNs,
 * improperly boxed singles, values near the integer limits and near 1.0, and correlated
 * operands whose sum, product or fused result lands on a rounding boundary or cancels).
 *
 * @module
 */

import {
  fpAdd,
  fpClass,
  fpCompare,
  fpConvert,
  fpDiv,
  fpFma,
  fpFromInt,
  fpMinMax,
  fpMul,
  FpRegisters,
  fpSignInject,
  fpSqrt,
  fpSub,
  fpToInt,
} from "../../../lib/hw/riscv/fpu.ts";

/** Assembly names of the rounding modes 0..4. */
export const RM_NAMES = ["rne", "rtz", "rdn", "rup", "rmm"];

/** What an operation's operands are. */
export type OperandKind = "S" | "D" | "int";

/** One FP operation as both sides run it. */
export interface FpOp {
  /** Mnemonic, e.g. `fadd.d`. */
  name: string;
  /** Whether it takes a rounding mode (else it runs with rm 0 only). */
  rounding: boolean;
  /** Its number of FP operands (f1, f2, f3) or 1 for the integer operand a1. */
  arity: number;
  /** Operand kind. */
  operands: OperandKind;
  /** Whether the result is an integer (a0) instead of f0. */
  intResult: boolean;
  /** The instruction for rounding mode name `rm`. */
  asm: (rm: string) => string;
  /**
   * Runs the operation on our FPU: operands in f1..f3 (or `lo`/`hi` for integer operands),
   * FP result to f0, integer result to `r.intOut`.
   */
  run: (r: FpRegisters, rm: number, lo: number, hi: number) => void;
}

function ops(): FpOp[] {
  const list: FpOp[] = [];
  for (const fmt of [0, 1] as const) {
    const x = fmt === 0 ? "s" : "d";
    const K: OperandKind = fmt === 0 ? "S" : "D";
    const fp = (
      name: string,
      arity: number,
      rounding: boolean,
      asm: (rm: string) => string,
      run: FpOp["run"],
    ) => list.push({ name, arity, rounding, operands: K, intResult: false, asm, run });
    const int = (
      name: string,
      arity: number,
      rounding: boolean,
      asm: (rm: string) => string,
      run: FpOp["run"],
    ) => list.push({ name, arity, rounding, operands: K, intResult: true, asm, run });
    fp(
      `fadd.${x}`,
      2,
      true,
      (rm) => `fadd.${x} f0, f1, f2, ${rm}`,
      (r, rm) => fpAdd(r, fmt, 0, 1, 2, rm),
    );
    fp(
      `fsub.${x}`,
      2,
      true,
      (rm) => `fsub.${x} f0, f1, f2, ${rm}`,
      (r, rm) => fpSub(r, fmt, 0, 1, 2, rm),
    );
    fp(
      `fmul.${x}`,
      2,
      true,
      (rm) => `fmul.${x} f0, f1, f2, ${rm}`,
      (r, rm) => fpMul(r, fmt, 0, 1, 2, rm),
    );
    fp(
      `fdiv.${x}`,
      2,
      true,
      (rm) => `fdiv.${x} f0, f1, f2, ${rm}`,
      (r, rm) => fpDiv(r, fmt, 0, 1, 2, rm),
    );
    fp(
      `fsqrt.${x}`,
      1,
      true,
      (rm) => `fsqrt.${x} f0, f1, ${rm}`,
      (r, rm) => fpSqrt(r, fmt, 0, 1, rm),
    );
    const fmas: [string, boolean, boolean][] = [
      ["fmadd", false, false],
      ["fmsub", false, true],
      ["fnmsub", true, false],
      ["fnmadd", true, true],
    ];
    for (const [n, np, na] of fmas) {
      fp(
        `${n}.${x}`,
        3,
        true,
        (rm) => `${n}.${x} f0, f1, f2, f3, ${rm}`,
        (r, rm) => fpFma(r, fmt, 0, 1, 2, 3, rm, np, na),
      );
    }
    fp(
      `fmin.${x}`,
      2,
      false,
      () => `fmin.${x} f0, f1, f2`,
      (r) => fpMinMax(r, fmt, 0, 1, 2, false),
    );
    fp(`fmax.${x}`, 2, false, () => `fmax.${x} f0, f1, f2`, (r) => fpMinMax(r, fmt, 0, 1, 2, true));
    ["fsgnj", "fsgnjn", "fsgnjx"].forEach((n, kind) =>
      fp(
        `${n}.${x}`,
        2,
        false,
        () => `${n}.${x} f0, f1, f2`,
        (r) => fpSignInject(r, fmt, 0, 1, 2, kind),
      )
    );
    ["fle", "flt", "feq"].forEach((n, kind) =>
      int(`${n}.${x}`, 2, false, () => `${n}.${x} a0, f1, f2`, (r) => {
        r.intOut[0] = fpCompare(r, fmt, 1, 2, kind);
        r.intOut[1] = 0;
      })
    );
    int(`fclass.${x}`, 1, false, () => `fclass.${x} a0, f1`, (r) => {
      r.intOut[0] = fpClass(r, fmt, 1);
      r.intOut[1] = 0;
    });
    const ints: [string, boolean, boolean][] = [
      ["w", true, false],
      ["wu", false, false],
      ["l", true, true],
      ["lu", false, true],
    ];
    for (const [n, signed, wide] of ints) {
      int(
        `fcvt.${n}.${x}`,
        1,
        true,
        (rm) => `fcvt.${n}.${x} a0, f1, ${rm}`,
        (r, rm) => fpToInt(r, fmt, 1, rm, signed, wide),
      );
      // conversions of W/WU to D are exact: GNU as takes no rounding mode for them
      const rounding = !(fmt === 1 && !wide);
      list.push({
        name: `fcvt.${x}.${n}`,
        arity: 1,
        rounding,
        operands: "int",
        intResult: false,
        asm: (rm) => `fcvt.${x}.${n} f0, a1${rounding ? `, ${rm}` : ""}`,
        run: (r, rm, lo, hi) => fpFromInt(r, fmt, 0, lo, hi, rm, signed, wide),
      });
    }
  }
  list.push({
    name: "fcvt.s.d",
    arity: 1,
    rounding: true,
    operands: "D",
    intResult: false,
    asm: (rm) => `fcvt.s.d f0, f1, ${rm}`,
    run: (r, rm) => fpConvert(r, 0, 0, 1, rm),
  });
  list.push({
    name: "fcvt.d.s",
    arity: 1,
    rounding: false,
    operands: "S",
    intResult: false,
    asm: () => `fcvt.d.s f0, f1`,
    run: (r, rm) => fpConvert(r, 1, 0, 1, rm),
  });
  return list;
}

/** Every F/D operation with a computational result. */
export const FP_OPS: FpOp[] = ops();

/** A seeded PRNG (xorshift128+ on 32-bit halves, via mulberry32 seeding). */
export class Rng {
  private s: number;
  /** Seeds the generator. */
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** A uniform 32-bit unsigned integer (mulberry32). */
  u32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** A uniform integer in [0, n). */
  below(n: number): number {
    return Math.floor((this.u32() / 4294967296) * n);
  }
  /** A uniform 64-bit pattern. */
  u64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }
  /** One of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }
}

const M32 = 0xffffffffn;
const M64 = (1n << 64n) - 1n;

/** A significand pattern of `bits` bits: zero, all ones, one low bit, sparse, or random. */
function fraction(rng: Rng, bits: number): bigint {
  const full = (1n << BigInt(bits)) - 1n;
  switch (rng.below(8)) {
    case 0:
      return 0n;
    case 1:
      return full;
    case 2:
      return 1n;
    case 3:
      return full - 1n;
    case 4: {
      // a few bits set, including near the rounding point
      let f = 0n;
      for (let i = rng.below(3) + 1; i > 0; i--) f |= 1n << BigInt(rng.below(bits));
      return f;
    }
    case 5:
      return (1n << BigInt(bits - 1)) | BigInt(rng.below(4)); // 1.1000...0xx
    default:
      return rng.u64() & full;
  }
}

/** Edge-biased bits of a single (low 32 bits) or a double (64 bits). */
export function randomFloat(rng: Rng, fmt: 0 | 1): bigint {
  const eb = fmt === 0 ? 8 : 11;
  const fb = fmt === 0 ? 23 : 52;
  const emax = (1 << eb) - 1;
  const bias = emax >> 1;
  const sign = BigInt(rng.below(2));
  const k = rng.below(20);
  let e: number;
  let f: bigint;
  if (k === 0) {
    // specials
    e = rng.pick([0, emax]);
    f = e === 0 ? 0n : rng.pick([
      0n,
      0n,
      1n << BigInt(fb - 1),
      1n,
      (1n << BigInt(fb)) - 1n,
      rng.u64() & ((1n << BigInt(fb)) - 1n),
    ]);
  } else if (k <= 2) {
    e = rng.pick([0, 0, 1, 2, emax - 1, emax - 2]);
    f = fraction(rng, fb);
  } else if (k <= 5) {
    // near the integer limits 2^31, 2^32, 2^63, 2^64, and around 0.5..2
    e = bias + rng.pick([-2, -1, 0, 1, 23, 24, 30, 31, 32, 52, 53, 62, 63, 64]);
    f = fraction(rng, fb);
  } else if (k <= 8) {
    e = bias + rng.below(9) - 4;
    f = fraction(rng, fb);
  } else {
    e = 1 + rng.below(emax - 1);
    f = fraction(rng, fb);
  }
  return (sign << BigInt(eb + fb)) | (BigInt(e) << BigInt(fb)) | f;
}

/** An edge-biased 64-bit integer operand. */
export function randomInt(rng: Rng): bigint {
  switch (rng.below(6)) {
    case 0:
      return BigInt.asUintN(
        64,
        rng.pick([
          0n,
          1n,
          -1n,
          2n ** 31n - 1n,
          -(2n ** 31n),
          2n ** 32n - 1n,
          2n ** 32n,
          2n ** 63n - 1n,
          -(2n ** 63n),
          M64,
          2n ** 53n + 1n,
          2n ** 24n + 1n,
          2n ** 31n + 1n,
          2n ** 62n + 3n,
        ]),
      );
    case 1: {
      const n = rng.below(65);
      return n === 0 ? 0n : (rng.u64() & ((1n << BigInt(n)) - 1n)) | (1n << BigInt(n - 1));
    }
    case 2: {
      const n = rng.below(64) + 1;
      const v = (1n << BigInt(n)) + BigInt(rng.below(9)) - 4n;
      return BigInt.asUintN(64, rng.below(2) ? -v : v);
    }
    case 3:
      return BigInt.asUintN(64, BigInt.asIntN(32, BigInt(rng.u32()))); // sign-extended word
    default:
      return rng.u64();
  }
}

const cvt = new DataView(new ArrayBuffer(8));

function toDouble(bits: bigint): number {
  cvt.setBigUint64(0, bits, true);
  return cvt.getFloat64(0, true);
}
function fromDouble(x: number): bigint {
  cvt.setFloat64(0, x, true);
  return cvt.getBigUint64(0, true);
}
function toSingle(bits: bigint): number {
  cvt.setUint32(0, Number(bits & M32), true);
  return cvt.getFloat32(0, true);
}
function fromSingle(x: number): bigint {
  cvt.setFloat32(0, x, true);
  return BigInt(cvt.getUint32(0, true));
}

/** NaN-boxes single bits; a few percent come out improperly boxed. */
function box(rng: Rng, bits: bigint): bigint {
  if (rng.below(40) === 0) return (BigInt(rng.pick([0, 0x7fffffff, rng.u32()])) << 32n) | bits;
  return (M32 << 32n) | (bits & M32);
}

/** Nudges a value by a few units in the last place (bits), keeping its sign. */
function nudge(rng: Rng, bits: bigint, fmt: 0 | 1): bigint {
  const m = fmt === 0 ? M32 : M64;
  return (bits + BigInt(rng.below(7)) - 3n) & m;
}

/** Special values of a format (64-bit register patterns; singles boxed, one improperly). */
function specials(fmt: 0 | 1): bigint[] {
  const neg = (v: bigint) => v | (fmt === 0 ? 1n << 31n : 1n << 63n);
  const base = fmt === 0
    ? [0n, 1n, 0x007fffffn, 0x00800000n, 0x3f800000n, 0x3f800001n, 0x7f7fffffn, 0x7f800000n]
    : [
      0n,
      1n,
      0x000fffffffffffffn,
      0x0010000000000000n,
      0x3ff0000000000000n,
      0x3ff0000000000001n,
      0x7fefffffffffffffn,
      0x7ff0000000000000n,
    ];
  const nans = fmt === 0 ? [0x7fc00000n, 0x7f800001n] : [0x7ff8000000000000n, 0x7ff0000000000001n];
  const all = [...base, ...base.map(neg), ...nans];
  if (fmt === 1) return all;
  return [...all.map((v) => (M32 << 32n) | v), 0x000000003f800000n];
}

/** Integer operands at the limits. */
const INT_SPECIALS = [
  0n,
  1n,
  -1n,
  2n ** 31n - 1n,
  -(2n ** 31n),
  2n ** 32n - 1n,
  2n ** 53n + 1n,
  2n ** 63n - 1n,
  -(2n ** 63n),
  2n ** 24n + 1n,
].map((v) => BigInt.asUintN(64, v));

/** Every combination of special operands for `op` (a cross product over its arity). */
export function specialOperands(op: FpOp): [bigint, bigint, bigint][] {
  if (op.operands === "int") return INT_SPECIALS.map((v) => [v, 0n, 0n]);
  const vals = specials(op.operands === "S" ? 0 : 1);
  const out: [bigint, bigint, bigint][] = [];
  for (const a of vals) {
    if (op.arity === 1) out.push([a, 0n, 0n]);
    else {
      for (const b of vals) {
        if (op.arity === 2) out.push([a, b, 0n]);
        else for (const c of vals) out.push([a, b, c]);
      }
    }
  }
  return out;
}

/** The a, b, c operand bits (64 each) of one case of `op`. */
export function randomOperands(rng: Rng, op: FpOp): [bigint, bigint, bigint] {
  if (op.operands === "int") return [randomInt(rng), 0n, 0n];
  const fmt = op.operands === "S" ? 0 : 1;
  const sb = fmt === 0 ? 31n : 63n;
  const a = randomFloat(rng, fmt);
  let b = randomFloat(rng, fmt);
  let c = randomFloat(rng, fmt);
  const mode = rng.below(8);
  const val = fmt === 0 ? toSingle : toDouble;
  const bits = fmt === 0 ? fromSingle : fromDouble;
  if (mode === 7 && op.arity >= 2) {
    // results aimed at a boundary: the least normal, the greatest finite value, subnormals,
    // 1.0 and the integer limits
    const target = boundary(rng, fmt) * (rng.below(2) ? -1 : 1);
    const x = val(a), y = val(b);
    const name = op.name;
    let t: number | undefined;
    if (op.arity === 3) t = target - x * y;
    else if (name.startsWith("fadd")) t = target - x;
    else if (name.startsWith("fsub")) t = x - target;
    else if (name.startsWith("fmul")) t = target / x;
    else if (name.startsWith("fdiv")) t = x / target;
    if (t !== undefined && Number.isFinite(t) && fmt === 0) t = Math.fround(t);
    if (t !== undefined && Number.isFinite(t)) {
      const tb = nudge(rng, bits(t), fmt);
      if (op.arity === 3) c = tb;
      else b = tb;
    }
  } else if (mode === 0) {
    // cancellation / near-equal operands
    b = nudge(rng, a, fmt) ^ (rng.below(2) ? 1n << sb : 0n);
  } else if (mode === 1 && op.arity === 2) {
    // b close to a scaled by a power of two (sums landing on rounding boundaries)
    const s = val(a) * 2 ** (rng.below(60) - 30);
    if (Number.isFinite(s)) b = nudge(rng, bits(s), fmt);
  } else if (mode <= 3 && op.arity === 3) {
    // c near -(a * b): massive cancellation, products that overflow but whose sum does not
    const p = val(a) * val(b);
    if (Number.isFinite(p)) {
      c = nudge(rng, bits(-p * (rng.below(4) === 0 ? 2 ** (rng.below(10) - 5) : 1)), fmt);
    }
  } else if (mode === 4 && op.name.startsWith("fdiv")) {
    // b divides a nearly exactly
    const q = val(a) / val(b);
    const qq = val(nudge(rng, bits(q), fmt));
    if (Number.isFinite(qq) && qq !== 0) b = bits(val(a) / qq);
  } else if (mode === 4 && op.name.startsWith("fsqrt")) {
    const s = val(a);
    if (Number.isFinite(s)) return wrap(rng, fmt, nudge(rng, bits(s * s), fmt), b, c);
  }
  return wrap(rng, fmt, a, b, c);
}

/** A value whose neighbourhood is a rounding or range boundary of `fmt`. */
function boundary(rng: Rng, fmt: 0 | 1): number {
  const minNormal = fmt === 0 ? 2 ** -126 : 2 ** -1022;
  const max = fmt === 0 ? 3.4028234663852886e38 : Number.MAX_VALUE;
  const minSub = fmt === 0 ? 2 ** -149 : 2 ** -1074;
  switch (rng.below(6)) {
    case 0:
      return minNormal * (1 + (rng.below(5) - 2) * 2 ** -(rng.below(30) + 1));
    case 1:
      return max * (1 - rng.below(3) * 2 ** -(rng.below(60) + 1));
    case 2:
      return minSub * (rng.below(64) + 0.5);
    case 3:
      return 1 + (rng.below(5) - 2) * 2 ** -(rng.below(60) + 1);
    default:
      return 2 ** rng.pick([31, 32, 63, 64, 24, 53]) + (rng.below(5) - 2) * rng.pick([0.5, 1, 2]);
  }
}

function wrap(rng: Rng, fmt: 0 | 1, a: bigint, b: bigint, c: bigint): [bigint, bigint, bigint] {
  if (fmt === 1) return [a, b, c];
  return [box(rng, a), box(rng, b), box(rng, c)];
}

/** Writes the 64-bit `bits` to register `i`. */
export function setReg(r: FpRegisters, i: number, bits: bigint): void {
  r.words[2 * i] = Number(bits & M32) | 0;
  r.words[2 * i + 1] = Number((bits >> 32n) & M32) | 0;
}

/** Our result of one case: the 64-bit result bits and fflags (accrued onto `initialFlags`). */
export function runOurs(
  r: FpRegisters,
  op: FpOp,
  rm: number,
  a: bigint,
  b: bigint,
  c: bigint,
  initialFlags = 0,
): [bigint, number] {
  setReg(r, 1, a);
  setReg(r, 2, b);
  setReg(r, 3, c);
  r.words[0] = 0x5a5a5a5a;
  r.words[1] = 0x5a5a5a5a;
  r.fflags = initialFlags;
  op.run(r, rm, Number(a & M32) | 0, Number(a >> 32n) | 0);
  const w = op.intResult ? r.intOut : r.words;
  const res = (BigInt(w[1] >>> 0) << 32n) | BigInt(w[0] >>> 0);
  return [res, r.fflags];
}
