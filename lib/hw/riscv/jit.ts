/**
 * The second execution tier: translates hot straight-line runs of decoded instructions into
 * JavaScript functions (one per block) that V8 compiles to machine code.
 *
 * A block starts at a hot instruction and runs through the page until an unconditional jump, an
 * instruction the tier leaves to the interpreter (system, CSR, atomics, page-crossing, illegal),
 * the end of the page, or {@linkcode MAX_BLOCK} instructions. Conditional branches are side
 * exits. Loads and stores use the hart's software TLB inline; on a miss the block exits *before*
 * the access and the interpreter performs it (faults, MMIO, page walks and code-page stores all
 * stay in the interpreter). Blocks therefore never trap, never touch devices and never change
 * privileged state.
 *
 * A block function takes the virtual address of its page and an instruction limit and returns
 * the next pc as an offset from that address; it writes the number of instructions it executed
 * to `st[0]` and why it returned (a `BlockExit` of hart_stats.ts) to `st[1]`. Inside a block, registers live in JavaScript locals; a branch back to the block's
 * first instruction loops inside the function as long as the limit allows another full pass.
 *
 * @module
 */

import { aluOut, div, divu, mulh, mulhsu, mulhu, mulhu32, rem, remu } from "./alu.ts";
import { bitOp } from "./bitmanip.ts";
import {
  BIT_IMM_OPS,
  BIT_OP_FIRST,
  BIT_OP_LAST,
  FP_OP_FIRST,
  FP_OP_LAST,
  Op,
  OP_COUNT,
  X0_SINK,
} from "./decoder.ts";
import { FP_CLEAN_OPS, FP_INT_RESULT_OPS, fpExec } from "./fp_exec.ts";
import type { FpRegisters } from "./fpu.ts";
import { codeCacheStats } from "./hart_stats.ts";

/** Longest block, in instructions. */
export const MAX_BLOCK = 64;

/**
 * A compiled block: runs at most `limit` instructions (at least its length), returns the next pc
 * offset from `base` and writes the number of instructions executed to `st[0]`.
 */
export type BlockFn = (base: number, limit: number) => number;

/** A page of decoded code, as far as the tier needs to know it. */
export interface CodePage {
  /** The RAM page view. */
  readonly view: DataView;
}

/** What a block closes over: the hart's registers and TLBs. */
export interface BlockContext<P extends CodePage = CodePage> {
  /** Low register halves. */
  xl: Int32Array;
  /** High register halves. */
  xh: Int32Array;
  /** Load TLB tags and views. */
  rTag: Float64Array;
  /** Load TLB page views. */
  rPage: DataView[];
  /** Store TLB tags (non-code pages only). */
  wTag: Float64Array;
  /** Store TLB page views. */
  wPage: DataView[];
  /** Store TLB tags of pages that hold decoded code. */
  wcTag: Float64Array;
  /** Decoded pages of those entries. */
  wcPage: P[];
  /** Invalidates decoded code under a store and returns the page view. */
  codeStore: (page: P, po: number, width: number) => DataView;
  /** Block status: `st[0]` = instructions executed by the last block, `st[1]` = why it returned. */
  st: Int32Array;
  /** The FP registers. */
  fr: FpRegisters;
  /** `fs[0]` = mstatus.FS: FP ops run in a block only when it is Dirty (3), else they exit. */
  fs: Int32Array;
}

/**
 * Which integer register each op's template writes: 1 when the op writes `rd` (as an integer
 * register), 0 when it writes no integer register (branches, stores, fences, FP results). The
 * block's write-back set is derived from this, not from the generated text.
 */
