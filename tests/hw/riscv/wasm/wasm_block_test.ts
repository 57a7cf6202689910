/**
 * The wasm tier (wasm_block.ts) against the interpreter: every RV64I/M integer op, with edge and
 * random operands, immediates and register choices (rd = a source, x0 as destination or source),
 * runs one instruction in a translated region and on a hart with `jit: false`; registers, pc and
 * the data page must agree. Also: a TLB miss exits before the access, a budget exit, a loop that
 * stays inside the function, region shapes, and random programs with loops run to their end.
 */
import assert from "node:assert/strict";
import { Bus } from "../../../../lib/hw/bus.ts";
import { SparseMemory } from "../../../../lib/hw/memory.ts";
import { assemble } from "../../../../lib/hw/riscv/assembler.ts";
import { Hart } from "../../../../lib/hw/riscv/hart.ts";
import { Op } from "../../../../lib/hw/riscv/op.ts";
import { BlockExit } from "../../../../lib/hw/riscv/hart_stats.ts";
import {
  compileRegions,
  discoverRegion,
  type Region,
  type RegionFn,
} from "../../../../lib/hw/riscv/wasm/wasm_block.ts";
import { MAX_HARTS, RAM_OFFSET, WasmSpace } from "../../../../lib/hw/riscv/wasm/wasm_space.ts";

const RAM_BASE = 0x8000_0000;
const RAM_BYTES = 1 << 20;
/** The data page that loads read and stores write. */
const DATA = RAM_BASE + 0x40000;

const EDGE: readonly bigint[] = [
  0n,
  1n,
  -1n,
  2n,
  31n,
  32n,
  63n,
  0x7fff_ffffn,
  0x8000_0000n,
  -0x8000_0000n,
  0xffff_ffffn,
  0x1_0000_0000n,
  0x7fff_ffff_ffff_ffffn,
  -0x8000_0000_0000_0000n,
  0x1234_5678_9abc_def0n,
  -0x1234_5679n,
];

/** Seeded random 64-bit values (xorshift). */
function randoms(count: number): bigint[] {
  let x = 0x9e37_79b9_7f4a_7c15n;
  const out: bigint[] = [];
  for (let i = 0; i < count; i++) {
    x ^= BigInt.asUintN(64, x << 13n);
    x ^= x >> 7n;
    x ^= BigInt.asUintN(64, x << 17n);
    out.push(BigInt.asIntN(64, i % 4 === 0 ? x >> BigInt(i % 60) : x));
  }
  return out;
}
const VALUES = [...EDGE, ...randoms(24)];

const R_OPS = [
  "add",
  "sub",
  "sll",
  "slt",
  "sltu",
  "xor",
  "srl",
  "sra",
  "or",
  "and",
  "addw",
  "subw",
  "sllw",
  "srlw",
  "sraw",
  "mul",
  "mulh",
  "mulhsu",
  "mulhu",
  "div",
  "divu",
  "rem",
  "remu",
  "mulw",
  "divw",
  "divuw",
  "remw",
  "remuw",
]; // deno-fmt-ignore
/** Zba/Zbb/Zbs/Zicond register-register ops. */
const BIT_R_OPS = [
  "sh1add", "sh2add", "sh3add", "sh1add.uw", "sh2add.uw", "sh3add.uw", "add.uw", "andn", "orn",
  "xnor", "max", "maxu", "min", "minu", "rol", "ror", "rolw", "rorw", "bclr", "bset", "binv",
  "bext", "czero.eqz", "czero.nez",
]; // deno-fmt-ignore
/** Zbb unary ops. */
const BIT_UNARY_OPS = [
  "clz", "ctz", "cpop", "clzw", "ctzw", "cpopw", "sext.b", "sext.h", "zext.h", "orc.b", "rev8",
]; // deno-fmt-ignore
/** Zba/Zbb/Zbs ops with a shift amount. */
const BIT_SHIFT_OPS = ["slli.uw", "rori", "bclri", "bseti", "binvi", "bexti"];
const I_OPS = ["addi", "slti", "sltiu", "xori", "ori", "andi", "addiw"];
const SHIFT64 = ["slli", "srli", "srai"];
const SHIFT32 = ["slliw", "srliw", "sraiw"];
const LOADS = ["lb", "lbu", "lh", "lhu", "lw", "lwu", "ld"];
const STORES = ["sb", "sh", "sw", "sd"];
const BRANCHES = ["beq", "bne", "blt", "bge", "bltu", "bgeu"];
const IMM12 = [0, 1, -1, 2047, -2048, 0x555];
const CHOICES = [[5, 6, 7], [5, 5, 7], [5, 6, 5], [5, 6, 6], [0, 6, 7], [5, 0, 7], [5, 6, 0]];

