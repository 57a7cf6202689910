/**
 * Per-instruction tests of Zicsr (and the Zicntr counters as seen from M-mode): every CSR
 * instruction in register and immediate form, the read-without-write rules (rs1 = x0, zimm = 0),
 * zero-extended 5-bit immediates, rd = rs1 aliasing, x0 as destination, the pseudo-instructions,
 * read-only and missing CSRs (illegal instruction), mhartid, misa, and the counters.
 */

import { ARM_TRAP, check, checkTrap, instructionSuites, lit, s64 } from "./test_harness.ts";

const { suite, register } = instructionSuites("zicsr");

const INITIAL = [0n, -1n, 0x8000000000000001n, 0x0123456789abcdefn, 0x00000000ffffffffn];
const OPERANDS = [0n, -1n, 0xf0f0f0f0f0f0f0f0n, 1n, 0x8000000000000000n];

type CsrOp = (old: bigint, v: bigint) => bigint;
const REG_OPS: Record<string, CsrOp> = {
  csrrw: (_o, v) => v,
  csrrs: (o, v) => o | v,
  csrrc: (o, v) => o & ~v,
};

for (const [op, f] of Object.entries(REG_OPS)) {
  suite(op, (s) => {
    for (const old of INITIAL) {
      for (const v of OPERANDS) {
        s.test(
          `${op} mscratch=${lit(old)}, rs1=${lit(v)}`,
          `li x1, ${lit(old)}\ncsrw mscratch, x1\nli x2, ${lit(v)}\n${op} x14, mscratch, x2\n` +
            `${check("x14", s64(old))}\ncsrr x14, mscratch\n${check("x14", s64(f(old, v)))}`,
        );
      }
    }
    s.test(
      `${op} with rd = rs1 reads the old CSR and writes the old rs1`,
      `li x1, 0x55\ncsrw mscratch, x1\nli x14, 0x0f\n${op} x14, mscratch, x14\n${
        check("x14", 0x55n)
      }\n` +
        `csrr x14, mscratch\n${check("x14", f(0x55n, 0x0fn))}`,
    );
    s.test(
      `${op} with rd = x0 still writes, x0 stays 0`,
      `li x1, 0x33\ncsrw mscratch, x1\nli x2, 0x0c\n${op} x0, mscratch, x2\nmv x14, x0\n` +
        `${check("x14", 0n)}\ncsrr x14, mscratch\n${check("x14", f(0x33n, 0x0cn))}`,
    );
    if (op !== "csrrw") {
      s.test(
        `${op} with rs1 = x0 reads without writing (allowed on a read-only CSR)`,
        `li x1, 0x77\ncsrw mscratch, x1\n${op} x14, mscratch, x0\n${check("x14", 0x77n)}\n` +
          `csrr x14, mscratch\n${check("x14", 0x77n)}\n${op} x14, mhartid, x0\n${check("x14", 0n)}`,
      );
    }
  });
}

const IMM_OPS: Record<string, CsrOp> = {
  csrrwi: (_o, v) => v,
  csrrsi: (o, v) => o | v,
  csrrci: (o, v) => o & ~v,
};
for (const [op, f] of Object.entries(IMM_OPS)) {
  suite(op, (s) => {
    for (const old of INITIAL) {
      for (const zimm of [0, 1, 0x10, 0x1f, 0x15]) {
        s.test(
          `${op} mscratch=${lit(old)}, zimm=${zimm} (zero-extended)`,
          `li x1, ${lit(old)}\ncsrw mscratch, x1\n${op} x14, mscratch, ${zimm}\n${
            check("x14", s64(old))
          }\n` +
            `csrr x14, mscratch\n${check("x14", s64(f(old, BigInt(zimm))))}`,
        );
      }
    }
    s.test(
      `${op} with rd = x0`,
      `li x1, 0x40\ncsrw mscratch, x1\n${op} x0, mscratch, 3\nmv x14, x0\n${check("x14", 0n)}\n` +
        `csrr x14, mscratch\n${check("x14", f(0x40n, 3n))}`,
    );
    if (op !== "csrrwi") {
      s.test(
        `${op} with zimm = 0 does not write (allowed on a read-only CSR)`,
        `${op} x14, mhartid, 0\n${check("x14", 0n)}`,
      );
    }
  });
}