export const WRITES_RD: Uint8Array = (() => {
  const t = new Uint8Array(OP_COUNT).fill(1);
  for (
    const op of [
      Op.BEQ,
      Op.BNE,
      Op.BLT,
      Op.BGE,
      Op.BLTU,
      Op.BGEU,
      Op.SB,
      Op.SH,
      Op.SW,
      Op.SD,
      Op.FENCE,
      Op.CROSS,
      Op.ILLEGAL,
    ]
  ) t[op] = 0;
  for (let op = FP_OP_FIRST; op <= FP_OP_LAST; op++) t[op] = FP_INT_RESULT_OPS.has(op) ? 1 : 0;
  return t;
})();

const LOADS: Record<number, [number, string]> = {
  [Op.LD]: [8, ""],
  [Op.LW]: [4, "getInt32(po, true)"],
  [Op.LWU]: [4, "getUint32(po, true)"],
  [Op.LH]: [2, "getInt16(po, true)"],
  [Op.LHU]: [2, "getUint16(po, true)"],
  [Op.LB]: [1, "getInt8(po)"],
  [Op.LBU]: [1, "getUint8(po)"],
};
const STORES: Record<number, [number, string]> = {
  [Op.SD]: [8, ""],
  [Op.SW]: [4, "setInt32"],
  [Op.SH]: [2, "setInt16"],
  [Op.SB]: [1, "setInt8"],
};

const SLOW_ALU: Record<number, string> = {
  [Op.MULH]: "mulh",
  [Op.MULHSU]: "mulhsu",
  [Op.MULHU]: "mulhu",
  [Op.DIV]: "div",
  [Op.DIVU]: "divu",
  [Op.REM]: "rem",
  [Op.REMU]: "remu",
};

/** Sets rd from the int32 expression `v` sign-extended. */
const setW = (rd: number, v: string): string =>
  rd === X0_SINK ? "" : `{ const v = ${v}; xl[${rd}] = v; xh[${rd}] = v >> 31; }`;

/** Unsigned 64-bit less-than of registers a and b as a JS expression. */
const ltu = (a: string, b: string): string =>
  `((xh[${a}] >>> 0) < (xh[${b}] >>> 0) || (xh[${a}] === xh[${b}] && (xl[${a}] >>> 0) < (xl[${b}] >>> 0)))`;
const lts = (a: string, b: string): string =>
  `(xh[${a}] < xh[${b}] || (xh[${a}] === xh[${b}] && (xl[${a}] >>> 0) < (xl[${b}] >>> 0)))`;

function branchCond(op: number, a: number, b: number): string {
  const A = String(a);
  const B = String(b);
  switch (op) {
    case Op.BEQ:
      return b === 0
        ? `(xl[${A}] | xh[${A}]) === 0`
        : `xl[${A}] === xl[${B}] && xh[${A}] === xh[${B}]`;
    case Op.BNE:
      return b === 0
        ? `(xl[${A}] | xh[${A}]) !== 0`
        : `xl[${A}] !== xl[${B}] || xh[${A}] !== xh[${B}]`;
    case Op.BLT:
      return b === 0 ? `xh[${A}] < 0` : lts(A, B);
    case Op.BGE:
      return b === 0 ? `xh[${A}] >= 0` : `!${lts(A, B)}`;
    case Op.BLTU:
      return ltu(A, B);
    default:
      return `!${ltu(A, B)}`;
  }
}

/** 64-bit shift of (l, h) held in locals by constant `s`; writes rd. */
function shiftConst(op: number, rd: number, s: number): string {
  if (s === 0) return `xl[${rd}] = l; xh[${rd}] = h;`;
  if (op === Op.SLLI) {
    return s < 32
      ? `xh[${rd}] = (h << ${s}) | (l >>> ${32 - s}); xl[${rd}] = l << ${s};`
      : `xh[${rd}] = l << ${s - 32}; xl[${rd}] = 0;`;
  }
  if (op === Op.SRLI) {
    return s < 32
      ? `xl[${rd}] = (l >>> ${s}) | (h << ${32 - s}); xh[${rd}] = (h >>> ${s}) | 0;`
      : `xl[${rd}] = (h >>> ${s - 32}) | 0; xh[${rd}] = 0;`;
  }
  return s < 32
    ? `xl[${rd}] = (l >>> ${s}) | (h << ${32 - s}); xh[${rd}] = h >> ${s};`
    : `xl[${rd}] = h >> ${s - 32}; xh[${rd}] = h >> 31;`;
}

