/**
 * The single table of RV64 instruction encodings: the assembler, the disassembler and the hart's
 * decoder (`decoder.ts`, generated from it at load) all derive from it.
 *
 * Every instruction is described once: its mnemonic, its operand syntax (a small template such
 * as `rd,imm12(rs1)`), the `match`/`mask` pair that identifies it (`(word & mask) === match`),
 * the hart's op (`op.ts`), and for a compressed form the 32-bit instruction it expands to.
 * Operands name {@linkcode OperandField}s, which know where their bits live in the instruction
 * word, how to scatter a value into them (assembler) and gather it back (disassembler, decoder),
 * and how objdump prints them. Covered: RV64I, M, A, F, D, C (every RV64 compressed form),
 * Zicsr, Zifencei, Zba, Zbb, Zbs, Zicond and the privileged instructions (ecall, ebreak, mret,
 * sret, wfi, sfence.vma). A word that matches no row is illegal for the hart too.
 *
 * The CSR names are those of the ratified privileged specification 1.12, exactly the set that
 * `riscv64-unknown-elf-objdump` (binutils 2.40) prints for objects built with
 * `-mpriv-spec=1.12`.
 *
 * @module
 */

import { Op } from "./op.ts";

/** ABI names of the 32 integer registers, indexed by register number. */
export const ABI_REGISTER_NAMES: readonly string[] = [
  "zero",
  "ra",
  "sp",
  "gp",
  "tp",
  "t0",
  "t1",
  "t2",
  "s0",
  "s1",
  "a0",
  "a1",
  "a2",
  "a3",
  "a4",
  "a5",
  "a6",
  "a7",
  "s2",
  "s3",
  "s4",
  "s5",
  "s6",
  "s7",
  "s8",
  "s9",
  "s10",
  "s11",
  "t3",
  "t4",
  "t5",
  "t6",
];

const REGISTER_NUMBERS: ReadonlyMap<string, number> = (() => {
  const map = new Map<string, number>();
  ABI_REGISTER_NAMES.forEach((name, i) => {
    map.set(name, i);
    map.set(`x${i}`, i);
  });
  map.set("fp", 8);
  return map;
})();

/**
 * Register number for an assembler register name (`x0`..`x31`, ABI names, `fp`), or
 * `undefined` when the name is not a register. Case-sensitive, as in GNU as.
 */
export function registerNumber(name: string): number | undefined {
  return REGISTER_NUMBERS.get(name);
}

/** ABI names of the 32 FP registers (`ft0`.., `fs0`.., `fa0`..), indexed by register number. */
export const FP_ABI_REGISTER_NAMES: readonly string[] = Array.from(
  { length: 32 },
  (_, i) =>
    i < 8
      ? `ft${i}`
      : i < 10
      ? `fs${i - 8}`
      : i < 18
      ? `fa${i - 10}`
      : i < 28
      ? `fs${i - 16}`
      : `ft${i - 20}`,
);

const FP_REGISTER_NUMBERS: ReadonlyMap<string, number> = (() => {
  const map = new Map<string, number>();
  FP_ABI_REGISTER_NAMES.forEach((name, i) => {
    map.set(name, i);
    map.set(`f${i}`, i);
  });
  return map;
})();

/** Register number of an FP register name (`f0`..`f31`, ABI names), or `undefined`. */
export function fpRegisterNumber(name: string): number | undefined {
  return FP_REGISTER_NUMBERS.get(name);
}

/** Rounding-mode operand names by rm value (5 and 6 are reserved). */
export const ROUNDING_MODE_NAMES: readonly string[] = [
  "rne",
  "rtz",
  "rdn",
  "rup",
  "rmm",
  "unknown",
  "unknown",
  "dyn",
];

function csrFamily(prefix: string, base: number, first: number, last: number, suffix = "") {
  const out: [number, string][] = [];
  for (let i = first; i <= last; i++) out.push([base + i - first, `${prefix}${i}${suffix}`]);
  return out;
}

/**
 * Every named CSR: `[number, name]`, ordered by number. The names are those of the privileged
 * specification 1.12 (plus the unprivileged F, V, Zkr, debug and trigger CSRs), the same set
 * GNU binutils 2.40 prints.
 */
