import assert from "node:assert/strict";
import { assemble } from "../../../../lib/hw/riscv/assembler.ts";
import { HartArea } from "../../../../lib/hw/riscv/wasm/hart_area.ts";
import { discoverRegion } from "../../../../lib/hw/riscv/wasm/wasm_block.ts";
import {
  wasmCacheSettings,
  WasmTier,
  wasmTierStats,
} from "../../../../lib/hw/riscv/wasm/wasm_tier.ts";

/** Three one-instruction regions (distinct immediates) at page offsets 0, 8 and 16. */
function regions() {
  const code = assemble(
    ".text\naddi x5, x5, 1\nebreak\naddi x5, x5, 2\nebreak\naddi x5, x5, 3\nebreak\n",
    { origin: 0x8000_0000 },
  ).image;
  const view = new DataView(code.buffer, code.byteOffset, code.byteLength);
  const fetch = (
    o: number,
  ) => (o >= 0 && o + 4 <= code.length ? view.getInt32(o, true) : undefined);
  return [0, 8, 16].map((o) => discoverRegion(o, fetch)!);
}

Deno.test("wasm tier: a full translation cache is dropped without losing the regions of the call", () => {
  const saved = wasmCacheSettings.limit;
  wasmCacheSettings.limit = 2;
  try {
    const tier = new WasmTier(HartArea.create());
    const [a, b, c] = regions();
    const first = tier.translate([a, b]); // the cache holds a and b: full
    const hits = wasmTierStats.cacheHits;
    // a is a hit, c is new: the cache is dropped to make room, a must still come back.
    const units = tier.translate([a, c]);
    assert.equal(wasmTierStats.cacheHits, hits + 1);
    assert.equal(units.length, 2);
    assert.equal(units[0].fn, first[0].fn, "a's unit is the one translated before");
    assert.equal(typeof units[1].fn, "function");
    // The cache now holds c only: a and b are translated again.
    const modules = wasmTierStats.modules;
    tier.translate([a, b]);
    assert.equal(wasmTierStats.modules, modules + 1);
  } finally {
    wasmCacheSettings.limit = saved;
  }
});
