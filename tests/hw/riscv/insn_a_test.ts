/**
 * Per-instruction tests of the A extension: LR/SC success and failure paths (SC without a
 * reservation, after an intervening SC, to another address) and every AMO in W and D forms with
 * the old value sign-extended into rd, the word form leaving the upper half of the doubleword
 * alone, aq/rl orderings, rd = x0, and misaligned addresses (which trap).
 */

import assert from "node:assert/strict";
import { Bus } from "../../../lib/hw/bus.ts";
import { SparseMemory } from "../../../lib/hw/memory.ts";
import { assemble } from "../../../lib/hw/riscv/assembler.ts";
import { Hart } from "../../../lib/hw/riscv/hart.ts";
import {
  ARM_TRAP,
  check,
  checkTrap,
  instructionSuites,
  lit,
  s64,
  sext32,
  Suite,
  u64,
} from "./test_harness.ts";

const u32 = (v: bigint) => BigInt.asUintN(32, v);
type Amo = (old: bigint, v: bigint) => bigint;

/** AMO operations on the unsigned memory value of the given width. */
function amoOps(bits: 32 | 64): Record<string, Amo> {
  const sx = (v: bigint) => BigInt.asIntN(bits, v);
  const zx = (v: bigint) => BigInt.asUintN(bits, v);
  return {
    amoswap: (_o, v) => zx(v),
    amoadd: (o, v) => zx(o + v),
    amoxor: (o, v) => zx(o ^ v),
    amoand: (o, v) => zx(o & v),
    amoor: (o, v) => zx(o | v),
    amomin: (o, v) => zx(sx(o) < sx(v) ? o : v),
    amomax: (o, v) => zx(sx(o) > sx(v) ? o : v),
    amominu: (o, v) => (zx(o) < zx(v) ? zx(o) : zx(v)),
    amomaxu: (o, v) => (zx(o) > zx(v) ? zx(o) : zx(v)),
  };
}

const PAIRS: [bigint, bigint][] = [
  [0n, 0n],
  [1n, 2n],
  [-1n, 1n],
  [0x7fffffffn, 1n],
  [0x80000000n, 0x7fffffffn],
  [0xffffffff80000000n, 0x0000000080000000n],
  [0x7fffffffffffffffn, -0x8000000000000000n],
  [-0x8000000000000000n, 0x7fffffffffffffffn],
  [0x123456789abcdef0n, 0x0fedcba987654321n],
  [0xdeadbeef00000005n, -3n],
  [5n, 0xcafe0000fffffffdn],
];

/** QEMU 7.2 reports a misaligned AMO/SC as a load fault (cause 4); the ISA says cause 6. */
const QEMU_AMO_CAUSE = "QEMU 7.2 reports misaligned AMOs and SCs with cause 4 instead of 6";

const { suites, register } = instructionSuites("a");
let areaCount = 0;
const area = (s: Suite) => {
  const label = `amo_area_${areaCount++}`;
  s.addData(`.balign 8\n${label}: .dword 0, 0`);
  return label;
};

