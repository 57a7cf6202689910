/**
 * Exceptions: causes, epc, tval, delegation, xRET, trap-related mstatus fields, illegal
 * instructions and the fault kinds, with programs assembled by our assembler.
 */
import assert from "node:assert/strict";
import { Csr, Mstatus } from "../../../lib/hw/riscv/csr.ts";
import { StopReason } from "../../../lib/hw/riscv/hart.ts";
import { enterS, enterU, type Rig, rig, sretToU, u64 } from "./hart_rig_test.ts";

/** Logs {cause, epc, tval, status} of a trap taken in mode `x` to `${x}log` (32 bytes each). */
const logTrap = (x: "m" | "s") => `
  csrr t0, ${x}cause
  csrr t1, ${x}epc
  csrr t2, ${x}tval
  csrr t3, ${x}status
  la t4, ${x}count
  ld t5, 0(t4)
  addi t6, t5, 1
  sd t6, 0(t4)
  slli t5, t5, 5
  la t4, ${x}log
  add t4, t4, t5
  sd t0, 0(t4)
  sd t1, 8(t4)
  sd t2, 16(t4)
  sd t3, 24(t4)`;

/** Returns from a trap of mode `x` to the instruction after the one at t1 (2 or 4 bytes). */
const returnPastTrapped = (x: "m" | "s") => `
  lhu t4, 0(t1)
  andi t4, t4, 3
  li t6, 3
  addi t1, t1, 2
  bne t4, t6, 2f
  addi t1, t1, 2
2:
  csrw ${x}epc, t1
  ${x}ret`;

/**
 * Trap handlers used by the programs: each logs {cause, epc, tval, status} (32 bytes per entry)
 * to `mlog`/`slog` and resumes after the trapping instruction, or at `resume` when it is set.
 */
const HANDLERS = `
  .balign 4
mtrap:${logTrap("m")}
  la t4, resume
  ld t5, 0(t4)
  beqz t5, 1f
  sd zero, 0(t4)
  csrw mepc, t5
  li t6, 0x1800
  csrs mstatus, t6
  mret
1:${returnPastTrapped("m")}

  .balign 4
strap:${logTrap("s")}${returnPastTrapped("s")}
`;

const DATA = `
  .data
  .balign 8
mcount: .dword 0
scount: .dword 0
resume: .dword 0
mlog: .zero 1024
slog: .zero 512
`;

interface Entry {
  cause: bigint;
  epc: bigint;
  tval: bigint;
  status: bigint;
}

function program(body: string): string {
  return `
  .text
  .globl _start
_start:
  la t0, mtrap
  csrw mtvec, t0
  la t0, strap
  csrw stvec, t0
${body}
done:
  j done
${HANDLERS}
${DATA}`;
}

function log(r: Rig, which: "m" | "s"): Entry[] {
  const n = Number(r.mem64(`${which}count`));
  const out: Entry[] = [];
  for (let i = 0; i < n; i++) {
    const at = i * 32;
    out.push({
      cause: r.mem64(`${which}log`, at),
      epc: r.mem64(`${which}log`, at + 8),
      tval: r.mem64(`${which}log`, at + 16),
      status: r.mem64(`${which}log`, at + 24),
    });
  }
  return out;
}

const mpp = (status: bigint): number => Number((status >> 11n) & 3n);

/** Returns to M-mode at label `to` from S or U (through an ecall the handler logs). */
const toM = (to: string) => `
  la t0, ${to}
  la t1, resume
  sd t0, 0(t1)
  ecall
${to}:
`;

Deno.test("trap: ecall from M, S and U gives causes 11, 9, 8 with epc and MPP", () => {
  const r = rig(program(`
e_m:
  ecall
${enterS("smode")}
smode:
e_s:
  ecall
${sretToU("umode")}
umode:
e_u:
  ecall
  j done
`));
  r.runToDone();
  const l = log(r, "m");
  assert.deepEqual(l.map((e) => e.cause), [11n, 9n, 8n]);
  assert.deepEqual(l.map((e) => Number(e.epc)), [r.sym("e_m"), r.sym("e_s"), r.sym("e_u")]);
  assert.deepEqual(l.map((e) => e.tval), [0n, 0n, 0n]);
  assert.deepEqual(l.map((e) => mpp(e.status)), [3, 1, 0]);
  assert.equal(r.hart.priv, 0);
});

