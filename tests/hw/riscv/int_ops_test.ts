/**
 * The op table (int_ops.ts) through both tiers: every op of the table, with edge immediates and
 * register choices (`rd` = a source, x0 as destination or source, equal sources), runs on edge
 * operand values in the interpreter and in a compiled block, and both must leave the same
 * registers, pc and memory. The compiled side checks that its block really ran. Also: the
 * interpreter's generated cases are those the table gives today (`deno task gen` was run).
 */
import assert from "node:assert/strict";
import { Bus } from "../../../lib/hw/bus.ts";
import { SparseMemory } from "../../../lib/hw/memory.ts";
import { assemble } from "../../../lib/hw/riscv/assembler.ts";
import { Hart } from "../../../lib/hw/riscv/hart.ts";
import { INT_OPS, type IntOp } from "../../../lib/hw/riscv/int_ops.ts";
import { instructionByMnemonic } from "../../../lib/hw/riscv/isa_table.ts";
import { HART_FILE, regenerate } from "../../../bin/gen_ops.ts";
import { RAM_BASE } from "./hart_rig_test.ts";

/** Two pages of data that loads read and stores write (the second one is where they aim). */
const SCRATCH = RAM_BASE + 0x10000;
const SCRATCH_BYTES = 0x2000;
const PAGE = SCRATCH + 0x1000;

/** Edge values of a 64-bit operand. */
const VALUES: readonly bigint[] = [
  0n,
  1n,
  -1n,
  2n,
  31n,
  32n,
  63n,
  64n,
  0x7fff_ffffn,
  -0x8000_0000n,
  0x8000_0000n,
  0xffff_ffffn,
  0x1_0000_0000n,
  0x7fff_ffff_ffff_ffffn,
  -0x8000_0000_0000_0000n,
  0x1234_5678_9abc_def0n,
  -0x1234_5679n,
];

/** Immediates by operand field (branch and jump offsets as assembler expressions). */
const IMMEDIATES: Record<string, readonly (number | string)[]> = {
  imm12: [0, 1, -1, 2047, -2048, 0x555],
  shamt6: [0, 1, 31, 32, 33, 63],
  shamt5: [0, 1, 17, 31],
  uimm20: [0, 1, 0x7ffff, 0x80000, 0xfffff],
  boff: [". + 8", ".", ". - 64", ". + 4000"],
  joff: [". + 8", ".", ". - 64", ". + 8000"],
  mem: [0, 8, -8, 2047, -2048],
};

/** Register choices `[rd, rs1, rs2]`: distinct, rd = rs1, rd = rs2, rs1 = rs2, and x0 in each. */
const REGISTER_CHOICES: readonly (readonly [number, number, number])[] = [
  [5, 6, 7],
  [5, 5, 7],
  [5, 6, 5],
  [5, 6, 6],
  [0, 6, 7],
  [5, 0, 7],
  [5, 6, 0],
];

/** One instruction under test, followed in the program by two `ebreak`s. */
interface Slot {
  readonly spec: IntOp;
  readonly text: string;
  /** The source registers that the cases set (the address register first for memory ops). */
  readonly sources: readonly number[];
}

/** Every table op with every register choice and immediate its syntax takes. */
function slots(): Slot[] {
  const out: Slot[] = [];
  for (const spec of INT_OPS) {
    const mnemonic = spec.name.toLowerCase();
    const form = instructionByMnemonic(mnemonic);
    assert.ok(form !== undefined, `${mnemonic} is in the ISA table`);
    if (spec.kind === "nop") {
      out.push({ spec, text: `${mnemonic} rw, rw`, sources: [] });
      continue;
    }
    const fields = form.operands.map((o) => o.kind === "field" ? o.field : "mem");
    const immField = fields.find((f) => f in IMMEDIATES);
    const seen = new Set<string>();
    for (const [rd, rs1, rs2] of REGISTER_CHOICES) {
      const memory = fields.includes("mem");
      if (memory && rs1 === 0) continue; // an address register x0 only faults
      for (const imm of immField === undefined ? [0] : IMMEDIATES[immField]) {
        const text = `${mnemonic} ${
          form.operands.map((o) =>
            o.kind === "mem"
              ? `${imm}(x${rs1})`
              : o.field === "rd"
              ? `x${rd}`
              : o.field === "rs1"
              ? `x${rs1}`
              : o.field === "rs2"
              ? `x${rs2}`
              : String(imm)
          ).join(", ")
        }`;
        if (seen.has(text)) continue;
        seen.add(text);
        const sources = [
          ...(fields.includes("rs1") || memory ? [rs1] : []),
          ...(fields.includes("rs2") ? [rs2] : []),
        ];
        out.push({ spec, text, sources });
      }
    }
  }
  return out;
}

