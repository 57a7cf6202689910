/**
 * How the hart's decoded form of an instruction follows from its row of the instruction table
 * (`isa_table.ts`): the op the row names, and for each slot of the decoded word (rd, rs1, rs2,
 * imm) where its value comes from. The decoder (`decoder.ts`) evaluates these recipes; it
 * knows no encoding itself.
 *
 * A 32-bit row's operands fill the slots by their field names ({@linkcode SLOT_OF_FIELD}). A
 * compressed row fills them as its 32-bit expansion would: `c.li` expands to
 * `addi crd,zero,c_imm6`, so the expansion's `rd` slot gets `crd`, `rs1` gets x0 and `imm12`'s
 * slot gets `c_imm6`. The row's `packs` add fields of the word to the immediate (F/D), and an
 * operand field that must not be 0 makes the word illegal when it is.
 *
 * @module
 */

import {
  FIELDS,
  fpRegisterNumber,
  type ImmediateField,
  type InstructionSpec,
  type OperandField,
  registerNumber,
  type TemplateOperand,
} from "./isa_table.ts";

/** Where a slot's value comes from: a field of the word or a constant. */
export type ValueSource =
  | { readonly kind: "field"; readonly field: OperandField }
  | { readonly kind: "const"; readonly value: number };

/** One part of the decoded immediate: a value shifted left by `shift`. */
export interface ImmediatePart {
  /** Where the value comes from. */
  readonly source: ValueSource;
  /** Its position in the immediate. */
  readonly shift: number;
}

/**
 * Where the slots of a decoded word come from; rows with the same operand syntax (and packs)
 * share one.
 */
export interface Extraction {
  /** The destination; absent means none (the x0 sink). */
  readonly rd?: ValueSource;
  /** Whether rd names an FP register (f0 is real, so it is not replaced by the sink). */
  readonly rdIsFp: boolean;
  /** The first source register (or the CSR immediate's 5 bits); absent means 0. */
  readonly rs1?: ValueSource;
  /** The second source register; absent means 0. */
  readonly rs2?: ValueSource;
  /** The parts OR-ed into the immediate (none: 0). */
  readonly imm: readonly ImmediatePart[];
  /** Fields that must not be 0: a word where one is 0 is illegal. */
  readonly nonZero: readonly ImmediateField[];
}

/** How to build the decoded form of the words one table row matches. */
export interface DecodeRecipe {
  /** The row. */
  readonly spec: InstructionSpec;
  /** The op (`Op.ILLEGAL`: the word is refused, its imm is the raw bits). */
  readonly op: number;
  /** Where the slots come from. */
  readonly extraction: Extraction;
}

/** The decoded slots. */
type Slot = "rd" | "frd" | "rs1" | "rs2" | "imm" | "upper" | "none";

/**
 * The slot each operand field of a 32-bit syntax fills. The rounding mode and rs3 are packed
 * into F/D immediates by the rows' `packs`; fence sets are not decoded (FENCE orders all).
 */
export const SLOT_OF_FIELD: Readonly<Record<string, Slot>> = {
  rd: "rd",
  frd: "frd",
  rs1: "rs1",
  frs1: "rs1",
  zimm5: "rs1",
  rs2: "rs2",
  frs2: "rs2",
  imm12: "imm",
  simm12: "imm",
  boff: "imm",
  joff: "imm",
  shamt6: "imm",
  shamt5: "imm",
  csr: "imm",
  uimm20: "upper",
  rm: "none",
  frs3: "none",
  pred: "none",
  succ: "none",
};

/** What an expansion's operand text stands for: a field of the compressed row, or a constant. */
function sourceOf(token: string, mnemonic: string): ValueSource {
  const field = FIELDS[token];
  if (field !== undefined) return { kind: "field", field };
  const value = registerNumber(token) ?? fpRegisterNumber(token) ??
    (/^\d+$/.test(token) ? Number(token) : undefined);
  if (value === undefined) throw new Error(`decode recipe: ${mnemonic}: what is "${token}"?`);
  return { kind: "const", value };
}

/** Pairs the target syntax's field names with what fills them (same shape, same order). */
function pairOperands(
  target: readonly TemplateOperand[],
  given: readonly TemplateOperand[],
  mnemonic: string,
): [string, string][] {
  const pairs: [string, string][] = [];
  target.forEach((t, i) => {
    const g = given[i];
    if (t.kind === "field" && g.kind === "field") pairs.push([t.field, g.field]);
    else if (t.kind === "mem" && g.kind === "mem" && (t.offset === null) === (g.offset === null)) {
      if (t.offset !== null) pairs.push([t.offset, g.offset!]);
      pairs.push([t.base, g.base]);
    } else throw new Error(`decode recipe: ${mnemonic}: operand ${i + 1} does not fit`);
  });
  return pairs;
}

/** Extractions already made, by operand syntax and packs (compressed rows: by mnemonic). */
const extractions = new Map<string, Extraction>();

/** The recipe of one table row. */
export function decodeRecipe(spec: InstructionSpec): DecodeRecipe {
  const key = spec.expands ? spec.mnemonic : `${spec.syntax}|${spec.packs.join(";")}`;
  let extraction = extractions.get(key);
  if (extraction === undefined) {
    extraction = extractionOf(spec);
    extractions.set(key, extraction);
  }
  return { spec, op: spec.op, extraction };
}

function extractionOf(spec: InstructionSpec): Extraction {
  const target = spec.expands?.spec ?? spec;
  const pairs = pairOperands(
    target.operands,
    spec.expands?.operands ?? spec.operands,
    spec.mnemonic,
  );
  let rd: ValueSource | undefined, rs1: ValueSource | undefined, rs2: ValueSource | undefined;
  let rdIsFp = false;
  const imm: ImmediatePart[] = [];
  const nonZero: ImmediateField[] = [];
  for (const [slotField, token] of pairs) {
    const slot = SLOT_OF_FIELD[slotField];
    if (slot === undefined) throw new Error(`decode recipe: field ${slotField} fills no slot`);
    const source = sourceOf(token, spec.mnemonic);
    if (source.kind === "field" && source.field.type === "imm" && source.field.nonZero) {
      nonZero.push(source.field);
    }
    if (slot === "rd" || slot === "frd") [rd, rdIsFp] = [source, slot === "frd"];
    else if (slot === "rs1") rs1 = source;
    else if (slot === "rs2") rs2 = source;
    else if (slot === "imm") imm.push({ source, shift: 0 });
    else if (slot === "upper") imm.push({ source, shift: 12 });
  }
  for (const [name, shift] of spec.packs) {
    imm.push({ source: { kind: "field", field: FIELDS[name] }, shift });
  }
  return { rd, rdIsFp, rs1, rs2, imm, nonZero };
}
