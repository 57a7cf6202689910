/**
 * The second execution tier: translates hot code into JavaScript functions that V8 compiles to
 * machine code. The translation units are regions (region.ts: the hot code of a page reachable
 * from a hot entry, loops included); this file translates their instructions and compiles them.
 *
 * Loads and stores use the hart's software TLB inline; on a miss the unit exits *before* the
 * access and the interpreter performs it (faults, MMIO, page walks all stay in the
 * interpreter). A store into a page holding decoded code goes through `codeStore`, and when it
 * dropped compiled code the unit exits right after it. Units therefore never trap, never touch
 * devices and never change privileged state; instructions the tier leaves to the interpreter
 * (system, CSR, atomics, page-crossing, illegal) end them.
 *
 * A unit's function takes the virtual address of its page (`base`), its entry's page offset
 * (`off`) and an instruction limit and returns the next pc as an offset from `base`; it writes
 * the number of instructions it executed to `st[0]` and why it returned (a `BlockExit` of
 * hart_stats.ts) to `st[1]`. Registers live in JavaScript locals inside it. Its source holds no
 * address, not even its page offset: the same instructions anywhere, on any hart, share one
 * parsed and optimized function.
 *
 * The integer ops are instantiated from their templates in int_ops.ts (the interpreter's cases
 * are generated from the same table), with the instruction's registers and immediate as
 * constants; FP ops go through fp_exec.ts and bit manipulation through bitmanip.ts, as in the
 * interpreter.
 *
 * @module
 */

import * as alu from "./alu.ts";
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
import {
  EFFECTIVE_ADDRESS,
  instantiate,
  INT_OP_BY_NUMBER,
  INT_OPS,
  type IntOp,
  type Operands,
  templateForImm,
  writesRd,
} from "./int_ops.ts";

/**
 * A compiled unit (a region, region.ts): given its page's address `base` and its entry's page
 * offset `off`, runs at most `limit` instructions (the caller guarantees at least the region's
 * `length`), returns the next pc as an offset from `base` and writes the number of instructions
 * executed to `st[0]` and the `BlockExit` reason to `st[1]`. A negative `limit` runs nothing
 * (the registers are loaded and written back unchanged).
 */
export type BlockFn = (base: number, off: number, limit: number) => number;

/** A page of decoded code, as far as the tier needs to know it. */
export interface CodePage {
  /** The RAM page view. */
  readonly view: DataView;
}

/** What a unit closes over: the hart's registers and TLBs. */
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
  /** Unit status: `st[0]` = instructions executed by the last unit, `st[1]` = why it returned. */
  st: Int32Array;
  /** The FP registers. */
  fr: FpRegisters;
  /** `fs[0]` = mstatus.FS: FP ops run in a unit only when it is Dirty (3), else they exit. */
  fs: Int32Array;
}

/**
 * Which integer register each op's template writes: 1 when the op writes `rd` (as an integer
 * register), 0 when it writes no integer register (branches, stores, fences, FP results, ops the
 * tier leaves to the interpreter). A unit's write-back set is derived from this; for the
 * integer ops it comes from their templates in int_ops.ts.
 */
export const WRITES_RD: Uint8Array = (() => {
  const t = new Uint8Array(OP_COUNT);
  for (const spec of INT_OPS) t[spec.op] = writesRd(spec) ? 1 : 0;
  for (let op = FP_OP_FIRST; op <= FP_OP_LAST; op++) t[op] = FP_INT_RESULT_OPS.has(op) ? 1 : 0;
  for (let op = BIT_OP_FIRST; op <= BIT_OP_LAST; op++) t[op] = 1;
  return t;
})();

/** A constant as a JavaScript operand (negative numbers parenthesized). */
const lit = (v: number): string => (v < 0 ? `(${v})` : String(v));

/**
 * The page access of a load of `width` bytes at the effective address of the operands `c`: the
 * address `a`, its TLB index `ti`, page offset `po` and page view `p`; exits before the
 * instruction (through `exitHere`) unless the page is in the load TLB and the access stays
 * inside it.
 */
const loadAccess = (width: number, c: Operands, exitHere: string): string =>
  `const a = ${
    instantiate(EFFECTIVE_ADDRESS, c)
  }; const ti = (a >>> 12) & 255; const po = a & 4095; if (rTag[ti] !== a - po || po > ${
    4096 - width
  }) ${exitHere} const p = rPage[ti];`;

/**
 * The same for a store: the page is in the store TLB, or holds code (`codeStore` then; when the
 * store dropped compiled code, which may be the running region's own, `cs` is set and the
 * region exits right after the store, so that it never runs a stale instruction).
 */
const storeAccess = (width: number, c: Operands, exitHere: string): string =>
  `const a = ${
    instantiate(EFFECTIVE_ADDRESS, c)
  }; const ti = (a >>> 12) & 255; const po = a & 4095; if (po > ${
    4096 - width
  }) ${exitHere} let p, cs = false; if (wTag[ti] === a - po) p = wPage[ti]; else if (wcTag[ti] === a - po) { const inv = cc.storeInvalidations; p = codeStore(wcPage[ti], po, ${width}); cs = cc.storeInvalidations !== inv; } else ${exitHere}`;

/** The exit right after the `k`th instruction (offset `o`, length `len`) when it stored into code. */
const exitAfterCodeStore = (o: number, len: number, k: number): string =>
  ` if (cs) { @EXIT ${k + 1} 2@ return ${offsetAt(o + len)}; }`;

/** The page offset at offset `o` from the unit's origin (page offset `org`). */
const offsetAt = (o: number): string => (o === 0 ? "org" : `org + ${lit(o)}`);

