/**
 * The hart's FPU glue: executes one decoded F/D instruction that does not touch memory on an
 * {@linkcode FpRegisters} file, by calling the exact arithmetic of `fpu.ts`. Written once: the
 * interpreter and the JIT both call {@linkcode fpExec}. The caller checks mstatus.FS (Off makes
 * every FP instruction illegal) and marks the FP state dirty; this function resolves the
 * rounding mode (rm = 7 takes frm; an invalid frm makes the instruction illegal).
 *
 * @module
 */

import * as fpu from "./fpu.ts";
import { type FpRegisters } from "./fpu.ts";
import { Op } from "./decoder.ts";

/**
 * The FPU operations the hart calls: those of `fpu.ts`. A table rather than direct imports so
 * that an alternative implementation can be installed (tests, before the exact FPU lands).
 */
export const fpuOps = {
  fpAdd: fpu.fpAdd,
  fpSub: fpu.fpSub,
  fpMul: fpu.fpMul,
  fpDiv: fpu.fpDiv,
  fpSqrt: fpu.fpSqrt,
  fpFma: fpu.fpFma,
  fpMinMax: fpu.fpMinMax,
  fpSignInject: fpu.fpSignInject,
  fpCompare: fpu.fpCompare,
  fpClass: fpu.fpClass,
  fpToInt: fpu.fpToInt,
  fpFromInt: fpu.fpFromInt,
  fpConvert: fpu.fpConvert,
};

/** The FP ops whose result goes to an integer register (through `r.intOut`). */
export const FP_INT_RESULT_OPS: ReadonlySet<number> = new Set<number>([
  Op.FCVT_I_F,
  Op.FMV_X_F,
  Op.FCMP,
  Op.FCLASS,
]);

/** The FP ops that leave the FP state (registers, fflags) unchanged. */
export const FP_CLEAN_OPS: ReadonlySet<number> = new Set<number>([
  Op.FSW,
  Op.FSD,
  Op.FMV_X_F,
  Op.FCLASS,
]);

/**
 * Executes the decoded FP instruction (`w`, `imm`) that does not access memory. `lo`/`hi` is the
 * integer source rs1 (for fcvt from an integer and fmv to FP). An integer result is left in
 * `r.intOut`. Returns 0, or 1 when the instruction is illegal (dynamic rounding with an invalid
 * frm); nothing is changed then.
 */
export function fpExec(r: FpRegisters, w: number, imm: number, lo: number, hi: number): number {
  const op = w & 255;
  const rd = (w >>> 8) & 63;
  const rs1 = (w >>> 14) & 63;
  const rs2 = (w >>> 20) & 63;
  const fmt = ((imm >> 8) & 1) as 0 | 1;
  let rm = imm & 7;
  const f = fpuOps;
  switch (op) {
    case Op.FSGNJ:
      f.fpSignInject(r, fmt, rd, rs1, rs2, rm);
      return 0;
    case Op.FMINMAX:
      f.fpMinMax(r, fmt, rd, rs1, rs2, rm === 1);
      return 0;
    case Op.FCMP:
      r.intOut[0] = f.fpCompare(r, fmt, rs1, rs2, rm);
      r.intOut[1] = 0;
      return 0;
    case Op.FCLASS:
      r.intOut[0] = f.fpClass(r, fmt, rs1);
      r.intOut[1] = 0;
      return 0;
    case Op.FMV_X_F: {
      const v = r.words[rs1 * 2];
      r.intOut[0] = v;
      r.intOut[1] = fmt === 0 ? v >> 31 : r.words[rs1 * 2 + 1];
      return 0;
    }
    case Op.FMV_F_X:
      r.words[rd * 2] = lo;
      r.words[rd * 2 + 1] = fmt === 0 ? -1 : hi;
      return 0;
  }
  if (rm === 7) {
    rm = r.frm;
    if (rm > 4) return 1;
  }
  switch (op) {
    case Op.FADD:
      f.fpAdd(r, fmt, rd, rs1, rs2, rm);
      return 0;
    case Op.FSUB:
      f.fpSub(r, fmt, rd, rs1, rs2, rm);
      return 0;
    case Op.FMUL:
      f.fpMul(r, fmt, rd, rs1, rs2, rm);
      return 0;
    case Op.FDIV:
      f.fpDiv(r, fmt, rd, rs1, rs2, rm);
      return 0;
    case Op.FSQRT:
      f.fpSqrt(r, fmt, rd, rs1, rm);
      return 0;
    case Op.FMADD:
    case Op.FMSUB:
    case Op.FNMSUB:
    case Op.FNMADD:
      f.fpFma(
        r,
        fmt,
        rd,
        rs1,
        rs2,
        (imm >>> 10) & 31,
        rm,
        op === Op.FNMSUB || op === Op.FNMADD,
        op === Op.FMSUB || op === Op.FNMADD,
      );
      return 0;
    case Op.FCVT_I_F: {
      const kind = (imm >> 4) & 3;
      f.fpToInt(r, fmt, rs1, rm, (kind & 1) === 0, kind >= 2);
      return 0;
    }
    case Op.FCVT_F_I: {
      const kind = (imm >> 4) & 3;
      f.fpFromInt(r, fmt, rd, lo, hi, rm, (kind & 1) === 0, kind >= 2);
      return 0;
    }
    case Op.FCVT_F_F:
      f.fpConvert(r, fmt, rd, rs1, rm);
      return 0;
    default:
      return 1;
  }
}
