/**
 * FP workload speed (examples/guests/fp: n-body + matrix multiply in C, gcc -O2 rv64gc/lp64d)
 * next to the integer workload of hart_bench.ts, and the ratio to QEMU on the same binary when
 * QEMU is installed. Needs riscv64-unknown-elf-gcc (Debian gcc-riscv64-unknown-elf); prints why
 * it cannot run otherwise. Until the exact FPU (lib/hw/riscv/fpu.ts) is merged, the run uses the
 * temporary test shim and says so.
 *
 * @module
 */
import process from "node:process";
import { prepareRun, runMachine } from "../lib/hw/bare_runner.ts";
import { buildFpWorkload } from "../tests/hw/riscv/fp_workload_test.ts";
import { fpAdd, FpRegisters } from "../lib/hw/riscv/fpu.ts";

function fpuIsShim(): boolean {
  try {
    fpAdd(new FpRegisters(), 1, 0, 0, 0, 0);
    return false;
  } catch {
    return true;
  }
}

function ours(elf: Uint8Array): { instret: number; seconds: number } {
  const c0 = process.cpuUsage();
  const r = runMachine(prepareRun({ image: { name: "nbody.elf", bytes: elf } }), {
    maxInsns: 2_000_000_000,
  });
  const cpu = process.cpuUsage(c0);
  if (r.outcome !== "pass") throw new Error(`FP workload did not pass: ${r.message}`);
  return { instret: r.instret, seconds: (cpu.user + cpu.system) / 1e6 };
}

function qemuSeconds(elf: Uint8Array): number | undefined {
  const dir = Deno.makeTempDirSync({ prefix: "fp_bench_" });
  try {
    Deno.writeFileSync(`${dir}/w.elf`, elf);
    const t0 = performance.now();
    const out = new Deno.Command("qemu-system-riscv64", {
      args: ["-M", "spike", "-bios", "none", "-kernel", `${dir}/w.elf`, "-nographic"],
      stdout: "null",
      stderr: "null",
    }).outputSync();
    return out.success ? (performance.now() - t0) / 1000 : undefined;
  } catch {
    return undefined;
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

let small: Uint8Array, large: Uint8Array;
try {
  small = buildFpWorkload(200);
  large = buildFpWorkload(20_000);
} catch (e) {
  console.log(`FP workload: not run (${(e as Error).message.split("\n")[0]})`);
  Deno.exit(0);
}
const shim = fpuIsShim();
ours(small); // warm-up
const a = ours(small);
const b = ours(large);
const instructions = b.instret - a.instret;
const mips = instructions / Math.max(1e-9, b.seconds - a.seconds) / 1e6;
const qs = qemuSeconds(small);
const ql = qemuSeconds(large);
const qemu = qs !== undefined && ql !== undefined && ql > qs
  ? instructions / (ql - qs) / 1e6
  : undefined;
console.log(
  `hart MIPS (FP workload, n-body + matmul, CPU time${
    shim ? ", temporary FPU shim: fpu.ts not merged yet" : ""
  }): ${mips.toFixed(0)}` +
    (qemu === undefined
      ? ""
      : `; QEMU ${qemu.toFixed(0)} MIPS (wall time), ratio ${(mips / qemu).toFixed(3)}`),
);
