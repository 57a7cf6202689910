/**
 * Instruction decoder: turns RV64GC + Zba/Zbb/Zbs/Zicond machine code (32-bit and compressed
 * 16-bit forms) into a compact decoded form that the hart's interpreter executes.
 *
 * The decoder knows no encoding of its own: it is generated from the instruction table
 * (`isa_table.ts`, the one place each encoding is written, shared with the assembler and the
 * disassembler) through the recipes of `decode_recipe.ts`. A word that no row of the table
 * matches is {@linkcode Op.ILLEGAL}. Compressed instructions decode to the same operations as
 * their 32-bit expansions (each compressed row names its expansion).
 *
 * Decoding is separate from execution so that decoded instructions can be cached per code page
 * and a later tier can translate hot blocks. A decoded instruction is two int32 values:
 *
 * - `word`: `op | rd << 8 | rs1 << 14 | rs2 << 20 | length << 26`, where `rd` 0 is replaced by
 *   32 (a scratch register, so that writes to x0 need no test) and `length` is 2 or 4;
 * - `imm`: the sign-extended immediate, the CSR number for CSR instructions, or the raw
 *   instruction bits for {@linkcode Op.ILLEGAL}.
 *
 * Lookup structures: a 65536-entry table of 16-bit parcels, filled on first use of each parcel,
 * and for 32-bit words one function compiled to JavaScript from the rows when the first 32-bit
 * word is decoded: a switch on the major opcode, then on funct3, funct7 or rs2 where they tell
 * the rows apart, then mask/match tests in table order, each followed by its row's field
 * extraction. Loading the module only sorts the rows by opcode.
 *
 * @module
 */

import {
  type DecodeRecipe,
  decodeRecipe,
  type Extraction,
  type ValueSource,
} from "./decode_recipe.ts";
import {
  decodeImmediate,
  decodeRegister,
  HART_ENCODINGS,
  immediateBits,
  type ImmediateField,
  type InstructionSpec,
} from "./isa_table.ts";
import { Op } from "./op.ts";

export * from "./op.ts";

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

const illegalWord = (length: number) => Op.ILLEGAL | (X0_SINK << 8) | (length << 26);

/**
 * The rows the hart decodes, 16-bit ones by quadrant and funct3 (`w & 3 | (w >>> 13) << 2`,
 * keys 0..31), 32-bit ones by major opcode (keys 32 + opcode), in table order. Their recipes
 * and code are made on first use of a key, so that loading the module costs little.
 */
const ROWS_BY_KEY: readonly InstructionSpec[][] = (() => {
  const lists: InstructionSpec[][] = Array.from({ length: 32 + 128 }, () => []);
  for (const spec of HART_ENCODINGS) {
    if (spec.length === 4) lists[32 + (spec.match & 0x7f)].push(spec);
    else {
      for (let key = 0; key < 32; key++) {
        const bits = (key & 3) | ((key >>> 2) << 13);
        if (((bits ^ spec.match) & spec.mask & 0xe003) === 0) lists[key].push(spec);
      }
    }
  }
  return lists;
})();

const recipesOf = (key: number) => ROWS_BY_KEY[key].map(decodeRecipe);

// ---------------------------------------------------------------- 16-bit parcels

function valueOf(source: ValueSource, w: number): number {
  if (source.kind === "const") return source.value;
  const f = source.field;
  return f.type === "reg" ? decodeRegister(w, f) : decodeImmediate(w, f);
}

/** Recipes of the compressed rows by quadrant and funct3, made on first use. */
const RECIPES16: (DecodeRecipe[] | undefined)[] = new Array(32);

/** Decoded words of the 16-bit parcels (-1: not yet decoded) and their immediates. */
const WORD16 = new Int32Array(0x10000).fill(-1);
const IMM16 = new Int32Array(0x10000);