export const CSR_TABLE: readonly (readonly [number, string])[] = ([
  [0x001, "fflags"],
  [0x002, "frm"],
  [0x003, "fcsr"],
  [0x008, "vstart"],
  [0x009, "vxsat"],
  [0x00a, "vxrm"],
  [0x00f, "vcsr"],
  [0x015, "seed"],
  [0x100, "sstatus"],
  [0x104, "sie"],
  [0x105, "stvec"],
  [0x106, "scounteren"],
  [0x10a, "senvcfg"],
  [0x10c, "sstateen0"],
  [0x10d, "sstateen1"],
  [0x10e, "sstateen2"],
  [0x10f, "sstateen3"],
  [0x114, "sieh"],
  [0x140, "sscratch"],
  [0x141, "sepc"],
  [0x142, "scause"],
  [0x143, "stval"],
  [0x144, "sip"],
  [0x14d, "stimecmp"],
  [0x150, "siselect"],
  [0x151, "sireg"],
  [0x154, "siph"],
  [0x15c, "stopei"],
  [0x15d, "stimecmph"],
  [0x180, "satp"],
  [0x200, "vsstatus"],
  [0x204, "vsie"],
  [0x205, "vstvec"],
  [0x214, "vsieh"],
  [0x240, "vsscratch"],
  [0x241, "vsepc"],
  [0x242, "vscause"],
  [0x243, "vstval"],
  [0x244, "vsip"],
  [0x24d, "vstimecmp"],
  [0x250, "vsiselect"],
  [0x251, "vsireg"],
  [0x254, "vsiph"],
  [0x25c, "vstopei"],
  [0x25d, "vstimecmph"],
  [0x280, "vsatp"],
  [0x300, "mstatus"],
  [0x301, "misa"],
  [0x302, "medeleg"],
  [0x303, "mideleg"],
  [0x304, "mie"],
  [0x305, "mtvec"],
  [0x306, "mcounteren"],
  [0x308, "mvien"],
  [0x309, "mvip"],
  [0x30a, "menvcfg"],
  [0x30c, "mstateen0"],
  [0x30d, "mstateen1"],
  [0x30e, "mstateen2"],
  [0x30f, "mstateen3"],
  [0x310, "mstatush"],
  [0x313, "midelegh"],
  [0x314, "mieh"],
  [0x318, "mvienh"],
  [0x319, "mviph"],
  [0x31a, "menvcfgh"],
  [0x31c, "mstateen0h"],
  [0x31d, "mstateen1h"],
  [0x31e, "mstateen2h"],
  [0x31f, "mstateen3h"],
  [0x320, "mcountinhibit"],
  ...csrFamily("mhpmevent", 0x323, 3, 31),
  [0x340, "mscratch"],
  [0x341, "mepc"],
  [0x342, "mcause"],
  [0x343, "mtval"],
  [0x344, "mip"],
  [0x34a, "mtinst"],
  [0x34b, "mtval2"],
  [0x350, "miselect"],
  [0x351, "mireg"],
  [0x354, "miph"],
  [0x35c, "mtopei"],
  ...csrFamily("pmpcfg", 0x3a0, 0, 15),
  ...csrFamily("pmpaddr", 0x3b0, 0, 63),
  [0x5a8, "scontext"],
  [0x600, "hstatus"],
  [0x602, "hedeleg"],
  [0x603, "hideleg"],
  [0x604, "hie"],
  [0x605, "htimedelta"],
  [0x606, "hcounteren"],
  [0x607, "hgeie"],
  [0x608, "hvien"],
  [0x609, "hvictl"],
  [0x60a, "henvcfg"],
  [0x60c, "hstateen0"],
  [0x60d, "hstateen1"],
  [0x60e, "hstateen2"],
  [0x60f, "hstateen3"],
  [0x613, "hidelegh"],
  [0x615, "htimedeltah"],
  [0x618, "hvienh"],
  [0x61a, "henvcfgh"],
  [0x61c, "hstateen0h"],
  [0x61d, "hstateen1h"],
  [0x61e, "hstateen2h"],
  [0x61f, "hstateen3h"],
  [0x643, "htval"],
  [0x644, "hip"],
  [0x645, "hvip"],
  [0x646, "hviprio1"],
  [0x647, "hviprio2"],
  [0x64a, "htinst"],
  [0x655, "hviph"],
  [0x656, "hviprio1h"],
  [0x657, "hviprio2h"],
  [0x680, "hgatp"],
  [0x6a8, "hcontext"],
  ...csrFamily("mhpmevent", 0x723, 3, 31, "h"),
  [0x747, "mseccfg"],
  [0x757, "mseccfgh"],
  [0x7a0, "tselect"],
  [0x7a1, "tdata1"],
  [0x7a2, "tdata2"],
  [0x7a3, "tdata3"],
  [0x7a4, "tinfo"],
  [0x7a5, "tcontrol"],
  [0x7a8, "mcontext"],
  [0x7aa, "mscontext"],
  [0x7b0, "dcsr"],
  [0x7b1, "dpc"],
  [0x7b2, "dscratch0"],
  [0x7b3, "dscratch1"],
  [0xb00, "mcycle"],
  [0xb02, "minstret"],
  ...csrFamily("mhpmcounter", 0xb03, 3, 31),
  [0xb80, "mcycleh"],
  [0xb82, "minstreth"],
  ...csrFamily("mhpmcounter", 0xb83, 3, 31, "h"),
  [0xc00, "cycle"],
  [0xc01, "time"],
  [0xc02, "instret"],
  ...csrFamily("hpmcounter", 0xc03, 3, 31),
  [0xc20, "vl"],
  [0xc21, "vtype"],
  [0xc22, "vlenb"],
  [0xc80, "cycleh"],
  [0xc81, "timeh"],
  [0xc82, "instreth"],
  ...csrFamily("hpmcounter", 0xc83, 3, 31, "h"),
  [0xda0, "scountovf"],
  [0xdb0, "stopi"],
  [0xe12, "hgeip"],
  [0xeb0, "vstopi"],
  [0xf11, "mvendorid"],
  [0xf12, "marchid"],
  [0xf13, "mimpid"],
  [0xf14, "mhartid"],
  [0xf15, "mconfigptr"],
  [0xfb0, "mtopi"],
] as [number, string][]).sort((a, b) => a[0] - b[0]);

/** Older names GNU as still accepts for some CSRs (input only; output uses the new names). */
const CSR_ALIASES: readonly (readonly [string, number])[] = [
  ["sbadaddr", 0x143],
  ["mbadaddr", 0x343],
  ["sptbr", 0x180],
  ["mucounteren", 0x320],
  ["dscratch", 0x7b2],
];

const CSR_BY_NAME: ReadonlyMap<string, number> = new Map([
  ...CSR_TABLE.map(([num, name]) => [name, num] as [string, number]),
  ...CSR_ALIASES.map(([name, num]) => [name, num] as [string, number]),
]);
const CSR_BY_NUMBER: ReadonlyMap<number, string> = new Map(CSR_TABLE);

/** The CSR number for a CSR name (standard or legacy alias), or `undefined`. */
export function standardCsrNumber(name: string): number | undefined {
  return CSR_BY_NAME.get(name);
}

/** The standard name of a CSR number, or `undefined` for a CSR without a name. */
export function standardCsrName(num: number): string | undefined {
  return CSR_BY_NUMBER.get(num);
}

/** Extensions an instruction belongs to. */
export type Extension =
  | "I"
  | "M"
  | "A"
  | "F"
  | "D"
  | "C"
  | "Zicsr"
  | "Zifencei"
  | "Priv"
  | "Zba"
  | "Zbb"
  | "Zbs"
  | "Zicond";

/** One segment of an immediate: `length` value bits starting at `valueLo`, stored at `instLo`. */
export type BitSegment = readonly [instLo: number, valueLo: number, length: number];

/** How a disassembler prints an operand value. */
export type PrintStyle = "dec" | "hex" | "target" | "csr" | "fence" | "clui" | "rm";

/** A register operand: a bit field holding a register number. */
export interface RegisterField {
  /** Discriminant. */
  readonly type: "reg";
  /** Lowest bit of the field in the instruction word. */
  readonly lo: number;
  /** Field width in bits: 5 for full registers, 3 for the compressed x8..x15 registers. */
  readonly width: 5 | 3;
  /** Register number of field value 0 (8 for compressed 3-bit registers). */
  readonly base: number;
  /** A register the syntax names but the encoding implies (`sp` in `c.lwsp`). */
  readonly fixed?: number;
  /** The register file: `x` (integer, default) or `f` (floating point). */
  readonly file?: "x" | "f";
}

/** An immediate operand scattered over one or more bit segments. */
export interface ImmediateField {
  /** Discriminant. */
  readonly type: "imm";
  /** Where the value bits live. */
  readonly segments: readonly BitSegment[];
  /** Whether the value is two's complement (sign bit = highest value bit). */
  readonly signed: boolean;
  /** Low value bits that must be zero (the value is a multiple of 2^alignBits). */
  readonly alignBits: number;
  /** The value zero is reserved (the encoding means something else). */
  readonly nonZero?: boolean;
  /** The value is relative to the instruction's address (branch and jump targets). */
  readonly pcRelative?: boolean;
  /** How the disassembler prints it. */
  readonly print: PrintStyle;
  /** Human description used in range errors. */
  readonly what: string;
}

/** Any operand field. */
export type OperandField = RegisterField | ImmediateField;

function reg(lo: number, width: 5 | 3 = 5, fixed?: number, file?: "f"): RegisterField {
  return { type: "reg", lo, width, base: width === 3 ? 8 : 0, fixed, file };
}

