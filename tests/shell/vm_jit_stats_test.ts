import assert from "node:assert/strict";
import { fixture, spinVmIn } from "./helpers.ts";
import type { VmJitStats } from "../../lib/shell/commands/vm_jit_stats.ts";

Deno.test("vm stats --jit: instructions per tier, block exits, traps, the code cache", async () => {
  const f = fixture();
  await spinVmIn(f, "running");
  const out = await f.run("vm stats --jit 1");
  assert.ok(out.ok);
  const text = out.text;
  assert.match(text, /\n {2}EXECUTION {20}TOTAL {10}VCPU 0\n/);
  assert.match(text, /\n {2}Interpreted instructions {5}[1-9]\d* +[1-9]\d*\n/);
  assert.match(text, /\n {2}Block exits: budget +\d+ +\d+\n/);
  assert.match(text, /\n {2}Units entered from units +\d+ +\d+\n/);
  assert.match(text, /\n {2}Code cache \(all harts\): \d+ block sources parsed/);
  const data = out.data as { jit: VmJitStats; instret: number };
  const v0 = data.jit.vcpus[0]!;
  assert.ok(v0.instret > 0 && data.instret > 0);
  assert.equal(v0.interpretedInstructions + v0.blockInstructions, v0.instret);
  const plain = await f.run("vm stats 1");
  assert.ok(!plain.text.includes("EXECUTION"));
  assert.equal((plain.data as { jit?: unknown }).jit, undefined);
});
