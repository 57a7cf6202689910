import assert from "node:assert/strict";
import type { HypervisorEvent } from "../../lib/vmm/events.ts";
import type { Hypervisor } from "../../lib/vmm/hypervisor.ts";
import { makeHypervisor, patchToml } from "./helpers.ts";

/** A multi-VM scenario: SMP guest, timer, IVC pair, UART with input at fixed virtual times. */
function scenario(): { log: string[]; hv: Hypervisor } {
  const smp2 = patchToml(
    Deno.readTextFileSync(new URL("../../examples/configs/smp.toml", import.meta.url)),
    {
      id: "12",
      name: '"smp-b"',
      phys_cpu_sets: "[0x3, 0x3, 0x3, 0x3]",
    },
  );
  const { hv } = makeHypervisor({ "/configs/smp_b.toml": smp2 }, { sliceInstructions: 3000 });
  const log: string[] = [];
  hv.on((e: HypervisorEvent) => {
    if (e.type === "console") {
      log.push(`${e.timeNs} console ${e.vmId} ${new TextDecoder().decode(e.data)}`);
    } else log.push(`${e.timeNs} ${JSON.stringify(e)}`);
  });
  const vms = ["smp", "smp_b", "timer", "ivc_pub", "ivc_sub", "uart"].map((n) =>
    hv.createVm({ path: `/configs/${n}.toml` })
  );
  for (const vm of vms) hv.startVm(vm.id);
  const uart = vms[5];
  hv.runFor(300_000);
  uart.console.writeInput("deterministic\n");
  hv.runFor(700_000);
  hv.suspendVm(vms[2].id);
  hv.runFor(1_000_000);
  hv.resumeVm(vms[2].id);
  uart.console.writeInput("q");
  hv.runUntil(() => vms.every((v) => v.status === "stopped"), 1e9);
  for (const vm of vms) {
    log.push(
      `VM ${vm.id} ${vm.status} ${JSON.stringify(vm.stats())} ${JSON.stringify(vm.console.text())}`,
    );
  }
  log.push(`end ${hv.clock.now()}`);
  return { log, hv };
}

Deno.test("determinism: a multi-VM SMP scenario run twice gives identical output, exits and times", () => {
  const a = scenario();
  const b = scenario();
  assert.ok(a.log.length > 50);
  assert.deepEqual(a.log, b.log);
  const text = a.log.join("\n");
  assert.ok(!text.includes("FAIL"), text);
  assert.ok(text.includes("DETERMINISTIC"));
  assert.ok(text.includes("smp: done"));
});

Deno.test("delete: nothing in the hypervisor still refers to a deleted VM", () => {
  const { hv } = makeHypervisor({}, { bootDelaySeconds: 1 });
  const pub = hv.createVm({ path: "/configs/ivc_pub.toml" });
  const sub = hv.createVm({ path: "/configs/ivc_sub.toml" });
  const smp = hv.createVm({ path: "/configs/smp.toml" });
  const uart = hv.createVm({ path: "/configs/uart.toml" });
  let seen = 0;
  uart.console.subscribe(() => seen++);
  hv.bootDelaySeconds = 0;
  for (const vm of [pub, smp, uart]) hv.startVm(vm.id);
  hv.bootDelaySeconds = 1;
  hv.startVm(sub.id); // VM 4 waits 3 s of virtual time: a boot timer stays pending
  assert.ok(
    hv.runUntil(
      () => pub.console.text().includes("published") && uart.console.text().includes("ready"),
      1e9,
    ),
  );
  hv.runFor(20_000);
  assert.equal(hv.ivcChannels().length, 1, "the publisher's channel is live");
  assert.equal(hv.clock.pending().length, 1, "the subscriber's boot timer is pending");
  assert.ok(hv.hostAllocations().length >= 8);
  for (const vm of [pub, sub, smp, uart]) assert.ok(hv.references(vm.id).length > 0);
  for (const vm of [uart, smp, sub, pub]) {
    const r = hv.deleteVm(vm.id, { force: true });
    assert.equal(r.ok, true);
    assert.deepEqual(r.leakedReferences, [], `VM ${vm.id}`);
    assert.deepEqual(hv.references(vm.id), []);
    assert.equal(hv.vm(vm.id), undefined);
  }
  assert.equal(uart.console.subscriberCount, 0);
  assert.deepEqual(hv.ivcChannels(), []);
  assert.deepEqual(hv.hostAllocations(), []);
  assert.deepEqual(hv.clock.pending(), []);
  assert.ok(hv.pcpus().every((p) => p.tasks.length === 0));
  assert.equal(hv.runningVmCount, 0);
  assert.ok(seen > 0);
  // A deleted VM's id can be used again, and the hypervisor goes on.
  hv.bootDelaySeconds = 0;
  const again = hv.createVm({ path: "/configs/uart.toml" });
  hv.startVm(again.id);
  assert.ok(hv.runUntil(() => again.console.text().includes("ready"), 1e9));
});

Deno.test("delete: mid-IVC deletion unmaps the channel from the surviving VM", () => {
  const { hv } = makeHypervisor();
  const pub = hv.createVm({ path: "/configs/ivc_pub.toml" });
  const sub = hv.createVm({ path: "/configs/ivc_sub.toml" });
  hv.startVm(pub.id);
  // The publisher waits for an acknowledgement that never comes: the channel stays published.
  assert.ok(hv.runUntil(() => pub.console.text().includes("published"), 1e9));
  assert.equal(hv.ivcChannels().length, 1);
  assert.equal(pub.ivcMappings.length, 1);
  const r = hv.deleteVm(pub.id, { force: true });
  assert.deepEqual(r.leakedReferences, []);
  assert.deepEqual(hv.ivcChannels(), []);
  assert.equal(sub.status, "loaded");
});
