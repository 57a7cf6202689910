/**
 * The second tier (compiled blocks) against the interpreter: the same programs run with
 * `jit: false` and with `jitThreshold: 1` (nearly everything compiled) must reach identical
 * states at every slice boundary, for a fixed workload, for generated programs covering every
 * translated instruction, under Sv39, and with code and data sharing pages.
 */
import assert from "node:assert/strict";
import { Bus } from "../../../lib/hw/bus.ts";
import { SparseMemory } from "../../../lib/hw/memory.ts";
import { assemble } from "../../../lib/hw/riscv/assembler.ts";
import { Hart, type HartOptions } from "../../../lib/hw/riscv/hart.ts";
import { mapCounterDevice } from "./counter_device.ts";
import { enterS, RAM_BASE, rig } from "./hart_rig_test.ts";
import { integerWorkload } from "./integer_workload.ts";
import { prng } from "./prng.ts";

function machine(image: Uint8Array, entry: number, options: Partial<HartOptions>): {
  hart: Hart;
  memory: SparseMemory;
} {
  const memory = new SparseMemory(1 << 22);
  const bus = new Bus();
  bus.mapRam(RAM_BASE, memory.size, memory);
  bus.writeBytes(RAM_BASE, image);
  const hart = new Hart({ bus, hartId: 0, ...options });
  hart.reset(entry, 3);
  return { hart, memory };
}

/** Runs both tiers in the same slices and compares state after each slice. */
function compareTiers(source: string, slices: number[], rounds: number): void {
  const program = assemble(source, { origin: RAM_BASE });
  const a = machine(program.image, program.entry, { jit: false });
  const b = machine(program.image, program.entry, { jitThreshold: 1 });
  for (let round = 0; round < rounds; round++) {
    for (const slice of slices) {
      const ra = a.hart.run(slice);
      const rb = b.hart.run(slice);
      const sa = a.hart.snapshot();
      const sb = b.hart.snapshot();
      const where = `round ${round}, slice ${slice}, pc 0x${sa.pc.toString(16)}`;
      assert.equal(rb, ra, `stop reason (${where})`);
      assert.equal(b.hart.lastRunInstructions, a.hart.lastRunInstructions, `count (${where})`);
      assert.deepEqual(sb, sa, `state (${where})`);
    }
  }
  for (const page of a.memory.residentPages()) {
    assert.deepEqual(
      b.memory.readBytes(page * 4096, 4096),
      a.memory.readBytes(page * 4096, 4096),
      `memory page ${page}`,
    );
  }
}

const WORKLOAD = integerWorkload("coverage");

Deno.test("jit: the integer workload matches the interpreter at every slice boundary", () => {
  compareTiers(WORKLOAD, [1, 7, 100, 1000, 3333, 20000], 4);
});

const R3 = [
  "add",
  "sub",
  "sll",
  "srl",
  "sra",
  "slt",
  "sltu",
  "xor",
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
];
const RI = ["addi", "slti", "sltiu", "xori", "ori", "andi", "addiw"];
/** Zba/Zbb/Zbs/Zicond register forms, unary forms and immediate forms. */
const B3 = [
  "sh1add",
  "sh2add",
  "sh3add",
  "sh1add.uw",
  "sh2add.uw",
  "sh3add.uw",
  "add.uw",
  "andn",
  "orn",
  "xnor",
  "max",
  "maxu",
  "min",
  "minu",
  "rol",
  "ror",
  "rolw",
  "rorw",
  "bclr",
  "bset",
  "binv",
  "bext",
  "czero.eqz",
  "czero.nez",
];
const B1 = [
  "clz",
  "ctz",
  "cpop",
  "clzw",
  "ctzw",
  "cpopw",
  "sext.b",
  "sext.h",
  "zext.h",
  "orc.b",
  "rev8",
];
const BI: [string, number][] = [
  ["slli.uw", 64],
  ["rori", 64],
  ["roriw", 32],
  ["bclri", 64],
  ["bseti", 64],
  ["binvi", 64],
  ["bexti", 64],
];
const SH = ["slli", "srli", "srai"];
const SHW = ["slliw", "srliw", "sraiw"];
const BR = ["beq", "bne", "blt", "bge", "bltu", "bgeu"];
const LD = ["ld", "lw", "lwu", "lh", "lhu", "lb", "lbu"];
const ST = ["sd", "sw", "sh", "sb"];
const REGS = ["a0", "a1", "a2", "a3", "a4", "a5", "s2", "s3", "zero"];

