/**
 * The hart's decoder (decoder.ts, generated from isa_table.ts) against independent oracles:
 *
 * - every encoding of the table decodes to the op its mnemonic names (by this test's own
 *   mnemonic-to-op rules, compressed forms by their expansions);
 * - GNU objdump: all 49152 16-bit parcels and a sample of 32-bit words (inside every encoding,
 *   their one-bit neighbours, random words) decode to what objdump's text says: the op, and
 *   rd/rs1/rs2/imm by the decoded form's conventions (F/D immediates, which pack rm and format,
 *   are left to the F/D tests); words objdump does not know are illegal with their bits in imm,
 *   but for the few the hart executes anyway (see `hartOnly`).
 */
import assert from "node:assert/strict";
import { decode, Op, rdOf, rs1Of, rs2Of, X0_SINK } from "../../../lib/hw/riscv/decoder.ts";
import {
  ABI_REGISTER_NAMES,
  CSR_TABLE,
  decodeInstruction,
  FP_ABI_REGISTER_NAMES,
  HART_ENCODINGS,
  INSTRUCTIONS,
} from "../../../lib/hw/riscv/isa_table.ts";
import { decodeRecipe } from "../../../lib/hw/riscv/decode_recipe.ts";
import { gnuAssemble, objdump, toolsPresent, WORDS_MARCH } from "./gnu_tools.ts";

const OP_NAMES = new Map<number, string>(Object.entries(Op).map(([k, v]) => [v, k]));

/** Ops of the compressed forms: their 32-bit expansions. */
const COMPRESSED: Record<string, string> = {
  "c.addi4spn": "ADDI",
  "c.lw": "LW",
  "c.ld": "LD",
  "c.sw": "SW",
  "c.sd": "SD",
  "c.addi": "ADDI",
  "c.nop": "ADDI",
  "c.addiw": "ADDIW",
  "c.li": "ADDI",
  "c.addi16sp": "ADDI",
  "c.lui": "LUI",
  "c.srli64": "SRLI",
  "c.srai64": "SRAI",
  "c.srli": "SRLI",
  "c.srai": "SRAI",
  "c.andi": "ANDI",
  "c.sub": "SUB",
  "c.xor": "XOR",
  "c.or": "OR",
  "c.and": "AND",
  "c.subw": "SUBW",
  "c.addw": "ADDW",
  "c.j": "JAL",
  "c.beqz": "BEQ",
  "c.bnez": "BNE",
  "c.slli64": "SLLI",
  "c.slli": "SLLI",
  "c.lwsp": "LW",
  "c.ldsp": "LD",
  "c.jr": "JALR",
  "c.mv": "ADD",
  "c.ebreak": "EBREAK",
  "c.jalr": "JALR",
  "c.add": "ADD",
  "c.swsp": "SW",
  "c.sdsp": "SD",
  "c.unimp": "ILLEGAL",
  "c.fld": "FLD",
  "c.fsd": "FSD",
  "c.fldsp": "FLD",
  "c.fsdsp": "FSD",
};

/** The op of an F/D mnemonic (`fadd.d` -> FADD, `fcvt.w.s` -> FCVT_I_F). */
function fpOp(mnemonic: string): string | undefined {
  const m = /^(f[a-z]+)\.([a-z]+)(?:\.([a-z]+))?$/.exec(mnemonic);
  if (!m || !mnemonic.startsWith("f") || mnemonic.startsWith("fence")) return undefined;
  const [, name, a, b] = m;
  const FP = new Set(["s", "d"]);
  if (name === "fcvt") {
    if (FP.has(a) && FP.has(b!)) return "FCVT_F_F";
    return FP.has(a) ? "FCVT_F_I" : "FCVT_I_F";
  }
  if (name === "fmv") return a === "x" ? "FMV_X_F" : "FMV_F_X";
  const simple: Record<string, string> = {
    flw: "FLW",
    fld: "FLD",
    fsw: "FSW",
    fsd: "FSD",
    fsgnj: "FSGNJ",
    fsgnjn: "FSGNJ",
    fsgnjx: "FSGNJ",
    fmin: "FMINMAX",
    fmax: "FMINMAX",
    feq: "FCMP",
    flt: "FCMP",
    fle: "FCMP",
  };
  return simple[name] ?? name.toUpperCase();
}
/**
 * Reserved encodings that objdump still prints as an instruction (so the table lists them) but
 * that the hart refuses, as the spec says: c.addi16sp with a zero immediate.
 */
