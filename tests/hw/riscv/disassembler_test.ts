import assert from "node:assert/strict";
import { assemble } from "../../../lib/hw/riscv/assembler.ts";
import {
  disassemble,
  disassembleRange,
  formatListing,
} from "../../../lib/hw/riscv/disassembler.ts";
import { decodeInstruction, INSTRUCTIONS } from "../../../lib/hw/riscv/isa_table.ts";

Deno.test("canonical text matches objdump -M no-aliases (golden)", () => {
  const cases: [number, number, string][] = [
    [0x00150513, 0, "addi a0,a0,1"],
    [0x8ad5051b, 8, "addiw a0,a0,-1875"],
    [0x00247537, 0, "lui a0,0x247"],
    [0xfeb500e3, 0x20, "beq a0,a1,0"],
    [0xfd9ff0ef, 0x28, "jal ra,0"],
    [0x000500e7, 0, "jalr ra,0(a0)"],
    [0x30002573, 0, "csrrs a0,mstatus,zero"],
    [0x7c051073, 0, "csrrw zero,0x7c0,a0"],
    [0x3402d573, 0, "csrrwi a0,mscratch,5"],
    [0x0ff0000f, 0, "fence iorw,iorw"],
    [0x0310000f, 0, "fence rw,w"],
    [0x0100000f, 0, "fence w,0"],
    [0x0000100f, 0, "fence.i"],
    [0x8330000f, 0, "fence.tso"],
    [0x1605a52f, 0, "lr.w.aqrl a0,(a1)"],
    [0x1cc5b52f, 0, "sc.d.aq a0,a2,(a1)"],
    [0x00b6252f, 0, "amoadd.w a0,a1,(a2)"],
    [0x12000073, 0, "sfence.vma zero,zero"],
    [0xff813503, 0, "ld a0,-8(sp)"],
    [0x7ea13fa3, 0, "sd a0,2047(sp)"],
    [0x41f5551b, 0, "sraiw a0,a0,0x1f"],
    [0xc0102573, 0, "csrrs a0,time,zero"],
    [0xc0001073, 0, "unimp"],
    [0x00000073, 0, "ecall"],
    [0x00100073, 0, "ebreak"],
    [0x10500073, 0, "wfi"],
    [0x30200073, 0, "mret"],
    [0x10200073, 0, "sret"],
    [0x7b200073, 0, "dret"],
    [0x3a002573, 0, "csrrs a0,pmpcfg0,zero"],
    [0x0505, 0, "c.addi a0,1"],
    [0x0001, 0, "c.addi zero,0"],
    [0x757d, 0, "c.lui a0,0xfffff"],
    [0x157e, 0, "c.slli a0,0x3f"],
    [0x0502, 0, "c.slli64 a0"],
    [0x8001, 0, "c.srli64 s0"],
    [0x0808, 0, "c.addi4spn a0,sp,16"],
    [0x7101, 0, "c.addi16sp sp,-512"],
    [0xa095, 0x28, "c.j 8c"],
    [0xdd75, 0x2a, "c.beqz a0,26"],
    [0x557e, 0, "c.lwsp a0,252(sp)"],
    [0xffaa, 0, "c.sdsp a0,504(sp)"],
    [0x8502, 0, "c.jr a0"],
    [0x9002, 0, "c.ebreak"],
    [0x0000, 0, "c.unimp"],
  ];
  for (const [word, pc, text] of cases) {
    const d = disassemble(word, pc);
    assert.equal(d.text, text, word.toString(16));
    assert.equal(d.length, (word & 3) === 3 ? 4 : 2);
  }
});

Deno.test("unknown words print as .4byte / .2byte", () => {
  assert.deepEqual(disassemble(0xffffffff - 4), { text: ".4byte 0xfffffffb", length: 4 });
  assert.deepEqual(disassemble(0x1000100f), { text: ".4byte 0x1000100f", length: 4 });
  assert.deepEqual(disassemble(0x6001), { text: ".2byte 0x6001", length: 2 });
  assert.deepEqual(disassemble(0x8002), { text: ".2byte 0x8002", length: 2 });
  // Only the low half of a compressed word counts.
  assert.deepEqual(disassemble(0x12340505), { text: "c.addi a0,1", length: 2 });
});

Deno.test("branch targets are absolute, wrap below zero, and use pc", () => {
  assert.equal(disassemble(0xfe000ee3, 0x8000_0000).text, "beq zero,zero,7ffffffc");
  assert.equal(disassemble(0xfe000ee3, 0).text, "beq zero,zero,fffffffffffffffc");
  assert.equal(disassemble(0x0000006f, 0x1234).text, "jal zero,1234");
});