/** A hart on its own RAM running `image` (slots at `RAM_BASE`), scratch filled with a pattern. */
function machine(image: Uint8Array, jit: boolean): { hart: Hart; memory: SparseMemory } {
  const memory = new SparseMemory(1 << 20);
  const bus = new Bus();
  bus.mapRam(RAM_BASE, memory.size, memory);
  bus.writeBytes(RAM_BASE, image);
  const pattern = new Uint8Array(SCRATCH_BYTES).map((_, i) => (i * 151 + (i >> 8) * 7) & 255);
  bus.writeBytes(SCRATCH, pattern);
  // The JavaScript tier: it runs misaligned accesses inside a page, which the wasm tier leaves
  // to the interpreter (its ops are checked against the interpreter in wasm/wasm_block_test.ts).
  const hart = new Hart(
    jit ? { bus, hartId: 0, jitThreshold: 1, wasm: false } : { bus, hartId: 0, jit: false },
  );
  hart.reset(RAM_BASE, 3);
  return { hart, memory };
}

const halves = (v: bigint): [number, number] => [
  Number(BigInt.asIntN(32, v)),
  Number(BigInt.asIntN(32, v >> 32n)),
];

/** Source value sets of a slot: pairs of edge values, or addresses into the scratch page. */
function operandSets(slot: Slot, imm: number): bigint[][] {
  const kind = slot.spec.kind;
  if (kind === "load" || kind === "store") {
    // Aligned, misaligned, at the page's end and crossing it; the store data takes every value.
    const addresses = [0, 8, 3, 4088, 4095].map((d) => BigInt(PAGE + d - imm));
    const data = kind === "store" ? VALUES : [0n];
    return addresses.flatMap((a) => data.map((v) => [a, v]));
  }
  if (slot.sources.length === 0) return [[]];
  if (slot.sources.length === 1) return VALUES.map((a) => [a]);
  return VALUES.flatMap((a) => VALUES.map((b) => [a, b]));
}

Deno.test("int_ops: every table op with edge operands gives the same result in both tiers", () => {
  const all = slots();
  const source = all.map((s, i) => `s${i}:\n  ${s.text}\n  ebreak\n  ebreak\n`).join("");
  const program = assemble(`.text\n${source}`, { origin: RAM_BASE });
  const address = (i: number) => program.symbols.get(`s${i}`)!;
  assert.ok(address(all.length - 1) < SCRATCH, "the program fits below the scratch pages");
  const interpreter = machine(program.image, false);
  const compiled = machine(program.image, true);
  // The first execution of each slot compiles its block (threshold 1); its stores must not hit
  // the code page, which would drop the page's blocks. The interpreter runs the same.
  for (const { hart } of [interpreter, compiled]) {
    for (let i = 0; i < all.length; i++) {
      for (let r = 1; r < 32; r++) [hart.xl[r], hart.xh[r]] = halves(BigInt(PAGE));
      hart.pc = address(i);
      hart.run(1);
    }
  }
  const covered = new Set<string>();
  for (const [i, slot] of all.entries()) {
    const imm = Number(/(-?\d+)\(x\d+\)$/.exec(slot.text)?.[1] ?? 0);
    for (const values of operandSets(slot, imm)) {
      const where = () =>
        `${slot.text} with ${values.map((v) => `0x${BigInt.asUintN(64, v).toString(16)}`)}`;
      let inBlock = 0;
      for (const { hart } of [interpreter, compiled]) {
        // Twice: the first run fills the TLBs, so the second one runs in the block.
        for (let pass = 0; pass < 2; pass++) {
          // Backwards: when a register is both, it holds the first source (the address).
          for (let k = slot.sources.length - 1; k >= 0; k--) {
            const r = slot.sources[k];
            if (r !== 0) [hart.xl[r], hart.xh[r]] = halves(values[k]);
          }
          hart.pc = address(i);
          const before = hart.blockInstructions;
          hart.run(1);
          if (hart === compiled.hart && pass === 1) inBlock = hart.blockInstructions - before;
        }
      }
      assert.equal(compiled.hart.pc, interpreter.hart.pc, `pc after ${where()}`);
      assert.deepEqual(
        compiled.hart.xl.subarray(0, 32),
        interpreter.hart.xl.subarray(0, 32),
        `low halves after ${where()}`,
      );
      assert.deepEqual(
        compiled.hart.xh.subarray(0, 32),
        interpreter.hart.xh.subarray(0, 32),
        `high halves after ${where()}`,
      );
      if (slot.spec.kind === "store") {
        assert.deepEqual(
          compiled.memory.readBytes(SCRATCH - RAM_BASE, SCRATCH_BYTES),
          interpreter.memory.readBytes(SCRATCH - RAM_BASE, SCRATCH_BYTES),
          `memory after ${where()}`,
        );
      }
      const crossesPage = slot.spec.width !== undefined &&
        Number(values[0]) + imm - PAGE > 4096 - slot.spec.width;
      assert.equal(inBlock, crossesPage ? 0 : 1, `ran in its block: ${where()}`);
      if (inBlock === 1) covered.add(slot.spec.name);
    }
  }
  assert.deepEqual([...covered].sort(), INT_OPS.map((s) => s.name).sort(), "every op compiled");
});

Deno.test("int_ops: the interpreter's generated cases are up to date (else run `deno task gen`)", async () => {
  const current = await Deno.readTextFile(HART_FILE);
  assert.ok(
    (await regenerate(current)) === current,
    "the generated region of hart.ts differs from what bin/gen_ops.ts makes of int_ops.ts: " +
      "run `deno task gen`",
  );
});
