/**
 * CSRs: existence, WARL values, counters and their gating by mcounteren/scounteren and
 * mcountinhibit, the firmware-facing machine CSRs, and the debugger API.
 */
import assert from "node:assert/strict";
import { Csr } from "../../../lib/hw/riscv/csr.ts";
import { enterS, rig, sretToU } from "./hart_rig_test.ts";

Deno.test("csr: machine information, misa, mstatus WARL fields", () => {
  const r = rig(
    `
_start:
  csrr a0, misa
  csrr a1, mhartid
  csrr a2, mconfigptr
  li t0, -1
  csrw misa, t0
  csrr a3, misa
  csrw mstatus, t0
  csrr a4, mstatus
  li t0, 0x1000
  csrw mstatus, t0       # MPP = 2 is reserved
  csrr a5, mstatus
  csrr a6, sstatus
  li t0, -1
  csrw sstatus, t0
  csrr a7, sstatus
done:
  j done
`,
    { hartId: 3 },
  );
  r.runToDone();
  assert.equal(r.x("a0"), 0x800000000014112dn, "RV64 IMAFDCSU");
  assert.equal(r.x("a1"), 3n);
  assert.equal(r.x("a2"), 0n);
  assert.equal(r.x("a3"), 0x800000000014112dn, "misa is read-only");
  assert.equal(
    r.x("a4"),
    0x8000_000a_007e_79aan,
    "all writable fields; FS=Dirty, UXL=SXL=2, SD=1",
  );
  assert.equal((r.x("a5") >> 11n) & 3n, 0n, "MPP 2 legalised to U");
  assert.equal(r.x("a6"), 0x2_0000_0000n, "sstatus shows UXL");
  assert.equal(r.x("a7"), 0x8000_0002_000c_6122n, "sstatus writable: SIE SPIE SPP FS SUM MXR");
});

Deno.test("csr: counters count retired instructions; minstret/mcycle writes; mcountinhibit", () => {
  const r = rig(
    `
_start:
  csrr a0, instret
  csrr a1, instret
  nop
  nop
  csrr a2, minstret
  li t0, 1000
  csrw minstret, t0
  csrr a3, minstret
  csrwi mcountinhibit, 5
  nop
  nop
  csrr a4, minstret
  csrr a5, mcycle
  csrwi mcountinhibit, 0
  nop
  csrr a6, minstret
  csrr a7, time
done:
  j done
`,
    { readTime: () => 123456789 },
  );
  r.runToDone();
  assert.equal(r.x("a0"), 0n);
  assert.equal(r.x("a1"), 1n);
  assert.equal(r.x("a2"), 4n);
  assert.equal(r.x("a3"), 1000n, "the write replaces the csrw's own increment");
  const frozen = r.x("a4");
  assert.equal(frozen, 1002n, "frozen after mcountinhibit");
  assert.equal(r.x("a6"), frozen + 1n, "counts again after the inhibit is cleared (the nop)");
  assert.equal(r.x("a7"), 123456789n, "time reads readTime()");
  assert.ok(r.x("a5") > 0n);
});

Deno.test("csr: counter access from S and U is gated by mcounteren and scounteren", () => {
  const body = (men: number, sen: number) => `
_start:
  la t0, trap
  csrw mtvec, t0
  li t0, ${men}
  csrw mcounteren, t0
  li t0, ${sen}
  csrw scounteren, t0
${enterS("smode")}
smode:
  li s0, 0
  rdcycle a0
  rdtime a1
  rdinstret a2
  csrr a3, hpmcounter3
${sretToU("umode")}
umode:
  rdcycle a0
  rdtime a1
  rdinstret a2
  csrr a3, hpmcounter3
  li t0, 0x40000000
  jr t0
  .balign 4
trap:
  csrr t0, mcause
  li t1, 2
  bne t0, t1, done
  addi s0, s0, 1
  csrr t0, mepc
  addi t0, t0, 4
  csrw mepc, t0
  mret
done:
  j done
`;
  const count = (men: number, sen: number) => {
    const r = rig(body(men, sen));
    r.runToDone();
    return Number(r.x("s0"));
  };
  assert.equal(count(0, 0), 8, "nothing allowed below M");
  assert.equal(count(0xf, 0), 4, "S allowed, U not");
  assert.equal(count(0xf, 0xf), 0);
  assert.equal(count(0x5, 0x5), 2 + 2, "time and hpmcounter3 not enabled: S and U trap on both");
});

