/**
 * Assembler and disassembler throughput (`deno task bench`).
 *
 * - assemble: a 10 000-line guest-like source (loops, calls, li of 64-bit constants, CSR
 *   accesses, data) per iteration; divide 10 000 by the time per iteration for lines/s.
 * - disassemble: 65 536 words (every 16-bit parcel and 16 384 mixed 32-bit words) per
 *   iteration, canonical and alias modes.
 */

import { assemble } from "../lib/hw/riscv/assembler.ts";
import { disassemble, disassembleRange } from "../lib/hw/riscv/disassembler.ts";

function guestSource(lines: number): string {
  const body: string[] = [".text", ".globl _start", "_start:"];
  let i = 0;
  while (body.length < lines) {
    body.push(
      `f${i}: addi sp, sp, -32`,
      "  sd ra, 24(sp)",
      `  li a0, 0x${(0x123456789n * BigInt(i + 1)).toString(16)}`,
      `  la a1, data${i % 64}`,
      "1: lw a2, 0(a1)",
      "  addi a2, a2, -1",
      "  sw a2, 0(a1)",
      "  bnez a2, 1b",
      "  csrr t0, mhartid",
      "  csrw mscratch, t0",
      "  amoadd.w.aqrl t1, t0, (a1)",
      `  call f${i}`,
      "  ld ra, 24(sp)",
      "  addi sp, sp, 32",
      "  ret",
    );
    i++;
  }
  body.push(".data");
  for (let k = 0; k < 64; k++) body.push(`data${k}: .word ${k}, ${k * 3}`);
  return body.join("\n") + "\n";
}

const SOURCE = guestSource(10_000);

const WORDS = (() => {
  const image = assemble(SOURCE, { origin: 0x8000_0000 }).image;
  const words: number[] = [];
  for (let w = 0; w < 0x10000; w++) if ((w & 3) !== 3) words.push(w);
  const view = new DataView(image.buffer);
  for (let at = 0; words.length < 65_536 && at + 4 <= image.length; at += 4) {
    words.push(view.getUint32(at, true));
  }
  return { words, image };
})();

Deno.bench("assemble 10k lines", { group: "assembler", baseline: true }, () => {
  assemble(SOURCE, { origin: 0x8000_0000 });
});

Deno.bench("disassemble 65536 words (canonical)", { group: "disassembler", baseline: true }, () => {
  let n = 0;
  for (const w of WORDS.words) n += disassemble(w, 0x8000_0000).length;
  if (n === 0) throw new Error("nothing disassembled");
});

Deno.bench("disassemble 65536 words (aliases)", { group: "disassembler" }, () => {
  let n = 0;
  for (const w of WORDS.words) n += disassemble(w, 0x8000_0000, { aliases: true }).length;
  if (n === 0) throw new Error("nothing disassembled");
});

Deno.bench("disassembleRange over the assembled image", { group: "disassembler" }, () => {
  disassembleRange(WORDS.image, 0x8000_0000);
});