function imm(
  what: string,
  segments: BitSegment[],
  signed: boolean,
  print: PrintStyle,
  extra: { alignBits?: number; nonZero?: boolean; pcRelative?: boolean } = {},
): ImmediateField {
  return {
    type: "imm",
    what,
    segments,
    signed,
    print,
    alignBits: extra.alignBits ?? 0,
    nonZero: extra.nonZero,
    pcRelative: extra.pcRelative,
  };
}

/** The operand fields, by the names used in the syntax templates of {@linkcode INSTRUCTIONS}. */
export const FIELDS: Readonly<Record<string, OperandField>> = {
  rd: reg(7),
  rs1: reg(15),
  rs2: reg(20),
  crd: reg(7),
  crs2: reg(2),
  crdq: reg(2, 3),
  crs1q: reg(7, 3),
  crs2q: reg(2, 3),
  sp: reg(7, 5, 2),
  frd: reg(7, 5, undefined, "f"),
  frs1: reg(15, 5, undefined, "f"),
  frs2: reg(20, 5, undefined, "f"),
  frs3: reg(27, 5, undefined, "f"),
  cfrd: reg(7, 5, undefined, "f"),
  cfrs2: reg(2, 5, undefined, "f"),
  cfrdq: reg(2, 3, undefined, "f"),
  cfrs2q: reg(2, 3, undefined, "f"),
  rm: imm("rounding mode", [[12, 0, 3]], false, "rm"),
  imm12: imm("12-bit signed immediate", [[20, 0, 12]], true, "dec"),
  simm12: imm("12-bit signed offset", [[7, 0, 5], [25, 5, 7]], true, "dec"),
  boff: imm("branch offset", [[8, 1, 4], [25, 5, 6], [7, 11, 1], [31, 12, 1]], true, "target", {
    alignBits: 1,
    pcRelative: true,
  }),
  joff: imm("jump offset", [[21, 1, 10], [20, 11, 1], [12, 12, 8], [31, 20, 1]], true, "target", {
    alignBits: 1,
    pcRelative: true,
  }),
  uimm20: imm("20-bit upper immediate", [[12, 0, 20]], false, "hex"),
  shamt6: imm("shift amount", [[20, 0, 6]], false, "hex"),
  shamt5: imm("32-bit shift amount", [[20, 0, 5]], false, "hex"),
  csr: imm("CSR number", [[20, 0, 12]], false, "csr"),
  zimm5: imm("5-bit CSR immediate", [[15, 0, 5]], false, "dec"),
  pred: imm("fence predecessor set", [[24, 0, 4]], false, "fence"),
  succ: imm("fence successor set", [[20, 0, 4]], false, "fence"),
  // Fields no syntax names, which the hart packs into an F/D op's decoded immediate.
  funct3: imm("funct3", [[12, 0, 3]], false, "dec"),
  fmt: imm("FP format", [[25, 0, 2]], false, "dec"),
  cvt: imm("conversion integer kind", [[20, 0, 2]], false, "dec"),
  c_addi4spn: imm(
    "c.addi4spn immediate",
    [[11, 4, 2], [7, 6, 4], [6, 2, 1], [5, 3, 1]],
    false,
    "dec",
    {
      alignBits: 2,
      nonZero: true,
    },
  ),
  c_lw: imm("c.lw offset", [[10, 3, 3], [6, 2, 1], [5, 6, 1]], false, "dec", { alignBits: 2 }),
  c_ld: imm("c.ld offset", [[10, 3, 3], [5, 6, 2]], false, "dec", { alignBits: 3 }),
  c_imm6: imm("6-bit signed immediate", [[2, 0, 5], [12, 5, 1]], true, "dec"),
  c_lui: imm("c.lui immediate", [[2, 0, 5], [12, 5, 1]], true, "clui", { nonZero: true }),
  c_addi16sp: imm(
    "c.addi16sp immediate",
    [[6, 4, 1], [2, 5, 1], [5, 6, 1], [3, 7, 2], [12, 9, 1]],
    true,
    "dec",
    { alignBits: 4, nonZero: true },
  ),
  c_shamt: imm("shift amount", [[2, 0, 5], [12, 5, 1]], false, "hex", { nonZero: true }),
  c_joff: imm(
    "c.j offset",
    [[3, 1, 3], [11, 4, 1], [2, 5, 1], [7, 6, 1], [6, 7, 1], [9, 8, 2], [8, 10, 1], [12, 11, 1]],
    true,
    "target",
    { alignBits: 1, pcRelative: true },
  ),
  c_boff: imm(
    "compressed branch offset",
    [[3, 1, 2], [10, 3, 2], [2, 5, 1], [5, 6, 2], [12, 8, 1]],
    true,
    "target",
    {
      alignBits: 1,
      pcRelative: true,
    },
  ),
  c_lwsp: imm("c.lwsp offset", [[4, 2, 3], [12, 5, 1], [2, 6, 2]], false, "dec", { alignBits: 2 }),
  c_ldsp: imm("c.ldsp offset", [[5, 3, 2], [12, 5, 1], [2, 6, 3]], false, "dec", { alignBits: 3 }),
  c_swsp: imm("c.swsp offset", [[9, 2, 4], [7, 6, 2]], false, "dec", { alignBits: 2 }),
  c_sdsp: imm("c.sdsp offset", [[10, 3, 3], [7, 6, 3]], false, "dec", { alignBits: 3 }),
};

/** One operand of a syntax template. */
export type TemplateOperand =
  | { readonly kind: "field"; readonly field: string }
  | { readonly kind: "mem"; readonly offset: string | null; readonly base: string };

/** One instruction encoding. */
export interface InstructionSpec {
  /** Mnemonic as written in assembly (`addi`, `lr.w.aq`, `c.addi4spn`). */
  readonly mnemonic: string;
  /** Operand syntax, e.g. `rd,imm12(rs1)`; names are keys of {@linkcode FIELDS}. */
  readonly syntax: string;
  /** Parsed {@linkcode InstructionSpec.syntax}. */
  readonly operands: readonly TemplateOperand[];
  /** Bits that identify the instruction. */
  readonly match: number;
  /** Which bits of the word `match` covers. */
  readonly mask: number;
  /** Encoding length in bytes. */
  readonly length: 2 | 4;
  /** The extension that defines it. */
  readonly extension: Extension;
  /** Extra decoding condition (reserved or differently-decoded field values). */
  readonly valid?: (word: number) => boolean;
  /**
   * The hart's operation ({@linkcode Op}); a compressed instruction's is its expansion's,
   * {@linkcode Op.ILLEGAL} for an encoding the hart refuses.
   */
  readonly op: number;
  /**
   * A compressed instruction's 32-bit expansion: that instruction's encoding and, in its operand
   * order, what each operand is here: a field name of this row, a register name or a number
   * (`c.li` is `addi crd,zero,c_imm6`).
   */
  readonly expands?: {
    /** The 32-bit instruction. */
    readonly spec: InstructionSpec;
    /** Its operands, in terms of this row. */
    readonly operands: readonly TemplateOperand[];
  };
  /**
   * Fields of the word (keys of {@linkcode FIELDS}) that the hart's decoded immediate packs
   * besides the operands, each with its bit position there (F/D: rounding mode at 0, format at
   * 8, ...; see `ExtensionOp` in `op.ts`).
   */
  readonly packs: readonly (readonly [field: string, shift: number])[];
  /**
   * A spelling of an encoding that a later row also matches (`unimp` for `csrrw zero,cycle,zero`),
   * for the assembler and the disassembler: the hart decodes the word by that later row.
   */
  readonly alias: boolean;
}

