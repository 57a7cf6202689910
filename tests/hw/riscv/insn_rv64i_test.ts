/**
 * Per-instruction tests of RV64I (plus Zifencei's fence.i), in the style of riscv-tests: each
 * instruction is a program of cases covering sign extension, W forms, shifts by 0/31/32/63,
 * register aliasing, x0 as source and destination, branches and jumps forward and backward,
 * loads and stores of every width.
 */

import {
  ARM_TRAP,
  check,
  checkTrap,
  instructionSuites,
  lit,
  s64,
  sext32,
  u64,
} from "./test_harness.ts";

const { suite, register } = instructionSuites("rv64i");

/** Operand values that reach every sign and width boundary. */
const VALUES: bigint[] = [
  0n,
  1n,
  -1n,
  0x7fffffffn,
  -0x80000000n,
  0x80000000n,
  0xffffffffn,
  0x7fffffffffffffffn,
  -0x8000000000000000n,
  0x123456789abcdef0n,
];
const IMMEDIATES = [0, 1, -1, 2047, -2048, 0x555, -0x556];
const SHIFTS64 = [0n, 1n, 7n, 31n, 32n, 33n, 63n];
const SHIFTS32 = [0n, 1n, 7n, 15n, 31n];

const signedLess = (a: bigint, b: bigint) => (s64(a) < s64(b) ? 1n : 0n);
const unsignedLess = (a: bigint, b: bigint) => (u64(a) < u64(b) ? 1n : 0n);

type Op = (a: bigint, b: bigint) => bigint;
const RR: Record<string, Op> = {
  add: (a, b) => s64(a + b),
  sub: (a, b) => s64(a - b),
  sll: (a, b) => s64(a << (u64(b) & 63n)),
  slt: signedLess,
  sltu: unsignedLess,
  xor: (a, b) => s64(a ^ b),
  srl: (a, b) => s64(u64(a) >> (u64(b) & 63n)),
  sra: (a, b) => s64(s64(a) >> (u64(b) & 63n)),
  or: (a, b) => s64(a | b),
  and: (a, b) => s64(a & b),
  addw: (a, b) => sext32(a + b),
  subw: (a, b) => sext32(a - b),
  sllw: (a, b) => sext32(a << (u64(b) & 31n)),
  srlw: (a, b) => sext32(BigInt.asUintN(32, a) >> (u64(b) & 31n)),
  sraw: (a, b) => sext32(sext32(a) >> (u64(b) & 31n)),
};
const SHIFT_OPS = new Set(["sll", "srl", "sra", "sllw", "srlw", "sraw"]);

for (const [op, f] of Object.entries(RR)) {
  suite(op, (s) => {
    if (SHIFT_OPS.has(op)) {
      const amounts = op.endsWith("w") ? [...SHIFTS32, 32n, 63n] : SHIFTS64;
      for (const a of VALUES) {
        for (const b of amounts) s.rr(op, a, b, f(a, b));
      }
      // Only the low 5 or 6 bits of rs2 count.
      for (const b of [0xffffffffffffffc1n, 0x40n, 0x20n, 0x1fn, 0xffffffe1n]) {
        s.rr(op, 0x8000000080000001n, b, f(0x8000000080000001n, b));
      }
    } else {
      for (const a of VALUES) {
        for (const b of VALUES) s.rr(op, a, b, f(a, b));
      }
    }
    const a = 0x0123456789abcdefn, b = 0x31n;
    s.rrAliases(op, a, b, f(a, b), f(a, a));
    s.rrZero(op, a, f(0n, a), f(a, 0n), f(0n, 0n));
  });
}

type ImmOp = (a: bigint, imm: number) => bigint;
const RI: Record<string, ImmOp> = {
  addi: (a, i) => s64(a + BigInt(i)),
  slti: (a, i) => signedLess(a, BigInt(i)),
  sltiu: (a, i) => unsignedLess(a, u64(BigInt(i))),
  xori: (a, i) => s64(a ^ BigInt(i)),
  ori: (a, i) => s64(a | BigInt(i)),
  andi: (a, i) => s64(a & BigInt(i)),
  addiw: (a, i) => sext32(a + BigInt(i)),
};
for (const [op, f] of Object.entries(RI)) {
  suite(op, (s) => {
    for (const a of VALUES) {
      for (const imm of IMMEDIATES) s.ri(op, a, imm, f(a, imm));
    }
    const a = 0x00000000fedcba98n;
    s.riAliases(op, a, -3, f(a, -3), f(0n, -3));
    s.riAliases(op, a, 0x7ff, f(a, 0x7ff), f(0n, 0x7ff));
  });
}

