/**
 * The frame pool ({@linkcode FramePool}): frames and areas in one shared `WebAssembly.Memory`,
 * growth that keeps old views valid, exhaustion fallback, and {@linkcode SparseMemory} giving
 * frames back exactly once through sharing, copy-on-write, clear and garbage collection.
 */
import assert from "node:assert/strict";
import { FRAME_SIZE, FramePool, framePool, framePoolOf } from "../../lib/hw/frame_pool.ts";
import { PAGE_SIZE, SparseMemory } from "../../lib/hw/memory.ts";
import { Bus } from "../../lib/hw/bus.ts";
import { assemble } from "../../lib/hw/riscv/assembler.ts";
import { Hart } from "../../lib/hw/riscv/hart.ts";

Deno.test("frame pool: frames are handed out, given back and reused, zeroed", () => {
  const pool = new FramePool({ initialPages: 1, maximumPages: 4 });
  assert.equal(pool.usedFrames, 1); // frame 0 is reserved
  const a = pool.allocFrame();
  const b = pool.allocFrame();
  assert.ok(a > 0 && b > 0 && a !== b);
  assert.equal(a % FRAME_SIZE, 0);
  assert.equal(pool.usedFrames, 3);
  pool.view(a).setUint32(8, 0xdeadbeef, true);
  pool.freeFrame(a);
  assert.throws(() => pool.freeFrame(a), RangeError); // double free
  assert.throws(() => pool.freeFrame(0), RangeError);
  const c = pool.allocFrame();
  assert.equal(c, a);
  assert.equal(pool.view(c).getUint32(8, true), 0);
  assert.equal(pool.usedFrames, 3);
});

Deno.test("frame pool: growth keeps earlier views valid (shared memory is never detached)", () => {
  const pool = new FramePool({ initialPages: 1, maximumPages: 64 });
  const first = pool.allocFrame();
  const old = pool.view(first);
  old.setUint32(0, 42, true);
  const before = pool.buffer;
  const offsets: number[] = [];
  for (let i = 0; i < 100; i++) offsets.push(pool.allocFrame());
  assert.ok(pool.capacityFrames >= 101);
  assert.notEqual(pool.buffer, before); // a longer buffer object appeared
  assert.equal(before.byteLength, 65536); // the old one keeps its length and bytes
  assert.equal(old.getUint32(0, true), 42);
  pool.view(first).setUint32(0, 43, true);
  assert.equal(old.getUint32(0, true), 43); // both views see the same bytes
  assert.equal(pool.frameOffset(old), first);
  assert.equal(new Set(offsets).size, 100);
  // A plain (non-shared) wasm memory would have detached `before`: the reason for `shared`.
  const plain = new WebAssembly.Memory({ initial: 1, maximum: 2 });
  const plainBuffer = plain.buffer;
  plain.grow(1);
  assert.equal(plainBuffer.byteLength, 0);
});

Deno.test("frame pool: areas are contiguous, zeroed, and reuse freed areas", () => {
  const pool = new FramePool({ initialPages: 1, maximumPages: 8 });
  const frames = [pool.allocFrame(), pool.allocFrame(), pool.allocFrame(), pool.allocFrame()];
  const area = pool.allocArea(3 * FRAME_SIZE - 100);
  assert.ok(area > frames[3]);
  const bytes = new Uint8Array(pool.buffer, area, 3 * FRAME_SIZE);
  assert.ok(bytes.every((b) => b === 0));
  bytes.fill(7);
  assert.equal(pool.usedFrames, 1 + 4 + 3);
  assert.throws(() => pool.freeFrame(area), RangeError);
  pool.freeArea(area);
  assert.throws(() => pool.freeArea(area), RangeError);
  assert.equal(pool.usedFrames, 1 + 4);
  // An area of the same length takes the freed one back, zeroed.
  const again = pool.allocArea(3 * FRAME_SIZE);
  assert.equal(again, area);
  assert.ok(bytes.every((b) => b === 0));
  bytes.fill(7);
  pool.freeArea(again);
  // Single frames take the freed area's frames (zeroed); the area is then no longer whole, so
  // the next area of its length comes from fresh frames and shares no frame with them.
  const single = pool.allocFrame();
  assert.ok(single >= area && single < area + 3 * FRAME_SIZE);
  assert.equal(pool.view(single).getUint8(0), 0);
  const third = pool.allocArea(3 * FRAME_SIZE);
  assert.ok(third + 3 * FRAME_SIZE <= single || third > single);
  assert.ok(new Uint8Array(pool.buffer, third, 3 * FRAME_SIZE).every((b) => b === 0));
  // Freed single frames below the top are not searched for a run (areas take constant time).
  pool.freeFrame(frames[1]);
  pool.freeFrame(frames[2]);
  assert.ok(pool.allocArea(2 * FRAME_SIZE) > frames[3]);
});