/** The placeholders of the instruction `w` at offset `o` from the unit's origin, as constants. */
function constants(w: number, imm: number, o: number): Operands {
  return {
    rd: String((w >>> 8) & 63),
    r1: String((w >>> 14) & 63),
    r2: String((w >>> 20) & 63),
    imm: lit(imm),
    immHi: lit(imm >> 31),
    immU: String(imm >>> 0),
    pc: `base + ${offsetAt(o)}`,
    next: `base + ${offsetAt(o + (w >>> 26))}`,
  };
}

/** Emits the JavaScript of one op of the table (int_ops.ts). */
function emitIntOp(
  spec: IntOp,
  w: number,
  imm: number,
  o: number,
  k: number,
): string {
  const sink = ((w >>> 8) & 63) === X0_SINK;
  const c = constants(w, imm, o);
  const inst = (x: string): string => instantiate(x, c);
  const exitHere = `{ @EXIT ${k} 2@ return ${offsetAt(o)}; }`;
  switch (spec.kind) {
    case "alu":
      return sink ? "" : `{ ${inst(templateForImm(spec, imm))} }`;
    case "nop":
      return "";
    case "branch":
      return `if (${inst(spec.template)}) { @GO ${k + 1} ${o + imm}@ }`;
    case "jump": {
      const link = sink ? "" : `{ ${inst(spec.template)} }`;
      if (spec.target !== undefined) {
        return `{ ${inst(spec.target)} ${link} @EXIT ${k + 1} 1@ return t - base; }`;
      }
      return `${link} @GO ${k + 1} ${o + imm}@`;
    }
    case "load":
      return `{ ${loadAccess(spec.width!, c, exitHere)} ${inst(spec.template)} }`;
    case "store":
      return `{ ${storeAccess(spec.width!, c, exitHere)} ${inst(spec.template)}${
        exitAfterCodeStore(o, w >>> 26, k)
      } }`;
  }
}

/**
 * Emits the JavaScript of the decoded instruction `w` (immediate `imm`) at offset `o` from the
 * unit's origin (its first entry, page offset `org`), the `k`th instruction since the unit last counted executed instructions, or
 * `null` when the tier leaves it to the interpreter. The code reads and writes registers as
 * `xl[r]`/`xh[r]` and leaves through markers that the unit's builder (region.ts) resolves:
 *
 * - `@EXIT n w@ return X;`: leave the unit after `n` more instructions, for the `BlockExit`
 *   reason `w`, with the page offset `X` as the next pc;
 * - `@GO n t@`: control goes to the instruction at offset `t` from the entry after `n` more
 *   instructions (taken branches, direct jumps).
 */
export function emitInstruction(w: number, imm: number, o: number, k: number): string | null {
  const op = w & 255;
  const spec = INT_OP_BY_NUMBER[op];
  if (spec !== undefined) return emitIntOp(spec, w, imm, o, k);
  const rd = (w >>> 8) & 63;
  const r1 = (w >>> 14) & 63;
  const r2 = (w >>> 20) & 63;
  const exitHere = `{ @EXIT ${k} 2@ return ${offsetAt(o)}; }`;
  const sink = rd === X0_SINK;
  switch (op) {
    case Op.FLW:
    case Op.FLD: {
      const width = op === Op.FLD ? 8 : 4;
      const hi = width === 8 ? "p.getInt32(po + 4, true)" : "-1";
      return `{ if (fs[0] !== 3) ${exitHere} ${
        loadAccess(width, constants(w, imm, o), exitHere)
      } fw[${rd * 2}] = p.getInt32(po, true); fw[${rd * 2 + 1}] = ${hi}; }`;
    }
    case Op.FSW:
    case Op.FSD: {
      const width = op === Op.FSD ? 8 : 4;
      const hiStore = width === 8 ? ` p.setInt32(po + 4, fw[${r2 * 2 + 1}], true);` : "";
      return `{ if (fs[0] === 0) ${exitHere} ${
        storeAccess(width, constants(w, imm, o), exitHere)
      } p.setInt32(po, fw[${r2 * 2}], true);${hiStore}${exitAfterCodeStore(o, w >>> 26, k)} }`;
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
      return null;
    }
  }
}

/** Binds a parsed unit to one hart's registers and TLBs. */
type Factory = (...args: unknown[]) => BlockFn;

/**
 * Factories by unit source, shared by every hart: harts running the same code (SMP guests,
 * firmware on every hart) parse each unit once and only bind it to their own state.
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
  "alu",
  "bitOp",
  "fr",
  "fw",
  "io",
  "fs",
  "fpExec",
  "cc",
  "org",
];

/**
 * Compiles a unit's function body (see region.ts) into a function bound to `ctx`, for the unit
 * whose origin is at page offset `org`.
 */
export function compileBlock<P extends CodePage>(
  source: { readonly body: string },
  ctx: BlockContext<P>,
  org: number,
): BlockFn {
  let factory = factories.get(source.body);
  if (factory !== undefined) codeCacheStats.sourcesShared++;
  else {
    codeCacheStats.sourcesParsed++;
    if (factories.size >= MAX_FACTORIES) factories.clear();
    factory = new Function(
      ...PARAMS,
      `"use strict"; return function block(base, off, limit) {\n${source.body}\n};`,
    ) as Factory;
    factories.set(source.body, factory);
  }
  const fn = factory(
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
    alu.aluOut,
    alu,
    bitOp,
    ctx.fr,
    ctx.fr.words,
    ctx.fr.intOut,
    ctx.fs,
    fpExec,
    codeCacheStats,
    org,
  );
  // A call with a negative limit runs only the entry and the exit path (registers are loaded
  // and written back unchanged): V8 then has type feedback for the exit path before it
  // optimizes a region that loops inside, instead of deoptimizing at its first exit.
  fn(0, 0, -1);
  return fn;
}
