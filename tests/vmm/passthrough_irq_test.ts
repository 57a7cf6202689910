import assert from "node:assert/strict";
import { VmCreateError } from "../../lib/vmm/vm_builder.ts";
import { makeHypervisor } from "./helpers.ts";

const UART_TOML = Deno.readTextFileSync(
  new URL("../../examples/configs/uart.toml", import.meta.url),
);

/** examples/configs/uart.toml with the board's uart0 passed through instead of an emulated one. */
function passthroughUart(id: number, options: { plic?: boolean; irq?: number } = {}): string {
  const plic = options.plic ?? true;
  return UART_TOML.replace(/^id = \d+$/m, `id = ${id}`)
    .replace(/^name = .*$/m, `name = "pt${id}"`)
    .replace(
      /emu_devices = \[[\s\S]*?\n\]/,
      `emu_devices = [${plic ? '["plic", 0x0c00_0000, 0x40_0000, 0, 0x1, [96]]' : ""}]`,
    )
    .replace(
      "passthrough_devices = []",
      `passthrough_devices = [["uart0", 0x1000_0000, 0x1000_0000, 0x100, ${options.irq ?? 10}]]`,
    );
}

Deno.test("passthrough UART: its receive interrupt reaches the guest through the VM's PLIC", () => {
  const { hv } = makeHypervisor();
  const vm = hv.createVm({ text: passthroughUart(8), origin: "pt.toml" });
  assert.deepEqual(vm.config.warnings, []);
  assert.deepEqual(
    vm.devices.map((d) => [d.kind, d.model, d.irq]),
    [["emulated", "plic", 0], ["passthrough", "ns16550a", 10]],
  );
  hv.startVm(vm.id);
  assert.ok(hv.runUntil(() => hv.boardConsole.text().includes("q quits\n"), 1e9));
  // The guest now sleeps in wfi until the UART interrupts.
  hv.runFor(1e6);
  assert.equal(vm.vcpuSummary(), "Blk:1");
  hv.boardConsole.writeInput("hello\n");
  assert.ok(hv.runUntil(() => hv.boardConsole.text().endsWith("HELLO\n"), 1e9));
  hv.boardConsole.writeInput("q");
  assert.ok(hv.runUntil(() => vm.status === "stopped", 1e9));
  assert.equal(vm.lastError, undefined);
  assert.equal(hv.boardConsole.text(), "uart: ready, type to echo, q quits\nHELLO\nuart: bye\n");
  assert.ok(vm.stats().exits.ExternalInterrupt >= 1);
  assert.equal(vm.console.text(), "", "the VM's own console saw nothing: the board UART did");
});

Deno.test("passthrough UART: input still reaches the guest through its fresh PLIC after a restart", () => {
  const { hv } = makeHypervisor();
  const vm = hv.createVm({ text: passthroughUart(8), origin: "pt.toml" });
  hv.startVm(vm.id);
  // Bytes received before the guest sets its UART up are dropped by its FIFO reset (FCR), as
  // on hardware: type once it is ready.
  assert.ok(hv.runUntil(() => hv.boardConsole.text().endsWith("q quits\n"), 1e9));
  hv.boardConsole.writeInput("hi");
  assert.ok(hv.runUntil(() => hv.boardConsole.text().endsWith("HI"), 1e9));
  assert.ok(hv.restartVm(vm.id, { force: true }).ok);
  assert.equal(vm.boots, 2);
  assert.ok(hv.runUntil(() => hv.boardConsole.text().endsWith("q quits\n"), 1e9));
  hv.boardConsole.writeInput("x");
  assert.ok(hv.runUntil(() => hv.boardConsole.text().endsWith("q quits\nX"), 1e9));
  hv.boardConsole.writeInput("q");
  assert.ok(hv.runUntil(() => vm.status === "stopped", 1e9));
});

Deno.test("passthrough IRQ: a device interrupt reaches one VM; delete releases it", () => {
  const { hv } = makeHypervisor();
  const first = hv.createVm({ text: passthroughUart(8), origin: "a.toml" });
  assert.deepEqual(hv.references(8).filter((r) => r.includes("IRQ")), [
    "passthrough IRQ of uart0 (PLIC source 10)",
  ]);
  assert.throws(
    () => hv.createVm({ text: passthroughUart(9), origin: "b.toml" }),
    (e: unknown) =>
      e instanceof VmCreateError &&
      /^b\.toml: devices\.passthrough_devices\[0\] \(uart0\): the interrupt of board device uart0 is already routed to VM\[8\] \(pt8\)/
        .test(e.message),
  );
  assert.deepEqual(hv.references(9), [], "the refused VM holds nothing");
  // Polled sharing (irq 0) stays possible.
  const polled = hv.createVm({ text: passthroughUart(10, { irq: 0 }), origin: "c.toml" });
  assert.equal(polled.status, "loaded");
  hv.stopVm(first.id, { force: true });
  assert.ok(hv.deleteVm(first.id).ok);
  assert.deepEqual(hv.references(8), []);
  const second = hv.createVm({ text: passthroughUart(9), origin: "b.toml" });
  assert.equal(second.status, "loaded");
});

Deno.test("passthrough IRQ: no interrupt controller warns (polled); a bad source is refused", () => {
  const { hv } = makeHypervisor();
  const vm = hv.createVm({ text: passthroughUart(8, { plic: false }), origin: "np.toml" });
  assert.equal(vm.config.warnings.length, 1);
  assert.match(
    vm.config.warnings[0],
    /^np\.toml: devices\.passthrough_devices\[0\] \(uart0\): IRQ 10 is not delivered: the VM has no emulated interrupt controller/,
  );
  assert.deepEqual(hv.references(8).filter((r) => r.includes("IRQ")), []);
  assert.throws(
    () => hv.createVm({ text: passthroughUart(9, { irq: 200 }), origin: "big.toml" }),
    /big\.toml: devices\.passthrough_devices\[0\] \(uart0\): IRQ 200 exceeds the PLIC's 96 sources/,
  );
});
