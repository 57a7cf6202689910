/**
 * Unit tests of the FPU's non-arithmetic operations: fmin/fmax (version 2.2: a single NaN
 * yields the other operand, -0 < +0, NV only for signalling NaNs), sign injection (pure bit
 * operations on unboxed singles), comparisons (feq quiet, flt/fle signalling), and fclass.
 */

import assert from "node:assert/strict";
import {
  fpClass,
  fpCompare,
  fpMinMax,
  FpRegisters,
  fpSignInject,
} from "../../../lib/hw/riscv/fpu.ts";
import { hex, NV, reg, regs, S } from "./fpu_test_util.ts";

const ONE = 0x3ff0000000000000n;
const TWO = 0x4000000000000000n;
const NEG = 1n << 63n;
const QNAN = 0x7ff8000000000000n;
const SNAN = 0x7ff0000000000001n;
const INF = 0x7ff0000000000000n;

function minmax(fmt: 0 | 1, a: bigint, b: bigint, max: boolean, want: bigint, flags: number) {
  const r = regs(a, b);
  r.fflags = 0;
  fpMinMax(r, fmt, 0, 1, 2, max);
  const label = `f${max ? "max" : "min"}.${fmt ? "d" : "s"}(${hex(a)}, ${hex(b)})`;
  assert.equal(hex(reg(r, 0)), hex(want), label);
  assert.equal(r.fflags, flags, `${label}: fflags`);
}

Deno.test("fmin/fmax: NaN operands, signed zeros, NV only for sNaN", () => {
  for (const fmt of [0, 1] as const) {
    const one = fmt ? ONE : S(0x3f800000);
    const two = fmt ? TWO : S(0x40000000);
    const qnan = fmt ? QNAN : S(0x7fc00000);
    const snan = fmt ? SNAN : S(0x7f800001);
    const pz = fmt ? 0n : S(0);
    const nz = fmt ? NEG : S(0x80000000);
    minmax(fmt, one, two, false, one, 0);
    minmax(fmt, one, two, true, two, 0);
    minmax(fmt, qnan, one, false, one, 0);
    minmax(fmt, one, qnan, true, one, 0);
    minmax(fmt, snan, one, false, one, NV);
    minmax(fmt, one, snan, true, one, NV);
    minmax(fmt, qnan, qnan, true, qnan, 0);
    minmax(fmt, snan, qnan, false, qnan, NV); // both NaN: the canonical NaN
    minmax(fmt, pz, nz, false, nz, 0);
    minmax(fmt, nz, pz, false, nz, 0);
    minmax(fmt, pz, nz, true, pz, 0);
    minmax(fmt, nz, pz, true, pz, 0);
  }
  // a NaN payload is never propagated
  minmax(1, 0x7ff8000000001234n, 0x7ff8000000005678n, true, QNAN, 0);
  // an improperly boxed single is the canonical NaN: the other operand wins
  minmax(0, 0x3f800000n, S(0x40000000), false, S(0x40000000), 0);
  minmax(1, INF | NEG, ONE, false, INF | NEG, 0);
});

function sgnj(fmt: 0 | 1, kind: number, a: bigint, b: bigint, want: bigint) {
  const r = regs(a, b);
  r.fflags = 0;
  fpSignInject(r, fmt, 0, 1, 2, kind);
  assert.equal(hex(reg(r, 0)), hex(want), `fsgnj kind ${kind} (${hex(a)}, ${hex(b)})`);
  assert.equal(r.fflags, 0);
}

Deno.test("fsgnj/fsgnjn/fsgnjx: bit operations, no flags, payloads kept", () => {
  sgnj(1, 0, ONE, NEG, ONE | NEG);
  sgnj(1, 1, ONE, NEG, ONE);
  sgnj(1, 2, ONE | NEG, NEG, ONE);
  sgnj(1, 0, SNAN, NEG, SNAN | NEG); // signalling NaN moved as bits, no NV
  sgnj(1, 2, 0x7ff8000000001234n, NEG, 0xfff8000000001234n);
  sgnj(0, 0, S(0x3f800000), S(0x80000000), S(0xbf800000));
  sgnj(0, 1, S(0x3f800000), S(0x80000000), S(0x3f800000));
  sgnj(0, 2, S(0xbf800000), S(0x80000000), S(0x3f800000));
  // improperly boxed inputs read as the canonical NaN 0x7fc00000
  sgnj(0, 0, 0x3f800000n, S(0x80000000), S(0xffc00000));
  sgnj(0, 1, S(0x3f800000), 0x3f800000n, S(0xbf800000)); // rs2 is +NaN: fsgnjn gives -
  sgnj(0, 0, S(0x7f800001), S(0x80000000), S(0xff800001));
});

