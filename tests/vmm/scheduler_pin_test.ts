import assert from "node:assert/strict";
import type { HypervisorEvent, VCpuPinEvent } from "../../lib/vmm/events.ts";
import { Scheduler, SchedulerError } from "../../lib/vmm/scheduler.ts";
import { VCpuState } from "../../lib/vmm/status.ts";
import type { VCpu } from "../../lib/vmm/vcpu.ts";
import { makeHypervisor } from "./helpers.ts";

const SPIN = `
    .text
    .globl _start
_start:
    addi t0, t0, 1
    j _start
`;

function spinConfig(id: number, cpus: number, sets?: string): string {
  return `[base]
id = ${id}
name = "spin${id}"
cpu_num = ${cpus}
${sets ? `phys_cpu_sets = ${sets}` : ""}

[kernel]
entry_point = 0x8020_0000
kernel_path = "/guests/spin.S"
kernel_load_addr = 0x8020_0000
memory_regions = [[0x8000_0000, 0x100_0000, 0x7, 0]]
`;
}

/** A fake vCPU for scheduler unit tests (only what the scheduler reads). */
function fakeVcpu(id: number, physCpuSet?: number): VCpu {
  const v = {
    id,
    physCpuSet,
    pcpu: -1,
    state: VCpuState.Ready as number,
    preemptions: 0,
    get runnable(): boolean {
      return v.state === VCpuState.Ready || v.state === VCpuState.Running;
    },
  };
  return v as unknown as VCpu;
}

Deno.test("scheduler: placement honours masks and picks the least loaded pCPU", () => {
  const s = new Scheduler([0, 1, 2, 3], 100);
  assert.equal(s.allMask, 0xf);
  const a = fakeVcpu(0), b = fakeVcpu(1), c = fakeVcpu(2, 0b1000), d = fakeVcpu(3, 0b0011);
  for (const v of [a, b, c, d]) s.place(v);
  assert.deepEqual([a, b, c, d].map((v) => v.pcpu), [0, 1, 3, 0]);
  assert.ok(s.hasTask(a) && s.hasRunnable());
  s.remove(a);
  assert.ok(!s.hasTask(a));
  assert.deepEqual(s.pcpus.map((p) => p.tasks.length), [1, 1, 0, 1]);
  // A mask naming no pCPU of the board is refused by name.
  assert.throws(() => s.place(fakeVcpu(9, 0b1_0000)), SchedulerError);
});

Deno.test("scheduler: runPcpu round-robins slices and preempts only when another task is runnable", () => {
  const s = new Scheduler([0], 10);
  const a = fakeVcpu(0), b = fakeVcpu(1);
  s.place(a);
  s.place(b);
  const ran: number[] = [];
  s.runPcpu(s.pcpus[0], 0, 40, 1, {
    admit: () => true,
    run: (v, _t, budget) => {
      ran.push(v.id, budget);
      return budget;
    },
  });
  assert.deepEqual(ran, [0, 10, 1, 10, 0, 10, 1, 10]);
  assert.equal(a.preemptions, 2);
  assert.equal(s.pcpus[0].busyNs, 40);
  // Nothing runnable: the pCPU stops at once (costs nothing).
  a.state = b.state = VCpuState.Blocked;
  let calls = 0;
  s.runPcpu(s.pcpus[0], 40, 80, 1, {
    admit: () => true,
    run: () => ++calls,
  });
  assert.equal(calls, 0);
});

Deno.test("pinVcpu: moves a running vCPU's task between run queues and emits an event", () => {
  const { hv } = makeHypervisor({ "/guests/spin.S": SPIN });
  const events: HypervisorEvent[] = [];
  hv.on((e) => events.push(e));
  const vm = hv.createVm({ text: spinConfig(3, 2), origin: "spin.toml" });
  assert.ok(hv.startVm(vm.id).ok);
  hv.runFor(1e6);
  const [v0] = vm.vcpus;
  assert.equal(v0.pcpu, 0);
  const r = hv.pinVcpu(vm.id, 0, 0b1100);
  assert.ok(r.ok, r.error?.message);
  assert.equal(r.previousMask, undefined);
  assert.equal(r.from, 0);
  assert.equal(r.to, 2, "the least loaded pCPU of the mask");
  assert.equal(v0.physCpuSet, 0b1100);
  assert.equal(v0.pcpu, 2);
  const pcpus = hv.pcpus();
  assert.ok(!pcpus[0].tasks.includes(v0));
  assert.ok(pcpus[2].tasks.includes(v0));
  const pin = events.find((e): e is VCpuPinEvent => e.type === "vcpu-pin");
  assert.deepEqual(
    { ...pin, timeNs: 0 },
    { type: "vcpu-pin", vmId: 3, vcpuId: 0, mask: 0b1100, from: 0, to: 2, timeNs: 0 },
  );
  // The guest goes on running on its new pCPU; the old one stays idle.
  const before = v0.instret, busy0 = pcpus[0].busyNs, busy2 = pcpus[2].busyNs;
  hv.runFor(1e6);
  assert.ok(v0.instret > before);
  assert.equal(pcpus[0].busyNs, busy0);
  assert.ok(pcpus[2].busyNs > busy2);
  assert.equal(vm.status, "running");
  // Pinning inside the current mask keeps the task where it is.
  const again = hv.pinVcpu(vm.id, 0, 0b0110);
  assert.deepEqual([again.ok, again.from, again.to, again.previousMask], [true, 2, 2, 0b1100]);
});

