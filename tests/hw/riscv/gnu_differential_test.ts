/**
 * Differential tests against GNU binutils (Debian `binutils-riscv64-unknown-elf`).
 *
 * A deterministic generator writes thousands of instructions covering every mnemonic of the
 * ISA table and every pseudo-instruction, with varied registers and edge immediates. They are
 * assembled by our assembler and by `riscv64-unknown-elf-as` (then linked at the same origin
 * and dumped with objcopy) in a temporary directory; the images must be equal byte for byte.
 * Our disassembler must then print exactly what `riscv64-unknown-elf-objdump -d -M no-aliases`
 * prints for the same words, including all 49152 16-bit parcels.
 *
 * Tool flags: `as -march=rv64ima_zicsr_zifencei` for base forms (no automatic compression),
 * `rv64imac` for `c.*` and for the `.option rvc` comparison, `-mno-relax` (no linker
 * relaxation), `-mpriv-spec=1.12` (objdump then names every 1.12 CSR). objdump's annotations
 * (`<symbol>`, `# comment`) are stripped, and its `unknown` for an empty fence set (binutils
 * 2.40) is read as our `0`, which GNU as does not accept but our assembler does.
 */

import assert from "node:assert/strict";
import { assemble } from "../../../lib/hw/riscv/assembler.ts";
import { disassemble } from "../../../lib/hw/riscv/disassembler.ts";
import {
  ABI_REGISTER_NAMES,
  CSR_TABLE,
  decodeInstruction,
  FIELDS,
  FP_ABI_REGISTER_NAMES,
  immediateBits,
  type ImmediateField,
  INSTRUCTIONS,
  type InstructionSpec,
  ROUNDING_MODE_NAMES,
} from "../../../lib/hw/riscv/isa_table.ts";
import { gnuAssemble, objdump, ORIGIN, toolsPresent, WORDS_MARCH } from "./gnu_tools.ts";

/** GNU as flags for the 32-bit forms: every extension of the table Debian's binutils 2.40 knows. */
const BASE_MARCH = "rv64imafd_zicsr_zifencei_zba_zbb_zbs";
/** Major opcodes of F/D computational instructions. */
const FP_OPCODES = new Set([0x43, 0x47, 0x4b, 0x4f, 0x53]);
/** Whether binutils 2.40 knows the instruction (Zicond arrived in 2.41). */
const GNU_KNOWS = (spec: InstructionSpec): boolean => spec.extension !== "Zicond";

/** Small deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hex(bytes: Uint8Array, at: number, n: number): string {
  return [...bytes.subarray(at, at + n)].reverse().map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

/** Compares two images; on a difference, names the source line via `L<n>` labels. */
function compareImages(
  ours: Uint8Array,
  gnu: Uint8Array,
  symbols: Map<string, number>,
  lines: string[],
) {
  const n = Math.min(ours.length, gnu.length);
  for (let i = 0; i < n; i++) {
    if (ours[i] === gnu[i]) continue;
    let best = -1;
    let bestAddr = -1;
    for (const [name, addr] of symbols) {
      const m = /^L(\d+)$/.exec(name);
      if (m && addr - ORIGIN <= i && addr > bestAddr) {
        best = Number(m[1]);
        bestAddr = addr;
      }
    }
    const at = bestAddr - ORIGIN;
    assert.fail(
      `image differs at +0x${i.toString(16)} in line ${best}: '${lines[best]}': ours ${
        hex(ours, at, 8)
      }, GNU ${hex(gnu, at, 8)}`,
    );
  }
  assert.equal(ours.length, gnu.length, "image sizes differ");
}

// ---------------------------------------------------------------------------------------------
// Generator

const REGS = ABI_REGISTER_NAMES;

function regName(n: number, r: () => number): string {
  return r() < 0.3 ? `x${n}` : REGS[n];
}

function pick<T>(list: readonly T[], r: () => number): T {
  return list[Math.floor(r() * list.length)];
}