/** Decodes a compressed parcel into the tables; returns its word. */
function fill16(w: number): number {
  let word = illegalWord(2), imm = w;
  const key = (w & 3) | ((w >>> 13) << 2);
  for (const r of RECIPES16[key] ??= recipesOf(key)) {
    if ((w & r.spec.mask) !== r.spec.match || (r.spec.valid && !r.spec.valid(w))) continue;
    const x = r.extraction;
    if (r.op !== Op.ILLEGAL && !x.nonZero.some((f) => decodeImmediate(w, f) === 0)) {
      const rd = x.rd ? valueOf(x.rd, w) : 0;
      word = r.op | ((rd === 0 && !x.rdIsFp ? X0_SINK : rd) << 8) |
        ((x.rs1 ? valueOf(x.rs1, w) : 0) << 14) | ((x.rs2 ? valueOf(x.rs2, w) : 0) << 20) |
        (2 << 26);
      imm = 0;
      for (const p of x.imm) imm |= valueOf(p.source, w) << p.shift;
    }
    break;
  }
  WORD16[w] = word;
  IMM16[w] = imm;
  return word;
}

// ---------------------------------------------------------------- 32-bit words

/** JavaScript expression of an immediate field's value in word `i`. */
function immediateSource(f: ImmediateField): string {
  const bits = immediateBits(f);
  if (f.signed && f.segments.length === 1 && f.segments[0][0] + f.segments[0][2] === 32) {
    const [lo, valueLo] = f.segments[0];
    return valueLo === 0 ? `(i >> ${lo})` : `((i >> ${lo}) << ${valueLo})`;
  }
  const raw = f.segments.map(([lo, valueLo, length]) =>
    `(((i >>> ${lo}) & ${(1 << length) - 1}) << ${valueLo})`
  ).join(" | ");
  return f.signed ? `((${raw}) << ${32 - bits} >> ${32 - bits})` : `(${raw})`;
}

/** JavaScript expression of a slot value in word `i`. */
function valueSource(source: ValueSource): string {
  if (source.kind === "const") return String(source.value);
  const f = source.field;
  if (f.type === "imm") return immediateSource(f);
  if (f.fixed !== undefined) return String(f.fixed);
  const value = `((i >>> ${f.lo}) & ${(1 << f.width) - 1})`;
  return f.base === 0 ? value : `(${value} + ${f.base})`;
}

/** What a compilation shares between its rows: their validity tests and extractions' code. */
interface Shared {
  /** `V[k]` in the code. */
  readonly valid: ((w: number) => boolean)[];
  /** The statements of each extraction ({@linkcode extractionSource}). */
  readonly extractions: Map<Extraction, string>;
}

/**
 * The statements that decode word `i` by extraction `x` into `O`, `OP` standing for the word's
 * constant part (the op, the length, the sink when there is no rd).
 */
function extractionSource(x: Extraction): string {
  const reserved = x.nonZero.map((f) =>
    `if (${immediateSource(f)} === 0) { O.word = ${illegalWord(4)}; O.imm = i; return; } `
  );
  const word = ["OP"];
  if (x.rd !== undefined) {
    word.push(
      x.rdIsFp ? `(${valueSource(x.rd)} << 8)` : `((${valueSource(x.rd)} || ${X0_SINK}) << 8)`,
    );
  }
  if (x.rs1) word.push(`(${valueSource(x.rs1)} << 14)`);
  if (x.rs2) word.push(`(${valueSource(x.rs2)} << 20)`);
  const imm = x.imm.map((p) =>
    p.shift ? `(${valueSource(p.source)} << ${p.shift})` : valueSource(p.source)
  );
  return `${reserved.join("")}O.word = ${word.join(" | ")}; O.imm = ${
    imm.length ? imm.join(" | ") : "0"
  };`;
}

/** The statements that decode a word matching recipe `r` into `O` and return. */
function recipeSource(r: DecodeRecipe, shared: Shared): string {
  if (r.op === Op.ILLEGAL) return `O.word = ${illegalWord(4)}; O.imm = i; return;`;
  let source = shared.extractions.get(r.extraction);
  if (source === undefined) {
    shared.extractions.set(r.extraction, source = extractionSource(r.extraction));
  }
  const rdSink = r.extraction.rd === undefined ? X0_SINK << 8 : 0;
  return `${source.replace("OP", String(r.op | (4 << 26) | rdSink))} return;`;
}

