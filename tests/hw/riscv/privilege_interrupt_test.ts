/**
 * Interrupts: priority order, global enables per privilege, delegation, vectored tvec,
 * mip/mie/sip/sie semantics, external lines, wfi and the VMM exits.
 */
import assert from "node:assert/strict";
import { Csr, Mip } from "../../../lib/hw/riscv/csr.ts";
import { StopReason } from "../../../lib/hw/riscv/hart.ts";
import { enterS, rig, sretToU } from "./hart_rig_test.ts";

const INT = 1n << 63n;

/** Handlers that log the cause and mask the interrupt in mie (lines stay high). */
const HANDLERS = `
  .balign 4
mtrap:
  csrr t0, mcause
  la t1, mcount
  ld t2, 0(t1)
  addi t3, t2, 1
  sd t3, 0(t1)
  slli t2, t2, 3
  la t1, mlog
  add t1, t1, t2
  sd t0, 0(t1)
  bgez t0, 1f
  li t1, 1
  sll t1, t1, t0
  csrc mie, t1
  mret
1:
  csrr t0, mepc
  addi t0, t0, 4
  csrw mepc, t0
  mret
  .balign 4
strap:
  csrr t0, scause
  la t1, scount
  ld t2, 0(t1)
  addi t3, t2, 1
  sd t3, 0(t1)
  slli t2, t2, 3
  la t1, slog
  add t1, t1, t2
  sd t0, 0(t1)
  li t1, 1
  sll t1, t1, t0
  csrc sie, t1
  sret
  .data
  .balign 8
mcount: .dword 0
scount: .dword 0
mlog: .zero 256
slog: .zero 256
`;

const logOf = (r: ReturnType<typeof rig>, which: "m" | "s"): bigint[] => {
  const n = Number(r.mem64(`${which}count`));
  return Array.from({ length: n }, (_, i) => r.mem64(`${which}log`, i * 8));
};

Deno.test("interrupts: taken in priority order MEI, MSI, MTI, SEI, SSI, STI", () => {
  const r = rig(`
_start:
  la t0, mtrap
  csrw mtvec, t0
  li t0, 0xaaa
  csrw mie, t0
  csrsi mstatus, 8
  nop
  nop
done:
  j done
${HANDLERS}`);
  for (const bit of [Mip.SSIP, Mip.MSIP, Mip.STIP, Mip.MTIP, Mip.SEIP, Mip.MEIP]) {
    r.hart.setIrqLine(bit, true);
  }
  r.runToDone();
  assert.deepEqual(logOf(r, "m"), [11n, 3n, 7n, 9n, 1n, 5n].map((c) => INT | c));
});

Deno.test("interrupts: M-mode needs mstatus.MIE; lower modes always take M-level ones", () => {
  const r = rig(`
_start:
  la t0, mtrap
  csrw mtvec, t0
  li t0, 0x80
  csrw mie, t0
  nop
  nop
${enterS("smode")}
smode:
  nop
  nop
done:
  j done
${HANDLERS}`);
  r.hart.setIrqLine(Mip.MTIP, true);
  r.hart.run(4);
  assert.equal(logOf(r, "m").length, 0, "MIE=0 in M-mode: not taken");
  r.runToDone();
  assert.deepEqual(logOf(r, "m"), [INT | 7n], "taken in S-mode although MIE=0");
});

Deno.test("interrupts: mideleg routes S-level interrupts to S-mode, with SIE rules", () => {
  const r = rig(`
_start:
  la t0, mtrap
  csrw mtvec, t0
  la t0, strap
  csrw stvec, t0
  li t0, 0x222
  csrw mideleg, t0
  li t0, 0x222
  csrw mie, t0
  csrsi mstatus, 8
  nop                      # pending S-level interrupts are never taken in M-mode
  nop
at_m:
${enterS("smode")}
smode:
  nop                      # SIE=0: not taken in S-mode
  nop
at_s:
  csrsi sstatus, 2         # SIE=1: STIP is taken after this instruction
  nop
at_s2:
  csrci sstatus, 2
${sretToU("umode")}
umode:
  nop                      # in U-mode S-level interrupts are taken even with SIE=0
  nop
done:
  j done
${HANDLERS}`);
  r.hart.setIrqLine(Mip.STIP, true);
  r.runTo("at_m");
  assert.deepEqual(logOf(r, "s"), []);
  r.runTo("at_s");
  assert.equal(r.hart.priv, 1);
  assert.deepEqual(logOf(r, "s"), [], "SIE=0 in S-mode");
  r.runTo("at_s2");
  assert.deepEqual(logOf(r, "s"), [INT | 5n]);
  r.hart.setIrqLine(Mip.SSIP, true);
  r.runToDone();
  assert.deepEqual(logOf(r, "s"), [INT | 5n, INT | 1n]);
  assert.deepEqual(logOf(r, "m"), []);
  assert.equal(r.hart.readCsr(Csr.scause), INT | 1n);
});

