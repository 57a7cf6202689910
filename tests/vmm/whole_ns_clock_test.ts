import assert from "node:assert/strict";
import { VirtualClock } from "../../lib/vmm/clock.ts";
import { HypervisorDriver } from "../../lib/vmm/driver.ts";
import { makeHypervisor } from "./helpers.ts";

Deno.test("clock: fractional nanoseconds are never stored (floored now, deadlines rounded up)", () => {
  const clock = new VirtualClock("realtime");
  clock.advanceTo(1_000_000.3);
  assert.equal(clock.now(), 1_000_000);
  const timer = clock.schedule(1_000_000.2, () => {}, "test");
  assert.equal(timer.at, 1_000_001, "a timer never fires early");
  assert.equal(clock.runDue(), 0);
  clock.advanceTo(1_000_001);
  assert.equal(clock.runDue(), 1);
});

Deno.test("driver (realtime): wall time x 1e6 in floating point still gives whole nanoseconds", async () => {
  const { hv } = makeHypervisor({}, { clock: "realtime" });
  // 0.1 + 0.2 ms of wall time: (0.30000000000000004) x 1e6 is not a whole number.
  let wallMs = 0;
  const driver = new HypervisorDriver(hv, { now: () => wallMs, maxSleepMs: 0, chunkMs: 1e9 });
  const vm = hv.createVm({ path: "/configs/timer.toml" });
  const seen: number[] = [];
  const off = hv.on((e) => seen.push(e.timeNs ?? 0));
  hv.startVm(vm.id);
  driver.start();
  try {
    wallMs = 0.1 + 0.2;
    driver.poke();
    assert.equal(await driver.waitFor(() => hv.clock.now() >= 3e5, 1e9), true);
    assert.ok(Number.isInteger(hv.clock.now()), `clock at ${hv.clock.now()}`);
    hv.runFor(1234.5);
    assert.ok(hv.clock.now() >= 3e5 + 1234.5, "a fractional span is run whole (rounded up)");
    assert.ok(Number.isInteger(hv.clock.now()), `clock at ${hv.clock.now()} after runFor`);
    for (const t of seen) assert.ok(Number.isInteger(t), `event at ${t} ns`);
  } finally {
    off();
    await driver.stop();
  }
});