Deno.test("pinVcpu: a vCPU not started yet is placed by its new mask at start", () => {
  const { hv } = makeHypervisor({ "/guests/spin.S": SPIN });
  const vm = hv.createVm({ text: spinConfig(4, 1, "[0x1]"), origin: "spin.toml" });
  const r = hv.pinVcpu(vm.id, 0, 0b1000);
  assert.deepEqual([r.ok, r.from, r.to], [true, -1, -1]);
  hv.startVm(vm.id);
  assert.equal(vm.vcpus[0].pcpu, 3);
  hv.runFor(1e5);
  assert.ok(vm.vcpus[0].instret > 0);
  // After a stop the task is gone: a new pin takes effect at the next start.
  hv.stopVm(vm.id, { force: true });
  const after = hv.pinVcpu(vm.id, 0, 0b0001);
  assert.deepEqual([after.ok, after.from, after.to], [true, -1, -1]);
  hv.startVm(vm.id);
  assert.equal(vm.vcpus[0].pcpu, 0);
});

Deno.test("pinVcpu: bad VM, vCPU and masks are refused by name, changing nothing", () => {
  const { hv } = makeHypervisor({ "/guests/spin.S": SPIN });
  const vm = hv.createVm({ text: spinConfig(5, 1), origin: "spin.toml" });
  hv.startVm(vm.id);
  const v = vm.vcpus[0];
  const pcpu = v.pcpu;
  const cases: [number, number, number, string, RegExp][] = [
    [9, 0, 1, "NOT_FOUND", /VM\[9\] not found/],
    [5, 1, 1, "NOT_FOUND", /VM\[5\] has no VCpu 1 \(it has 1: 0\.\.0\)/],
    [
      5,
      0,
      0,
      "INVALID_VALUE",
      /pCPU mask 0x0 .*4 pCPU\(s\), so the mask must be between 0x1 and 0xf/,
    ],
    [5, 0, 0x10, "INVALID_VALUE", /pCPU mask 0x10 /],
    [5, 0, 1.5, "INVALID_VALUE", /pCPU mask 1\.5 /],
    [5, 0, -1, "INVALID_VALUE", /pCPU mask -1 /],
  ];
  for (const [vmId, vcpuId, mask, code, re] of cases) {
    const r = hv.pinVcpu(vmId, vcpuId, mask);
    assert.equal(r.ok, false);
    assert.equal(r.error?.code, code);
    assert.match(r.error!.message, re);
  }
  assert.equal(v.physCpuSet, undefined);
  assert.equal(v.pcpu, pcpu);
});

Deno.test("shell vcpu pin goes through Hypervisor.pinVcpu (event, run queues, output)", async () => {
  const { Shell } = await import("../../lib/shell/shell.ts");
  const { ShellSession } = await import("../../lib/shell/session.ts");
  const { hv, fs } = makeHypervisor({ "/guests/spin.S": SPIN });
  const shell = new Shell({ hypervisor: hv, fs });
  const session = new ShellSession();
  const pins: HypervisorEvent[] = [];
  hv.on((e) => {
    if (e.type === "vcpu-pin") pins.push(e);
  });
  const vm = hv.createVm({ text: spinConfig(6, 1), origin: "spin.toml" });
  hv.startVm(vm.id);
  hv.runFor(1e5);
  const out = await shell.execute("vcpu pin 6 0 0x8", session);
  assert.ok(out.ok, out.text);
  assert.equal(out.text, "✓ VM[6] VCpu 0 pinned to pCPU mask 0x8\n  Moved from pCPU 0 to pCPU 3");
  assert.equal(pins.length, 1);
  assert.equal(vm.vcpus[0].pcpu, 3);
  assert.ok(hv.pcpus()[3].tasks.includes(vm.vcpus[0]));
  const bad = await shell.execute("vcpu pin 6 0 0x10", session);
  assert.equal(bad.ok, false);
  assert.equal(pins.length, 1);
});
