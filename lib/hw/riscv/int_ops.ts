/**
 * The semantics of the integer instructions, said once: RV64I (register and immediate ALU ops,
 * the W forms, LUI/AUIPC, branches, JAL/JALR, loads, stores, FENCE) and M. Both execution tiers
 * derive from this table: the interpreter's cases in `Hart.run()` are generated from it by
 * `bin/gen_ops.ts` (`deno task gen`), and the compiled tier (jit.ts) instantiates the same
 * templates with the instruction's operands as constants.
 *
 * A template is JavaScript source over the registers as int32 halves (`xl`, `xh`) with these
 * placeholders:
 *
 * - `$rd`, `$r1`, `$r2`: register numbers (`$rd` is 32, a scratch sink, for x0; `xl[0]` and
 *   `xh[0]` always read 0);
 * - `$imm`: the immediate (int32); `$immHi`: its sign extension to the high half (`$imm >> 31`);
 *   `$immU`: its low half unsigned (`$imm >>> 0`);
 * - `$pc`, `$next`: the instruction's address and the next instruction's, as numbers.
 *
 * The templates may also name `Math`, the `alu` module (alu.ts) and, for loads and stores, the
 * page view `p` and the page offset `po` of the access, which the tiers provide. Names a
 * template declares must not be any of those nor a tier's own: use short ones from `a`, `b`,
 * `h`, `l`, `s`, `t`, `u`, `v`, `al`, `ah`, `bl`, `bh`. A template reads all its sources
 * before it writes a half of `$rd` that a later source read needs (`$rd` may equal `$r1`).
 *
 * What each tier makes of an op's control outcome is its own business (the interpreter moves
 * its page offset, a block exits or loops); what the op computes is said here.
 *
 * @module
 */

import { Op } from "./decoder.ts";

/**
 * What an op does besides computing:
 *
 * - `alu`: writes `$rd` and nothing else (so it is dead when `$rd` is the sink);
 * - `branch`: the template is the condition; when it holds, control goes to `$pc + $imm`;
 * - `jump`: the template writes the link `$rd` (and nothing else); control goes to
 *   {@linkcode IntOp.target} when present, else to `$pc + $imm`;
 * - `load`: reads {@linkcode IntOp.width} bytes at {@linkcode EFFECTIVE_ADDRESS}; the template
 *   turns the bytes at `p`/`po` into `$rd`;
 * - `store`: writes {@linkcode IntOp.width} bytes at {@linkcode EFFECTIVE_ADDRESS}; the template
 *   writes `$r2` to `p`/`po`;
 * - `nop`: nothing (FENCE: the harts run one at a time, so memory is sequentially consistent).
 */
export type IntOpKind = "alu" | "branch" | "jump" | "load" | "store" | "nop";

/** A form of an op that applies when a condition on its immediate holds. */
export interface ImmCase {
  /** A JavaScript condition on `$imm` only (the compiled tier evaluates it while emitting). */
  readonly when: string;
  /** The template used when the condition holds. */
  readonly then: string;
}

/** One integer op of the table. */
export interface IntOp {
  /** The decoded op ({@linkcode Op}). */
  readonly op: number;
  /** Its name, that of the {@linkcode Op} key (upper-case mnemonic, `.` as `_`). */
  readonly name: string;
  /** What it does besides computing. */
  readonly kind: IntOpKind;
  /** Its template (see the module notes); with {@linkcode IntOp.immCases}, the last case. */
  readonly template: string;
  /** Forms chosen by the immediate, tried in order before {@linkcode IntOp.template}. */
  readonly immCases?: readonly ImmCase[];
  /** Loads and stores: the access width in bytes. */
  readonly width?: number;
  /**
   * Indirect jumps: statements that compute the absolute target `t` (run before the link is
   * written, so `$rd` may equal `$r1`).
   */
  readonly target?: string;
}

/** The address of a load or store: `x[$r1] + $imm` as a number (exact below 2^53). */
export const EFFECTIVE_ADDRESS = "xh[$r1] * 4294967296 + (xl[$r1] >>> 0) + $imm";

/** Sets `$rd` to the int32 `v` sign-extended (the W forms, narrow signed loads). */
const setW = (v: string): string => `const v = ${v}; xl[$rd] = v; xh[$rd] = v >> 31;`;
/** Sets `$rd` to the number `v`, an integer of magnitude below 2^53 (addresses, links). */
const SET_FROM_NUMBER = "xl[$rd] = v | 0; xh[$rd] = Math.floor(v / 4294967296) | 0;";
const COPY_R1 = "xl[$rd] = xl[$r1]; xh[$rd] = xh[$r1];";

/** Signed 64-bit `a < b` of the halves `ah:al`, `bh:bl` (`bl` already unsigned). */
const lessSigned = (ah: string, al: string, bh: string, bl: string): string =>
  `${ah} < ${bh} || (${ah} === ${bh} && (${al} >>> 0) < ${bl})`;