/** One instruction under test: its text and the registers the cases set (in order). */
interface Slot {
  readonly text: string;
  readonly sources: readonly number[];
  readonly kind: "alu" | "load" | "store" | "control";
}

function slots(): Slot[] {
  const out: Slot[] = [];
  for (const op of BIT_UNARY_OPS) {
    for (const [d, a] of [[5, 6], [5, 5], [0, 6], [5, 0]]) {
      out.push({ text: `${op} x${d}, x${a}`, sources: [a], kind: "alu" });
    }
  }
  for (const op of BIT_SHIFT_OPS) {
    for (const imm of [0, 1, 31, 32, 63]) {
      out.push({ text: `${op} x5, x6, ${imm}`, sources: [6], kind: "alu" });
    }
  }
  for (const imm of [0, 1, 17, 31]) {
    out.push({ text: `roriw x5, x6, ${imm}`, sources: [6], kind: "alu" });
  }
  for (const op of [...R_OPS, ...BIT_R_OPS]) {
    for (const [d, a, b] of CHOICES) {
      out.push({ text: `${op} x${d}, x${a}, x${b}`, sources: [a, b], kind: "alu" });
    }
  }
  const immOps: [string[], number[]][] = [
    [I_OPS, IMM12],
    [SHIFT64, [0, 1, 31, 32, 63]],
    [SHIFT32, [0, 1, 17, 31]],
  ];
  for (const [ops, imms] of immOps) {
    for (const op of ops) {
      for (const imm of imms) {
        for (const [d, a] of [[5, 6], [5, 5], [0, 6], [5, 0]]) {
          out.push({ text: `${op} x${d}, x${a}, ${imm}`, sources: [a], kind: "alu" });
        }
      }
    }
  }
  for (const imm of [0, 1, 0x7ffff, 0x80000, 0xfffff]) {
    out.push({ text: `lui x5, ${imm}`, sources: [], kind: "alu" });
    out.push({ text: `auipc x5, ${imm}`, sources: [], kind: "alu" });
  }
  for (const op of LOADS) {
    for (const [d, a] of [[5, 6], [6, 6], [0, 6]]) {
      for (const imm of [0, 8, -8, 2040, -2048]) {
        out.push({ text: `${op} x${d}, ${imm}(x${a})`, sources: [a], kind: "load" });
      }
    }
  }
  for (const op of STORES) {
    for (const [s, a] of [[7, 6], [6, 6], [0, 6]]) {
      for (const imm of [0, 8, -8, 2040]) {
        out.push({ text: `${op} x${s}, ${imm}(x${a})`, sources: [a, s], kind: "store" });
      }
    }
  }
  for (const op of BRANCHES) {
    for (const target of [". + 8", ". - 64", "."]) {
      for (const [a, b] of [[6, 7], [6, 6], [0, 7]]) {
        out.push({ text: `${op} x${a}, x${b}, ${target}`, sources: [a, b], kind: "control" });
      }
    }
  }
  for (const d of [1, 0, 6]) {
    out.push({ text: `jal x${d}, . + 8`, sources: [], kind: "control" });
    for (const imm of [0, 1, -3, 2047]) {
      out.push({ text: `jalr x${d}, ${imm}(x6)`, sources: [6], kind: "control" });
    }
  }
  out.push({ text: "fence", sources: [], kind: "alu" });
  return out;
}

