import assert from "node:assert/strict";
import { Console, CONSOLE_INPUT_LIMIT } from "../../lib/vmm/console.ts";
import { MAX_CONFIG_CHARS, parseVmConfig } from "../../lib/vmm/config.ts";

Deno.test("console input is bounded: a guest that never reads cannot make the host hoard input", () => {
  const c = new Console();
  assert.equal(c.writeInput(new Uint8Array(CONSOLE_INPUT_LIMIT - 10)), CONSOLE_INPUT_LIMIT - 10);
  assert.equal(c.writeInput(new Uint8Array(100)), 10);
  assert.equal(c.writeInput("x"), 0);
  assert.equal(c.inputPending, CONSOLE_INPUT_LIMIT);
  c.readInput();
  assert.equal(c.writeInput("yz"), 1);
});

Deno.test("a VM config larger than 1 MiB is refused before parsing", () => {
  assert.throws(
    () => parseVmConfig("#".repeat(MAX_CONFIG_CHARS + 1), "/big.toml"),
    /\/big\.toml: the file has \d+ characters; a VM config may have at most 1048576/,
  );
});

Deno.test("vm send refuses what the full console input cannot take, saying so", async () => {
  const { fixture } = await import("../shell/helpers.ts");
  const f = fixture();
  await f.text("vm create /guest/configs/spin.toml");
  await f.text("vm start 1");
  const chunk = "x".repeat(30_000);
  await f.text(`vm send -n 1 ${chunk}`);
  await f.text(`vm send -n 1 ${chunk}`);
  const r = await f.run(`vm send -n 1 ${chunk}`);
  assert.equal(r.ok, false);
  assert.match(r.text, /console input is full \(the guest is not reading it\): 5536 of 30000/);
});
