/**
 * GNU binutils (Debian `binutils-riscv64-unknown-elf`) as test oracles: assemble a source with
 * `riscv64-unknown-elf-as` + `ld` at {@linkcode ORIGIN} in a temporary directory, and read back
 * objdump's listing. Flags: `-mno-relax` (no linker relaxation), `-mpriv-spec=1.12` (objdump
 * then names every 1.12 CSR).
 *
 * @module
 */

/** Where the GNU-built images are linked. */
export const ORIGIN = 0x8000_0000;
const TOOLS = ["as", "ld", "objcopy", "objdump"].map((t) => `riscv64-unknown-elf-${t}`);
/** GNU as `-march` with every extension of the table Debian's binutils 2.40 knows, and C. */
export const WORDS_MARCH = "rv64imafdc_zicsr_zifencei_zba_zbb_zbs";

/** Runs a tool in `cwd`: its stdout, or an error carrying its stderr. */
export async function run(cmd: string, args: string[], cwd: string): Promise<string> {
  const out = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed:\n${new TextDecoder().decode(out.stderr)}`);
  }
  return text;
}

/** Fails naming the Debian package when a GNU tool is missing. */
export async function toolsPresent(): Promise<void> {
  for (const tool of TOOLS) {
    try {
      await new Deno.Command(tool, { args: ["--version"], stdout: "null", stderr: "null" })
        .output();
    } catch {
      throw new Error(
        `${tool} not found: install the Debian package binutils-riscv64-unknown-elf (.ci/run does)`,
      );
    }
  }
}

/** Assembles with GNU as + ld at ORIGIN; returns the flat image and the ELF path. */
export async function gnuAssemble(
  dir: string,
  name: string,
  source: string,
  march: string,
): Promise<{ image: Uint8Array; data: Uint8Array; elf: string }> {
  await Deno.writeTextFile(`${dir}/${name}.s`, source);
  await run(TOOLS[0], [
    `-march=${march}`,
    "-mabi=lp64",
    "-mno-relax",
    "-mpriv-spec=1.12",
    "-o",
    `${name}.o`,
    `${name}.s`,
  ], dir);
  await run(TOOLS[1], [
    "-Ttext=0x80000000",
    "--no-relax",
    "-e",
    "0x80000000",
    "-o",
    `${name}.elf`,
    `${name}.o`,
  ], dir);
  await run(TOOLS[2], ["-O", "binary", "-j", ".text", `${name}.elf`, `${name}.bin`], dir);
  await run(TOOLS[2], ["-O", "binary", "-j", ".data", `${name}.elf`, `${name}.data`], dir);
  return {
    image: await Deno.readFile(`${dir}/${name}.bin`),
    data: await Deno.readFile(`${dir}/${name}.data`),
    elf: `${name}.elf`,
  };
}

/** objdump's instruction lines: address, word, text (annotations stripped). */
export async function objdump(
  dir: string,
  elf: string,
  aliases = false,
): Promise<Map<number, { word: number; text: string }>> {
  const out = await run(TOOLS[3], ["-d", ...(aliases ? [] : ["-M", "no-aliases"]), elf], dir);
  const lines = new Map<number, { word: number; text: string }>();
  for (const line of out.split("\n")) {
    const m = /^\s*([0-9a-f]+):\t([0-9a-f]+)\s*\t(.*)$/.exec(line);
    if (!m) continue;
    const text = m[3].replace(/\s*#.*$/, "").replace(/\s*<[^>]*>/, "").replace("\t", " ").trim();
    lines.set(parseInt(m[1], 16), { word: parseInt(m[2], 16), text });
  }
  return lines;
}
