import assert from "node:assert/strict";
import { HypervisorDriver } from "../../lib/vmm/driver.ts";
import { makeHypervisor } from "./helpers.ts";

Deno.test("driver (warp): runs the core in the background; waitFor resolves on the predicate", async () => {
  const { hv } = makeHypervisor();
  const driver = new HypervisorDriver(hv);
  driver.start();
  const vm = hv.createVm({ path: "/configs/timer.toml" });
  hv.startVm(vm.id);
  driver.poke();
  assert.equal(await hv.waitFor(() => vm.status === "stopped", 1e9), true);
  assert.match(vm.console.text(), /5 ticks/);
  // A wait that cannot succeed ends after its virtual timeout.
  const t0 = hv.clock.now();
  assert.equal(await hv.waitFor(() => false, 2e6), false);
  assert.ok(hv.clock.now() >= t0 + 2e6);
  await driver.stop();
  assert.equal(driver.running, false);
  assert.equal(driver.error, undefined);
});

Deno.test("driver (realtime): virtual time never runs ahead of the wall clock", async () => {
  const { hv } = makeHypervisor({}, { clock: "realtime" });
  let wallMs = 0;
  const driver = new HypervisorDriver(hv, { now: () => wallMs, maxSleepMs: 0, chunkMs: 1e9 });
  const vm = hv.createVm({ path: "/configs/timer.toml" });
  hv.startVm(vm.id);
  driver.start();
  wallMs = 2.5;
  driver.poke();
  assert.equal(await driver.waitFor(() => hv.clock.now() >= 2.5e6, 1e9), true);
  assert.equal(hv.clock.now(), 2.5e6, "exactly the wall clock, never beyond");
  assert.match(vm.console.text(), /tick 2\n$/);
  wallMs = 10;
  assert.equal(await driver.waitFor(() => vm.status === "stopped", 1e9), true);
  assert.ok(hv.clock.now() <= 10e6);
  await driver.stop();
});

Deno.test("driver (realtime): with nothing runnable, a tick catches up once instead of spinning", async () => {
  const { hv } = makeHypervisor({}, { clock: "realtime" });
  let wallMs = 0;
  // Every reading of the wall clock moves it by 1 µs, as a real clock does while code runs.
  const driver = new HypervisorDriver(hv, { now: () => (wallMs += 0.001), chunkMs: 8 });
  let steps = 0;
  const runFor = hv.runFor.bind(hv);
  hv.runFor = (ns: number, shouldYield?: () => boolean) => {
    steps++;
    return runFor(ns, shouldYield);
  };
  driver.start();
  await new Promise((resolve) => setTimeout(resolve, 0)); // the first tick
  await driver.stop();
  assert.ok(steps > 0 && steps <= 2, `${steps} runFor calls in an idle tick`);
});