const SHIFT_IMM: Record<string, [ImmOp, number]> = {
  slli: [(a, n) => s64(a << BigInt(n)), 63],
  srli: [(a, n) => s64(u64(a) >> BigInt(n)), 63],
  srai: [(a, n) => s64(s64(a) >> BigInt(n)), 63],
  slliw: [(a, n) => sext32(a << BigInt(n)), 31],
  srliw: [(a, n) => sext32(BigInt.asUintN(32, a) >> BigInt(n)), 31],
  sraiw: [(a, n) => sext32(sext32(a) >> BigInt(n)), 31],
};
for (const [op, [f, max]] of Object.entries(SHIFT_IMM)) {
  suite(op, (s) => {
    const amounts = max === 63 ? [0, 1, 7, 31, 32, 33, 62, 63] : [0, 1, 7, 16, 30, 31];
    for (const a of [...VALUES, 0x8000000080000001n, 0x00000000deadbeefn]) {
      for (const n of amounts) s.ri(op, a, n, f(a, n));
    }
    s.riAliases(op, 0xfedcba9876543210n, 5, f(0xfedcba9876543210n, 5), 0n);
  });
}

suite("lui", (s) => {
  for (const imm of [0, 1, 0x7ffff, 0x80000, 0xfffff, 0x12345, 0x800]) {
    s.test(
      `lui ${imm}`,
      `lui x14, ${imm}\n${check("x14", sext32(BigInt(imm) << 12n))}`,
    );
  }
  s.test("lui into x0 leaves x0 = 0", `lui x0, 0x12345\nmv x14, x0\n${check("x14", 0n)}`);
  s.test(
    "lui 0x80000 then addi -1 gives 0xffffffff7fffffff",
    `lui x14, 0x80000\naddi x14, x14, -1\n${check("x14", -0x80000001n)}`,
  );
});

suite("auipc", (s) => {
  for (const imm of [0, 1, 0x7ffff, 0x80000, 0xfffff, 0x12345]) {
    s.test(
      `auipc ${imm}`,
      `1: auipc x14, ${imm}\nla x1, 1b\nli x2, ${lit(sext32(BigInt(imm) << 12n))}\n` +
        `add x7, x1, x2\nbne x14, x7, fail`,
    );
  }
  s.test("auipc into x0 leaves x0 = 0", `auipc x0, 1\nmv x14, x0\n${check("x14", 0n)}`);
});

suite("jal", (s) => {
  s.test(
    "jal forward links the next instruction",
    `li x1, 0\njal x1, 1f\n2: j fail\n1: mv x14, x1\nla x7, 2b\nbne x14, x7, fail`,
  );
  s.test(
    "jal backward links the next instruction",
    `j 2f\n1: mv x14, x1\nla x7, 3f\nbne x14, x7, fail\nj 4f\n2: jal x1, 1b\n3: j fail\n4:`,
  );
  s.test(
    "jal with rd = x0 does not link",
    `li x14, 0\njal x0, 1f\nli x14, 1\n1: mv x14, x0\n${check("x14", 0n)}`,
  );
  s.test(
    "jal with another rd (t5)",
    `jal x30, 1f\n2: j fail\n1: mv x14, x30\nla x7, 2b\nbne x14, x7, fail`,
  );
  s.test(
    "instructions after a taken jal do not run",
    `li x14, 0\njal x1, 1f\naddi x14, x14, 1\naddi x14, x14, 1\n1: addi x14, x14, 3\n${
      check("x14", 3n)
    }`,
  );
  s.test(
    "jal over a long distance (forward 0x800 bytes)",
    `jal x1, 1f\n${"j fail\n".repeat(512)}1: li x14, 7\n${check("x14", 7n)}`,
  );
});

