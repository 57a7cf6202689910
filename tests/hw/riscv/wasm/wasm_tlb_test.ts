/**
 * The wasm TLBs of a hart area mirror soft_tlb.ts's load and store TLBs: after any sequence of
 * fills, context drops, sfences, flushes, moves to the code-store TLB and copy-on-write page
 * replacements, every wasm entry is empty exactly when the JavaScript entry is (or its page is
 * not in the pool memory), and otherwise holds the same page and the delta to the same frame.
 * A stale wasm entry would let translated code read or write a page the hart may no longer use.
 */
import assert from "node:assert/strict";
import { framePool } from "../../../../lib/hw/frame_pool.ts";
import { CodeGroup } from "../../../../lib/hw/riscv/code_group.ts";
import { SoftTlb, TLB_SIZE, TlbEntry } from "../../../../lib/hw/riscv/soft_tlb.ts";
import { HartArea, type WasmTlb } from "../../../../lib/hw/riscv/wasm/hart_area.ts";
import { prng } from "../prng.ts";

/** Checks one TLB's wasm mirror against its JavaScript entries; names the first mismatch. */
function checkMirror(
  what: string,
  area: HartArea,
  tag: Float64Array,
  pages: readonly DataView[],
  wasm: WasmTlb,
  step: number,
): void {
  const e = wasm.entries;
  for (let i = 0; i < TLB_SIZE; i++) {
    const frame = tag[i] === -1 ? 0 : area.frameOf(pages[i]);
    const where = `${what} entry ${i} after step ${step}`;
    if (frame === 0) {
      assert.deepEqual([e[4 * i], e[4 * i + 1]], [-1, -1], `${where}: wasm entry not empty`);
      continue;
    }
    const t = tag[i];
    assert.deepEqual(
      [e[4 * i], e[4 * i + 1], e[4 * i + 2]],
      [t | 0, Math.floor(t / 4294967296) | 0, (frame - (t | 0)) | 0],
      `${where}: wasm entry differs from the page ${t.toString(16)} at frame ${frame}`,
    );
  }
}

Deno.test("wasm TLB: the area's load and store entries follow the soft TLB through every change", () => {
  const pool = framePool();
  assert.ok(pool !== null, "the frame pool (SharedArrayBuffer) is available");
  const area = HartArea.create();
  assert.equal(area.pool, pool);
  const tlb = new SoftTlb(area);
  const frames = Array.from({ length: 8 }, () => pool.allocFrame());
  const views = [...frames.map((f) => pool.view(f)), new DataView(new ArrayBuffer(4096))];
  const next = prng(0x5eed);
  /** Pages whose indices collide, in the low and the sign-extended kernel half, and superpages. */
  const pageOf = () => {
    const vpn = next() % 24;
    const high = next() % 3;
    const base = high === 0 ? 0 : high === 1 ? 0x8000_0000 : -0x40_0000_0000;
    return base + vpn * 0x100000 + (next() % 4) * 4096;
  };
  const flagsOf = () =>
    [TlbEntry.Bare, TlbEntry.Supervisor, TlbEntry.User, TlbEntry.Mxr | TlbEntry.Supervisor][
      next() % 4
    ] | (next() % 16 === 0 ? [TlbEntry.Mega, TlbEntry.Giga][next() % 2] : 0);
  const groups = views.map((v) => new CodeGroup(v));
  try {
    for (let step = 0; step < 4000; step++) {
      const op = next() % 16;
      const view = views[next() % views.length];
      if (op < 5) tlb.fillLoad(pageOf(), 0x8000_0000, view, flagsOf());
      else if (op < 10) tlb.fillStore(pageOf(), 0x8000_0000, view, flagsOf());
      else if (op === 10) tlb.dropStale(next() & 63, next() & 63);
      else if (op === 11) tlb.dropAddress(pageOf() + (next() % 4096));
      else if (op === 12 && next() % 2 === 0) tlb.flushAll();
      else if (op === 13 && next() % 4 === 0) tlb.flushStores();
      else if (op === 14) {
        const k = next() % views.length;
        tlb.moveToCodeStores(views[k], groups[k]);
      } else if (op === 15) {
        const k = next() % views.length;
        tlb.pageReplaced(views[k], views[(k + 1 + next() % (views.length - 1)) % views.length]);
      }
      checkMirror("load", area, tlb.rTag, tlb.rPage, area.loadTlb, step);
      checkMirror("store", area, tlb.wTag, tlb.wPage, area.storeTlb, step);
    }
  } finally {
    frames.forEach((f) => pool.freeFrame(f));
  }
});
