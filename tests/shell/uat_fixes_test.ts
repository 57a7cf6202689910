/**
 * Fixes from the user-acceptance pass: `vm create` shows config warnings and names the file,
 * missing or broken images name the config key, `vm wait --state` sees short-lived states,
 * multi-line input errors name the line.
 */
import assert from "node:assert/strict";
import { HypervisorDriver } from "../../lib/vmm/driver.ts";
import { Hypervisor } from "../../lib/vmm/hypervisor.ts";
import { loadBoard } from "../../lib/hw/boards/load.ts";
import { MemoryFileSystem } from "../../lib/vmm/memory_filesystem.ts";
import { Shell } from "../../lib/shell/shell.ts";
import { ShellSession } from "../../lib/shell/session.ts";
import { tokenize, TokenizeError } from "../../lib/shell/tokenizer.ts";
import { fixture, testFiles, vmConfig } from "./helpers.ts";

const TYPO = vmConfig(7, "typo", "spin").replace("cpu_num = 1", "cpu_nm = 1");

Deno.test("vm create: config warnings follow the success line and are in the data", async () => {
  const f = fixture({ "/typo.toml": TYPO });
  const check = await f.text("config check /typo.toml");
  const warning = /⚠ warning: (\/typo\.toml:\d+: unknown key 'base\.cpu_nm' ignored)/.exec(check);
  assert.ok(warning, check);
  const out = await f.run("vm create /typo.toml");
  assert.equal(out.ok, true, out.text);
  const lines = out.text.split("\n");
  const success = lines.indexOf("✓ Successfully created VM[7] from config: /typo.toml");
  assert.ok(success >= 0, out.text);
  assert.equal(lines[success + 1], `  ⚠ warning: ${warning[1]}`);
  const data = out.data as { results: { warnings: string[] }[] };
  assert.deepEqual(data.results[0].warnings, [warning[1]]);
});

Deno.test("vm create: a TOML syntax error names the file and line", async () => {
  const f = fixture({ "/broken.toml": "[base\nid = 1\n" });
  const out = await f.run("vm create /broken.toml");
  assert.equal(out.ok, false);
  assert.match(
    out.text,
    /^✗ Failed to create VM from \/broken\.toml: Configuration error: \/broken\.toml:1: TOML syntax error/m,
  );
});

const NOPE = vmConfig(8, "nope", "spin").replace("/guest/images/spin.S", "/guests/nope.S");
const BAD = vmConfig(9, "bad", "spin").replace("/guest/images/spin.S", "/guests/bad.S");

function keyLine(text: string, key: string): number {
  return text.split("\n").findIndex((l) => l.trimStart().startsWith(`${key} =`)) + 1;
}

Deno.test("missing kernel image: config check and vm create both name config, line and key", async () => {
  const f = fixture({ "/nope.toml": NOPE });
  const expected = `/nope.toml:${keyLine(NOPE, "kernel_path")}: kernel.kernel_path: ` +
    "/guests/nope.S not found";
  const check = await f.run("config check /nope.toml");
  assert.equal(check.ok, false, "an error, since vm create would fail");
  assert.ok(check.text.includes(`✗ error: ${expected}`), check.text);
  const create = await f.run("vm create /nope.toml");
  assert.equal(create.ok, false);
  assert.ok(create.text.includes(`Configuration error: ${expected}`), create.text);
});

Deno.test("missing dtb/ramdisk/bios images are config check errors naming their key", async () => {
  const text = NOPE.replace("/guests/nope.S", "/guest/images/spin.S").replace(
    "[kernel]\n",
    '[kernel]\ndtb_path = "/no.dtb"\nbios_path = "/no.bin"\n' +
      'ramdisk_path = "/no.img"\nramdisk_load_addr = 0x8100_0000\n',
  );
  const f = fixture({ "/imgs.toml": text });
  const check = await f.run("config check /imgs.toml");
  assert.equal(check.ok, false);
  for (
    const [key, file] of [["dtb_path", "/no.dtb"], ["bios_path", "/no.bin"], [
      "ramdisk_path",
      "/no.img",
    ]]
  ) {
    assert.ok(
      check.text.includes(
        `✗ error: /imgs.toml:${keyLine(text, key)}: kernel.${key}: ${file} not found`,
      ),
      check.text,
    );
  }
  const create = await f.run("vm create /imgs.toml");
  assert.equal(create.ok, false);
  assert.match(
    create.text,
    /Configuration error: \/imgs\.toml:\d+: kernel\.bios_path: \/no\.bin not found/,
  );
});

