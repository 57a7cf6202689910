/**
 * Sstc on the hart: stimecmp drives mip.STIP (time >= stimecmp) while menvcfg.STCE is set, the
 * timer interrupt fires from it (and wakes wfi), software cannot write STIP then, and S-mode
 * access is gated by menvcfg.STCE and mcounteren.TM; a hart built without Sstc has no stimecmp.
 */
import assert from "node:assert/strict";
import { StopReason } from "../../../lib/hw/riscv/hart.ts";
import { enterS, enterU, rig } from "./hart_rig_test.ts";

const MIP = 0x344;
const STIP = 1n << 5n;

/** A rig whose `time` CSR reads `clock.now`. */
function timed(source: string, options: { sstc?: boolean } = {}) {
  const clock = { now: 0 };
  const r = rig(source, { readTime: () => clock.now, ...options });
  return { r, clock };
}

const handler = `
  .align 2
trap:
  csrr a6, mcause
  csrr a7, mepc
  j done
`;

Deno.test("sstc: STIP follows time >= stimecmp while STCE is set; the interrupt fires", () => {
  const { r, clock } = timed(`
_start:
  la t0, trap
  csrw mtvec, t0
  li t0, 1 << 63
  csrs menvcfg, t0
  li t0, 1000
  csrw stimecmp, t0
  li t0, 1 << 5
  csrs mie, t0
  csrsi mstatus, 8
spin:
  j spin
done:
  j done
${handler}
`);
  r.hart.run(20);
  assert.equal(r.hart.readCsr(MIP) & STIP, 0n, "time 0 < stimecmp 1000");
  assert.equal(r.hart.pc, r.sym("spin"));
  clock.now = 999;
  r.hart.run(20);
  assert.equal(r.hart.pc, r.sym("spin"));
  clock.now = 1000;
  assert.equal(r.hart.readCsr(MIP) & STIP, STIP, "time reached stimecmp");
  r.runToDone();
  assert.equal(r.x("a6"), (1n << 63n) | 5n, "supervisor timer interrupt taken (not delegated)");
  // Writing a later stimecmp lowers STIP.
  r.hart.writeCsr(0x14d, 5000n);
  assert.equal(r.hart.readCsr(MIP) & STIP, 0n);
  // With STCE clear, the comparison no longer drives STIP.
  r.hart.writeCsr(0x14d, 0n);
  assert.equal(r.hart.readCsr(MIP) & STIP, STIP);
  r.hart.writeCsr(0x30a, 0n);
  assert.equal(r.hart.readCsr(MIP) & STIP, 0n);
});

Deno.test("sstc: software cannot write mip.STIP while STCE is set (it can when clear)", () => {
  const { r } = timed(`
_start:
  li t0, 1 << 5
  csrs mip, t0
  csrr a0, mip
  csrc mip, t0
  li t1, 1 << 63
  csrs menvcfg, t1
  csrs mip, t0
  csrr a1, mip
done:
  j done
`);
  r.runToDone();
  assert.equal(BigInt(r.x("a0")) & STIP, STIP);
  assert.equal(BigInt(r.x("a1")) & STIP, 0n, "stimecmp (all ones) is not reached");
});

Deno.test("sstc: wfi waits until time reaches stimecmp", () => {
  const { r, clock } = timed(`
_start:
  la t0, trap
  csrw mtvec, t0
  li t0, 1 << 63
  csrs menvcfg, t0
  li t0, 500
  csrw stimecmp, t0
  li t0, 1 << 5
  csrs mie, t0
  wfi
  li a5, 1
done:
  j done
${handler}
`);
  assert.equal(r.hart.run(100), StopReason.Wfi);
  assert.equal(r.hart.run(100), StopReason.Wfi, "still waiting at time 0");
  clock.now = 500;
  r.runToDone();
  assert.equal(r.x("a5"), 1n, "woken by STIP (MIE clear: no trap, execution goes on)");
});

Deno.test("sstc: S-mode access needs menvcfg.STCE and mcounteren.TM; U-mode never", () => {
  const program = (stce: boolean, tm: boolean, user = false) => `
_start:
  la t0, trap
  csrw mtvec, t0
  ${stce ? "li t0, 1 << 63\n  csrs menvcfg, t0" : "csrw menvcfg, zero"}
  ${tm ? "csrwi mcounteren, 2" : "csrwi mcounteren, 5"}
  li a6, 99
  ${user ? enterU("access") : enterS("access")}
access:
  csrr a0, stimecmp
  li t0, 77
  csrw stimecmp, t0
  li a6, 0
done:
  j done
${handler}
`;
  for (
    const [stce, tm, user, legal] of [
      [true, true, false, true],
      [false, true, false, false],
      [true, false, false, false],
      [false, false, false, false],
      [true, true, true, false],
    ] as const
  ) {
    const { r } = timed(program(stce, tm, user));
    r.runToDone();
    const what = `STCE ${stce}, TM ${tm}, ${user ? "U" : "S"}-mode`;
    if (legal) {
      assert.equal(r.x("a6"), 0n, what);
      assert.equal(r.hart.readCsr(0x14d), 77n);
    } else assert.equal(r.x("a6"), 2n, `${what}: illegal instruction`);
  }
});

Deno.test("sstc: a hart without Sstc has no stimecmp and menvcfg.STCE reads 0", () => {
  const { r } = timed(
    `
_start:
  la t0, trap
  csrw mtvec, t0
  li t0, -1
  csrw menvcfg, t0
  csrr a0, menvcfg
  li a6, 99
  csrr a1, stimecmp
done:
  j done
${handler}
`,
    { sstc: false },
  );
  r.runToDone();
  assert.equal(r.x("a0"), 1n, "only FIOM");
  assert.equal(r.x("a6"), 2n, "stimecmp is illegal");
  assert.throws(() => r.hart.readCsr(0x14d), /does not exist/);
});

Deno.test("sstc: guest delegation (the VMM) sets STCE; stimecmp resets to all ones", () => {
  const { r } = timed("_start:\ndone:\n  j done\n", {});
  assert.equal(r.hart.readCsr(0x30a) >> 63n, 0n, "bare hart: STCE clear (firmware sets it)");
  assert.equal(r.hart.readCsr(0x14d), (1n << 64n) - 1n);
  const g = rig("_start:\ndone:\n  j done\n", { guestDelegation: true });
  assert.equal(g.hart.readCsr(0x30a) >> 63n, 1n);
  assert.equal(g.hart.sstcDeadline(), undefined, "all ones: no timer armed");
  g.hart.writeCsr(0x14d, 1234n);
  assert.equal(g.hart.sstcDeadline(), 1234);
  const off = rig("_start:\ndone:\n  j done\n", { guestDelegation: true, sstc: false });
  assert.equal(off.hart.readCsr(0x30a) >> 63n, 0n);
  assert.equal(off.hart.sstcDeadline(), undefined);
});
