import assert from "node:assert/strict";
import { Plic } from "../../../lib/hw/devices/plic.ts";

/** A PLIC with `harts` harts (two contexts each, M then S) and recorded context lines. */
function rig(sources = 96, harts = 2) {
  const levels: boolean[] = new Array(harts * 2).fill(false);
  const contexts = levels.map((_, i) => ({ set: (l: boolean) => (levels[i] = l) }));
  const plic = new Plic({ sources, contexts });
  const rd = (off: number) => plic.read(off, 4);
  const wr = (off: number, v: number) => plic.write(off, 4, v);
  const enable = (ctx: number, word: number) => 0x2000 + 0x80 * ctx + 4 * word;
  const threshold = (ctx: number) => 0x200000 + 0x1000 * ctx;
  const claim = (ctx: number) => 0x200004 + 0x1000 * ctx;
  return { plic, levels, rd, wr, enable, threshold, claim };
}

Deno.test("plic: Linux's S-mode driver flow: enable, claim, handle, complete", () => {
  const { plic, levels, rd, wr, enable, threshold, claim } = rig();
  const uart = plic.irq(10);
  // plic_irq_enable: priority 1, enable bit in the hart's S context (context 1 for hart 0).
  wr(4 * 10, 1);
  wr(enable(1, 0), rd(enable(1, 0)) | (1 << 10));
  wr(threshold(1), 0);
  assert.deepEqual(levels, [false, false, false, false]);
  uart.set(true);
  assert.equal(rd(0x1000) & (1 << 10), 1 << 10, "pending bit");
  assert.deepEqual(levels, [false, true, false, false], "only hart 0's S context is enabled");
  assert.equal(rd(claim(1)), 10);
  assert.equal(levels[1], false, "claimed: no longer pending");
  assert.equal(rd(claim(1)), 0, "nothing else to claim");
  // The device is serviced (line low) before completion.
  uart.set(false);
  wr(claim(1), 10);
  assert.equal(levels[1], false);
  // A level still high at completion pends again.
  uart.set(true);
  assert.equal(rd(claim(1)), 10);
  uart.set(true);
  assert.equal(levels[1], false, "the gateway holds a claimed source");
  wr(claim(1), 10);
  assert.equal(levels[1], true, "still high at completion: pending again");
});

Deno.test("plic: OpenSBI cold init clears priorities, enables and thresholds; M context works too", () => {
  const { plic, levels, rd, wr, enable, threshold, claim } = rig(96, 4);
  for (let s = 1; s <= 96; s++) wr(4 * s, 0);
  for (let ctx = 0; ctx < 8; ctx++) {
    for (let w = 0; w < 3; w++) wr(enable(ctx, w), 0);
    wr(threshold(ctx), 0);
  }
  plic.irq(33).set(true);
  assert.ok(levels.every((l) => !l));
  wr(4 * 33, 5);
  wr(enable(6, 1), 1 << 1); // hart 3's M context, source 33
  assert.deepEqual(levels, [false, false, false, false, false, false, true, false]);
  wr(threshold(6), 5);
  assert.equal(levels[6], false, "priority must exceed the threshold");
  wr(threshold(6), 4);
  assert.equal(levels[6], true);
  wr(threshold(6), 9);
  assert.equal(rd(threshold(6)), 4, "thresholds beyond 7 are ignored, as QEMU does");
  assert.equal(rd(claim(6)), 33);
  wr(claim(6), 33);
});

