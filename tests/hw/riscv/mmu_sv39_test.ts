/**
 * Sv39: walks through 4 KiB pages, megapages and gigapages, permission checks (R/W/X/U, SUM,
 * MXR), faults and their tval, hardware A/D updates, MPRV, sfence.vma and the walker itself.
 */
import assert from "node:assert/strict";
import { Bus } from "../../../lib/hw/bus.ts";
import { SparseMemory } from "../../../lib/hw/memory.ts";
import { Access, type WalkOutput, WalkResult, walkSv39 } from "../../../lib/hw/riscv/mmu.ts";
import { enterS, type Rig, rig } from "./hart_rig_test.ts";

const V = 1n, R = 2n, W = 4n, X = 8n, U = 16n, A = 64n, D = 128n;
const pte = (pa: number, flags: bigint): bigint => (BigInt(pa >>> 12) << 10n) | flags;

const ROOT = 0x8010_0000;
const L1 = 0x8010_1000;
const L0 = 0x8010_2000;

/** Writes the page tables of the tests into the rig's memory. */
function tables(r: Rig): void {
  const w = (addr: number, v: bigint) => assert.ok(r.bus.write64(addr, v));
  // Gigapage identity map of 0x8000_0000 (S-mode RWX) and a high alias at 0xffff_ffc0_0000_0000.
  w(ROOT + 2 * 8, pte(0x8000_0000, V | R | W | X | A | D));
  w(ROOT + 256 * 8, pte(0x8000_0000, V | R | W | A | D));
  // 0x4000_0000: L1 -> L0.
  w(ROOT + 1 * 8, pte(L1, V));
  w(L1 + 0 * 8, pte(L0, V));
  w(L0 + 0 * 8, pte(0x8020_0000, V | R | A)); //           0x4000_0000 read-only
  w(L0 + 1 * 8, pte(0x8020_1000, V | R | W)); //           0x4000_1000 RW, A/D clear
  w(L0 + 2 * 8, pte(0x8020_2000, V | X | A)); //           0x4000_2000 execute-only
  w(L0 + 3 * 8, pte(0x8020_3000, V | R | W | U | A | D)); // 0x4000_3000 user RW
  w(L0 + 4 * 8, pte(0x8020_4000, R | W | A | D)); //       0x4000_4000 not valid
  w(L0 + 5 * 8, pte(0x8020_5000, V | W | A | D)); //       0x4000_5000 W without R
  w(L0 + 6 * 8, pte(0x8020_6000, V | R | A) | (1n << 62n)); // PBMT bits set: reserved here
  w(L0 + 7 * 8, pte(0x8020_7000, V | R | X | U | A)); //   0x4000_7000 user code
  w(L1 + 1 * 8, pte(0x8040_0000, V | R | W | A | D)); //   0x4020_0000 2 MiB megapage
  w(L1 + 2 * 8, pte(0x8040_1000, V | R | A)); //           0x4040_0000 misaligned megapage
  w(L1 + 3 * 8, pte(0x1000_0000, V)); //                   0x4060_0000 table where no RAM is
  // Data.
  w(0x8020_0000, 0x1111n);
  w(0x8020_2000, 0x2222n);
  w(0x8020_3000, 0x3333n);
  w(0x8040_0000 + 0x1_2340, 0x4444n);
  w(0x8020_7000, 0x0000_8067n); // ret (jalr x0, 0(ra)) for user code
}

const HANDLER = `
  .balign 4
mtrap:
  csrr t0, mcause
  csrr t1, mtval
  la t4, mcount
  ld t5, 0(t4)
  addi t6, t5, 1
  sd t6, 0(t4)
  slli t5, t5, 4
  la t4, mlog
  add t4, t4, t5
  sd t0, 0(t4)
  sd t1, 8(t4)
  li t2, 8
  beq t0, t2, to_m
  li t2, 9
  beq t0, t2, to_m
  la t4, resume
  ld t5, 0(t4)
  beqz t5, 1f
  sd zero, 0(t4)
  csrw mepc, t5
  mret
1:
  csrr t1, mepc
  addi t1, t1, 4
  csrw mepc, t1
  mret
to_m:
  csrr t1, mepc
  addi t1, t1, 4
  jr t1              # continue in M-mode after the ecall
  .data
  .balign 8
mcount: .dword 0
resume: .dword 0
mlog: .zero 512
`;

const setup = `
  la t0, mtrap
  csrw mtvec, t0
  li t0, 0x8000000000080100
  csrw satp, t0
  sfence.vma
${enterS("smode")}
smode:
`;

function log(r: Rig): Array<[bigint, bigint]> {
  const n = Number(r.mem64("mcount"));
  return Array.from(
    { length: n },
    (_, i) => [r.mem64("mlog", i * 16), r.mem64("mlog", i * 16 + 8)],
  );
}