/** Operand sets of a slot (memory ops: an address in the data page and store data). */
function operandSets(slot: Slot): bigint[][] {
  if (slot.kind === "load" || slot.kind === "store") {
    const imm = Number(/(-?\d+)\(x\d+\)$/.exec(slot.text)![1]);
    // Aligned, and misaligned inside the page (both done in place, as the interpreter does).
    const addresses = [0, 8, 16, 4088, 2048, 1, 2045, 4087].map((o) => BigInt(DATA + o - imm));
    if (slot.kind === "load") return addresses.map((a) => [a]);
    return addresses.flatMap((a) => VALUES.slice(0, 16).map((v) => [a, v]));
  }
  if (slot.sources.length === 0) return [[]];
  if (slot.sources.length === 1) return VALUES.map((a) => [a]);
  return VALUES.flatMap((a) => VALUES.map((b) => [a, b]));
}

const halves = (v: bigint): [number, number] => [
  Number(BigInt.asIntN(32, v)),
  Number(BigInt.asIntN(32, v >> 32n)),
];

/** A hart (interpreter only) and a wasm space over the same program and data. */
function machines(image: Uint8Array) {
  const memory = new SparseMemory(RAM_BYTES);
  const bus = new Bus();
  bus.mapRam(RAM_BASE, memory.size, memory);
  bus.writeBytes(RAM_BASE, image);
  const pattern = new Uint8Array(4096).map((_, i) => (i * 151 + (i >> 8) * 7) & 255);
  bus.writeBytes(DATA, pattern);
  const hart = new Hart({ bus, hartId: 0, jit: false });
  hart.reset(RAM_BASE, 3);
  const space = new WasmSpace(RAM_BASE, RAM_BYTES);
  space.u8.set(image, RAM_OFFSET);
  space.u8.set(pattern, space.linear(DATA));
  const fetch = (pc: number) => {
    const a = space.linear(pc);
    return a < 0
      ? undefined
      : space.view.getUint16(a, true) | (space.view.getUint16(a + 2, true) << 16);
  };
  return { hart, bus, space, fetch };
}

Deno.test("wasm_block: every RV64I/M, Zb* and Zicond op gives the interpreter's registers, pc and memory", () => {
  const all = slots();
  const source = all.map((s, i) => `s${i}:\n  ${s.text}\n  ebreak\n  ebreak\n`).join("");
  const program = assemble(`.text\n${source}`, { origin: RAM_BASE });
  const address = (i: number) => program.symbols.get(`s${i}`)!;
  assert.ok(address(all.length - 1) < DATA - 0x1000, "the program stays below the data page");
  const { hart, bus, space, fetch } = machines(program.image);
  space.fillTlb("load", DATA, space.linear(DATA));
  space.fillTlb("store", DATA, space.linear(DATA));
  const regions = all.map((_, i) => discoverRegion(address(i), fetch));
  regions.forEach((r, i) => assert.ok(r !== null, `${all[i].text} is translatable`));
  const fns = compileRegions(regions as Region[], space.memory);
  let cases = 0;
  for (const [i, slot] of all.entries()) {
    for (const values of operandSets(slot)) {
      const where = () =>
        `${slot.text} with ${values.map((v) => `0x${BigInt.asUintN(64, v).toString(16)}`)}`;
      for (let r = 1; r < 32; r++) {
        const v = BigInt(r) * 0x0101_0101_0101n;
        [hart.xl[r], hart.xh[r]] = halves(v);
        space.setX(r, v);
      }
      // Backwards: when a register is both, it holds the first source (the address).
      for (let k = slot.sources.length - 1; k >= 0; k--) {
        const r = slot.sources[k];
        if (r === 0) continue;
        [hart.xl[r], hart.xh[r]] = halves(values[k]);
        space.setX(r, values[k]);
      }
      hart.pc = address(i);
      hart.run(1);
      const done = fns[i](0, 1);
      assert.equal(done, 1, `one instruction done: ${where()}`);
      // Targets beyond 2^53 are not exact as numbers in either (no real address is there).
      if (Math.abs(hart.pc) < 2 ** 53) assert.equal(space.exitPc, hart.pc, `pc after ${where()}`);
      for (let r = 1; r < 32; r++) {
        assert.equal(BigInt.asUintN(64, space.getX(r)), hart.getX(r), `x${r} after ${where()}`);
      }
      if (slot.kind === "store") {
        const wasmPage = space.u8.subarray(space.linear(DATA), space.linear(DATA) + 4096);
        assert.deepEqual(wasmPage, bus.readBytes(DATA, 4096), `data page after ${where()}`);
      }
      cases++;
    }
  }
  assert.ok(cases > 20000, `${cases} cases`);
});

