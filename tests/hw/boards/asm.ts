/**
 * Test helper: assembles RISC-V source with GNU binutils (Debian's binutils-riscv64-unknown-elf)
 * into a flat binary linked at a given address, in a temporary directory.
 */

async function tool(cmd: string, args: string[]): Promise<void> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  } catch (e) {
    throw new Error(`${cmd} is not available (install binutils-riscv64-unknown-elf): ${e}`);
  }
  if (!output.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed:\n${new TextDecoder().decode(output.stderr)}`);
  }
}

/** Assembles `source` (RV64IMAC + Zicsr) linked at `base`; returns the flat image. */
export async function assemble(source: string, base = 0x8000_0000): Promise<Uint8Array> {
  const dir = await Deno.makeTempDir({ prefix: "axvisor-asm-" });
  try {
    await Deno.writeTextFile(`${dir}/p.S`, source);
    await tool("riscv64-unknown-elf-as", [
      "-march=rv64imac_zicsr_zifencei",
      "-o",
      `${dir}/p.o`,
      `${dir}/p.S`,
    ]);
    await tool("riscv64-unknown-elf-ld", [
      `-Ttext=0x${base.toString(16)}`,
      "-o",
      `${dir}/p.elf`,
      `${dir}/p.o`,
    ]);
    await tool("riscv64-unknown-elf-objcopy", ["-O", "binary", `${dir}/p.elf`, `${dir}/p.bin`]);
    return await Deno.readFile(`${dir}/p.bin`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
