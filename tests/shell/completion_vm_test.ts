import assert from "node:assert/strict";
import { fixture, vmConfig } from "./helpers.ts";

Deno.test("completion: vm stop offers only VMs it can stop; ids sort as numbers", async () => {
  const files: Record<string, string> = {};
  for (const id of [2, 10, 11]) {
    files[`/guest/configs/s${id}.toml`] = vmConfig(id, `s${id}`, "spin", { memory: 0x40_0000 });
  }
  const f = fixture(files);
  await f.text("vm create /guest/configs/s2.toml /guest/configs/s10.toml /guest/configs/s11.toml");
  await f.text("vm start 2 10");
  f.hv.runFor(1e6);
  await f.text("vm stop --force 10");
  // 2 runs, 10 is stopped, 11 was never started.
  assert.deepEqual(f.shell.complete("vm stop ", f.session), ["2", "s2"]);
  assert.deepEqual(f.shell.complete("vm start ", f.session), ["10", "11", "s10", "s11"]);
  assert.deepEqual(f.shell.complete("vm show ", f.session), [
    "2",
    "10",
    "11",
    "s10",
    "s11",
    "s2",
  ]);
  assert.deepEqual(f.shell.complete("vm show 1", f.session), ["10", "11"]);
});
