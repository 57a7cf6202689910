/**
 * Copy-on-write sharing of {@linkcode SparseMemory} pages (`cloneShared`) and harts running on
 * both sides: neither side ever sees the other's writes, even through cached translations and
 * compiled code made before the clone.
 */
import assert from "node:assert/strict";
import { Bus } from "../../lib/hw/bus.ts";
import { SparseMemory } from "../../lib/hw/memory.ts";
import { assemble } from "../../lib/hw/riscv/assembler.ts";
import { Hart } from "../../lib/hw/riscv/hart.ts";

const RAM_BASE = 0x8000_0000;

Deno.test("memory: a shared clone reads the same bytes and writes stay private to each side", () => {
  const a = new SparseMemory(1 << 20);
  a.write32(0x10, 0x11223344);
  a.write32(0x2000, 7);
  const b = a.cloneShared();
  assert.equal(b.read32(0x10), 0x11223344);
  assert.equal(a.sharedPages, 2);
  assert.equal(b.residentBytes(), a.residentBytes());
  b.write32(0x10, 1);
  assert.equal(a.read32(0x10), 0x11223344, "the source keeps its bytes");
  assert.equal(b.read32(0x10), 1);
  a.write32(0x2000, 9);
  assert.equal(b.read32(0x2000), 7, "the clone keeps its bytes");
  assert.equal(b.sharedPages, 1);
  // A page written after the clone is private from the start.
  b.write8(0x5000, 5);
  assert.equal(a.read8(0x5000), 0);
  assert.deepEqual(a.residentPages(), [0, 2]);
  assert.deepEqual(b.residentPages(), [0, 2, 5]);
});

Deno.test("memory: once the other holders let go (clear), writes no longer copy", () => {
  const a = new SparseMemory(1 << 16);
  a.write8(0, 1);
  a.write8(0x1000, 2);
  const replaced: number[] = [];
  a.watchReplacements({
    pageReplaced: () => replaced.push(1),
    pagesShared: () => {},
  });
  const frozen = a.cloneShared();
  const clone = a.cloneShared();
  a.write8(0, 5); // two other holders: copies
  assert.equal(replaced.length, 1);
  assert.equal(frozen.read8(0), 1);
  frozen.clear();
  clone.write8(0x1000, 7); // clone copies (a still holds the page)
  assert.equal(a.read8(0x1000), 2);
  a.write8(0x1000, 9); // nobody else holds it any more: written in place
  assert.equal(replaced.length, 1);
  assert.equal(clone.read8(0x1000), 7);
  assert.equal(a.read8(0x1000), 9);
});

Deno.test("memory: setPage replaces or drops a page without touching a sharer", () => {
  const a = new SparseMemory(1 << 16);
  a.write8(0, 1);
  const b = a.cloneShared();
  b.setPage(0, new Uint8Array(4096).fill(3));
  assert.equal(a.read8(0), 1);
  assert.equal(b.read8(1), 3);
  b.setPage(0, undefined);
  assert.equal(b.residentBytes(), 0);
  assert.equal(a.read8(0), 1);
  assert.throws(() => b.setPage(99, undefined), /outside/);
  assert.throws(() => b.setPage(0, new Uint8Array(3)), /4096 bytes/);
});

const PROGRAM = `
_start:
  la t0, data
loop:
  ld t1, 0(t0)
  addi t1, t1, 1
  sd t1, 0(t0)
  ld t2, 8(t0)
  add t2, t2, t1
  sd t2, 8(t0)
  sw t1, 4(t3)
  j loop
.align 12
data:
  .dword 0, 0
`;

function machine(memory: SparseMemory, jit: boolean): Hart {
  const bus = new Bus();
  bus.mapRam(RAM_BASE, memory.size, memory);
  return new Hart({ bus, hartId: 0, jit, jitThreshold: jit ? 1 : undefined });
}

for (const jit of [false, true]) {
  Deno.test(`hart: source and clone run on shared pages independently (jit ${jit})`, () => {
    const program = assemble(PROGRAM, { origin: RAM_BASE });
    const memory = new SparseMemory(1 << 20);
    memory.writeBytes(0, program.image);
    const reference = memory.cloneShared();
    const a = machine(memory, jit);
    a.reset(program.entry, 3);
    a.setX(28, BigInt(RAM_BASE + 0x3000));
    const r = machine(reference, jit);
    r.reset(program.entry, 3);
    r.setX(28, BigInt(RAM_BASE + 0x3000));
    a.run(1003);
    r.run(1003);
    // Clone in the middle of the loop: a's TLBs and compiled blocks hold the shared pages.
    const b = machine(memory.cloneShared(), jit);
    b.restore(a.snapshot());
    for (const n of [1, 17, 500, 4000]) {
      a.run(n);
      b.run(n);
      r.run(n);
    }
    assert.deepEqual(a.snapshot(), r.snapshot());
    assert.deepEqual(b.snapshot(), r.snapshot());
    const counter = (h: Hart) => {
      const bus = (h as unknown as { bus: Bus }).bus;
      return bus.read(RAM_BASE + 0x1000, 4);
    };
    assert.equal(counter(a), counter(r), "the source's counter is its own");
    assert.equal(counter(b), counter(r), "the clone's counter is its own");
  });
}