function immValues(f: ImmediateField, r: () => number): number[] {
  const bits = immediateBits(f);
  const step = 2 ** f.alignBits;
  const min = f.signed ? -(2 ** (bits - 1)) : 0;
  const max = f.signed ? 2 ** (bits - 1) - step : 2 ** bits - step;
  const values = [min, max, 0, step, f.signed ? -step : max - step];
  for (let i = 0; i < 12; i++) {
    values.push(Math.floor(min / step + r() * ((max - min) / step + 1)) * step);
  }
  return values.filter((v) => !(f.nonZero && v === 0));
}

const FENCE_SETS = [
  "w",
  "r",
  "rw",
  "o",
  "ow",
  "or",
  "orw",
  "i",
  "iw",
  "ir",
  "irw",
  "io",
  "iow",
  "ior",
  "iorw",
];
const CSR_NAMES = CSR_TABLE.map(([, name]) => name);

function operandText(
  name: string,
  value: number | undefined,
  r: () => number,
  mnemonic = "",
): string {
  const f = FIELDS[name];
  if (f.type === "reg") {
    if (f.fixed !== undefined) return "sp";
    if (f.file === "f") {
      const n = f.width === 3 ? 8 + Math.floor(r() * 8) : Math.floor(r() * 32);
      return r() < 0.5 ? `f${n}` : FP_ABI_REGISTER_NAMES[n];
    }
    let n = f.width === 3 ? 8 + Math.floor(r() * 8) : Math.floor(r() * 32);
    // Compressed forms where x0 (or sp for c.lui) is reserved.
    if (
      (name === "crd" || name === "crs2") && mnemonic !== "c.addi" && mnemonic !== "c.li" &&
      mnemonic !== "c.slli"
    ) {
      while (n === 0 || (n === 2 && mnemonic === "c.lui")) n = Math.floor(r() * 32);
    }
    return regName(n, r);
  }
  const v = value!;
  switch (f.print) {
    case "target":
      return v < 0 ? `.${v}` : `.+${v}`;
    case "csr":
      return r() < 0.7 ? pick(CSR_NAMES, r) : `0x${Math.floor(r() * 4096).toString(16)}`;
    case "fence":
      return pick(FENCE_SETS, r);
    case "rm":
      return ROUNDING_MODE_NAMES[Math.floor(r() * 5)];
    case "clui":
      return `0x${(v & 0xfffff).toString(16)}`;
    case "hex":
      return r() < 0.5 ? `0x${v.toString(16)}` : String(v);
  }
  return String(v);
}

/** Lines that exercise one table instruction with several operand combinations. */
function specLines(spec: InstructionSpec, r: () => number): string[] {
  const immField = spec.operands.flatMap((t) =>
    t.kind === "field" ? [t.field] : t.offset !== null ? [t.offset] : []
  ).find((n) =>
    FIELDS[n].type === "imm" && (FIELDS[n] as ImmediateField).print !== "csr" &&
    (FIELDS[n] as ImmediateField).print !== "fence"
  );
  const values = immField
    ? immValues(FIELDS[immField] as ImmediateField, r)
    : new Array<number>(14).fill(0);
  const lines: string[] = [];
  for (const v of values) {
    const ops = spec.operands.map((t) => {
      if (t.kind === "field") {
        return operandText(t.field, t.field === immField ? v : 0, r, spec.mnemonic);
      }
      const off = t.offset === null ? "" : operandText(t.offset, t.offset === immField ? v : 0, r);
      return `${off}(${operandText(t.base, undefined, r, spec.mnemonic)})`;
    });
    lines.push(`${spec.mnemonic} ${ops.join(", ")}`.trim());
  }
  if (spec.operands.length === 0) return [spec.mnemonic];
  return lines;
}