/** Translates and runs the program `source` from `_start`. */
function program(source: string) {
  const p = assemble(`.text\n_start:\n${source}`, { origin: RAM_BASE });
  const m = machines(p.image);
  const region = discoverRegion(RAM_BASE, m.fetch, { shape: "reach", maxInstructions: 1024 })!;
  const [run]: RegionFn[] = compileRegions([region], m.space.memory);
  /** Runs the region on hart 0. */
  const fn = (budget: number) => run(0, budget);
  return { ...m, region, run, fn, sym: (n: string) => p.symbols.get(n)! };
}

Deno.test("wasm_block: a TLB miss exits before the access with its pc; a filled TLB lets it run", () => {
  const p = program(`
  li x6, ${DATA}
  addi x7, x0, 5
  ld x5, 8(x6)
  addi x7, x7, 1
  ebreak`);
  const ld = p.region.blocks[0].insns.findIndex((i) => (i.word & 0xff) === Op.LD);
  assert.equal(p.fn(100), ld, "the li and the addi ran");
  assert.equal(p.space.exitReason, BlockExit.Memory);
  assert.equal(p.space.exitPc, p.region.blocks[0].insns[ld].pc, "the pc of the ld");
  assert.equal(p.space.getX(7), 5n, "registers done before the miss are written back");
  p.space.fillTlb("load", DATA, p.space.linear(DATA));
  assert.equal(p.fn(100), ld + 2);
  assert.equal(p.space.exitReason, BlockExit.End, "ends before the ebreak");
  assert.equal(p.space.getX(5), p.space.view.getBigInt64(p.space.linear(DATA + 8), true));
  assert.equal(p.space.getX(7), 6n);
  // A misaligned access inside the page runs in place; one across pages leaves to the slow
  // path, even with both pages mapped.
  const q = program(`
  li x6, ${DATA + 4}
  ld x5, 0(x6)
  sd x5, 2(x6)
  li x6, ${DATA + 4092}
  ld x5, 0(x6)
  ebreak`);
  q.space.fillTlb("load", DATA, q.space.linear(DATA));
  q.space.fillTlb("store", DATA, q.space.linear(DATA));
  q.space.fillTlb("load", DATA + 4096, q.space.linear(DATA + 4096));
  const before = q.space.view.getBigInt64(q.space.linear(DATA + 4), true);
  const crossing = q.region.blocks[0].insns.length - 1;
  assert.equal(q.fn(100), crossing, "all but the crossing ld ran");
  assert.equal(q.space.exitReason, BlockExit.Memory);
  assert.equal(q.space.exitPc, q.region.blocks[0].insns[crossing].pc);
  assert.equal(q.space.view.getBigInt64(q.space.linear(DATA + 6), true), before);
});

