/**
 * The hart's decoder (decoder.ts) and the assembler/disassembler table (isa_table.ts) must agree:
 * every encoding of the table decodes to the operation its mnemonic names, and every word the
 * decoder accepts is one the table knows (and the reverse), over every 16-bit parcel and many
 * random 32-bit words inside and outside the table's encodings.
 */
import assert from "node:assert/strict";
import { decode, Op } from "../../../lib/hw/riscv/decoder.ts";
import { decodeInstruction, INSTRUCTIONS } from "../../../lib/hw/riscv/isa_table.ts";

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

/**
 * The exact conversions fcvt.d.w, fcvt.d.wu and fcvt.d.s: binutils (and so the table) know them
 * with rm = 0 only; the hart accepts every valid rm, as QEMU does (rm cannot change the result).
 */
const isExactConversion = (w: number) =>
  (w & 0x7f) === 0x53 && ((w >>> 25) === 0x69 && ((w >>> 20) & 31) < 2 ||
    (w >>> 25) === 0x21 && ((w >>> 20) & 31) === 0);

Deno.test("decoder: accepts exactly the words the table knows (16-bit parcels, random words)", () => {
  const words: number[] = [];
  for (let w = 0; w < 0x10000; w++) if ((w & 3) !== 3) words.push(w);
  const r = rng(11);
  for (let i = 0; i < 300_000; i++) {
    // Random words with a 32-bit major opcode, half of them near a table encoding.
    let w = Math.floor(r() * 2 ** 32) | 3;
    if (i & 1) {
      const spec = INSTRUCTIONS[Math.floor(r() * INSTRUCTIONS.length)];
      if (spec.length === 4) w = spec.match | (w & ~spec.mask);
    }
    if ((w & 0x1f) !== 0x1f) words.push(w >>> 0);
  }
  const report: string[] = [];
  for (const w of words) {
    const op = OP_NAMES.get(decode(w).word & 255)!;
    const spec = decodeInstruction(w);
    if (spec === undefined && isExactConversion(w) && op !== "ILLEGAL") continue;
    const tableSays = spec === undefined || RESERVED_BUT_LISTED.has(w)
      ? "ILLEGAL"
      : expectedOp(spec.mnemonic);
    // FENCE and FENCE.I with non-zero reserved fields (rd, rs1, fm, imm) execute as the plain
    // instruction (the spec asks implementations to ignore them); objdump, and so the table,
    // print them as raw words.
    if (spec === undefined && (op === "FENCE" || op === "FENCE_I")) continue;
    if (op !== tableSays && report.length < 20) {
      report.push(`0x${w.toString(16)}: decoder ${op}, table ${spec?.mnemonic ?? "nothing"}`);
    }
  }
  assert.deepEqual(report, []);
});