/** Emits the JavaScript of one instruction, or `null` when the tier leaves it to the interpreter. */
function emit(w: number, imm: number, o: number, k: number, start: number): string | null {
  const op = w & 255;
  const rd = (w >>> 8) & 63;
  const r1 = (w >>> 14) & 63;
  const r2 = (w >>> 20) & 63;
  const len = w >>> 26;
  const exitHere = `{ @EXIT ${k} 2@ return ${o}; }`;
  const sink = rd === X0_SINK;
  switch (op) {
    case Op.ADDI:
      if (sink) return "";
      if (r1 === 0) return `xl[${rd}] = ${imm}; xh[${rd}] = ${imm >> 31};`;
      if (imm === 0) return `xl[${rd}] = xl[${r1}]; xh[${rd}] = xh[${r1}];`;
      return `{ const a = xl[${r1}]; xh[${rd}] = (xh[${r1}] + ${imm >> 31} + ((a >>> 0) + ${
        imm >>> 0
      } > 4294967295 ? 1 : 0)) | 0; xl[${rd}] = (a + ${imm}) | 0; }`;
    case Op.ADD:
      if (sink) return "";
      return `{ const u = (xl[${r1}] >>> 0) + (xl[${r2}] >>> 0); xh[${rd}] = (xh[${r1}] + xh[${r2}] + (u > 4294967295 ? 1 : 0)) | 0; xl[${rd}] = u | 0; }`;
    case Op.SUB:
      if (sink) return "";
      return `{ const u = (xl[${r1}] >>> 0) - (xl[${r2}] >>> 0); xh[${rd}] = (xh[${r1}] - xh[${r2}] - (u < 0 ? 1 : 0)) | 0; xl[${rd}] = u | 0; }`;
    case Op.LUI:
      return sink ? "" : `xl[${rd}] = ${imm}; xh[${rd}] = ${imm >> 31};`;
    case Op.AUIPC:
      return sink
        ? ""
        : `{ const v = base + ${
          o + imm
        }; xl[${rd}] = v | 0; xh[${rd}] = Math.floor(v / 4294967296) | 0; }`;
    case Op.JAL: {
      const link = sink
        ? ""
        : `{ const v = base + ${
          o + len
        }; xl[${rd}] = v | 0; xh[${rd}] = Math.floor(v / 4294967296) | 0; }`;
      if (o + imm === start && sink) return `@LOOP ${k + 1}@`;
      return `${link} @EXIT ${k + 1} 1@ return ${o + imm};`;
    }
    case Op.JALR: {
      const link = sink
        ? ""
        : `{ const v = base + ${
          o + len
        }; xl[${rd}] = v | 0; xh[${rd}] = Math.floor(v / 4294967296) | 0; }`;
      return `{ let t = xh[${r1}] * 4294967296 + (xl[${r1}] >>> 0) + ${imm}; t -= t & 1; ${link} @EXIT ${
        k + 1
      } 1@ return t - base; }`;
    }
    case Op.BEQ:
    case Op.BNE:
    case Op.BLT:
    case Op.BGE:
    case Op.BLTU:
    case Op.BGEU:
      if (o + imm === start) return `if (${branchCond(op, r1, r2)}) { @LOOP ${k + 1}@ }`;
      return `if (${branchCond(op, r1, r2)}) { @EXIT ${k + 1} 1@ return ${o + imm}; }`;
    case Op.SLTI:
    case Op.SLTIU:
    case Op.SLT:
    case Op.SLTU: {
      if (sink) return "";
      const bl = op === Op.SLTI || op === Op.SLTIU ? String(imm) : `xl[${r2}]`;
      const bh = op === Op.SLTI || op === Op.SLTIU ? String(imm >> 31) : `xh[${r2}]`;
      const unsigned = op === Op.SLTIU || op === Op.SLTU;
      const ah = unsigned ? `(xh[${r1}] >>> 0)` : `xh[${r1}]`;
      const bhx = unsigned ? `((${bh}) >>> 0)` : bh;
      return `{ const t = ${ah} < ${bhx} || (xh[${r1}] === (${bh}) && (xl[${r1}] >>> 0) < ((${bl}) >>> 0)); xl[${rd}] = t ? 1 : 0; xh[${rd}] = 0; }`;
    }
    case Op.XORI:
      return sink ? "" : `xh[${rd}] = xh[${r1}] ^ ${imm >> 31}; xl[${rd}] = xl[${r1}] ^ ${imm};`;
    case Op.ORI:
      return sink ? "" : `xh[${rd}] = xh[${r1}] | ${imm >> 31}; xl[${rd}] = xl[${r1}] | ${imm};`;
    case Op.ANDI:
      return sink ? "" : `xh[${rd}] = xh[${r1}] & ${imm >> 31}; xl[${rd}] = xl[${r1}] & ${imm};`;
    case Op.XOR:
    case Op.OR:
    case Op.AND: {
      if (sink) return "";
      const o2 = op === Op.XOR ? "^" : op === Op.OR ? "|" : "&";
      return `{ const h = xh[${r1}] ${o2} xh[${r2}]; xl[${rd}] = xl[${r1}] ${o2} xl[${r2}]; xh[${rd}] = h; }`;
    }
    case Op.SLLI:
    case Op.SRLI:
    case Op.SRAI:
      return sink ? "" : `{ const l = xl[${r1}], h = xh[${r1}]; ${shiftConst(op, rd, imm)} }`;
    case Op.SLL:
    case Op.SRL:
    case Op.SRA: {
      if (sink) return "";
      const kind = op === Op.SLL ? Op.SLLI : op === Op.SRL ? Op.SRLI : Op.SRAI;
      return `{ const l = xl[${r1}], h = xh[${r1}], s = xl[${r2}] & 63; if (s === 0) { xl[${rd}] = l; xh[${rd}] = h; } else if (s < 32) { ${
        shiftVar(kind, rd, false)
      } } else { ${shiftVar(kind, rd, true)} } }`;
    }
    case Op.ADDIW:
      return setW(rd, `(xl[${r1}] + ${imm}) | 0`);
    case Op.SLLIW:
      return setW(rd, `xl[${r1}] << ${imm}`);
    case Op.SRLIW:
      return setW(rd, `(xl[${r1}] >>> ${imm}) | 0`);
    case Op.SRAIW:
      return setW(rd, `xl[${r1}] >> ${imm}`);
    case Op.ADDW:
      return setW(rd, `(xl[${r1}] + xl[${r2}]) | 0`);
    case Op.SUBW:
      return setW(rd, `(xl[${r1}] - xl[${r2}]) | 0`);
    case Op.SLLW:
      return setW(rd, `xl[${r1}] << (xl[${r2}] & 31)`);
    case Op.SRLW:
      return setW(rd, `(xl[${r1}] >>> (xl[${r2}] & 31)) | 0`);
    case Op.SRAW:
      return setW(rd, `xl[${r1}] >> (xl[${r2}] & 31)`);
    case Op.MULW:
      return setW(rd, `Math.imul(xl[${r1}], xl[${r2}])`);
    case Op.DIVW:
      return setW(rd, `divw(xl[${r1}], xl[${r2}])`);
    case Op.DIVUW:
      return setW(rd, `divuw(xl[${r1}], xl[${r2}])`);
    case Op.REMW:
      return setW(rd, `remw(xl[${r1}], xl[${r2}])`);
    case Op.REMUW:
      return setW(rd, `remuw(xl[${r1}], xl[${r2}])`);
    case Op.MUL:
      if (sink) return "";
      return `{ const al = xl[${r1}], ah = xh[${r1}], bl = xl[${r2}], bh = xh[${r2}]; xl[${rd}] = Math.imul(al, bl); xh[${rd}] = (mulhu32(al, bl) + Math.imul(al, bh) + Math.imul(ah, bl)) | 0; }`;
    case Op.MULH:
    case Op.MULHSU:
    case Op.MULHU:
    case Op.DIV:
    case Op.DIVU:
    case Op.REM:
    case Op.REMU:
      return `${
        SLOW_ALU[op]
      }(xl[${r1}], xh[${r1}], xl[${r2}], xh[${r2}]); xl[${rd}] = ao[0]; xh[${rd}] = ao[1];`;
    case Op.FENCE:
      return "";
    case Op.FLW:
    case Op.FLD: {
      const width = op === Op.FLD ? 8 : 4;
      const hi = width === 8 ? "p.getInt32(po + 4, true)" : "-1";
      return `{ if (fs[0] !== 3) ${exitHere} const a = xh[${r1}] * 4294967296 + (xl[${r1}] >>> 0) + ${imm}; const ti = (a >>> 12) & 255; const po = a & 4095; if (rTag[ti] !== a - po || po > ${
        4096 - width
      }) ${exitHere} const p = rPage[ti]; fw[${rd * 2}] = p.getInt32(po, true); fw[${
        rd * 2 + 1
      }] = ${hi}; }`;
    }
    case Op.FSW:
    case Op.FSD: {
      const width = op === Op.FSD ? 8 : 4;
      const hiStore = width === 8 ? ` p.setInt32(po + 4, fw[${r2 * 2 + 1}], true);` : "";
      return `{ if (fs[0] === 0) ${exitHere} const a = xh[${r1}] * 4294967296 + (xl[${r1}] >>> 0) + ${imm}; const ti = (a >>> 12) & 255; const po = a & 4095; if (po > ${
        4096 - width
      }) ${exitHere} let p; if (wTag[ti] === a - po) p = wPage[ti]; else if (wcTag[ti] === a - po) p = codeStore(wcPage[ti], po, ${width}); else ${exitHere} p.setInt32(po, fw[${
        r2 * 2
      }], true);${hiStore} }`;
    }
    default: {
      if (op >= BIT_OP_FIRST && op <= BIT_OP_LAST) {
        if (sink) return "";
        const b = BIT_IMM_OPS.has(op) ? `${imm}, 0` : `xl[${r2}], xh[${r2}]`;
        return `bitOp(${op}, xl[${r1}], xh[${r1}], ${b}); xl[${rd}] = ao[0]; xh[${rd}] = ao[1];`;
      }
      if (op >= FP_OP_FIRST && op <= FP_OP_LAST) {
        // FP ops run through the shared fpExec; an FS that is not Dirty (or Off), or an invalid
        // dynamic rounding mode, exits before the instruction and the interpreter takes it.
        const guard = FP_CLEAN_OPS.has(op) ? "fs[0] === 0" : "fs[0] !== 3";
        const intSrc = op === Op.FCVT_F_I || op === Op.FMV_F_X ? `xl[${r1}], xh[${r1}]` : "0, 0";
        const result = FP_INT_RESULT_OPS.has(op) && !sink
          ? ` xl[${rd}] = io[0]; xh[${rd}] = io[1];`
          : "";
        return `{ if (${guard} || fpExec(fr, ${w}, ${imm}, ${intSrc}) !== 0) ${exitHere}${result} }`;
      }
      const ld = LOADS[op];
      if (ld !== undefined) {
        const [width, get] = ld;
        const access =
          `const a = xh[${r1}] * 4294967296 + (xl[${r1}] >>> 0) + ${imm}; const ti = (a >>> 12) & 255; const po = a & 4095; if (rTag[ti] !== a - po || po > ${
            4096 - width
          }) ${exitHere} const p = rPage[ti];`;
        if (width === 8) {
          return `{ ${access} const lo = p.getInt32(po, true); xh[${rd}] = p.getInt32(po + 4, true); xl[${rd}] = lo; }`;
        }
        const hi = op === Op.LWU || op === Op.LHU || op === Op.LBU ? "0" : "v >> 31";
        return `{ ${access} const v = p.${get} | 0; xl[${rd}] = v; xh[${rd}] = ${hi}; }`;
      }
      const stx = STORES[op];
      if (stx !== undefined) {
        const [width, set] = stx;
        const access =
          `const a = xh[${r1}] * 4294967296 + (xl[${r1}] >>> 0) + ${imm}; const ti = (a >>> 12) & 255; const po = a & 4095; if (po > ${
            4096 - width
          }) ${exitHere} let p; if (wTag[ti] === a - po) p = wPage[ti]; else if (wcTag[ti] === a - po) p = codeStore(wcPage[ti], po, ${width}); else ${exitHere}`;
        if (width === 8) {
          return `{ ${access} p.setInt32(po, xl[${r2}], true); p.setInt32(po + 4, xh[${r2}], true); }`;
        }
        return `{ ${access} p.${set}(po, xl[${r2}]${width > 1 ? ", true" : ""}); }`;
      }
      return null;
    }
  }
}

