/**
 * The F and D extensions' arithmetic: an exact IEEE 754 binary32/binary64 unit with the five
 * RISC-V rounding modes and the five accrued exception flags, working directly on a hart's FP
 * register file.
 *
 * Every operation reads its operands from `r.words` (bit-exact; a single is NaN-boxed: high word
 * 0xffffffff, else it reads as the canonical NaN 0x7fc00000), writes its result bit-exactly
 * (singles NaN-boxed), ORs exception flags into `r.fflags`, and takes an already-resolved
 * rounding mode 0..4 (the caller maps rm=7 to frm and refuses reserved modes as illegal
 * instructions). Arithmetic NaN results are the canonical NaN; fmin/fmax follow version 2.2
 * (IEEE 754-2019 minimumNumber/maximumNumber); the fused multiply-adds round once; underflow
 * is detected after rounding. Everything agrees bit for bit with QEMU's softfloat
 * (`tests/hw/riscv/fpu_qemu_differential_test.ts`).
 *
 * The implementation lives in `fpu/`: `arith.ts` (add, sub, mul, div, sqrt, fma: fast paths on
 * doubles with error-free transformations), `exact.ts` (the exact BigInt path and the one
 * rounding routine), `misc.ts` (min/max, sign injection, compares, fclass, conversions).
 *
 * @module
 */

/** Rounding modes, as encoded in the instruction's rm field and in frm. */
export const RoundingMode = { RNE: 0, RTZ: 1, RDN: 2, RUP: 3, RMM: 4, DYN: 7 } as const;

/** Accrued exception flag bits of fflags. */
export const FFlag = { NX: 1, UF: 2, OF: 4, DZ: 8, NV: 16 } as const;

/** Operand formats: 0 = single (S), 1 = double (D). */
export type FpFormat = 0 | 1;

/** A hart's FP state: 32 registers of 64 bits, fflags and frm. */
export class FpRegisters {
  /** Storage of f0..f31, 8 bytes each, little-endian. */
  readonly buffer: ArrayBuffer = new ArrayBuffer(32 * 8);
  /** The registers as doubles (do not use for bit-exact moves: NaN payloads). */
  readonly f64: Float64Array = new Float64Array(this.buffer);
  /** The registers as 32-bit words: `[2i]` low, `[2i + 1]` high. */
  readonly words: Int32Array = new Int32Array(this.buffer);
  /** Accrued exception flags (5 bits). */
  fflags = 0;
  /** Dynamic rounding mode (3 bits). */
  frm = 0;
  /** Integer result of {@linkcode fpToInt}: `[0]` low, `[1]` high (sign-extended for W forms). */
  readonly intOut: Int32Array = new Int32Array(2);
}

export { fpAdd, fpDiv, fpFma, fpMul, fpSqrt, fpSub } from "./fpu/arith.ts";
export {
  fpClass,
  fpCompare,
  fpConvert,
  fpFromInt,
  fpMinMax,
  fpSignInject,
  fpToInt,
} from "./fpu/misc.ts";