Deno.test("trap: medeleg sends U and S exceptions to S-mode, never M-mode ones", () => {
  const r = rig(program(`
  li t0, -1
  csrw medeleg, t0
  csrr s0, medeleg
m_ecall:
  ecall
${enterS("smode")}
smode:
s_ill:
  .word 0xffffffff
  la t0, umode
  csrw sepc, t0
  li t0, 0x100
  csrc sstatus, t0
  li t0, 0x2
  csrs sstatus, t0
  sret
umode:
u_ecall:
  ecall
u_brk:
  c.ebreak
  j done
`));
  r.runToDone();
  assert.equal(r.x("s0"), 0xb3ffn, "medeleg: bit 11 and reserved bits read zero");
  const m = log(r, "m");
  assert.deepEqual(m.map((e) => e.cause), [11n], "ecall from M is never delegated");
  const s = log(r, "s");
  assert.deepEqual(s.map((e) => e.cause), [2n, 8n, 3n]);
  assert.deepEqual(s.map((e) => Number(e.epc)), [r.sym("s_ill"), r.sym("u_ecall"), r.sym("u_brk")]);
  assert.equal(s[0].tval, 0xffffffffn, "illegal instruction tval = the instruction bits");
  assert.equal(Number(s[2].tval), r.sym("u_brk"), "breakpoint tval = pc");
  // SPP: S for the first, U for the others; SPIE takes the old SIE (set before sret to U).
  assert.deepEqual(s.map((e) => Number((e.status >> 8n) & 1n)), [1, 0, 0]);
  assert.equal(Number((s[1].status >> 5n) & 1n), 1, "SPIE = SIE at the time of the trap");
  assert.equal(Number((s[1].status >> 1n) & 1n), 0, "SIE cleared in the handler");
});

Deno.test("trap: illegal instructions carry their bits; CSR and xRET permission rules", () => {
  const r = rig(program(`
i_word:
  .word 0x0000007f
i_half:
  .half 0x0000
i_fpu:
  .word 0x00053007
i_nocsr:
  csrr a0, 0x7c0
i_romcsr:
  csrw mhartid, a0
  csrr a1, mhartid
  csrr a2, mvendorid
${enterS("smode")}
smode:
s_mret:
  mret
s_mcsr:
  csrr a0, mstatus
  li t0, 0x700000
  csrs sstatus, t0
  csrr a3, sstatus
${toM("back1")}
  li t0, 0x700000
  csrs mstatus, t0
${enterS("smode2")}
smode2:
s_tsr:
  sret
s_tw:
  wfi
s_tvm_satp:
  csrr a0, satp
s_tvm_sfence:
  sfence.vma
s_stimecmp:
  csrr a0, 0x14d
${toM("back2")}
  li t0, 0x700000
  csrc mstatus, t0
${enterU("umode")}
umode:
u_sret:
  sret
u_wfi:
  wfi
u_scsr:
  csrr a0, sstatus
u_sfence:
  sfence.vma zero, zero
  j done
`));
  r.runToDone();
  const m = log(r, "m");
  const byEpc = new Map(m.map((e) => [Number(e.epc), e]));
  const expectIllegal = (label: string, tval?: bigint) => {
    const e = byEpc.get(r.sym(label));
    assert.ok(e, `${label} should trap`);
    assert.equal(e.cause, 2n, `${label}: cause`);
    if (tval !== undefined) assert.equal(e.tval, tval, `${label}: tval`);
  };
  expectIllegal("i_word", 0x7fn);
  expectIllegal("i_half", 0n);
  expectIllegal("i_fpu", 0x00053007n);
  expectIllegal("i_nocsr", 0x7c002573n);
  expectIllegal("i_romcsr");
  expectIllegal("s_mret", 0x30200073n);
  expectIllegal("s_mcsr");
  expectIllegal("s_tsr", 0x10200073n);
  expectIllegal("s_tw", 0x10500073n);
  expectIllegal("s_tvm_satp");
  expectIllegal("s_tvm_sfence", 0x12000073n);
  expectIllegal("s_stimecmp");
  expectIllegal("u_sret");
  expectIllegal("u_wfi");
  expectIllegal("u_scsr");
  expectIllegal("u_sfence");
  assert.equal(r.x("a1"), 0n, "mhartid unchanged");
  assert.equal(r.x("a2"), 0n);
  assert.equal(r.x("a3") & 0x700000n, 0n, "TVM/TW/TSR are not visible in sstatus");
  assert.equal(m.length, 18);
});

Deno.test("trap: mret/sret restore MIE/SIE, set xPIE, drop MPP/SPP to U and clear MPRV", () => {
  const r = rig(program(`
  li t0, 0x20088
  csrs mstatus, t0       # MPRV, MPIE, MIE... then set MPP=S
  li t0, 0x1800
  csrc mstatus, t0
  li t0, 0x800
  csrs mstatus, t0
  li t0, 0x8
  csrc mstatus, t0       # MIE=0, MPIE=1
  la t0, smode
  csrw mepc, t0
  mret
smode:
  csrr s1, sstatus
  li t0, 0x22
  csrs sstatus, t0       # SIE, SPIE
  li t0, 0x2
  csrc sstatus, t0       # SIE=0, SPIE=1, SPP=0 -> U
  la t0, umode
  csrw sepc, t0
  sret
umode:
  ecall
  j done
`));
  r.runToDone();
  const m = log(r, "m");
  const st = m[0].status;
  assert.equal(m[0].cause, 8n);
  assert.equal(st & BigInt(Mstatus.MPRV), 0n, "MPRV cleared by mret to S");
  assert.equal(st & BigInt(Mstatus.SPIE), BigInt(Mstatus.SPIE), "sret sets SPIE");
  assert.equal((st >> 8n) & 1n, 0n, "SPP = U after sret");
  assert.equal(st & BigInt(Mstatus.MIE), 0n, "MIE cleared at the trap");
  assert.equal(st & BigInt(Mstatus.MPIE), BigInt(Mstatus.MPIE), "MPIE = MIE (1 since mret)");
  const sAtS = r.x("s1");
  assert.equal(sAtS & BigInt(Mstatus.SPIE), 0n);
  const final = r.hart.readCsr(Csr.mstatus);
  assert.equal(mpp(final), 0, "mret from the handler dropped MPP to U");
  assert.equal(final & BigInt(Mstatus.MPIE), BigInt(Mstatus.MPIE), "mret sets MPIE");
});

