/**
 * Unit tests of the FPU's arithmetic (add, sub, mul, div, sqrt, the fused multiply-add family):
 * each rounding mode, each flag, NaN boxing and canonical NaNs, signed zeros, subnormal inputs
 * and outputs, overflow to infinity or the greatest finite value by rounding mode, tininess
 * after rounding, and fused results a JavaScript `a * b + c` gets wrong. Expected values are
 * worked out by hand from the specification (not from our code).
 */

import assert from "node:assert/strict";
import {
  fpAdd,
  fpDiv,
  fpFma,
  fpMul,
  FpRegisters,
  fpSqrt,
  fpSub,
} from "../../../lib/hw/riscv/fpu.ts";
import { DZ, hex, NV, NX, OF, RDN, reg, regs, RMM, RNE, RTZ, RUP, S, UF } from "./fpu_test_util.ts";

type Op = (r: FpRegisters, rm: number) => void;
const add = (fmt: 0 | 1): Op => (r, rm) => fpAdd(r, fmt, 0, 1, 2, rm);
const sub = (fmt: 0 | 1): Op => (r, rm) => fpSub(r, fmt, 0, 1, 2, rm);
const mul = (fmt: 0 | 1): Op => (r, rm) => fpMul(r, fmt, 0, 1, 2, rm);
const div = (fmt: 0 | 1): Op => (r, rm) => fpDiv(r, fmt, 0, 1, 2, rm);
const sqrt = (fmt: 0 | 1): Op => (r, rm) => fpSqrt(r, fmt, 0, 1, rm);
const fma = (fmt: 0 | 1, np = false, na = false): Op => (r, rm) =>
  fpFma(r, fmt, 0, 1, 2, 3, rm, np, na);

/** Checks `op` on `operands` in each rounding mode of `byMode`: [result, flags]. */
function check(
  name: string,
  op: Op,
  operands: bigint[],
  byMode: Record<number, [bigint, number]>,
): void {
  for (const [mode, [want, flags]] of Object.entries(byMode)) {
    const r = regs(...operands);
    r.fflags = 0;
    op(r, Number(mode));
    const got = reg(r, 0);
    const label = `${name} rm=${mode} (${operands.map(hex).join(", ")})`;
    assert.equal(hex(got), hex(want), `${label}: result`);
    assert.equal(r.fflags, flags, `${label}: fflags`);
  }
}

/** The same expectation in all five modes. */
function all(want: bigint, flags: number): Record<number, [bigint, number]> {
  return Object.fromEntries([0, 1, 2, 3, 4].map((m) => [m, [want, flags]]));
}

const ONE = 0x3ff0000000000000n;
const ONE_UP = 0x3ff0000000000001n; // 1 + 2^-52
const ONE_DOWN = 0x3fefffffffffffffn; // 1 - 2^-53
const TWO_M53 = 0x3ca0000000000000n;
const TWO_M54 = 0x3c90000000000000n;
const MAX = 0x7fefffffffffffffn;
const INF = 0x7ff0000000000000n;
const NEG = 1n << 63n;
const QNAN = 0x7ff8000000000000n;
const SNAN = 0x7ff0000000000001n;
const MIN_SUB = 1n;
const MIN_NORMAL = 0x0010000000000000n;
const CANON_S = S(0x7fc00000);

Deno.test("fadd.d rounds a tie per mode: 1 + 2^-53", () => {
  check("fadd.d", add(1), [ONE, TWO_M53], {
    [RNE]: [ONE, NX],
    [RTZ]: [ONE, NX],
    [RDN]: [ONE, NX],
    [RUP]: [ONE_UP, NX],
    [RMM]: [ONE_UP, NX],
  });
  check("fadd.d", add(1), [ONE | NEG, TWO_M53 | NEG], {
    [RNE]: [ONE | NEG, NX],
    [RTZ]: [ONE | NEG, NX],
    [RDN]: [ONE_UP | NEG, NX],
    [RUP]: [ONE | NEG, NX],
    [RMM]: [ONE_UP | NEG, NX],
  });
  // below the tie: RMM rounds to nearest too
  check("fadd.d", add(1), [ONE, TWO_M54], {
    [RNE]: [ONE, NX],
    [RMM]: [ONE, NX],
    [RUP]: [ONE_UP, NX],
    [RDN]: [ONE, NX],
  });
});

