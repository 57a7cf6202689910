import assert from "node:assert/strict";
import { assemble, AssemblerError } from "../../../lib/hw/riscv/assembler.ts";
import { disassemble, disassembleRange } from "../../../lib/hw/riscv/disassembler.ts";
import { decodeInstruction, INSTRUCTIONS } from "../../../lib/hw/riscv/isa_table.ts";

/** Assembles at `origin` and returns the image split into instruction words (hex). */
function words(source: string, origin = 0): string[] {
  const { image } = assemble(source, { origin });
  return disassembleRange(image, origin).map((l) =>
    l.word.toString(16).padStart(l.length * 2, "0")
  );
}

/** Assembles and disassembles (canonical forms). */
function listing(source: string, origin = 0): string[] {
  const { image } = assemble(source, { origin });
  return disassembleRange(image, origin).map((l) => l.text);
}

function bytes(source: string, origin = 0): number[] {
  return [...assemble(source, { origin }).image];
}

/** Asserts that assembling fails with `file:line:col: message` matching `pattern`. */
function fails(
  source: string,
  line: number,
  column: number,
  pattern: RegExp,
  origin = 0,
): AssemblerError {
  let error: unknown;
  try {
    assemble(source, { fileName: "t.s", origin });
  } catch (e) {
    error = e;
  }
  assert.ok(
    error instanceof AssemblerError,
    `${JSON.stringify(source)}: expected an AssemblerError, got ${error}`,
  );
  assert.equal(error.name, "AssemblerError");
  assert.equal(error.fileName, "t.s");
  assert.equal(`${error.line}:${error.column}`, `${line}:${column}`, error.message);
  assert.match(error.detail, pattern);
  assert.ok(error.message.startsWith(`t.s:${line}:${column}: `), error.message);
  return error;
}

Deno.test("base instructions encode as GNU as does (golden words)", () => {
  const cases: [string, string][] = [
    ["addi a0, a0, 1", "00150513"],
    ["lui a0, 0x247", "00247537"],
    ["auipc a0, 0x10", "00010517"],
    ["addiw a0, a0, -1875", "8ad5051b"],
    ["ld a0, -8(sp)", "ff813503"],
    ["sd a0, 2047(sp)", "7ea13fa3"],
    ["sraiw a0, a0, 31", "41f5551b"],
    ["slli a0, a0, 63", "03f51513"],
    ["srai x10, x10, 0x3f", "43f55513"],
    ["csrrs a0, mstatus, zero", "30002573"],
    ["csrrw zero, 0x7c0, a0", "7c051073"],
    ["csrrw a0, sstatus, a1", "10059573"],
    ["csrrwi a0, 0x340, 5", "3402d573"],
    ["fence iorw, iorw", "0ff0000f"],
    ["fence rw, w", "0310000f"],
    ["fence.i", "0000100f"],
    ["fence.tso", "8330000f"],
    ["lr.w.aqrl a0, (a1)", "1605a52f"],
    ["sc.d.aq a0, a2, (a1)", "1cc5b52f"],
    ["amoadd.w a0, a1, (a2)", "00b6252f"],
    ["amoswap.d.rl t0, t1, 0(t2)", "0a63b2af"],
    ["sfence.vma zero, zero", "12000073"],
    ["sfence.vma a0, a1", "12b50073"],
    ["ecall", "00000073"],
    ["ebreak", "00100073"],
    ["wfi", "10500073"],
    ["mret", "30200073"],
    ["sret", "10200073"],
    ["mul a0, a1, a2", "02c58533"],
    ["remuw s0, s1, s2", "0324f43b"],
    ["unimp", "c0001073"],
  ];
  for (const [src, word] of cases) assert.deepEqual(words(src), [word], src);
});

