import assert from "node:assert/strict";
import { HypervisorDriver } from "../../lib/vmm/driver.ts";
import { CONSOLE_BYTES_PER_ROUND, CONSOLE_EVENT_MAX_BYTES } from "../../lib/vmm/hypervisor.ts";
import { guestVm } from "./helpers.ts";

const PUTCHAR_FOREVER = `
1:  li      a7, 1
    li      a0, 'x'
    ecall
    li      a7, 1
    li      a0, 10
    ecall
    j       1b
`;

Deno.test("console output is coalesced: a putchar flood makes one event per round, not per byte", () => {
  const { hv, vm } = guestVm("flood1", PUTCHAR_FOREVER);
  let events = 0;
  let bytes = 0;
  hv.on((e) => {
    if (e.type === "console") {
      events++;
      bytes += e.data.length;
      assert.ok(e.data.length <= CONSOLE_EVENT_MAX_BYTES);
    }
  });
  hv.runFor(1e6); // 1 ms: 10 rounds
  assert.equal(bytes, vm.console.totalWritten, "every byte is delivered");
  assert.ok(bytes > 10_000, `bytes ${bytes}`);
  assert.ok(events <= 2 * Math.ceil(bytes / CONSOLE_EVENT_MAX_BYTES) + 10, `${events} events`);
});

Deno.test("a DBCN write loop cannot flood: the console budget per round stalls the guest", () => {
  const { hv, vm } = guestVm(
    "flood2",
    `
1:  li      a7, 0x4442434E
    li      a6, 0
    li      a0, 0x7fffffff
    li      a1, 0x80000000
    li      a2, 0
    ecall
    j       1b
  `,
  );
  const rounds = 1e6 / hv.quantumNs;
  hv.runFor(1e6);
  const written = vm.console.totalWritten;
  assert.ok(written > 0);
  assert.ok(written <= rounds * (CONSOLE_BYTES_PER_ROUND + 4096), `${written} bytes in 1 ms`);
  assert.ok(vm.vcpus[0].throttledNs > 0);
  assert.equal(vm.status, "running");
});

Deno.test("the driver's slice of the event loop is bounded in wall time, even mid-runFor", async () => {
  const { hv, vm } = guestVm("flood3", PUTCHAR_FOREVER);
  // A fake wall clock that advances 1 ms per reading: every round is 'slow'.
  let wall = 0;
  const driver = new HypervisorDriver(hv, { now: () => (wall += 1), chunkMs: 8, stepNs: 1e9 });
  driver.start();
  await new Promise((r) => setTimeout(r, 0));
  await driver.stop();
  // One chunk ran at most a handful of rounds, not the whole 1 s step.
  assert.ok(hv.clock.now() < 20 * hv.quantumNs, `virtual time ${hv.clock.now()}`);
  assert.ok(vm.console.totalWritten > 0);
});
