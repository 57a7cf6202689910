import assert from "node:assert/strict";
import { makeFsRoot } from "./harness.ts";

const MOD = new URL("../../mod.ts", import.meta.url).href;

Deno.test("a Deno script outside the repository imports mod.ts (no import map) and drives a VM", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "axvisor-script-" });
  const fsRoot = makeFsRoot();
  try {
    // The README's example, with this repository's mod.ts and a copy of the examples.
    Deno.writeTextFileSync(
      `${dir}/script.ts`,
      [
        `import { HostFileSystem, Hypervisor, loadBoard, waitForConsole } from ${
          JSON.stringify(MOD)
        };`,
        `const fs = new HostFileSystem(${JSON.stringify(fsRoot)});`,
        `const hv = new Hypervisor({ board: loadBoard("qemu-virt"), fs, clock: "warp" });`,
        `const vm = hv.createVm({ path: "/configs/hello.toml" });`,
        `hv.startVm(vm.id);`,
        `const match = await waitForConsole(hv, vm, /Hello from (\\S+)!/, 1e9);`,
        `console.log("greeted from " + match[1]);`,
        `try {`,
        `  await waitForConsole(hv, vm, "never printed", 1e6);`,
        `} catch (e) {`,
        `  console.log((e as Error).name + ": " + (e as Error).message.slice(0, 60));`,
        `}`,
      ].join("\n") + "\n",
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "script.ts"],
      cwd: dir, // outside the repository: its deno.json (and import map) does not apply
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    assert.match(stdout, /^greeted from axvisor\.ts\n/);
    assert.match(
      stdout,
      /ConsoleWaitTimeoutError: VM 1 \(hello\) did not print never printed within 0\.001 s/,
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
    Deno.removeSync(fsRoot, { recursive: true });
  }
});