/** Fields an opcode's decoder switches on, when every row left covers them: funct3, funct7, rs2. */
const SWITCH_FIELDS: readonly (readonly [lo: number, width: number])[] = [
  [12, 3],
  [25, 7],
  [20, 5],
];

/**
 * Statements that decode word `i` by `recipes` (in table order): a `switch` on the first field
 * of `fields` that every recipe's mask covers and that tells them apart, else one mask/match
 * test per recipe. Falls through when none matches.
 */
function treeSource(
  recipes: readonly DecodeRecipe[],
  fields: readonly (readonly [number, number])[],
  known: number,
  shared: Shared,
): string {
  for (const [lo, width] of fields) {
    const bits = ((1 << width) - 1) << lo;
    if (recipes.length < 2 || recipes.some((r) => (r.spec.mask & bits) !== bits)) continue;
    const groups = Map.groupBy(recipes, (r) => (r.spec.match >>> lo) & ((1 << width) - 1));
    if (groups.size < 2) continue;
    const rest = fields.filter((f) => f[0] !== lo);
    const values = new Map<string, number[]>(); // case values by body: equal bodies share one
    for (const [value, group] of groups) {
      const body = treeSource(group, rest, known | bits, shared);
      values.set(body, [...values.get(body) ?? [], value]);
    }
    const cases = [...values].map(([body, vs]) =>
      `${vs.map((v) => `case ${v}:`).join(" ")} {\n${body}\nbreak;\n}`
    );
    return `switch ((i >>> ${lo}) & ${(1 << width) - 1}) {\n${cases.join("\n")}\n}`;
  }
  return recipes.map((r) => {
    const mask = r.spec.mask & ~known;
    const tests = mask === 0 ? [] : [`(i & ${mask | 0}) === ${r.spec.match & mask}`];
    if (r.spec.valid) {
      if (!shared.valid.includes(r.spec.valid)) shared.valid.push(r.spec.valid);
      tests.push(`V[${shared.valid.indexOf(r.spec.valid)}](i)`);
    }
    const body = recipeSource(r, shared);
    return tests.length ? `if (${tests.join(" && ")}) { ${body} }` : body;
  }).join("\n");
}

/** Decodes a 32-bit word into {@linkcode out}. */
type Decode32 = (i: number) => void;

/**
 * Compiles the decoder of the 32-bit words: one function, a switch on the major opcode, then
 * {@linkcode treeSource} of the opcode's rows.
 */
function compileDecode32(): Decode32 {
  const shared: Shared = { valid: [], extractions: new Map() };
  const cases: string[] = [];
  for (let opcode = 0; opcode < 128; opcode++) {
    const recipes = recipesOf(32 + opcode);
    if (recipes.length === 0) continue;
    cases.push(`case ${opcode}: {\n${treeSource(recipes, SWITCH_FIELDS, 0x7f, shared)}\nbreak;\n}`);
  }
  const source = `"use strict"; return function decode32(i) {\n` +
    `switch (i & 127) {\n${cases.join("\n")}\n}\nO.word = ${illegalWord(4)}; O.imm = i;\n};`;
  return new Function("O", "V", source)(out, shared.valid);
}

/** The 32-bit decoder, compiled when the first 32-bit word is decoded. */
let decode32: Decode32 = (i: number) => (decode32 = compileDecode32())(i);

/**
 * Decodes one instruction. `bits` holds the instruction: 32 bits when its low two bits are 11,
 * otherwise only the low 16 bits are looked at. Returns a shared object that the next call
 * overwrites; copy the fields if you keep them.
 */
export function decode(bits: number): Decoded {
  if ((bits & 3) === 3) decode32(bits | 0);
  else {
    const w = bits & 0xffff;
    const word = WORD16[w];
    out.word = word < 0 ? fill16(w) : word;
    out.imm = IMM16[w];
  }
  return out;
}

/** Whether the instruction whose low 16 bits are `low16` is 32 bits long (else compressed). */
export const isLong = (low16: number): boolean => (low16 & 3) === 3;
