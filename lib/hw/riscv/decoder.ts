/**
 * Instruction decoder: turns RV64GC + Zba/Zbb/Zbs/Zicond machine code (32-bit and compressed
 * 16-bit forms) into a compact decoded form that the hart's interpreter executes.
 *
 * Decoding is separate from execution so that decoded instructions can be cached per code page
 * and a later tier can translate hot blocks. A decoded instruction is two int32 values:
 *
 * - `word`: `op | rd << 8 | rs1 << 14 | rs2 << 20 | length << 26`, where `rd` 0 is replaced by
 *   32 (a scratch register, so that writes to x0 need no test) and `length` is 2 or 4;
 * - `imm`: the sign-extended immediate, the CSR number for CSR instructions, or the raw
 *   instruction bits for {@linkcode Op.ILLEGAL}.
 *
 * Compressed instructions decode to the same operations as their 32-bit expansions.
 *
 * @module
 */

/**
 * Base operations (RV64IMAC, Zicsr, Zifencei, privileged); use {@linkcode Op}, which holds these
 * and {@linkcode ExtensionOp}. Kept apart because V8 builds an object literal of 128 or more
 * properties in dictionary mode, which would turn every `case Op.X:` of the interpreter's
 * switch into a hash lookup.
 */
export const BaseOp = {
  ILLEGAL: 0,
  LUI: 1,
  AUIPC: 2,
  JAL: 3,
  JALR: 4,
  BEQ: 5,
  BNE: 6,
  BLT: 7,
  BGE: 8,
  BLTU: 9,
  BGEU: 10,
  LB: 11,
  LH: 12,
  LW: 13,
  LD: 14,
  LBU: 15,
  LHU: 16,
  LWU: 17,
  SB: 18,
  SH: 19,
  SW: 20,
  SD: 21,
  ADDI: 22,
  SLTI: 23,
  SLTIU: 24,
  XORI: 25,
  ORI: 26,
  ANDI: 27,
  SLLI: 28,
  SRLI: 29,
  SRAI: 30,
  ADD: 31,
  SUB: 32,
  SLL: 33,
  SLT: 34,
  SLTU: 35,
  XOR: 36,
  SRL: 37,
  SRA: 38,
  OR: 39,
  AND: 40,
  ADDIW: 41,
  SLLIW: 42,
  SRLIW: 43,
  SRAIW: 44,
  ADDW: 45,
  SUBW: 46,
  SLLW: 47,
  SRLW: 48,
  SRAW: 49,
  MUL: 50,
  MULH: 51,
  MULHSU: 52,
  MULHU: 53,
  DIV: 54,
  DIVU: 55,
  REM: 56,
  REMU: 57,
  MULW: 58,
  DIVW: 59,
  DIVUW: 60,
  REMW: 61,
  REMUW: 62,
  FENCE: 63,
  FENCE_I: 64,
  ECALL: 65,
  EBREAK: 66,
  MRET: 67,
  SRET: 68,
  WFI: 69,
  SFENCE_VMA: 70,
  CSRRW: 71,
  CSRRS: 72,
  CSRRC: 73,
  CSRRWI: 74,
  CSRRSI: 75,
  CSRRCI: 76,
  LR_W: 77,
  SC_W: 78,
  AMOSWAP_W: 79,
  AMOADD_W: 80,
  AMOXOR_W: 81,
  AMOAND_W: 82,
  AMOOR_W: 83,
  AMOMIN_W: 84,
  AMOMAX_W: 85,
  AMOMINU_W: 86,
  AMOMAXU_W: 87,
  LR_D: 88,
  SC_D: 89,
  AMOSWAP_D: 90,
  AMOADD_D: 91,
  AMOXOR_D: 92,
  AMOAND_D: 93,
  AMOOR_D: 94,
  AMOMIN_D: 95,
  AMOMAX_D: 96,
  AMOMINU_D: 97,
  AMOMAXU_D: 98,
  /** A 32-bit instruction whose upper half lies on the next page (decoded at execution). */
  CROSS: 99,
} as const;

