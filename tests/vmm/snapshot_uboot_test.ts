/**
 * Snapshot, restore and clone of a booted U-Boot guest through the VMM API (warp clock):
 * restoring a snapshot and typing the same commands gives byte-identical console output and
 * identical instruction counts every time, in the same hypervisor and in a fresh one; a clone
 * runs on its own, sharing memory copy-on-write; restoring replaces a running VM's state.
 */
import assert from "node:assert/strict";
import type { Hypervisor, Vm } from "../../mod.ts";
import {
  makeUbootHypervisor,
  NEEDS_UBOOT,
  testNeeding,
  UBOOT_CONFIG,
  UBOOT_SMP_CONFIG,
  UbootConsole,
} from "./uboot_support.ts";

/** Boots U-Boot to its prompt (autoboot stopped) and returns the console driver. */
function bootedUboot(): { hv: Hypervisor; vm: Vm; u: UbootConsole } {
  const { hv } = makeUbootHypervisor();
  const vm = hv.createVm({ path: UBOOT_CONFIG });
  const u = new UbootConsole(hv, vm);
  assert.ok(hv.startVm(vm.id).ok);
  u.stopAutoboot();
  return { hv, vm, u };
}

/** Types a fixed script after a restore; returns what the VM printed and its instructions. */
function replay(hv: Hypervisor, vm: Vm): { text: string; instret: number[]; timeTicks: string } {
  const u = new UbootConsole(hv, vm);
  try {
    const outputs = [
      u.command("echo snapshot-replay"),
      u.command("printenv bootdelay"),
      u.command("setenv foo bar; printenv foo"),
      u.command("md.l 0x80200000 8"),
    ];
    return {
      text: outputs.join("\n--\n") + u.transcript,
      instret: vm.vcpus.map((v) => v.instret),
      timeTicks: String(vm.vcpus[0].hart.readCsr(0xc01)),
    };
  } finally {
    u.close();
  }
}

testNeeding(
  [NEEDS_UBOOT],
  "snapshot: U-Boot restored from a snapshot replays byte-identically (same and fresh hypervisor)",
  async () => {
    const { hv, vm, u } = bootedUboot();
    u.close();
    const snap = await hv.snapshot(vm, { name: "prompt" });
    assert.equal(snap.status, "running");
    assert.ok(snap.pages > 0);
    const first = replay(hv, vm);
    assert.match(first.text, /snapshot-replay\n--\nbootdelay=2\n--\nfoo=bar/);
    for (let round = 0; round < 2; round++) {
      const r = await hv.restore(vm.id, snap.bytes);
      assert.equal(r.status, "running");
      const again = replay(hv, vm);
      assert.equal(again.text, first.text, `console output, round ${round}`);
      assert.deepEqual(again.instret, first.instret, `instruction counts, round ${round}`);
      assert.equal(again.timeTicks, first.timeTicks, `guest time, round ${round}`);
    }
    // A fresh hypervisor (its clock at 0) restores the same guest into a new VM.
    const { hv: hv2 } = makeUbootHypervisor();
    const restored = await hv2.restoreNew(snap.bytes, { id: 5, name: "copy" });
    const vm2 = hv2.vm(restored.vmId)!;
    assert.equal(vm2.name, "copy");
    assert.equal(vm2.status, "running");
    const fresh = replay(hv2, vm2);
    assert.equal(fresh.text, first.text, "console output in a fresh hypervisor");
    assert.deepEqual(fresh.instret, first.instret, "instruction counts in a fresh hypervisor");
    assert.equal(hv.stopVm(vm.id, { force: true }).ok, true);
    assert.equal(hv2.stopVm(vm2.id, { force: true }).ok, true);
  },
);

testNeeding(
  [NEEDS_UBOOT],
  "snapshot: a clone shares memory copy-on-write and runs independently of its source",
  () => {
    const { hv, vm } = bootedUboot();
    const resident = vm.regions[0].memory!.residentBytes();
    const clone = hv.clone(vm, { name: "uboot-clone" });
    assert.equal(clone.status, "running");
    assert.notEqual(clone.id, vm.id);
    assert.equal(clone.regions[0].memory!.residentBytes(), resident);
    assert.ok(clone.regions[0].memory!.sharedPages > 0);
    const a = new UbootConsole(hv, vm);
    const b = new UbootConsole(hv, clone);
    try {
      assert.equal(a.command("setenv who source; echo $who"), "source");
      assert.equal(b.command("echo $who"), "");
      assert.equal(b.command("setenv who clone; echo $who"), "clone");
      assert.equal(a.command("echo $who"), "source");
      // The clone only paid for the pages it wrote.
      assert.ok(clone.regions[0].memory!.sharedPages > 0);
    } finally {
      a.close();
      b.close();
    }
    assert.throws(() => hv.clone(vm, { name: "uboot-clone" }), /already exists/);
    assert.throws(() => hv.clone(vm, { name: "x", id: clone.id }), /already exists/);
    hv.stopVm(vm.id, { force: true });
    hv.stopVm(clone.id, { force: true });
  },
);

testNeeding(
  [NEEDS_UBOOT],
  "snapshot: restoring into a stopped VM brings it back running; --stop stops after the capture",
  async () => {
    const { hv, vm } = bootedUboot();
    const snap = await hv.snapshot(vm.id, { stop: true });
    assert.equal(vm.status, "stopped");
    const r = await hv.restore(vm.id, snap.bytes);
    assert.equal(r.previousStatus, "stopped");
    assert.equal(vm.status, "running");
    const u = new UbootConsole(hv, vm);
    try {
      assert.equal(u.command("echo back"), "back");
    } finally {
      u.close();
    }
    hv.stopVm(vm.id, { force: true });
  },
);

testNeeding(
  [NEEDS_UBOOT],
  "snapshot: a four-vCPU U-Boot replays identically after restore (all vCPUs, tasks, HSM)",
  async () => {
    const { hv } = makeUbootHypervisor();
    const vm = hv.createVm({ path: UBOOT_SMP_CONFIG });
    const u = new UbootConsole(hv, vm);
    assert.ok(hv.startVm(vm.id).ok);
    u.stopAutoboot();
    u.close();
    const snap = await hv.snapshot(vm);
    const first = replay(hv, vm);
    await hv.restore(vm.id, snap.bytes);
    const again = replay(hv, vm);
    assert.equal(again.text, first.text);
    assert.deepEqual(again.instret, first.instret);
    assert.equal(vm.vcpus.length, 4);
    hv.stopVm(vm.id, { force: true });
  },
);