Deno.test("frame pool: exhaustion returns -1 and memories fall back to ArrayBuffer pages", () => {
  const pool = new FramePool({ initialPages: 1, maximumPages: 1 }); // 16 frames, 15 usable
  const got: number[] = [];
  for (let o = pool.allocFrame(); o >= 0; o = pool.allocFrame()) got.push(o);
  assert.equal(got.length, 15);
  assert.equal(pool.allocArea(FRAME_SIZE), -1);
  pool.freeFrame(got.pop()!);
  const mem = new SparseMemory(64 * PAGE_SIZE, { pool });
  const inPool = mem.pageForWrite(0);
  const fallback = mem.pageForWrite(1);
  assert.ok(pool.frameOffset(inPool) > 0);
  assert.equal(pool.frameOffset(fallback), -1);
  assert.equal(framePoolOf(fallback), undefined);
  mem.write32(PAGE_SIZE - 2, 0x11223344); // straddles a pool page and a fallback page
  assert.equal(mem.read32(PAGE_SIZE - 2), 0x11223344);
  assert.deepEqual([...mem.readBytes(PAGE_SIZE - 2, 4)], [0x44, 0x33, 0x22, 0x11]);
  mem.clear();
  assert.equal(pool.usedFrames, 15);
});

Deno.test("frame pool: frameOffset and the process-wide pool", () => {
  const pool = framePool();
  assert.ok(pool !== null);
  assert.equal(framePool(), pool);
  assert.ok(pool.memory.buffer instanceof SharedArrayBuffer);
  const mem = new SparseMemory(16 * PAGE_SIZE);
  assert.equal(mem.pool, pool);
  const view = mem.pageForWrite(3);
  assert.equal(view.byteLength, PAGE_SIZE);
  assert.equal(pool.frameOffset(view), view.byteOffset);
  assert.equal(framePoolOf(view), pool);
  assert.equal(pool.frameOffset(new DataView(new ArrayBuffer(PAGE_SIZE))), -1);
  assert.equal(new FramePool({ maximumPages: 1 }).frameOffset(view), -1);
  mem.write32(3 * PAGE_SIZE + 4, 0xcafe);
  assert.equal(new Uint32Array(pool.memory.buffer, pool.frameOffset(view) + 4, 1)[0], 0xcafe);
  const plain = new SparseMemory(16 * PAGE_SIZE, { pool: null });
  assert.equal(plain.pool, null);
  assert.equal(pool.frameOffset(plain.pageForWrite(0)), -1);
  mem.clear();
});

Deno.test("frame pool: sharing, copy-on-write and clear give each frame back exactly once", () => {
  const pool = new FramePool({ initialPages: 1, maximumPages: 16 });
  const base = pool.usedFrames;
  const a = new SparseMemory(64 * PAGE_SIZE, { pool });
  a.write32(0, 1);
  a.write32(PAGE_SIZE, 2);
  a.writeBytes(2 * PAGE_SIZE + 10, new Uint8Array([9, 8, 7]));
  assert.equal(pool.usedFrames, base + 3);
  const b = a.cloneShared();
  const c = b.cloneShared();
  assert.equal(b.pool, pool);
  assert.equal(pool.usedFrames, base + 3); // three memories, three frames
  b.write32(0, 10); // copy-on-write: b takes a private frame
  assert.equal(pool.usedFrames, base + 4);
  assert.equal(a.read32(0), 1);
  assert.equal(c.read32(0), 1);
  a.clear(); // a lets go; b and c still hold pages 1 and 2, c holds page 0
  assert.equal(pool.usedFrames, base + 4);
  c.write32(0, 20); // c is the last holder of the old page 0: written in place
  assert.equal(pool.usedFrames, base + 4);
  c.setPage(1, undefined); // b still holds page 1
  assert.equal(pool.usedFrames, base + 4);
  c.setPage(5, new Uint8Array(PAGE_SIZE).fill(3)); // a new frame for c
  assert.equal(pool.usedFrames, base + 5);
  b.shareFrom(c); // b drops its page 0 and page 1 (last holder), shares c's 0, 2, 5
  assert.equal(pool.usedFrames, base + 3);
  assert.equal(b.read32(0), 20);
  assert.equal(b.read8(5 * PAGE_SIZE), 3);
  assert.equal(b.read8(2 * PAGE_SIZE + 11), 8);
  b.fill(2 * PAGE_SIZE, 16, 0xff); // copy-on-write through fill
  assert.equal(c.read8(2 * PAGE_SIZE + 11), 8);
  assert.equal(pool.usedFrames, base + 4);
  b.clear();
  assert.equal(pool.usedFrames, base + 3);
  c.clear();
  assert.equal(pool.usedFrames, base); // every frame given back, none twice (that throws)
  a.clear();
  assert.equal(pool.usedFrames, base);
});

