/**
 * Interpreter speed on a fixed integer workload: an LCG fill (mul), insertion sort (loads,
 * stores, branches), a bitwise CRC-32 (shifts, logic, byte loads) and a divide/remainder loop,
 * repeated. Run with `deno task bench`; the MIPS figures of both tiers are printed once per run.
 * The instructions counted are those retired; the run is bounded by a fixed budget.
 *
 * @module
 */
import process from "node:process";
import { Bus } from "../lib/hw/bus.ts";
import { SparseMemory } from "../lib/hw/memory.ts";
import { assemble } from "../lib/hw/riscv/assembler.ts";
import { Hart, StopReason } from "../lib/hw/riscv/hart.ts";

const WORKLOAD = `
  .text
  .globl _start
_start:
  li s0, 1000000000          # repetitions (the run is bounded by the budget)
  li s1, 0x2545F4914F6CDD1D  # LCG state
outer:
  # 1. fill 128 dwords with LCG values (mul)
  la a0, array
  li a1, 128
  li t1, 6364136223846793005
  li t2, 1442695040888963407
fill:
  mul s1, s1, t1
  add s1, s1, t2
  srli t3, s1, 33
  sd t3, 0(a0)
  addi a0, a0, 8
  addi a1, a1, -1
  bnez a1, fill
  # 2. insertion sort
  la a0, array
  li a1, 1
sort_outer:
  slli t0, a1, 3
  add t0, a0, t0
  ld t1, 0(t0)
  mv t2, a1
sort_inner:
  beqz t2, sort_place
  ld t3, -8(t0)
  bleu t3, t1, sort_place
  sd t3, 0(t0)
  addi t0, t0, -8
  addi t2, t2, -1
  j sort_inner
sort_place:
  sd t1, 0(t0)
  addi a1, a1, 1
  li t4, 128
  blt a1, t4, sort_outer
  # 3. CRC-32 over the 1024 bytes of the array
  la a0, array
  li a1, 1024
  li a2, -1
  li a3, 0xEDB88320
crc_byte:
  lbu t0, 0(a0)
  xor a2, a2, t0
  li t1, 8
crc_bit:
  andi t2, a2, 1
  srli a2, a2, 1
  neg t2, t2
  and t2, t2, a3
  xor a2, a2, t2
  addi t1, t1, -1
  bnez t1, crc_bit
  addi a0, a0, 1
  addi a1, a1, -1
  bnez a1, crc_byte
  # 4. divide and remainder
  li t0, 200
  li t1, 0x7fffffffffff
div_loop:
  addi t2, t0, 3
  div t3, t1, t2
  rem t4, t1, t2
  divuw t5, t1, t2
  add t1, t3, t4
  add t1, t1, t5
  slli t1, t1, 7
  addi t0, t0, -1
  bnez t0, div_loop
  addi s0, s0, -1
  bnez s0, outer
done:
  j done
  .data
  .balign 8
array:
  .zero 1024
`;

const program = assemble(WORKLOAD, { origin: 0x8000_0000 });

function machine(jit: boolean): Hart {
  const memory = new SparseMemory(1 << 24);
  const bus = new Bus();
  bus.mapRam(0x8000_0000, memory.size, memory);
  bus.writeBytes(program.origin, program.image);
  const hart = new Hart({ bus, hartId: 0, jit });
  hart.reset(program.entry, 3);
  return hart;
}

const BUDGET = 20_000_000;

function runWorkload(hart: Hart, budget: number): number {
  const reason = hart.run(budget);
  if (reason !== StopReason.Budget) throw new Error(`workload stopped early (reason ${reason})`);
  return hart.lastRunInstructions;
}

/**
 * MIPS of one tier: after a warm-up slice, the best of three slices, timed by this process's
 * CPU time (user + system), which other load on a shared machine disturbs less than wall time.
 */
function mips(jit: boolean, budget: number): string {
  const hart = machine(jit);
  runWorkload(hart, budget);
  let best = 0;
  for (let i = 0; i < 3; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const n = runWorkload(hart, budget);
    const cpu = process.cpuUsage(c0);
    const seconds = Math.max((cpu.user + cpu.system) / 1e6, (performance.now() - t0) / 1000 / 4);
    best = Math.max(best, n / seconds / 1e6);
  }
  return best.toFixed(0);
}

console.log(
  `hart MIPS (integer workload, CPU time): compiled blocks ${mips(true, BUDGET)}, ` +
    `interpreter only ${mips(false, BUDGET / 4)}`,
);

Deno.bench({
  name: `hart: integer workload, ${BUDGET / 1e6}M instructions (compiled blocks)`,
  n: 5,
  warmup: 1,
  fn() {
    runWorkload(machine(true), BUDGET);
  },
});

Deno.bench({
  name: `hart: integer workload, ${BUDGET / 4e6}M instructions (interpreter only)`,
  n: 3,
  warmup: 1,
  fn() {
    runWorkload(machine(false), BUDGET / 4);
  },
});
