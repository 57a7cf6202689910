/**
 * The software TLBs keep what stays valid: a change of translation context (SUM, MXR,
 * privilege) drops only the entries the new context may not use, and `sfence.vma` with an
 * address (or a ranged remote sfence) drops only that page's entries, a superpage's included.
 */
import assert from "node:assert/strict";
import { TlbFlushCause } from "../../../lib/hw/riscv/hart_stats.ts";
import { BackingTlb, TlbEntry } from "../../../lib/hw/riscv/soft_tlb.ts";
import { enterS, type Rig, rig } from "./hart_rig_test.ts";

const V = 1n, R = 2n, W = 4n, X = 8n, U = 16n, A = 64n, D = 128n;
const pte = (pa: number, flags: bigint): bigint => (BigInt(pa >>> 12) << 10n) | flags;

const ROOT = 0x8010_0000;
const L1 = 0x8010_1000;
const L0 = 0x8010_2000;
/** Kernel data at VA 0x4000_0000 and 0x4000_1000 after a remap (see the sfence test). */
const REMAPPED = pte(0x8020_3000, V | R | W | A | D);
/** The megapage at VA 0x4020_0000 after a remap. */
const MEGA_REMAPPED = pte(0x8060_0000, V | R | W | A | D);

function tables(r: Rig): void {
  const w = (addr: number, v: bigint) => assert.ok(r.bus.write64(addr, v));
  w(ROOT + 2 * 8, pte(0x8000_0000, V | R | W | X | A | D)); // the program, identity
  w(ROOT + 1 * 8, pte(L1, V));
  w(L1 + 0 * 8, pte(L0, V));
  w(L0 + 0 * 8, pte(0x8020_0000, V | R | W | A | D)); //     0x4000_0000 kernel data
  w(L0 + 1 * 8, pte(0x8020_1000, V | R | W | A | D)); //     0x4000_1000 kernel data
  w(L0 + 2 * 8, pte(0x8020_2000, V | X | A)); //             0x4000_2000 execute-only
  w(L0 + 3 * 8, pte(0x8020_3000, V | R | W | U | A | D)); // 0x4000_3000 user data
  w(L1 + 1 * 8, pte(0x8040_0000, V | R | W | A | D)); //     0x4020_0000 2 MiB megapage
  w(0x8020_0000, 0x1111n);
  w(0x8020_1000, 0x2222n);
  w(0x8020_2000, 0x4444n);
  w(0x8020_3000, 0x3333n);
  w(0x8040_0000, 0x5555n);
}

/** M-mode trap handler: logs [mcause, mtval], skips the faulting instruction; ecall ends. */
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
  li t2, 9
  beq t0, t2, done
  csrr t1, mepc
  addi t1, t1, 4
  csrw mepc, t1
  mret
  .data
  .balign 8
mcount: .dword 0
mlog: .zero 256
`;

const SETUP = `
  la t0, mtrap
  csrw mtvec, t0
  li t0, 0x8000000000080100
  csrw satp, t0
  sfence.vma
${enterS("smode")}
smode:
`;

function log(r: Rig): Array<[bigint, bigint]> {
  return Array.from(
    { length: Number(r.mem64("mcount")) },
    (_, i) => [r.mem64("mlog", i * 16), r.mem64("mlog", i * 16 + 8)],
  );
}

Deno.test("soft TLB: clearing SUM and MXR revokes what they allowed and keeps the rest", () => {
  const r = rig(`
_start:
${SETUP}
  li s0, 0x40000000
  li s2, 0x40002000
  li s3, 0x40003000
  li t0, 0xc0000          # SUM | MXR
  csrs sstatus, t0
  ld a0, 0(s3)            # a user page (SUM)
  ld a1, 0(s2)            # an execute-only page (MXR)
  ld a2, 0(s0)            # a supervisor page
filled:
  li t0, 0xc0000
  csrc sstatus, t0
  ld a3, 0(s0)            # still cached
kept:
  ld a4, 0(s3)            # 13: no SUM
  ld a5, 0(s2)            # 13: no MXR
  ecall
done:
  j done