const LI_VALUES = [
  "0",
  "1",
  "-1",
  "2047",
  "-2048",
  "2048",
  "-2049",
  "0x7ff",
  "0x800",
  "0xfff",
  "0x1000",
  "0x12345000",
  "0x12345678",
  "0x7fffffff",
  "-0x80000000",
  "0x80000000",
  "0xffffffff",
  "0x100000000",
  "0x7ffff800",
  "0x7ffff7ff",
  "0x123456789abcdef0",
  "0x8000000000000000",
  "0x7fffffffffffffff",
  "0xffffffff00000000",
  "0xfffffffffffff800",
  "0x0000800000000000",
  "0x00000fff00000fff",
  "0xdeadbeefcafebabe",
  "'A'",
  "(1 << 40) + 5",
  "-(1 << 63)",
];

function pseudoLines(r: () => number): string[] {
  const rr = () => regName(Math.floor(r() * 32), r);
  const lines: string[] = [];
  for (const v of LI_VALUES) lines.push(`li ${rr()}, ${v}`);
  for (let i = 0; i < 300; i++) {
    const hi = Math.floor(r() * 2 ** 32);
    const lo = Math.floor(r() * 2 ** 32);
    const bits = pick([64, 48, 40, 33, 32, 20, 12], r);
    const v = ((BigInt(hi) << 32n) | BigInt(lo)) & ((1n << BigInt(bits)) - 1n);
    lines.push(`li ${rr()}, ${r() < 0.5 ? "-" : ""}0x${v.toString(16)}`);
  }
  const branches = () => `.${pick(["+8", "-8", "+4094", "-4096", "+0", "+2"], r)}`;
  for (let i = 0; i < 4; i++) {
    lines.push(
      `mv ${rr()}, ${rr()}`,
      `not ${rr()}, ${rr()}`,
      `neg ${rr()}, ${rr()}`,
      `negw ${rr()}, ${rr()}`,
      `sext.w ${rr()}, ${rr()}`,
      `zext.b ${rr()}, ${rr()}`,
      `seqz ${rr()}, ${rr()}`,
      `snez ${rr()}, ${rr()}`,
      `sltz ${rr()}, ${rr()}`,
      `sgtz ${rr()}, ${rr()}`,
      `beqz ${rr()}, ${branches()}`,
      `bnez ${rr()}, ${branches()}`,
      `blez ${rr()}, ${branches()}`,
      `bgez ${rr()}, ${branches()}`,
      `bltz ${rr()}, ${branches()}`,
      `bgtz ${rr()}, ${branches()}`,
      `bgt ${rr()}, ${rr()}, ${branches()}`,
      `ble ${rr()}, ${rr()}, ${branches()}`,
      `bgtu ${rr()}, ${rr()}, ${branches()}`,
      `bleu ${rr()}, ${rr()}, ${branches()}`,
      `j .${pick(["+8", "-1048576", "+1048574", "+0"], r)}`,
      `jal .${pick(["+8", "-1048576", "+1048574"], r)}`,
      `jr ${rr()}`,
      `jr 12(${rr()})`,
      `jalr ${rr()}`,
      `jalr ${rr()}, ${rr()}`,
      `jalr ${rr()}, ${rr()}, -4`,
      `jalr ${rr()}, 2047(${rr()})`,
      `jalr -2048(${rr()})`,
      `ret`,
      `nop`,
      `csrr ${rr()}, ${pick(CSR_NAMES, r)}`,
      `csrw ${pick(CSR_NAMES, r)}, ${rr()}`,
      `csrs ${pick(CSR_NAMES, r)}, ${rr()}`,
      `csrc ${pick(CSR_NAMES, r)}, ${rr()}`,
      `csrw ${pick(CSR_NAMES, r)}, 17`,
      `csrs ${pick(CSR_NAMES, r)}, 31`,
      `csrc ${pick(CSR_NAMES, r)}, 0`,
      `csrwi ${pick(CSR_NAMES, r)}, 5`,
      `csrsi ${pick(CSR_NAMES, r)}, 8`,
      `csrci ${pick(CSR_NAMES, r)}, 31`,
      `csrrw ${rr()}, ${pick(CSR_NAMES, r)}, 3`,
      `csrrs ${rr()}, 0x${Math.floor(r() * 4096).toString(16)}, ${rr()}`,
      `rdtime ${rr()}`,
      `rdcycle ${rr()}`,
      `rdinstret ${rr()}`,
      `fence`,
      `fence.i`,
      `fence.tso`,
      `sfence.vma`,
      `sfence.vma ${rr()}`,
      `sfence.vma ${rr()}, ${rr()}`,
      `unimp`,
      `lw ${rr()}, (${rr()})`,
      `amoswap.w.aqrl ${rr()}, ${rr()}, 0(${rr()})`,
      `la ${rr()}, target${i}`,
      `lla ${rr()}, target${(i + 1) % 4}`,
      `call target${i}`,
      `call ${rr()}, target${i}`,
      `tail target${i}`,
      `jump target${i}, ${rr()}`,
      `ld ${rr()}, target${i}`,
      `lbu ${rr()}, target${i}`,
      `sd ${rr()}, target${i}, ${rr()}`,
      `sb ${rr()}, target${i}, ${rr()}`,
      `lui ${rr()}, %hi(0x${Math.floor(r() * 2 ** 32).toString(16)})`,
      `addi ${rr()}, ${rr()}, %lo(target${i})`,
      `sd ${rr()}, %lo(0x${Math.floor(r() * 2 ** 32).toString(16)})(${rr()})`,
      `1: auipc a0, %pcrel_hi(target${i})`,
      `addi a1, a0, %pcrel_lo(1b)`,
      `sw a2, %pcrel_lo(1b)(a0)`,
      `beq a0, a1, 2f`,
      `bgeu a0, a1, 2f`,
      `2: j 2b`,
      `jal 2b`,
      `j target${i}`,
      `jal target${i}`,
      `jal ${rr()}, target${i}`,
    );
  }
  return lines;
}