/** Operations of the F, D, Zba, Zbb, Zbs and Zicond extensions. */
export const ExtensionOp = {
  // F and D. `imm` packs the fields: rm (bits 0-2, 7 = dynamic), the integer kind of a
  // conversion (bits 4-5: 0 W, 1 WU, 2 L, 3 LU), the format (bit 8: 0 S, 1 D; for FCVT_F_F the
  // destination format), rs3 (bits 10-14); funct3 goes into the rm bits where it selects a
  // variant (FSGNJ kind, FMINMAX max, FCMP kind). FP register numbers are not replaced by the
  // x0 sink (f0 is a real register); rd of the ops that write an integer register is.
  /** flw frd, imm(rs1). */
  FLW: 100,
  /** fld frd, imm(rs1). */
  FLD: 101,
  /** fsw frs2, imm(rs1). */
  FSW: 102,
  /** fsd frs2, imm(rs1). */
  FSD: 103,
  FMADD: 104,
  FMSUB: 105,
  FNMSUB: 106,
  FNMADD: 107,
  FADD: 108,
  FSUB: 109,
  FMUL: 110,
  FDIV: 111,
  FSQRT: 112,
  FSGNJ: 113,
  FMINMAX: 114,
  /** fcvt.{w,wu,l,lu}.{s,d}: integer rd. */
  FCVT_I_F: 115,
  /** fcvt.{s,d}.{w,wu,l,lu}: integer rs1. */
  FCVT_F_I: 116,
  /** fcvt.s.d / fcvt.d.s. */
  FCVT_F_F: 117,
  /** fmv.x.w / fmv.x.d: integer rd. */
  FMV_X_F: 118,
  /** fmv.w.x / fmv.d.x: integer rs1. */
  FMV_F_X: 119,
  /** feq/flt/fle: integer rd. */
  FCMP: 120,
  /** fclass: integer rd. */
  FCLASS: 121,
  // Zba
  SH1ADD: 122,
  SH2ADD: 123,
  SH3ADD: 124,
  SH1ADD_UW: 125,
  SH2ADD_UW: 126,
  SH3ADD_UW: 127,
  ADD_UW: 128,
  SLLI_UW: 129,
  // Zbb
  ANDN: 130,
  ORN: 131,
  XNOR: 132,
  CLZ: 133,
  CTZ: 134,
  CPOP: 135,
  CLZW: 136,
  CTZW: 137,
  CPOPW: 138,
  MAX: 139,
  MAXU: 140,
  MIN: 141,
  MINU: 142,
  SEXT_B: 143,
  SEXT_H: 144,
  ZEXT_H: 145,
  ROL: 146,
  ROR: 147,
  RORI: 148,
  ROLW: 149,
  RORW: 150,
  RORIW: 151,
  ORC_B: 152,
  REV8: 153,
  // Zbs
  BCLR: 154,
  BSET: 155,
  BINV: 156,
  BEXT: 157,
  BCLRI: 158,
  BSETI: 159,
  BINVI: 160,
  BEXTI: 161,
  // Zicond
  CZERO_EQZ: 162,
  CZERO_NEZ: 163,
} as const;

/**
 * Decoded operations. Built from a literal of under 128 properties extended by assignment, so
 * that V8 keeps it in fast mode (constant-folded property loads).
 */
export const Op: typeof BaseOp & typeof ExtensionOp = Object.assign({ ...BaseOp }, ExtensionOp);

/** Number of distinct {@linkcode Op} values. */
export const OP_COUNT = 164;

/** First and last FP op (every FP op lies in this range). */
export const FP_OP_FIRST: number = Op.FLW;
/** Last FP op. */
export const FP_OP_LAST: number = Op.FCLASS;
/** First bit-manipulation / Zicond op. */
export const BIT_OP_FIRST: number = Op.SH1ADD;
/** Last bit-manipulation / Zicond op. */
export const BIT_OP_LAST: number = Op.CZERO_NEZ;
/** Bit-manipulation ops whose second operand is the immediate (a shift amount), not rs2. */
export const BIT_IMM_OPS: ReadonlySet<number> = new Set<number>([
  Op.SLLI_UW,
  Op.RORI,
  Op.RORIW,
  Op.BCLRI,
  Op.BSETI,
  Op.BINVI,
  Op.BEXTI,
]);