Deno.test("compressed instructions encode as GNU as does (golden parcels)", () => {
  const cases: [string, string][] = [
    ["c.addi4spn a0, sp, 16", "0808"],
    ["c.lw a0, 4(a1)", "41c8"],
    ["c.ld a0, 8(a1)", "6588"],
    ["c.sw a0, 4(a1)", "c1c8"],
    ["c.sd a0, 8(a1)", "e588"],
    ["c.nop", "0001"],
    ["c.nop 5", "0015"],
    ["c.addi a0, -32", "1501"],
    ["c.addiw a0, 31", "257d"],
    ["c.li a0, -1", "557d"],
    ["c.addi16sp sp, -512", "7101"],
    ["c.lui a0, 1", "6505"],
    ["c.lui a0, 0xfffff", "757d"],
    ["c.srli a0, 63", "917d"],
    ["c.srai a0, 1", "8505"],
    ["c.andi a0, -1", "997d"],
    ["c.sub a0, a1", "8d0d"],
    ["c.xor a0, a1", "8d2d"],
    ["c.or a0, a1", "8d4d"],
    ["c.and a0, a1", "8d6d"],
    ["c.subw a0, a1", "9d0d"],
    ["c.addw a0, a1", "9d2d"],
    ["c.slli a0, 1", "0506"],
    ["c.lwsp a0, 252(sp)", "557e"],
    ["c.ldsp a0, 504(sp)", "757e"],
    ["c.jr a0", "8502"],
    ["c.mv a0, a1", "852e"],
    ["c.ebreak", "9002"],
    ["c.jalr a0", "9502"],
    ["c.add a0, a1", "952e"],
    ["c.swsp a0, 252(sp)", "dfaa"],
    ["c.sdsp a0, 504(sp)", "ffaa"],
    ["c.j .+100", "a095"],
    ["c.beqz a0, .-4", "dd75"],
    ["c.bnez a0, .+254", "ed7d"],
    ["c.unimp", "0000"],
    ["c.slli64 a0", "0502"],
  ];
  for (const [src, word] of cases) assert.deepEqual(words(src), [word], src);
});

Deno.test("every table instruction round-trips through disassembler and assembler", () => {
  let seed = 12345;
  const random = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed;
  };
  let checked = 0;
  for (const spec of INSTRUCTIONS) {
    let hits = 0;
    for (let attempt = 0; attempt < 200 && hits < 8; attempt++) {
      const free = random() & ~spec.mask & (spec.length === 2 ? 0xffff : 0xffffffff);
      const word = (spec.match | free) >>> 0;
      if (decodeInstruction(word) !== spec) continue;
      // objdump prints targets in hex without 0x; assembly needs the prefix.
      const text = disassemble(word, 0x8000_0000).text.replace(
        /([ ,])([0-9a-f]+)$/,
        (m, sep, digits) =>
          spec.operands.some((o) => o.kind === "field" && /off$/.test(o.field))
            ? `${sep}0x${digits}`
            : m,
      );
      // Reserved encodings that objdump still names but GNU as refuses to produce.
      if (/^c\.addi16sp sp,0$/.test(text)) continue;
      const back = assemble(text, { origin: 0x8000_0000 }).image;
      const got = back.length === 2
        ? back[0] | back[1] << 8
        : new DataView(back.buffer).getUint32(0, true);
      assert.equal(got.toString(16), word.toString(16), `${spec.mnemonic}: '${text}'`);
      hits++;
      checked++;
    }
    assert.ok(hits > 0 || spec.mnemonic === "c.nop", `no word decoded as ${spec.mnemonic}`);
  }
  assert.ok(checked > 1000, `${checked} words round-tripped`);
});

Deno.test("li builds every constant with GNU's sequence", () => {
  assert.deepEqual(listing("li a0, 5"), ["addi a0,zero,5"]);
  assert.deepEqual(listing("li a0, -2048"), ["addi a0,zero,-2048"]);
  assert.deepEqual(listing("li a0, 2048"), ["lui a0,0x1", "addiw a0,a0,-2048"]);
  assert.deepEqual(listing("li a0, 0x12345000"), ["lui a0,0x12345"]);
  assert.deepEqual(listing("li a0, 0x7fffffff"), ["lui a0,0x80000", "addiw a0,a0,-1"]);
  assert.deepEqual(listing("li a0, 0x80000000"), [
    "addiw a0,zero,1",
    "slli a0,a0,0x1f",
  ]);
  assert.deepEqual(listing("li a0, 0xffffffff"), [
    "addiw a0,zero,1",
    "slli a0,a0,0x20",
    "addi a0,a0,-1",
  ]);
  assert.deepEqual(listing("li t0, 0x123456789abcdef0"), [
    "lui t0,0x247",
    "addiw t0,t0,-1875",
    "slli t0,t0,0xe",
    "addi t0,t0,-947",
    "slli t0,t0,0xc",
    "addi t0,t0,1511",
    "slli t0,t0,0xd",
    "addi t0,t0,-272",
  ]);
  assert.deepEqual(listing("li a0, 0x8000000000000000"), ["addiw a0,zero,-1", "slli a0,a0,0x3f"]);
  assert.deepEqual(listing("li a0, -1"), ["addi a0,zero,-1"]);
  assert.deepEqual(listing("li a0, 'A'"), ["addi a0,zero,65"]);
  // A constant defined later is not known yet: lui/addi with %hi/%lo, like a label.
  assert.deepEqual(listing("li a0, LATER\n.equ LATER, 0x12345678"), [
    "lui a0,0x12345",
    "addi a0,a0,1656",
  ]);
});

