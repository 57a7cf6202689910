import assert from "node:assert/strict";
import { MemoryRangeError, PAGE_SIZE, SparseMemory } from "../../lib/hw/memory.ts";

Deno.test("SparseMemory: untouched memory reads as zero and costs nothing", () => {
  const m = new SparseMemory(8 * 1024 * 1024 * 1024);
  assert.equal(m.size, 8 * 1024 * 1024 * 1024);
  assert.equal(m.read32(0x1_2345_6788), 0);
  assert.equal(m.read64(m.size - 8), 0n);
  assert.deepEqual(m.readBytes(0x7fff_fffe, 4), new Uint8Array(4));
  assert.equal(m.residentBytes(), 0);
  m.fill(0, 1 << 20, 0);
  assert.equal(m.residentBytes(), 0, "zero fill of untouched pages allocates nothing");
});

Deno.test("SparseMemory: pages are allocated on first write only", () => {
  const m = new SparseMemory(1 << 30);
  m.write8(0x3000_0005, 0xab);
  assert.equal(m.residentBytes(), PAGE_SIZE);
  assert.deepEqual(m.residentPages(), [0x30000]);
  assert.equal(m.read8(0x3000_0005), 0xab);
  assert.equal(m.read8(0x3000_0004), 0);
  m.write32(0x3000_0100, 0x1234);
  assert.equal(m.residentBytes(), PAGE_SIZE);
  m.clear();
  assert.equal(m.residentBytes(), 0);
  assert.equal(m.read8(0x3000_0005), 0);
});

Deno.test("SparseMemory: little-endian widths, values are unsigned", () => {
  const m = new SparseMemory(PAGE_SIZE * 4);
  m.write32(16, 0xdeadbeef);
  assert.equal(m.read32(16), 0xdeadbeef);
  assert.equal(m.read16(16), 0xbeef);
  assert.equal(m.read16(18), 0xdead);
  assert.equal(m.read8(19), 0xde);
  m.write16(40, -1);
  assert.equal(m.read16(40), 0xffff);
  assert.equal(m.read8(42), 0);
  m.write64(64, -2n);
  assert.equal(m.read64(64), 0xffff_ffff_ffff_fffen);
  m.write64(128, 0x0102_0304_0506_0708n);
  assert.deepEqual([...m.readBytes(128, 8)], [8, 7, 6, 5, 4, 3, 2, 1]);
});

Deno.test("SparseMemory: accesses straddling a page boundary", () => {
  const m = new SparseMemory(PAGE_SIZE * 4);
  m.write32(PAGE_SIZE - 2, 0x11223344);
  assert.equal(m.residentBytes(), 2 * PAGE_SIZE);
  assert.equal(m.read32(PAGE_SIZE - 2), 0x11223344);
  assert.equal(m.read16(PAGE_SIZE), 0x1122);
  m.write64(2 * PAGE_SIZE - 3, 0x8877_6655_4433_2211n);
  assert.equal(m.read64(2 * PAGE_SIZE - 3), 0x8877_6655_4433_2211n);
  const data = new Uint8Array(PAGE_SIZE + 10).map((_, i) => i & 0xff);
  m.writeBytes(PAGE_SIZE * 2 + 100, data);
  assert.deepEqual(m.readBytes(PAGE_SIZE * 2 + 100, data.length), data);
  m.fill(PAGE_SIZE - 1, 3, 0x5a);
  assert.deepEqual([...m.readBytes(PAGE_SIZE - 2, 5)], [0x44, 0x5a, 0x5a, 0x5a, 0]);
});

Deno.test("SparseMemory: page views are shared little-endian DataViews", () => {
  const m = new SparseMemory(PAGE_SIZE * 2);
  assert.equal(m.page(1), undefined);
  const p = m.pageForWrite(1);
  assert.equal(m.page(1), p);
  p.setInt32(8, -5, true);
  assert.equal(m.read32(PAGE_SIZE + 8), 0xfffffffb);
  assert.throws(() => m.pageForWrite(2), MemoryRangeError);
});

Deno.test("SparseMemory: bad sizes and out-of-range accesses are named", () => {
  assert.throws(() => new SparseMemory(1000), /1000 is invalid.*multiple of 4096/);
  assert.throws(() => new SparseMemory(0), MemoryRangeError);
  const m = new SparseMemory(PAGE_SIZE);
  assert.throws(() => m.read32(PAGE_SIZE - 2), /4 byte\(s\) at offset 0xffe is outside/);
  assert.throws(() => m.write8(-1, 0), MemoryRangeError);
  assert.throws(() => m.readBytes(10, PAGE_SIZE), MemoryRangeError);
  assert.throws(() => m.writeBytes(PAGE_SIZE, new Uint8Array(1)), MemoryRangeError);
  assert.throws(() => m.read8(1.5), MemoryRangeError);
});
