import assert from "node:assert/strict";
import { makeHypervisor } from "./helpers.ts";

const GUEST = new URL("../../examples/guests/hello.S", import.meta.url);
const HELLO_CONFIG = new URL("../../examples/configs/hello.toml", import.meta.url);

async function run(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/** Builds examples/guests/hello.S with GNU binutils (the oracle) into an ELF and a raw binary. */
async function buildWithBinutils(): Promise<{ elf: Uint8Array; raw: Uint8Array }> {
  const dir = await Deno.makeTempDir();
  try {
    await run("riscv64-unknown-elf-as", [
      "-march=rv64imac_zicsr",
      "-o",
      `${dir}/hello.o`,
      GUEST.pathname,
    ]);
    await run("riscv64-unknown-elf-ld", [
      "-Ttext=0x80200000",
      "-o",
      `${dir}/hello.elf`,
      `${dir}/hello.o`,
    ]);
    await run("riscv64-unknown-elf-objcopy", [
      "-O",
      "binary",
      `${dir}/hello.elf`,
      `${dir}/hello.bin`,
    ]);
    return {
      elf: await Deno.readFile(`${dir}/hello.elf`),
      raw: await Deno.readFile(`${dir}/hello.bin`),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("images: the same guest as assembly source, GNU-built ELF and raw binary boots alike", async () => {
  const { elf, raw } = await buildWithBinutils();
  const { hv, fs } = makeHypervisor();
  fs.writeFile("/guests/hello.elf", elf);
  fs.writeFile("/guests/hello.bin", raw);
  const base = Deno.readTextFileSync(HELLO_CONFIG);
  const outputs: string[] = [];
  for (
    const [id, path] of [[1, "/guests/hello.S"], [2, "/guests/hello.elf"], [
      3,
      "/guests/hello.bin",
    ]] as const
  ) {
    const text = base.replace("id = 1", `id = ${id}`).replace("/guests/hello.S", path)
      .replace('name = "hello"', `name = "hello${id}"`);
    const vm = hv.createVm({ text, origin: `hello-${id}.toml` });
    hv.startVm(vm.id);
    assert.ok(hv.runUntil(() => vm.status === "stopped", 1e9), path);
    outputs.push(vm.console.text());
    const entry = 0x8020_0000;
    assert.ok(vm.loadedImages.some((i) => i.gpa <= entry && entry < i.gpa + i.size), path);
  }
  assert.deepEqual(outputs, Array(3).fill("Hello from axvisor.ts!\nGoodbye.\n"));
});
