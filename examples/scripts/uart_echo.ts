/**
 * Types into a VM's UART and reads the echo back: console input, receive interrupts through the
 * VM's PLIC, MMIO output. Run: deno run --allow-read examples/scripts/uart_echo.ts
 *
 * @module
 */
import assert from "node:assert/strict";
import { Hypervisor, loadBoard, MemoryFileSystem } from "../../mod.ts";

const read = (p: string) => Deno.readTextFileSync(new URL(`../${p}`, import.meta.url));
const fs = new MemoryFileSystem({
  "/configs/uart.toml": read("configs/uart.toml"),
  "/guests/uart.S": read("guests/uart.S"),
});
const hv = new Hypervisor({ board: loadBoard("qemu-virt"), fs });
const vm = hv.createVm({ path: "/configs/uart.toml" });
hv.startVm(vm.id);
assert.ok(await hv.waitFor(() => vm.console.text().includes("ready"), 1e9));
vm.console.writeInput("hello, guest\nq");
assert.ok(await hv.waitFor(() => vm.status === "stopped", 1e9));
assert.match(vm.console.text(), /HELLO, GUEST\n/);
console.log(vm.console.text());