/** Unsigned 64-bit `a < b` of the halves `ah:al`, `bh:bl` (`bl` already unsigned). */
const lessUnsigned = (ah: string, al: string, bh: string, bl: string): string =>
  `(${ah} >>> 0) < (${bh} >>> 0) || (${ah} === ${bh} && (${al} >>> 0) < ${bl})`;
const R1_LESS_R2 = lessSigned("xh[$r1]", "xl[$r1]", "xh[$r2]", "(xl[$r2] >>> 0)");
const R1_BELOW_R2 = lessUnsigned("xh[$r1]", "xl[$r1]", "xh[$r2]", "(xl[$r2] >>> 0)");

/**
 * The 64-bit shifts of `h:l` by `s`, for `0 < s < 32` (`low`) and `32 <= s < 64` (`high`; a
 * JavaScript shift count is taken mod 32, so `x << s` there shifts by `s - 32`).
 */
const SHIFTS = {
  sll: {
    low: (s: string, l: string, h: string) =>
      `xh[$rd] = (${h} << ${s}) | (${l} >>> (32 - ${s})); xl[$rd] = ${l} << ${s};`,
    high: (s: string, l: string, _h: string) => `xh[$rd] = ${l} << ${s}; xl[$rd] = 0;`,
  },
  srl: {
    low: (s: string, l: string, h: string) =>
      `xl[$rd] = (${l} >>> ${s}) | (${h} << (32 - ${s})); xh[$rd] = (${h} >>> ${s}) | 0;`,
    high: (s: string, _l: string, h: string) => `xl[$rd] = (${h} >>> ${s}) | 0; xh[$rd] = 0;`,
  },
  sra: {
    low: (s: string, l: string, h: string) =>
      `xl[$rd] = (${l} >>> ${s}) | (${h} << (32 - ${s})); xh[$rd] = ${h} >> ${s};`,
    high: (s: string, _l: string, h: string) => `xl[$rd] = ${h} >> ${s}; xh[$rd] = ${h} >> 31;`,
  },
} as const;

/** A shift by the immediate: the form is chosen by the amount. */
function shiftByImm(kind: keyof typeof SHIFTS): Pick<IntOp, "template" | "immCases"> {
  return {
    immCases: [
      { when: "$imm === 0", then: COPY_R1 },
      {
        when: "$imm < 32",
        then: `const l = xl[$r1], h = xh[$r1]; ${SHIFTS[kind].low("$imm", "l", "h")}`,
      },
    ],
    template: SHIFTS[kind].high("$imm", "xl[$r1]", "xh[$r1]"),
  };
}

/** A shift by `x[$r2] & 63`. */
const shiftByReg = (kind: keyof typeof SHIFTS): string =>
  `const l = xl[$r1], h = xh[$r1], s = xl[$r2] & 63; if (s === 0) { xl[$rd] = l; xh[$rd] = h; } else if (s < 32) { ${
    SHIFTS[kind].low("s", "l", "h")
  } } else { ${SHIFTS[kind].high("s", "l", "h")} }`;

/** A 64-bit M op computed by alu.ts into `alu.aluOut`. */
const viaAlu = (fn: string): string =>
  `alu.${fn}(xl[$r1], xh[$r1], xl[$r2], xh[$r2]); xl[$rd] = alu.aluOut[0]; xh[$rd] = alu.aluOut[1];`;

type Row = Omit<IntOp, "op" | "name">;