Deno.test("fadd/fsub.d exact zeros: x - x is +0, -0 in RDN; -0 + -0 is -0", () => {
  check("fsub.d", sub(1), [ONE, ONE], {
    [RNE]: [0n, 0],
    [RTZ]: [0n, 0],
    [RDN]: [NEG, 0],
    [RUP]: [0n, 0],
    [RMM]: [0n, 0],
  });
  check("fadd.d", add(1), [NEG, NEG], all(NEG, 0));
  check("fadd.d", add(1), [0n, NEG], {
    [RNE]: [0n, 0],
    [RDN]: [NEG, 0],
    [RUP]: [0n, 0],
  });
  check("fadd.d", add(1), [0n, ONE_DOWN], all(ONE_DOWN, 0));
});

Deno.test("fadd.d overflow: infinity or the greatest finite value by mode and sign", () => {
  check("fadd.d", add(1), [MAX, MAX], {
    [RNE]: [INF, OF | NX],
    [RTZ]: [MAX, OF | NX],
    [RDN]: [MAX, OF | NX],
    [RUP]: [INF, OF | NX],
    [RMM]: [INF, OF | NX],
  });
  check("fadd.d", add(1), [MAX | NEG, MAX | NEG], {
    [RNE]: [INF | NEG, OF | NX],
    [RTZ]: [MAX | NEG, OF | NX],
    [RDN]: [INF | NEG, OF | NX],
    [RUP]: [MAX | NEG, OF | NX],
    [RMM]: [INF | NEG, OF | NX],
  });
  // MAX + half an ulp is a tie: RNE rounds to even (2^1024, overflow); RTZ keeps MAX, which
  // is no overflow (the rounded result does not exceed MAX)
  check("fadd.d", add(1), [MAX, 0x7c90000000000000n], {
    [RNE]: [INF, OF | NX],
    [RTZ]: [MAX, NX],
    [RUP]: [INF, OF | NX],
  });
});

Deno.test("fadd.d specials: inf - inf and signalling NaNs raise NV; quiet NaNs do not", () => {
  check("fsub.d", sub(1), [INF, INF], all(QNAN, NV));
  check("fadd.d", add(1), [INF, INF | NEG], all(QNAN, NV));
  check("fadd.d", add(1), [INF, MAX | NEG], all(INF, 0));
  check("fadd.d", add(1), [QNAN | 0x1234n, ONE], all(QNAN, 0));
  check("fadd.d", add(1), [ONE, SNAN], all(QNAN, NV));
  check("fadd.d", add(1), [MIN_SUB, MIN_SUB], all(2n, 0)); // subnormals add exactly
});

Deno.test("fmul.d underflow: tininess is detected after rounding", () => {
  // (1 - 2^-52)(1 + 2^-52) 2^-1022 = 2^-1022 (1 - 2^-104): rounds to 2^-1022 with an unbounded
  // exponent (not tiny) in RNE and RUP; RTZ/RDN round down below 2^-1022 (tiny)
  check("fmul.d", mul(1), [0x3feffffffffffffen, 0x0010000000000001n], {
    [RNE]: [MIN_NORMAL, NX],
    [RUP]: [MIN_NORMAL, NX],
    [RMM]: [MIN_NORMAL, NX],
    [RTZ]: [0x000fffffffffffffn, UF | NX],
    [RDN]: [0x000fffffffffffffn, UF | NX],
  });
  // 2^-1022 (1 - 2^-53): exactly representable with 53 bits at exponent -1023, so tiny; the
  // subnormal result is a tie that RNE rounds up to 2^-1022
  check("fmul.d", mul(1), [MIN_NORMAL, ONE_DOWN], {
    [RNE]: [MIN_NORMAL, UF | NX],
    [RUP]: [MIN_NORMAL, UF | NX],
    [RTZ]: [0x000fffffffffffffn, UF | NX],
    [RMM]: [MIN_NORMAL, UF | NX],
  });
  // half the least subnormal: RNE to +0 (even), RUP and RMM to the least subnormal
  check("fmul.d", mul(1), [MIN_SUB, 0x3fe0000000000000n], {
    [RNE]: [0n, UF | NX],
    [RTZ]: [0n, UF | NX],
    [RDN]: [0n, UF | NX],
    [RUP]: [MIN_SUB, UF | NX],
    [RMM]: [MIN_SUB, UF | NX],
  });
  // an exact subnormal result raises nothing
  check("fmul.d", mul(1), [MIN_NORMAL, 0x3fe0000000000000n], all(0x0008000000000000n, 0));
  check("fmul.d", mul(1), [MIN_SUB | NEG, 0n], all(NEG, 0));
  check("fmul.d", mul(1), [INF, 0n], all(QNAN, NV));
});