Deno.test("interrupts: vectored mtvec jumps to base + 4 * cause", () => {
  const r = rig(`
_start:
  la t0, vec
  ori t0, t0, 1
  csrw mtvec, t0
  li t0, 0x800
  csrw mie, t0
  csrsi mstatus, 8
  nop
done:
  j done
  .balign 64
vec:
${"  j bad\n".repeat(11)}  csrr a0, mcause
  li a1, 0x800
  csrc mie, a1
  mret
bad:
  li a0, -1
  j done
`);
  r.hart.setIrqLine(Mip.MEIP, true);
  r.runToDone();
  assert.equal(r.x("a0"), INT | 11n);
});

Deno.test("interrupts: mip/mie/sip/sie views and writable bits", () => {
  const r = rig(`
_start:
  li t0, -1
  csrw mie, t0
  csrr a0, mie
  csrr a1, sie            # mideleg = 0: sie reads 0
  csrw mip, t0
  csrr a2, mip            # SSIP, STIP, SEIP writable by M-mode software
  csrw mip, zero
  li t0, 0x222
  csrw mideleg, t0
  csrr a3, sie
  csrw sie, zero
  csrr a4, mie            # sie write cleared only the delegated bits
  li t0, -1
  csrw sip, t0
  csrr a5, sip            # only SSIP is writable through sip
  csrr a6, mip
done:
  j done
`);
  r.runToDone();
  assert.equal(r.x("a0"), 0xaaan);
  assert.equal(r.x("a1"), 0n);
  assert.equal(r.x("a2"), 0x222n);
  assert.equal(r.x("a3"), 0x222n);
  assert.equal(r.x("a4"), 0x888n);
  assert.equal(r.x("a5"), 0x2n);
  assert.equal(r.x("a6"), 0x2n);
  // External lines: read-only to software, SEIP is OR-ed with the software bit.
  r.hart.setIrqLine(Mip.SEIP, true);
  r.hart.setIrqLine(Mip.MTIP, true);
  assert.equal(r.hart.readCsr(Csr.mip), 0x282n);
  r.hart.writeCsr(Csr.mip, 0n);
  assert.equal(r.hart.readCsr(Csr.mip), 0x280n, "lines stay up after a software clear");
  r.hart.setIrqLine(Mip.SEIP, false);
  r.hart.writeCsr(Csr.mip, 0x200n);
  assert.equal(r.hart.readCsr(Csr.mip), 0x280n, "software SEIP alone");
  assert.throws(() => r.hart.setIrqLine(1 << 4, true), /not a wire/);
});

Deno.test("wfi: waits for a pending interrupt even when interrupts are disabled", () => {
  const r = rig(`
_start:
  li t0, 0x80
  csrw mie, t0
w1:
  wfi
  li a0, 1
done:
  j done
`);
  assert.equal(r.hart.run(100), StopReason.Wfi);
  assert.equal(r.hart.waiting, true);
  assert.equal(r.hart.pc, r.sym("w1") + 4);
  assert.equal(r.hart.run(100), StopReason.Wfi);
  assert.equal(r.hart.lastRunInstructions, 0, "no progress while waiting");
  r.hart.setIrqLine(Mip.MTIP, true);
  assert.equal(r.hart.waiting, false);
  r.runToDone();
  assert.equal(r.x("a0"), 1n, "resumed after wfi without a trap (MIE=0)");
  // With the interrupt already pending, wfi does not wait.
  const r2 = rig(`
_start:
  li t0, 0x8
  csrw mie, t0
  wfi
  li a0, 2
done:
  j done
`);
  r2.hart.setIrqLine(Mip.MSIP, true);
  r2.runToDone();
  assert.equal(r2.x("a0"), 2n);
});

Deno.test("VMM exits: S-mode ecall and wfi stop the run; guestDelegation", () => {
  const r = rig(
    `
_start:
s_ecall:
  ecall
  li a0, 5
s_wfi:
  wfi
  li a1, 6
done:
  j done
`,
    { exitOnSupervisorEcall: true, exitOnWfi: true, guestDelegation: true },
  );
  r.hart.reset(r.sym("_start"), 1);
  assert.equal(r.hart.readCsr(Csr.mideleg), 0x222n);
  assert.equal(r.hart.readCsr(Csr.medeleg), 0xb3ffn);
  assert.equal(r.hart.readCsr(Csr.mcounteren), 7n);
  assert.equal(r.hart.run(100), StopReason.Ecall);
  assert.equal(r.hart.pc, r.sym("s_ecall"), "pc stays at the ecall");
  r.hart.pc += 4;
  assert.equal(r.hart.run(100), StopReason.Wfi);
  assert.equal(r.hart.pc, r.sym("s_wfi") + 4, "pc after the wfi");
  assert.equal(r.x("a0"), 5n);
  assert.equal(r.hart.waiting, false);
  r.runToDone();
  assert.equal(r.x("a1"), 6n);
});