${HANDLER}`);
  tables(r);
  r.runTo("filled");
  const walks = r.hart.stats.pageWalks;
  const context = r.hart.stats.tlbFlushesBy[TlbFlushCause.Context];
  r.runTo("kept");
  assert.equal(r.hart.stats.pageWalks, walks, "the supervisor page stayed cached");
  assert.equal(r.hart.stats.tlbFlushesBy[TlbFlushCause.Context], context + 1);
  r.runToDone();
  assert.deepEqual([r.x("a0"), r.x("a1"), r.x("a2"), r.x("a3")], [
    0x3333n,
    0x4444n,
    0x1111n,
    0x1111n,
  ]);
  assert.deepEqual(log(r), [[13n, 0x40003000n], [13n, 0x40002000n], [9n, 0n]]);
});

Deno.test("soft TLB: U-mode may not use the supervisor entries S-mode cached", () => {
  const r = rig(`
_start:
${SETUP}
  li s0, 0x40000000
  ld a0, 0(s0)            # cached for S
  la t0, umode
  csrw sepc, t0
  li t0, 0x100
  csrc sstatus, t0
  sret
umode:                    # U-mode on a supervisor page: the fetch faults (12)
  nop
done:
  j done
${HANDLER}`);
  tables(r);
  r.runTo("umode");
  r.hart.run(20); // the fault, the handler, and the same fault at done
  assert.deepEqual(log(r)[0], [12n, BigInt(r.sym("umode"))]);
  assert.equal(r.x("a0"), 0x1111n);
});

Deno.test("soft TLB: sfence.vma with an address drops that page, a whole superpage included", () => {
  // The pages used here have TLB indexes of their own (5, 6, 7, 8): no entry evicts another.
  const r = rig(`
_start:
${SETUP}
  li s0, 0x40005000
  li s1, 0x40006000
  li s4, 0x40207000
  li s5, 0x40208000
  ld a0, 0(s0)
  ld a1, 0(s1)
  ld a4, 0(s4)
  ld a5, 0(s5)
  li t0, ${L0 + 5 * 8}
  li t1, ${REMAPPED}
  sd t1, 0(t0)            # both 4 KiB pages now map the user data's frame
  sd t1, 8(t0)
  li t0, ${L1 + 8}
  li t1, ${MEGA_REMAPPED}
  sd t1, 0(t0)
  sfence.vma s0
fenced:
  ld a2, 0(s1)            # not fenced: the cached translation
  ld a3, 0(s0)            # fenced: the new one
  sfence.vma s5           # any address of the megapage drops all of its pages
  ld a6, 0(s4)
  ecall
done:
  j done
${HANDLER}`);
  tables(r);
  r.bus.write64(L0 + 5 * 8, pte(0x8020_0000, V | R | W | A | D));
  r.bus.write64(L0 + 6 * 8, pte(0x8020_1000, V | R | W | A | D));
  r.bus.write64(0x8040_7000, 0x5555n);
  r.bus.write64(0x8040_8000, 0x6666n);
  r.bus.write64(0x8060_7000, 0x7777n);
  r.runTo("fenced");
  const flushes = r.hart.stats.tlbFlushes;
  const walks = r.hart.stats.pageWalks;
  r.runToDone();
  assert.deepEqual([r.x("a0"), r.x("a1"), r.x("a4"), r.x("a5")], [
    0x1111n,
    0x2222n,
    0x5555n,
    0x6666n,
  ]);
  assert.equal(r.x("a2"), 0x2222n, "the other page kept its entry");
  assert.equal(r.x("a3"), 0x3333n);
  assert.equal(r.x("a6"), 0x7777n);
  assert.equal(r.hart.stats.tlbFlushes, flushes, "no whole flush");
  assert.equal(r.hart.stats.tlbFlushesBy[TlbFlushCause.SfencePage], 2);
  assert.equal(r.hart.stats.pageWalks, walks + 2, "walks for the two fenced pages only");
});

Deno.test("soft TLB: flushTlbRange drops the pages of the range only", () => {
  const r = rig(`
_start:
${SETUP}
  li s0, 0x40000000
  li s1, 0x40001000
  ld a0, 0(s0)
  ld a1, 0(s1)
loaded:
  ld a2, 0(s0)
  ld a3, 0(s1)
  ecall
done:
  j done
