import assert from "node:assert/strict";
import { makeHypervisor } from "./helpers.ts";

Deno.test("vm stats: this boot and all boots are separate; run time never exceeds up time", () => {
  const { hv } = makeHypervisor();
  const vm = hv.createVm({ path: "/configs/hello.toml" });
  hv.startVm(vm.id);
  assert.ok(hv.runUntil(() => vm.status === "stopped", 1e9));
  const first = vm.stats(hv.clock.now());
  hv.runFor(5e6); // idle time between boots counts for nobody
  hv.startVm(vm.id);
  assert.ok(hv.runUntil(() => vm.status === "stopped", 1e9));
  const second = vm.stats(hv.clock.now());
  assert.equal(second.boots, 2);
  assert.equal(second.boot.instret, first.boot.instret, "the same guest retires the same count");
  assert.equal(second.total.instret, 2 * first.boot.instret);
  assert.equal(second.boot.consoleBytes, first.boot.consoleBytes);
  assert.equal(second.total.consoleBytes, 2 * first.boot.consoleBytes);
  assert.equal(second.boot.totalExits, first.boot.totalExits);
  assert.equal(second.total.totalExits, 2 * first.boot.totalExits);
  assert.equal(second.vcpus[0].instret, first.vcpus[0].instret, "per-vCPU rows are this boot");
  for (const s of [first, second]) {
    assert.ok(s.boot.upNs !== undefined && s.boot.upNs > 0);
    for (const v of s.vcpus) assert.ok(v.runNs <= s.boot.upNs!, `${v.runNs} > ${s.boot.upNs}`);
  }
  assert.equal(second.total.runNs, first.boot.runNs + second.boot.runNs);
});

Deno.test("vm stats: a secondary vCPU restarted by HSM keeps its earlier instructions", () => {
  const { hv } = makeHypervisor();
  const vm = hv.createVm({ path: "/configs/smp.toml" });
  hv.startVm(vm.id);
  assert.ok(hv.runUntil(() => vm.status === "stopped", 1e9));
  const s = vm.stats(hv.clock.now());
  assert.equal(s.instret, s.vcpus.reduce((n, v) => n + v.instret, 0));
  for (const v of s.vcpus) assert.ok(v.runNs <= s.boot.upNs!);
});
