/**
 * The F and D extensions' arithmetic: an exact IEEE 754 binary32/binary64 unit with the five
 * RISC-V rounding modes and the five accrued exception flags, working directly on a hart's FP
 * register file.
 *
 * CONTRACT (filled in by the FPU work): every operation reads its operands from `r.words`
 * (bit-exact; a single is NaN-boxed: high word 0xffffffff, else it reads as the canonical NaN
 * 0x7fc00000), writes its result bit-exactly (singles NaN-boxed), ORs exception flags into
 * `r.fflags`, and takes an already-resolved rounding mode 0..4 (the caller maps rm=7 to frm and
 * refuses reserved modes as illegal instructions).
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

function todo(): never {
  throw new Error("fpu: not built yet");
}

/** rd = rs1 + rs2. */
export function fpAdd(
  _r: FpRegisters,
  _fmt: FpFormat,
  _rd: number,
  _rs1: number,
  _rs2: number,
  _rm: number,
): void {
  todo();
}
/** rd = rs1 - rs2. */
export function fpSub(
  _r: FpRegisters,
  _fmt: FpFormat,
  _rd: number,
  _rs1: number,
  _rs2: number,
  _rm: number,
): void {
  todo();
}
/** rd = rs1 * rs2. */
export function fpMul(
  _r: FpRegisters,
  _fmt: FpFormat,
  _rd: number,
  _rs1: number,
  _rs2: number,
  _rm: number,
): void {
  todo();
}
/** rd = rs1 / rs2. */
export function fpDiv(
  _r: FpRegisters,
  _fmt: FpFormat,
  _rd: number,
  _rs1: number,
  _rs2: number,
  _rm: number,
): void {
  todo();
}
/** rd = sqrt(rs1). */
export function fpSqrt(
  _r: FpRegisters,
  _fmt: FpFormat,
  _rd: number,
  _rs1: number,
  _rm: number,
): void {
  todo();
}
/**
 * Fused multiply-add with one rounding: rd = (±(rs1 * rs2)) ± rs3. fmadd: (false, false);
 * fmsub: (false, true); fnmsub: (true, false); fnmadd: (true, true).
 */
export function fpFma(
  _r: FpRegisters,
  _fmt: FpFormat,
  _rd: number,
  _rs1: number,
  _rs2: number,
  _rs3: number,
  _rm: number,
  _negateProduct: boolean,
  _negateAddend: boolean,
): void {
  todo();
}
/** fmin/fmax (version 2.2 semantics: a single NaN operand yields the other). */
export function fpMinMax(
  _r: FpRegisters,
  _fmt: FpFormat,
  _rd: number,
  _rs1: number,
  _rs2: number,
  _max: boolean,
): void {
  todo();
}
/** fsgnj (kind 0), fsgnjn (1), fsgnjx (2). */
export function fpSignInject(
  _r: FpRegisters,
  _fmt: FpFormat,
  _rd: number,
  _rs1: number,
  _rs2: number,
  _kind: number,
): void {
  todo();
}
/** fle (kind 0), flt (1), feq (2), as funct3 encodes them; returns 0 or 1. */
export function fpCompare(
  _r: FpRegisters,
  _fmt: FpFormat,
  _rs1: number,
  _rs2: number,
  _kind: number,
): number {
  return todo();
}
/** fclass: a 10-bit mask. */
export function fpClass(_r: FpRegisters, _fmt: FpFormat, _rs1: number): number {
  return todo();
}
/**
 * fcvt.{w,wu,l,lu}.{s,d}: writes `r.intOut` (W forms sign-extend their 32-bit result).
 * Saturates with NV on NaN or out of range.
 */
export function fpToInt(
  _r: FpRegisters,
  _fmt: FpFormat,
  _rs1: number,
  _rm: number,
  _signed: boolean,
  _wide: boolean,
): void {
  todo();
}
/** fcvt.{s,d}.{w,wu,l,lu}: from the integer `hi:lo` (W forms use `lo` only). */
export function fpFromInt(
  _r: FpRegisters,
  _fmt: FpFormat,
  _rd: number,
  _lo: number,
  _hi: number,
  _rm: number,
  _signed: boolean,
  _wide: boolean,
): void {
  todo();
}
/** fcvt.s.d (toFmt 0) and fcvt.d.s (toFmt 1). */
export function fpConvert(
  _r: FpRegisters,
  _toFmt: FpFormat,
  _rd: number,
  _rs1: number,
  _rm: number,
): void {
  todo();
}
