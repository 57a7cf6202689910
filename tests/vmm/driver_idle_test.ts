import assert from "node:assert/strict";
import { HypervisorDriver } from "../../lib/vmm/driver.ts";
import { makeHypervisor } from "./helpers.ts";

Deno.test("driver (realtime): an idle hypervisor sleeps instead of spinning a chunk per tick", async () => {
  const { hv } = makeHypervisor({}, { clock: "realtime" });
  hv.createVm({ path: "/configs/timer.toml" }); // created, not started: nothing to run
  // A wall clock that moves 5 µs each time it is read, as a real one does while code runs.
  let wallMs = 0;
  let reads = 0;
  const now = () => {
    reads++;
    return (wallMs += 0.005);
  };
  const driver = new HypervisorDriver(hv, { now, chunkMs: 8, maxSleepMs: 50 });
  driver.start();
  // One tick: the driver's first timer is due at once.
  await new Promise((resolve) => setTimeout(resolve, 0));
  await driver.stop();
  // Before the fix the tick ran the idle core in 5 µs slices for its whole 8 ms budget.
  assert.ok(reads < 20, `the idle tick read the clock ${reads} times`);
  assert.ok(Math.abs(hv.clock.now() - wallMs * 1e6) < 1e5, "virtual time still follows the wall");
});