for (const bits of [32, 64] as const) {
  const suffix = bits === 32 ? "w" : "d";
  for (const [name, f] of Object.entries(amoOps(bits))) {
    const op = `${name}.${suffix}`;
    const s = new Suite(op);
    const mem = area(s);
    for (const [m, v] of PAIRS) {
      // Memory holds a full doubleword; the W form works on its low word only.
      const oldValue = bits === 32 ? u32(m) : u64(m);
      const newValue = f(oldValue, u64(v));
      const rd = bits === 32 ? sext32(oldValue) : s64(oldValue);
      const stored = bits === 32 ? s64((u64(m) & ~0xffffffffn) | newValue) : s64(newValue);
      s.test(
        `${op} memory ${lit(m)}, rs2 ${lit(v)}: rd ${lit(rd)}, memory ${lit(stored)}`,
        `la x2, ${mem}\nli x1, ${lit(m)}\nsd x1, 0(x2)\nli x1, ${lit(v)}\n${op} x14, x1, (x2)\n` +
          `${check("x14", rd)}\nld x14, 0(x2)\n${check("x14", stored)}\n` +
          `li x14, 0\nmv x14, x1\n${check("x14", s64(v))}`,
      );
    }
    // rd = x0: memory updated, x0 stays zero.
    const [m, v] = PAIRS[8];
    const oldValue = bits === 32 ? u32(m) : u64(m);
    const stored = bits === 32
      ? s64((u64(m) & ~0xffffffffn) | f(oldValue, u64(v)))
      : s64(f(oldValue, u64(v)));
    s.test(
      `${op} with rd = x0 still updates memory`,
      `la x2, ${mem}\nli x1, ${lit(m)}\nsd x1, 0(x2)\nli x1, ${lit(v)}\n${op} x0, x1, (x2)\n` +
        `mv x14, x0\n${check("x14", 0n)}\nld x14, 0(x2)\n${check("x14", stored)}`,
    );
    // rd = rs2: the old memory value lands in rd, memory gets the old rs2.
    s.test(
      `${op} with rd = rs2`,
      `la x2, ${mem}\nli x1, ${lit(m)}\nsd x1, 0(x2)\nli x14, ${lit(v)}\n${op} x14, x14, (x2)\n` +
        `${check("x14", bits === 32 ? sext32(oldValue) : s64(oldValue))}\nld x14, 0(x2)\n${
          check("x14", stored)
        }`,
    );
    for (const order of ["aq", "rl", "aqrl"]) {
      s.test(
        `${op}.${order} behaves as ${op}`,
        `la x2, ${mem}\nli x1, 7\nsd x1, 0(x2)\nli x1, 3\n${op}.${order} x14, x1, (x2)\n${
          check("x14", 7n)
        }\nld x14, 0(x2)\n${check("x14", s64(f(7n, 3n)))}`,
      );
    }
    s.test(
      `${op} at a misaligned address raises a store/AMO address-misaligned exception`,
      `la x2, ${mem}\naddi x2, x2, 2\nli x1, 1\n${ARM_TRAP}\n${op} x14, x1, (x2)\n${checkTrap(6)}`,
      QEMU_AMO_CAUSE,
    );
    suites.push(s);
  }

  // LR/SC.
  const lr = `lr.${suffix}`, sc = `sc.${suffix}`;
  const s = new Suite(`${lr}/${sc}`);
  const mem = area(s);
  const other = area(s);
  const value = bits === 32 ? 0x80000001n : 0x8000000000000001n;
  const loaded = bits === 32 ? sext32(value) : s64(value);
  // Any SC, failing or not, drops this hart's reservation.
  const clearReservation = () => `la x4, ${other}\n${sc} x0, x0, (x4)`;
  s.test(
    `${lr} loads and sign-extends`,
    `la x2, ${mem}\nli x1, ${lit(value)}\nsd x1, 0(x2)\n${lr} x14, (x2)\n${check("x14", loaded)}`,
  );
  s.test(
    `${sc} after ${lr} succeeds (rd = 0) and stores`,
    `${clearReservation()}\nla x2, ${mem}\nsd x0, 0(x2)\n${lr} x1, (x2)\nli x1, 0x55\n` +
      `${sc} x14, x1, (x2)\n${check("x14", 0n)}\nld x14, 0(x2)\n${check("x14", 0x55n)}`,
  );
  s.test(
    `${sc} without a reservation fails (rd != 0) and stores nothing`,
    `${clearReservation()}\nla x2, ${mem}\nsd x0, 0(x2)\nli x1, 0x66\n${sc} x14, x1, (x2)\n` +
      `beqz x14, fail\nld x14, 0(x2)\n${check("x14", 0n)}`,
  );
  s.test(
    `a second ${sc} after a successful one fails (the first consumed the reservation)`,
    `${clearReservation()}\nla x2, ${mem}\nsd x0, 0(x2)\n${lr} x1, (x2)\nli x1, 1\n` +
      `${sc} x14, x1, (x2)\n${check("x14", 0n)}\nli x1, 2\n${sc} x14, x1, (x2)\nbeqz x14, fail\n` +
      `ld x14, 0(x2)\n${check("x14", 1n)}`,
  );
  s.test(
    `${sc} fails after an intervening ${sc} to another address`,
    `${clearReservation()}\nla x2, ${mem}\nsd x0, 0(x2)\nla x4, ${other}\n${lr} x1, (x2)\n` +
      `li x1, 9\n${sc} x14, x1, (x4)\nbeqz x14, fail\n${sc} x14, x1, (x2)\nbeqz x14, fail\n` +
      `ld x14, 0(x2)\n${check("x14", 0n)}`,
  );
  s.test(
    `${sc} to an address other than the reserved one fails`,
    `${clearReservation()}\nla x2, ${mem}\nla x4, ${other}\nsd x0, 0(x4)\n${lr} x1, (x2)\n` +
      `li x1, 9\n${sc} x14, x1, (x4)\nbeqz x14, fail\nld x14, 0(x4)\n${check("x14", 0n)}`,
  );
  s.test(
    `${lr}/${sc} retry loop implements an atomic increment`,
    `${clearReservation()}\nla x2, ${mem}\nli x1, 41\nsd x1, 0(x2)\n1: ${lr} x1, (x2)\n` +
      `addi x1, x1, 1\n${sc} x5, x1, (x2)\nbnez x5, 1b\nld x14, 0(x2)\n${check("x14", 42n)}`,
  );
  s.test(
    `${sc} with rd = x0 stores and leaves x0 = 0`,
    `${clearReservation()}\nla x2, ${mem}\n${lr} x1, (x2)\nli x1, 0x77\n${sc} x0, x1, (x2)\n` +
      `mv x14, x0\n${check("x14", 0n)}\nld x14, 0(x2)\n${check("x14", 0x77n)}`,
  );
  s.test(
    `${lr}.aq / ${sc}.rl / .aqrl forms`,
    `${clearReservation()}\nla x2, ${mem}\n${lr}.aq x1, (x2)\nli x1, 0x11\n${sc}.rl x14, x1, (x2)\n` +
      `${check("x14", 0n)}\n${lr}.aqrl x1, (x2)\n${sc}.aqrl x14, x1, (x2)\n${check("x14", 0n)}`,
  );
  s.test(
    `${lr} at a misaligned address raises a load address-misaligned exception`,
    `la x2, ${mem}\naddi x2, x2, 1\n${ARM_TRAP}\n${lr} x14, (x2)\n${checkTrap(4)}`,
  );
  s.test(
    `${sc} at a misaligned address raises a store/AMO address-misaligned exception`,
    `la x2, ${mem}\naddi x2, x2, 2\n${ARM_TRAP}\n${sc} x14, x1, (x2)\n${checkTrap(6)}`,
    QEMU_AMO_CAUSE,
  );
  suites.push(s);
}