function parseSyntax(syntax: string): TemplateOperand[] {
  if (syntax === "") return [];
  return syntax.split(",").map((part) => {
    const mem = /^(\w*)\((\w+)\)$/.exec(part);
    if (mem) return { kind: "mem", offset: mem[1] === "" ? null : mem[1], base: mem[2] };
    return { kind: "field", field: part };
  });
}

const field = (word: number, lo: number, width: number) => (word >>> lo) & ((1 << width) - 1);

/** Extracts the raw (unsigned) value bits of an immediate field from a word. */
function gather(word: number, f: ImmediateField): number {
  let v = 0;
  for (const [instLo, valueLo, length] of f.segments) {
    v += field(word, instLo, length) * 2 ** valueLo;
  }
  return v;
}

/** Total number of value bits of an immediate field (including the implied low zero bits). */
export function immediateBits(f: ImmediateField): number {
  let top = 0;
  for (const [, valueLo, length] of f.segments) top = Math.max(top, valueLo + length);
  return top;
}

/** Decodes an immediate field's value from an instruction word (sign-extended if signed). */
export function decodeImmediate(word: number, f: ImmediateField): number {
  const raw = gather(word, f);
  const bits = immediateBits(f);
  return f.signed && raw >= 2 ** (bits - 1) ? raw - 2 ** bits : raw;
}

/** Decodes a register field's register number from an instruction word. */
export function decodeRegister(word: number, f: RegisterField): number {
  return f.fixed ?? field(word, f.lo, f.width) + f.base;
}

/**
 * Inserts an immediate value into a word. The value must already be in range and aligned
 * (see {@linkcode immediateRangeError}).
 */
export function encodeImmediate(word: number, f: ImmediateField, value: number): number {
  const bits = immediateBits(f);
  const raw = value < 0 ? value + 2 ** bits : value;
  let w = word;
  for (const [instLo, valueLo, length] of f.segments) {
    const part = Math.floor(raw / 2 ** valueLo) % 2 ** length;
    w |= part << instLo;
  }
  return w >>> 0;
}

/**
 * Why `value` does not fit immediate field `f` (a message naming the accepted range), or
 * `undefined` when it fits.
 */
export function immediateRangeError(f: ImmediateField, value: number): string | undefined {
  const bits = immediateBits(f);
  const min = f.signed ? -(2 ** (bits - 1)) : 0;
  const max = f.signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  const step = 2 ** f.alignBits;
  const range = `${min}..${max}` + (step > 1 ? `, a multiple of ${step}` : "") +
    (f.nonZero ? ", not 0" : "");
  if (!Number.isInteger(value) || value < min || value > max) {
    return `${f.what} ${value} out of range (${range})`;
  }
  if (value % step !== 0) return `${f.what} ${value} is not a multiple of ${step}`;
  if (f.nonZero && value === 0) return `${f.what} must not be 0`;
  return undefined;
}

/** Inserts a register number into a word; returns `undefined` if the field cannot hold it. */
export function encodeRegister(word: number, f: RegisterField, num: number): number | undefined {
  if (f.fixed !== undefined) return num === f.fixed ? word : undefined;
  const v = num - f.base;
  if (v < 0 || v >= 1 << f.width) return undefined;
  return (word | (v << f.lo)) >>> 0;
}

/** How the hart decodes a row, where its mnemonic and operands alone do not say it. */
interface RowOptions {
  /** Extra decoding condition (see {@linkcode InstructionSpec.valid}). */
  valid?: (w: number) => boolean;
  /** The hart's op when it is not the mnemonic's (`fence.tso` is a FENCE). */
  op?: number;
  /** A compressed instruction's 32-bit expansion, e.g. `addi crd,zero,c_imm6`. */
  expands?: string;
  /** See {@linkcode InstructionSpec.packs}. */
  packs?: readonly (readonly [string, number])[];
  /** See {@linkcode InstructionSpec.alias}. */
  alias?: boolean;
}

type Row = [
  mnemonic: string,
  syntax: string,
  match: number,
  mask: number,
  ext: Extension,
  options?: RowOptions,
];

const R = 0xfe00707f; // funct7 + funct3 + opcode
const I = 0x0000707f; // funct3 + opcode
const OP = 0x0000007f; // opcode only
const SHIFT64 = 0xfc00707f;
const UNARY = 0xfff0707f; // the whole immediate/rs2 field + funct3 + opcode

const rd = (w: number) => field(w, 7, 5);
const rs2c = (w: number) => field(w, 2, 5);
const cimm6 = (w: number) => (field(w, 12, 1) << 5) | field(w, 2, 5);

function rTypes(ext: Extension, opcode: number, funct7: number, names: [number, string][]): Row[] {
  return names.map((
    [f3, name],
  ) => [name, "rd,rs1,rs2", opcode | (f3 << 12) | (funct7 << 25), R, ext]);
}

/** rm 5 and 6 are reserved: such words are no instruction. */
const rmValid = (w: number) => ((w >>> 12) & 7) < 5 || ((w >>> 12) & 7) === 7;
const RM = 0x7000;

/** What the F/D ops pack into the decoded immediate (the layout `ExtensionOp` in `op.ts` gives). */
const ROUNDED: RowOptions["packs"] = [["rm", 0], ["fmt", 8]];
const FUSED: RowOptions["packs"] = [["rm", 0], ["fmt", 8], ["frs3", 10]];
const SELECTED: RowOptions["packs"] = [["funct3", 0], ["fmt", 8]];
const CONVERTED: RowOptions["packs"] = [["rm", 0], ["cvt", 4], ["fmt", 8]];
const FORMAT: RowOptions["packs"] = [["fmt", 8]];

/**
 * The exact conversions fcvt.d.w, fcvt.d.wu and fcvt.d.s: binutils 2.40 knows them with rm = 0
 * only (no rm operand); the hart accepts every valid rm, as QEMU does (rm cannot change the
 * result). `[name, match]`.
 */
const EXACT_CONVERSIONS: readonly (readonly [string, number])[] = [
  ["fcvt.d.w", 0x53 | (0x1a << 27) | (1 << 25)],
  ["fcvt.d.wu", 0x53 | (0x1a << 27) | (1 << 25) | (1 << 20)],
  ["fcvt.d.s", 0x53 | (0x08 << 27) | (1 << 25)],
];