Deno.test("pseudo-instructions expand to the canonical instructions", () => {
  const cases: [string, string[]][] = [
    ["nop", ["addi zero,zero,0"]],
    ["mv a0, a1", ["addi a0,a1,0"]],
    ["not a0, a1", ["xori a0,a1,-1"]],
    ["neg a0, a1", ["sub a0,zero,a1"]],
    ["negw a0, a1", ["subw a0,zero,a1"]],
    ["sext.w a0, a1", ["addiw a0,a1,0"]],
    ["zext.b a0, a1", ["andi a0,a1,255"]],
    ["seqz a0, a1", ["sltiu a0,a1,1"]],
    ["snez a0, a1", ["sltu a0,zero,a1"]],
    ["sltz a0, a1", ["slt a0,a1,zero"]],
    ["sgtz a0, a1", ["slt a0,zero,a1"]],
    ["beqz a0, .+8", ["beq a0,zero,8"]],
    ["bnez a0, .+8", ["bne a0,zero,8"]],
    ["blez a0, .+8", ["bge zero,a0,8"]],
    ["bgez a0, .+8", ["bge a0,zero,8"]],
    ["bltz a0, .+8", ["blt a0,zero,8"]],
    ["bgtz a0, .+8", ["blt zero,a0,8"]],
    ["bgt a0, a1, .+8", ["blt a1,a0,8"]],
    ["ble a0, a1, .+8", ["bge a1,a0,8"]],
    ["bgtu a0, a1, .+8", ["bltu a1,a0,8"]],
    ["bleu a0, a1, .+8", ["bgeu a1,a0,8"]],
    ["j .+16", ["jal zero,10"]],
    ["jal .+16", ["jal ra,10"]],
    ["jr a0", ["jalr zero,0(a0)"]],
    ["jr 8(a0)", ["jalr zero,8(a0)"]],
    ["jalr a0", ["jalr ra,0(a0)"]],
    ["jalr t0, a0", ["jalr t0,0(a0)"]],
    ["jalr t0, a0, -4", ["jalr t0,-4(a0)"]],
    ["jalr 4(a0)", ["jalr ra,4(a0)"]],
    ["ret", ["jalr zero,0(ra)"]],
    ["call .+0x1000", ["auipc ra,0x1", "jalr ra,0(ra)"]],
    ["call t0, .+0x10", ["auipc t1,0x0", "jalr t0,16(t1)"]],
    ["tail .+0x10", ["auipc t1,0x0", "jalr zero,16(t1)"]],
    ["jump .+0x10, t2", ["auipc t2,0x0", "jalr zero,16(t2)"]],
    ["csrr a0, mhartid", ["csrrs a0,mhartid,zero"]],
    ["csrw mtvec, a0", ["csrrw zero,mtvec,a0"]],
    ["csrs mie, a0", ["csrrs zero,mie,a0"]],
    ["csrc mip, a0", ["csrrc zero,mip,a0"]],
    ["csrw mscratch, 7", ["csrrwi zero,mscratch,7"]],
    ["csrwi sscratch, 1", ["csrrwi zero,sscratch,1"]],
    ["csrsi sstatus, 2", ["csrrsi zero,sstatus,2"]],
    ["csrci sstatus, 31", ["csrrci zero,sstatus,31"]],
    ["csrrs a0, sie, 4", ["csrrsi a0,sie,4"]],
    ["rdtime a0", ["csrrs a0,time,zero"]],
    ["rdcycle a1", ["csrrs a1,cycle,zero"]],
    ["rdinstret a2", ["csrrs a2,instret,zero"]],
    ["fence", ["fence iorw,iorw"]],
    ["sfence.vma", ["sfence.vma zero,zero"]],
    ["sfence.vma a0", ["sfence.vma a0,zero"]],
  ];
  for (const [src, expected] of cases) assert.deepEqual(listing(src), expected, src);
});