suite("csr pseudo-instructions", (s) => {
  s.test(
    "csrw / csrr",
    `li x1, 0x1234\ncsrw mscratch, x1\ncsrr x14, mscratch\n${check("x14", 0x1234n)}`,
  );
  s.test(
    "csrs / csrc",
    `csrw mscratch, x0\nli x1, 0xff\ncsrs mscratch, x1\nli x1, 0x0f\ncsrc mscratch, x1\n` +
      `csrr x14, mscratch\n${check("x14", 0xf0n)}`,
  );
  s.test(
    "csrwi / csrsi / csrci",
    `csrwi mscratch, 0x10\ncsrsi mscratch, 0x3\ncsrci mscratch, 0x1\ncsrr x14, mscratch\n${
      check("x14", 0x12n)
    }`,
  );
  s.test(
    "csrrw by number (0x340 is mscratch)",
    `li x1, 0x99\ncsrw 0x340, x1\ncsrr x14, mscratch\n${check("x14", 0x99n)}`,
  );
});

suite("machine information CSRs", (s) => {
  s.test("mhartid is 0 on hart 0", `csrr x14, mhartid\n${check("x14", 0n)}`);
  s.test(
    "misa says RV64 (MXL = 2)",
    `csrr x1, misa\nsrli x14, x1, 62\n${check("x14", 2n)}`,
  );
  for (
    const [letter, bit] of [["I", 8], ["M", 12], ["A", 0], ["C", 2], ["S", 18], ["U", 20]] as const
  ) {
    s.test(
      `misa has ${letter}`,
      `csrr x1, misa\nsrli x14, x1, ${bit}\nandi x14, x14, 1\n${check("x14", 1n)}`,
    );
  }
  s.test(
    "writing mhartid (read-only) raises illegal instruction",
    `li x1, 5\n${ARM_TRAP}\ncsrw mhartid, x1\n${checkTrap(2)}`,
  );
  s.test(
    "csrrs with a non-zero rs1 on mhartid raises illegal instruction",
    `li x1, 1\n${ARM_TRAP}\ncsrrs x14, mhartid, x1\n${checkTrap(2)}`,
  );
  s.test(
    "csrrwi on mvendorid (read-only) raises illegal instruction even with zimm = 0",
    `${ARM_TRAP}\ncsrrwi x14, mvendorid, 0\n${checkTrap(2)}`,
  );
  s.test(
    "a CSR that does not exist (0x7ff) raises illegal instruction",
    `${ARM_TRAP}\ncsrr x14, 0x7ff\n${checkTrap(2)}`,
  );
});

suite("counters", (s) => {
  s.test(
    "instret counts retired instructions (two reads around a nop differ by 2)",
    `csrr x1, instret\nnop\ncsrr x2, instret\nsub x14, x2, x1\n${check("x14", 2n)}`,
    "QEMU without -icount derives instret from host ticks",
  );
  s.test(
    "minstret is instret",
    `csrr x1, minstret\ncsrr x2, instret\nsub x14, x2, x1\n${check("x14", 1n)}`,
    "QEMU without -icount derives instret from host ticks",
  );
  s.test(
    "cycle and mcycle advance",
    `csrr x1, mcycle\nnop\nnop\ncsrr x2, cycle\nsltu x14, x1, x2\n${check("x14", 1n)}`,
  );
  s.test(
    "time reads without trapping and never goes backwards",
    `rdtime x1\nnop\nrdtime x2\nsltu x14, x2, x1\n${check("x14", 0n)}`,
    "QEMU's spike machine gives the time CSR no source: rdtime traps there",
  );
  s.test(
    "minstret is writable",
    `li x1, 1000\ncsrw minstret, x1\ncsrr x2, minstret\nsub x14, x2, x1\nsltiu x14, x14, 3\n${
      check("x14", 1n)
    }`,
    "QEMU without -icount derives instret from host ticks",
  );
});

register();