function cmp(fmt: 0 | 1, kind: number, a: bigint, b: bigint, want: number, flags: number) {
  const r = regs(a, b);
  r.fflags = 0;
  const got = fpCompare(r, fmt, 1, 2, kind);
  const label = `${["fle", "flt", "feq"][kind]}.${fmt ? "d" : "s"}(${hex(a)}, ${hex(b)})`;
  assert.equal(got, want, label);
  assert.equal(r.fflags, flags, `${label}: fflags`);
}

Deno.test("feq is quiet, flt and fle signal on any NaN; -0 == +0", () => {
  const [FLE, FLT, FEQ] = [0, 1, 2];
  for (const fmt of [0, 1] as const) {
    const one = fmt ? ONE : S(0x3f800000);
    const two = fmt ? TWO : S(0x40000000);
    const qnan = fmt ? QNAN : S(0x7fc00000);
    const snan = fmt ? SNAN : S(0x7f800001);
    const pz = fmt ? 0n : S(0);
    const nz = fmt ? NEG : S(0x80000000);
    cmp(fmt, FLT, one, two, 1, 0);
    cmp(fmt, FLT, two, one, 0, 0);
    cmp(fmt, FLE, one, one, 1, 0);
    cmp(fmt, FEQ, one, one, 1, 0);
    cmp(fmt, FEQ, nz, pz, 1, 0);
    cmp(fmt, FLT, nz, pz, 0, 0);
    cmp(fmt, FLE, nz, pz, 1, 0);
    cmp(fmt, FEQ, qnan, one, 0, 0);
    cmp(fmt, FEQ, qnan, qnan, 0, 0);
    cmp(fmt, FEQ, snan, one, 0, NV);
    cmp(fmt, FLT, qnan, one, 0, NV);
    cmp(fmt, FLE, one, qnan, 0, NV);
    cmp(fmt, FLE, snan, one, 0, NV);
  }
  cmp(0, 2, 0x3f800000n, 0x3f800000n, 0, 0); // improperly boxed: quiet NaNs
  cmp(0, 1, 0x3f800000n, S(0x3f800000), 0, NV);
  cmp(1, 1, INF | NEG, INF, 1, 0);
});

Deno.test("fclass: the ten classes, S and D", () => {
  const D: [bigint, number][] = [
    [INF | NEG, 0],
    [ONE | NEG, 1],
    [1n | NEG, 2],
    [NEG, 3],
    [0n, 4],
    [0x000fffffffffffffn, 5],
    [0x7fefffffffffffffn, 6],
    [INF, 7],
    [SNAN, 8],
    [QNAN | NEG, 9],
  ];
  const r = new FpRegisters();
  for (const [bits, cls] of D) {
    const rr = regs(bits);
    assert.equal(fpClass(rr, 1, 1), 1 << cls, `fclass.d ${hex(bits)}`);
    assert.equal(rr.fflags, 0);
  }
  const SS: [bigint, number][] = [
    [S(0xff800000), 0],
    [S(0xbf800000), 1],
    [S(0x807fffff), 2],
    [S(0x80000000), 3],
    [S(0), 4],
    [S(1), 5],
    [S(0x00800000), 6],
    [S(0x7f800000), 7],
    [S(0x7fbfffff), 8],
    [S(0x7fc00000), 9],
    [0x0000000000000000n, 9], // improperly boxed: the canonical quiet NaN
  ];
  for (const [bits, cls] of SS) {
    assert.equal(fpClass(regs(bits), 0, 1), 1 << cls, `fclass.s ${hex(bits)}`);
  }
  assert.equal(fpClass(r, 1, 5), 1 << 4); // a fresh register is +0
});