Deno.test("wasm_block: a loop stays inside the function; the budget stops it at a block start", () => {
  const source = `
  li x5, 0
  li x6, 1000
loop:
  add x5, x5, x6
  addi x6, x6, -1
  bnez x6, loop
  ebreak`;
  const p = program(source);
  assert.equal(p.fn(1_000_000), 2 + 3 * 1000);
  assert.equal(p.space.exitReason, BlockExit.End);
  assert.equal(p.space.getX(5), 500500n);
  const q = program(source);
  const done = q.fn(100);
  assert.ok(done <= 100 && done > 90, `${done} instructions`);
  assert.equal(q.space.exitReason, BlockExit.Budget);
  assert.equal(q.space.exitPc, q.sym("loop"));
  // The interpreter agrees at the same point.
  q.hart.pc = RAM_BASE;
  q.hart.run(done);
  assert.equal(q.hart.pc, q.space.exitPc);
  assert.equal(q.hart.getX(5), BigInt.asUintN(64, q.space.getX(5)));
  assert.equal(q.hart.getX(6), BigInt.asUintN(64, q.space.getX(6)));
  // A budget below the entry block's run does nothing (the caller steps the interpreter then).
  const r = program(source);
  assert.equal(r.fn(1), 0);
  assert.equal(r.space.exitReason, BlockExit.Budget);
  assert.equal(r.space.exitPc, RAM_BASE);
});

Deno.test("wasm_block: a region follows branches and jumps inside its page and stops at others", () => {
  const p = program(`
  beqz x5, skip
  addi x6, x6, 1
skip:
  j over
  addi x7, x7, 1
over:
  csrr x8, mhartid
  ebreak`);
  assert.deepEqual(p.region.blocks.map((b) => b.start), [RAM_BASE, RAM_BASE + 4, p.sym("skip")]);
  assert.equal(p.fn(100), 2);
  assert.equal(p.space.exitReason, BlockExit.Jump, "the jump target holds a CSR op");
  assert.equal(p.space.exitPc, p.sym("over"));
  assert.equal(discoverRegion(p.sym("over"), p.fetch), null);
});

Deno.test("wasm_block: regions are shaped around loops", () => {
  const p = program(`
  li x5, 0
  li x6, 100
inner:
  addi x5, x5, 1
  addi x6, x6, -1
  bnez x6, inner
  li x6, 100
second:
  addi x5, x5, -1
  bltu x0, x6, skip
  addi x5, x5, 3
skip:
  addi x6, x6, -1
  bnez x6, second
  ebreak`);
  const starts = (pc: number, limit?: number) =>
    discoverRegion(pc, p.fetch, { maxInstructions: limit })!.blocks.map((b) => b.start);
  assert.deepEqual(starts(RAM_BASE), [RAM_BASE], "straight code up to the first loop");
  assert.deepEqual(starts(p.sym("inner")), [p.sym("inner")], "the loop alone");
  const second = starts(p.sym("second"));
  assert.equal(second[0], p.sym("second"));
  assert.ok(second.includes(p.sym("skip")), "the whole loop");
  assert.ok(!second.includes(p.sym("skip") + 8), "and nothing after it");
  const cut = discoverRegion(p.sym("second"), p.fetch, { maxInstructions: 3 })!;
  assert.ok(cut.length <= 3 && !cut.blocks.some((b) => b.start === p.sym("skip")), "cut to fit");
  // Whatever the shape, the whole program computes what the interpreter does.
  const done = p.fn(1_000_000);
  assert.equal(done, 2 + 3 * 100 + 1 + 4 * 100);
  p.hart.pc = RAM_BASE;
  p.hart.run(done);
  assert.equal(p.space.exitPc, p.hart.pc);
  assert.equal(p.space.getX(5), BigInt.asIntN(64, p.hart.getX(5)));
});

/** Seeded PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A random RV64IM program: a counted loop around blocks of ALU, M, load and store ops (through
 * x20, which points at the data page) that branch forward over each other.
 */
