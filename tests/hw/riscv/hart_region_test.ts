/**
 * Regions of the second tier (region.ts): loops with internal branches run inside one compiled
 * function, and every way of leaving it (a TLB miss, an instruction left to the interpreter,
 * the budget, a store into its own code page) keeps the hart in the interpreter's state. Tests
 * of properties of the JavaScript tier's regions (how often they are left) turn the wasm tier
 * off (`JS_ONLY`); the wasm tier's own are in wasm/hart_wasm_test.ts.
 */
import assert from "node:assert/strict";
import { Bus } from "../../../lib/hw/bus.ts";
import { SparseMemory } from "../../../lib/hw/memory.ts";
import { assemble } from "../../../lib/hw/riscv/assembler.ts";
import { Hart, type HartOptions } from "../../../lib/hw/riscv/hart.ts";
import { BlockExit } from "../../../lib/hw/riscv/hart_stats.ts";
import { mapCounterDevice } from "./counter_device.ts";
import { RAM_BASE } from "./hart_rig_test.ts";
import { prng } from "./prng.ts";

function machine(source: string, options: Partial<HartOptions>): { hart: Hart; bus: Bus } {
  const program = assemble(source, { origin: RAM_BASE });
  const memory = new SparseMemory(1 << 23);
  const bus = new Bus();
  bus.mapRam(RAM_BASE, memory.size, memory);
  mapCounterDevice(bus);
  bus.writeBytes(RAM_BASE, program.image);
  const hart = new Hart({ bus, hartId: 0, ...options });
  hart.reset(program.entry, 3);
  return { hart, bus };
}

/**
 * Runs `source` on the interpreter and with regions compiled after `threshold` executions, in
 * the same slices, comparing stop reasons, instruction counts, states and the program's data
 * after every slice; returns the compiled hart.
 */
function compare(
  source: string,
  slices: number[],
  threshold = 50,
  options: Partial<HartOptions> = {},
): Hart {
  const a = machine(source, { jit: false });
  const b = machine(source, { jitThreshold: threshold, ...options });
  for (const [i, slice] of slices.entries()) {
    const ra = a.hart.run(slice);
    const rb = b.hart.run(slice);
    const where = `slice ${i} (${slice}), pc 0x${a.hart.pc.toString(16)}`;
    assert.equal(rb, ra, `stop reason, ${where}`);
    assert.equal(b.hart.lastRunInstructions, a.hart.lastRunInstructions, `count, ${where}`);
    assert.deepEqual(b.hart.snapshot(), a.hart.snapshot(), `state, ${where}`);
  }
  assert.deepEqual(
    b.bus.readBytes(RAM_BASE, 0x4000),
    a.bus.readBytes(RAM_BASE, 0x4000),
    "program memory",
  );
  return b.hart;
}

/** The JavaScript tier alone (the wasm tier leaves at every store into a code page). */
const JS_ONLY: Partial<HartOptions> = { wasm: false };

const exits = (hart: Hart): number => hart.stats.blockExits.reduce((s, n) => s + n, 0);

Deno.test("region: a loop with an internal branch runs inside one region", () => {
  const crc = `
_start:
  li a0, -1
  li t2, 0xedb88320
  li s1, 20000
byte:
  xor a0, a0, s1
  li t1, 8
bit:
  andi t0, a0, 1
  srli a0, a0, 1
  slli a0, a0, 32
  srli a0, a0, 32
  beqz t0, skip
  xor a0, a0, t2
skip:
  addi t1, t1, -1
  bnez t1, bit
  addi s1, s1, -1
  bnez s1, byte
done:
  j done
`;
  const hart = compare(crc, Array(40).fill(40_000), 50, JS_ONLY);
  assert.ok(hart.blockInstructions > 1_400_000, `${hart.blockInstructions} in regions`);
  // Both branches of the bit loop and the byte loop stay inside: the region is left only at
  // the end of each run slice (and once at the end).
  assert.ok(exits(hart) <= 80, `${exits(hart)} region calls`);
  assert.ok(hart.compiledBlocks <= 3, `${hart.compiledBlocks} regions`);
});

Deno.test("region: an access that misses the TLB mid-region exits before it, exactly", () => {
  // The first load hits (its page stays in the TLB); the second misses on every iteration:
  // pages 4 KiB apart, 256 of them and 256 more, evict each other from the direct-mapped TLB,
  // and every fourth iteration reads a device instead (never cached).
  const hart = compare(
    `
_start:
  la s0, data
  li s1, 0x80100000
  li s2, 0x10000000
  li s3, 3000
  li a0, 0
loop:
  ld t0, 0(s0)
  add a0, a0, t0
  andi t1, s3, 3
  beqz t1, device
  slli t2, s3, 12
  li t3, 0x1ff000
  and t2, t2, t3
  add t2, t2, s1
  ld t4, 0(t2)
  j next
device:
  lw t4, 0(s2)
next:
  add a0, a0, t4
  sd a0, 8(s0)
  addi s3, s3, -1
  bnez s3, loop
done:
  j done
  .balign 4096
data:
  .dword 7
  .dword 0
`,
    [1, 5, 77, 1000, 333, 20_000, 20_000, 20_000],
  );
  assert.ok(hart.stats.blockExits[BlockExit.Memory] > 1000, "exits at the missing accesses");
  assert.ok(hart.blockInstructions > 20_000, `${hart.blockInstructions} in regions`);
});

Deno.test("region: an instruction left to the interpreter ends the region before it", () => {
  const hart = compare(
    `
_start:
  li s1, 5000
  li a0, 0
loop:
  addi a0, a0, 3
  andi t0, s1, 1
  beqz t0, even
  csrr t1, mscratch
  addi t1, t1, 1
  csrw mscratch, t1
even:
  addi s1, s1, -1
  bnez s1, loop
done:
  j done
`,
    [3, 1000, 7, 20_000, 20_000],
  );
  assert.ok(hart.stats.blockExits[BlockExit.End] > 1000, "exits at csrr");
  assert.equal(hart.readCsr(0x340), 2500n);
});

