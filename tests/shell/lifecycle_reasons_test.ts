import assert from "node:assert/strict";
import { fixture, vmConfig } from "./helpers.ts";
import { vcpuIdList } from "../../lib/shell/commands/vm_info.ts";

Deno.test("vm stop and vm delete agree on a never-started VM: both want --force", async () => {
  const f = fixture();
  await f.text("vm create /guest/configs/spin.toml");
  const stop = await f.run("vm stop 1");
  assert.equal(stop.ok, false);
  assert.match(stop.text, /never started, use '--force'/);
  assert.equal(f.hv.vm(1)!.status, "loaded", "a refused stop changes nothing");
  assert.equal((await f.run("vm delete 1")).ok, false);
  assert.equal((await f.run("vm stop --force 1")).ok, true);
  assert.equal(f.hv.vm(1)!.status, "stopped");
  assert.match(
    await f.text("vm show 1"),
    /Status: {4}💤 stopped\n {2}VCPUs: {5}1\n {2}Memory: {4}16MB\n {2}Stopped: {3}stopped by user/,
  );
});

Deno.test("a stopped VM says why it stopped: fault, poweroff, stopped by user", async () => {
  const f = fixture();
  await f.text("vm create /guest/configs/spin.toml");
  await f.text("vm start 1");
  f.hv.runFor(1e6);
  await f.text("vm stop --force 1");
  assert.equal(f.hv.vm(1)!.stopReason, "stopped by user");
  const show = await f.run("vm show 1");
  assert.equal((show.data as { stopReason?: string }).stopReason, "stopped by user");
  const list = await f.run("vm list");
  assert.equal(
    (list.data as { vms: { stopReason?: string }[] }).vms[0].stopReason,
    "stopped by user",
  );
});

Deno.test("guest poweroff and guest fault are told apart", async () => {
  const { makeHypervisor } = await import("../vmm/helpers.ts");
  const { hv } = makeHypervisor();
  const hello = hv.createVm({ path: "/configs/hello.toml" });
  const fault = hv.createVm({ path: "/configs/fault.toml" });
  hv.startVm(hello.id);
  hv.startVm(fault.id);
  assert.ok(hv.runUntil(() => hello.status === "stopped" && fault.status === "stopped", 1e9));
  assert.equal(hello.stopReason, "poweroff");
  assert.equal(fault.stopReason, "fault");
  hv.startVm(hello.id);
  assert.equal(hello.stopReason, undefined, "a start clears the reason");
});

Deno.test("vm list keeps its columns with 9 and more vCPUs (ids as ranges)", async () => {
  const f = fixture({
    "/guest/configs/wide.toml": vmConfig(7, "wide", "spin", { cpus: 12, memory: 0x40_0000 }),
  });
  await f.text("vm create /guest/configs/wide.toml");
  const lines = (await f.text("vm list")).split("\n");
  const header = lines[0];
  const row = lines.find((l) => l.startsWith("7 "))!;
  assert.equal(row.indexOf("4MB"), header.indexOf("MEMORY"), row);
  assert.match(row, / 0-11 /);
  const vm = { vcpus: [0, 1, 2, 5, 6, 7, 8, 9, 10, 11].map((id) => ({ id })) };
  assert.equal(vcpuIdList(vm as never, 15), "0-2,5-11");
  assert.equal(vcpuIdList({ vcpus: [{ id: 0 }, { id: 1 }] } as never, 15), "0,1");
});