const ROWS: Partial<Record<keyof typeof Op, Row>> = {
  // Register-immediate
  ADDI: {
    kind: "alu",
    template:
      "const a = xl[$r1]; xh[$rd] = (xh[$r1] + $immHi + ((a >>> 0) + $immU > 4294967295 ? 1 : 0)) | 0; xl[$rd] = (a + $imm) | 0;",
  },
  SLTI: {
    kind: "alu",
    template: `xl[$rd] = ${
      lessSigned("xh[$r1]", "xl[$r1]", "$immHi", "$immU")
    } ? 1 : 0; xh[$rd] = 0;`,
  },
  SLTIU: {
    kind: "alu",
    template: `xl[$rd] = ${
      lessUnsigned("xh[$r1]", "xl[$r1]", "$immHi", "$immU")
    } ? 1 : 0; xh[$rd] = 0;`,
  },
  XORI: { kind: "alu", template: "xh[$rd] = xh[$r1] ^ $immHi; xl[$rd] = xl[$r1] ^ $imm;" },
  ORI: { kind: "alu", template: "xh[$rd] = xh[$r1] | $immHi; xl[$rd] = xl[$r1] | $imm;" },
  ANDI: { kind: "alu", template: "xh[$rd] = xh[$r1] & $immHi; xl[$rd] = xl[$r1] & $imm;" },
  SLLI: { kind: "alu", ...shiftByImm("sll") },
  SRLI: { kind: "alu", ...shiftByImm("srl") },
  SRAI: { kind: "alu", ...shiftByImm("sra") },
  LUI: { kind: "alu", template: "xl[$rd] = $imm; xh[$rd] = $immHi;" },
  AUIPC: { kind: "alu", template: `const v = $pc + $imm; ${SET_FROM_NUMBER}` },
  // Register-register
  ADD: {
    kind: "alu",
    template:
      "const u = (xl[$r1] >>> 0) + (xl[$r2] >>> 0); xh[$rd] = (xh[$r1] + xh[$r2] + (u > 4294967295 ? 1 : 0)) | 0; xl[$rd] = u | 0;",
  },
  SUB: {
    kind: "alu",
    template:
      "const u = (xl[$r1] >>> 0) - (xl[$r2] >>> 0); xh[$rd] = (xh[$r1] - xh[$r2] - (u < 0 ? 1 : 0)) | 0; xl[$rd] = u | 0;",
  },
  SLL: { kind: "alu", template: shiftByReg("sll") },
  SRL: { kind: "alu", template: shiftByReg("srl") },
  SRA: { kind: "alu", template: shiftByReg("sra") },
  SLT: { kind: "alu", template: `xl[$rd] = ${R1_LESS_R2} ? 1 : 0; xh[$rd] = 0;` },
  SLTU: { kind: "alu", template: `xl[$rd] = ${R1_BELOW_R2} ? 1 : 0; xh[$rd] = 0;` },
  XOR: { kind: "alu", template: "xl[$rd] = xl[$r1] ^ xl[$r2]; xh[$rd] = xh[$r1] ^ xh[$r2];" },
  OR: { kind: "alu", template: "xl[$rd] = xl[$r1] | xl[$r2]; xh[$rd] = xh[$r1] | xh[$r2];" },
  AND: { kind: "alu", template: "xl[$rd] = xl[$r1] & xl[$r2]; xh[$rd] = xh[$r1] & xh[$r2];" },
  // 32-bit forms: the low word, sign-extended
  ADDIW: { kind: "alu", template: setW("(xl[$r1] + $imm) | 0") },
  SLLIW: { kind: "alu", template: setW("xl[$r1] << $imm") },
  SRLIW: { kind: "alu", template: setW("(xl[$r1] >>> $imm) | 0") },
  SRAIW: { kind: "alu", template: setW("xl[$r1] >> $imm") },
  ADDW: { kind: "alu", template: setW("(xl[$r1] + xl[$r2]) | 0") },
  SUBW: { kind: "alu", template: setW("(xl[$r1] - xl[$r2]) | 0") },
  SLLW: { kind: "alu", template: setW("xl[$r1] << (xl[$r2] & 31)") },
  SRLW: { kind: "alu", template: setW("(xl[$r1] >>> (xl[$r2] & 31)) | 0") },
  SRAW: { kind: "alu", template: setW("xl[$r1] >> (xl[$r2] & 31)") },
  // M: division by zero gives all ones (quotient) or the dividend (remainder); the overflowing
  // INT_MIN / -1 gives INT_MIN (its `| 0` wraps) and remainder 0.
  MUL: { kind: "alu", template: viaAlu("mul") },
  MULH: { kind: "alu", template: viaAlu("mulh") },
  MULHSU: { kind: "alu", template: viaAlu("mulhsu") },
  MULHU: { kind: "alu", template: viaAlu("mulhu") },
  DIV: { kind: "alu", template: viaAlu("div") },
  DIVU: { kind: "alu", template: viaAlu("divu") },
  REM: { kind: "alu", template: viaAlu("rem") },
  REMU: { kind: "alu", template: viaAlu("remu") },
  MULW: { kind: "alu", template: setW("Math.imul(xl[$r1], xl[$r2])") },
  DIVW: {
    kind: "alu",
    template: `const a = xl[$r1], b = xl[$r2]; ${setW("b === 0 ? -1 : (a / b) | 0")}`,
  },
  DIVUW: {
    kind: "alu",
    template: `const a = xl[$r1], b = xl[$r2]; ${
      setW("b === 0 ? -1 : ((a >>> 0) / (b >>> 0)) | 0")
    }`,
  },
  REMW: {
    kind: "alu",
    template: `const a = xl[$r1], b = xl[$r2]; ${setW("b === 0 ? a : (a % b) | 0")}`,
  },
  REMUW: {
    kind: "alu",
    template: `const a = xl[$r1], b = xl[$r2]; ${
      setW("b === 0 ? a : ((a >>> 0) % (b >>> 0)) | 0")
    }`,
  },
  // Control transfer
  BEQ: { kind: "branch", template: "xl[$r1] === xl[$r2] && xh[$r1] === xh[$r2]" },
  BNE: { kind: "branch", template: "xl[$r1] !== xl[$r2] || xh[$r1] !== xh[$r2]" },
  BLT: { kind: "branch", template: R1_LESS_R2 },
  BGE: { kind: "branch", template: `!(${R1_LESS_R2})` },
  BLTU: { kind: "branch", template: R1_BELOW_R2 },
  BGEU: { kind: "branch", template: `!(${R1_BELOW_R2})` },
  JAL: { kind: "jump", template: `const v = $next; ${SET_FROM_NUMBER}` },
  JALR: {
    kind: "jump",
    target: "let t = xh[$r1] * 4294967296 + (xl[$r1] >>> 0) + $imm; t -= t & 1;",
    template: `const v = $next; ${SET_FROM_NUMBER}`,
  },
  // Memory
  LD: {
    kind: "load",
    width: 8,
    template: "xl[$rd] = p.getInt32(po, true); xh[$rd] = p.getInt32(po + 4, true);",
  },
  LW: { kind: "load", width: 4, template: setW("p.getInt32(po, true)") },
  LWU: { kind: "load", width: 4, template: "xl[$rd] = p.getInt32(po, true); xh[$rd] = 0;" },
  LH: { kind: "load", width: 2, template: setW("p.getInt16(po, true)") },
  LHU: { kind: "load", width: 2, template: "xl[$rd] = p.getUint16(po, true); xh[$rd] = 0;" },
  LB: { kind: "load", width: 1, template: setW("p.getInt8(po)") },
  LBU: { kind: "load", width: 1, template: "xl[$rd] = p.getUint8(po); xh[$rd] = 0;" },
  SD: {
    kind: "store",
    width: 8,
    template: "p.setInt32(po, xl[$r2], true); p.setInt32(po + 4, xh[$r2], true);",
  },
  SW: { kind: "store", width: 4, template: "p.setInt32(po, xl[$r2], true);" },
  SH: { kind: "store", width: 2, template: "p.setInt16(po, xl[$r2], true);" },
  SB: { kind: "store", width: 1, template: "p.setInt8(po, xl[$r2]);" },
  FENCE: { kind: "nop", template: "" },
};