Deno.test("la, lla, load/store of a symbol and %pcrel_hi/%pcrel_lo are pc-relative", () => {
  const src = `
    la a0, msg          # 0x1000
    lla a1, msg         # 0x1008
    lw a2, msg          # 0x1010
    sd a3, msg, t0      # 0x1018
1:  auipc a4, %pcrel_hi(msg)
    addi a4, a4, %pcrel_lo(1b)
    .p2align 8
msg: .word 42
  `;
  assert.deepEqual(listing(src, 0x1000).slice(0, 10), [
    "auipc a0,0x0",
    "addi a0,a0,256",
    "auipc a1,0x0",
    "addi a1,a1,248",
    "auipc a2,0x0",
    "lw a2,240(a2)",
    "auipc t0,0x0",
    "sd a3,232(t0)",
    "auipc a4,0x0",
    "addi a4,a4,224",
  ]);
  // %hi/%lo of a constant address.
  assert.deepEqual(listing("lui a0, %hi(0x12345fff)\naddi a0, a0, %lo(0x12345fff)"), [
    "lui a0,0x12346",
    "addi a0,a0,-1",
  ]);
  // Far targets: the auipc carries the upper bits.
  assert.deepEqual(listing("la a0, 0x80000000", 0x1000), ["auipc a0,0x7ffff", "addi a0,a0,0"]);
});

Deno.test("labels, numeric local labels, symbols and entry", () => {
  const result = assemble(
    `
    .globl _start
_start: j 1f
1:  j 1b
1:  j 1f
    nop
1:  beqz a0, 1b
here: there: nop
    `,
    { origin: 0x8000_0000 },
  );
  assert.equal(result.entry, 0x8000_0000);
  assert.deepEqual(result.globals, new Set(["_start"]));
  assert.equal(result.symbols.get("here"), 0x8000_0014);
  assert.equal(result.symbols.get("there"), 0x8000_0014);
  assert.ok(![...result.symbols.keys()].some((k) => k.startsWith(".L1")), "local labels hidden");
  assert.deepEqual(disassembleRange(result.image, result.origin).map((l) => l.text), [
    "jal zero,80000004",
    "jal zero,80000004",
    "jal zero,80000010",
    "addi zero,zero,0",
    "beq a0,zero,80000010",
    "addi zero,zero,0",
  ]);
  // Without _start the entry is the origin.
  assert.equal(assemble("nop", { origin: 0x1000 }).entry, 0x1000);
});

Deno.test("expressions: operators, precedence, symbols, dot and character literals", () => {
  const src = `
    .equ A, 10
    .set B, A * 3 + 1       # 31
    C = (B << 4) | 0x3      # 499
    .equ D, end - start     # section-relative difference
start:
    addi a0, zero, A + B - 1
    addi a0, zero, -(A % 4) * ~0
    addi a0, zero, C >> 2
    addi a0, zero, 7 / 2 + 'a' - 'a'
    addi a0, zero, (1 == 1) + (2 > 1) + (A != 10)
    addi a0, zero, D
    addi a0, zero, 0b101 ^ 0x6 & 0xf
    addi a0, zero, 010
    addi a0, zero, '\\n'
    addi a0, zero, . - start
end:
  `;
  const r = assemble(src, { origin: 0 });
  assert.equal(r.symbols.get("B"), 31);
  assert.equal(r.symbols.get("C"), 499);
  assert.equal(r.symbols.get("D"), 40);
  assert.deepEqual(disassembleRange(r.image, 0).map((l) => l.text), [
    "addi a0,zero,40",
    "addi a0,zero,2",
    "addi a0,zero,124",
    "addi a0,zero,3",
    "addi a0,zero,-2",
    "addi a0,zero,40",
    "addi a0,zero,3",
    "addi a0,zero,8",
    "addi a0,zero,10",
    "addi a0,zero,36",
  ]);
});

Deno.test("comments and statement separators", () => {
  const src = `
    addi a0, a0, 1 # hash comment
    addi a0, a0, 2 // slash comment
    /* block
       comment */ addi a0, a0, 3 ; addi a0, a0, 4 /* inline */ ; addi a0, a0, 5
    .ascii "#;//" ; .byte ';', '#'
  `;
  const r = assemble(src, { origin: 0 });
  assert.deepEqual(disassembleRange(r.image.subarray(0, 20), 0).map((l) => l.text), [
    "addi a0,a0,1",
    "addi a0,a0,2",
    "addi a0,a0,3",
    "addi a0,a0,4",
    "addi a0,a0,5",
  ]);
  assert.deepEqual([...r.image.subarray(20)], [35, 59, 47, 47, 59, 35]);
});

