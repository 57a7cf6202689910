/**
 * Per-instruction tests of the C extension (RV64C, integer): every compressed form with its
 * immediate ranges and sign extension, the 3-bit register forms (x8..x15), stack-pointer relative
 * loads and stores, compressed jumps and branches forward and backward with the right link
 * address (pc + 2), c.ebreak, and 32-bit instructions fetched from 2-byte-aligned addresses.
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

const { suite, register } = instructionSuites("c", { compressed: true });

const VALUES = [
  0n,
  1n,
  -1n,
  0x7fffffffn,
  -0x80000000n,
  0xffffffffn,
  0x7fffffffffffffffn,
  -0x8000000000000000n,
  0x123456789abcdef0n,
];

const SP_SETUP = (label: string) => `la sp, ${label}`;

suite("c.addi4spn", (s) => {
  s.addData(".balign 16\nc_spn_area: .zero 16");
  for (const imm of [4, 8, 16, 252, 512, 1020]) {
    s.test(
      `c.addi4spn a4, sp, ${imm}`,
      `${SP_SETUP("c_spn_area")}\nc.addi4spn a4, sp, ${imm}\nsub x14, a4, sp\n${
        check("x14", BigInt(imm))
      }`,
    );
  }
  s.test(
    "c.addi4spn into s0 (x8) and a5 (x15)",
    `${SP_SETUP("c_spn_area")}\nc.addi4spn s0, sp, 32\nc.addi4spn a5, sp, 64\nsub x14, a5, s0\n${
      check("x14", 32n)
    }`,
  );
});

const MEM_DATA = `.balign 8
c_mem: .dword 0x80000000fffffffe, 0x7fffffff00000001, 0x0123456789abcdef, 0
c_mem_end: .zero 256
`;

suite("c.lw/c.ld/c.sw/c.sd", (s) => {
  s.addData(MEM_DATA);
  s.test("c.lw sign-extends", `la a0, c_mem\nc.lw a4, 0(a0)\n${check("x14", sext32(0xfffffffen))}`);
  s.test("c.lw at offset 4", `la a0, c_mem\nc.lw a4, 4(a0)\n${check("x14", sext32(0x80000000n))}`);
  s.test("c.lw at offset 8", `la a0, c_mem\nc.lw a4, 8(a0)\n${check("x14", 1n)}`);
  s.test(
    "c.ld at offset 0",
    `la a0, c_mem\nc.ld a4, 0(a0)\n${check("x14", s64(0x80000000fffffffen))}`,
  );
  s.test(
    "c.ld at offset 16",
    `la s1, c_mem\nc.ld a4, 16(s1)\n${check("x14", 0x0123456789abcdefn)}`,
  );
  s.test(
    "c.sw then c.lw at the largest offset (124)",
    `la a0, c_mem_end\nli a1, 0x8badf00d\nc.sw a1, 124(a0)\nc.lw a4, 124(a0)\n${
      check("x14", sext32(0x8badf00dn))
    }`,
  );
  s.test(
    "c.sd then c.ld at the largest offset (248)",
    `la a0, c_mem_end\nli a1, 0xfeedfacecafebeef\nc.sd a1, 248(a0)\nc.ld a4, 248(a0)\n${
      check("x14", s64(0xfeedfacecafebeefn))
    }`,
  );
  s.test(
    "c.sw stores only 4 bytes",
    `la a0, c_mem_end\nli a1, -1\nsd a1, 8(a0)\nli a1, 0x11223344\nc.sw a1, 8(a0)\nld a4, 8(a0)\n${
      check("x14", s64(0xffffffff11223344n))
    }`,
  );
  s.test(
    "c.ld with base = destination",
    `la a4, c_mem\nc.ld a4, 8(a4)\n${check("x14", 0x7fffffff00000001n)}`,
  );
});

suite("c.lwsp/c.ldsp/c.swsp/c.sdsp", (s) => {
  s.addData(".balign 16\nc_stack: .zero 512");
  s.test(
    "c.swsp then c.lwsp (sign-extends)",
    `${SP_SETUP("c_stack")}\nli a1, 0x80000001\nc.swsp a1, 12(sp)\nc.lwsp a4, 12(sp)\n${
      check("x14", sext32(0x80000001n))
    }`,
  );
  s.test(
    "c.swsp/c.lwsp at the largest offset (252) with x31",
    `${SP_SETUP("c_stack")}\nli t6, 0x7ffffff0\nc.swsp t6, 252(sp)\nc.lwsp x14, 252(sp)\n${
      check("x14", 0x7ffffff0n)
    }`,
  );
  s.test(
    "c.sdsp then c.ldsp",
    `${SP_SETUP("c_stack")}\nli a1, 0x8000000000000001\nc.sdsp a1, 8(sp)\nc.ldsp a4, 8(sp)\n${
      check("x14", s64(0x8000000000000001n))
    }`,
  );
  s.test(
    "c.sdsp/c.ldsp at the largest offset (504) with ra",
    `${SP_SETUP("c_stack")}\nli ra, 0x0123456789abcdef\nc.sdsp ra, 504(sp)\nc.ldsp x14, 504(sp)\n${
      check("x14", 0x0123456789abcdefn)
    }`,
  );
  s.test(
    "c.ldsp reads what sd wrote at offset 0",
    `${SP_SETUP("c_stack")}\nli a1, 42\nsd a1, 0(sp)\nc.ldsp a4, 0(sp)\n${check("x14", 42n)}`,
  );
});

suite("c.li/c.lui/c.addi/c.addiw/c.addi16sp/c.nop", (s) => {
  s.addData(".balign 16\nc_sp_area: .zero 1024");
  for (const imm of [0, 1, -1, 31, -32]) {
    s.test(`c.li a4, ${imm}`, `li a4, 0x5555\nc.li a4, ${imm}\n${check("x14", BigInt(imm))}`);
  }
  for (const imm of [1, 31, 0xfffe0, 0xfffff]) {
    s.test(
      `c.lui a4, ${lit(BigInt(imm))}`,
      `c.lui a4, ${imm}\n${check("x14", sext32(BigInt(imm) << 12n))}`,
    );
  }
  for (
    const [a, imm] of [[0n, 1], [1n, -1], [-1n, -32], [0x7fffffffffffffffn, 1], [5n, 31]] as const
  ) {
    s.test(
      `c.addi ${lit(a)}, ${imm}`,
      `li a4, ${lit(a)}\nc.addi a4, ${imm}\n${check("x14", s64(a + BigInt(imm)))}`,
    );
  }
  for (
    const [a, imm] of [[0x7fffffffn, 1], [0xffffffffn, 0], [0x123456780000000fn, -16], [
      -1n,
      31,
    ]] as const
  ) {
    s.test(
      `c.addiw ${lit(a)}, ${imm}`,
      `li a4, ${lit(a)}\nc.addiw a4, ${imm}\n${check("x14", sext32(a + BigInt(imm)))}`,
    );
  }
  for (const imm of [16, -16, 496, -512]) {
    s.test(
      `c.addi16sp sp, ${imm}`,
      `la sp, c_sp_area\naddi sp, sp, 512\nmv a1, sp\nc.addi16sp sp, ${imm}\nsub x14, sp, a1\n${
        check("x14", BigInt(imm))
      }`,
    );
  }
  s.test(
    "c.nop changes nothing",
    `li a4, 9\nc.nop\nc.nop\n${check("x14", 9n)}`,
  );
});

const SHIFTS: Record<string, (a: bigint, n: bigint) => bigint> = {
  "c.slli": (a, n) => s64(a << n),
  "c.srli": (a, n) => s64(u64(a) >> n),
  "c.srai": (a, n) => s64(s64(a) >> n),
};
for (const [op, f] of Object.entries(SHIFTS)) {
  suite(op, (s) => {
    for (const a of VALUES) {
      for (const n of [1n, 31n, 32n, 63n]) {
        s.test(
          `${op} ${lit(a)}, ${n}`,
          `li a4, ${lit(a)}\n${op} a4, ${n}\n${check("x14", f(a, n))}`,
        );
      }
    }
    if (op === "c.slli") {
      s.test(
        "c.slli on a non-x8..x15 register (t6)",
        `li t6, 3\nc.slli t6, 4\n${check("t6", 48n)}`,
      );
    }
  });
}

suite("c.andi", (s) => {
  for (const a of VALUES) {
    for (const imm of [0, -1, 31, -32, 0xf]) {
      s.test(
        `c.andi ${lit(a)}, ${imm}`,
        `li a4, ${lit(a)}\nc.andi a4, ${imm}\n${check("x14", s64(a & BigInt(imm)))}`,
      );
    }
  }
});

const CA: Record<string, (a: bigint, b: bigint) => bigint> = {
  "c.sub": (a, b) => s64(a - b),
  "c.xor": (a, b) => s64(a ^ b),
  "c.or": (a, b) => s64(a | b),
  "c.and": (a, b) => s64(a & b),
  "c.subw": (a, b) => sext32(a - b),
  "c.addw": (a, b) => sext32(a + b),
};
for (const [op, f] of Object.entries(CA)) {
  suite(op, (s) => {
    for (const a of VALUES) {
      for (const b of VALUES) {
        s.test(
          `${op} ${lit(a)}, ${lit(b)}`,
          `li a4, ${lit(a)}\nli a5, ${lit(b)}\n${op} a4, a5\n${check("x14", f(a, b))}`,
        );
      }
    }
    s.test(
      `${op} with rd = rs2`,
      `li s0, 0x1234\n${op} s0, s0\n${check("s0", f(0x1234n, 0x1234n))}`,
    );
  });
}

suite("c.mv/c.add", (s) => {
  for (
    const [a, b] of [[1n, 2n], [-1n, 1n], [0x7fffffffffffffffn, 1n], [0x80000000n, 0x80000000n]]
  ) {
    s.test(
      `c.add ${lit(a)}, ${lit(b)}`,
      `li a4, ${lit(a)}\nli t5, ${lit(b)}\nc.add a4, t5\n${check("x14", s64(a + b))}`,
    );
    s.test(
      `c.mv ${lit(b)}`,
      `li a4, ${lit(a)}\nli t5, ${lit(b)}\nc.mv a4, t5\n${check("x14", s64(b))}`,
    );
  }
  s.test("c.add into sp", `li sp, 0x1000\nli t5, 0x20\nc.add sp, t5\n${check("sp", 0x1020n)}`);
  s.test("c.mv of the full 64 bits", `li ra, -2\nc.mv x14, ra\n${check("x14", -2n)}`);
});

suite("c.j/c.beqz/c.bnez", (s) => {
  s.test("c.j forward", `li a4, 0\nc.j 1f\nli a4, 1\n1: ${check("x14", 0n)}`);
  s.test(
    "c.j backward",
    `li a4, 0\nc.j 2f\n1: addi a4, a4, 1\nc.j 3f\n2: c.j 1b\n3: ${check("x14", 1n)}`,
  );
  for (
    const [op, taken] of [["c.beqz", [0n]], ["c.bnez", [1n, -1n, 0x8000000000000000n]]] as const
  ) {
    for (const v of taken) {
      s.test(
        `${op} taken forward and backward (${lit(v)})`,
        `li a0, ${
          lit(v)
        }\nli a4, 0\n${op} a0, 2f\nj fail\n1: addi a4, a4, 1\nj 3f\n2: ${op} a0, 1b\n` +
          `j fail\n3: ${check("x14", 1n)}`,
      );
    }
    const notTaken = op === "c.beqz" ? [1n, -1n, 0x100000000n] : [0n];
    for (const v of notTaken) {
      s.test(
        `${op} not taken (${lit(v)})`,
        `li a0, ${lit(v)}\n${op} a0, 1f\nj 2f\n1: j fail\n2: ${op} a0, 1b\nli a4, 0\n${
          check("x14", 0n)
        }`,
      );
    }
  }
});

suite("c.jr/c.jalr", (s) => {
  s.test("c.jr jumps to rs1", `la a1, 1f\nc.jr a1\nj fail\n1: li a4, 3\n${check("x14", 3n)}`);
  s.test(
    "c.jalr links pc + 2",
    `la a1, 2f\n1: c.jalr a1\nj fail\n2: mv x14, ra\nla x7, 1b\naddi x7, x7, 2\nbne x14, x7, fail`,
  );
  s.test(
    "c.jalr with rs1 = ra uses the old ra",
    `la ra, 2f\n1: c.jalr ra\nj fail\n2: mv x14, ra\nla x7, 1b\naddi x7, x7, 2\nbne x14, x7, fail`,
  );
  s.test(
    "c.jr backward",
    `j 2f\n1: li a4, 4\nj 3f\n2: la a1, 1b\nc.jr a1\nj fail\n3: ${check("x14", 4n)}`,
  );
  s.test(
    "32-bit instructions at both alignments (around c.nop)",
    `c.nop\nli a4, 0x12345678\naddi a4, a4, 1\nc.nop\naddi a4, a4, 1\n${check("x14", 0x1234567an)}`,
  );
  s.test(
    "jalr to targets at both alignments",
    `la a1, 1f\njalr ra, 0(a1)\nj fail\n1: c.nop\nla a1, 2f\njalr ra, 0(a1)\nj fail\n2: li a4, 1\n${
      check("x14", 1n)
    }`,
  );
});

suite("c.ebreak", (s) => {
  s.test(
    "c.ebreak traps with cause 3 and mepc at the c.ebreak",
    `${ARM_TRAP}\n1: c.ebreak\n${checkTrap(3)}\nla t0, trap_record\nld x14, 16(t0)\nla x7, 1b\n` +
      `bne x14, x7, fail`,
  );
});

register();