/** Every integer op of the table, in {@linkcode Op} order. */
export const INT_OPS: readonly IntOp[] = (Object.keys(ROWS) as (keyof typeof Op)[])
  .map((name): IntOp => ({ op: Op[name], name, ...ROWS[name]! }))
  .sort((a, b) => a.op - b.op);

/** The table entry of each op number (`undefined` for ops outside the table). */
export const INT_OP_BY_NUMBER: readonly (IntOp | undefined)[] = (() => {
  const t: (IntOp | undefined)[] = [];
  for (const spec of INT_OPS) t[spec.op] = spec;
  return t;
})();

/** Whether a template (or an op's forms) writes the integer register `$rd`. */
export function writesRd(spec: IntOp): boolean {
  const forms = [spec.template, ...(spec.immCases ?? []).map((c) => c.then)];
  return forms.some((t) => /\bx[lh]\[\$rd\] = /.test(t));
}

/** Values (JavaScript source) of the placeholders of a template. */
export interface Operands {
  /** `$rd`. */
  readonly rd: string;
  /** `$r1`. */
  readonly r1: string;
  /** `$r2`. */
  readonly r2: string;
  /** `$imm`. */
  readonly imm: string;
  /** `$immHi`. */
  readonly immHi: string;
  /** `$immU`. */
  readonly immU: string;
  /** `$pc`. */
  readonly pc: string;
  /** `$next`. */
  readonly next: string;
}

/** The placeholders a template uses, by name (without `$`). */
export function placeholders(template: string): Set<keyof Operands> {
  return new Set(
    [...template.matchAll(/\$(\w+)/g)].map((m) => m[1] as keyof Operands),
  );
}

/** Replaces the placeholders of `template` with `operands`. */
export function instantiate(template: string, operands: Operands): string {
  return template.replace(/\$(\w+)/g, (_m, name: string) => {
    const value = operands[name as keyof Operands];
    if (value === undefined) throw new Error(`int_ops: unknown placeholder $${name}`);
    return value;
  });
}

const guards = new Map<string, (imm: number) => boolean>();

/** The template of `spec` for the constant immediate `imm` (its first matching form). */
export function templateForImm(spec: IntOp, imm: number): string {
  for (const c of spec.immCases ?? []) {
    let guard = guards.get(c.when);
    if (guard === undefined) {
      guard = new Function("imm", `return ${c.when.replaceAll("$imm", "imm")};`) as (
        imm: number,
      ) => boolean;
      guards.set(c.when, guard);
    }
    if (guard(imm)) return c.then;
  }
  return spec.template;
}
