import assert from "node:assert/strict";
import { guestConfig, makeHypervisor, SHUTDOWN } from "./helpers.ts";

/**
 * A guest that reads the passed-through RTC, arms its alarm 100 ms ahead, sleeps in wfi, and on
 * the alarm's interrupt (PLIC source 11, through the VM's PLIC) stores both times and shuts down.
 */
const RTC_GUEST = `
    .equ RTC, 0x101000
    .equ PLIC, 0x0c000000
    .equ TIMES, 0x81000000
    .text
    .globl _start
_start:
    la      t0, handler
    csrw    stvec, t0
    li      s0, RTC
    lwu     t0, 0(s0)
    lwu     t1, 4(s0)
    slli    t1, t1, 32
    or      s3, t0, t1
    li      t0, TIMES
    sd      s3, 0(t0)
    li      s2, PLIC
    li      t0, 1
    sw      t0, 44(s2)              # priority[11]
    li      t1, 0x2000
    add     t1, s2, t1
    li      t0, 1 << 11
    sw      t0, 0(t1)               # enable source 11, context 0
    li      t1, 0x200000
    add     t1, s2, t1
    sw      zero, 0(t1)             # threshold 0
    li      t0, 1
    sw      t0, 0x10(s0)            # IRQ_ENABLED
    li      t0, 100000000
    add     t0, s3, t0
    srli    t1, t0, 32
    sw      t1, 0x0c(s0)
    sw      t0, 0x08(s0)            # alarm armed
    li      t0, 0x200               # SEIE
    csrs    sie, t0
    csrsi   sstatus, 2
1:  wfi
    j       1b
    .align 2
handler:
    li      t0, PLIC + 0x200004
    lw      t1, 0(t0)               # claim
    sw      zero, 0x1c(s0)          # CLEAR_INTERRUPT
    sw      t1, 0(t0)               # complete
    lwu     t0, 0(s0)
    lwu     t1, 4(s0)
    slli    t1, t1, 32
    or      t0, t0, t1
    li      t2, TIMES
    sd      t0, 8(t2)
${SHUTDOWN}
`;

function rtcConfig(): string {
  return guestConfig("rtc", 44)
    .replace("emu_devices = []", 'emu_devices = [["plic", 0x0c00_0000, 0x40_0000, 0, 0x1, [96]]]')
    .replace(
      "passthrough_devices = []",
      'passthrough_devices = [["rtc", 0x10_1000, 0x10_1000, 0x1000, 11]]',
    )
    .replace('interrupt_mode = "no_irq"', 'interrupt_mode = "emulated"');
}

Deno.test("passthrough RTC: reads the hypervisor's epoch; its alarm interrupts the guest on time", () => {
  const epochNs = Date.UTC(2031, 0, 2) * 1e6;
  const { hv } = makeHypervisor({ "/guests/rtc.S": RTC_GUEST }, { rtcEpochNs: epochNs });
  const vm = hv.createVm({ text: rtcConfig(), origin: "rtc.toml" });
  assert.deepEqual(vm.config.warnings, []);
  assert.deepEqual(
    vm.devices.map((d) => [d.kind, d.model, d.irq]),
    [["passthrough", "goldfish-rtc", 11], ["emulated", "plic", 0]],
  );
  const t0 = hv.clock.now();
  hv.startVm(vm.id);
  // The guest sleeps until the alarm: time jumps (warp) and it wakes exactly once.
  assert.ok(hv.runUntil(() => vm.status === "stopped", 2e9), `status ${vm.status}`);
  assert.equal(vm.lastError, undefined);
  const elapsed = hv.clock.now() - t0;
  assert.ok(elapsed >= 100e6 && elapsed < 200e6, `stopped after ${elapsed} ns`);
  assert.ok(vm.stats().exits.ExternalInterrupt >= 1, "woken by the external interrupt");
  const times = new DataView(vm.bus.readBytes(0x8100_0000, 16)!.buffer);
  const start = times.getBigUint64(0, true) - BigInt(epochNs);
  const fired = times.getBigUint64(8, true) - BigInt(epochNs);
  assert.ok(start >= 0n && start < 1_000_000n, `the guest read the epoch (+${start} ns)`);
  assert.ok(
    fired - start >= 100_000_000n && fired - start < 101_000_000n,
    `the alarm came ${fired - start} ns after it was armed`,
  );
});

Deno.test("passthrough RTC: every VM gets its own instance, alarm and interrupt; clones too", () => {
  const epochNs = Date.UTC(2031, 0, 2) * 1e6;
  const { hv } = makeHypervisor({ "/guests/rtc.S": RTC_GUEST }, { rtcEpochNs: epochNs });
  const config = (id: number) =>
    rtcConfig().replace(/^id = \d+$/m, `id = ${id}`).replace(/^name = .*$/m, `name = "rtc${id}"`);
  const a = hv.createVm({ text: config(44), origin: "a.toml" });
  const b = hv.createVm({ text: config(45), origin: "b.toml" });
  for (const id of [44, 45]) {
    assert.deepEqual(hv.references(id).filter((r) => r.includes("IRQ")), [
      "passthrough IRQ of rtc (PLIC source 11)",
    ]);
  }
  // b starts 50 ms after a: each alarm fires 100 ms after its own guest armed it.
  hv.startVm(a.id);
  hv.runFor(50e6);
  hv.startVm(b.id);
  assert.ok(hv.runUntil(() => a.status === "stopped" && b.status === "stopped", 2e9));
  for (const vm of [a, b]) {
    assert.equal(vm.lastError, undefined);
    const times = new DataView(vm.bus.readBytes(0x8100_0000, 16)!.buffer);
    const armedToFired = times.getBigUint64(8, true) - times.getBigUint64(0, true);
    assert.ok(
      armedToFired >= 100_000_000n && armedToFired < 101_000_000n,
      `${vm.name}: the alarm came ${armedToFired} ns after it was armed`,
    );
  }
  // A clone of a VM that passes the RTC through gets an RTC of its own as well.
  const c = hv.clone(a, { name: "rtc-clone" });
  assert.deepEqual(hv.references(c.id).filter((r) => r.includes("IRQ")), [
    "passthrough IRQ of rtc (PLIC source 11)",
  ]);
  for (const vm of [a, b, c]) {
    assert.ok(hv.deleteVm(vm.id).ok);
    assert.deepEqual(hv.references(vm.id), [], `${vm.name} holds nothing once deleted`);
  }
});
