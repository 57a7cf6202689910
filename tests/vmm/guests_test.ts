import assert from "node:assert/strict";
import type { HypervisorEvent } from "../../lib/vmm/events.ts";
import { VCpuState } from "../../lib/vmm/status.ts";
import { makeHypervisor } from "./helpers.ts";

const SECOND = 1e9;

Deno.test("guest hello: SBI DBCN and legacy putchar reach the console; SRST shuts down", () => {
  const { hv } = makeHypervisor();
  const events: HypervisorEvent[] = [];
  hv.on((e) => events.push(e));
  const vm = hv.createVm({ path: "/configs/hello.toml" });
  assert.equal(vm.status, "loaded");
  assert.ok(hv.startVm(vm.id).ok);
  assert.ok(hv.runUntil(() => vm.status === "stopped", SECOND));
  assert.equal(vm.console.text(), "Hello from axvisor.ts!\nGoodbye.\n");
  assert.equal(vm.stats().exits.SystemDown, 1);
  assert.equal(vm.vcpuSummary(), "Free:1");
  const statuses = events.filter((e) => e.type === "status").map((e) =>
    e.type === "status" && e.to
  );
  assert.deepEqual(statuses, ["loaded", "running", "stopping", "stopped"]);
  const consoleBytes = events.filter((e) => e.type === "console").reduce(
    (n, e) => n + (e.type === "console" ? e.data.length : 0),
    0,
  );
  assert.equal(consoleBytes, vm.console.text().length);
});

Deno.test("guest smp: 4 vCPUs via HSM hart_start, IPIs to self, another and all, hart_stop", () => {
  const { hv } = makeHypervisor();
  const ups: number[] = [];
  hv.on((e) => {
    if (e.type === "vcpu" && e.change === "up") ups.push(e.vcpuId);
  });
  const vm = hv.createVm({ path: "/configs/smp.toml" });
  hv.startVm(vm.id);
  // Before any guest instruction only the primary vCPU has a task.
  assert.equal(vm.vcpuSummary(), "Free:3,Rdy:1");
  assert.ok(hv.runUntil(() => vm.status === "stopped", SECOND));
  const text = vm.console.text();
  assert.ok(!text.includes("FAIL"), text);
  for (
    const line of [
      "smp: hart 1 up",
      "smp: hart 2 up",
      "smp: hart 3 up",
      "smp: all harts up",
      "smp: IPIs self, other, broadcast delivered",
      "smp: hart 3 stops",
      "smp: done",
    ]
  ) {
    assert.ok(text.includes(line), `missing ${line} in\n${text}`);
  }
  assert.equal(text.split("got IPI").length - 1, 6, "self 1 + other 1 + broadcast 4");
  assert.deepEqual(ups, [0, 1, 2, 3]);
  const s = vm.stats();
  assert.equal(s.exits.SendIPI, 3);
  assert.equal(s.exits.CpuUp, 5, "3 starts + 2 refused");
  assert.equal(s.exits.CpuDown, 1);
  assert.equal(s.exits.SystemDown, 1);
  // Each vCPU ran on the pCPU its phys_cpu_sets mask allows.
  assert.deepEqual(vm.vcpus.map((v) => v.pcpu), [0, 1, 2, 3]);
  assert.ok(s.vcpus.every((v) => v.instret > 0));
});

Deno.test("guest timer: SBI set_timer interrupts wake wfi; idle time is skipped", () => {
  const { hv } = makeHypervisor();
  const vm = hv.createVm({ path: "/configs/timer.toml" });
  hv.startVm(vm.id);
  assert.ok(hv.runUntil(() => vm.status === "stopped", SECOND));
  const text = vm.console.text();
  assert.match(text, /timer: tick 1\n.*tick 5\ntimer: 5 ticks, 5 ms of guest time\n$/s);
  assert.equal(vm.stats().exits.Halt, 5);
  assert.ok(hv.clock.now() >= 5e6 && hv.clock.now() < 6e6, `virtual time ${hv.clock.now()}`);
  // The guest mostly slept: it retired far fewer instructions than 5 ms at 100 MIPS would allow.
  assert.ok(vm.stats().instret < 10_000, `instret ${vm.stats().instret}`);
});

Deno.test("guest uart: MMIO output, receive interrupts through the PLIC, input echo", () => {
  const { hv } = makeHypervisor();
  const vm = hv.createVm({ path: "/configs/uart.toml" });
  hv.startVm(vm.id);
  assert.ok(hv.runUntil(() => vm.console.text().includes("ready"), SECOND));
  hv.runFor(1e6);
  assert.equal(vm.vcpus[0].state, VCpuState.Blocked, "idle in wfi");
  vm.console.writeInput("hello\n");
  assert.ok(hv.runUntil(() => vm.console.text().includes("HELLO\n"), SECOND));
  vm.console.writeInput("q");
  assert.ok(hv.runUntil(() => vm.status === "stopped", SECOND));
  assert.equal(vm.console.text(), "uart: ready, type to echo, q quits\nHELLO\nuart: bye\n");
  const s = vm.stats();
  assert.ok(s.exits.MmioWrite > 40 && s.exits.MmioRead > 40);
  assert.ok(s.exits.ExternalInterrupt >= 2);
});

Deno.test("guests ivc_pub + ivc_sub: a channel between two VMs with really shared memory", () => {
  const { hv } = makeHypervisor();
  const sub = hv.createVm({ path: "/configs/ivc_sub.toml" });
  const pub = hv.createVm({ path: "/configs/ivc_pub.toml" });
  hv.startVm(sub.id);
  hv.runFor(50_000); // the subscriber retries before anything is published
  hv.startVm(pub.id);
  assert.ok(hv.runUntil(() => pub.status === "stopped" && sub.status === "stopped", SECOND));
  assert.equal(sub.console.text(), "ivc_sub: message: hello over IVC\nivc_sub: unsubscribed\n");
  assert.equal(
    pub.console.text(),
    "ivc_pub: published\nivc_pub: acknowledged\nivc_pub: unpublished\n",
  );
  assert.deepEqual(hv.ivcChannels(), []);
  assert.equal(pub.ivcMappings.length + sub.ivcMappings.length, 0);
});