Deno.test("trap: access faults for unmapped addresses carry the address in tval", () => {
  const r = rig(program(`
  li s0, 0x40000000
l_fault:
  ld a0, 8(s0)
s_fault:
  sw a0, 0(s0)
  la t0, after
  la t1, resume
  sd t0, 0(t1)
f_fault:
  jalr zero, 0(s0)
after:
  j done
`));
  r.runToDone();
  const m = log(r, "m");
  assert.deepEqual(m.map((e) => e.cause), [5n, 7n, 1n]);
  assert.deepEqual(m.map((e) => e.tval), [0x40000008n, 0x40000000n, 0x40000000n]);
  assert.deepEqual(m.map((e) => Number(e.epc)), [r.sym("l_fault"), r.sym("s_fault"), 0x40000000]);
});

Deno.test("trap: exitOnBusError stops the run instead and names the access", () => {
  const r = rig(
    program(`
  li s0, 0x40000000
  li a1, 7
b_store:
  sh a1, 6(s0)
  j done
`),
    { exitOnBusError: true },
  );
  assert.equal(r.runToDone(), StopReason.BusError);
  assert.equal(r.hart.pc, r.sym("b_store"), "pc stays at the faulting instruction");
  assert.deepEqual({ ...r.hart.lastBusError }, {
    addr: 0x40000006,
    width: 2,
    write: true,
    fetch: false,
    pc: r.sym("b_store"),
  });
  assert.equal(log(r, "m").length, 0);
  // A fetch from nowhere.
  r.hart.pc = 0x1000;
  assert.equal(r.hart.run(10), StopReason.BusError);
  assert.equal(r.hart.lastBusError.fetch, true);
  assert.equal(r.hart.lastBusError.addr, 0x1000);
});

Deno.test("trap: misaligned RAM accesses are performed; misaligned atomics trap", () => {
  const r = rig(program(`
  la s0, buf
  li a0, 0x1122334455667788
  sd a0, 3(s0)
  ld a1, 3(s0)
  lw a2, 5(s0)
  lhu a3, 1023(s0)      # odd address inside the page
  li a4, 0x0102030405060708
  addi s2, s0, 2047
  addi s2, s2, 2046
  sd a4, 0(s2)          # crosses a page boundary
  ld a5, 0(s2)
  addi s1, s0, 2
m_lr:
  lr.w a0, (s1)
m_amo:
  amoadd.d a0, a1, (s1)
m_sc:
  sc.w a0, a1, (s1)
  j done
  .data
  .balign 4096
buf: .zero 8192
`));
  r.runToDone();
  assert.equal(r.x("a1"), 0x1122334455667788n);
  assert.equal(r.x("a2"), u64(BigInt.asIntN(32, 0x11223344556677n >> 8n)) & u64(-1n));
  assert.equal(r.x("a5"), 0x0102030405060708n);
  const m = log(r, "m");
  assert.deepEqual(m.map((e) => e.cause), [4n, 6n, 6n]);
  assert.deepEqual(m.map((e) => Number(e.epc)), [r.sym("m_lr"), r.sym("m_amo"), r.sym("m_sc")]);
  assert.deepEqual(m.map((e) => Number(e.tval)), Array(3).fill(r.sym("buf") + 2));
});

Deno.test("trap: direct and vectored tvec; exceptions always use the base", () => {
  const r = rig(`
_start:
  la t0, vec
  ori t0, t0, 1
  csrw mtvec, t0
  csrr s0, mtvec
  ecall
  li t0, 3
  csrw stvec, t0
  csrr s1, stvec
done:
  j done
  .balign 64
vec:
  csrr a0, mcause
  csrr t0, mepc
  addi t0, t0, 4
  csrw mepc, t0
  mret
`);
  r.runToDone();
  assert.equal(Number(r.x("s0")), r.sym("vec") + 1);
  assert.equal(r.x("a0"), 11n);
  assert.equal(r.x("s1"), 0n, "reserved mode 3 is not kept");
});