/**
 * F and D. An operation with a rounding mode has two rows, as binutils 2.40 has them: without
 * the rm operand (rm = dyn, listed first so that the disassembler prints it so) and with it.
 * The exact conversions ({@linkcode EXACT_CONVERSIONS}) take no rm operand (rm = 0).
 */
function fpRows(): Row[] {
  const rows: Row[] = [];
  const withRm = (
    ext: Extension,
    name: string,
    syntax: string,
    match: number,
    mask: number,
    options: RowOptions,
  ) => {
    rows.push([name, syntax, match | RM, mask | RM, ext, options]);
    rows.push([name, `${syntax},rm`, match, mask, ext, { ...options, valid: rmValid }]);
  };
  const exact = new Map(EXACT_CONVERSIONS);
  for (const [s, fmt, ext] of [["s", 0, "F"], ["d", 1, "D"]] as const) {
    const f7 = (funct5: number) => (funct5 << 27) | (fmt << 25);
    rows.push([`fl${s === "s" ? "w" : "d"}`, "frd,imm12(rs1)", 0x07 | ((2 + fmt) << 12), I, ext]);
    rows.push([`fs${s === "s" ? "w" : "d"}`, "frs2,simm12(rs1)", 0x27 | ((2 + fmt) << 12), I, ext]);
    for (
      const [name, opcode, op] of [
        ["fmadd", 0x43, Op.FMADD],
        ["fmsub", 0x47, Op.FMSUB],
        ["fnmsub", 0x4b, Op.FNMSUB],
        ["fnmadd", 0x4f, Op.FNMADD],
      ] as const
    ) {
      withRm(ext, `${name}.${s}`, "frd,frs1,frs2,frs3", opcode | (fmt << 25), 0x0600007f, {
        op,
        packs: FUSED,
      });
    }
    for (
      const [name, funct5, op] of [
        ["fadd", 0, Op.FADD],
        ["fsub", 1, Op.FSUB],
        ["fmul", 2, Op.FMUL],
        ["fdiv", 3, Op.FDIV],
      ] as const
    ) {
      withRm(ext, `${name}.${s}`, "frd,frs1,frs2", 0x53 | f7(funct5), 0xfe00007f, {
        op,
        packs: ROUNDED,
      });
    }
    withRm(ext, `fsqrt.${s}`, "frd,frs1", 0x53 | f7(0x0b), 0xfff0007f, {
      op: Op.FSQRT,
      packs: ROUNDED,
    });
    const selected = (name: string, syntax: string, funct5: number, f3: number, op: number) =>
      rows.push([`${name}.${s}`, syntax, 0x53 | f7(funct5) | (f3 << 12), R, ext, {
        op,
        packs: SELECTED,
      }]);
    selected("fsgnj", "frd,frs1,frs2", 0x04, 0, Op.FSGNJ);
    selected("fsgnjn", "frd,frs1,frs2", 0x04, 1, Op.FSGNJ);
    selected("fsgnjx", "frd,frs1,frs2", 0x04, 2, Op.FSGNJ);
    selected("fmin", "frd,frs1,frs2", 0x05, 0, Op.FMINMAX);
    selected("fmax", "frd,frs1,frs2", 0x05, 1, Op.FMINMAX);
    selected("feq", "rd,frs1,frs2", 0x14, 2, Op.FCMP);
    selected("flt", "rd,frs1,frs2", 0x14, 1, Op.FCMP);
    selected("fle", "rd,frs1,frs2", 0x14, 0, Op.FCMP);
    const format = { packs: FORMAT };
    rows.push([`fclass.${s}`, "rd,frs1", 0x53 | f7(0x1c) | (1 << 12), UNARY, ext, {
      ...format,
      op: Op.FCLASS,
    }]);
    const x = s === "s" ? "w" : "d";
    rows.push([`fmv.x.${x}`, "rd,frs1", 0x53 | f7(0x1c), UNARY, ext, {
      ...format,
      op: Op.FMV_X_F,
    }]);
    rows.push([`fmv.${x}.x`, "frd,rs1", 0x53 | f7(0x1e), UNARY, ext, {
      ...format,
      op: Op.FMV_F_X,
    }]);
    for (const [int, k] of [["w", 0], ["wu", 1], ["l", 2], ["lu", 3]] as const) {
      withRm(ext, `fcvt.${int}.${s}`, "rd,frs1", 0x53 | f7(0x18) | (k << 20), 0xfff0007f, {
        op: Op.FCVT_I_F,
        packs: CONVERTED,
      });
      const name = `fcvt.${s}.${int}`;
      const options = { op: Op.FCVT_F_I, packs: CONVERTED };
      const match = exact.get(name);
      if (match !== undefined) rows.push([name, "frd,rs1", match, UNARY, ext, options]);
      else withRm(ext, name, "frd,rs1", 0x53 | f7(0x1a) | (k << 20), 0xfff0007f, options);
    }
  }
  const f2f = { op: Op.FCVT_F_F, packs: ROUNDED };
  withRm("D", "fcvt.s.d", "frd,frs1", 0x53 | (0x08 << 27) | (1 << 20), 0xfff0007f, f2f);
  rows.push(["fcvt.d.s", "frd,frs1", exact.get("fcvt.d.s")!, UNARY, "D", f2f]);
  return rows;
}

function amos(): Row[] {
  const rows: Row[] = [];
  const ops: [string, number][] = [
    ["amoadd", 0x00],
    ["amoswap", 0x01],
    ["amoxor", 0x04],
    ["amoor", 0x08],
    ["amoand", 0x0c],
    ["amomin", 0x10],
    ["amomax", 0x14],
    ["amominu", 0x18],
    ["amomaxu", 0x1c],
  ];
  for (const [width, f3] of [["w", 2], ["d", 3]] as const) {
    for (const [ord, bits] of [["", 0], [".aq", 2], [".rl", 1], [".aqrl", 3]] as const) {
      const base = 0x2f | (f3 << 12) | (bits << 25);
      rows.push([`lr.${width}${ord}`, "rd,(rs1)", base | (0x02 << 27), 0xfff0707f, "A"]);
      rows.push([`sc.${width}${ord}`, "rd,rs2,(rs1)", base | (0x03 << 27), R, "A"]);
      for (const [name, f5] of ops) {
        rows.push([`${name}.${width}${ord}`, "rd,rs2,(rs1)", base | (f5 << 27), R, "A"]);
      }
    }
  }
  return rows;
}

