/**
 * Sstc in VMs: a guest programs its timer through `stimecmp` (no SBI call), sleeps in wfi and is
 * woken at the right virtual time; the guest DTB lists sstc; `[base] sstc = false` hides it
 * (stimecmp is an illegal CSR, the DTB does not list it).
 */
import assert from "node:assert/strict";
import { makeHypervisor } from "./helpers.ts";
import { buildGuestDtb } from "../../lib/vmm/guest_dtb.ts";
import { isaString } from "../../lib/hw/riscv/isa.ts";

const GUEST = `
    .text
    .globl _start
_start:
    la      t0, handler
    csrw    stvec, t0
    li      t0, 0x20                # STIE
    csrs    sie, t0
    csrsi   sstatus, 2              # SIE
    csrr    s0, time
    li      t0, 10000               # 1 ms at 10 MHz
    add     t0, s0, t0
    csrw    stimecmp, t0
loop:
    wfi
    li      t1, 3
    blt     s1, t1, loop
    csrr    t0, time
    sub     a0, t0, s0
    li      t1, 30000
    blt     a0, t1, fail
    li      a0, 68                  # D
    li      a7, 1
    ecall
    j       shutdown
fail:
    li      a0, 70                  # F
    li      a7, 1
    ecall
shutdown:
    li      a7, 0x53525354
    li      a6, 0
    li      a0, 0
    li      a1, 0
    ecall
1:  j       1b

    .align 2
handler:
    csrr    t0, scause
    bgez    t0, illegal
    addi    s1, s1, 1
    li      a0, 84                  # T
    li      a7, 1
    ecall
    csrr    t0, stimecmp
    li      t1, 10000
    add     t0, t0, t1
    csrw    stimecmp, t0            # also lowers STIP
    sret
illegal:
    li      a0, 73                  # I
    li      a7, 1
    ecall
    j       shutdown
`;

const CONFIG = (extra: string) => `
[base]
id = 31
name = "sstc"
vm_type = 1
cpu_num = 1
${extra}

[kernel]
entry_point = 0x8020_0000
image_location = "fs"
kernel_path = "/guests/sstc.S"
kernel_load_addr = 0x8020_0000
memory_regions = [
    [0x8000_0000, 0x400_0000, 0x7, 0],
]

[devices]
emu_devices = []
passthrough_devices = []
interrupt_mode = "no_irq"
`;

Deno.test("sstc: a guest's stimecmp timer wakes wfi at the right virtual time, no SBI timer", () => {
  const { hv } = makeHypervisor({ "/guests/sstc.S": GUEST, "/configs/sstc.toml": CONFIG("") });
  const vm = hv.createVm({ path: "/configs/sstc.toml" });
  hv.startVm(vm.id);
  assert.ok(hv.runUntil(() => vm.status === "stopped", 1e9));
  assert.equal(vm.console.text(), "TTTD");
  assert.ok(hv.clock.now() >= 3e6 && hv.clock.now() < 4e6, `virtual time ${hv.clock.now()}`);
  assert.equal(vm.stats().exits.Halt, 3, "three wfi, each woken by the stimecmp timer");
  assert.ok(vm.stats().instret < 10_000, "the guest slept: idle time was skipped");
});

Deno.test("sstc: after suspend/resume the stimecmp timer still wakes wfi (guest time runs behind)", () => {
  const { hv } = makeHypervisor({ "/guests/sstc.S": GUEST, "/configs/sstc.toml": CONFIG("") });
  const vm = hv.createVm({ path: "/configs/sstc.toml" });
  hv.startVm(vm.id);
  // The first timer fires at 1 ms; suspend at 0.5 ms (the guest waits in wfi) for 50 ms.
  hv.runFor(500_000);
  assert.ok(hv.suspendVm(vm.id).ok);
  hv.runFor(50_000_000);
  assert.equal(vm.console.text(), "", "nothing ran while suspended");
  assert.ok(hv.resumeVm(vm.id).ok);
  const resumedAt = hv.clock.now();
  assert.ok(hv.runUntil(() => vm.status === "stopped", 1e9));
  assert.equal(vm.console.text(), "TTTD");
  // Three timers of 1 ms each in guest time: 2.5 ms more of hypervisor time, not 0 (a deadline
  // taken as hypervisor time would have expired during the suspension) nor never (a deadline
  // never reached would leave the vCPU asleep).
  const ran = hv.clock.now() - resumedAt;
  assert.ok(ran >= 2.4e6 && ran < 3.6e6, `ran ${ran} ns after resume`);
});

Deno.test("sstc: [base] sstc = false hides stimecmp (illegal) and the DTB does not list it", () => {
  const { hv } = makeHypervisor({
    "/guests/sstc.S": GUEST,
    "/configs/off.toml": CONFIG("sstc = false"),
  });
  const vm = hv.createVm({ path: "/configs/off.toml" });
  hv.startVm(vm.id);
  assert.ok(hv.runUntil(() => vm.status === "stopped", 1e9));
  assert.equal(vm.console.text(), "I");
});

Deno.test("sstc: config rejects a non-boolean sstc", () => {
  const { hv } = makeHypervisor({
    "/guests/sstc.S": GUEST,
    "/configs/bad.toml": CONFIG('sstc = "yes"'),
  });
  assert.throws(() => hv.createVm({ path: "/configs/bad.toml" }), /sstc.*true or false/s);
});

Deno.test("sstc: the guest DTB's ISA comes from isa.ts and lists sstc only when offered", () => {
  const dtb = (sstc: boolean) =>
    new TextDecoder("latin1").decode(buildGuestDtb({
      name: "t",
      hartIds: [0],
      timebaseHz: 10_000_000,
      isa: { sstc },
      memory: [{ gpa: 0x8000_0000, size: 0x100_0000 }],
      reserved: [],
      devices: [],
    }));
  const on = dtb(true);
  assert.ok(on.includes(isaString() + "\0"), "riscv,isa");
  assert.ok(isaString().startsWith("rv64imafdc_"));
  assert.ok(on.includes("\0zba\0zbb\0zbs\0sstc\0"), "riscv,isa-extensions");
  const off = dtb(false);
  assert.ok(off.includes(isaString({ sstc: false }) + "\0"));
  assert.ok(!off.includes("sstc"));
});
