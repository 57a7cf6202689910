/**
 * Boots two VMs (a 4-vCPU SMP guest and a timer guest), waits for their console lines, asserts.
 * Run: deno run --allow-read examples/scripts/two_vms.ts
 *
 * @module
 */
import assert from "node:assert/strict";
import { Hypervisor, loadBoard, MemoryFileSystem } from "../../mod.ts";

const read = (p: string) => Deno.readTextFileSync(new URL(`../${p}`, import.meta.url));
const files = ["configs/smp.toml", "guests/smp.S", "configs/timer.toml", "guests/timer.S"];
const fs = new MemoryFileSystem(Object.fromEntries(files.map((f) => [`/${f}`, read(f)])));
const hv = new Hypervisor({ board: loadBoard("qemu-virt"), fs });
const [smp, timer] = ["/configs/smp.toml", "/configs/timer.toml"].map((path) =>
  hv.createVm({ path })
);
for (const vm of [smp, timer]) hv.startVm(vm.id);
assert.ok(await hv.waitFor(() => smp.console.text().includes("smp: done"), 1e9));
assert.ok(await hv.waitFor(() => timer.status === "stopped", 1e9));
console.log(smp.console.text() + timer.console.text());
