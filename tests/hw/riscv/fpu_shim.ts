/**
 * TEMPORARY test-only FPU, used only while `lib/hw/riscv/fpu.ts` is still the unbuilt contract
 * (its functions throw "fpu: not built yet"). It computes with JavaScript doubles in
 * round-to-nearest and raises only the NV and DZ flags, so the hart's FP integration (decoding,
 * mstatus.FS, NaN boxing, loads and stores, the JIT) can be tested before the exact FPU lands.
 * {@linkcode useFpuShimIfMissing} installs it only when the real FPU is missing: once the FPU
 * branch is merged, every test runs on the exact FPU and this file can be deleted.
 *
 * @module
 */

import { FpRegisters } from "../../../lib/hw/riscv/fpu.ts";
import * as fpu from "../../../lib/hw/riscv/fpu.ts";
import { fpuOps } from "../../../lib/hw/riscv/fp_exec.ts";

const f32 = new Float32Array(1);
const i32 = new Int32Array(f32.buffer);

function get(r: FpRegisters, fmt: number, i: number): number {
  if (fmt === 1) return r.f64[i];
  if (r.words[i * 2 + 1] !== -1) return NaN;
  i32[0] = r.words[i * 2];
  return f32[0];
}

function put(r: FpRegisters, fmt: number, i: number, v: number): void {
  if (fmt === 1) {
    if (Number.isNaN(v)) {
      r.words[i * 2] = 0;
      r.words[i * 2 + 1] = 0x7ff80000;
    } else r.f64[i] = v;
    return;
  }
  f32[0] = v;
  r.words[i * 2] = Number.isNaN(v) ? 0x7fc00000 : i32[0];
  r.words[i * 2 + 1] = -1;
}

function isMissing(): boolean {
  try {
    fpu.fpClass(new FpRegisters(), 1, 0);
    return false;
  } catch (e) {
    return e instanceof Error && /not built yet/.test(e.message);
  }
}

/** Installs the double-based shim into the hart's FPU table when fpu.ts is not built yet. */
export function useFpuShimIfMissing(): void {
  if (!isMissing()) return;
  const bin =
    (fn: (a: number, b: number) => number) =>
    (r: FpRegisters, fmt: 0 | 1, rd: number, a: number, b: number): void => {
      const x = get(r, fmt, a);
      const y = get(r, fmt, b);
      if (fn === div && y === 0 && x === x && x !== 0) r.fflags |= 8;
      put(r, fmt, rd, fn(x, y));
    };
  const div = (a: number, b: number) => a / b;
  fpuOps.fpAdd = bin((a, b) => a + b);
  fpuOps.fpSub = bin((a, b) => a - b);
  fpuOps.fpMul = bin((a, b) => a * b);
  fpuOps.fpDiv = bin(div);
  fpuOps.fpSqrt = (r, fmt, rd, a) => put(r, fmt, rd, Math.sqrt(get(r, fmt, a)));
  fpuOps.fpFma = (r, fmt, rd, a, b, c, _rm, np, na) => {
    const p = get(r, fmt, a) * get(r, fmt, b);
    const q = get(r, fmt, c);
    put(r, fmt, rd, (np ? -p : p) + (na ? -q : q));
  };
  fpuOps.fpMinMax = (r, fmt, rd, a, b, max) => {
    const x = get(r, fmt, a);
    const y = get(r, fmt, b);
    put(
      r,
      fmt,
      rd,
      Number.isNaN(x) ? y : Number.isNaN(y) ? x : max ? Math.max(x, y) : Math.min(x, y),
    );
  };
  fpuOps.fpSignInject = (r, fmt, rd, a, b, kind) => {
    if (fmt === 1) {
      const ha = r.words[a * 2 + 1];
      const hb = r.words[b * 2 + 1];
      const s = kind === 0 ? hb : kind === 1 ? ~hb : ha ^ hb;
      r.words[rd * 2] = r.words[a * 2];
      r.words[rd * 2 + 1] = (ha & 0x7fffffff) | (s & (0x80000000 | 0));
      return;
    }
    const la = r.words[a * 2 + 1] === -1 ? r.words[a * 2] : 0x7fc00000;
    const lb = r.words[b * 2 + 1] === -1 ? r.words[b * 2] : 0x7fc00000;
    const s = kind === 0 ? lb : kind === 1 ? ~lb : la ^ lb;
    r.words[rd * 2] = (la & 0x7fffffff) | (s & (0x80000000 | 0));
    r.words[rd * 2 + 1] = -1;
  };
  fpuOps.fpCompare = (r, fmt, a, b, kind) => {
    const x = get(r, fmt, a);
    const y = get(r, fmt, b);
    if ((Number.isNaN(x) || Number.isNaN(y)) && kind !== 2) r.fflags |= 16;
    return (kind === 0 ? x <= y : kind === 1 ? x < y : x === y) ? 1 : 0;
  };
  fpuOps.fpClass = (r, fmt, a) => {
    const x = get(r, fmt, a);
    const neg = x < 0 || Object.is(x, -0);
    if (Number.isNaN(x)) return 1 << 9;
    if (x === Infinity) return 1 << 7;
    if (x === -Infinity) return 1;
    if (x === 0) return neg ? 1 << 3 : 1 << 4;
    const sub = Math.abs(x) < (fmt === 1 ? 2.2250738585072014e-308 : 1.1754943508222875e-38);
    return neg ? (sub ? 1 << 2 : 1 << 1) : (sub ? 1 << 5 : 1 << 6);
  };
  fpuOps.fpToInt = (r, fmt, a, _rm, signed, wide) => {
    const x = get(r, fmt, a);
    const bits = wide ? 64n : 32n;
    const min = signed ? -(1n << (bits - 1n)) : 0n;
    const max = signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
    let v: bigint;
    if (Number.isNaN(x)) {
      r.fflags |= 16;
      v = max;
    } else {
      const t = Math.round(x);
      v = !Number.isFinite(t) ? (t > 0 ? max : min) : BigInt(t);
      if (v < min || v > max) {
        r.fflags |= 16;
        v = v < min ? min : max;
      }
    }
    if (!wide) v = BigInt.asIntN(32, v);
    const u = BigInt.asUintN(64, v);
    r.intOut[0] = Number(u & 0xffffffffn) | 0;
    r.intOut[1] = Number(u >> 32n) | 0;
  };
  fpuOps.fpFromInt = (r, fmt, rd, lo, hi, _rm, signed, wide) => {
    let v: bigint;
    if (wide) {
      const u = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
      v = signed ? BigInt.asIntN(64, u) : u;
    } else v = signed ? BigInt(lo | 0) : BigInt(lo >>> 0);
    put(r, fmt, rd, Number(v));
  };
  fpuOps.fpConvert = (r, toFmt, rd, a) => put(r, toFmt, rd, get(r, toFmt === 1 ? 0 : 1, a));
}