const resumeAt = (label: string) => `
  la t0, ${label}
  la t1, resume
  sd t0, 0(t1)
`;

Deno.test("sv39: permissions, faults with tval, SUM and MXR", () => {
  const r = rig(`
_start:
${setup}
  li s0, 0x40000000
  ld a0, 0(s0)
  sd a0, 0(s0)            # 15: read-only page
  li s2, 0x40002000
  ld a1, 0(s2)            # 13: execute-only without MXR
  li t0, 0x80000
  csrs sstatus, t0
  ld a2, 0(s2)            # MXR: ok
  li s3, 0x40003000
  ld a3, 8(s3)            # 13: user page without SUM
  li t0, 0x40000
  csrs sstatus, t0
  ld a3, 0(s3)            # SUM: ok
  li s4, 0x40004000
  lw a4, 4(s4)            # 13: not valid
  li s5, 0x40005000
  sw a4, 0(s5)            # 15: W without R
  li s6, 0x40006000
  lb a4, 0(s6)            # 13: reserved bits
  li s7, 0x40200000
  li t0, 0x12340
  add s7, s7, t0
  ld a5, 0(s7)            # megapage
  li s8, 0x40400000
  ld a6, 0(s8)            # 13: misaligned megapage
  li s9, 0x40600000
  ld a6, 0(s9)            # 5: page table in no memory
  li s10, 0x4000000000
  ld a6, 0(s10)           # 13: not canonical
  li s11, 0xffffffc000000000
  ld a7, 0(s11)           # high alias of 0x8000_0000
${resumeAt("after_fetch")}
  li t0, 0x40003000
  jr t0                   # 12: S-mode may never execute user pages
after_fetch:
  li t0, 0x40000000
  jr t0                   # 12: no X
after_fetch2:
  ecall
done:
  j done
${HANDLER}`);
  tables(r);
  // The second fetch fault resumes at after_fetch2.
  r.runTo("after_fetch", 1000);
  const resume = r.sym("resume");
  r.bus.write64(resume, BigInt(r.sym("after_fetch2")));
  r.runToDone();
  assert.equal(r.x("a0"), 0x1111n);
  assert.equal(r.x("a2"), 0x2222n);
  assert.equal(r.x("a3"), 0x3333n);
  assert.equal(r.x("a5"), 0x4444n);
  assert.equal(r.x("a7"), r.bus.read64(0x8000_0000));
  assert.deepEqual(log(r), [
    [15n, 0x40000000n],
    [13n, 0x40002000n],
    [13n, 0x40003008n],
    [13n, 0x40004004n],
    [15n, 0x40005000n],
    [13n, 0x40006000n],
    [13n, 0x40400000n],
    [5n, 0x40600000n],
    [13n, 0x4000000000n],
    [12n, 0x40003000n],
    [12n, 0x40000000n],
    [9n, 0n],
  ]);
});

Deno.test("sv39: the walker sets A on access and D on store", () => {
  const r = rig(`
_start:
${setup}
  li s1, 0x40001000
  ld a0, 16(s1)
  sd a0, 24(s1)
  ecall
done:
  j done
${HANDLER}`);
  tables(r);
  const leaf = () => r.bus.read64(L0 + 8)! & 0xffn;
  r.runTo("done", 10_000);
  assert.equal(leaf(), V | R | W | A | D);
  // Re-run from scratch to observe the intermediate state after the load only.
  const r2 = rig(`
_start:
${setup}
  li s1, 0x40001000
  ld a0, 16(s1)
  ecall
done:
  j done
${HANDLER}`);
  tables(r2);
  r2.runToDone();
  assert.equal(r2.bus.read64(L0 + 8)! & 0xffn, V | R | W | A, "a load sets only A");
});

Deno.test("sv39: U-mode runs user pages and faults on supervisor pages; MPRV translates M loads", () => {
  const r = rig(`
_start:
${setup}
  la t0, umode_ret
  mv ra, t0
  li t0, 0x40007000
  csrw sepc, t0
  li t0, 0x100
  csrc sstatus, t0
  sret                    # U-mode at 0x4000_7000: ret -> umode_ret (supervisor page: fault)
umode_ret:
  nop
done:
  j done
${HANDLER}`);
  tables(r);
  r.bus.write64(r.sym("resume"), BigInt(r.sym("done")));
  r.runTo("done", 1000);
  assert.deepEqual(log(r), [[12n, BigInt(r.sym("umode_ret"))]]);
  assert.equal(r.hart.priv, 0, "the handler resumed in U-mode at done (identity map is S-only)");

  const m = rig(`
_start:
  li t0, 0x8000000000080100
  csrw satp, t0
  li t0, 0x1800
  csrc mstatus, t0
  li t0, 0x20800          # MPRV, MPP = S
  csrs mstatus, t0
  li s0, 0x40000000
  ld a0, 0(s0)
  li t0, 0x20000
  csrc mstatus, t0
  li s1, 0x80200000
  ld a1, 0(s1)            # M-mode without MPRV: physical
done:
  j done
`);
  tables(m);
  m.runToDone();
  assert.equal(m.x("a0"), 0x1111n);
  assert.equal(m.x("a1"), 0x1111n);
});

