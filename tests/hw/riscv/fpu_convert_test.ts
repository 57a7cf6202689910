/**
 * Unit tests of the FPU's conversions: float to integer (W, WU, L, LU) at the integer limits in
 * every rounding mode, with saturation and NV on NaN or out of range; integer to float with
 * rounding; single <-> double with NaN canonicalisation, overflow and underflow. Expected values
 * are worked out by hand from the specification.
 */

import assert from "node:assert/strict";
import { fpConvert, fpFromInt, fpToInt } from "../../../lib/hw/riscv/fpu.ts";
import {
  hex,
  intOut,
  NV,
  NX,
  OF,
  RDN,
  reg,
  regs,
  RMM,
  RNE,
  RTZ,
  RUP,
  S,
  UF,
} from "./fpu_test_util.ts";

const M64 = (1n << 64n) - 1n;
const cvt = new DataView(new ArrayBuffer(8));
/** Double bits of a JS number. */
function D(x: number): bigint {
  cvt.setFloat64(0, x);
  return cvt.getBigUint64(0);
}
/** Single bits (boxed) of a JS number exactly representable as a single. */
function F(x: number): bigint {
  cvt.setFloat32(0, x);
  return S(cvt.getUint32(0));
}
/** 64-bit two's complement pattern of `v`. */
const u64 = (v: bigint) => BigInt.asUintN(64, v);

type Kind = "w" | "wu" | "l" | "lu";
const KINDS: Record<Kind, [boolean, boolean]> = {
  w: [true, false],
  wu: [false, false],
  l: [true, true],
  lu: [false, true],
};

/** fcvt.<kind>.<fmt> of `bits` in mode `rm` gives the 64-bit pattern `want` and `flags`. */
function toInt(fmt: 0 | 1, kind: Kind, bits: bigint, rm: number, want: bigint, flags: number) {
  const r = regs(bits);
  r.fflags = 0;
  const [signed, wide] = KINDS[kind];
  fpToInt(r, fmt, 1, rm, signed, wide);
  const label = `fcvt.${kind}.${fmt ? "d" : "s"} rm=${rm} of ${hex(bits)}`;
  assert.equal(hex(intOut(r)), hex(u64(want)), `${label}: result`);
  assert.equal(r.fflags, flags, `${label}: fflags`);
}

const NAN_D = 0x7ff8000000000000n;
const SNAN_D = 0x7ff4000000000000n;
const INF_D = 0x7ff0000000000000n;

Deno.test("fcvt.w.d at the 32-bit limits, every mode", () => {
  for (const rm of [RNE, RTZ, RDN, RUP, RMM]) {
    toInt(1, "w", D(2 ** 31 - 1), rm, 2n ** 31n - 1n, 0);
    toInt(1, "w", D(-(2 ** 31)), rm, -(2n ** 31n), 0);
    toInt(1, "w", D(2 ** 31), rm, 2n ** 31n - 1n, NV);
    toInt(1, "w", D(-(2 ** 31) - 1), rm, -(2n ** 31n), NV);
    toInt(1, "w", NAN_D, rm, 2n ** 31n - 1n, NV);
    toInt(1, "w", NAN_D | (1n << 63n), rm, 2n ** 31n - 1n, NV); // NaN saturates positive
    toInt(1, "w", INF_D, rm, 2n ** 31n - 1n, NV);
    toInt(1, "w", INF_D | (1n << 63n), rm, -(2n ** 31n), NV);
    toInt(1, "w", D(-0), rm, 0n, 0);
  }
  // -2^31 - 0.5: in range after rounding toward zero or to even, out of range downward
  const x = D(-(2 ** 31) - 0.5);
  toInt(1, "w", x, RTZ, -(2n ** 31n), NX);
  toInt(1, "w", x, RNE, -(2n ** 31n), NX);
  toInt(1, "w", x, RUP, -(2n ** 31n), NX);
  toInt(1, "w", x, RDN, -(2n ** 31n), NV);
  toInt(1, "w", x, RMM, -(2n ** 31n), NV);
  // 2^31 - 0.5
  const y = D(2 ** 31 - 0.5);
  toInt(1, "w", y, RTZ, 2n ** 31n - 1n, NX);
  toInt(1, "w", y, RNE, 2n ** 31n - 1n, NV); // ties to even: 2^31, out of range
  toInt(1, "w", y, RDN, 2n ** 31n - 1n, NX);
  toInt(1, "w", y, RUP, 2n ** 31n - 1n, NV);
  // -0.5 and 2.5 per mode
  toInt(1, "w", D(-0.5), RNE, 0n, NX);
  toInt(1, "w", D(-0.5), RMM, -1n, NX);
  toInt(1, "w", D(-0.5), RDN, -1n, NX);
  toInt(1, "w", D(-0.5), RUP, 0n, NX);
  toInt(1, "w", D(2.5), RNE, 2n, NX);
  toInt(1, "w", D(2.5), RMM, 3n, NX);
  toInt(1, "w", D(3.5), RNE, 4n, NX);
  toInt(1, "w", D(-2.5), RNE, -2n, NX);
  toInt(1, "w", D(-2.5), RTZ, -2n, NX);
});

