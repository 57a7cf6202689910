/**
 * The FP workload guest (examples/guests/fp: an n-body simulation and a matrix multiply in C,
 * built with Debian's riscv64-unknown-elf-gcc at -O2 for rv64gc/lp64d) prints the same
 * checksums (raw IEEE bits) on our hart, through the bare runner, as on QEMU. Before the exact
 * FPU (fpu.ts) is merged the test runs on the temporary double-based shim, which is exact for
 * this program's operations in round-to-nearest (+, -, *, /, sqrt, conversions; the build turns
 * FMA contraction off so that no fused operation is needed).
 */
import assert from "node:assert/strict";
import { prepareRun, runMachine } from "../../../lib/hw/bare_runner.ts";

const GCC = "riscv64-unknown-elf-gcc";
const QEMU = "qemu-system-riscv64";
const SRC = new URL("../../../examples/guests/fp/", import.meta.url).pathname;

function have(cmd: string): boolean {
  try {
    return new Deno.Command(cmd, { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** Builds the guest with `steps` n-body steps; returns the ELF bytes. */
export function buildFpWorkload(steps: number): Uint8Array {
  const dir = Deno.makeTempDirSync({ prefix: "fp_workload_" });
  try {
    const out = new Deno.Command(GCC, {
      args: [
        "-march=rv64gc",
        "-mabi=lp64d",
        "-O2",
        "-ffp-contract=off",
        "-fno-math-errno",
        "-ffreestanding",
        "-nostdlib",
        "-mcmodel=medany",
        `-DSTEPS=${steps}`,
        "-T",
        `${SRC}link.ld`,
        "-o",
        `${dir}/nbody.elf`,
        `${SRC}start.S`,
        `${SRC}nbody.c`,
      ],
      stderr: "piped",
    }).outputSync();
    if (!out.success) throw new Error(`gcc failed:\n${new TextDecoder().decode(out.stderr)}`);
    return Deno.readFileSync(`${dir}/nbody.elf`);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

function runOnQemu(elf: Uint8Array): string {
  const dir = Deno.makeTempDirSync({ prefix: "fp_workload_q_" });
  try {
    Deno.writeFileSync(`${dir}/nbody.elf`, elf);
    const out = new Deno.Command("timeout", {
      args: [
        "60",
        QEMU,
        "-M",
        "spike",
        "-bios",
        "none",
        "-kernel",
        `${dir}/nbody.elf`,
        "-nographic",
      ],
      stdout: "piped",
      stderr: "piped",
    }).outputSync();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    return new TextDecoder().decode(out.stdout);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

const missing = [GCC, QEMU].filter((c) => !have(c));

Deno.test({
  name: "fp workload: n-body and matrix multiply print the same checksums as on QEMU",
  ignore: missing.length > 0 && Deno.env.get("CI") !== "true",
  fn() {
    assert.deepEqual(missing, [], ".ci/run installs gcc-riscv64-unknown-elf and QEMU");
    const elf = buildFpWorkload(300);
    const chunks: Uint8Array[] = [];
    const result = runMachine(prepareRun({ image: { name: "nbody.elf", bytes: elf } }), {
      maxInsns: 50_000_000,
      output: (b) => chunks.push(b.slice()),
    });
    const ours = new TextDecoder().decode(
      new Uint8Array(chunks.flatMap((c) => [...c])),
    );
    assert.equal(result.outcome, "pass", result.message);
    assert.match(ours, /^nbody e0 [0-9a-f]{16} e1 [0-9a-f]{16} e1\*1e9 [0-9a-f]{16}\n/);
    assert.match(ours, /\nmatmul trace [0-9a-f]{16} fsum [0-9a-f]{16}\n$/);
    assert.equal(ours, runOnQemu(elf));
  },
});
