import assert from "node:assert/strict";
import { Aclint } from "../../../lib/hw/devices/aclint.ts";

function rig(harts = 2) {
  let now = 0;
  const msip = new Array(harts).fill(false), mtip = new Array(harts).fill(false);
  const clint = new Aclint({
    harts: msip.map((_, h) => ({
      msip: { set: (l: boolean) => (msip[h] = l) },
      mtip: { set: (l: boolean) => (mtip[h] = l) },
    })),
    clock: () => now,
  });
  const setNow = (t: number) => {
    now = t;
    clint.updateTimers();
  };
  // writeq/readq as a 64-bit RV64 driver issues them, split by the bus into two words, low first.
  const writeq = (off: number, v: bigint) => {
    clint.write(off, 4, Number(v & 0xffff_ffffn));
    clint.write(off + 4, 4, Number(v >> 32n));
  };
  const readq = (off: number) =>
    BigInt(clint.read(off, 4)) | (BigInt(clint.read(off + 4, 4)) << 32n);
  return { clint, msip, mtip, setNow, writeq, readq };
}

Deno.test("aclint: OpenSBI timer flow: mtimecmp = mtime + delta raises MTIP when due", () => {
  const { clint, mtip, setNow, writeq, readq } = rig();
  setNow(1000);
  assert.equal(readq(0xbff8), 1000n);
  assert.deepEqual(mtip, [false, false], "reset mtimecmp is the maximum: nothing pending");
  assert.equal(readq(0x4000), 0xffff_ffff_ffff_ffffn);
  writeq(0x4000 + 8, readq(0xbff8) + 500n); // hart 1
  assert.equal(clint.nextDeadline(), 1500);
  setNow(1499);
  assert.deepEqual(mtip, [false, false]);
  setNow(1500);
  assert.deepEqual(mtip, [false, true]);
  // sbi_timer_event_stop: mtimecmp = -1 clears it at once.
  writeq(0x4008, 0xffff_ffff_ffff_ffffn);
  assert.deepEqual(mtip, [false, false]);
  assert.equal(clint.nextDeadline(), undefined);
});

Deno.test("aclint: msip raises and clears MSIP per hart (IPIs)", () => {
  const { clint, msip } = rig(3);
  clint.write(4 * 2, 4, 1);
  assert.deepEqual(msip, [false, false, true]);
  assert.equal(clint.read(8, 4), 1);
  clint.write(8, 4, 0xfffffffe); // only bit 0 counts
  assert.deepEqual(msip, [false, false, false]);
  assert.equal(clint.read(4 * 3, 4), 0, "no fourth hart");
  clint.write(4 * 3, 4, 1);
});

Deno.test("aclint: writing mtime shifts the device's time; 32-bit halves and narrow reads", () => {
  const { clint, setNow, writeq, readq, mtip } = rig();
  setNow(10);
  writeq(0xbff8, 0x1_0000_0000n);
  assert.equal(readq(0xbff8), 0x1_0000_0000n + 0n);
  setNow(15);
  assert.equal(clint.mtime(), 0x1_0000_0005);
  assert.equal(clint.read(0xbffc, 4), 1);
  assert.equal(clint.read(0xbff8, 1), 5);
  writeq(0x4000, 0x1_0000_0010n);
  assert.equal(clint.nextDeadline(), 0x10 + 10, "deadline in the injected clock's ticks");
  setNow(26);
  assert.equal(mtip[0], true);
  clint.write(0x4000, 2, 0xffff); // narrow write merges into the low word
  assert.equal(clint.read(0x4000, 4), 0xffff);
});

Deno.test("aclint: snapshot/restore continue mtime from the saved value; reset clears everything", () => {
  const a = rig();
  a.setNow(77);
  a.writeq(0x4000, 100n);
  a.clint.write(4, 4, 1);
  const state = JSON.parse(JSON.stringify(a.clint.snapshot()));
  assert.deepEqual(state, {
    msip: [0, 1],
    mtimecmp: ["0x64", "0xffffffffffffffff"],
    mtime: "0x4d",
  });
  const b = rig();
  b.setNow(5);
  b.clint.restore(state);
  assert.equal(b.clint.mtime(), 77);
  assert.deepEqual(b.msip, [false, true]);
  b.setNow(28);
  assert.equal(b.clint.mtime(), 100);
  assert.deepEqual(b.mtip, [true, false]);
  assert.throws(() => b.clint.restore({ ...state, mtime: 5 }), /mtime must be a 64-bit number/);
  b.clint.reset();
  assert.deepEqual(b.msip, [false, false]);
  assert.deepEqual(b.mtip, [false, false]);
  assert.equal(b.clint.mtime(), 28);
  assert.throws(() => new Aclint({ harts: [], clock: () => 0 }), /needs 1..4095 harts/);
});