Deno.test("fcvt.wu.d: negative inputs, 2^32, NaN; results sign-extended from 32 bits", () => {
  toInt(1, "wu", D(-0.3), RTZ, 0n, NX); // rounds to 0: in range
  toInt(1, "wu", D(-0.3), RNE, 0n, NX);
  toInt(1, "wu", D(-0.3), RDN, 0n, NV); // rounds to -1: invalid, no NX
  toInt(1, "wu", D(-0.5), RNE, 0n, NX);
  toInt(1, "wu", D(-0.5), RMM, 0n, NV);
  toInt(1, "wu", D(-1), RTZ, 0n, NV);
  toInt(1, "wu", INF_D | (1n << 63n), RNE, 0n, NV);
  toInt(1, "wu", D(2 ** 32 - 1), RNE, M64, 0); // 0xffffffff sign-extends
  toInt(1, "wu", D(2 ** 31), RNE, u64(-(2n ** 31n)), 0); // 0x80000000 sign-extends
  toInt(1, "wu", D(2 ** 32), RTZ, M64, NV);
  toInt(1, "wu", D(2 ** 32 - 0.5), RDN, M64, NX);
  toInt(1, "wu", D(2 ** 32 - 0.5), RNE, M64, NV); // ties to even 2^32: saturated
  toInt(1, "wu", NAN_D, RNE, M64, NV);
  toInt(1, "wu", SNAN_D, RNE, M64, NV);
  toInt(1, "wu", INF_D, RNE, M64, NV);
});

Deno.test("fcvt.l.d and fcvt.lu.d at the 64-bit limits", () => {
  const below63 = 0x43dfffffffffffffn; // 2^63 - 1024
  for (const rm of [RNE, RTZ, RDN, RUP, RMM]) {
    toInt(1, "l", below63, rm, 2n ** 63n - 1024n, 0);
    toInt(1, "l", D(2 ** 63), rm, 2n ** 63n - 1n, NV);
    toInt(1, "l", D(-(2 ** 63)), rm, -(2n ** 63n), 0);
    toInt(1, "l", D(-(2 ** 63) - 2048), rm, -(2n ** 63n), NV);
    toInt(1, "l", NAN_D, rm, 2n ** 63n - 1n, NV);
    toInt(1, "l", INF_D | (1n << 63n), rm, -(2n ** 63n), NV);
    toInt(1, "lu", 0x43efffffffffffffn, rm, 2n ** 64n - 2048n, 0);
    toInt(1, "lu", D(2 ** 64), rm, M64, NV);
    toInt(1, "lu", NAN_D, rm, M64, NV);
    toInt(1, "lu", D(-1), rm, 0n, NV);
    toInt(1, "lu", D(-0), rm, 0n, 0);
  }
  toInt(1, "l", D(-1.5), RNE, -2n, NX);
  toInt(1, "l", D(-1.5), RTZ, -1n, NX);
  toInt(1, "l", D(-1.5), RUP, -1n, NX);
  toInt(1, "l", D(-1.5), RDN, -2n, NX);
  toInt(1, "l", D(2 ** 51 + 0.5), RNE, 2n ** 51n, NX);
  toInt(1, "l", D(2 ** 51 + 0.5), RUP, 2n ** 51n + 1n, NX);
  toInt(1, "l", D(2251799813685249.5), RNE, 2251799813685250n, NX);
  toInt(1, "lu", D(-0.9), RTZ, 0n, NX);
  toInt(1, "lu", D(-0.9), RUP, 0n, NX);
});

