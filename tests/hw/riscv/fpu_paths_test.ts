/**
 * The FPU's fast paths (doubles with error-free transformations) against its exact path (integer
 * significands in BigInt, one rounding routine): two independent implementations that must
 * agree bit for bit, results and flags, on edge-biased random operands in every rounding mode,
 * with fflags clear and with NX already accrued. Runs without QEMU; the QEMU differential
 * (`fpu_qemu_differential_test.ts`) checks both against softfloat.
 */

import assert from "node:assert/strict";
import { FpRegisters } from "../../../lib/hw/riscv/fpu.ts";
import {
  slowAdd,
  slowConvert,
  slowDiv,
  slowFma,
  slowFromInt,
  slowMul,
  slowSqrt,
} from "../../../lib/hw/riscv/fpu/exact.ts";
import { FP_OPS, type FpOp, randomOperands, RM_NAMES, Rng, runOurs } from "./fpu_cases.ts";
import { hex } from "./fpu_test_util.ts";

const CASES = 2000;

/** The exact-path twin of a fast operation, by mnemonic (undefined: no separate exact path). */
function exactTwin(op: FpOp): FpOp["run"] | undefined {
  const fmt = op.name.endsWith(".d") ? 1 : 0;
  const [base] = op.name.split(".");
  switch (base) {
    case "fadd":
      return (r, rm) => slowAdd(r, fmt, 0, 1, 2, rm, false);
    case "fsub":
      return (r, rm) => slowAdd(r, fmt, 0, 1, 2, rm, true);
    case "fmul":
      return (r, rm) => slowMul(r, fmt, 0, 1, 2, rm);
    case "fdiv":
      return (r, rm) => slowDiv(r, fmt, 0, 1, 2, rm);
    case "fsqrt":
      return (r, rm) => slowSqrt(r, fmt, 0, 1, rm);
    case "fmadd":
      return (r, rm) => slowFma(r, fmt, 0, 1, 2, 3, rm, false, false);
    case "fmsub":
      return (r, rm) => slowFma(r, fmt, 0, 1, 2, 3, rm, false, true);
    case "fnmsub":
      return (r, rm) => slowFma(r, fmt, 0, 1, 2, 3, rm, true, false);
    case "fnmadd":
      return (r, rm) => slowFma(r, fmt, 0, 1, 2, 3, rm, true, true);
  }
  if (op.name === "fcvt.s.d") return (r, rm) => slowConvert(r, 0, 0, 1, rm);
  if (op.name === "fcvt.d.s") return (r, rm) => slowConvert(r, 1, 0, 1, rm);
  const m = /^fcvt\.([sd])\.(w|wu|l|lu)$/.exec(op.name);
  if (m) {
    const to = m[1] === "d" ? 1 : 0;
    const kind = m[2];
    return (r, rm, lo, hi) => {
      const v = kind === "w"
        ? BigInt(lo | 0)
        : kind === "wu"
        ? BigInt(lo >>> 0)
        : kind === "l"
        ? (BigInt(hi | 0) << 32n) + BigInt(lo >>> 0)
        : (BigInt(hi >>> 0) << 32n) + BigInt(lo >>> 0);
      slowFromInt(r, to, 0, v, rm);
    };
  }
  return undefined;
}

for (const op of FP_OPS) {
  const twin = exactTwin(op);
  if (!twin) continue;
  Deno.test(`fpu: ${op.name} fast paths equal the exact path`, () => {
    const rng = new Rng(op.name.length * 7919 + op.name.charCodeAt(1));
    const r = new FpRegisters();
    const exact: FpOp = { ...op, run: twin };
    const failures: string[] = [];
    for (let i = 0; i < CASES; i++) {
      const [a, b, c] = randomOperands(rng, op);
      for (let rm = 0; rm < (op.rounding ? 5 : 1); rm++) {
        const [want, wantFlags] = runOurs(r, exact, rm, a, b, c);
        for (const initial of [0, 1]) {
          const [got, gotFlags] = runOurs(r, op, rm, a, b, c, initial);
          if (got !== want || gotFlags !== (wantFlags | initial)) {
            failures.push(
              `${op.name} ${RM_NAMES[rm]} ${[a, b, c].map(hex).join(" ")} (fflags ${initial}): ` +
                `exact ${hex(want)} flags 0x${wantFlags.toString(16)}, fast ${hex(got)} ` +
                `flags 0x${gotFlags.toString(16)}`,
            );
          }
        }
      }
    }
    assert.deepEqual(failures.slice(0, 20), []);
  });
}