const ROWS: Row[] = [
  // RV64I
  ["lui", "rd,uimm20", 0x37, OP, "I"],
  ["auipc", "rd,uimm20", 0x17, OP, "I"],
  ["jal", "rd,joff", 0x6f, OP, "I"],
  ["jalr", "rd,imm12(rs1)", 0x67, I, "I"],
  ...([[0, "beq"], [1, "bne"], [4, "blt"], [5, "bge"], [6, "bltu"], [7, "bgeu"]] as const).map((
    [f3, name],
  ): Row => [name, "rs1,rs2,boff", 0x63 | (f3 << 12), I, "I"]),
  ...([[0, "lb"], [1, "lh"], [2, "lw"], [3, "ld"], [4, "lbu"], [5, "lhu"], [6, "lwu"]] as const)
    .map(([f3, name]): Row => [name, "rd,imm12(rs1)", 0x03 | (f3 << 12), I, "I"]),
  ...([[0, "sb"], [1, "sh"], [2, "sw"], [3, "sd"]] as const).map((
    [f3, name],
  ): Row => [name, "rs2,simm12(rs1)", 0x23 | (f3 << 12), I, "I"]),
  ...([[0, "addi"], [2, "slti"], [3, "sltiu"], [4, "xori"], [6, "ori"], [7, "andi"]] as const)
    .map(([f3, name]): Row => [name, "rd,rs1,imm12", 0x13 | (f3 << 12), I, "I"]),
  ["slli", "rd,rs1,shamt6", 0x00001013, SHIFT64, "I"],
  ["srli", "rd,rs1,shamt6", 0x00005013, SHIFT64, "I"],
  ["srai", "rd,rs1,shamt6", 0x40005013, SHIFT64, "I"],
  ...rTypes("I", 0x33, 0, [
    [0, "add"],
    [1, "sll"],
    [2, "slt"],
    [3, "sltu"],
    [4, "xor"],
    [5, "srl"],
    [6, "or"],
    [7, "and"],
  ]),
  ...rTypes("I", 0x33, 0x20, [[0, "sub"], [5, "sra"]]),
  ["addiw", "rd,rs1,imm12", 0x1b, I, "I"],
  ["slliw", "rd,rs1,shamt5", 0x0000101b, R, "I"],
  ["srliw", "rd,rs1,shamt5", 0x0000501b, R, "I"],
  ["sraiw", "rd,rs1,shamt5", 0x4000501b, R, "I"],
  ...rTypes("I", 0x3b, 0, [[0, "addw"], [1, "sllw"], [5, "srlw"]]),
  ...rTypes("I", 0x3b, 0x20, [[0, "subw"], [5, "sraw"]]),
  ["fence.tso", "", 0x8330000f, 0xffffffff, "I", { op: Op.FENCE }],
  ["fence", "pred,succ", 0x0000000f, 0xf00fffff, "I"],
  ["ecall", "", 0x00000073, 0xffffffff, "I"],
  ["ebreak", "", 0x00100073, 0xffffffff, "I"],
  // Zifencei
  ["fence.i", "", 0x0000100f, 0xffffffff, "Zifencei"],
  // Privileged
  ["sret", "", 0x10200073, 0xffffffff, "Priv"],
  ["mret", "", 0x30200073, 0xffffffff, "Priv"],
  ["wfi", "", 0x10500073, 0xffffffff, "Priv"],
  ["uret", "", 0x00200073, 0xffffffff, "Priv", { op: Op.ILLEGAL }], // no N extension
  ["dret", "", 0x7b200073, 0xffffffff, "Priv", { op: Op.ILLEGAL }], // no debug mode
  ["sfence.vma", "rs1,rs2", 0x12000073, 0xfe007fff, "Priv"],
  // Zicsr. unimp is csrrw zero,cycle,zero: it decodes, and traps when executed (cycle is
  // read-only).
  ["unimp", "", 0xc0001073, 0xffffffff, "Zicsr", { op: Op.CSRRW, alias: true }],
  ["csrrw", "rd,csr,rs1", 0x1073, I, "Zicsr"],
  ["csrrs", "rd,csr,rs1", 0x2073, I, "Zicsr"],
  ["csrrc", "rd,csr,rs1", 0x3073, I, "Zicsr"],
  ["csrrwi", "rd,csr,zimm5", 0x5073, I, "Zicsr"],
  ["csrrsi", "rd,csr,zimm5", 0x6073, I, "Zicsr"],
  ["csrrci", "rd,csr,zimm5", 0x7073, I, "Zicsr"],
  // M
  ...rTypes("M", 0x33, 1, [
    [0, "mul"],
    [1, "mulh"],
    [2, "mulhsu"],
    [3, "mulhu"],
    [4, "div"],
    [5, "divu"],
    [6, "rem"],
    [7, "remu"],
  ]),
  ...rTypes("M", 0x3b, 1, [[0, "mulw"], [4, "divw"], [5, "divuw"], [6, "remw"], [7, "remuw"]]),
  // A
  ...amos(),
  // F, D
  ...fpRows(),
  // Zba
  ...rTypes("Zba", 0x33, 0x10, [[2, "sh1add"], [4, "sh2add"], [6, "sh3add"]]),
  ...rTypes("Zba", 0x3b, 0x10, [[2, "sh1add.uw"], [4, "sh2add.uw"], [6, "sh3add.uw"]]),
  ...rTypes("Zba", 0x3b, 0x04, [[0, "add.uw"]]),
  ["slli.uw", "rd,rs1,shamt6", 0x0800101b, SHIFT64, "Zba"],
  // Zbb
  ...rTypes("Zbb", 0x33, 0x20, [[7, "andn"], [6, "orn"], [4, "xnor"]]),
  ["clz", "rd,rs1", 0x60001013, UNARY, "Zbb"],
  ["ctz", "rd,rs1", 0x60101013, UNARY, "Zbb"],
  ["cpop", "rd,rs1", 0x60201013, UNARY, "Zbb"],
  ["sext.b", "rd,rs1", 0x60401013, UNARY, "Zbb"],
  ["sext.h", "rd,rs1", 0x60501013, UNARY, "Zbb"],
  ["clzw", "rd,rs1", 0x6000101b, UNARY, "Zbb"],
  ["ctzw", "rd,rs1", 0x6010101b, UNARY, "Zbb"],
  ["cpopw", "rd,rs1", 0x6020101b, UNARY, "Zbb"],
  ...rTypes("Zbb", 0x33, 0x05, [[4, "min"], [5, "minu"], [6, "max"], [7, "maxu"]]),
  ["zext.h", "rd,rs1", 0x0800403b, UNARY, "Zbb"],
  ...rTypes("Zbb", 0x33, 0x30, [[1, "rol"], [5, "ror"]]),
  ["rori", "rd,rs1,shamt6", 0x60005013, SHIFT64, "Zbb"],
  ...rTypes("Zbb", 0x3b, 0x30, [[1, "rolw"], [5, "rorw"]]),
  ["roriw", "rd,rs1,shamt5", 0x6000501b, R, "Zbb"],
  ["orc.b", "rd,rs1", 0x28705013, UNARY, "Zbb"],
  ["rev8", "rd,rs1", 0x6b805013, UNARY, "Zbb"],
  // Zbs
  ...rTypes("Zbs", 0x33, 0x24, [[1, "bclr"], [5, "bext"]]),
  ...rTypes("Zbs", 0x33, 0x14, [[1, "bset"]]),
  ...rTypes("Zbs", 0x33, 0x34, [[1, "binv"]]),
  ["bclri", "rd,rs1,shamt6", 0x48001013, SHIFT64, "Zbs"],
  ["bseti", "rd,rs1,shamt6", 0x28001013, SHIFT64, "Zbs"],
  ["binvi", "rd,rs1,shamt6", 0x68001013, SHIFT64, "Zbs"],
  ["bexti", "rd,rs1,shamt6", 0x48005013, SHIFT64, "Zbs"],
  // Zicond
  ...rTypes("Zicond", 0x33, 0x07, [[5, "czero.eqz"], [7, "czero.nez"]]),
  // C, quadrant 0. A field that must not be 0 (c.addi16sp's immediate) makes the word reserved
  // for the hart when it is 0, though objdump still prints it.
  ["c.unimp", "", 0x0000, 0xffff, "C", { op: Op.ILLEGAL }],
  ["c.addi4spn", "crdq,sp,c_addi4spn", 0x0000, 0xe003, "C", {
    valid: (w) => (w & 0x1fe0) !== 0,
    expands: "addi crdq,sp,c_addi4spn",
  }],
  ["c.lw", "crdq,c_lw(crs1q)", 0x4000, 0xe003, "C", { expands: "lw crdq,c_lw(crs1q)" }],
  ["c.ld", "crdq,c_ld(crs1q)", 0x6000, 0xe003, "C", { expands: "ld crdq,c_ld(crs1q)" }],
  ["c.fld", "cfrdq,c_ld(crs1q)", 0x2000, 0xe003, "C", { expands: "fld cfrdq,c_ld(crs1q)" }],
  ["c.fsd", "cfrs2q,c_ld(crs1q)", 0xa000, 0xe003, "C", { expands: "fsd cfrs2q,c_ld(crs1q)" }],
  ["c.sw", "crs2q,c_lw(crs1q)", 0xc000, 0xe003, "C", { expands: "sw crs2q,c_lw(crs1q)" }],
  ["c.sd", "crs2q,c_ld(crs1q)", 0xe000, 0xe003, "C", { expands: "sd crs2q,c_ld(crs1q)" }],
  // C, quadrant 1
  ["c.addi", "crd,c_imm6", 0x0001, 0xe003, "C", { expands: "addi crd,crd,c_imm6" }],
  // objdump -M no-aliases prints c.addi zero,0 (the row above matches first)
  ["c.nop", "", 0x0001, 0xffff, "C", { expands: "addi zero,zero,0" }],
  ["c.addiw", "crd,c_imm6", 0x2001, 0xe003, "C", {
    valid: (w) => rd(w) !== 0,
    expands: "addiw crd,crd,c_imm6",
  }],
  ["c.li", "crd,c_imm6", 0x4001, 0xe003, "C", { expands: "addi crd,zero,c_imm6" }],
  ["c.addi16sp", "sp,c_addi16sp", 0x6101, 0xef83, "C", { expands: "addi sp,sp,c_addi16sp" }],
  ["c.lui", "crd,c_lui", 0x6001, 0xe003, "C", {
    valid: (w) => rd(w) !== 2 && cimm6(w) !== 0,
    expands: "lui crd,c_lui",
  }],
  ["c.srli64", "crs1q", 0x8001, 0xfc7f, "C", { expands: "srli crs1q,crs1q,0" }],
  ["c.srai64", "crs1q", 0x8401, 0xfc7f, "C", { expands: "srai crs1q,crs1q,0" }],
  ["c.srli", "crs1q,c_shamt", 0x8001, 0xec03, "C", { expands: "srli crs1q,crs1q,c_shamt" }],
  ["c.srai", "crs1q,c_shamt", 0x8401, 0xec03, "C", { expands: "srai crs1q,crs1q,c_shamt" }],
  ["c.andi", "crs1q,c_imm6", 0x8801, 0xec03, "C", { expands: "andi crs1q,crs1q,c_imm6" }],
  ["c.sub", "crs1q,crs2q", 0x8c01, 0xfc63, "C", { expands: "sub crs1q,crs1q,crs2q" }],
  ["c.xor", "crs1q,crs2q", 0x8c21, 0xfc63, "C", { expands: "xor crs1q,crs1q,crs2q" }],
  ["c.or", "crs1q,crs2q", 0x8c41, 0xfc63, "C", { expands: "or crs1q,crs1q,crs2q" }],
  ["c.and", "crs1q,crs2q", 0x8c61, 0xfc63, "C", { expands: "and crs1q,crs1q,crs2q" }],
  ["c.subw", "crs1q,crs2q", 0x9c01, 0xfc63, "C", { expands: "subw crs1q,crs1q,crs2q" }],
  ["c.addw", "crs1q,crs2q", 0x9c21, 0xfc63, "C", { expands: "addw crs1q,crs1q,crs2q" }],
  ["c.j", "c_joff", 0xa001, 0xe003, "C", { expands: "jal zero,c_joff" }],
  ["c.beqz", "crs1q,c_boff", 0xc001, 0xe003, "C", { expands: "beq crs1q,zero,c_boff" }],
  ["c.bnez", "crs1q,c_boff", 0xe001, 0xe003, "C", { expands: "bne crs1q,zero,c_boff" }],
  // C, quadrant 2
  ["c.slli64", "crd", 0x0002, 0xf07f, "C", { expands: "slli crd,crd,0" }],
  ["c.slli", "crd,c_shamt", 0x0002, 0xe003, "C", { expands: "slli crd,crd,c_shamt" }],
  ["c.lwsp", "crd,c_lwsp(sp)", 0x4002, 0xe003, "C", {
    valid: (w) => rd(w) !== 0,
    expands: "lw crd,c_lwsp(sp)",
  }],
  ["c.ldsp", "crd,c_ldsp(sp)", 0x6002, 0xe003, "C", {
    valid: (w) => rd(w) !== 0,
    expands: "ld crd,c_ldsp(sp)",
  }],
  ["c.fldsp", "cfrd,c_ldsp(sp)", 0x2002, 0xe003, "C", { expands: "fld cfrd,c_ldsp(sp)" }],
  ["c.fsdsp", "cfrs2,c_sdsp(sp)", 0xa002, 0xe003, "C", { expands: "fsd cfrs2,c_sdsp(sp)" }],
  ["c.jr", "crd", 0x8002, 0xf07f, "C", { valid: (w) => rd(w) !== 0, expands: "jalr zero,0(crd)" }],
  ["c.mv", "crd,crs2", 0x8002, 0xf003, "C", {
    valid: (w) => rs2c(w) !== 0,
    expands: "add crd,zero,crs2",
  }],
  ["c.ebreak", "", 0x9002, 0xffff, "C", { expands: "ebreak" }],
  ["c.jalr", "crd", 0x9002, 0xf07f, "C", { valid: (w) => rd(w) !== 0, expands: "jalr ra,0(crd)" }],
  ["c.add", "crd,crs2", 0x9002, 0xf003, "C", {
    valid: (w) => rs2c(w) !== 0,
    expands: "add crd,crd,crs2",
  }],
  ["c.swsp", "crs2,c_swsp(sp)", 0xc002, 0xe003, "C", { expands: "sw crs2,c_swsp(sp)" }],
  ["c.sdsp", "crs2,c_sdsp(sp)", 0xe002, 0xe003, "C", { expands: "sd crs2,c_sdsp(sp)" }],
];

