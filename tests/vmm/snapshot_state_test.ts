/**
 * State as data around snapshots: timer events are plain data on the clock; a VM waiting for its
 * boot delay keeps waiting (in guest time) after a restore into a fresh hypervisor; the guest's
 * clock continues from the saved time; refusals leave the VM as it was.
 */
import assert from "node:assert/strict";
import { loadBoard } from "../../lib/hw/boards/load.ts";
import { VirtualClock } from "../../lib/vmm/clock.ts";
import { Hypervisor } from "../../lib/vmm/hypervisor.ts";
import { MemoryFileSystem } from "../../lib/vmm/memory_filesystem.ts";
import { SnapshotError } from "../../lib/vmm/snapshot_types.ts";
import { testFiles } from "../shell/helpers.ts";

Deno.test("clock: timer events are data, listed, handled in time order, cancellable", () => {
  const clock = new VirtualClock();
  const fired: string[] = [];
  clock.setEventHandler((e) => fired.push(`${e.kind}:${e.vmId}.${e.vcpuId}@${clock.now()}`));
  clock.scheduleEvent(20, { kind: "b", vmId: 1, vcpuId: 0 }, "VM[1]");
  const h = clock.scheduleEvent(10, { kind: "a", vmId: 2, vcpuId: 1 }, "VM[2]");
  clock.scheduleEvent(10.2, { kind: "c", vmId: 3, vcpuId: 0 });
  assert.deepEqual(clock.pendingEvents().map((p) => [p.at, p.event.kind]), [[10, "a"], [
    11,
    "c",
  ], [20, "b"]]);
  clock.cancel(h);
  clock.advanceTo(25);
  clock.runDue();
  assert.deepEqual(fired, ["c:3.0@25", "b:1.0@25"]);
  assert.deepEqual(clock.pendingEvents(), []);
});

function hypervisor(bootDelaySeconds = 0): Hypervisor {
  return new Hypervisor({
    board: loadBoard("qemu-virt"),
    fs: new MemoryFileSystem(testFiles()),
    bootDelaySeconds,
  });
}

Deno.test("snapshot: a pending boot delay is saved as a timer event and waits on after restore", async () => {
  const hv = hypervisor(1);
  const vm = hv.createVm({ path: "/guest/configs/echo.toml" }); // id 2: waits (2-1) x 1 s
  assert.ok(hv.startVm(vm.id).ok);
  hv.runFor(300e6);
  assert.equal(vm.vcpus[0].wait, "boot-delay");
  const snap = await hv.snapshot(vm);
  const fresh = hypervisor();
  fresh.runFor(7e9); // its clock is far ahead: the delay still counts in the guest's time
  const r = await fresh.restoreNew(snap.bytes);
  const copy = fresh.vm(r.vmId)!;
  assert.equal(copy.vcpus[0].wait, "boot-delay");
  assert.equal(fresh.clock.pendingEvents().length, 1);
  fresh.runFor(650e6);
  assert.equal(copy.console.text(), "", "0.95 s of guest time: still waiting");
  fresh.runFor(100e6);
  assert.equal(copy.console.text(), "> ", "after 1 s of guest time it boots");
  // The original, restored from the same file, behaves the same.
  await hv.restore(vm.id, snap.bytes);
  hv.runFor(750e6);
  assert.equal(vm.console.text(), "> ");
});

Deno.test("snapshot: refusals are clear and change nothing", async () => {
  const hv = hypervisor();
  const vm = hv.createVm({ path: "/guest/configs/spin.toml" });
  hv.startVm(vm.id);
  hv.runFor(1e6);
  hv.stopVm(vm.id);
  assert.equal(vm.status, "stopping");
  await assert.rejects(
    () => hv.snapshot(vm),
    (e) =>
      e instanceof SnapshotError && e.code === "INVALID_STATE" &&
      /while it is Stopping/.test(e.message),
  );
  await assert.rejects(
    () => hv.snapshot(99),
    (e) => e instanceof SnapshotError && e.code === "NOT_FOUND",
  );
  assert.throws(() => hv.clone(vm, { name: "c" }), /while it is Stopping/);
  assert.equal(hv.vms().length, 1);
});
