/**
 * Helpers of the FPU unit tests: registers from bit patterns, results as bit patterns.
 *
 * @module
 */

import { FpRegisters } from "../../../lib/hw/riscv/fpu.ts";
import { setReg } from "./fpu_cases.ts";

/** Rounding modes by name. */
export const RNE = 0, RTZ = 1, RDN = 2, RUP = 3, RMM = 4;
/** Flags. */
export const NX = 1, UF = 2, OF = 4, DZ = 8, NV = 16;

/** Single bits NaN-boxed into 64 bits. */
export function S(bits: number): bigint {
  return (0xffffffffn << 32n) | BigInt(bits >>> 0);
}

/** Registers f1.. loaded with `operands`, f0 poisoned, fflags cleared. */
export function regs(...operands: bigint[]): FpRegisters {
  const r = new FpRegisters();
  operands.forEach((v, i) => setReg(r, i + 1, v));
  r.words[0] = 0x5a5a5a5a;
  r.words[1] = 0x5a5a5a5a;
  return r;
}

/** Register `i` as 64 bits. */
export function reg(r: FpRegisters, i: number): bigint {
  return (BigInt(r.words[2 * i + 1] >>> 0) << 32n) | BigInt(r.words[2 * i] >>> 0);
}

/** `r.intOut` as 64 bits. */
export function intOut(r: FpRegisters): bigint {
  return (BigInt(r.intOut[1] >>> 0) << 32n) | BigInt(r.intOut[0] >>> 0);
}

/** Hex of 64 bits, for messages. */
export function hex(v: bigint): string {
  return "0x" + v.toString(16).padStart(16, "0");
}