Deno.test("sv39: sfence.vma makes page-table changes visible", () => {
  const r = rig(`
_start:
${setup}
  li s0, 0x40000000
  ld a0, 0(s0)
  li t0, 0x80102000
  li t1, 0x2008042b       # PPN 0x80201, V R W... A (0x43) | D? -> R|W|V|A|D = 0xc7
  sd t1, 0(t0)
  sfence.vma
  ld a1, 0(s0)
  ecall
done:
  j done
${HANDLER}`);
  tables(r);
  r.bus.write64(0x8020_1000, 0x5555n);
  r.runToDone();
  assert.equal(r.x("a0"), 0x1111n);
  assert.equal(r.x("a1"), 0x5555n);
});

Deno.test("sv39 walker: results, leaf level and physical address", () => {
  const mem = new SparseMemory(1 << 22);
  const bus = new Bus();
  bus.mapRam(0x8000_0000, mem.size, mem);
  const root = 0x8000_0000;
  const l1 = 0x8000_1000;
  bus.write64(root + 8 * 255, pte(l1, V)); // VA 0x3f_c000_0000: the top of the lower half
  bus.write64(l1 + 8 * 3, pte(0x8020_0000, V | R | W | X | U)); // 2 MiB user page
  const out: WalkOutput = { pa: 0, pte: 0, level: 0, pteAddr: 0 };
  const va = 0x3f_c000_0000 + 3 * 0x20_0000 + 0x1234;
  assert.equal(walkSv39(bus, root >>> 12, va, Access.Load, 0, false, false, out), WalkResult.Ok);
  assert.equal(out.pa, 0x8020_1234);
  assert.equal(out.level, 1);
  assert.equal(out.pte & 0xff, Number(V | R | W | X | U | A), "A set by the walk");
  assert.equal(
    walkSv39(bus, root >>> 12, va, Access.Load, 1, false, false, out),
    WalkResult.PageFault,
  );
  assert.equal(walkSv39(bus, root >>> 12, va, Access.Store, 1, true, false, out), WalkResult.Ok);
  assert.equal(Number(bus.read64(l1 + 24)! & 0xffn), Number(V | R | W | X | U | A | D));
  assert.equal(
    walkSv39(bus, root >>> 12, va, Access.Fetch, 1, true, false, out),
    WalkResult.PageFault,
  );
  assert.equal(
    walkSv39(bus, root >>> 12, 0x1000, Access.Load, 1, false, false, out),
    WalkResult.PageFault,
  );
  assert.equal(
    walkSv39(bus, 0x1, 0x1000, Access.Load, 1, false, false, out),
    WalkResult.AccessFault,
  );
});

Deno.test("sv39: fetch from non-canonical addresses is an instruction page fault with tval", () => {
  for (
    const target of [
      "0x0000008000000000", // bit 39 set, bit 38 clear
      "0x7ffffffffffffff8", // beyond 2^53: exact as a value in the number, still non-canonical
      "0xffffff7ffffff000", // bits 63..39 set, bit 38 clear
    ]
  ) {
    const r = rig(`
_start:
${setup}
${resumeAt("after")}
  li t0, ${target}
  jr t0
after:
  ecall
done:
  j done
${HANDLER}
`);
    tables(r);
    r.runToDone();
    const [cause, tval] = log(r)[0];
    assert.equal(cause, 12n, `${target}: instruction page fault`);
    // The hart holds addresses as numbers: values beyond 2^53 are rounded (still faulting).
    const want = BigInt.asUintN(64, BigInt(Number(BigInt.asIntN(64, BigInt(target)))));
    assert.equal(tval, want, `${target}: tval`);
  }
});

Deno.test("bare: fetch with bit 63 set or beyond 56 physical bits is an access fault", () => {
  for (const target of ["-8", "0x0100000000000000", "0x0000000100000000"]) {
    const r = rig(`
_start:
  la t0, mtrap
  csrw mtvec, t0
  li t0, ${target}
  jr t0
done:
  j done
  .balign 4
mtrap:
  csrr a0, mcause
  csrr a1, mepc
  csrr a2, mtval
  j done
`);
    r.runToDone(1000);
    const want = BigInt.asUintN(64, BigInt(target));
    assert.equal(r.x("a0"), 1n, `${target}: instruction access fault`);
    assert.equal(r.x("a1"), want, `${target}: mepc`);
    assert.equal(r.x("a2"), want, `${target}: mtval`);
  }
});
