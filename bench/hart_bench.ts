/**
 * Interpreter speed on the fixed integer workload (`tests/hw/riscv/integer_workload.ts`, its
 * `speed` mix): an LCG fill (mul), insertion sort (loads, stores, branches), a bitwise CRC-32
 * (shifts, logic, byte loads) and a divide/remainder loop, repeated. Run with `deno task bench`;
 * the MIPS figures of both tiers are printed once per run. The instructions counted are those
 * retired; the run is bounded by a fixed budget.
 *
 * @module
 */
import process from "node:process";
import { Bus } from "../lib/hw/bus.ts";
import { SparseMemory } from "../lib/hw/memory.ts";
import { assemble } from "../lib/hw/riscv/assembler.ts";
import { Hart, StopReason } from "../lib/hw/riscv/hart.ts";
import { integerWorkload } from "../tests/hw/riscv/integer_workload.ts";

const program = assemble(integerWorkload("speed"), { origin: 0x8000_0000 });

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
 * MIPS of one tier: after five warm-up slices (V8 optimizes the compiled blocks in background
 * threads, which a loaded machine delays), the best of five slices, timed by this process's CPU
 * time (user + system), which other load on a shared machine disturbs less than wall time.
 */
function mips(jit: boolean, budget: number): string {
  const hart = machine(jit);
  for (let i = 0; i < 5; i++) runWorkload(hart, budget);
  let best = 0;
  for (let i = 0; i < 5; i++) {
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