Deno.test("fcvt from singles: boxing and the limits", () => {
  toInt(0, "w", F(2 ** 31), RNE, 2n ** 31n - 1n, NV);
  toInt(0, "w", F(-(2 ** 31)), RNE, -(2n ** 31n), 0);
  toInt(0, "wu", F(2 ** 32), RNE, M64, NV);
  toInt(0, "l", F(2 ** 63), RNE, 2n ** 63n - 1n, NV);
  toInt(0, "l", F(-(2 ** 63)), RNE, -(2n ** 63n), 0);
  toInt(0, "lu", F(2 ** 64), RNE, M64, NV);
  toInt(0, "lu", F(2 ** 63), RNE, 2n ** 63n, 0);
  toInt(0, "w", F(1.5), RNE, 2n, NX);
  toInt(0, "w", 0x000000003f800000n, RNE, 2n ** 31n - 1n, NV); // improperly boxed: NaN
  toInt(0, "l", S(0x7fa00000), RNE, 2n ** 63n - 1n, NV); // sNaN
});

/** fcvt.<fmt>.<kind> of the 64-bit integer `v` gives `want` and `flags`. */
function fromInt(fmt: 0 | 1, kind: Kind, v: bigint, rm: number, want: bigint, flags: number) {
  const r = regs();
  r.fflags = 0;
  const [signed, wide] = KINDS[kind];
  const bits = u64(v);
  fpFromInt(r, fmt, 0, Number(bits & 0xffffffffn) | 0, Number(bits >> 32n) | 0, rm, signed, wide);
  const label = `fcvt.${fmt ? "d" : "s"}.${kind} rm=${rm} of ${v}`;
  assert.equal(hex(reg(r, 0)), hex(want), `${label}: result`);
  assert.equal(r.fflags, flags, `${label}: fflags`);
}

Deno.test("fcvt.d.{l,lu,w,wu}: exact below 2^53, rounded above", () => {
  fromInt(1, "l", 2n ** 63n - 1n, RNE, D(2 ** 63), NX);
  fromInt(1, "l", 2n ** 63n - 1n, RTZ, 0x43dfffffffffffffn, NX);
  fromInt(1, "l", 2n ** 63n - 1n, RUP, D(2 ** 63), NX);
  fromInt(1, "l", -(2n ** 63n), RNE, D(-(2 ** 63)), 0);
  fromInt(1, "l", 2n ** 53n + 1n, RNE, D(2 ** 53), NX);
  fromInt(1, "l", 2n ** 53n + 1n, RUP, D(2 ** 53 + 2), NX);
  fromInt(1, "l", 2n ** 53n + 1n, RMM, D(2 ** 53 + 2), NX);
  fromInt(1, "l", -(2n ** 53n) - 1n, RDN, D(-(2 ** 53) - 2), NX);
  fromInt(1, "l", -(2n ** 53n) - 1n, RTZ, D(-(2 ** 53)), NX);
  fromInt(1, "lu", M64, RNE, D(2 ** 64), NX);
  fromInt(1, "lu", M64, RTZ, 0x43efffffffffffffn, NX);
  fromInt(1, "lu", 0n, RDN, 0n, 0); // +0 even in RDN
  fromInt(1, "w", -1n, RNE, D(-1), 0);
  fromInt(1, "w", 0xffffffff80000000n, RNE, D(-(2 ** 31)), 0);
  fromInt(1, "wu", 0xffffffffn, RNE, D(2 ** 32 - 1), 0);
  fromInt(1, "wu", -1n, RNE, D(2 ** 32 - 1), 0); // only the low word counts
});