/** Result of {@linkcode decode}: the packed word and the immediate. */
export interface Decoded {
  /** `op | rd << 8 | rs1 << 14 | rs2 << 20 | length << 26` (rd 0 replaced by 32). */
  word: number;
  /** Immediate, CSR number, or the instruction bits for ILLEGAL. */
  imm: number;
}

/** Extracts the operation of a packed decoded word. */
export const opOf = (word: number): number => word & 0xff;
/** Extracts the destination register of a packed decoded word (32 stands for x0). */
export const rdOf = (word: number): number => (word >>> 8) & 63;
/** Extracts the first source register of a packed decoded word. */
export const rs1Of = (word: number): number => (word >>> 14) & 63;
/** Extracts the second source register of a packed decoded word. */
export const rs2Of = (word: number): number => (word >>> 20) & 63;
/** Extracts the instruction length in bytes (2 or 4) of a packed decoded word. */
export const lengthOf = (word: number): number => (word >>> 26) & 7;

/** Scratch register index that stands for x0 as a destination. */
export const X0_SINK = 32;

/** Reusable output of the decoder (avoids allocation on the decode path). */
const out: Decoded = { word: 0, imm: 0 };

function pack(op: number, rd: number, rs1: number, rs2: number, imm: number, len: number): void {
  out.word = op | ((rd === 0 ? X0_SINK : rd) << 8) | (rs1 << 14) | (rs2 << 20) | (len << 26);
  out.imm = imm | 0;
}

/** Packs an op whose rd is an FP register (f0 is not replaced by the sink). */
function packF(op: number, rd: number, rs1: number, rs2: number, imm: number, len: number): void {
  out.word = op | (rd << 8) | (rs1 << 14) | (rs2 << 20) | (len << 26);
  out.imm = imm | 0;
}

function illegal(bits: number, len: number): void {
  out.word = Op.ILLEGAL | (X0_SINK << 8) | (len << 26);
  out.imm = bits | 0;
}

const BRANCH_OPS = [Op.BEQ, Op.BNE, -1, -1, Op.BLT, Op.BGE, Op.BLTU, Op.BGEU];
const LOAD_OPS = [Op.LB, Op.LH, Op.LW, Op.LD, Op.LBU, Op.LHU, Op.LWU, -1];
const STORE_OPS = [Op.SB, Op.SH, Op.SW, Op.SD, -1, -1, -1, -1];
const OP_IMM_OPS = [Op.ADDI, Op.SLLI, Op.SLTI, Op.SLTIU, Op.XORI, Op.SRLI, Op.ORI, Op.ANDI];
const OP_BASE = [Op.ADD, Op.SLL, Op.SLT, Op.SLTU, Op.XOR, Op.SRL, Op.OR, Op.AND];
const OP_MUL = [Op.MUL, Op.MULH, Op.MULHSU, Op.MULHU, Op.DIV, Op.DIVU, Op.REM, Op.REMU];
const OP32_MUL = [Op.MULW, -1, -1, -1, Op.DIVW, Op.DIVUW, Op.REMW, Op.REMUW];
const CSR_OPS = [-1, Op.CSRRW, Op.CSRRS, Op.CSRRC, -1, Op.CSRRWI, Op.CSRRSI, Op.CSRRCI];
/** clz, ctz, cpop, -, sext.b, sext.h by the rs2 field of OP-IMM funct7 0x30. */
const UNARY_OPS = [Op.CLZ, Op.CTZ, Op.CPOP, -1, Op.SEXT_B, Op.SEXT_H, -1, -1].concat(
  new Array<number>(24).fill(-1),
);
/** OP (0x33) instructions beyond I and M, by `funct7 << 3 | funct3`. */
const OP_EXT: ReadonlyMap<number, number> = new Map<number, number>([
  [(0x20 << 3) | 0, Op.SUB],
  [(0x20 << 3) | 5, Op.SRA],
  [(0x10 << 3) | 2, Op.SH1ADD],
  [(0x10 << 3) | 4, Op.SH2ADD],
  [(0x10 << 3) | 6, Op.SH3ADD],
  [(0x20 << 3) | 7, Op.ANDN],
  [(0x20 << 3) | 6, Op.ORN],
  [(0x20 << 3) | 4, Op.XNOR],
  [(0x05 << 3) | 4, Op.MIN],
  [(0x05 << 3) | 5, Op.MINU],
  [(0x05 << 3) | 6, Op.MAX],
  [(0x05 << 3) | 7, Op.MAXU],
  [(0x30 << 3) | 1, Op.ROL],
  [(0x30 << 3) | 5, Op.ROR],
  [(0x24 << 3) | 1, Op.BCLR],
  [(0x24 << 3) | 5, Op.BEXT],
  [(0x34 << 3) | 1, Op.BINV],
  [(0x14 << 3) | 1, Op.BSET],
  [(0x07 << 3) | 5, Op.CZERO_EQZ],
  [(0x07 << 3) | 7, Op.CZERO_NEZ],
]);