/**
 * The body of the garbage-collection test: run where `gc` is exposed (this file's own process
 * when started with `--v8-flags=--expose-gc`, else a child process that is).
 */
export async function framesComeBackAfterGc(collect: () => void): Promise<void> {
  const pool = new FramePool({ initialPages: 1, maximumPages: 16 });
  const base = pool.usedFrames;
  const keep = new SparseMemory(64 * PAGE_SIZE, { pool });
  keep.write32(0, 1);
  (() => {
    const gone = keep.cloneShared();
    gone.write32(PAGE_SIZE, 2);
    gone.write32(0, 3); // private copy of page 0
  })();
  assert.equal(pool.usedFrames, base + 3);
  for (let i = 0; i < 20 && pool.usedFrames !== base + 1; i++) {
    collect();
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(pool.usedFrames, base + 1);
  assert.equal(keep.read32(0), 1);
}

const gc = (globalThis as { gc?: () => void }).gc;

Deno.test("frame pool: a garbage-collected memory gives its frames back", async () => {
  if (gc !== undefined) return await framesComeBackAfterGc(gc);
  // This process cannot force a collection: run the same body in one that can.
  const child = `import { framesComeBackAfterGc } from ${JSON.stringify(import.meta.url)};
await framesComeBackAfterGc((globalThis as unknown as { gc: () => void }).gc);`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--v8-flags=--expose-gc", "--ext=ts", child],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
});

const RAM_BASE = 0x8000_0000;
const PROGRAM = `
_start:
  la t0, data
loop:
  ld t1, 0(t0)
  addi t1, t1, 1
  sd t1, 0(t0)
  sw t1, 4(t3)
  j loop
.align 12
data:
  .dword 0, 0
`;

for (const jit of [false, true]) {
  Deno.test(`frame pool: a hart never reaches a reused frame through a stale view (jit ${jit})`, () => {
    const program = assemble(PROGRAM, { origin: RAM_BASE });
    const pool = new FramePool({ initialPages: 1, maximumPages: 4 });
    const run = (memory: SparseMemory) => {
      const bus = new Bus();
      bus.mapRam(RAM_BASE, memory.size, memory);
      const hart = new Hart({ bus, hartId: 0, jit, jitThreshold: jit ? 1 : undefined });
      memory.writeBytes(0, program.image);
      hart.reset(program.entry, 3);
      hart.setX(28, BigInt(RAM_BASE + 0x3000));
      hart.run(1003);
      return hart;
    };
    const memory = new SparseMemory(1 << 20, { pool });
    const reference = new SparseMemory(1 << 20, { pool: null });
    const a = run(memory);
    const r = run(reference);
    for (
      const drop of [
        (m: SparseMemory) => m.clear(),
        (m: SparseMemory) => m.shareFrom(new SparseMemory(m.size, { pool: m.pool })),
      ]
    ) {
      // The hart's TLBs and compiled blocks hold views of frames given back here...
      drop(memory);
      drop(reference);
      // ...which another memory takes at once.
      const other = new SparseMemory(1 << 20, { pool });
      other.fill(0, 8 * PAGE_SIZE, 0xee);
      memory.writeBytes(0, program.image);
      reference.writeBytes(0, program.image);
      for (const n of [1, 17, 500, 4000]) {
        a.run(n);
        r.run(n);
      }
      assert.deepEqual(a.snapshot(), r.snapshot());
      assert.deepEqual(memory.readBytes(0, 4 * PAGE_SIZE), reference.readBytes(0, 4 * PAGE_SIZE));
      assert.ok(other.readBytes(0, 8 * PAGE_SIZE).every((b) => b === 0xee), "no stray write");
      other.clear();
    }
  });
}