Deno.test("data directives", () => {
  assert.deepEqual(bytes(".byte 1, -1, 'z', 0xff"), [1, 255, 122, 255]);
  assert.deepEqual(bytes(".half 0x1234\n.short -2\n.2byte 3"), [0x34, 0x12, 0xfe, 0xff, 3, 0]);
  assert.deepEqual(bytes(".word 0xdeadbeef\n.long 1\n.4byte -1"), [
    0xef,
    0xbe,
    0xad,
    0xde,
    1,
    0,
    0,
    0,
    255,
    255,
    255,
    255,
  ]);
  assert.deepEqual(bytes(".dword 0x0102030405060708\n.quad -1\n.8byte 0"), [
    8,
    7,
    6,
    5,
    4,
    3,
    2,
    1,
    ...new Array(8).fill(255),
    ...new Array(8).fill(0),
  ]);
  assert.deepEqual(bytes('.ascii "ab", "c"\n.asciz "d"\n.string "e\\t\\x41\\101\\"\\\\"'), [
    97,
    98,
    99,
    100,
    0,
    101,
    9,
    65,
    65,
    34,
    92,
    0,
  ]);
  assert.deepEqual(bytes('.ascii "é"'), [0xc3, 0xa9]);
  assert.deepEqual(bytes(".zero 3\n.space 2, 0xaa\n.skip 1\n.fill 2, 2, 0x1234"), [
    0,
    0,
    0,
    0xaa,
    0xaa,
    0,
    0x34,
    0x12,
    0x34,
    0x12,
  ]);
  assert.deepEqual(bytes(".int 0x01020304\n.rodata\n.byte 5"), [4, 3, 2, 1, 0, 0, 0, 0, 5]);
  // Distances across sections are known once the flat image is laid out.
  assert.deepEqual(bytes("t: nop\n.data\nd: .word d - t\n", 0).slice(8), [8, 0, 0, 0]);
  // Addresses in data.
  const r = assemble(".data\nptr: .dword target\n.word target - ptr\n.text\ntarget: nop", {
    origin: 0x1000,
  });
  assert.equal(r.symbols.get("ptr"), 0x1008);
  assert.deepEqual([...r.image.subarray(8, 20)], [
    0,
    0x10,
    0,
    0,
    0,
    0,
    0,
    0,
    0xf8,
    0xff,
    0xff,
    0xff,
  ]);
});

Deno.test("alignment directives pad data with zeros and code with nops", () => {
  assert.deepEqual(bytes(".data\n.byte 1\n.align 2\n.byte 2"), [1, 0, 0, 0, 2]);
  assert.deepEqual(bytes(".data\n.byte 1\n.p2align 3, 0xee\n.byte 2"), [
    1,
    ...new Array(7).fill(0xee),
    2,
  ]);
  assert.deepEqual(bytes(".data\n.byte 1\n.balign 4\n.byte 2"), [1, 0, 0, 0, 2]);
  assert.deepEqual(bytes(".data\n.byte 1\n.balign 8, 0, 2\n.byte 2"), [1, 2]);
  assert.deepEqual(listing("c.nop\n.align 4\nebreak"), [
    "c.addi zero,0",
    "c.addi zero,0",
    "addi zero,zero,0",
    "addi zero,zero,0",
    "addi zero,zero,0",
    "ebreak",
    // As in GNU as, a code section ends padded to its alignment.
    "addi zero,zero,0",
    "addi zero,zero,0",
    "addi zero,zero,0",
  ]);
});

Deno.test("sections are laid out text, data, bss in one flat image", () => {
  const r = assemble(
    `
    .bss
buf: .zero 16
    .data
val: .word 7
    .section .rodata
ro: .byte 9
    .text
_start: nop
    .section ".text.init", "ax", @progbits
init: nop
    .type _start, @function
    .size _start, 4
  `,
    { origin: 0x8000_0000 },
  );
  assert.deepEqual(r.sections, [
    { name: ".text", address: 0x8000_0000, size: 4, kind: "progbits" },
    { name: ".text.init", address: 0x8000_0008, size: 4, kind: "progbits" },
    { name: ".data", address: 0x8000_0010, size: 4, kind: "progbits" },
    { name: ".rodata", address: 0x8000_0018, size: 1, kind: "progbits" },
    { name: ".bss", address: 0x8000_0020, size: 16, kind: "nobits" },
  ]);
  assert.equal(r.image.length, 0x30);
  assert.equal(r.symbols.get("buf"), 0x8000_0020);
  assert.equal(r.symbols.get("init"), 0x8000_0008);
  assert.equal(r.image[0x10], 7);
  assert.equal(r.image[0x18], 9);
  assert.ok(r.image.subarray(0x20).every((b) => b === 0));
});

