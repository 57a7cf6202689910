/**
 * RV64 disassembler producing objdump-style text.
 *
 * The output is exactly what `riscv64-unknown-elf-objdump -d -M no-aliases` (binutils 2.40)
 * prints for an object assembled with `-mpriv-spec=1.12`, with the mnemonic and the operands
 * separated by one space instead of a tab, and without objdump's `<symbol>` and `# comment`
 * annotations. Canonical (no-alias) forms are the default because they name the real
 * instruction that the hart executes: `addi a0,zero,5`, not `li a0,5`; `c.addi sp,-16`.
 * With `{ aliases: true }` the common pseudo-instructions are printed instead (`li`, `mv`,
 * `ret`, `j`, `beqz`, `csrr`, and for F/D `fmv.s`, `fneg.d`, `fabs.s`, `frcsr`, `fsrm`,
 * `fsflagsi`, ...), still objdump's spelling (the default `-M` of `objdump -d`) for 32-bit
 * words; compressed words stay canonical. A dynamic rounding mode is not printed, in both modes,
 * as objdump does.
 *
 * Branch and jump targets are printed as absolute addresses in hexadecimal without `0x`
 * (`beq a0,a1,80000010`), CSRs by name when they have one, shift amounts and upper immediates
 * in hexadecimal, other immediates in decimal. Words that encode nothing known print as
 * `.4byte 0x...` (or `.2byte 0x...` for a 16-bit parcel).
 *
 * @module
 */

import {
  ABI_REGISTER_NAMES,
  decodeImmediate,
  decodeInstruction,
  decodeRegister,
  fenceSetName,
  FIELDS,
  FP_ABI_REGISTER_NAMES,
  type ImmediateField,
  type InstructionSpec,
  type OperandField,
  ROUNDING_MODE_NAMES,
  standardCsrName,
} from "./isa_table.ts";

/** One disassembled instruction. */
export interface Disassembly {
  /** objdump-style text, e.g. `addi a0,a0,1`. */
  text: string;
  /** Length of the instruction in bytes. */
  length: 2 | 4;
}

/** Options of {@linkcode disassemble}. */
export interface DisassembleOptions {
  /** Print pseudo-instructions (`li`, `mv`, `ret`, ...) where objdump would. Default false. */
  aliases?: boolean;
}

/** One line of a {@linkcode disassembleRange} listing. */
export interface ListingLine {
  /** Address of the instruction. */
  address: number;
  /** The raw instruction bits (16 or 32 of them). */
  word: number;
  /** Length in bytes (a trailing odd byte or short parcel yields a `.byte`/`.2byte` line). */
  length: 1 | 2 | 4;
  /** objdump-style text. */
  text: string;
}

function hex(value: number): string {
  return value.toString(16);
}

function formatTarget(pc: number, offset: number): string {
  const target = pc + offset;
  if (target >= 0) return hex(target);
  return (BigInt(target) & 0xffff_ffff_ffff_ffffn).toString(16);
}

function formatImmediate(word: number, f: ImmediateField, pc: number): string {
  const value = decodeImmediate(word, f);
  switch (f.print) {
    case "dec":
      return String(value);
    case "hex":
      return `0x${hex(value)}`;
    case "clui":
      return `0x${hex(value & 0xfffff)}`;
    case "target":
      return formatTarget(pc, value);
    case "csr":
      return standardCsrName(value) ?? `0x${hex(value)}`;
    case "fence":
      return fenceSetName(value);
    case "rm":
      return ROUNDING_MODE_NAMES[value];
  }
}

function formatField(word: number, name: string, pc: number): string {
  const f: OperandField = FIELDS[name];
  if (f.type === "reg") {
    return (f.file === "f" ? FP_ABI_REGISTER_NAMES : ABI_REGISTER_NAMES)[decodeRegister(word, f)];
  }
  return formatImmediate(word, f, pc);
}

function formatOperands(spec: InstructionSpec, word: number, pc: number): string {
  return spec.operands.map((op) => {
    if (op.kind === "field") return formatField(word, op.field, pc);
    const offset = op.offset === null ? "" : formatField(word, op.offset, pc);
    return `${offset}(${formatField(word, op.base, pc)})`;
  }).join(",");
}

const reg = (n: number) => ABI_REGISTER_NAMES[n];
const freg = (n: number) => FP_ABI_REGISTER_NAMES[n];
const csrOf = (w: number) => w >>> 20;

