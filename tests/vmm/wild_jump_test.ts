/**
 * Issue 14 item 10: a guest jumping to an address with bit 63 set (`li t0, -8; jr t0`) gets an
 * instruction access fault (no spinning); with no trap handler its VM stops with a fault whose
 * message shows the pc as a 64-bit value (never `0x-8`).
 */
import assert from "node:assert/strict";
import type { HypervisorEvent } from "../../lib/vmm/events.ts";
import { makeHypervisor } from "./helpers.ts";

const CONFIG = `
[base]
id = 32
name = "wild"
vm_type = 1
cpu_num = 1

[kernel]
entry_point = 0x8020_0000
image_location = "fs"
kernel_path = "/guests/wild.S"
kernel_load_addr = 0x8020_0000
memory_regions = [
    [0x8000_0000, 0x400_0000, 0x7, 0],
]

[devices]
emu_devices = []
passthrough_devices = []
interrupt_mode = "no_irq"
`;

Deno.test("wild jump: bit 63 set faults, the VM stops and the message shows 0xfffffffffffffff8", () => {
  const { hv } = makeHypervisor({
    "/guests/wild.S": "  .text\n  .globl _start\n_start:\n  li t0, -8\n  jr t0\n",
    "/configs/wild.toml": CONFIG,
  });
  const events: HypervisorEvent[] = [];
  hv.on((e) => events.push(e));
  const vm = hv.createVm({ path: "/configs/wild.toml" });
  hv.startVm(vm.id);
  assert.ok(hv.runUntil(() => vm.status === "stopped", 1e9), "the VM stopped (no spinning)");
  const fault = events.find((e) => e.type === "fault");
  assert.ok(fault && fault.type === "fault");
  assert.match(fault.message, /instruction access fault/);
  assert.match(fault.message, /at pc 0xfffffffffffffff8\b/);
  assert.ok(!/0x-/.test(fault.message));
  assert.equal(fault.pc, -8, "the event's pc is the signed 64-bit value");
});