/** AMO funct5 -> op offset from AMOSWAP (W form); LR and SC handled apart. */
const AMO_FUNCT5: Record<number, number> = {
  0b00001: 0, // swap
  0b00000: 1, // add
  0b00100: 2, // xor
  0b01100: 3, // and
  0b01000: 4, // or
  0b10000: 5, // min
  0b10100: 6, // max
  0b11000: 7, // minu
  0b11100: 8, // maxu
};

/** Decodes a 32-bit instruction (low two bits 11). */
function decode32(i: number): void {
  const opcode = i & 0x7f;
  const rd = (i >>> 7) & 31;
  const f3 = (i >>> 12) & 7;
  const rs1 = (i >>> 15) & 31;
  const rs2 = (i >>> 20) & 31;
  const f7 = i >>> 25;
  const immI = i >> 20;
  switch (opcode) {
    case 0x37:
      return pack(Op.LUI, rd, 0, 0, i & 0xfffff000, 4);
    case 0x17:
      return pack(Op.AUIPC, rd, 0, 0, i & 0xfffff000, 4);
    case 0x6f: {
      const imm = ((i >> 31) << 20) | (((i >>> 12) & 0xff) << 12) | (((i >>> 20) & 1) << 11) |
        (((i >>> 21) & 0x3ff) << 1);
      return pack(Op.JAL, rd, 0, 0, imm, 4);
    }
    case 0x67:
      if (f3 !== 0) return illegal(i, 4);
      return pack(Op.JALR, rd, rs1, 0, immI, 4);
    case 0x63: {
      const op = BRANCH_OPS[f3];
      if (op < 0) return illegal(i, 4);
      const imm = ((i >> 31) << 12) | (((i >>> 7) & 1) << 11) | (((i >>> 25) & 0x3f) << 5) |
        (((i >>> 8) & 0xf) << 1);
      return pack(op, 0, rs1, rs2, imm, 4);
    }
    case 0x03: {
      const op = LOAD_OPS[f3];
      if (op < 0) return illegal(i, 4);
      return pack(op, rd, rs1, 0, immI, 4);
    }
    case 0x23: {
      const op = STORE_OPS[f3];
      if (op < 0) return illegal(i, 4);
      const imm = ((i >> 25) << 5) | ((i >>> 7) & 31);
      return pack(op, 0, rs1, rs2, imm, 4);
    }
    case 0x13: {
      const op = OP_IMM_OPS[f3];
      const sh = (i >>> 20) & 63;
      const f6 = i >>> 26;
      if (f3 === 1) {
        if (f6 === 0) return pack(op, rd, rs1, 0, sh, 4);
        if (f6 === 0x12) return pack(Op.BCLRI, rd, rs1, 0, sh, 4);
        if (f6 === 0x0a) return pack(Op.BSETI, rd, rs1, 0, sh, 4);
        if (f6 === 0x1a) return pack(Op.BINVI, rd, rs1, 0, sh, 4);
        if (f7 === 0x30) {
          const u = UNARY_OPS[rs2];
          if (u >= 0) return pack(u, rd, rs1, 0, 0, 4);
        }
        return illegal(i, 4);
      }
      if (f3 === 5) {
        if (f6 === 0) return pack(Op.SRLI, rd, rs1, 0, sh, 4);
        if (f6 === 0x10) return pack(Op.SRAI, rd, rs1, 0, sh, 4);
        if (f6 === 0x12) return pack(Op.BEXTI, rd, rs1, 0, sh, 4);
        if (f6 === 0x18) return pack(Op.RORI, rd, rs1, 0, sh, 4);
        if ((i >>> 20) === 0x287) return pack(Op.ORC_B, rd, rs1, 0, 0, 4);
        if ((i >>> 20) === 0x6b8) return pack(Op.REV8, rd, rs1, 0, 0, 4);
        return illegal(i, 4);
      }
      return pack(op, rd, rs1, 0, immI, 4);
    }
    case 0x1b:
      if (f3 === 0) return pack(Op.ADDIW, rd, rs1, 0, immI, 4);
      if (f3 === 1 && f7 === 0) return pack(Op.SLLIW, rd, rs1, 0, rs2, 4);
      if (f3 === 1 && (i >>> 26) === 2) return pack(Op.SLLI_UW, rd, rs1, 0, (i >>> 20) & 63, 4);
      if (f3 === 1 && f7 === 0x30 && rs2 <= 2) {
        return pack([Op.CLZW, Op.CTZW, Op.CPOPW][rs2], rd, rs1, 0, 0, 4);
      }
      if (f3 === 5 && f7 === 0) return pack(Op.SRLIW, rd, rs1, 0, rs2, 4);
      if (f3 === 5 && f7 === 0x20) return pack(Op.SRAIW, rd, rs1, 0, rs2, 4);
      if (f3 === 5 && f7 === 0x30) return pack(Op.RORIW, rd, rs1, 0, rs2, 4);
      return illegal(i, 4);
    case 0x33: {
      if (f7 === 0) return pack(OP_BASE[f3], rd, rs1, rs2, 0, 4);
      if (f7 === 1) return pack(OP_MUL[f3], rd, rs1, rs2, 0, 4);
      const op = OP_EXT.get((f7 << 3) | f3);
      if (op !== undefined) return pack(op, rd, rs1, rs2, 0, 4);
      return illegal(i, 4);
    }
    case 0x3b:
      if (f7 === 0x10 && (f3 === 2 || f3 === 4 || f3 === 6)) {
        return pack(Op.SH1ADD_UW + (f3 >> 1) - 1, rd, rs1, rs2, 0, 4);
      }
      if (f7 === 0x04 && f3 === 0) return pack(Op.ADD_UW, rd, rs1, rs2, 0, 4);
      if (f7 === 0x04 && f3 === 4 && rs2 === 0) return pack(Op.ZEXT_H, rd, rs1, 0, 0, 4);
      if (f7 === 0x30 && f3 === 1) return pack(Op.ROLW, rd, rs1, rs2, 0, 4);
      if (f7 === 0x30 && f3 === 5) return pack(Op.RORW, rd, rs1, rs2, 0, 4);
      if (f7 === 0) {
        if (f3 === 0) return pack(Op.ADDW, rd, rs1, rs2, 0, 4);
        if (f3 === 1) return pack(Op.SLLW, rd, rs1, rs2, 0, 4);
        if (f3 === 5) return pack(Op.SRLW, rd, rs1, rs2, 0, 4);
        return illegal(i, 4);
      }
      if (f7 === 0x20) {
        if (f3 === 0) return pack(Op.SUBW, rd, rs1, rs2, 0, 4);
        if (f3 === 5) return pack(Op.SRAW, rd, rs1, rs2, 0, 4);
        return illegal(i, 4);
      }
      if (f7 === 1 && OP32_MUL[f3] >= 0) return pack(OP32_MUL[f3], rd, rs1, rs2, 0, 4);
      return illegal(i, 4);
    case 0x0f:
      if (f3 === 0) return pack(Op.FENCE, 0, 0, 0, 0, 4);
      if (f3 === 1) return pack(Op.FENCE_I, 0, 0, 0, 0, 4);
      return illegal(i, 4);
    case 0x73: {
      if (f3 === 0) {
        if (i === 0x00000073) return pack(Op.ECALL, 0, 0, 0, 0, 4);
        if (i === 0x00100073) return pack(Op.EBREAK, 0, 0, 0, 0, 4);
        if (i === 0x10200073) return pack(Op.SRET, 0, 0, 0, 0, 4);
        if (i === 0x30200073) return pack(Op.MRET, 0, 0, 0, 0, 4);
        if (i === 0x10500073) return pack(Op.WFI, 0, 0, 0, 0, 4);
        if (f7 === 0x09 && rd === 0) return pack(Op.SFENCE_VMA, 0, rs1, rs2, 0, 4);
        return illegal(i, 4);
      }
      const op = CSR_OPS[f3];
      if (op < 0) return illegal(i, 4);
      return pack(op, rd, rs1, 0, i >>> 20, 4);
    }
    case 0x2f: {
      if (f3 !== 2 && f3 !== 3) return illegal(i, 4);
      const d = f3 === 3;
      const f5 = i >>> 27;
      if (f5 === 0b00010) {
        if (rs2 !== 0) return illegal(i, 4);
        return pack(d ? Op.LR_D : Op.LR_W, rd, rs1, 0, 0, 4);
      }
      if (f5 === 0b00011) return pack(d ? Op.SC_D : Op.SC_W, rd, rs1, rs2, 0, 4);
      const k = AMO_FUNCT5[f5];
      if (k === undefined) return illegal(i, 4);
      return pack((d ? Op.AMOSWAP_D : Op.AMOSWAP_W) + k, rd, rs1, rs2, 0, 4);
    }
    case 0x07:
      if (f3 === 2) return packF(Op.FLW, rd, rs1, 0, immI, 4);
      if (f3 === 3) return packF(Op.FLD, rd, rs1, 0, immI, 4);
      return illegal(i, 4);
    case 0x27: {
      const imm = ((i >> 25) << 5) | ((i >>> 7) & 31);
      if (f3 === 2) return pack(Op.FSW, 0, rs1, rs2, imm, 4);
      if (f3 === 3) return pack(Op.FSD, 0, rs1, rs2, imm, 4);
      return illegal(i, 4);
    }
    case 0x43:
    case 0x47:
    case 0x4b:
    case 0x4f: {
      const fmt = (i >>> 25) & 3;
      if (fmt > 1 || f3 === 5 || f3 === 6) return illegal(i, 4);
      const op = Op.FMADD + ((opcode - 0x43) >> 2);
      return packF(op, rd, rs1, rs2, f3 | (fmt << 8) | ((i >>> 27) << 10), 4);
    }
    case 0x53:
      return decodeOpFp(i, rd, f3, rs1, rs2, f7);
    default:
      return illegal(i, 4);
  }
}

