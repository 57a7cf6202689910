/**
 * The compute loop against QEMU TCG, same binary, same run: bench/workloads/integer.S with 100
 * rounds instead of 4 (about 120 M instructions; the final checksum comparison is dropped since
 * it holds for 4 rounds only) assembled by GNU as into one ELF, run by the bare machine (as
 * `deno task bare` does) and by `qemu-system-riscv64 -M spike -bios none` (QEMU's process start
 * included, a few tens of milliseconds). Prints MIPS for both and the ratio (goal: >= 1.0).
 *
 * Needs riscv64-unknown-elf-as/ld (binutils-riscv64-unknown-elf) and qemu-system-riscv64
 * (qemu-system-misc); a missing tool skips the cases with a message.
 *
 * @module
 */

import process from "node:process";
import { prepareRun, runMachine } from "../lib/hw/bare_runner.ts";

const ROUNDS = 100;
const TOOLS = ["riscv64-unknown-elf-as", "riscv64-unknown-elf-ld", "qemu-system-riscv64"];

function have(tool: string): boolean {
  try {
    return new Deno.Command("which", { args: [tool], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

const missing = TOOLS.filter((t) => !have(t));
const note = missing.length > 0
  ? `${missing.join(", ")} missing: install binutils-riscv64-unknown-elf qemu-system-misc`
  : undefined;

/** Builds the ELF (once). */
function buildElf(): Uint8Array {
  const dir = Deno.makeTempDirSync({ prefix: "compute_qemu_" });
  try {
    let source = Deno.readTextFileSync(new URL("workloads/integer.S", import.meta.url));
    source = source.replace(/^\.equ ROUNDS, \d+$/m, `.equ ROUNDS, ${ROUNDS}`)
      .replace(/^ {2}bne s11, t0, fail_sum\n/m, "")
      .replace(/^tohost: \.dword 0$/m, ".type tohost, @object\n.size tohost, 8\ntohost: .dword 0")
      .replace(
        /^fromhost: \.dword 0$/m,
        ".type fromhost, @object\n.size fromhost, 8\nfromhost: .dword 0",
      );
    Deno.writeTextFileSync(`${dir}/w.S`, source);
    Deno.writeTextFileSync(
      `${dir}/link.ld`,
      "OUTPUT_ARCH(riscv)\nENTRY(_start)\nSECTIONS {\n  . = 0x80000000;\n  .text : { *(.text) }\n" +
        "  . = ALIGN(0x1000);\n  .data : { *(.data) }\n  .bss : { *(.bss) }\n}\n",
    );
    const run = (cmd: string, args: string[]) => {
      const out = new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).outputSync();
      if (!out.success) throw new Error(`${cmd}: ${new TextDecoder().decode(out.stderr)}`);
    };
    run("riscv64-unknown-elf-as", ["-march=rv64im_zicsr", "-o", `${dir}/w.o`, `${dir}/w.S`]);
    run("riscv64-unknown-elf-ld", ["-T", `${dir}/link.ld`, "-o", `${dir}/w.elf`, `${dir}/w.o`]);
    return Deno.readFileSync(`${dir}/w.elf`);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

let elf: Uint8Array | undefined;
let instructions = 0;
const wall = new Map<string, number[]>();
const cpuMips: number[] = [];
const AXVISOR = "axvisor.ts bare machine (interpreter + compiled blocks)";
const QEMU = "qemu-system-riscv64 -M spike (TCG)";

function record(name: string, ms: number): void {
  const list = wall.get(name) ?? [];
  list.push(ms);
  wall.set(name, list);
}

Deno.bench({
  name: note ? `${AXVISOR} (skipped: ${note})` : AXVISOR,
  group: "compute loop vs QEMU",
  ignore: note !== undefined,
  n: 5,
  warmup: 1,
  fn: (b) => {
    elf ??= buildElf();
    const prepared = prepareRun({ image: { name: "integer.elf", bytes: elf } });
    const cpu = process.cpuUsage();
    b.start();
    const t0 = performance.now();
    const result = runMachine(prepared, { maxInsns: 10_000_000_000 });
    const ms = performance.now() - t0;
    b.end();
    const used = process.cpuUsage(cpu);
    if (result.outcome !== "pass") throw new Error(`workload: ${result.message}`);
    instructions = result.instret;
    record(AXVISOR, ms);
    cpuMips.push(result.instret / ((used.user + used.system) / 1e6) / 1e6);
  },
});

Deno.bench({
  name: note ? `${QEMU} (skipped: ${note})` : QEMU,
  group: "compute loop vs QEMU",
  baseline: true,
  ignore: note !== undefined,
  n: 5,
  warmup: 1,
  fn: async (b) => {
    elf ??= buildElf();
    const path = Deno.makeTempFileSync({ suffix: ".elf" });
    try {
      Deno.writeFileSync(path, elf);
      b.start();
      const t0 = performance.now();
      const out = await new Deno.Command("qemu-system-riscv64", {
        args: ["-M", "spike", "-bios", "none", "-kernel", path, "-nographic"],
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).output();
      const ms = performance.now() - t0;
      b.end();
      if (out.code !== 0) {
        throw new Error(`QEMU exit ${out.code}: ${new TextDecoder().decode(out.stderr)}`);
      }
      record(QEMU, ms);
    } finally {
      Deno.removeSync(path);
    }
  },
});

globalThis.addEventListener("unload", () => {
  if (wall.size === 0 || instructions === 0) return;
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
  console.log(`\nCompute loop (${(instructions / 1e6).toFixed(0)} M instructions), median wall:`);
  for (const [name, list] of wall) {
    console.log(
      `  ${name}: ${median(list).toFixed(0)} ms, ${
        (instructions / median(list) / 1e3).toFixed(0)
      } MIPS`,
    );
  }
  const ours = wall.get(AXVISOR);
  const qemu = wall.get(QEMU);
  if (ours && qemu) {
    console.log(
      `  axvisor.ts / QEMU speed: ${(median(qemu) / median(ours)).toFixed(2)} ` +
        `(axvisor.ts by CPU time: ${median(cpuMips).toFixed(0)} MIPS)`,
    );
  }
});