Deno.test("the first code section used comes first; empty sections keep their labels", () => {
  const r = assemble(
    `
    .section .text.entry
_start: j main
    .text
main: wfi
    .bss
    .align 12
stack: .zero 4096
stack_top:
    .section .sbss
end:
  `,
    { origin: 0x8000_0000 },
  );
  assert.deepEqual(r.sections.map((s) => [s.name, s.address, s.size]), [
    [".text.entry", 0x8000_0000, 4],
    [".text", 0x8000_0008, 4],
    [".bss", 0x8000_1000, 4096],
    [".sbss", 0x8000_2000, 0],
  ]);
  assert.equal(r.symbols.get("stack_top"), 0x8000_2000);
  assert.equal(r.symbols.get("end"), 0x8000_2000);
  assert.equal(r.entry, 0x8000_0000);
  assert.equal(r.image.length, 0x2000);
  // Nothing at all: an empty image.
  assert.deepEqual(assemble("# nothing", { origin: 0x1000 }).sections, []);
});

Deno.test(".option rvc compresses, norvc and push/pop restore", () => {
  assert.deepEqual(
    listing(`
    addi a0, a0, 1
    .option push
    .option rvc
    addi a0, a0, 1
    mv a0, a1
    add a0, a0, zero
    lw a0, 4(a1)
    ret
    .option pop
    ret
    .option arch, +c
    .option norelax
  `),
    [
      "addi a0,a0,1",
      "c.addi a0,1",
      "c.mv a0,a1",
      "add a0,a0,zero",
      "c.lw a0,4(a1)",
      "c.jr ra",
      "jalr zero,0(ra)",
    ],
  );
});

Deno.test("errors name file, line and column", () => {
  fails("nop\n  frob a0, a1", 2, 3, /unknown instruction 'frob'/);
  fails("  .frob 1", 1, 3, /unknown directive '.frob'/);
  fails("addi a0, a1", 1, 1, /'addi' takes 3 operands/);
  fails("addi a0, a1, 2048", 1, 14, /12-bit signed immediate 2048 out of range \(-2048\.\.2047\)/);
  fails("addi a0, q1, 1", 1, 10, /expected a register, found 'q1'/);
  fails("addi a0, a1, a2", 1, 14, /expected an immediate, found register 'a2'/);
  fails("slli a0, a0, 64", 1, 14, /shift amount 64 out of range/);
  fails("slliw a0, a0, 32", 1, 15, /32-bit shift amount 32 out of range/);
  fails("lui a0, -1", 1, 9, /20-bit upper immediate -1 out of range \(0\.\.1048575\)/);
  fails(
    "beq a0, a1, .+4096",
    1,
    13,
    /beq: target is out of range: 4096 bytes away \(reach -4096\.\.4094\)/,
  );
  fails("beq a0, a1, .+3", 1, 13, /target is not 2-byte aligned: 3 bytes away/);
  fails("j .+0x100000", 1, 3, /jal: target is out of range: 1048576 bytes away/);
  fails("c.j .+2048", 1, 5, /c\.j: target is out of range/);
  fails("c.beqz a0, .-258", 1, 12, /c\.beqz: target is out of range/);
  fails("c.lw a6, 0(a0)", 1, 6, /register a6 not allowed here, need one of x8\.\.x15/);
  fails("c.lw a0, 2(a1)", 1, 10, /c\.lw offset 2 is not a multiple of 4/);
  fails("c.addi16sp sp, 0", 1, 16, /must not be 0/);
  fails("c.addi4spn a0, a1, 16", 1, 16, /register a1 not allowed here, need sp/);
  fails("csrr a0, mfrob", 1, 10, /unknown CSR 'mfrob'/);
  fails("fence rw, x", 1, 11, /bad fence set 'x'/);
  fails("lr.w a0, 4(a1)", 1, 10, /takes no offset/);
  fails("beq a0, a1, nowhere", 1, 13, /undefined symbol 'nowhere'/);
  fails("j 1f", 1, 3, /undefined local label '1'/);
  fails("j 1b", 1, 3, /local label '1' has no earlier definition/);
  fails("x: nop\nx: nop", 2, 1, /symbol 'x' is already defined at line 1/);
  fails(".equ A, A + 1\nli a0, A", 1, 9, /defined in terms of itself/);
  fails("addi a0, a0, (1 + 2", 1, 20, /expected '\)'/);
  fails("addi a0, a0, 1 +", 1, 17, /missing expression/);
  fails("addi a0, a0, 1 / 0", 1, 16, /division by zero/);
  fails('.ascii "abc', 1, 8, /unterminated string/);
  fails("nop /* open", 1, 5, /unterminated \/\* comment/);
  fails(".byte 256", 1, 7, /value 256 does not fit in 1 byte/);
  fails(".half 0x10000", 1, 7, /does not fit in 2 bytes/);
  fails(".bss\n.word 1", 2, 7, /\.bss holds no data/);
  fails(".align 31", 1, 8, /exponent must be 0\.\.30/);
  fails(".balign 3", 1, 9, /power of two/);
  fails(".zero x", 1, 7, /must be a constant known here/);
  fails(".option frob", 1, 9, /unknown \.option 'frob'/);
  fails(".option pop", 1, 9, /without a matching \.option push/);
  fails("nop\n  addi a0, a0, @", 2, 16, /unexpected '@'/);
  fails("addi a0, a0, 1 $", 1, 16, /unexpected '\$' after expression/);
  fails(
    "a: nop\n.data\nb: .zero b - a",
    3,
    12,
    /distance between \.data and \.text is known only after layout/,
  );
  fails("addi a0, a0, 1 - a\na:", 1, 16, /cannot subtract an address from a number/);
  fails("a: .dword a + a", 1, 13, /cannot add two addresses/);
  fails("lui a0, %hi(x)\nx:", 1, 9, /address 0x80000004 is out of reach of lui/, 0x8000_0000);
  fails("addi a0, a0, %pcrel_lo(x)\nx: nop", 1, 14, /no auipc with %pcrel_hi/);
  fails("la a0, 0x100000000", 1, 1, /target is 4294967296 bytes away, beyond the ±2 GiB reach/);
  fails("auipc a0, %pcrel_hi(-0x80000000)", 1, 11, /beyond the ±2 GiB reach of auipc/, 0x1000);
  fails("addi a0, a0, %frob(x)", 1, 14, /unknown relocation operator '%frob'/);
  fails("ret a0", 1, 5, /'ret' takes 0 operands, got 1/);
});