/** Decodes OP-FP (major opcode 0x53). */
function decodeOpFp(i: number, rd: number, f3: number, rs1: number, rs2: number, f7: number) {
  const fmt = f7 & 3;
  if (fmt > 1) return illegal(i, 4);
  const rmOk = f3 !== 5 && f3 !== 6;
  const fm = fmt << 8;
  switch (f7 >> 2) {
    case 0x00:
    case 0x01:
    case 0x02:
    case 0x03:
      if (!rmOk) return illegal(i, 4);
      return packF(Op.FADD + (f7 >> 2), rd, rs1, rs2, f3 | fm, 4);
    case 0x0b:
      if (!rmOk || rs2 !== 0) return illegal(i, 4);
      return packF(Op.FSQRT, rd, rs1, 0, f3 | fm, 4);
    case 0x04:
      if (f3 > 2) return illegal(i, 4);
      return packF(Op.FSGNJ, rd, rs1, rs2, f3 | fm, 4);
    case 0x05:
      if (f3 > 1) return illegal(i, 4);
      return packF(Op.FMINMAX, rd, rs1, rs2, f3 | fm, 4);
    case 0x08: // fcvt.s.d (fmt S, rs2 1), fcvt.d.s (fmt D, rs2 0)
      if (!rmOk || rs2 !== 1 - fmt) return illegal(i, 4);
      return packF(Op.FCVT_F_F, rd, rs1, 0, f3 | fm, 4);
    case 0x14:
      if (f3 > 2) return illegal(i, 4);
      return pack(Op.FCMP, rd, rs1, rs2, f3 | fm, 4);
    case 0x18:
      if (!rmOk || rs2 > 3) return illegal(i, 4);
      return pack(Op.FCVT_I_F, rd, rs1, 0, f3 | (rs2 << 4) | fm, 4);
    case 0x1a:
      if (!rmOk || rs2 > 3) return illegal(i, 4);
      return packF(Op.FCVT_F_I, rd, rs1, 0, f3 | (rs2 << 4) | fm, 4);
    case 0x1c:
      if (rs2 !== 0) return illegal(i, 4);
      if (f3 === 0) return pack(Op.FMV_X_F, rd, rs1, 0, fm, 4);
      if (f3 === 1) return pack(Op.FCLASS, rd, rs1, 0, fm, 4);
      return illegal(i, 4);
    case 0x1e:
      if (rs2 !== 0 || f3 !== 0) return illegal(i, 4);
      return packF(Op.FMV_F_X, rd, rs1, 0, fm, 4);
    default:
      return illegal(i, 4);
  }
}