function randomProgram(seed: number): string {
  const rnd = prng(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)];
  const reg = () => `x${5 + Math.floor(rnd() * 11)}`;
  const lines = ["  li x21, 7", "top:"];
  const blocks = 6 + Math.floor(rnd() * 6);
  for (let b = 0; b < blocks; b++) {
    lines.push(`b${b}:`);
    for (let i = 0, n = 2 + Math.floor(rnd() * 8); i < n; i++) {
      const k = rnd();
      if (k < 0.35) lines.push(`  ${pick(R_OPS)} ${reg()}, ${reg()}, ${reg()}`);
      else if (k < 0.5) lines.push(`  ${pick(I_OPS)} ${reg()}, ${reg()}, ${pick(IMM12)}`);
      else if (k < 0.6) {
        lines.push(`  ${pick(SHIFT64)} ${reg()}, ${reg()}, ${Math.floor(rnd() * 64)}`);
      } else if (k < 0.65) {
        lines.push(`  ${pick(SHIFT32)} ${reg()}, ${reg()}, ${Math.floor(rnd() * 32)}`);
      } else if (k < 0.8) {
        lines.push(`  ${pick(LOADS)} ${reg()}, ${8 * Math.floor(rnd() * 64)}(x20)`);
      } else if (k < 0.93) {
        lines.push(`  ${pick(STORES)} ${reg()}, ${8 * Math.floor(rnd() * 64)}(x20)`);
      } else lines.push(`  lui ${reg()}, ${Math.floor(rnd() * 0x100000)}`);
    }
    const target = b + 1 + Math.floor(rnd() * 3);
    lines.push(`  ${pick(BRANCHES)} ${reg()}, ${reg()}, b${Math.min(target, blocks)}`);
  }
  lines.push(`b${blocks}:`, "  addi x21, x21, -1", "  bnez x21, top", "  ebreak");
  return lines.join("\n");
}

Deno.test("wasm_block: random RV64IM programs with loops end as in the interpreter", () => {
  for (let seed = 1; seed <= 40; seed++) {
    // To the end, then with budgets that stop it at loop headers (the counter must be exact).
    for (const budget of [1_000_000, 1, 17, 60, 150]) {
      const p = program(randomProgram(seed));
      const rnd = prng(seed * 7919);
      for (let r = 1; r < 32; r++) {
        const v = r === 20 ? BigInt(DATA) : BigInt.asIntN(
          64,
          BigInt(Math.floor(rnd() * 2 ** 32)) << 32n |
            BigInt(Math.floor(rnd() * 2 ** 32)),
        );
        [p.hart.xl[r], p.hart.xh[r]] = halves(v);
        p.space.setX(r, v);
      }
      p.space.fillTlb("load", DATA, p.space.linear(DATA));
      p.space.fillTlb("store", DATA, p.space.linear(DATA));
      const where = `seed ${seed}, budget ${budget}`;
      const done = p.fn(budget);
      assert.ok(done <= budget, where);
      if (budget === 1_000_000) assert.equal(p.space.exitReason, BlockExit.End, where);
      else assert.equal(p.space.exitReason, BlockExit.Budget, where);
      p.hart.pc = RAM_BASE;
      if (done > 0) p.hart.run(done);
      assert.equal(p.space.exitPc, p.hart.pc, `${where}: pc`);
      for (let r = 1; r < 32; r++) {
        assert.equal(BigInt.asUintN(64, p.space.getX(r)), p.hart.getX(r), `${where}: x${r}`);
      }
      const page = p.space.u8.subarray(p.space.linear(DATA), p.space.linear(DATA) + 4096);
      assert.deepEqual(page, p.bus.readBytes(DATA, 4096), `${where}: data page`);
    }
  }
});