function generated(seed: number): string {
  const rnd = prng(seed);
  const pick = <T>(xs: T[]): T => xs[rnd() % xs.length];
  const reg = () => pick(REGS);
  const dst = () => pick(REGS.slice(0, 8));
  const lines: string[] = [];
  for (let i = 0; i < 160; i++) {
    const kind = rnd() % 10;
    if (kind < 3) lines.push(`${pick(R3)} ${dst()}, ${reg()}, ${reg()}`);
    else if (kind === 3) {
      const b = rnd() % 3;
      if (b === 0) lines.push(`${pick(B3)} ${dst()}, ${reg()}, ${reg()}`);
      else if (b === 1) lines.push(`${pick(B1)} ${dst()}, ${reg()}`);
      else {
        const [op, n] = pick(BI);
        lines.push(`${op} ${dst()}, ${reg()}, ${rnd() % n}`);
      }
    } else if (kind < 6) lines.push(`${pick(RI)} ${dst()}, ${reg()}, ${(rnd() % 4096) - 2048}`);
    else if (kind === 6) {
      lines.push(
        rnd() & 1
          ? `${pick(SH)} ${dst()}, ${reg()}, ${rnd() % 64}`
          : `${pick(SHW)} ${dst()}, ${reg()}, ${rnd() % 32}`,
      );
    } else if (kind === 7) {
      lines.push(`${pick(LD)} ${dst()}, ${(rnd() % 2000) - 1000}(s1)`);
    } else if (kind === 8) {
      lines.push(`${pick(ST)} ${reg()}, ${(rnd() % 2000) - 1000}(s1)`);
    } else {
      lines.push(
        `${pick(BR)} ${reg()}, ${reg()}, 1f`,
        `${pick(R3)} ${dst()}, ${reg()}, ${reg()}`,
        "1:",
      );
    }
    if (rnd() % 16 === 0) {
      lines.push(
        rnd() & 1 ? `lui ${dst()}, ${rnd() % 0x100000}` : `auipc ${dst()}, ${rnd() % 0x100000}`,
      );
    }
  }
  return `
_start:
  li a0, 0x8000000000000000
  li a1, -1
  li a2, 0x7fffffff
  li a3, 0x80000000
  li a4, 3
  li a5, -7
  li s2, 0x123456789abcdef0
  li s3, 63
  la s1, buf
  li s4, 40
loop:
${lines.join("\n")}
  # perturb the seeds so every round differs
  xor a4, a4, a0
  add a5, a5, a1
  slli s2, s2, 1
  addi s4, s4, -1
  bnez s4, loop
done:
  j done
  .data
  .balign 8
  .zero 1024
buf:
  .zero 1024
`;
}

Deno.test("jit: generated programs over every translated instruction match the interpreter", () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    compareTiers(generated(seed), [5, 50, 500, 5000], 3);
  }
});

Deno.test("jit: self-modifying code invalidates compiled blocks", () => {
  const r = rig(
    `
_start:
  li s0, 0
  li s1, 40
loop:
patch:
  addi s0, s0, 1
  addi s1, s1, -1
  li t0, 20
  bne s1, t0, skip
  la t0, patch
  li t1, 0x00a40413       # addi s0, s0, 10
  sw t1, 0(t0)
  fence.i
skip:
  bnez s1, loop
done:
  j done
`,
    { jitThreshold: 1 },
  );
  r.runToDone();
  assert.equal(r.x("s0"), 20n + 20n * 10n);
});

Deno.test("jit: the workload under Sv39 in S-mode matches the interpreter", () => {
  // M-mode prologue: identity gigapage at 0x8000_0000 and an alias of it at 0x4000_0000.
  const src = `
_start:
  la t0, root
  srli t0, t0, 12
  li t1, 0x8000000000000000
  or t0, t0, t1
  csrw satp, t0
${enterS("smain")}
smain:
  li t0, 0x40000000
  la t1, s_start
  li t2, 0x80000000
  sub t1, t1, t2
  add t1, t1, t0
  jr t1                   # continue through the alias mapping
s_start:
${
    WORKLOAD.replace("_start:", "w_start:").replace("outer:", "w_outer:").replace(
      /j outer/g,
      "j w_outer",
    )
  }
  .balign 4096
root:
  .dword 0
  .dword 0x200000cf       # 0x4000_0000 -> 0x8000_0000 (V R W X A D)
  .dword 0x200000cf       # 0x8000_0000 -> 0x8000_0000
  .zero 4072
`;
  compareTiers(src, [3, 300, 30000], 3);
});

Deno.test("jit: a block whose first instruction always misses the TLB (MMIO polling) progresses", () => {
  const bus = new Bus();
  const reads = mapCounterDevice(bus);
  const r = rig(
    `
_start:
  li s0, 0x10000000
  li a1, 0
  li a2, 100
poll:
  lw a0, 0(s0)
  addi a1, a1, 1
  blt a1, a2, poll
done:
  j done
`,
    { bus, jitThreshold: 1 },
  );
  r.runToDone(10_000);
  assert.equal(r.x("a1"), 100n);
  assert.equal(r.x("a0"), 100n);
  assert.equal(reads(), 100);
});

Deno.test("jit: a hot loop is compiled and then runs in its block within the same run call", () => {
  const r = rig(`
_start:
  li a0, 0
  li a1, 1000000
loop:
  addi a0, a0, 3
  addi a1, a1, -1
  bnez a1, loop
done:
  j done
`);
  r.hart.run(4_000_000); // ends spinning on \`done: j done\`
  assert.equal(r.hart.pc, r.sym("done"));
  assert.equal(r.x("a0"), 3000000n);
  assert.ok(r.hart.compiledBlocks >= 1);
  assert.ok(r.hart.blockInstructions > 2_500_000, `${r.hart.blockInstructions} in blocks`);
  const i = rig(
    `
_start:
  li a1, 1000
loop:
  addi a1, a1, -1
  bnez a1, loop
done:
  j done
`,
    { jit: false },
  );
  i.runToDone();
  assert.equal(i.hart.compiledBlocks, 0);
  assert.equal(i.hart.blockInstructions, 0);
});

Deno.test("jit: a block of only bit-manipulation ops writes its results back", () => {
  compareTiers(
    `
_start:
  li a0, 0x0123456789abcdef
  li t1, 100
loop:
  addi a0, a0, 3
  rev8 a1, a0
  clz a2, a1
  sh1add a3, a0, a1
  czero.eqz a4, a0, t1
  rori a5, a0, 7
  addi t1, t1, -1
  bnez t1, loop
done:
  j done
`,
    [5, 50, 500],
    1,
  );
});
