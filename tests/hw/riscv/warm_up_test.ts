/**
 * The interpreter's priming (warm_up.ts) runs every integer op of the table, and the 32-bit heat
 * counters let the compile threshold exceed 65535.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Bus } from "../../../lib/hw/bus.ts";
import { SparseMemory } from "../../../lib/hw/memory.ts";
import { decode } from "../../../lib/hw/riscv/decoder.ts";
import { Hart } from "../../../lib/hw/riscv/hart.ts";
import { INT_OPS } from "../../../lib/hw/riscv/int_ops.ts";
import { primeInterpreter, primingWords } from "../../../lib/hw/riscv/warm_up.ts";

Deno.test("warm-up: the priming words decode to every integer op of the table", () => {
  const primed = new Set(primingWords().map((w) => decode(w).word & 255));
  const missing = INT_OPS.filter((spec) => !primed.has(spec.op)).map((spec) => spec.name);
  assert.deepEqual(missing, []);
});

Deno.test("warm-up: every primed instruction retires (none traps)", () => {
  const retired = primeInterpreter((bus) => new Hart({ bus, hartId: 0 }));
  // Two placements (a page's first and last word), three operand sets.
  assert.equal(retired, primingWords().length * 2 * 3);
});

Deno.test("jitThreshold: above 65535 a loop compiles after that many runs, not before", () => {
  const memory = new SparseMemory(1 << 16);
  const bus = new Bus();
  const base = 0x8000_0000;
  bus.mapRam(base, memory.size, memory);
  // loop: addi t0, t0, 1; j loop
  const code = new Uint8Array(8);
  const view = new DataView(code.buffer);
  view.setUint32(0, 0x00128293, true);
  view.setUint32(4, 0xffdff06f, true);
  bus.writeBytes(base, code);
  const hart = new Hart({ bus, hartId: 0, jitThreshold: 70_000 });
  hart.reset(base, 3);
  hart.run(2 * 69_999);
  assert.equal(hart.compiledBlocks, 0);
  hart.run(10);
  assert.ok(hart.compiledBlocks >= 1, `${hart.compiledBlocks} blocks compiled`);
  hart.run(1000);
  assert.equal(hart.getX(5), BigInt(2 * 69_999 + 10 + 1000 + 1) / 2n);
  assert.throws(() => new Hart({ bus, hartId: 0, jitThreshold: 2 ** 31 }), RangeError);
});