suite("jalr", (s) => {
  s.test(
    "jalr to a register, linking the next instruction",
    `la x2, 1f\njalr x1, 0(x2)\n2: j fail\n1: mv x14, x1\nla x7, 2b\nbne x14, x7, fail`,
  );
  s.test(
    "jalr with a positive offset",
    `la x2, 1f\naddi x2, x2, -8\njalr x1, 8(x2)\nj fail\n1: li x14, 1\n${check("x14", 1n)}`,
  );
  s.test(
    "jalr with a negative offset",
    `la x2, 1f\naddi x2, x2, 16\njalr x1, -16(x2)\nj fail\n1: li x14, 1\n${check("x14", 1n)}`,
  );
  s.test(
    "jalr clears bit 0 of the target",
    `la x2, 1f\naddi x2, x2, 1\njalr x1, 0(x2)\nj fail\n1: li x14, 1\n${check("x14", 1n)}`,
  );
  s.test(
    "jalr with rd = rs1 uses the old rs1",
    `la x1, 1f\njalr x1, 0(x1)\n2: j fail\n1: mv x14, x1\nla x7, 2b\nbne x14, x7, fail`,
  );
  s.test(
    "jalr with rd = x0 does not link (ret)",
    `la x2, 1f\njalr x0, 0(x2)\nj fail\n1: mv x14, x0\n${check("x14", 0n)}`,
  );
  s.test(
    "jalr backward",
    `j 2f\n1: li x14, 5\nj 3f\n2: la x2, 1b\njalr x1, 0(x2)\nj fail\n3: ${check("x14", 5n)}`,
  );
});

const BRANCHES: Record<string, (a: bigint, b: bigint) => boolean> = {
  beq: (a, b) => u64(a) === u64(b),
  bne: (a, b) => u64(a) !== u64(b),
  blt: (a, b) => s64(a) < s64(b),
  bge: (a, b) => s64(a) >= s64(b),
  bltu: (a, b) => u64(a) < u64(b),
  bgeu: (a, b) => u64(a) >= u64(b),
};
const BRANCH_VALUES = [0n, 1n, -1n, 0x7fffffffffffffffn, -0x8000000000000000n, 0xffffffffn, -2n];
for (const [op, f] of Object.entries(BRANCHES)) {
  suite(op, (s) => {
    for (const a of BRANCH_VALUES) {
      for (const b of BRANCH_VALUES) s.branch(op, a, b, f(a, b));
    }
    s.test(
      `${op} falls through to the next instruction when not taken`,
      `li x14, 0\nli x1, 3\nli x2, 3\n${op} x1, x2, 1f\naddi x14, x14, 1\n1: addi x14, x14, 1\n` +
        check("x14", f(3n, 3n) ? 1n : 2n),
    );
  });
}

const LOAD_DATA = `
ld_bytes: .byte 0xff, 0x00, 0xf0, 0x0f, 0x80, 0x7f, 0x01, 0xfe
ld_halves: .half 0x00ff, 0xff00, 0x0ff0, 0xf00f, 0x8000, 0x7fff
ld_words: .word 0x00ff00ff, 0xff00ff00, 0x0ff00ff0, 0xf00ff00f, 0x80000000, 0x7fffffff
ld_dwords: .dword 0x00ff00ff00ff00ff, 0xff00ff00ff00ff00, 0x8000000000000000, 0x7fffffffffffffff
ld_end: .dword 0
`;