/**
 * Encodings the hart executes that binutils 2.40 (and so the assembler and the disassembler)
 * does not know: FENCE and FENCE.I with non-zero reserved fields (rd, rs1, fm, imm), which the
 * spec asks implementations to ignore, and the exact conversions with an explicit rm.
 */
const HART_ONLY_ROWS: Row[] = [
  ["fence", "pred,succ", 0x0000000f, I, "I"],
  ["fence.i", "", 0x0000100f, I, "Zifencei"],
  ...EXACT_CONVERSIONS.map(([name, match]): Row => [
    name,
    name === "fcvt.d.s" ? "frd,frs1,rm" : "frd,rs1,rm",
    match,
    0xfff0007f,
    "D",
    name === "fcvt.d.s"
      ? { op: Op.FCVT_F_F, packs: ROUNDED, valid: rmValid }
      : { op: Op.FCVT_F_I, packs: CONVERTED, valid: rmValid },
  ]),
];

/** The op a mnemonic names when its row does not say: `amoadd.w.aq` is AMOADD_W. */
function opOfMnemonic(mnemonic: string): number {
  const name = mnemonic.replace(/\.(aqrl|aq|rl)$/, "").replaceAll(".", "_").toUpperCase();
  const op = (Op as Record<string, number>)[name];
  if (op === undefined) throw new Error(`isa_table: ${mnemonic} names no op (give one)`);
  return op;
}

