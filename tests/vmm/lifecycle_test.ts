import assert from "node:assert/strict";
import type { Hypervisor } from "../../lib/vmm/hypervisor.ts";
import type { LifecycleResult } from "../../lib/vmm/lifecycle.ts";
import { VCpuState, type VmStatus } from "../../lib/vmm/status.ts";
import type { Vm } from "../../lib/vmm/vm.ts";
import { framePool } from "../../lib/hw/frame_pool.ts";
import { makeHypervisor, patchToml } from "./helpers.ts";

const MS = 1e6;
type State = "loaded" | "running" | "suspended" | "stopping" | "stopped";

/** A VM (the interrupt-driven uart guest, which idles in wfi) brought into `state`. */
function vmIn(state: State): { hv: Hypervisor; vm: Vm } {
  const { hv } = makeHypervisor();
  const vm = hv.createVm({ path: "/configs/uart.toml" });
  if (state !== "loaded") {
    assert.ok(hv.startVm(vm.id).ok);
    hv.runFor(MS);
    assert.ok(vm.console.text().includes("ready"));
  }
  if (state === "suspended") assert.ok(hv.suspendVm(vm.id).ok);
  if (state === "stopping") assert.ok(hv.stopVm(vm.id).ok);
  if (state === "stopped") assert.ok(hv.stopVm(vm.id, { force: true }).ok);
  assert.equal(vm.status, state);
  return { hv, vm };
}

type Op = (hv: Hypervisor, id: number) => LifecycleResult;
const OPS: Record<string, Op> = {
  start: (hv, id) => hv.startVm(id),
  stop: (hv, id) => hv.stopVm(id),
  "stop --force": (hv, id) => hv.stopVm(id, { force: true }),
  suspend: (hv, id) => hv.suspendVm(id),
  resume: (hv, id) => hv.resumeVm(id),
  restart: (hv, id) => hv.restartVm(id),
  "restart --force": (hv, id) => hv.restartVm(id, { force: true }),
  delete: (hv, id) => hv.deleteVm(id),
  "delete --force": (hv, id) => hv.deleteVm(id, { force: true }),
};

// Expected: a status right after the call (ok), or the refusal message. "deleted" = gone.
const STATES: State[] = ["loaded", "running", "suspended", "stopping", "stopped"];
const MATRIX: Record<string, (VmStatus | "deleted" | { refused: string })[]> = {
  start: [
    "running",
    { refused: "VM is already running" },
    { refused: "VM is suspended, use 'vm resume' instead" },
    { refused: "VM is stopping, wait for it to fully stop" },
    "running",
  ],
  // A never-started VM stops only with --force, as it deletes only with --force (item 20).
  stop: [
    { refused: "VM is Loaded and was never started, use '--force' to stop it anyway" },
    "stopping",
    "stopping",
    { refused: "VM is already stopping" },
    { refused: "VM is already stopped" },
  ],
  "stop --force": ["stopped", "stopped", "stopped", "stopped", {
    refused: "VM is already stopped",
  }],
  suspend: [
    { refused: "VM is not running, cannot suspend" },
    "suspended",
    { refused: "VM is already suspended" },
    { refused: "VM is stopping, cannot suspend" },
    { refused: "VM is stopped, cannot suspend" },
  ],
  resume: [
    { refused: "VM is not started yet, use 'vm start' instead" },
    { refused: "VM is already running" },
    "running",
    { refused: "VM is stopping, cannot resume" },
    { refused: "VM is stopped, use 'vm start' instead" },
  ],
  restart: ["running", "running", "running", { refused: "VM is currently stopping" }, "running"],
  "restart --force": ["running", "running", "running", "running", "running"],
  delete: [
    { refused: "VM is in Loaded state" },
    { refused: "VM is currently running" },
    { refused: "VM is in Suspended state" },
    { refused: "VM is currently stopping" },
    "deleted",
  ],
  "delete --force": ["deleted", "deleted", "deleted", "deleted", "deleted"],
};