const bytes = [0xff, 0x00, 0xf0, 0x0f, 0x80, 0x7f, 0x01, 0xfe].map(BigInt);
const halves = [0x00ff, 0xff00, 0x0ff0, 0xf00f, 0x8000, 0x7fff].map(BigInt);
const words = [0x00ff00ff, 0xff00ff00, 0x0ff00ff0, 0xf00ff00f, 0x80000000, 0x7fffffff].map(BigInt);
const dwords = [0x00ff00ff00ff00ffn, 0xff00ff00ff00ff00n, 0x8000000000000000n, 0x7fffffffffffffffn];
const sx = (bits: number) => (v: bigint) => BigInt.asIntN(bits, v);
const zx = (_bits: number) => (v: bigint) => v;
const LOADS: [string, string, bigint[], number, (v: bigint) => bigint][] = [
  ["lb", "ld_bytes", bytes, 1, sx(8)],
  ["lbu", "ld_bytes", bytes, 1, zx(8)],
  ["lh", "ld_halves", halves, 2, sx(16)],
  ["lhu", "ld_halves", halves, 2, zx(16)],
  ["lw", "ld_words", words, 4, sx(32)],
  ["lwu", "ld_words", words, 4, zx(32)],
  ["ld", "ld_dwords", dwords, 8, sx(64)],
];
for (const [op, label, values, width, ext] of LOADS) {
  suite(op, (s) => {
    s.addData(LOAD_DATA);
    values.forEach((v, i) => s.load(op, label, i * width, ext(v)));
    // Negative offsets from the element past the last.
    const past = values.length * width;
    s.test(
      `${op} with negative offsets`,
      `la x2, ${label}\naddi x2, x2, ${past}\n${op} x14, ${-width}(x2)\n${
        check("x14", ext(values[values.length - 1]))
      }\n${op} x14, ${-past}(x2)\n${check("x14", ext(values[0]))}`,
    );
    s.test(
      `${op} with base = destination`,
      `la x14, ${label}\n${op} x14, ${width}(x14)\n${check("x14", ext(values[1]))}`,
    );
    s.test(
      `${op} into x0 leaves x0 = 0`,
      `la x2, ${label}\n${op} x0, 0(x2)\nmv x14, x0\n${check("x14", 0n)}`,
    );
  });
}

const storeData = (label: string) =>
  `${label}: .dword 0xdeadbeefdeadbeef, 0xdeadbeefdeadbeef, 0xdeadbeefdeadbeef, 0xdeadbeefdeadbeef`;
const STORES: [string, string, number, bigint[]][] = [
  ["sb", "lb", 1, [0xaan, 0x0an, -0x60n, 0x7fn]],
  ["sh", "lh", 2, [0x00aan, -0x5000n, 0x0aa0n, 0x7fffn]],
  ["sw", "lw", 4, [0x00aa00aan, -0x55ff5600n, 0x0aa00aa0n, 0x7fffffffn]],
  ["sd", "ld", 8, [0x00aa00aa00aa00aan, -0x55ff55ff55ff5600n, 0x0aa00aa00aa00aa0n, -1n]],
];
for (const [op, load, width, values] of STORES) {
  suite(op, (s) => {
    const area = `st_area_${op}`;
    s.addData(storeData(area));
    values.forEach((v, i) => s.store(op, load, area, i * width, v, BigInt.asIntN(width * 8, v)));
    s.test(
      `${op} with a negative offset`,
      `la x2, ${area}\naddi x2, x2, 16\nli x1, 0x12\n${op} x1, ${-width}(x2)\n` +
        `${load} x14, ${-width}(x2)\n${check("x14", 0x12n)}`,
    );
    s.test(
      `${op} truncates the register to ${width} bytes`,
      `la x2, ${area}\nli x1, 0x0102030405060708\n${op} x1, 16(x2)\n${load}u x14, 16(x2)\n`.replace(
        "ldu",
        "ld",
      ) + check("x14", BigInt.asUintN(width * 8, 0x0102030405060708n)),
    );
    if (width < 8) {
      // The neighbouring bytes stay as they were.
      const before = 0xdeadbeefdeadbeefn;
      const lowMask = (1n << BigInt(width * 8)) - 1n;
      const shift = BigInt(width * 8);
      const expected = s64((before & ~(lowMask << shift)) | (0x11n << shift));
      s.test(
        `${op} leaves the neighbouring bytes alone`,
        `la x2, ${area}\naddi x2, x2, 24\nli x1, 0x11\n${op} x1, ${width}(x2)\nld x14, 0(x2)\n${
          check("x14", expected)
        }`,
      );
    }
    s.test(
      `${op} from x0 stores zero`,
      `la x2, ${area}\nli x1, -1\nsd x1, 0(x2)\n${op} x0, 0(x2)\n${load}u x14, 0(x2)\n`.replace(
        "ldu",
        "ld",
      ) + check("x14", 0n),
    );
  });
}