Deno.test("plic: highest priority wins, lowest id on ties; priorities are 3-bit WARL", () => {
  const { plic, rd, wr, enable, claim } = rig();
  wr(enable(0, 0), 0xffff_ffff);
  wr(enable(0, 1), 0xffff_ffff);
  for (const [s, p] of [[3, 2], [5, 7], [7, 7], [40, 3]]) wr(4 * s, p);
  wr(4 * 9, 0xff);
  assert.equal(rd(4 * 9), 7);
  assert.equal(rd(0), 0, "source 0 has no priority");
  wr(0, 5);
  assert.equal(rd(0), 0);
  for (const s of [3, 5, 7, 40]) plic.irq(s).set(true);
  assert.deepEqual([rd(claim(0)), rd(claim(0)), rd(claim(0)), rd(claim(0)), rd(claim(0))], [
    5,
    7,
    40,
    3,
    0,
  ]);
  assert.equal(rd(enable(0, 0)) & 1, 0, "source 0 cannot be enabled");
  wr(enable(0, 2), 0xffff_ffff);
  wr(enable(0, 3), 0xffff_ffff);
  wr(enable(0, 4), 0xffff_ffff);
  assert.equal(rd(enable(0, 2)), 0xffff_ffff, "word 2 holds sources 64..95");
  assert.equal(rd(enable(0, 3)), 1, "word 3 holds only source 96");
  assert.equal(rd(enable(0, 4)), 0, "no word beyond the sources");
  assert.throws(() => plic.irq(0), /no interrupt source 0/);
  assert.throws(() => plic.irq(97), /sources are 1..96/);
});

Deno.test("plic: completion for a source not enabled in the context is ignored", () => {
  const { plic, rd, wr, enable, claim, levels } = rig();
  wr(4 * 2, 1);
  wr(enable(1, 0), 1 << 2);
  plic.irq(2).set(true);
  assert.equal(rd(claim(1)), 2);
  wr(claim(0), 2); // wrong context: not enabled there
  assert.equal(plic.snapshot().claimed.length, 1);
  wr(claim(1), 2);
  assert.equal(plic.snapshot().claimed.length, 0);
  assert.equal(levels[1], true);
  plic.irq(2).set(false);
  assert.equal(levels[1], false, "a level-triggered source withdraws when the line drops");
  assert.equal(plic.isPending(2), false);
});

Deno.test("plic: byte and halfword accesses, 1023 sources and 128 contexts", () => {
  const contexts = Array.from({ length: 128 }, () => ({ set() {} }));
  const plic = new Plic({ sources: 1023, contexts });
  assert.equal(plic.size, 0x200000 + 0x1000 * 128);
  plic.write(0x2000 + 0x80 * 127 + 124, 4, 0xffff_ffff);
  assert.equal(
    plic.read(0x2000 + 0x80 * 127 + 124, 4),
    0xffff_ffff,
    "sources 992..1023 (1023 is the last)",
  );
  plic.write(0x2000 + 0x80 * 127 + 126, 1, 0);
  assert.equal(plic.read(0x2000 + 0x80 * 127 + 124, 4), 0xff00_ffff);
  assert.equal(plic.read(0x2000 + 0x80 * 127 + 124, 2), 0xffff);
  plic.write(4 * 1023, 4, 6);
  plic.irq(1023).set(true);
  plic.write(0x200000 + 0x1000 * 127, 4, 0);
  assert.equal(plic.read(0x200004 + 0x1000 * 127, 4), 1023);
  assert.throws(() => new Plic({ sources: 1024, contexts }), /sources must be 1..1023/);
  assert.throws(() => new Plic({ sources: 8, contexts, size: 0x1000 }), /cannot hold 128 contexts/);
});

Deno.test("plic: snapshot/restore keeps claims, enables and lines; reset keeps line levels", () => {
  const a = rig();
  a.wr(4 * 10, 3);
  a.wr(a.enable(1, 0), 1 << 10);
  a.wr(a.threshold(1), 1);
  a.plic.irq(10).set(true);
  a.plic.irq(11).set(true);
  assert.equal(a.rd(a.claim(1)), 10);
  const state = JSON.parse(JSON.stringify(a.plic.snapshot()));
  const b = rig();
  b.plic.restore(state);
  assert.deepEqual(b.plic.snapshot(), a.plic.snapshot());
  b.wr(b.claim(1), 10);
  assert.equal(b.levels[1], true, "line 10 still high: pending again after completion");
  assert.throws(() => b.plic.restore({ ...state, enables: [] }), /enables must have 4 entries/);
  assert.throws(() => b.plic.restore({ ...state, pending: [0] }), /pending must list source ids/);
  b.plic.reset();
  assert.equal(b.plic.isPending(11), true, "a high line pends again after reset");
  assert.equal(b.rd(4 * 10), 0);
  assert.equal(b.levels[1], false);
});
