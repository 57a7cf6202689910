/**
 * The compute workload of the QEMU comparisons (bench/compute_qemu_bench.ts,
 * bench/wasm_tier_bench.ts): bench/workloads/integer.S with {@linkcode ROUNDS} rounds assembled
 * by GNU as into one ELF (and its start-up twin), and a timed QEMU run of an ELF. Not a bench
 * file itself (no `_bench` suffix): the suites import it.
 *
 * @module
 */

/**
 * 400 rounds: QEMU runs them in some 0.6 s, well above its start-up (about 0.15 s here), so the
 * difference of the two medians is not lost in start-up noise (100 rounds took QEMU about as long
 * as its start-up).
 */
export const ROUNDS = 400;
/** The tools the comparisons need. */
export const TOOLS = [
  "riscv64-unknown-elf-as",
  "riscv64-unknown-elf-ld",
  "qemu-system-riscv64",
  "time",
];

function have(tool: string): boolean {
  try {
    return new Deno.Command("which", { args: [tool], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

const missing = TOOLS.filter((t) => !have(t));
/** Why the QEMU comparisons are skipped (a missing tool), or `undefined`. */
export const note = missing.length > 0
  ? `${missing.join(", ")} missing: install binutils-riscv64-unknown-elf qemu-system-misc`
  : undefined;

/**
 * Builds the workload ELF, or (`startupOnly`) its start-up twin: the same image whose first
 * instructions report "pass" at once.
 */
export function buildElf(startupOnly = false): Uint8Array {
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
    if (startupOnly) source = source.replace(/^_start:$/m, "_start:\n  li a0, 1\n  j write_tohost");
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

/** Runs QEMU on `image`; returns its wall and CPU (user + system) milliseconds. */
export async function runQemu(image: Uint8Array): Promise<{ wallMs: number; cpuMs: number }> {
  const path = Deno.makeTempFileSync({ suffix: ".elf" });
  const times = Deno.makeTempFileSync({ suffix: ".time" });
  try {
    Deno.writeFileSync(path, image);
    const t0 = performance.now();
    const out = await new Deno.Command("time", {
      args: [
        ...["-f", "%U %S", "-o", times],
        ...["qemu-system-riscv64", "-M", "spike", "-bios", "none", "-kernel", path, "-nographic"],
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    const wallMs = performance.now() - t0;
    if (out.code !== 0) {
      throw new Error(`QEMU exit ${out.code}: ${new TextDecoder().decode(out.stderr)}`);
    }
    const [user, system] = Deno.readTextFileSync(times).trim().split(/\s+/).slice(-2).map(Number);
    return { wallMs, cpuMs: (user + system) * 1000 };
  } finally {
    Deno.removeSync(path);
    Deno.removeSync(times);
  }
}