/**
 * Builds the specs of `rows`; `known` (32-bit specs by `mnemonic/operand count`, the first of
 * each) resolves compressed expansions.
 */
function specsOf(rows: readonly Row[], known: Map<string, InstructionSpec>): InstructionSpec[] {
  return rows.map(([mnemonic, syntax, match, mask, extension, options = {}]) => {
    let expands: InstructionSpec["expands"];
    if (options.expands !== undefined) {
      const [name, operandText = ""] = options.expands.split(" ");
      const operands = parseSyntax(operandText);
      const spec = known.get(`${name}/${operands.length}`);
      if (spec === undefined) throw new Error(`isa_table: ${mnemonic} expands to no ${name}`);
      expands = { spec, operands };
    }
    const spec: InstructionSpec = {
      mnemonic,
      syntax,
      operands: parseSyntax(syntax),
      match: match >>> 0,
      mask: mask >>> 0,
      length: (match & 3) === 3 ? 4 : 2,
      extension,
      valid: options.valid,
      op: options.op ?? expands?.spec.op ?? opOfMnemonic(mnemonic),
      expands,
      packs: options.packs ?? [],
      alias: options.alias ?? false,
    };
    const key = `${mnemonic}/${spec.operands.length}`;
    if (spec.length === 4 && !known.has(key)) known.set(key, spec);
    return spec;
  });
}

const ALL_SPECS = new Map<string, InstructionSpec>();

/** Every instruction encoding, in decoding priority order (the first match wins). */
export const INSTRUCTIONS: readonly InstructionSpec[] = specsOf(ROWS, ALL_SPECS);

/**
 * The encodings the hart decodes, in priority order (the first match wins; a word none matches
 * is illegal): {@linkcode INSTRUCTIONS} but the aliases, then the encodings only the hart knows
 * (reserved fields it ignores, see the rows).
 */
export const HART_ENCODINGS: readonly InstructionSpec[] = [
  ...INSTRUCTIONS.filter((s) => !s.alias),
  ...specsOf(HART_ONLY_ROWS, ALL_SPECS),
];

const BY_MNEMONIC: ReadonlyMap<string, readonly InstructionSpec[]> = (() => {
  const map = new Map<string, InstructionSpec[]>();
  for (const spec of INSTRUCTIONS) {
    const list = map.get(spec.mnemonic) ?? [];
    list.push(spec);
    map.set(spec.mnemonic, list);
  }
  return map;
})();

/**
 * The encoding of a mnemonic (its first form), or `undefined` when it is not a real
 * instruction. With `operands`, the form taking that many operands (FP operations have one
 * without and one with a rounding-mode operand), else the first.
 */
export function instructionByMnemonic(
  mnemonic: string,
  operands?: number,
): InstructionSpec | undefined {
  const list = BY_MNEMONIC.get(mnemonic);
  if (list === undefined) return undefined;
  return list.find((s) => s.operands.length === operands) ?? list[0];
}

// Decoding index: 32-bit words by major opcode, 16-bit words by quadrant and funct3.
const DECODE_INDEX: ReadonlyMap<number, readonly InstructionSpec[]> = (() => {
  const index = new Map<number, InstructionSpec[]>();
  for (const spec of INSTRUCTIONS) {
    const key = spec.length === 4 ? spec.match & 0x7f : 0x80 | ((spec.match >>> 13) & 7) << 2 |
      (spec.match & 3);
    const list = index.get(key) ?? [];
    list.push(spec);
    index.set(key, list);
  }
  return index;
})();

/**
 * The instruction a word encodes, or `undefined` when it encodes nothing in the table. For a
 * 16-bit instruction only the low 16 bits of `word` are looked at.
 */
export function decodeInstruction(word: number): InstructionSpec | undefined {
  const w = word >>> 0;
  const compressed = (w & 3) !== 3;
  const key = compressed ? 0x80 | ((w >>> 13) & 7) << 2 | (w & 3) : w & 0x7f;
  const candidates = DECODE_INDEX.get(key);
  if (!candidates) return undefined;
  const probe = compressed ? w & 0xffff : w;
  for (const spec of candidates) {
    if (((probe & spec.mask) >>> 0) === spec.match && (!spec.valid || spec.valid(probe))) {
      return spec;
    }
  }
  return undefined;
}

/** Fence set names (`iorw` subsets) by 4-bit value, as objdump prints them. */
export function fenceSetName(bits: number): string {
  if (bits === 0) return "0";
  return (bits & 8 ? "i" : "") + (bits & 4 ? "o" : "") + (bits & 2 ? "r" : "") +
    (bits & 1 ? "w" : "");
}

/** Parses a fence set (`iorw` letters in that order, or `0`); `undefined` if malformed. */
export function parseFenceSet(text: string): number | undefined {
  if (text === "0") return 0;
  const m = /^(i?)(o?)(r?)(w?)$/.exec(text);
  if (!m || text === "") return undefined;
  return (m[1] ? 8 : 0) | (m[2] ? 4 : 0) | (m[3] ? 2 : 0) | (m[4] ? 1 : 0);
}