function shiftVar(kind: number, rd: number, wide: boolean): string {
  if (kind === Op.SLLI) {
    return wide
      ? `xh[${rd}] = l << (s - 32); xl[${rd}] = 0;`
      : `xh[${rd}] = (h << s) | (l >>> (32 - s)); xl[${rd}] = l << s;`;
  }
  if (kind === Op.SRLI) {
    return wide
      ? `xl[${rd}] = (h >>> (s - 32)) | 0; xh[${rd}] = 0;`
      : `xl[${rd}] = (l >>> s) | (h << (32 - s)); xh[${rd}] = (h >>> s) | 0;`;
  }
  return wide
    ? `xl[${rd}] = h >> (s - 32); xh[${rd}] = h >> 31;`
    : `xl[${rd}] = (l >>> s) | (h << (32 - s)); xh[${rd}] = h >> s;`;
}

/** The source of a block and how many instructions it holds. */
export interface BlockSource {
  /** Function body (uses the {@linkcode BlockContext} names and `base`). */
  body: string;
  /** Number of instructions (an upper bound of what one call executes). */
  length: number;
  /** Page offset just past the last instruction. */
  end: number;
}

/**
 * Builds the source of the block starting at page offset `off`. `word(o)`/`imm(o)` give the
 * decoded instruction at page offset `o` (decoding it if needed). Returns `null` when the first
 * instruction cannot be translated.
 */