Deno.test("fdiv.d: directed roundings, DZ, invalid quotients", () => {
  const third = 0x3fd5555555555555n;
  check("fdiv.d", div(1), [ONE, 0x4008000000000000n], {
    [RNE]: [third, NX],
    [RTZ]: [third, NX],
    [RDN]: [third, NX],
    [RUP]: [third + 1n, NX],
    [RMM]: [third, NX],
  });
  check("fdiv.d", div(1), [ONE, 0n], all(INF, DZ));
  check("fdiv.d", div(1), [ONE | NEG, 0n], all(INF | NEG, DZ));
  check("fdiv.d", div(1), [0n, 0n], all(QNAN, NV));
  check("fdiv.d", div(1), [INF, INF | NEG], all(QNAN, NV));
  check("fdiv.d", div(1), [INF, 0n], all(INF, 0)); // no DZ: the dividend is infinite
  check("fdiv.d", div(1), [ONE, INF | NEG], all(NEG, 0));
  check("fdiv.d", div(1), [0x4018000000000000n, 0x4008000000000000n], all(0x4000000000000000n, 0));
  check("fdiv.d", div(1), [MAX, 0x3fe0000000000000n], {
    [RNE]: [INF, OF | NX],
    [RTZ]: [MAX, OF | NX],
  });
});

Deno.test("fsqrt.d: exact roundings, -0, negative operands", () => {
  const root2 = 0x3ff6a09e667f3bcdn; // sqrt(2) rounded to nearest is above the true value
  check("fsqrt.d", sqrt(1), [0x4000000000000000n], {
    [RNE]: [root2, NX],
    [RTZ]: [root2 - 1n, NX],
    [RDN]: [root2 - 1n, NX],
    [RUP]: [root2, NX],
    [RMM]: [root2, NX],
  });
  check("fsqrt.d", sqrt(1), [0x4010000000000000n], all(0x4000000000000000n, 0));
  check("fsqrt.d", sqrt(1), [NEG], all(NEG, 0));
  check("fsqrt.d", sqrt(1), [ONE | NEG], all(QNAN, NV));
  check("fsqrt.d", sqrt(1), [INF | NEG], all(QNAN, NV));
  check("fsqrt.d", sqrt(1), [INF], all(INF, 0));
  check("fsqrt.d", sqrt(1), [4n], all(0x1e70000000000000n, 0)); // sqrt(2^-1072) = 2^-536
});

Deno.test("fma.d: one rounding, cancellation signs, products that overflow alone", () => {
  // (1 + 2^-52)(1 - 2^-52) - 1 = -2^-104 exactly; a * b + c in JS gives 0
  check("fmadd.d", fma(1), [ONE_UP, 0x3feffffffffffffen, ONE | NEG], all(0xb970000000000000n, 0));
  check("fmadd.d", fma(1), [ONE, ONE, ONE | NEG], {
    [RNE]: [0n, 0],
    [RTZ]: [0n, 0],
    [RDN]: [NEG, 0],
    [RUP]: [0n, 0],
    [RMM]: [0n, 0],
  });
  // MAX * (1 + 2^-52) overflows alone; minus MAX it is 2^972 - 2^919, exact
  check("fmadd.d", fma(1), [MAX, ONE_UP, MAX | NEG], all(0x7cafffffffffffffn, 0));
  // ... minus 2^972 it is MAX - 2^919: inexact, no overflow
  check("fmadd.d", fma(1), [MAX, ONE_UP, 0x7cb0000000000000n | NEG], {
    [RNE]: [MAX, NX],
    [RUP]: [MAX, NX],
    [RDN]: [MAX - 1n, NX],
    [RTZ]: [MAX - 1n, NX],
  });
  // the product's sign and the addend's sign: fnmadd = -(a*b) - c, fmsub = a*b - c
  check("fnmadd.d", fma(1, true, true), [ONE, ONE, ONE], all(0xc000000000000000n, 0));
  check("fmsub.d", fma(1, false, true), [ONE, ONE, ONE], {
    [RNE]: [0n, 0],
    [RDN]: [NEG, 0],
  });
  check("fnmsub.d", fma(1, true, false), [ONE, ONE, ONE], { [RNE]: [0n, 0], [RDN]: [NEG, 0] });
  // 0 * inf + qNaN: NV (as QEMU's softfloat for RISC-V); 0 * inf + 1 too
  check("fmadd.d", fma(1), [0n, INF, QNAN], all(QNAN, NV));
  check("fmadd.d", fma(1), [0n, INF, ONE], all(QNAN, NV));
  check("fmadd.d", fma(1), [ONE, ONE, SNAN], all(QNAN, NV));
  check("fmadd.d", fma(1), [INF, ONE, INF | NEG], all(QNAN, NV));
  check("fmadd.d", fma(1), [0n, ONE, NEG], { [RNE]: [0n, 0], [RDN]: [NEG, 0] });
  check("fmadd.d", fma(1), [NEG, ONE, NEG], all(NEG, 0));
  // a tiny exact product under a normal addend: 1 + 2^-1074 * 2^-1 rounds per mode
  check("fmadd.d", fma(1), [MIN_SUB, 0x3fe0000000000000n, ONE], {
    [RNE]: [ONE, NX],
    [RUP]: [ONE_UP, NX],
    [RDN]: [ONE, NX],
  });
});

