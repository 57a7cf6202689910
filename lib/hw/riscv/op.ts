/**
 * The hart's decoded operations ({@linkcode Op}): the numbering that the decoder produces and the
 * interpreter, the JIT and the FP and bit-manipulation executors switch on. The instruction table
 * (`isa_table.ts`) names each encoding's op; the decoder (`decoder.ts`) derives from it.
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
