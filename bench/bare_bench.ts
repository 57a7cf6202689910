/**
 * Interpreter speed on the fixed integer workload (bench/workloads/integer.S: loops, insertion
 * sort, bitwise CRC-32, multiply/divide), run the way `deno task bare` runs it. Each iteration
 * loads a fresh machine and runs the workload to its HTIF pass; loading is excluded from the
 * timing. A MIPS summary (best and median iteration) is printed when the run ends.
 *
 * Target (issue 2): at least 150 MIPS on one core of the development machine.
 */

import process from "node:process";
import { fileURLToPath } from "node:url";
import { type PreparedRun, prepareRun, runMachine } from "../lib/hw/bare_runner.ts";
import { loadBoard } from "../lib/hw/boards/mod.ts";

const WORKLOAD = "workloads/integer.S";
const source = Deno.readFileSync(fileURLToPath(new URL(WORKLOAD, import.meta.url)));
const image = { name: WORKLOAD, bytes: source };
const qemuVirt = loadBoard("qemu-virt");

/** Per benchmark: MIPS by wall-clock time, and by the process's CPU time (steadier on a shared machine). */
const samples = new Map<string, { wall: number[]; cpu: number[] }>();

function measure(name: string, prepare: () => PreparedRun) {
  return (b: Deno.BenchContext) => {
    const prepared = prepare();
    const cpu = process.cpuUsage();
    b.start();
    const result = runMachine(prepared, { maxInsns: 100_000_000 });
    b.end();
    const used = process.cpuUsage(cpu);
    if (result.outcome !== "pass") {
      throw new Error(`${name}: workload did not pass: ${result.message}`);
    }
    const entry = samples.get(name) ?? { wall: [], cpu: [] };
    entry.wall.push(result.mips);
    entry.cpu.push(result.instret / ((used.user + used.system) / 1e6) / 1e6);
    samples.set(name, entry);
  };
}

const BARE = "integer workload, bare machine (one hart, HTIF)";
const BOARD = "integer workload, qemu-virt board (hart 0 works, harts 1-3 park in wfi)";

Deno.bench({
  name: BARE,
  group: "interpreter",
  baseline: true,
  fn: measure(BARE, () => prepareRun({ image })),
});

Deno.bench({
  name: BOARD,
  group: "interpreter",
  fn: measure(BOARD, () => prepareRun({ image, board: qemuVirt })),
});

globalThis.addEventListener("unload", () => {
  const summary = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    return `best ${sorted[sorted.length - 1].toFixed(1)}, median ${median.toFixed(1)}`;
  };
  for (const [name, { wall, cpu }] of samples) {
    console.log(
      `${name}: MIPS by wall time ${summary(wall)}; by CPU time ${
        summary(cpu)
      } (${wall.length} runs)`,
    );
  }
});