function directiveLines(): string[] {
  return [
    ".byte 1, 2, 0xff, -128, 'a'",
    ".half 0x1234, -1",
    ".short 7",
    ".2byte 9",
    ".align 2",
    ".word 0xdeadbeef, target0 - target1",
    ".long -5",
    ".4byte 12",
    ".dword 0x123456789abcdef0, target2",
    ".quad -1",
    ".8byte target3",
    '.ascii "abc\\n\\t\\"\\\\\\0\\101\\x42"',
    '.asciz "hello", "world"',
    '.string "s"',
    ".align 3",
    ".balign 16",
    ".zero 5",
    ".p2align 2",
    ".space 7, 0xaa",
    ".balign 8, 0x55",
    ".p2align 4",
    "nop",
  ];
}

function buildSource(lines: string[], targets: boolean, header = ""): string {
  const out = [header, ".text"];
  lines.forEach((line, i) => {
    out.push(`L${i}: ${line}`);
    if (targets && i % 397 === 50 && i < 397 * 4) out.push(`target${(i / 397) | 0}:`);
  });
  if (targets) out.push("nop");
  return out.join("\n") + "\n";
}

// ---------------------------------------------------------------------------------------------

Deno.test("assembler matches GNU as on every base instruction, pseudo and directive", async () => {
  await toolsPresent();
  const r = rng(0x5eed);
  const base: string[] = [];
  for (const spec of INSTRUCTIONS) {
    if (spec.extension === "C" || spec.mnemonic === "dret" || !GNU_KNOWS(spec)) continue;
    base.push(...specLines(spec, r));
  }
  const lines = [...base, ...pseudoLines(r), ...base.slice(0, 50)];
  const data = directiveLines();
  assert.ok(lines.length > 2500, `generated ${lines.length} lines`);
  const source = buildSource(lines, true) + ".data\n" +
    data.map((line, i) => `D${i}: ${line}`).join("\n") + "\n";
  const dir = await Deno.makeTempDir({ prefix: "axv-gnu-" });
  try {
    const ours = assemble(source, { origin: ORIGIN, fileName: "diff.s" });
    const gnu = await gnuAssemble(dir, "base", source, BASE_MARCH);
    const text = ours.sections.find((x) => x.name === ".text")!;
    const dataSection = ours.sections.find((x) => x.name === ".data")!;
    compareImages(ours.image.subarray(0, text.size), gnu.image, ours.symbols, lines);
    const ourData = ours.image.subarray(dataSection.address - ORIGIN).subarray(0, dataSection.size);
    assert.deepEqual([...ourData], [...gnu.data], ".data differs");

    // Our disassembler against objdump, for every instruction word in the image.
    const dump = await objdump(dir, gnu.elf);
    let checked = 0;
    for (const [addr, { word, text }] of dump) {
      const got = disassemble(word, addr).text.replace(/\bunknown\b/g, "0");
      assert.equal(
        got,
        text.replace(/\bunknown\b/g, "0"),
        `at 0x${addr.toString(16)} word ${word.toString(16)}`,
      );
      checked++;
    }
    assert.ok(checked > 2500, `objdump listed ${checked} instructions`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("assembler matches GNU as on explicit compressed forms and .option rvc", async () => {
  await toolsPresent();
  const r = rng(0xc0de);
  const lines: string[] = [];
  for (const spec of INSTRUCTIONS) {
    if (spec.extension !== "C" || /64$/.test(spec.mnemonic)) continue;
    for (const line of specLines(spec, r)) lines.push(line);
  }
  // Base instructions that GNU as (with C enabled) compresses, as ours does under .option rvc.
  const rr = () => regName(Math.floor(r() * 32), r);
  const q = () => regName(8 + Math.floor(r() * 8), r);
  for (let i = 0; i < 12; i++) {
    const a = q(), b = q(), x = rr();
    lines.push(
      `addi ${a}, ${a}, ${Math.floor(r() * 64) - 32}`,
      `addi ${x}, zero, ${Math.floor(r() * 64) - 32}`,
      `addi sp, sp, ${16 * (Math.floor(r() * 64) - 32) || 16}`,
      `addi ${a}, sp, ${4 * (1 + Math.floor(r() * 255))}`,
      `addi ${x}, ${rr()}, 0`,
      `addiw ${a}, ${a}, ${Math.floor(r() * 64) - 32}`,
      `li ${x}, ${Math.floor(r() * 64) - 32}`,
      `lui ${a}, ${1 + Math.floor(r() * 31)}`,
      `slli ${x}, ${x}, ${1 + Math.floor(r() * 63)}`,
      `srli ${a}, ${a}, ${1 + Math.floor(r() * 63)}`,
      `srai ${a}, ${a}, ${1 + Math.floor(r() * 63)}`,
      `andi ${a}, ${a}, ${Math.floor(r() * 64) - 32}`,
      `add ${x}, ${x}, ${rr()}`,
      `add ${x}, zero, ${rr()}`,
      `mv ${x}, ${rr()}`,
      `sub ${a}, ${a}, ${b}`,
      `xor ${a}, ${a}, ${b}`,
      `or ${a}, ${b}, ${a}`,
      `and ${a}, ${a}, ${b}`,
      `subw ${a}, ${a}, ${b}`,
      `addw ${a}, ${b}, ${a}`,
      `lw ${a}, ${4 * Math.floor(r() * 32)}(${b})`,
      `ld ${a}, ${8 * Math.floor(r() * 32)}(${b})`,
      `sw ${a}, ${4 * Math.floor(r() * 32)}(${b})`,
      `sd ${a}, ${8 * Math.floor(r() * 32)}(${b})`,
      `lw ${x}, ${4 * Math.floor(r() * 64)}(sp)`,
      `ld ${x}, ${8 * Math.floor(r() * 64)}(sp)`,
      `sw ${x}, ${4 * Math.floor(r() * 64)}(sp)`,
      `sd ${x}, ${8 * Math.floor(r() * 64)}(sp)`,
      `jr ${x}`,
      `jalr ${x}`,
      `ret`,
      `ebreak`,
      `nop`,
      `addi ${x}, ${x}, 100`,
      `lw ${a}, 128(${b})`,
      `fld f${8 + Math.floor(r() * 8)}, ${8 * Math.floor(r() * 32)}(${b})`,
      `fsd f${8 + Math.floor(r() * 8)}, ${8 * Math.floor(r() * 32)}(${b})`,
      `fld f${Math.floor(r() * 32)}, ${8 * Math.floor(r() * 64)}(sp)`,
      `fsd f${Math.floor(r() * 32)}, ${8 * Math.floor(r() * 64)}(sp)`,
    );
  }
  // Edge cases of compression (zero immediates, x0, sp) and the RV64 hints.
  lines.push(
    "addi sp, sp, 16",
    "addi sp, sp, -32",
    "addi sp, sp, 8",
    "addi a0, a0, 0",
    "add a0, a0, zero",
    "add a0, zero, a0",
    "mv a0, a0",
    "addi zero, zero, 0",
    "addi a0, zero, 0",
    "li a0, 0",
    "andi a0, a0, 0",
    "slli a0, a0, 0",
    "addiw a0, a0, 0",
    "or a0, a1, a0",
    "sub a0, a1, a0",
    "lui a0, 0xfffff",
    "addi x0, x0, 1",
    "c.addi a0, 0",
    "c.li zero, 5",
    "c.slli zero, 3",
    "c.mv zero, a1",
    "c.add zero, a1",
    "c.slli64 a0",
    "c.srli64 a0",
    "c.srai64 a0",
    "c.nop 5",
  );
  const gnuSource = buildSource(lines, false);
  const ourSource = buildSource(lines, false, ".option rvc");
  const dir = await Deno.makeTempDir({ prefix: "axv-gnu-c-" });
  try {
    const ours = assemble(ourSource, { origin: ORIGIN, fileName: "diff_c.s" });
    const gnu = await gnuAssemble(dir, "rvc", gnuSource, "rv64imafdc_zicsr_zifencei");
    compareImages(ours.image, gnu.image, ours.symbols, lines);
    const dump = await objdump(dir, gnu.elf);
    for (const [addr, { word, text }] of dump) {
      assert.equal(disassemble(word, addr).text, text, `at 0x${addr.toString(16)}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("disassembler matches objdump on all 16-bit parcels and random 32-bit words", async () => {
  await toolsPresent();
  const r = rng(0xd15a);
  const words: number[] = [];
  for (let w = 0; w < 0x10000; w++) if ((w & 3) !== 3) words.push(w);
  const compressedCount = words.length;
  // Random 32-bit words inside each encoding (free bits random), plus random opcodes.
  for (const spec of INSTRUCTIONS) {
    if (spec.length !== 4) continue;
    for (let i = 0; i < 12; i++) {
      const free = Math.floor(r() * 2 ** 32) & ~spec.mask;
      words.push((spec.match | free) >>> 0);
    }
  }
  for (let i = 0; i < 2000; i++) {
    const w = (Math.floor(r() * 2 ** 32) | 3) >>> 0;
    if ((w & 0x1f) !== 0x1f) words.push(w);
  }
  const src = [".text"];
  for (const w of words) {
    src.push((w & 3) === 3 ? `.insn 4, 0x${w.toString(16)}` : `.insn 2, 0x${w.toString(16)}`);
  }
  const dir = await Deno.makeTempDir({ prefix: "axv-gnu-d-" });
  try {
    const gnu = await gnuAssemble(dir, "words", src.join("\n") + "\n", WORDS_MARCH);
    const dump = await objdump(dir, gnu.elf);
    assert.equal(dump.size, words.length, "objdump listed every word");
    let mismatches = 0;
    const report: string[] = [];
    for (const [addr, { word, text }] of dump) {
      const spec = decodeInstruction(word);
      if (spec !== undefined && !GNU_KNOWS(spec)) continue;
      // FP words with a reserved rounding mode (5, 6): objdump prints them with `unknown`, the
      // table (like the hart) does not list them.
      if (spec === undefined && FP_OPCODES.has(word & 0x7f) && /,unknown$/.test(text)) continue;
      const got = disassemble(word, addr).text;
      const want = text.replace(/\bunknown\b/g, "0");
      if (got !== want) {
        mismatches++;
        if (report.length < 20) {
          report.push(`${word.toString(16)}: ours '${got}', objdump '${want}'`);
        }
      }
    }
    assert.equal(mismatches, 0, report.join("\n"));
    assert.ok(compressedCount === 49152);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("disassembler aliases match objdump on F/D and CSR words", async () => {
  await toolsPresent();
  const r = rng(0xa11a5);
  const words: number[] = [];
  const FP_CSRS = [0x001, 0x002, 0x003];
  for (const spec of INSTRUCTIONS) {
    if (spec.length !== 4 || !["F", "D", "Zicsr"].includes(spec.extension)) continue;
    for (let i = 0; i < 24; i++) {
      let w = (spec.match | (Math.floor(r() * 2 ** 32) & ~spec.mask)) >>> 0;
      if (spec.mnemonic.startsWith("fsgnj") && i % 2) {
        w = (w & ~(31 << 20)) | (((w >>> 15) & 31) << 20);
      }
      if (spec.extension === "Zicsr" && spec.mnemonic !== "unimp") {
        // Each FP CSR with rd = zero, with rs1 (or the immediate) 0, and with neither.
        if (i < 18) w = (w & 0xfffff) | (FP_CSRS[i % 3] << 20);
        if (Math.floor(i / 3) % 3 === 1) w &= ~(31 << 7);
        if (Math.floor(i / 3) % 3 === 2) w &= ~(31 << 15);
      }
      if (!spec.valid || spec.valid(w)) words.push(w >>> 0);
    }
  }
  const src = [".text", ...words.map((w) => `.insn 4, 0x${w.toString(16)}`)];
  const dir = await Deno.makeTempDir({ prefix: "axv-gnu-a-" });
  try {
    const gnu = await gnuAssemble(dir, "aliases", src.join("\n") + "\n", WORDS_MARCH);
    const dump = await objdump(dir, gnu.elf, true);
    assert.equal(dump.size, words.length, "objdump listed every word");
    const report: string[] = [];
    const seen = new Set<string>();
    for (const [addr, { word, text }] of dump) {
      const got = disassemble(word, addr, { aliases: true }).text;
      seen.add(got.split(" ")[0]);
      if (got !== text && report.length < 20) {
        report.push(`${word.toString(16)}: ours '${got}', objdump '${text}'`);
      }
    }
    assert.deepEqual(report, []);
    for (const alias of ["fmv.s", "fneg.d", "fabs.s", "frcsr", "fscsr", "fsrmi", "fsflagsi"]) {
      assert.ok(seen.has(alias), `sample holds a ${alias}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("assembler matches GNU as on macros, .rept/.irp, labels and expressions", async () => {
  await toolsPresent();
  const source = `
    .equ UART, 0x10000000
    .equ COUNT, (1 << 4) - 1
    .macro PUSH reg, slot
    sd \\reg, (\\slot * 8)(sp)
    .endm
    .macro SPIN reg, n=3
    li \\reg, \\n
loop\\@:
    addi \\reg, \\reg, -1
    bnez \\reg, loop\\@
    .endm
    .text
    .globl _start
_start:
    la sp, stack_top
    .irp r, 1, 8, 9, 18, 27
    PUSH x\\r, \\r
    .endr
    SPIN t0
    SPIN t1, 100
    li a0, UART
    li a1, COUNT * 3
1:  lbu a2, 0(a1)
    beqz a2, 2f
    sb a2, 0(a0)
    addi a1, a1, 1
    j 1b
2:  .rept 3
    nop
    .endr
    .irpc c, 0123
    addi a\\c, zero, '\\c'
    .endr
    call _start
    tail 1b
    .balign 16
stack: .zero 64
stack_top:
    .word stack_top - stack, (stack_top - _start) >> 2, _start
  `;
  const dir = await Deno.makeTempDir({ prefix: "axv-gnu-m-" });
  try {
    const ours = assemble(source, { origin: ORIGIN, fileName: "macros.s" });
    const gnu = await gnuAssemble(dir, "macros", source, "rv64ima_zicsr_zifencei");
    assert.deepEqual([...ours.image], [...gnu.image]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