suite("misaligned loads and stores", (s) => {
  // The hart performs misaligned RAM accesses (the ISA allows that or a trap); QEMU does too.
  s.addData(".balign 4096\nmis_page: .zero 4096\nmis_next: .zero 4096");
  const pattern = Array.from({ length: 16 }, (_, i) => BigInt((i * 0x11 + 0x80) & 0xff));
  const le = (bytes: bigint[]) => bytes.reduceRight((acc, b) => (acc << 8n) | b, 0n);
  // 16 bytes around the page boundary: mis_next - 8 .. mis_next + 8.
  const fill = `la x2, mis_next\nli x1, ${lit(le(pattern.slice(0, 8)))}\nsd x1, -8(x2)\n` +
    `li x1, ${lit(le(pattern.slice(8)))}\nsd x1, 0(x2)\n`;
  const loads: [string, number, boolean][] = [
    ["lh", 2, true],
    ["lhu", 2, false],
    ["lw", 4, true],
    ["lwu", 4, false],
    ["ld", 8, true],
  ];
  for (const [op, width, signed] of loads) {
    for (const offset of [-7, -5, -3, -1]) {
      const raw = le(pattern.slice(8 + offset, 8 + offset + width));
      const expected = signed ? BigInt.asIntN(width * 8, raw) : raw;
      s.test(
        `${op} at mis_next${offset} (crosses a page: ${offset + width > 0})`,
        `${fill}${op} x14, ${offset}(x2)\n${check("x14", expected)}`,
      );
    }
    s.test(
      `${op} at an odd address inside a page`,
      `${fill}${op} x14, -7(x2)\n${
        check(
          "x14",
          (signed ? (v: bigint) => BigInt.asIntN(width * 8, v) : (v: bigint) => v)(
            le(pattern.slice(1, 1 + width)),
          ),
        )
      }`,
    );
  }
  const stores: [string, number][] = [["sh", 2], ["sw", 4], ["sd", 8]];
  for (const [op, width] of stores) {
    for (const offset of [-3, -1]) {
      const value = 0x0102030405060708n;
      const bytes = [...pattern];
      for (let i = 0; i < width; i++) bytes[8 + offset + i] = (value >> BigInt(8 * i)) & 0xffn;
      s.test(
        `${op} at mis_next${offset}: both pages get their bytes`,
        `${fill}li x1, ${lit(value)}\n${op} x1, ${offset}(x2)\nld x14, -8(x2)\n${
          check("x14", s64(le(bytes.slice(0, 8))))
        }\nld x14, 0(x2)\n${check("x14", s64(le(bytes.slice(8))))}`,
      );
    }
  }
});

suite("fence", (s) => {
  s.addData("fence_area: .dword 0");
  s.test(
    "fence orders nothing visible on one hart and changes no register",
    `li x14, 5\nla x2, fence_area\nsd x14, 0(x2)\nfence\nfence rw, rw\nfence r, w\nld x14, 0(x2)\n${
      check("x14", 5n)
    }`,
  );
});

suite("fence.i", (s) => {
  // addi x14, x0, 42 / addi x14, x0, 43 (the slot below is rewritten between calls).
  s.test(
    "fence.i makes stored instructions visible to fetch",
    `la x2, smc_slot\nli x1, 0x02a00713\nsw x1, 0(x2)\nfence.i\njalr x1, 0(x2)\n${
      check("x14", 42n)
    }\nla x2, smc_slot\nli x1, 0x02b00713\nsw x1, 0(x2)\nfence.i\njalr x1, 0(x2)\n${
      check("x14", 43n)
    }\nj 9f\nsmc_slot: nop\nret\n9:`,
  );
});

suite("ecall", (s) => {
  s.test(
    "ecall in M-mode traps with cause 11 and mepc at the ecall",
    `${ARM_TRAP}\n1: ecall\n${checkTrap(11)}\nla t0, trap_record\nld x14, 16(t0)\nla x7, 1b\n` +
      `bne x14, x7, fail`,
  );
});

suite("ebreak", (s) => {
  s.test(
    "ebreak traps with cause 3 and mepc at the ebreak",
    `${ARM_TRAP}\n1: ebreak\n${checkTrap(3)}\nla t0, trap_record\nld x14, 16(t0)\nla x7, 1b\n` +
      `bne x14, x7, fail`,
  );
});

register();