Deno.test("single ops: NaN boxing, canonical NaN, rounding at 24 bits", () => {
  const one = S(0x3f800000);
  const half_ulp = S(0x33800000); // 2^-24
  check("fadd.s", add(0), [one, half_ulp], {
    [RNE]: [one, NX],
    [RUP]: [S(0x3f800001), NX],
    [RMM]: [S(0x3f800001), NX],
    [RTZ]: [one, NX],
  });
  // an improperly boxed operand reads as the canonical NaN: quiet, no flag
  check("fadd.s", add(0), [0x000000003f800000n, one], all(CANON_S, 0));
  check("fadd.s", add(0), [S(0x7f800001), one], all(CANON_S, NV));
  check("fmul.s", mul(0), [S(0x7f7fffff), S(0x40000000)], {
    [RNE]: [S(0x7f800000), OF | NX],
    [RTZ]: [S(0x7f7fffff), OF | NX],
    [RDN]: [S(0x7f7fffff), OF | NX],
  });
  check("fmul.s", mul(0), [S(0x00000001), S(0x3f000000)], {
    [RNE]: [S(0), UF | NX],
    [RUP]: [S(1), UF | NX],
  });
  check("fdiv.s", div(0), [one, S(0x40400000)], {
    [RNE]: [S(0x3eaaaaab), NX],
    [RTZ]: [S(0x3eaaaaaa), NX],
    [RUP]: [S(0x3eaaaaab), NX],
  });
  check("fsqrt.s", sqrt(0), [S(0x40000000)], {
    [RNE]: [S(0x3fb504f3), NX],
    [RTZ]: [S(0x3fb504f3), NX],
    [RUP]: [S(0x3fb504f4), NX],
  });
  check("fsub.s", sub(0), [one, one], { [RNE]: [S(0), 0], [RDN]: [S(0x80000000), 0] });
});

Deno.test("fmadd.s: the double-rounding trap of a * b + c", () => {
  // exact: (1 + 2^-23) + (1 + 2^-23) 2^-24 (1 - 2^-23) = 1 + 2^-23 + 2^-24 - 2^-70, just below
  // the midpoint between 1 + 2^-23 and 1 + 2^-22: rounds to 1 + 2^-23. The double sum lands on
  // the midpoint and would round to even (1 + 2^-22).
  const a = S(0x3f800001), b = S(0x337ffffe), c = S(0x3f800001);
  check("fmadd.s", fma(0), [a, b, c], {
    [RNE]: [S(0x3f800001), NX],
    [RMM]: [S(0x3f800001), NX],
    [RTZ]: [S(0x3f800001), NX],
    [RUP]: [S(0x3f800002), NX],
  });
  check("fmadd.s", fma(0), [S(0), S(0x7f800000), S(0x7fc00000)], all(CANON_S, NV));
});

Deno.test("single underflow: tininess after rounding at 2^-126", () => {
  // 2^-126 (1 - 2^-24): exact with 24 bits at exponent -127, so tiny; the subnormal result is a
  // tie that RNE rounds up to 2^-126
  check("fmul.s", mul(0), [S(0x00800000), S(0x3f7fffff)], {
    [RNE]: [S(0x00800000), UF | NX],
    [RTZ]: [S(0x007fffff), UF | NX],
    [RUP]: [S(0x00800000), UF | NX],
  });
  // (1 - 2^-23)(1 + 2^-23) 2^-126 = 2^-126 (1 - 2^-46): rounds to 2^-126 unbounded (not tiny)
  check("fmul.s", mul(0), [S(0x3f7ffffe), S(0x00800001)], {
    [RNE]: [S(0x00800000), NX],
    [RMM]: [S(0x00800000), NX],
    [RUP]: [S(0x00800000), NX],
    [RTZ]: [S(0x007fffff), UF | NX],
    [RDN]: [S(0x007fffff), UF | NX],
  });
  // through a fused multiply-add: an exact subnormal result raises nothing; the boundary above
  // with a -0 addend
  check("fmadd.s", fma(0), [S(0x00800000), S(0x3f7ffffe), S(0x00000000)], all(S(0x007fffff), 0));
  check("fmadd.s", fma(0), [S(0x3f7ffffe), S(0x00800001), S(0x80000000)], {
    [RNE]: [S(0x00800000), NX],
    [RTZ]: [S(0x007fffff), UF | NX],
  });
});