${HANDLER}`);
  tables(r);
  r.runTo("loaded");
  r.bus.write64(L0, REMAPPED);
  r.bus.write64(L0 + 8, REMAPPED);
  r.hart.flushTlbRange(0x4000_0ff8n, 8n); // the last bytes of the first page only
  r.runToDone();
  assert.deepEqual([r.x("a2"), r.x("a3")], [0x3333n, 0x2222n]);
  r.hart.flushTlbRange(0n, 0n); // size 0: everything
  assert.equal(r.hart.stats.tlbFlushesBy[TlbFlushCause.Remote], 1);
});

Deno.test("soft TLB: AMOs, LR/SC and FP accesses use cached translations without walking", () => {
  const r = rig(`
_start:
${SETUP}
  li t0, 0x2000           # FS = Initial
  csrs sstatus, t0
  li s0, 0x40000000
  li t1, 5
  sd t1, 8(s0)            # caches the page for stores and loads
cached:
  amoadd.d a0, t1, (s0)
  lr.d a1, (s0)
  sc.d a2, t1, (s0)
  fld f1, 8(s0)
  fsd f1, 16(s0)
  ld a3, 16(s0)
  ld a4, 0(s0)
walked:
  ecall
done:
  j done
${HANDLER}`);
  tables(r);
  r.runTo("cached");
  const walks = r.hart.stats.pageWalks;
  r.runTo("walked");
  assert.equal(r.hart.stats.pageWalks, walks, "no walk after the first access");
  assert.deepEqual([r.x("a0"), r.x("a1"), r.x("a2"), r.x("a3"), r.x("a4")], [
    0x1111n,
    0x1116n,
    0n,
    5n,
    5n,
  ]);
});

Deno.test("soft TLB: the second level keeps supervisor entries across a trip to U-mode", () => {
  const r = rig(`
_start:
${SETUP}
  li s0, 0x40001000
  ld a0, 0(s0)            # cached for S
cached:
  nop
  ld a1, 0(s0)
back:
  ecall
done:
  j done
${HANDLER}`);
  tables(r);
  r.runTo("cached");
  const context = r.hart.stats.tlbFlushesBy[TlbFlushCause.Context];
  r.hart.priv = 0; // U-mode may not use the supervisor entries: the first level drops them
  r.hart.priv = 1;
  assert.equal(r.hart.stats.tlbFlushesBy[TlbFlushCause.Context], context + 1);
  const walks = r.hart.stats.pageWalks;
  r.runTo("back");
  assert.equal(r.x("a1"), 0x2222n);
  assert.equal(r.hart.stats.pageWalks, walks, "fetch and load refilled from the second level");
});

Deno.test("soft TLB: a store through the second level into code decoded since invalidates it", () => {
  // patch's page is cached for stores, then evicted from the first level by a page 1 MiB away
  // (same first-level index, another second-level one); executing patch decodes its page; the
  // next store to it refills from the second level and must still invalidate the decoded code.
  const r = rig(`
_start:
  la s0, patch
  li t0, 0x100000
  add s1, s0, t0
  sw zero, 64(s0)
  sw zero, 64(s1)
  jalr ra, 0(s0)
  mv s2, a0
  lw t1, li2
  sw t1, 0(s0)
  jalr ra, 0(s0)
  mv s3, a0
done:
  j done
li2:
  li a0, 2
  .balign 4096
patch:
  li a0, 1
  ret
`);
  r.runToDone();
  assert.deepEqual([r.x("s2"), r.x("s3")], [1n, 2n]);
});

Deno.test("soft TLB: a second level allocates its arrays on its first fill, never sharing them", () => {
  const a = new BackingTlb<string>("empty");
  const b = new BackingTlb<string>("empty");
  assert.equal(a.allocated, false);
  assert.equal(a.find(0x4000, 0), -1);
  a.flush();
  a.dropAddress(true, 0x4000);
  a.replace("x", "y");
  assert.equal(a.allocated, false);
  a.fill(0x4000, 0x8000_4000, "page", TlbEntry.Supervisor);
  assert.ok(a.allocated);
  const hit = a.find(0x4000, 0);
  assert.ok(hit >= 0);
  assert.equal(a.page[hit], "page");
  assert.equal(a.pa[hit], 0x8000_4000);
  // The other TLB still misses everywhere: the empty arrays it starts with were not written.
  assert.equal(b.find(0x4000, 0), -1);
  assert.equal(b.allocated, false);
  assert.equal(new BackingTlb<string>("empty").find(0x4000, 0), -1);
});