Deno.test("a guest that fails to assemble: the config key and the image's own file:line", async () => {
  const f = fixture({ "/bad.toml": BAD, "/guests/bad.S": "_start:\n  nop\n  frobnicate a0\n" });
  const where = `/bad.toml:${keyLine(BAD, "kernel_path")}: kernel.kernel_path: /guests/bad.S: `;
  const check = await f.run("config check /bad.toml");
  assert.equal(check.ok, false);
  assert.match(check.text, new RegExp(`✗ error: ${where}assembly failed: /guests/bad\\.S:3`));
  const create = await f.run("vm create /bad.toml");
  assert.equal(create.ok, false);
  assert.match(
    create.text,
    new RegExp(`Configuration error: ${where}assembly failed: /guests/bad\\.S:3`),
  );
});

Deno.test("vm wait --state (realtime): a state reached and left inside one chunk counts", async () => {
  const fs = new MemoryFileSystem(testFiles());
  const hv = new Hypervisor({ board: loadBoard("qemu-virt"), fs, clock: "realtime" });
  const shell = new Shell({ hypervisor: hv, fs });
  const session = new ShellSession();
  let wallMs = 0;
  const driver = new HypervisorDriver(hv, { now: () => wallMs, maxSleepMs: 0, chunkMs: 1e9 });
  driver.start();
  try {
    assert.equal((await shell.execute("vm create /guest/configs/bye.toml", session)).ok, true);
    const waiting = shell.execute("vm wait bye --state running --timeout 50ms", session);
    // Let the command reach its wait (a zero-delay turn of the event loop, not a sleep).
    await new Promise((r) => setTimeout(r, 0));
    assert.equal(hv.startVm(3).ok, true);
    wallMs = 5; // one chunk: the guest boots, prints and shuts down inside it
    driver.poke();
    await new Promise((r) => setTimeout(r, 0));
    assert.equal(hv.vm(3)!.status, "stopped");
    wallMs = 100; // past the wait's timeout
    driver.poke();
    const out = await waiting;
    assert.equal(out.ok, true, out.text);
    assert.match(out.text, /^✓ VM\[3\] reached state Running after/);
    assert.equal((out.data as { stateLeft: boolean }).stateLeft, true);
  } finally {
    await driver.stop();
  }
});

Deno.test("vm wait --console sees output that scrolled out of the ring buffer", async () => {
  const f = fixture();
  await f.text("vm create /guest/configs/spin.toml");
  const vm = f.hv.vm(1)!;
  // Output larger than the console ring arrives during the wait: MARK scrolls out of the ring
  // before the wait looks at it again.
  f.hv.clock.schedule(f.hv.clock.now() + 1000, () => {
    vm.console.write(new TextEncoder().encode("MARK" + "x".repeat(vm.console.capacity + 16)));
  }, "test output");
  const out = await f.run("vm wait 1 --new --console MARK --timeout 1ms");
  assert.equal(out.ok, true, out.text);
  assert.ok(!vm.console.text().includes("MARK"), "MARK has left the ring buffer");
});

Deno.test("tokenizer: errors in multi-line input name the line and column", async () => {
  assert.deepEqual(tokenize('echo "a\nb"'), ["echo", "a\nb"]);
  assert.throws(
    () => tokenize('echo x\necho "a\nb'),
    (e) =>
      e instanceof TokenizeError &&
      e.message === 'Unclosed double quote (") starting at line 2, column 6',
  );
  assert.throws(
    () => tokenize("a\nb\\"),
    (e) =>
      e instanceof TokenizeError &&
      e.message === "Trailing backslash at line 2, column 2: nothing to escape",
  );
  const f = fixture();
  const out = await f.run('echo "a\nb"');
  assert.equal(out.ok, true);
  assert.equal(out.text, "a\nb");
});