for (const [opName, expectations] of Object.entries(MATRIX)) {
  Deno.test(`lifecycle matrix: ${opName} in every state`, () => {
    STATES.forEach((state, i) => {
      const { hv, vm } = vmIn(state);
      const before = vm.console.totalWritten;
      const r = OPS[opName](hv, vm.id);
      const want = expectations[i];
      const where = `${opName} in ${state}`;
      assert.equal(r.vmId, vm.id);
      assert.equal(r.previousStatus, state, where);
      if (typeof want === "object") {
        assert.equal(r.ok, false, where);
        assert.deepEqual(r.error, { code: "INVALID_STATE", message: want.refused }, where);
        assert.equal(vm.status, state, `${where}: status unchanged`);
        return;
      }
      assert.equal(r.ok, true, `${where}: ${r.error?.message}`);
      if (want === "deleted") {
        assert.equal(hv.vm(vm.id), undefined, where);
        assert.deepEqual(hv.references(vm.id), [], where);
        return;
      }
      assert.equal(vm.status, want, where);
      hv.runFor(MS);
      // Whatever the path, the VM settles: stopping ends stopped, running boots (again).
      const settled = want === "stopping" ? "stopped" : want;
      assert.equal(vm.status, settled, `${where}: after 1 ms`);
      if (settled === "running" && (state !== "suspended" || opName !== "resume")) {
        assert.ok(vm.console.totalWritten > before, `${where}: the guest booted afresh`);
      }
      if (settled === "stopped") assert.equal(vm.vcpuSummary(), "Free:1", where);
    });
  });
}

Deno.test("lifecycle: unknown VM ids are NOT_FOUND for every operation", () => {
  const { hv } = makeHypervisor();
  for (const [name, op] of Object.entries(OPS)) {
    const r = op(hv, 42);
    assert.equal(r.ok, false, name);
    assert.deepEqual(r.error, { code: "NOT_FOUND", message: "VM[42] not found" }, name);
  }
});

Deno.test("lifecycle: suspend blocks every vCPU (Blk), resume runs them again, stop wakes them", () => {
  const { hv } = makeHypervisor();
  const vm = hv.createVm({ path: "/configs/smp.toml" });
  hv.startVm(vm.id);
  hv.runFor(20_000);
  assert.match(vm.vcpuSummary(), /Run:/);
  const s = hv.suspendVm(vm.id);
  assert.equal(s.allSuspended, true);
  assert.equal(vm.vcpuSummary(), "Blk:4");
  // Running vCPUs wait for the resume; those halted in wfi keep waiting for an interrupt.
  assert.equal(vm.waitQueue().length, 4);
  assert.ok(vm.waitQueue().every((w) => w.wait === "vm-suspended" || w.wait === "wfi"));
  assert.ok(vm.waitQueue().some((w) => w.wait === "vm-suspended"));
  const instret = vm.stats().instret;
  hv.runFor(10 * MS);
  assert.equal(vm.stats().instret, instret, "a suspended VM executes nothing");
  assert.ok(hv.resumeVm(vm.id).ok);
  assert.ok(hv.runUntil(() => vm.status === "stopped", 1e9));
  assert.ok(vm.console.text().includes("smp: done"));
});

Deno.test("lifecycle: restart after stop boots afresh (images reloaded, memory and vCPUs reset)", () => {
  const { hv } = makeHypervisor();
  const vm = hv.createVm({ path: "/configs/smp.toml" });
  hv.startVm(vm.id);
  assert.ok(hv.runUntil(() => vm.status === "stopped", 1e9));
  const r = hv.restartVm(vm.id);
  assert.equal(r.path, "start");
  assert.ok(hv.runUntil(() => vm.status === "stopped", 1e9));
  const text = vm.console.text();
  assert.equal(text.split("smp: done").length - 1, 2, text);
  assert.ok(!text.includes("FAIL"));
  assert.equal(vm.boots, 2);
  // Restart of a running VM: stop, wait (no virtual time needed), start.
  hv.startVm(vm.id);
  hv.runFor(10_000);
  const rr = hv.restartVm(vm.id);
  assert.equal(rr.ok, true);
  assert.equal(rr.path, "stop-start");
  assert.equal(rr.waitedNs, 0);
  assert.ok(hv.runUntil(() => vm.status === "stopped", 1e9));
  assert.equal(vm.console.text().split("smp: done").length - 1, 3);
});