Deno.test("fcvt.s.{w,wu,l,lu}: rounding to 24 bits", () => {
  fromInt(0, "w", 2n ** 24n + 1n, RNE, F(2 ** 24), NX);
  fromInt(0, "w", 2n ** 24n + 1n, RUP, S(0x4b800001), NX);
  fromInt(0, "w", 2n ** 24n + 3n, RNE, F(2 ** 24 + 4), NX); // tie to even
  fromInt(0, "w", 2n ** 31n - 1n, RNE, F(2 ** 31), NX);
  fromInt(0, "w", 2n ** 31n - 1n, RTZ, S(0x4effffff), NX);
  fromInt(0, "w", -(2n ** 31n), RNE, F(-(2 ** 31)), 0);
  fromInt(0, "wu", 0xffffffffn, RTZ, S(0x4f7fffff), NX);
  fromInt(0, "wu", 0xffffffffn, RNE, F(2 ** 32), NX);
  fromInt(0, "l", -(2n ** 63n), RNE, F(-(2 ** 63)), 0);
  fromInt(0, "l", 2n ** 63n - 1n, RDN, S(0x5effffff), NX);
  fromInt(0, "lu", M64, RNE, F(2 ** 64), NX);
  fromInt(0, "lu", M64, RTZ, S(0x5f7fffff), NX);
  fromInt(0, "lu", (1n << 40n) + (1n << 16n), RNE, F(2 ** 40), NX); // tie to even
  fromInt(0, "lu", (1n << 40n) + (1n << 16n), RMM, S(0x53800001), NX);
});

/** fcvt.s.d (toFmt 0) or fcvt.d.s (toFmt 1) of `bits`. */
function convert(toFmt: 0 | 1, bits: bigint, rm: number, want: bigint, flags: number) {
  const r = regs(bits);
  r.fflags = 0;
  fpConvert(r, toFmt, 0, 1, rm);
  const label = `fcvt.${toFmt ? "d.s" : "s.d"} rm=${rm} of ${hex(bits)}`;
  assert.equal(hex(reg(r, 0)), hex(want), `${label}: result`);
  assert.equal(r.fflags, flags, `${label}: fflags`);
}

Deno.test("fcvt.s.d: rounding, overflow, underflow, NaNs", () => {
  const tie = D(1 + 2 ** -24);
  convert(0, tie, RNE, F(1), NX);
  convert(0, tie, RMM, S(0x3f800001), NX);
  convert(0, tie, RUP, S(0x3f800001), NX);
  convert(0, D(-(1 + 2 ** -24)), RDN, S(0xbf800001), NX);
  convert(0, D(-(1 + 2 ** -24)), RTZ, F(-1), NX);
  const max = 0x7fefffffffffffffn;
  convert(0, max, RNE, S(0x7f800000), OF | NX);
  convert(0, max, RTZ, S(0x7f7fffff), OF | NX);
  convert(0, max, RDN, S(0x7f7fffff), OF | NX);
  convert(0, max | (1n << 63n), RDN, S(0xff800000), OF | NX);
  convert(0, 1n, RNE, S(0), UF | NX); // the least double subnormal
  convert(0, 1n, RUP, S(1), UF | NX);
  convert(0, 1n | (1n << 63n), RDN, S(0x80000001), UF | NX);
  convert(0, D(2 ** -149), RNE, S(1), 0); // exact single subnormal
  convert(0, D(2 ** -126 * (1 - 2 ** -25)), RNE, S(0x00800000), NX); // not tiny after rounding
  convert(0, D(2 ** -126 * (1 - 2 ** -24)), RNE, S(0x00800000), UF | NX); // tiny: 24-bit exact
  convert(0, 0x7ff0000000000000n, RNE, S(0x7f800000), 0);
  convert(0, 0x7ff8000000000001n, RNE, S(0x7fc00000), 0);
  convert(0, 0x7ff0000000000001n, RNE, S(0x7fc00000), NV);
  convert(0, 1n << 63n, RNE, S(0x80000000), 0);
});

Deno.test("fcvt.d.s: exact, canonical NaNs, improperly boxed operands", () => {
  convert(1, S(0x00000001), RNE, D(2 ** -149), 0);
  convert(1, S(0xff7fffff), RNE, D(-3.4028234663852886e38), 0);
  convert(1, S(0x7fc00001), RNE, 0x7ff8000000000000n, 0);
  convert(1, S(0x7f800001), RNE, 0x7ff8000000000000n, NV);
  convert(1, 0x123456783f800000n, RNE, 0x7ff8000000000000n, 0); // improperly boxed: qNaN
  convert(1, S(0x80000000), RNE, 1n << 63n, 0);
});