/**
 * The FP CSRs' names in objdump's aliases: `frflags`/`fsflags`/`fsflagsi`, `frrm`/`fsrm`/`fsrmi`,
 * `frcsr`/`fscsr` (no `fscsri`).
 */
const FP_CSR_ALIASES: Readonly<Record<number, string>> = {
  0x001: "flags",
  0x002: "rm",
  0x003: "csr",
};
const rdOf = (w: number) => (w >>> 7) & 31;
const rs1Of = (w: number) => (w >>> 15) & 31;
const rs2Of = (w: number) => (w >>> 20) & 31;
const immI = (w: number) => w >> 20;

/** objdump's alias spelling for a 32-bit word, or `undefined` to print the canonical form. */
function aliasText(spec: InstructionSpec, w: number, pc: number): string | undefined {
  const rd = rdOf(w), rs1 = rs1Of(w), rs2 = rs2Of(w);
  switch (spec.mnemonic) {
    case "addi":
      if (rd === 0 && rs1 === 0 && immI(w) === 0) return "nop";
      if (rs1 === 0) return `li ${reg(rd)},${immI(w)}`;
      if (immI(w) === 0) return `mv ${reg(rd)},${reg(rs1)}`;
      return undefined;
    case "addiw":
      if (immI(w) === 0) return `sext.w ${reg(rd)},${reg(rs1)}`;
      return undefined;
    case "xori":
      if (immI(w) === -1) return `not ${reg(rd)},${reg(rs1)}`;
      return undefined;
    case "sltiu":
      if (immI(w) === 1) return `seqz ${reg(rd)},${reg(rs1)}`;
      return undefined;
    case "sub":
      if (rs1 === 0) return `neg ${reg(rd)},${reg(rs2)}`;
      return undefined;
    case "subw":
      if (rs1 === 0) return `negw ${reg(rd)},${reg(rs2)}`;
      return undefined;
    case "sltu":
      if (rs1 === 0) return `snez ${reg(rd)},${reg(rs2)}`;
      return undefined;
    case "slt":
      if (rs2 === 0) return `sltz ${reg(rd)},${reg(rs1)}`;
      if (rs1 === 0) return `sgtz ${reg(rd)},${reg(rs2)}`;
      return undefined;
    case "beq":
    case "bne":
    case "blt":
    case "bge": {
      const target = formatTarget(pc, decodeImmediate(w, FIELDS.boff as ImmediateField));
      const z = { beq: "beqz", bne: "bnez", blt: "bltz", bge: "bgez" }[spec.mnemonic];
      if (rs2 === 0) return `${z} ${reg(rs1)},${target}`;
      if (rs1 === 0 && spec.mnemonic === "blt") return `bgtz ${reg(rs2)},${target}`;
      if (rs1 === 0 && spec.mnemonic === "bge") return `blez ${reg(rs2)},${target}`;
      return undefined;
    }
    case "jal": {
      const target = formatTarget(pc, decodeImmediate(w, FIELDS.joff as ImmediateField));
      if (rd === 0) return `j ${target}`;
      if (rd === 1) return `jal ${target}`;
      return undefined;
    }
    case "jalr":
      if (immI(w) !== 0) {
        if (rd === 0) return `jr ${immI(w)}(${reg(rs1)})`;
        if (rd === 1) return `jalr ${immI(w)}(${reg(rs1)})`;
        return undefined;
      }
      if (rd === 0 && rs1 === 1) return "ret";
      if (rd === 0) return `jr ${reg(rs1)}`;
      if (rd === 1) return `jalr ${reg(rs1)}`;
      return undefined;
    case "fsgnj.s":
    case "fsgnjn.s":
    case "fsgnjx.s":
    case "fsgnj.d":
    case "fsgnjn.d":
    case "fsgnjx.d": {
      if (rs1 !== rs2) return undefined;
      const name = { fsgnj: "fmv", fsgnjn: "fneg", fsgnjx: "fabs" }[spec.mnemonic.slice(0, -2)];
      return `${name}${spec.mnemonic.slice(-2)} ${freg(rd)},${freg(rs1)}`;
    }
    case "csrrs": {
      const csr = formatImmediate(w, FIELDS.csr as ImmediateField, pc);
      const fp = FP_CSR_ALIASES[csrOf(w)];
      if (fp && rs1 === 0) return `fr${fp} ${reg(rd)}`;
      if (rs1 === 0) {
        const num = (w >>> 20) & 0xfff;
        const rdName = { 0xc00: "rdcycle", 0xc01: "rdtime", 0xc02: "rdinstret" }[num];
        if (rdName) return `${rdName} ${reg(rd)}`;
        return `csrr ${reg(rd)},${csr}`;
      }
      if (rd === 0) return `csrs ${csr},${reg(rs1)}`;
      return undefined;
    }
    case "csrrw":
    case "csrrc": {
      const csr = formatImmediate(w, FIELDS.csr as ImmediateField, pc);
      if (spec.mnemonic === "csrrw" && (w >>> 0) === 0xc0001073) return "unimp";
      const fp = FP_CSR_ALIASES[csrOf(w)];
      if (fp && spec.mnemonic === "csrrw") {
        return rd === 0 ? `fs${fp} ${reg(rs1)}` : `fs${fp} ${reg(rd)},${reg(rs1)}`;
      }
      if (rd === 0) return `${spec.mnemonic === "csrrw" ? "csrw" : "csrc"} ${csr},${reg(rs1)}`;
      return undefined;
    }
    case "csrrwi":
    case "csrrsi":
    case "csrrci": {
      // objdump spells the immediate forms as the register ones: csrw fcsr,3; csrrs a0,sie,2.
      const csr = formatImmediate(w, FIELDS.csr as ImmediateField, pc);
      const fp = FP_CSR_ALIASES[csrOf(w)];
      if (spec.mnemonic === "csrrwi" && fp && fp !== "csr") return `fs${fp}i ${reg(rd)},${rs1}`;
      if (rd === 0) return `csr${spec.mnemonic[4]} ${csr},${rs1}`;
      return `${spec.mnemonic.slice(0, -1)} ${reg(rd)},${csr},${rs1}`;
    }
    case "fence":
      if (((w >>> 20) & 0xff) === 0xff) return "fence";
      return undefined;
    case "sfence.vma":
      if (rs1 === 0 && rs2 === 0) return "sfence.vma";
      if (rs2 === 0) return `sfence.vma ${reg(rs1)}`;
      return undefined;
  }
  return undefined;
}

