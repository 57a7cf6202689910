/**
 * Semantics of Zba, Zbb, Zbs and Zicond, written once: the interpreter and the JIT both call
 * {@linkcode bitOp}. Operands and the result are 64-bit values as int32 halves; the result goes
 * to {@linkcode aluOut} (`[0]` low, `[1]` high).
 *
 * @module
 */

import { aluOut } from "./alu.ts";
import { Op } from "./decoder.ts";

function popcount32(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

function ctz32(v: number): number {
  return v === 0 ? 32 : 31 - Math.clz32(v & -v);
}

function set(lo: number, hi: number): void {
  aluOut[0] = lo;
  aluOut[1] = hi;
}

function setW(v: number): void {
  aluOut[0] = v;
  aluOut[1] = v >> 31;
}

/** (al, ah) + (bl, bh) into aluOut. */
function add(al: number, ah: number, bl: number, bh: number): void {
  const u = (al >>> 0) + (bl >>> 0);
  set(u | 0, (ah + bh + (u > 4294967295 ? 1 : 0)) | 0);
}

/** (al, ah) << s for s in 0..63, into aluOut. */
function shl(al: number, ah: number, s: number): void {
  if (s === 0) set(al, ah);
  else if (s < 32) set(al << s, (ah << s) | (al >>> (32 - s)));
  else set(0, al << (s - 32));
}

/** Rotate right by s in 0..63, into aluOut. */
function rotr(al: number, ah: number, s: number): void {
  if (s >= 32) {
    const t = al;
    al = ah;
    ah = t;
    s -= 32;
  }
  if (s === 0) set(al, ah);
  else set((al >>> s) | (ah << (32 - s)), (ah >>> s) | (al << (32 - s)));
}

function orcByte(v: number): number {
  let r = 0;
  for (let k = 0; k < 32; k += 8) if (((v >>> k) & 0xff) !== 0) r |= 0xff << k;
  return r;
}

function bswap32(v: number): number {
  return ((v >>> 24) | ((v >>> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24)) | 0;
}

/**
 * Executes the bit-manipulation or Zicond op `op` on rs1 = (al, ah) and the second operand
 * (bl, bh): rs2, or the shift amount for the immediate forms (`bh` 0). Result in aluOut.
 */
export function bitOp(op: number, al: number, ah: number, bl: number, bh: number): void {
  switch (op) {
    case Op.SH1ADD:
    case Op.SH2ADD:
    case Op.SH3ADD: {
      shl(al, ah, op - Op.SH1ADD + 1);
      return add(aluOut[0], aluOut[1], bl, bh);
    }
    case Op.SH1ADD_UW:
    case Op.SH2ADD_UW:
    case Op.SH3ADD_UW:
      shl(al, 0, op - Op.SH1ADD_UW + 1);
      return add(aluOut[0], aluOut[1], bl, bh);
    case Op.ADD_UW:
      return add(al, 0, bl, bh);
    case Op.SLLI_UW:
      return shl(al, 0, bl & 63);
    case Op.ANDN:
      return set(al & ~bl, ah & ~bh);
    case Op.ORN:
      return set(al | ~bl, ah | ~bh);
    case Op.XNOR:
      return set(~(al ^ bl), ~(ah ^ bh));
    case Op.CLZ:
      return set(ah !== 0 ? Math.clz32(ah) : 32 + Math.clz32(al), 0);
    case Op.CTZ:
      return set(al !== 0 ? ctz32(al) : 32 + ctz32(ah), 0);
    case Op.CPOP:
      return set(popcount32(al) + popcount32(ah), 0);
    case Op.CLZW:
      return set(Math.clz32(al), 0);
    case Op.CTZW:
      return set(ctz32(al), 0);
    case Op.CPOPW:
      return set(popcount32(al), 0);
    case Op.MAX:
    case Op.MIN:
    case Op.MAXU:
    case Op.MINU: {
      const unsigned = op === Op.MAXU || op === Op.MINU;
      const a = unsigned ? ah >>> 0 : ah;
      const b = unsigned ? bh >>> 0 : bh;
      const less = a < b || (a === b && (al >>> 0) < (bl >>> 0));
      const takeA = (op === Op.MIN || op === Op.MINU) ? less : !less;
      return takeA ? set(al, ah) : set(bl, bh);
    }
    case Op.SEXT_B:
      return setW((al << 24) >> 24);
    case Op.SEXT_H:
      return setW((al << 16) >> 16);
    case Op.ZEXT_H:
      return set(al & 0xffff, 0);
    case Op.ROL:
      return rotr(al, ah, (64 - (bl & 63)) & 63);
    case Op.ROR:
    case Op.RORI:
      return rotr(al, ah, bl & 63);
    case Op.ROLW: {
      const s = bl & 31;
      return setW(s === 0 ? al : (al << s) | (al >>> (32 - s)));
    }
    case Op.RORW:
    case Op.RORIW: {
      const s = bl & 31;
      return setW(s === 0 ? al : (al >>> s) | (al << (32 - s)));
    }
    case Op.ORC_B:
      return set(orcByte(al), orcByte(ah));
    case Op.REV8:
      return set(bswap32(ah), bswap32(al));
    case Op.BCLR:
    case Op.BCLRI:
    case Op.BSET:
    case Op.BSETI:
    case Op.BINV:
    case Op.BINVI: {
      const s = bl & 63;
      const ml = s < 32 ? 1 << s : 0;
      const mh = s >= 32 ? 1 << (s - 32) : 0;
      if (op === Op.BCLR || op === Op.BCLRI) return set(al & ~ml, ah & ~mh);
      if (op === Op.BSET || op === Op.BSETI) return set(al | ml, ah | mh);
      return set(al ^ ml, ah ^ mh);
    }
    case Op.BEXT:
    case Op.BEXTI: {
      const s = bl & 63;
      return set(s < 32 ? (al >>> s) & 1 : (ah >>> (s - 32)) & 1, 0);
    }
    case Op.CZERO_EQZ:
      return (bl | bh) === 0 ? set(0, 0) : set(al, ah);
    case Op.CZERO_NEZ:
      return (bl | bh) !== 0 ? set(0, 0) : set(al, ah);
    default:
      throw new RangeError(`bitOp: op ${op} is not a bit-manipulation op`);
  }
}
