/**
 * Seeded, bounded fuzzing of the parsers that take user input (issue 14): the shell tokenizer,
 * the VM config (TOML) loader, the ELF loader and the assembler. Thousands of mutated inputs
 * each; the only exceptions allowed are the documented error classes, and no input may hang.
 */

import assert from "node:assert/strict";
import { scan, tokenize, TokenizeError } from "../../lib/shell/tokenizer.ts";
import { ConfigError, parseVmConfig } from "../../lib/vmm/config.ts";
import { ElfError, loadElf, parseElf } from "../../lib/hw/riscv/elf.ts";
import { assemble, AssemblerError } from "../../lib/hw/riscv/assembler.ts";
import { fuzz, mutateBytes, mutateText, type Rng } from "./mutate.ts";

const EXAMPLES = new URL("../../examples/", import.meta.url);
const read = (p: string) => Deno.readTextFileSync(new URL(p, EXAMPLES));

Deno.test("fuzz: the shell tokenizer", () => {
  const seeds = [
    `vm create /guest/configs/a.toml "my vm.toml" 'x y'`,
    `echo "a\\"b" c\\ d 'e''f' # comment`,
    `vm send 1 --text "line\\n" -- --not-an-option`,
    `config check /configs/*.toml; vm list -f json`,
  ];
  const tokens = ['"', "'", "\\", " ", "#", ";", "\\n", "--", "-", "*", "\u0000", "é", "\t"];
  const r = fuzz(
    "tokenizer",
    14_001,
    5000,
    (rng) => mutateText(rng, rng.pick(seeds), tokens),
    (line) => {
      tokenize(line);
      scan(line, { partial: true });
    },
    (e) => e instanceof TokenizeError,
  );
  assert.ok(r.errors > 0, "some mutations are invalid");
});

Deno.test("fuzz: the VM config loader (TOML)", () => {
  const seeds = ["hello.toml", "smp.toml", "uart.toml", "ivc_pub.toml", "uboot.toml"].map((f) =>
    read(`configs/${f}`)
  );
  const tokens = [
    "=",
    "[",
    "]",
    "[[x]]",
    '"',
    "0x",
    "-1",
    "9999999999999999999999",
    "1e400",
    "inf",
    "nan",
    "true",
    ",",
    "{a=1}",
    "[".repeat(200),
    "\n[base]\n",
    "\n[kernel]\n",
    "cpu_num = 0\n",
    "memory_regions = [[0, 0, 0, 9]]\n",
  ];
  const r = fuzz(
    "config",
    14_002,
    3000,
    (rng) => mutateText(rng, rng.pick(seeds), tokens),
    (text) => parseVmConfig(text, "/fuzz.toml"),
    (e) => e instanceof ConfigError,
  );
  assert.ok(r.errors > 0);
});

/** A minimal valid ELF64 RISC-V executable: one PT_LOAD segment of `code` at 0x8020_0000. */
function tinyElf(code: Uint8Array): Uint8Array {
  const phoff = 64, dataOff = 64 + 56;
  const bytes = new Uint8Array(dataOff + code.length);
  const v = new DataView(bytes.buffer);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  v.setUint16(16, 2, true); // ET_EXEC
  v.setUint16(18, 243, true); // EM_RISCV
  v.setUint32(20, 1, true);
  v.setBigUint64(24, 0x8020_0000n, true);
  v.setBigUint64(32, BigInt(phoff), true);
  v.setUint16(52, 64, true);
  v.setUint16(54, 56, true);
  v.setUint16(56, 1, true);
  v.setUint16(58, 64, true);
  v.setUint32(phoff, 1, true); // PT_LOAD
  v.setUint32(phoff + 4, 5, true);
  v.setBigUint64(phoff + 8, BigInt(dataOff), true);
  v.setBigUint64(phoff + 16, 0x8020_0000n, true);
  v.setBigUint64(phoff + 24, 0x8020_0000n, true);
  v.setBigUint64(phoff + 32, BigInt(code.length), true);
  v.setBigUint64(phoff + 40, BigInt(code.length + 64), true);
  v.setBigUint64(phoff + 48, 4096n, true);
  bytes.set(code, dataOff);
  return bytes;
}

Deno.test("fuzz: the ELF loader", () => {
  const seed = tinyElf(assemble(read("guests/hello.S"), { origin: 0x8020_0000 }).image);
  assert.ok(parseElf(seed).segments.length === 1, "the seed is valid");
  const ram = new Uint8Array(0x10_0000);
  const target = {
    writeBytes: (addr: number, data: Uint8Array) => {
      const off = addr - 0x8000_0000;
      if (off < 0 || off + data.length > ram.length) return false;
      ram.set(data, off);
      return true;
    },
  };
  const r = fuzz(
    "elf",
    14_003,
    3000,
    (rng: Rng) => mutateBytes(rng, seed),
    (bytes) => loadElf(parseElf(bytes, "/fuzz.elf"), target, "/fuzz.elf"),
    (e) => e instanceof ElfError,
  );
  assert.ok(r.errors > 0);
});

Deno.test("fuzz: the assembler", () => {
  const seeds = ["hello.S", "smp.S", "timer.S", "uart.S", "sbi.S"].map((f) => read(`guests/${f}`));
  seeds.push(".macro m x\nm \\x\\x\n.endm\nm a", ".equ a, 1\n.equ b, a+a\n.dword b\n");
  const tokens = [
    ".macro m x\n",
    ".endm\n",
    "m \\x\\x\n",
    ".rept 1000\n",
    ".endr\n",
    ".equ s, s+s\n",
    ".space 0x7fffffff\n",
    "%hi(",
    "%pcrel_lo(1b)",
    "1b",
    "1f",
    "(",
    ")",
    ",",
    "0x",
    "9999999999999999999999",
    "<<",
    "/ 0",
    ".align 60\n",
    ".option rvc\n",
    "li a0, ",
    "'",
    '"',
    "\\",
  ];
  const r = fuzz(
    "assembler",
    14_004,
    2000,
    (rng) => mutateText(rng, rng.pick(seeds), tokens),
    (src) => assemble(src, { fileName: "fuzz.S", origin: 0x8020_0000 }),
    (e) => e instanceof AssemblerError,
  );
  assert.ok(r.errors > 0);
});