export function blockSource(
  off: number,
  word: (o: number) => number,
  immAt: (o: number) => number,
): BlockSource | null {
  const parts: string[] = [];
  const written = new Set<number>();
  let o = off;
  let k = 0;
  let closed = false;
  while (k < MAX_BLOCK && o < 4096) {
    const w = word(o);
    const op = w & 255;
    if (op === Op.CROSS) break;
    const code = emit(w, immAt(o), o, k, off);
    if (code === null) break;
    parts.push(code);
    if (WRITES_RD[op] !== 0) written.add((w >>> 8) & 63);
    k++;
    o += w >>> 26;
    if (op === Op.JAL || op === Op.JALR) {
      closed = true;
      break;
    }
  }
  if (k === 0) return null;
  if (!closed) parts.push(`@EXIT ${k} 0@ return ${o};`);
  return { body: finish(parts.join("\n"), k, off, written), length: k, end: o };
}

/**
 * Turns the emitted code into the block body: registers live in locals (`l5`/`h5`) loaded at
 * entry and written back once, on the single exit path that every exit breaks to (so a block's
 * source grows with its instructions, not with instructions times exits); a branch back to the
 * block's start loops inside the function while the budget allows.
 */
function finish(code: string, length: number, start: number, written: Set<number>): string {
  const used = new Set<number>();
  let body = code.replace(/x([lh])\[(\d+)\]/g, (_m, half: string, r: string) => {
    used.add(Number(r));
    return `${half}${r}`;
  });
  const writeBack = [...written].filter((r) => r !== 0 && r !== X0_SINK)
    .map((r) => `xl[${r}] = l${r}; xh[${r}] = h${r};`).join(" ");
  body = body.replace(
    /@EXIT (\d+) (\d)@ return ([^;]+);/g,
    "{ exN = $1; exW = $2; exR = $3; break main; }",
  ).replace(
    /@LOOP (\d+)@/g,
    `done += $1; if (done + ${length} <= limit) continue; exN = 0; exW = 3; exR = ${start}; break main;`,
  );
  if (body.includes("@")) throw new Error(`jit: unresolved exit marker in block source:\n${body}`);
  const decls = [...used].map((r) =>
    r === 0
      ? "const l0 = 0, h0 = 0;"
      : r === X0_SINK
      ? "let l32 = 0, h32 = 0;"
      : `let l${r} = xl[${r}], h${r} = xh[${r}];`
  ).join(" ");
  return `${decls}\nlet done = 0, exN = 0, exW = 0, exR = 0;\nmain: for (;;) {\n${body}\n}\n${writeBack}\nst[0] = done + exN; st[1] = exW; return exR;`;
}