/** Decodes a compressed instruction (low two bits not 11). */
function decode16(i: number): void {
  const q = i & 3;
  const f3 = (i >>> 13) & 7;
  const rdp = ((i >>> 2) & 7) + 8; // rd' / rs2'
  const rs1p = ((i >>> 7) & 7) + 8;
  const rd = (i >>> 7) & 31;
  const rs2 = (i >>> 2) & 31;
  const imm6 = (((i >>> 12) & 1) << 5) | ((i >>> 2) & 31);
  const simm6 = (imm6 << 26) >> 26;
  if (q === 0) {
    switch (f3) {
      case 0: {
        const imm = (((i >>> 11) & 3) << 4) | (((i >>> 7) & 15) << 6) | (((i >>> 6) & 1) << 2) |
          (((i >>> 5) & 1) << 3);
        if (imm === 0) return illegal(i, 2);
        return pack(Op.ADDI, rdp, 2, 0, imm, 2);
      }
      case 2: {
        const imm = (((i >>> 10) & 7) << 3) | (((i >>> 6) & 1) << 2) | (((i >>> 5) & 1) << 6);
        return pack(Op.LW, rdp, rs1p, 0, imm, 2);
      }
      case 3: {
        const imm = (((i >>> 10) & 7) << 3) | (((i >>> 5) & 3) << 6);
        return pack(Op.LD, rdp, rs1p, 0, imm, 2);
      }
      case 6: {
        const imm = (((i >>> 10) & 7) << 3) | (((i >>> 6) & 1) << 2) | (((i >>> 5) & 1) << 6);
        return pack(Op.SW, 0, rs1p, rdp, imm, 2);
      }
      case 7: {
        const imm = (((i >>> 10) & 7) << 3) | (((i >>> 5) & 3) << 6);
        return pack(Op.SD, 0, rs1p, rdp, imm, 2);
      }
      case 1: {
        const imm = (((i >>> 10) & 7) << 3) | (((i >>> 5) & 3) << 6);
        return packF(Op.FLD, rdp, rs1p, 0, imm, 2);
      }
      case 5: {
        const imm = (((i >>> 10) & 7) << 3) | (((i >>> 5) & 3) << 6);
        return pack(Op.FSD, 0, rs1p, rdp, imm, 2);
      }
      default:
        return illegal(i, 2); // reserved
    }
  }
  if (q === 1) {
    switch (f3) {
      case 0:
        return pack(Op.ADDI, rd, rd, 0, simm6, 2);
      case 1:
        if (rd === 0) return illegal(i, 2);
        return pack(Op.ADDIW, rd, rd, 0, simm6, 2);
      case 2:
        return pack(Op.ADDI, rd, 0, 0, simm6, 2);
      case 3: {
        if (rd === 2) {
          const imm = ((((i >>> 12) & 1) << 9) | (((i >>> 6) & 1) << 4) | (((i >>> 5) & 1) << 6) |
                (((i >>> 3) & 3) << 7) | (((i >>> 2) & 1) << 5)) << 22 >> 22;
          if (imm === 0) return illegal(i, 2);
          return pack(Op.ADDI, 2, 2, 0, imm, 2);
        }
        if (imm6 === 0) return illegal(i, 2);
        return pack(Op.LUI, rd, 0, 0, simm6 << 12, 2);
      }
      case 4: {
        const f2 = (i >>> 10) & 3;
        if (f2 === 0) return pack(Op.SRLI, rs1p, rs1p, 0, imm6, 2);
        if (f2 === 1) return pack(Op.SRAI, rs1p, rs1p, 0, imm6, 2);
        if (f2 === 2) return pack(Op.ANDI, rs1p, rs1p, 0, simm6, 2);
        const f = (i >>> 5) & 3;
        if (((i >>> 12) & 1) === 0) {
          const op = [Op.SUB, Op.XOR, Op.OR, Op.AND][f];
          return pack(op, rs1p, rs1p, rdp, 0, 2);
        }
        if (f === 0) return pack(Op.SUBW, rs1p, rs1p, rdp, 0, 2);
        if (f === 1) return pack(Op.ADDW, rs1p, rs1p, rdp, 0, 2);
        return illegal(i, 2);
      }
      case 5: {
        const imm = ((((i >>> 12) & 1) << 11) | (((i >>> 11) & 1) << 4) | (((i >>> 9) & 3) << 8) |
              (((i >>> 8) & 1) << 10) | (((i >>> 7) & 1) << 6) | (((i >>> 6) & 1) << 7) |
              (((i >>> 3) & 7) << 1) | (((i >>> 2) & 1) << 5)) << 20 >> 20;
        return pack(Op.JAL, 0, 0, 0, imm, 2);
      }
      default: {
        const imm = ((((i >>> 12) & 1) << 8) | (((i >>> 10) & 3) << 3) | (((i >>> 5) & 3) << 6) |
              (((i >>> 3) & 3) << 1) | (((i >>> 2) & 1) << 5)) << 23 >> 23;
        return pack(f3 === 6 ? Op.BEQ : Op.BNE, 0, rs1p, 0, imm, 2);
      }
    }
  }
  // q === 2
  switch (f3) {
    case 0:
      return pack(Op.SLLI, rd, rd, 0, imm6, 2);
    case 1: {
      const imm = (((i >>> 12) & 1) << 5) | (((i >>> 5) & 3) << 3) | (((i >>> 2) & 7) << 6);
      return packF(Op.FLD, rd, 2, 0, imm, 2);
    }
    case 2: {
      if (rd === 0) return illegal(i, 2);
      const imm = (((i >>> 12) & 1) << 5) | (((i >>> 4) & 7) << 2) | (((i >>> 2) & 3) << 6);
      return pack(Op.LW, rd, 2, 0, imm, 2);
    }
    case 3: {
      if (rd === 0) return illegal(i, 2);
      const imm = (((i >>> 12) & 1) << 5) | (((i >>> 5) & 3) << 3) | (((i >>> 2) & 7) << 6);
      return pack(Op.LD, rd, 2, 0, imm, 2);
    }
    case 4:
      if (((i >>> 12) & 1) === 0) {
        if (rs2 === 0) {
          if (rd === 0) return illegal(i, 2);
          return pack(Op.JALR, 0, rd, 0, 0, 2);
        }
        return pack(Op.ADD, rd, 0, rs2, 0, 2);
      }
      if (rs2 === 0) {
        if (rd === 0) return pack(Op.EBREAK, 0, 0, 0, 0, 2);
        return pack(Op.JALR, 1, rd, 0, 0, 2);
      }
      return pack(Op.ADD, rd, rd, rs2, 0, 2);
    case 6: {
      const imm = (((i >>> 9) & 15) << 2) | (((i >>> 7) & 3) << 6);
      return pack(Op.SW, 0, 2, rs2, imm, 2);
    }
    case 7: {
      const imm = (((i >>> 10) & 7) << 3) | (((i >>> 7) & 7) << 6);
      return pack(Op.SD, 0, 2, rs2, imm, 2);
    }
    case 5: {
      const imm = (((i >>> 10) & 7) << 3) | (((i >>> 7) & 7) << 6);
      return pack(Op.FSD, 0, 2, rs2, imm, 2);
    }
    default:
      return illegal(i, 2);
  }
}

/**
 * Decodes one instruction. `bits` holds the instruction: 32 bits when its low two bits are 11,
 * otherwise only the low 16 bits are looked at. Returns a shared object that the next call
 * overwrites; copy the fields if you keep them.
 */
export function decode(bits: number): Decoded {
  if ((bits & 3) === 3) decode32(bits | 0);
  else decode16(bits & 0xffff);
  return out;
}

/** Whether the instruction whose low 16 bits are `low16` is 32 bits long (else compressed). */
export const isLong = (low16: number): boolean => (low16 & 3) === 3;