Deno.test("region: the budget is honoured exactly inside a region's loop", () => {
  const src = `
_start:
  li a0, 0
  li a1, 0
loop:
  addi a0, a0, 1
  andi t0, a0, 7
  bnez t0, skip
  addi a1, a1, 1
skip:
  slli t1, a0, 3
  xor a1, a1, t1
  j loop
`;
  const slices = [5000];
  for (let n = 1; n <= 60; n++) slices.push(n, 1000 + n);
  const hart = compare(src, slices);
  assert.ok(hart.stats.blockExits[BlockExit.Budget] > 50, "budget exits inside the loop");
  // Each run starts where the last one stopped, at one of the region's jump targets: the
  // region is entered there (no new regions, no interpretation once it exists).
  assert.ok(hart.compiledBlocks <= 2, `${hart.compiledBlocks} regions`);
  const interp = machine(src, { jit: false }).hart;
  const compiled = machine(src, { jitThreshold: 50 }).hart;
  for (let n = 1; n <= 40; n++) {
    interp.run(997 + n);
    compiled.run(997 + n);
    assert.equal(compiled.lastRunInstructions, 997 + n, "never more, never fewer");
    assert.equal(compiled.instret, interp.instret);
    assert.equal(compiled.pc, interp.pc);
  }
});

Deno.test("region: a store into the region's own code page runs the new code at once", () => {
  // The loop rewrites the instruction at \`patch\` (later in the same region, no fence.i):
  // odd iterations make it add 1, even ones add 100. The region exits after each store into
  // its code page, so it never runs the stale instruction.
  const hart = compare(
    `
_start:
  li s1, 4000
  li a0, 0
  la s2, patch
  li s3, 0x00150513       # addi a0, a0, 1
  li s4, 0x06450513       # addi a0, a0, 100
loop:
  andi t0, s1, 1
  mv t1, s3
  beqz t0, store
  mv t1, s4
store:
  sw t1, 0(s2)
  sd a0, counter, t2
patch:
  addi a0, a0, 1
  addi s1, s1, -1
  bnez s1, loop
done:
  j done
counter:
  .dword 0
`,
    [10, 100, 1000, 30_000, 30_000],
    50,
    JS_ONLY,
  );
  assert.equal(hart.xl[10], 2000 * 101);
  // Each patch drops the page's regions (and the region exits right after the store).
  assert.ok(hart.stats.blockExits[BlockExit.Memory] >= hart.compiledBlocks - 1, "exits");
});

Deno.test("region: a store of data into the region's code page does not end the region", () => {
  const hart = compare(
    `
_start:
  li s1, 4000
  li a0, 0
loop:
  addi a0, a0, 3
  sd a0, counter, t2
  addi s1, s1, -1
  bnez s1, loop
done:
  j done
  .balign 64
counter:
  .dword 0
`,
    [10, 100, 1000, 30_000],
    50,
    JS_ONLY,
  );
  assert.ok(hart.stats.blockExits[BlockExit.Memory] <= 2, "no exits at the stores");
  assert.ok(hart.blockInstructions > 15_000, `${hart.blockInstructions} in regions`);
});

/**
 * A loop of random ALU ops, loads and stores with forward branches of random lengths (some
 * skipping others' targets, so some become `if`s and some jump between cases) and an inner
 * backward loop.
 */
function branchyLoop(seed: number): string {
  const rnd = prng(seed);
  const pick = <T>(xs: T[]): T => xs[rnd() % xs.length];
  const regs = ["a0", "a1", "a2", "a3", "a4", "a5"];
  const lines: string[] = [];
  const n = 24 + rnd() % 16;
  for (let i = 0; i < n; i++) {
    const kind = rnd() % 8;
    if (kind < 3) {
      lines.push(
        `${pick(["add", "sub", "xor", "or", "mul"])} ${pick(regs)}, ${pick(regs)}, ${pick(regs)}`,
      );
    } else if (kind === 3) lines.push(`addi ${pick(regs)}, ${pick(regs)}, ${rnd() % 200 - 100}`);
    else if (kind === 4) lines.push(`ld ${pick(regs)}, ${(rnd() % 64) * 8}(s1)`);
    else if (kind === 5) lines.push(`sd ${pick(regs)}, ${(rnd() % 64) * 8}(s1)`);
    else {
      const to = i + 1 + rnd() % 6;
      lines.push(`${pick(["beq", "bne", "blt", "bgeu"])} ${pick(regs)}, ${pick(regs)}, L${to}`);
    }
    lines.push(`L${i + 1}:`);
  }
  for (let i = n + 1; i <= n + 7; i++) lines.push(`L${i}:`);
  return `
_start:
  li a0, 0x123456789
  li a1, -5
  li a2, 77
  li a3, 0x7fffffff
  li a4, 3
  li a5, 0
  la s1, buf
  li s4, 300
loop:
  li t0, 3
inner:
  srli a5, a5, 1
  addi t0, t0, -1
  bnez t0, inner
${lines.join("\n")}
  addi s4, s4, -1
  bnez s4, loop
done:
  j done
  .balign 4096
buf:
  .zero 512
`;
}

Deno.test("region: random loops with forward branches match the interpreter", () => {
  for (let seed = 1; seed <= 12; seed++) {
    const hart = compare(branchyLoop(seed), [1, 13, 100, 777, 5000, 5000, 5000], 20);
    assert.ok(hart.blockInstructions > 0, `seed ${seed}: ran in regions`);
  }
});