const RESERVED_BUT_LISTED = new Set<number>([0x6101]);

/** 32-bit mnemonics whose op is not their name. */
const SPECIAL: Record<string, string> = {
  "fence.tso": "FENCE",
  unimp: "CSRRW", // csrrw zero, cycle, zero: decodes, and traps when executed (cycle is read-only)
  dret: "ILLEGAL", // no debug mode
  uret: "ILLEGAL", // no N extension
};

/** The op a mnemonic names (`amoadd.w.aq` -> AMOADD_W). */
function expectedOp(mnemonic: string): string {
  if (mnemonic in COMPRESSED) return COMPRESSED[mnemonic];
  if (mnemonic in SPECIAL) return SPECIAL[mnemonic];
  const fp = fpOp(mnemonic);
  if (fp !== undefined) return fp;
  return mnemonic.replace(/\.(aqrl|aq|rl)$/, "").replaceAll(".", "_").toUpperCase();
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

Deno.test("decoder: every isa_table encoding decodes to the op its mnemonic names", () => {
  const r = rng(7);
  let checked = 0;
  for (const spec of INSTRUCTIONS) {
    const want = expectedOp(spec.mnemonic);
    assert.ok(want in Op, `${spec.mnemonic}: no op ${want}`);
    for (let i = 0; i < 64; i++) {
      const free = Math.floor(r() * 2 ** 32) & ~spec.mask & (spec.length === 2 ? 0xffff : -1);
      const word = (spec.match | free) >>> 0;
      if (spec.valid && !spec.valid(word)) continue;
      // The table's first match is the authority for this word.
      if (decodeInstruction(word) !== spec || RESERVED_BUT_LISTED.has(word)) continue;
      const got = OP_NAMES.get(decode(word).word & 255);
      assert.equal(got, want, `${spec.mnemonic} word 0x${word.toString(16)}`);
      checked++;
    }
  }
  assert.ok(checked > 10_000, `checked ${checked}`);
});

Deno.test("decoder: every row the hart decodes has a recipe; compressed rows name their expansion", () => {
  for (const spec of HART_ENCODINGS) {
    const recipe = decodeRecipe(spec); // throws on a field without a slot, an unknown operand
    assert.equal(recipe.op, spec.op);
    if (spec.length === 2 && spec.op !== Op.ILLEGAL) {
      assert.ok(spec.expands, `${spec.mnemonic} names its expansion`);
      assert.equal(spec.op, spec.expands.spec.op);
    }
  }
  assert.ok(!HART_ENCODINGS.some((s) => s.alias), "aliases left to the disassembler");
  // Hart-only rows: the disassembler does not know these words, the hart executes them.
  for (
    const [word, op] of [
      [0x0ff0008f, "FENCE"], // fence iorw,iorw with rd = ra
      [0x0000908f, "FENCE_I"], // fence.i with rd = ra, rs1 = ra
      [0xd2051553, "FCVT_F_I"], // fcvt.d.w fa0,a0,rtz
      [0x42059553, "FCVT_F_F"], // fcvt.d.s fa0,fa1,rtz
    ] as const
  ) {
    assert.equal(decodeInstruction(word), undefined, word.toString(16));
    assert.equal(OP_NAMES.get(decode(word).word & 255), op, word.toString(16));
  }
});

// ---------------------------------------------------------------------------------------------
// GNU objdump as the oracle of the whole decoded form

/**
 * Words the hart executes though binutils 2.40 does not list them, as the spec allows: FENCE and
 * FENCE.I with non-zero reserved fields (rd, rs1, fm, imm; to be ignored), the exact conversions
 * fcvt.d.w/wu/s with an rm other than 0 (rm cannot change their result; QEMU accepts them too)
 * and Zicond (binutils 2.41). Their expected op.
 */
function hartOnly(w: number): string | undefined {
  if ((w & 0x707f) === 0x0f) return "FENCE";
  if ((w & 0x707f) === 0x100f) return "FENCE_I";
  const rm = (w >>> 12) & 7;
  if ((w & 0x7f) === 0x53 && rm !== 5 && rm !== 6) {
    if ((w >>> 25) === 0x69 && ((w >>> 20) & 31) < 2) return "FCVT_F_I";
    if ((w >>> 25) === 0x21 && ((w >>> 20) & 31) === 0) return "FCVT_F_F";
  }
  if ((w & 0xfe00707f) === 0x0e005033) return "CZERO_EQZ";
  if ((w & 0xfe00707f) === 0x0e007033) return "CZERO_NEZ";
  return undefined;
}

/** An objdump operand: a register, a number, or `offset(base)`. */
type Operand = { reg: number } | { value: number } | { offset: number; base: number };

const CSR_NUMBERS = new Map(CSR_TABLE.map(([num, name]) => [name, num]));
const X_NUMBERS = new Map(ABI_REGISTER_NAMES.map((name, i) => [name, i]));
const F_NUMBERS = new Map(FP_ABI_REGISTER_NAMES.map((name, i) => [name, i]));

function operand(text: string, target: boolean, address: number): Operand {
  const mem = /^(-?\w*)\((\w+)\)$/.exec(text);
  if (mem) return { offset: mem[1] === "" ? 0 : Number(mem[1]), base: X_NUMBERS.get(mem[2])! };
  const reg = X_NUMBERS.get(text) ?? F_NUMBERS.get(text);
  if (reg !== undefined) return { reg };
  const csr = CSR_NUMBERS.get(text);
  if (csr !== undefined) return { value: csr };
  if (target) return { value: parseInt(text, 16) - address }; // an absolute target
  return { value: Number(text) }; // decimal or 0x hex
}

/** `[rd, rs1, rs2, imm]` a compressed instruction decodes to (its 32-bit expansion's). */
const COMPRESSED_SLOTS: Record<string, (o: number[]) => number[]> = {
  "c.addi4spn": ([rd, , imm]) => [rd, 2, 0, imm],
  "c.addi": ([rd, imm]) => [rd, rd, 0, imm],
  "c.addiw": ([rd, imm]) => [rd, rd, 0, imm],
  "c.andi": ([rd, imm]) => [rd, rd, 0, imm],
  "c.slli": ([rd, imm]) => [rd, rd, 0, imm],
  "c.srli": ([rd, imm]) => [rd, rd, 0, imm],
  "c.srai": ([rd, imm]) => [rd, rd, 0, imm],
  "c.slli64": ([rd]) => [rd, rd, 0, 0],
  "c.srli64": ([rd]) => [rd, rd, 0, 0],
  "c.srai64": ([rd]) => [rd, rd, 0, 0],
  "c.li": ([rd, imm]) => [rd, 0, 0, imm],
  "c.lui": ([rd, imm]) => [rd, 0, 0, (imm << 12) | 0],
  "c.addi16sp": ([, imm]) => [2, 2, 0, imm],
  "c.sub": ([rd, rs2]) => [rd, rd, rs2, 0],
  "c.xor": ([rd, rs2]) => [rd, rd, rs2, 0],
  "c.or": ([rd, rs2]) => [rd, rd, rs2, 0],
  "c.and": ([rd, rs2]) => [rd, rd, rs2, 0],
  "c.subw": ([rd, rs2]) => [rd, rd, rs2, 0],
  "c.addw": ([rd, rs2]) => [rd, rd, rs2, 0],
  "c.add": ([rd, rs2]) => [rd, rd, rs2, 0],
  "c.mv": ([rd, rs2]) => [rd, 0, rs2, 0],
  "c.j": ([off]) => [0, 0, 0, off],
  "c.beqz": ([rs1, off]) => [0, rs1, 0, off],
  "c.bnez": ([rs1, off]) => [0, rs1, 0, off],
  "c.jr": ([rs1]) => [0, rs1, 0, 0],
  "c.jalr": ([rs1]) => [1, rs1, 0, 0],
  "c.ebreak": () => [0, 0, 0, 0],
};

/** Flattens operands: a register's number, a value, `offset(base)` as offset then base. */
const flat = (ops: Operand[]) =>
  ops.flatMap((o) => "reg" in o ? [o.reg] : "value" in o ? [o.value] : [o.offset, o.base]);

/**
 * `[rd, rs1, rs2, imm]` objdump's text says the word decodes to, by the conventions of the
 * decoded form (decoder.ts), or `undefined` where this test checks the op only (F/D immediates,
 * which pack rm and format).
 */
function expectedSlots(mnemonic: string, ops: Operand[]): number[] | undefined {
  const o = flat(ops);
  if (mnemonic.startsWith("c.")) {
    const slots = COMPRESSED_SLOTS[mnemonic];
    if (slots) return slots(o);
    // loads and stores: `reg,offset(base)`
    const store = /^c\.f?s[wd]/.test(mnemonic);
    return store ? [0, o[2], o[0], o[1]] : [o[0], o[2], 0, o[1]];
  }
  if (/^(lui|auipc)$/.test(mnemonic)) return [o[0], 0, 0, (o[1] << 12) | 0];
  if (mnemonic === "jal") return [o[0], 0, 0, o[1]];
  if (/^b(eq|ne|lt|ge)/.test(mnemonic)) return [0, o[0], o[1], o[2]];
  if (/^f?s[bhwd]$/.test(mnemonic)) return [0, o[2], o[0], o[1]];
  if (/^(jalr|f?l[bhwd]u?)$/.test(mnemonic)) return [o[0], o[2], 0, o[1]];
  if (/^csr/.test(mnemonic)) return [o[0], o[2], 0, o[1]];
  if (/^(lr|sc|amo)/.test(mnemonic)) {
    // `rd,(rs1)` and `rd,rs2,(rs1)`, the memory operand flattened as 0, rs1
    return mnemonic.startsWith("lr") ? [o[0], o[2], 0, 0] : [o[0], o[3], o[1], 0];
  }
  if (/^(fence|ecall|ebreak|[sm]ret|wfi)/.test(mnemonic)) return [0, 0, 0, 0];
  if (mnemonic === "unimp") return [0, 0, 0, 0xc00]; // csrrw zero,cycle,zero
  if (mnemonic.startsWith("f")) return undefined;
  if (mnemonic === "sfence.vma") return [0, o[0], o[1], 0];
  // Integer register-register, register-immediate and unary forms.
  const regs = ops.filter((x) => "reg" in x).length;
  return [o[0], o[1], regs === 3 ? o[2] : 0, regs === 3 ? 0 : o[2] ?? 0];
}

/** Whether `mnemonic` writes an FP register (f0 is not replaced by the x0 sink). */
const writesFp = (mnemonic: string) =>
  /^(c\.)?f/.test(mnemonic) &&
  !/^(fence|feq|flt|fle|fclass|fcvt\.[wl]u?\.|fmv\.x\.|fs[wd]$)|^c\.fsd/.test(mnemonic);

Deno.test("decoder agrees with objdump on all 16-bit parcels and a 32-bit sample", async () => {
  await toolsPresent();
  const r = rng(0xdec0de);
  const words: number[] = [];
  for (let w = 0; w < 0x10000; w++) if ((w & 3) !== 3) words.push(w);
  for (const spec of INSTRUCTIONS) {
    if (spec.length !== 4) continue;
    for (let i = 0; i < 24; i++) {
      // Inside the encoding; every third word with one fixed bit flipped (its neighbours).
      let w = (spec.match | (Math.floor(r() * 2 ** 32) & ~spec.mask)) >>> 0;
      if (i % 3 === 2) {
        const bits = [...Array(32).keys()].filter((b) => (spec.mask >>> b) & 1 && b > 1);
        w = (w ^ (1 << bits[Math.floor(r() * bits.length)])) >>> 0;
      }
      if ((w & 0x1f) !== 0x1f) words.push(w); // not a 48-bit or longer encoding
    }
  }
  for (let i = 0; i < 4000; i++) {
    const w = (Math.floor(r() * 2 ** 32) | 3) >>> 0;
    if ((w & 0x1f) !== 0x1f) words.push(w); // not a 48-bit or longer encoding
  }
  const src = [".text", ...words.map((w) => `.insn ${(w & 3) === 3 ? 4 : 2}, 0x${w.toString(16)}`)];
  const dir = await Deno.makeTempDir({ prefix: "axv-gnu-decode-" });
  try {
    const gnu = await gnuAssemble(dir, "decode", src.join("\n") + "\n", WORDS_MARCH);
    const dump = await objdump(dir, gnu.elf);
    assert.equal(dump.size, words.length, "objdump listed every word");
    const report: string[] = [];
    let fieldsChecked = 0;
    for (const [address, { word, text }] of dump) {
      const [mnemonic, operandText = ""] = text.split(" ");
      const d = decode(word);
      const got = [OP_NAMES.get(d.word & 255)!, rdOf(d.word), rs1Of(d.word), rs2Of(d.word), d.imm];
      let want: (string | number)[];
      if (mnemonic.startsWith(".") || operandText.endsWith("unknown")) {
        // No instruction (or a reserved rounding mode): illegal, the raw bits in imm.
        const op = hartOnly(word) ?? "ILLEGAL";
        if (op !== "ILLEGAL") want = [op, ...got.slice(1)];
        else want = ["ILLEGAL", X0_SINK, 0, 0, word | 0];
      } else if (expectedOp(mnemonic) === "ILLEGAL" || RESERVED_BUT_LISTED.has(word)) {
        want = ["ILLEGAL", X0_SINK, 0, 0, word | 0];
      } else {
        const target = /^(c\.)?(b|j)/.test(mnemonic) && !mnemonic.startsWith("c.jr") &&
          !mnemonic.startsWith("c.jalr") && mnemonic !== "jalr" && !mnemonic.startsWith("bclr") &&
          !mnemonic.startsWith("binv") && !mnemonic.startsWith("bset") &&
          !mnemonic.startsWith("bext");
        const ops = operandText === ""
          ? []
          : operandText.split(",").map((t, i, all) =>
            operand(t, target && i === all.length - 1, address)
          );
        const slots = expectedSlots(mnemonic, ops);
        if (slots === undefined) want = [expectedOp(mnemonic), ...got.slice(1, 4), d.imm];
        else {
          const [rd, rs1, rs2, imm] = slots;
          want = [
            expectedOp(mnemonic),
            rd === 0 && !writesFp(mnemonic) ? X0_SINK : rd,
            rs1,
            rs2,
            imm,
          ];
          fieldsChecked++;
        }
        if (slots === undefined) {
          // F/D: the registers in order are rd, rs1, rs2 (rs3 and rm live in imm).
          const regs = ops.filter((x) => "reg" in x).map((x) => (x as { reg: number }).reg);
          const [rd, rs1 = 0, rs2 = 0] = regs;
          const intRd = !writesFp(mnemonic);
          want = [want[0], intRd && rd === 0 ? X0_SINK : rd, rs1, rs2, d.imm];
        }
      }
      if (JSON.stringify(got) !== JSON.stringify(want) && report.length < 20) {
        report.push(`${word.toString(16)} '${text}': decoded ${got}, objdump says ${want}`);
      }
    }
    assert.deepEqual(report, []);
    assert.ok(fieldsChecked > 40_000, `fields checked on ${fieldsChecked} words`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