Deno.test("aliases mode prints pseudo-instructions that re-assemble to the same word", () => {
  const source = `
    nop
    li a0, -5
    mv a1, a2
    not a0, a1
    neg a0, a1
    negw a0, a1
    sext.w a0, a1
    seqz a0, a1
    snez a0, a1
    sltz a0, a1
    sgtz a0, a1
    beqz a0, .+16
    bnez a0, .-16
    bltz a0, .+8
    bgez a0, .+8
    blez a0, .+8
    bgtz a0, .+8
    j .+32
    jal .+32
    jr a0
    jr 8(a0)
    jalr a0
    jalr 4(a0)
    ret
    csrr a0, mstatus
    csrw mtvec, a0
    csrs mie, a0
    csrc mip, a0
    csrwi sscratch, 3
    csrsi sstatus, 2
    csrci sstatus, 1
    csrrwi a0, sscratch, 3
    rdtime a0
    rdcycle a0
    rdinstret a0
    fence
    sfence.vma
    sfence.vma a0
    unimp
    addi a0, a1, 3
    fence rw, w
    fmv.s fa0, fa1
    fneg.d ft0, fs1
    fabs.s fa5, fa5
    fsgnj.d fa0, fa1, fa2
    frcsr a0
    fscsr a0, a1
    fscsr a1
    frrm t0
    fsrm a2
    fsrmi a0, 3
    fsrmi 1
    frflags a0
    fsflags a3, a4
    fsflagsi 31
    fadd.d fa0, fa1, fa2, dyn
    fadd.d fa0, fa1, fa2, rtz
  `;
  const origin = 0x8000_0000;
  const { image } = assemble(source, { origin });
  const lines = disassembleRange(image, origin, { aliases: true });
  assert.deepEqual(lines.map((l) => l.text), [
    "nop",
    "li a0,-5",
    "mv a1,a2",
    "not a0,a1",
    "neg a0,a1",
    "negw a0,a1",
    "sext.w a0,a1",
    "seqz a0,a1",
    "snez a0,a1",
    "sltz a0,a1",
    "sgtz a0,a1",
    "beqz a0,8000003c",
    "bnez a0,80000020",
    "bltz a0,8000003c",
    "bgez a0,80000040",
    "blez a0,80000044",
    "bgtz a0,80000048",
    "j 80000064",
    "jal 80000068",
    "jr a0",
    "jr 8(a0)",
    "jalr a0",
    "jalr 4(a0)",
    "ret",
    "csrr a0,mstatus",
    "csrw mtvec,a0",
    "csrs mie,a0",
    "csrc mip,a0",
    "csrw sscratch,3",
    "csrs sstatus,2",
    "csrc sstatus,1",
    "csrrw a0,sscratch,3",
    "rdtime a0",
    "rdcycle a0",
    "rdinstret a0",
    "fence",
    "sfence.vma",
    "sfence.vma a0",
    "unimp",
    "addi a0,a1,3",
    "fence rw,w",
    "fmv.s fa0,fa1",
    "fneg.d ft0,fs1",
    "fabs.s fa5,fa5",
    "fsgnj.d fa0,fa1,fa2",
    "frcsr a0",
    "fscsr a0,a1",
    "fscsr a1",
    "frrm t0",
    "fsrm a2",
    "fsrmi a0,3",
    "fsrmi zero,1",
    "frflags a0",
    "fsflags a3,a4",
    "fsflagsi zero,31",
    "fadd.d fa0,fa1,fa2",
    "fadd.d fa0,fa1,fa2,rtz",
  ]);
  // Each alias assembles back to its word.
  for (const line of lines) {
    const text = line.text.replace(/([ ,])([0-9a-f]{8})$/, "$10x$2");
    const back = assemble(text, { origin: line.address }).image;
    const word = new DataView(back.buffer).getUint32(0, true);
    assert.equal(word, line.word, `${line.text}`);
  }
});

Deno.test("disassembleRange walks mixed 16/32-bit code and trailing bytes", () => {
  const bytes = new Uint8Array([
    0x05,
    0x05, // c.addi a0,1
    0x13,
    0x05,
    0x15,
    0x00, // addi a0,a0,1
    0x13,
    0x00, // truncated 32-bit instruction
    0x7f, // lone byte
  ]);
  const lines = disassembleRange(bytes, 0x100);
  assert.deepEqual(lines, [
    { address: 0x100, word: 0x0505, length: 2, text: "c.addi a0,1" },
    { address: 0x102, word: 0x00150513, length: 4, text: "addi a0,a0,1" },
    { address: 0x106, word: 0x0013, length: 2, text: ".2byte 0x13" },
    { address: 0x108, word: 0x7f, length: 1, text: ".byte 0x7f" },
  ]);
  assert.equal(
    formatListing(lines.slice(0, 2)),
    "00000100:  0505      c.addi a0,1\n00000102:  00150513  addi a0,a0,1",
  );
  assert.deepEqual(disassembleRange(new Uint8Array(0)), []);
});

Deno.test("every table instruction decodes to itself from its match value", () => {
  for (const spec of INSTRUCTIONS) {
    const decoded = decodeInstruction(spec.match);
    if (decoded === spec) continue;
    // A few entries share their match value with a more general (earlier) entry or are
    // assembler-only spellings: c.nop = c.addi zero,0; c.addi4spn with a zero immediate is
    // c.unimp's word; c.jr zero, c.lwsp zero... are reserved.
    assert.ok(
      [
        "c.nop",
        "c.addi4spn",
        "c.addiw",
        "c.lui",
        "c.lwsp",
        "c.ldsp",
        "c.jr",
        "c.mv",
        "c.jalr",
        "c.srli",
        "c.srai",
        "c.slli",
        "c.add",
      ]
        .includes(spec.mnemonic),
      `${spec.mnemonic} decodes as ${decoded?.mnemonic}`,
    );
  }
});