Deno.test("several errors are all reported, in order", () => {
  const e = fails("frob\nnop\naddi a0, a0, 5000\n.frob", 1, 1, /unknown instruction/);
  assert.deepEqual(e.diagnostics.map((d) => d.line), [1, 3, 4]);
  assert.equal(e.message.split("\n").length, 3);
  assert.match(
    e.message,
    /^t\.s:1:1: unknown instruction 'frob'\nt\.s:3:14: .*\nt\.s:4:1: unknown directive '.frob'$/,
  );
});

Deno.test("register names: x0..x31, ABI names and fp", () => {
  assert.deepEqual(listing("add x1, x2, x31\nadd fp, s0, t6\nadd zero, ra, gp"), [
    "add ra,sp,t6",
    "add s0,s0,t6",
    "add zero,ra,gp",
  ]);
});

Deno.test("CSR operands: names, legacy names and numbers", () => {
  assert.deepEqual(
    listing("csrr a0, pmpaddr63\ncsrr a0, 0xfff\ncsrr a0, sbadaddr\ncsrr a0, hpmcounter31h"),
    [
      "csrrs a0,pmpaddr63,zero",
      "csrrs a0,0xfff,zero",
      "csrrs a0,stval,zero",
      "csrrs a0,hpmcounter31h,zero",
    ],
  );
  const equ = assemble(".equ MY_CSR, 0x7c0\ncsrw MY_CSR, a0", { origin: 0 });
  assert.equal(
    disassemble(new DataView(equ.image.buffer).getUint32(0, true)).text,
    "csrrw zero,0x7c0,a0",
  );
});

Deno.test("origin must be a valid address and aligned for the code", () => {
  assert.throws(() => assemble("nop", { origin: -4 }), AssemblerError);
  assert.throws(
    () => assemble(".align 4\nnop", { origin: 0x1004 }),
    /not aligned to the 16-byte alignment/,
  );
});