Deno.test("lifecycle: SRST reboot restarts the VM; boot delay is virtual and defaults to 0", () => {
  const reboot = `
    .text
_start:
    li a7, 0x4442434E
    li a6, 2
    li a0, 66
    ecall
    li t0, 20000
2:  addi t0, t0, -1
    bnez t0, 2b
    li a7, 0x53525354
    li a6, 0
    li a0, 1
    li a1, 0
    ecall
1:  j 1b
`;
  const cfg = (id: number) =>
    patchToml(
      Deno.readTextFileSync(new URL("../../examples/configs/hello.toml", import.meta.url)),
      {
        id: String(id),
        name: `"r${id}"`,
        kernel_path: '"/guests/reboot.S"',
      },
    );
  const { hv } = makeHypervisor({
    "/guests/reboot.S": reboot,
    "/configs/r1.toml": cfg(1),
    "/configs/r3.toml": cfg(3),
  }, { bootDelaySeconds: 2 });
  const a = hv.createVm({ path: "/configs/r1.toml" });
  const b = hv.createVm({ path: "/configs/r3.toml" });
  hv.startVm(a.id);
  hv.startVm(b.id);
  assert.equal(b.vcpus[0].state, VCpuState.Blocked, "VM 3 waits (3-1)*2 s before its vCPU runs");
  assert.ok(hv.runUntil(() => a.console.text().length >= 3, 1e9));
  assert.equal(a.status, "running");
  assert.equal(a.console.text(), "BBB");
  assert.equal(a.boots, 3);
  assert.equal(b.console.text(), "");
  hv.stopVm(a.id, { force: true });
  assert.equal(a.status, "stopped");
  assert.ok(hv.runUntil(() => b.console.text().length > 0, 5e9));
  assert.ok(hv.clock.now() >= 4e9, "VM 3 started after its 4 s boot delay");
  hv.stopVm(b.id, { force: true });
});

Deno.test("lifecycle: an interrupt that arrives while suspended wakes the vCPU after resume", () => {
  const { hv } = makeHypervisor();
  const vm = hv.createVm({ path: "/configs/timer.toml" });
  hv.startVm(vm.id);
  assert.ok(hv.runUntil(() => vm.console.text().includes("tick 1"), 1e9));
  hv.runFor(100_000);
  assert.equal(vm.waitQueue()[0]?.wait, "wfi");
  hv.suspendVm(vm.id);
  hv.runFor(5 * MS); // the next deadline passes while suspended
  assert.ok(!vm.console.text().includes("tick 2"));
  hv.resumeVm(vm.id);
  assert.ok(hv.runUntil(() => vm.status === "stopped", 1e9));
  assert.match(vm.console.text(), /5 ticks/);
});

Deno.test("delete gives the VM's frames back at once: RAM pages and hart areas (no collector needed)", () => {
  const { hv } = makeHypervisor();
  const pool = framePool()!;
  const cycle = () => {
    const vm = hv.createVm({ path: "/configs/uart.toml" });
    assert.ok(hv.startVm(vm.id).ok);
    hv.runFor(MS);
    const harts = vm.vcpus.map((v) => v.hart);
    assert.ok(hv.deleteVm(vm.id, { force: true }).ok);
    return harts;
  };
  cycle(); // the first cycle may grow the pool and compile code
  const before = pool.usedFrames;
  // A synchronous loop: finalizers cannot run inside it, so only explicit frees keep it flat.
  for (let i = 0; i < 20; i++) cycle();
  assert.equal(pool.usedFrames, before);
  // A deleted VM's hart is inert: it never runs again and keeps its last registers to itself.
  const [hart] = cycle();
  assert.ok(hart.disposed);
  assert.throws(() => hart.reset(0x8000_0000, 1), /disposed/);
  const other = hv.createVm({ path: "/configs/uart.toml" });
  assert.ok(hv.startVm(other.id).ok);
  hart.setXHalves(5, 0x1234, 0);
  assert.notEqual(other.vcpus[0].hart.getXLow(5), 0x1234);
  assert.equal(hart.getXLow(5), 0x1234);
});