Deno.test("csr: firmware-facing CSRs (pmp, envcfg, triggers, hpm) hold WARL values", () => {
  const r = rig(`
_start:
  li t0, -1
  csrw pmpaddr0, t0
  csrr a0, pmpaddr0
  li t0, 0x8f0e
  csrw pmpcfg0, t0       # entry 0: 0x0e (W without R -> W cleared); entry 1: 0x8f locked
  csrr a1, pmpcfg0
  csrw pmpcfg0, zero
  csrr a2, pmpcfg0       # entry 1 stays locked
  csrw pmpaddr1, zero
  csrr a3, pmpaddr1
  csrr a4, tselect
  csrr a5, tdata1
  li t0, -1
  csrw menvcfg, t0
  csrr a6, menvcfg
  csrw mhpmcounter3, t0
  csrr a7, mhpmcounter3
  csrw mhpmevent31, t0
  csrr s1, mhpmevent31
  csrw mseccfg, t0
  csrr s2, mseccfg
  csrw mcountinhibit, t0
  csrr s3, mcountinhibit
  csrw mcountinhibit, zero
  csrw pmpaddr63, t0
  csrr s4, pmpaddr63
done:
  j done
`);
  r.hart.writeCsr(Csr.pmpaddr0 + 1, 0x1234n);
  r.runToDone();
  assert.equal(r.x("a0"), (1n << 54n) - 1n, "pmpaddr holds 54 bits");
  assert.equal(r.x("a1"), 0x8f0cn);
  assert.equal(r.x("a2"), 0x8f00n);
  assert.equal(r.x("a3"), 0x1234n, "pmpaddr of a locked entry ignores writes");
  assert.equal(r.x("a4"), 0n);
  assert.equal(r.x("a5"), 0n, "tdata1 type 0: no trigger");
  assert.equal(r.x("a6"), (1n << 63n) | 1n, "menvcfg: FIOM and STCE (no Svpbmt, Svadu)");
  assert.equal(r.x("a7"), 0n);
  assert.equal(r.x("s1"), 0n);
  assert.equal(r.x("s2"), 0n);
  assert.equal(r.x("s3"), 5n, "mcountinhibit: CY and IR");
  assert.equal(r.x("s4"), (1n << 54n) - 1n);
});

Deno.test("csr: satp accepts Bare and Sv39, ignores other modes; debugger API", () => {
  const r = rig(`
_start:
  li t0, 0x8000000000012345
  csrw satp, t0
  csrr a0, satp
  li t0, 0x9000000000000001
  csrw satp, t0          # Sv48 is not supported: no effect
  csrr a1, satp
  csrw satp, zero
done:
  j done
`);
  r.runToDone();
  assert.equal(r.x("a0"), 0x8000000000012345n);
  assert.equal(r.x("a1"), 0x8000000000012345n);
  const h = r.hart;
  assert.throws(() => h.readCsr(0x7c0), /CSR 0x7c0 does not exist/);
  assert.throws(() => h.writeCsr(0x3a1, 0n), /does not exist/, "odd pmpcfg on RV64");
  h.writeCsr(Csr.mscratch, -2n);
  assert.equal(h.readCsr(Csr.mscratch), (1n << 64n) - 2n);
  h.writeCsr(Csr.mepc, 0x80001001n);
  assert.equal(h.readCsr(Csr.mepc), 0x80001000n, "mepc bit 0 is always zero");
  h.setX(5, -1n);
  h.setX(0, 7n);
  assert.equal(h.getX(5), (1n << 64n) - 1n);
  assert.equal(h.getXLow(5), -1);
  assert.equal(h.getX(0), 0n);
});