Deno.test("guest fault: a nested page fault stops only that VM, naming address, pc and vCPU", () => {
  const { hv } = makeHypervisor();
  const faults: string[] = [];
  hv.on((e) => e.type === "fault" && faults.push(e.message));
  const smp = hv.createVm({ path: "/configs/smp.toml" });
  const bad = hv.createVm({ path: "/configs/fault.toml" });
  hv.startVm(smp.id);
  hv.startVm(bad.id);
  assert.ok(hv.runUntil(() => smp.status === "stopped", SECOND));
  assert.equal(bad.status, "stopped");
  assert.equal(faults.length, 1);
  assert.match(
    faults[0],
    /^VM\[5\] VCpu\[0\] nested page fault: 8-byte read at unmapped guest-physical address 0x40000000 .* at pc 0x80200028$/,
  );
  assert.equal(bad.lastError, faults[0]);
  assert.equal(bad.console.text(), "fault: touching unmapped memory\n");
  assert.ok(smp.console.text().includes("smp: done"), "the other VM is unaffected");
  // A faulted VM can be started again.
  assert.ok(hv.startVm(bad.id).ok);
  assert.ok(hv.runUntil(() => bad.status === "stopped", SECOND));
  assert.equal(bad.console.text(), "fault: touching unmapped memory\n".repeat(2));
});

Deno.test("guest illegal: a trap with no handler ends the VM with a clear error", () => {
  const { hv } = makeHypervisor();
  const vm = hv.createVm({ path: "/configs/illegal.toml" });
  hv.startVm(vm.id);
  assert.ok(hv.runUntil(() => vm.status === "stopped", SECOND));
  assert.match(
    vm.lastError!,
    /VM\[6\] VCpu\[0\] guest trap \(scause 2: illegal instruction\) with no handler \(stvec 0x0 is not mapped\) at pc 0x80200028/,
  );
});

Deno.test("guest hypercall: unknown codes and failing IVC calls return -1, SBI errors are exact", () => {
  const { hv } = makeHypervisor();
  const logs: string[] = [];
  hv.on((e) => e.type === "log" && logs.push(e.message));
  const vm = hv.createVm({ path: "/configs/hypercall.toml" });
  hv.startVm(vm.id);
  assert.ok(hv.runUntil(() => vm.status === "stopped", SECOND));
  assert.equal(vm.console.text(), "hypercall: all checks passed\n");
  assert.equal(vm.stats().exits.Hypercall, 7);
  assert.ok(
    logs.some((l) => /Hypercall \[0x63\] failed: unknown hypercall code 99/.test(l)),
    logs.join("\n"),
  );
  assert.ok(logs.some((l) => /debug hypercall args 0x1234/.test(l)));
});

Deno.test("guest sbi: Base, legacy getchar/IPI, DBCN read, RFENCE, HSM status and suspend", () => {
  const { hv } = makeHypervisor();
  const vm = hv.createVm({ path: "/configs/sbi.toml" });
  vm.console.writeInput("xyz");
  hv.startVm(vm.id);
  assert.ok(hv.runUntil(() => vm.status === "stopped", SECOND));
  assert.equal(vm.console.text(), "sbi: all checks passed\n");
  const s = vm.stats();
  assert.equal(s.exits.Halt, 2, "two HSM suspends");
  assert.equal(s.exits.SendIPI, 1, "legacy send_ipi");
});

Deno.test("scheduling: 4 vCPUs pinned to one pCPU share it in time slices and still finish", () => {
  const smp = Deno.readTextFileSync(new URL("../../examples/configs/smp.toml", import.meta.url))
    .replace("phys_cpu_sets = [0x1, 0x2, 0x4, 0x8]", "phys_cpu_sets = [0x4, 0x4, 0x4, 0x4]");
  const { hv } = makeHypervisor({}, { sliceInstructions: 500 });
  const vm = hv.createVm({ text: smp, origin: "pinned.toml" });
  hv.startVm(vm.id);
  assert.ok(hv.runUntil(() => vm.status === "stopped", SECOND));
  assert.ok(vm.console.text().includes("smp: done"));
  assert.deepEqual(vm.vcpus.map((v) => v.pcpu), [2, 2, 2, 2]);
  assert.ok(vm.stats().vcpus.some((v) => v.preemptions > 0), "slices were enforced");
  const busy = hv.pcpus().map((p) => p.busyNs);
  assert.equal(busy.filter((b) => b > 0).length, 1, `only pCPU 2 worked: ${busy}`);
});

Deno.test("guest double fault: a trap handler that traps itself ends the VM", () => {
  const guest = `
    .text
_start:
    la t0, handler
    csrw stvec, t0
    .word 0
    .align 2
handler:
    .word 0
`;
  const { hv } = makeHypervisor({ "/guests/df.S": guest });
  const cfg = Deno.readTextFileSync(new URL("../../examples/configs/hello.toml", import.meta.url))
    .replace("/guests/hello.S", "/guests/df.S");
  const vm = hv.createVm({ text: cfg, origin: "df.toml" });
  hv.startVm(vm.id);
  assert.ok(hv.runUntil(() => vm.status === "stopped", SECOND));
  assert.match(
    vm.lastError!,
    /VM\[1\] VCpu\[0\] double fault: the trap handler at stvec 0x80200010 itself traps \(scause 2: illegal instruction\)/,
  );
});