/**
 * Disassembles the instruction in `word` (its low 16 bits if they hold a compressed
 * instruction) located at address `pc` (default 0; used for branch and jump targets).
 */
export function disassemble(word: number, pc = 0, options: DisassembleOptions = {}): Disassembly {
  const w = word >>> 0;
  const length: 2 | 4 = (w & 3) === 3 ? 4 : 2;
  const spec = decodeInstruction(w);
  if (!spec) {
    const bits = length === 4 ? w : w & 0xffff;
    return { text: `.${length}byte 0x${hex(bits)}`, length };
  }
  if (options.aliases && spec.length === 4) {
    const alias = aliasText(spec, w, pc);
    if (alias !== undefined) return { text: alias, length };
  }
  const operands = formatOperands(spec, w, pc);
  return { text: operands === "" ? spec.mnemonic : `${spec.mnemonic} ${operands}`, length };
}

/**
 * Disassembles a block of code loaded at `origin` into listing lines, one per instruction.
 * A final parcel too short for its instruction is listed as `.2byte`/`.byte` data.
 */
export function disassembleRange(
  bytes: Uint8Array,
  origin = 0,
  options: DisassembleOptions = {},
): ListingLine[] {
  const lines: ListingLine[] = [];
  let i = 0;
  while (i < bytes.length) {
    const address = origin + i;
    if (i + 2 > bytes.length) {
      lines.push({ address, word: bytes[i], length: 1, text: `.byte 0x${hex(bytes[i])}` });
      break;
    }
    const low = bytes[i] | (bytes[i + 1] << 8);
    if ((low & 3) === 3) {
      if (i + 4 > bytes.length) {
        lines.push({ address, word: low, length: 2, text: `.2byte 0x${hex(low)}` });
        i += 2;
        continue;
      }
      const word = (low | (bytes[i + 2] << 16) | (bytes[i + 3] << 24)) >>> 0;
      lines.push({ address, word, length: 4, text: disassemble(word, address, options).text });
      i += 4;
    } else {
      lines.push({ address, word: low, length: 2, text: disassemble(low, address, options).text });
      i += 2;
    }
  }
  return lines;
}

/** Formats listing lines as text: `address: word  text`, one instruction per line. */
export function formatListing(lines: readonly ListingLine[]): string {
  return lines.map((l) => {
    const digits = l.length * 2;
    return `${l.address.toString(16).padStart(8, "0")}:  ${
      l.word.toString(16).padStart(digits, "0").padEnd(8)
    }  ${l.text}`;
  }).join("\n");
}