register();

/** Two harts on one bus: hart 0 runs `code0`, hart 1 `code1`; a0 = the shared word. */
function twoHarts(code0: string, code1: string) {
  const memory = new SparseMemory(0x10000);
  const bus = new Bus();
  bus.mapRam(0x8000_0000, memory.size, memory);
  const program = assemble(
    `.text\nh0:\n${code0}\n1: j 1b\n.balign 64\nh1:\n${code1}\n2: j 2b\n` +
      `.data\n.balign 8\nword: .dword 5`,
  );
  bus.writeBytes(program.origin, program.image);
  const at = (name: string) => program.symbols.get(name)!;
  const harts = [0, 1].map((hartId) => new Hart({ bus, hartId }));
  harts.forEach((h, i) => {
    h.reset(at(i === 0 ? "h0" : "h1"), 3);
    h.setX(10, BigInt(at("word")));
  });
  return { harts, word: () => bus.read64(at("word")) };
}

Deno.test("a: sc.w fails when another hart stored to the reserved word between lr.w and sc.w", () => {
  const { harts: [h0, h1], word } = twoHarts(
    "lr.w t0, (a0)\nli t2, 77\nsc.w t1, t2, (a0)",
    "li t3, 99\nsw t3, 0(a0)",
  );
  h0.run(2); // lr.w, li
  h1.run(2); // the other hart's store
  h0.run(1); // sc.w
  assert.equal(h0.getX(5), 5n, "lr.w read the old value");
  assert.notEqual(h0.getX(6), 0n, "sc.w reports failure");
  assert.equal(word(), 99n, "the other hart's value stays");
});

Deno.test("a: sc.d succeeds when nothing intervenes between lr.d and sc.d", () => {
  const { harts: [h0], word } = twoHarts("lr.d t0, (a0)\nli t2, 77\nsc.d t1, t2, (a0)", "nop");
  h0.run(3);
  assert.equal(h0.getX(6), 0n);
  assert.equal(word(), 77n);
});

Deno.test("a: an AMO from another hart between lr.d and sc.d makes sc.d fail", () => {
  const { harts: [h0, h1], word } = twoHarts(
    "lr.d t0, (a0)\nli t2, 1\nsc.d t1, t2, (a0)",
    "li t3, 10\namoadd.d x0, t3, (a0)",
  );
  h0.run(2);
  h1.run(2);
  h0.run(1);
  assert.notEqual(h0.getX(6), 0n);
  assert.equal(word(), 15n);
});