const divw = (a: number, b: number): number => b === 0 ? -1 : (a / b) | 0;
const divuw = (a: number, b: number): number => b === 0 ? -1 : ((a >>> 0) / (b >>> 0)) | 0;
const remw = (a: number, b: number): number => b === 0 ? a : (a % b) | 0;
const remuw = (a: number, b: number): number => b === 0 ? a : ((a >>> 0) % (b >>> 0)) | 0;

/** Binds a parsed block to one hart's registers and TLBs. */
type Factory = (...args: unknown[]) => BlockFn;

/**
 * Factories by block source, shared by every hart: harts running the same code (SMP guests,
 * firmware on every hart) parse each block once and only bind it to their own state.
 */
const factories = new Map<string, Factory>();
const MAX_FACTORIES = 50_000;

const PARAMS = [
  "xl",
  "xh",
  "rTag",
  "rPage",
  "wTag",
  "wPage",
  "wcTag",
  "wcPage",
  "codeStore",
  "st",
  "ao",
  "mulhu32",
  "mulh",
  "mulhsu",
  "mulhu",
  "div",
  "divu",
  "rem",
  "remu",
  "divw",
  "divuw",
  "remw",
  "remuw",
  "bitOp",
  "fr",
  "fw",
  "io",
  "fs",
  "fpExec",
];

/** Compiles a block source into a function bound to `ctx`. */
export function compileBlock<P extends CodePage>(
  source: BlockSource,
  ctx: BlockContext<P>,
): BlockFn {
  let factory = factories.get(source.body);
  if (factory !== undefined) codeCacheStats.sourcesShared++;
  else {
    codeCacheStats.sourcesParsed++;
    if (factories.size >= MAX_FACTORIES) factories.clear();
    factory = new Function(
      ...PARAMS,
      `"use strict"; return function block(base, limit) {\n${source.body}\n};`,
    ) as Factory;
    factories.set(source.body, factory);
  }
  return factory(
    ctx.xl,
    ctx.xh,
    ctx.rTag,
    ctx.rPage,
    ctx.wTag,
    ctx.wPage,
    ctx.wcTag,
    ctx.wcPage,
    ctx.codeStore,
    ctx.st,
    aluOut,
    mulhu32,
    mulh,
    mulhsu,
    mulhu,
    div,
    divu,
    rem,
    remu,
    divw,
    divuw,
    remw,
    remuw,
    bitOp,
    ctx.fr,
    ctx.fr.words,
    ctx.fr.intOut,
    ctx.fs,
    fpExec,
  );
}