Deno.test("symbol directives: .globl/.global/.weak/.local, .set redefinition, .equiv", () => {
  const r = assemble(
    `
    .global a
    .globl b
    .weak c
    .local d
    .hidden a
    .file "x.c"
    .ident "axvisor"
    .attribute arch, "rv64imac"
    .cfi_startproc
    .set X, 1
    addi a0, a0, X
    .set X, 2
    addi a0, a0, X
    X = 3
    addi a0, a0, X
a: b: c: d:
    .cfi_endproc
    .end
  `,
    { origin: 0 },
  );
  assert.deepEqual(r.globals, new Set(["a", "b", "c"]));
  assert.equal(r.symbols.get("X"), 3);
  assert.deepEqual(disassembleRange(r.image, 0).map((l) => l.text), [
    "addi a0,a0,1",
    "addi a0,a0,2",
    "addi a0,a0,3",
  ]);
  fails(".equiv Y, 1\n.equiv Y, 2", 2, 8, /symbol 'Y' is already defined at line 1/);
  fails("L: nop\n.set L, 2", 2, 6, /symbol 'L' is already defined at line 1/);
  fails(".globl 1", 1, 8, /\.globl expects a symbol name/);
});

Deno.test(".option rvc leaves branches, jumps and out-of-range immediates 32-bit", () => {
  assert.deepEqual(
    listing(`
    .option rvc
1:  beqz a0, 1b
    j 1b
    addi a0, a0, 100
    lw a0, 128(a1)
    li a0, 0x12345678
  `),
    [
      "beq a0,zero,0",
      "jal zero,0",
      "addi a0,a0,100",
      "lw a0,128(a1)",
      "lui a0,0x12345",
      "addiw a0,a0,1656",
    ],
  );
});

Deno.test("macros: parameters, defaults, keywords, \\@, nesting and errors", () => {
  assert.deepEqual(
    listing(`
    .macro SAVE reg, off=0
    sd \\reg, \\off(sp)
    .endm
    .macro PAIR a, b
    SAVE \\a, 8
    SAVE reg=\\b
    .endm
    .macro LOOP n
loop\\@: addi \\n, \\n, -1
    bnez \\n, loop\\@
    .endm
    SAVE ra
    PAIR s0, s1
    LOOP a0
    LOOP a1
  `),
    [
      "sd ra,0(sp)",
      "sd s0,8(sp)",
      "sd s1,0(sp)",
      "addi a0,a0,-1",
      "bne a0,zero,c",
      "addi a1,a1,-1",
      "bne a1,zero,14",
    ],
  );
  fails(".macro M\nnop", 1, 1, /\.macro without a matching \.endm/);
  fails(".endm", 1, 1, /\.endm without a matching \.macro/);
  fails(".macro M x:req\nnop\n.endm\nM", 4, 1, /macro 'M' needs argument 'x'/);
  fails(".macro M x\nnop\n.endm\nM 1, 2", 4, 1, /macro 'M' takes 1 arguments, got 2/);
  fails(".macro R\nR\n.endm\nR", 2, 1, /nested more than 64 deep/);
  fails(".macro add\n.endm", 1, 1, /macro 'add' is already defined/);
  // Errors inside an expansion point at the body line and name the use.
  const e = fails(".macro M x\naddi a0, a0, \\x\n.endm\nM 5000", 2, 14, /out of range/);
  assert.match(e.detail, /\(in macro 'M' used at line 4\)$/);
});

Deno.test(".rept, .irp and .irpc repeat statements", () => {
  assert.deepEqual(bytes(".data\n.rept 3\n.byte 7\n.endr"), [7, 7, 7]);
  assert.deepEqual(bytes(".data\n.irp v, 1, 2, 3\n.byte \\v * 2\n.endr"), [2, 4, 6]);
  assert.deepEqual(bytes(".data\n.irpc c, 123\n.byte \\c\n.endr"), [1, 2, 3]);
  // As in GNU as, character literals are not substituted ('\n' stays a newline); strings are.
  assert.deepEqual(bytes(".data\n.irp n, 7\n.byte \\n, '\\n'\n.ascii \"\\n\"\n.endr"), [7, 10, 55]);
  assert.deepEqual(
    listing(".irp r, 1, 2\nsd x\\r, (\\r * 8)(sp)\n.endr\n.rept 2\n.rept 2\nnop\n.endr\n.endr"),
    ["sd ra,8(sp)", "sd sp,16(sp)", ...new Array(4).fill("addi zero,zero,0")],
  );
  assert.deepEqual(bytes(".data\n.rept 0\n.byte 1\n.endr"), []);
  fails(".rept 2\nnop", 1, 1, /\.rept without a matching \.endr/);
  fails(".rept -1\n.endr", 1, 7, /\.rept count -1 out of range/);
  fails(".endr", 1, 1, /\.endr without a matching \.rept/);
});