Deno.test("wasm_block: compressed instructions (lengths, links, branch offsets) match the interpreter", () => {
  // x8..x15 are the compressed register set; x2 (sp), x9 and x12 point into the data page.
  const p = program(`
  c.li x8, 5
  c.li x14, -3
  c.lui x10, 7
  li x2, ${DATA + 2048}
  li x21, 4
top:
  c.addi x8, 3
  c.addiw x14, -1
  c.slli x10, 3
  c.srli x11, 1
  c.srai x13, 2
  c.andi x13, -5
  c.sub x8, x9
  c.xor x11, x12
  c.or x11, x13
  c.and x13, x8
  c.subw x14, x15
  c.addw x15, x8
  c.mv x14, x10
  c.add x15, x11
  c.sd x8, 8(x9)
  c.sw x11, 12(x12)
  c.ld x13, 8(x9)
  c.lw x14, 12(x12)
  c.sdsp x10, 16(x2)
  c.ldsp x11, 16(x2)
  c.lwsp x11, 20(x2)
  c.swsp x13, 24(x2)
  c.beqz x8, skip
  c.addi x15, 1
skip:
  c.bnez x15, over
  c.addi x14, 2
over:
  addi x21, x21, -1
  bnez x21, top
  c.j done
  c.addi x8, 1
done:
  ebreak`);
  for (const r of [9, 12]) {
    // Aim the compressed loads and stores at the data page.
    p.hart.setX(r, BigInt(DATA + 256));
    p.space.setX(r, BigInt(DATA + 256));
  }
  p.space.fillTlb("load", DATA, p.space.linear(DATA));
  p.space.fillTlb("store", DATA, p.space.linear(DATA));
  assert.ok(p.region.blocks.some((b) => b.insns.some((i) => i.word >>> 26 === 2)), "compressed");
  const done = p.fn(1_000_000);
  assert.equal(p.space.exitReason, BlockExit.Jump, "c.j to the ebreak");
  assert.equal(p.space.exitPc, p.sym("done"));
  p.hart.pc = RAM_BASE;
  p.hart.run(done);
  assert.equal(p.space.exitPc, p.hart.pc);
  for (let r = 1; r < 32; r++) {
    assert.equal(BigInt.asUintN(64, p.space.getX(r)), p.hart.getX(r), `x${r}`);
  }
  const page = p.space.u8.subarray(p.space.linear(DATA), p.space.linear(DATA) + 4096);
  assert.deepEqual(page, p.bus.readBytes(DATA, 4096));
});

Deno.test("wasm_block: harts share a region; each has its own registers, exit record and TLBs", () => {
  const p = program(`
  ld x5, 0(x6)
  add x5, x5, x7
  sd x5, 8(x6)
  ebreak`);
  const harts = [p.space, p.space.forHart(1), p.space.forHart(5)];
  harts.forEach((h, k) => {
    h.setX(6, BigInt(DATA + 16 * k));
    h.setX(7, BigInt(100 * (k + 1)));
  });
  // Hart 1 misses its TLB (still empty) while harts 0 and 5 have the data page mapped.
  harts[0].fillTlb("load", DATA, p.space.linear(DATA));
  harts[0].fillTlb("store", DATA, p.space.linear(DATA));
  harts[2].fillTlb("load", DATA, p.space.linear(DATA));
  harts[2].fillTlb("store", DATA, p.space.linear(DATA));
  assert.deepEqual(harts.map((h) => p.run(h.base, 100)), [3, 0, 3]);
  assert.deepEqual(harts.map((h) => h.exitReason), [
    BlockExit.End,
    BlockExit.Memory,
    BlockExit.End,
  ]);
  assert.equal(harts[1].exitPc, RAM_BASE, "hart 1 stops at its load");
  harts.forEach((h, k) => {
    if (k === 1) return;
    const a = p.space.linear(DATA + 16 * k);
    const loaded = p.space.view.getBigInt64(a, true);
    assert.equal(h.getX(5), loaded + BigInt(100 * (k + 1)), `hart ${k}`);
    assert.equal(p.space.view.getBigInt64(a + 8, true), h.getX(5));
  });
  assert.equal(harts[1].getX(5), 0n);
  assert.throws(() => p.space.forHart(MAX_HARTS), RangeError);
});
