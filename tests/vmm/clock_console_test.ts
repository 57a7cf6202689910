import assert from "node:assert/strict";
import { VirtualClock } from "../../lib/vmm/clock.ts";
import { Console } from "../../lib/vmm/console.ts";
import { prng } from "../hw/riscv/prng.ts";

Deno.test("clock: timers fire in time order, equal times in scheduling order, cancel works", () => {
  const clock = new VirtualClock("warp");
  const fired: string[] = [];
  clock.schedule(30, () => fired.push("c"), "c");
  clock.schedule(10, () => fired.push("a"), "a");
  const b = clock.schedule(10, () => fired.push("b"), "b");
  clock.schedule(20, () => fired.push("x"), "x");
  clock.cancel(b);
  assert.equal(clock.nextDeadline(), 10);
  clock.advanceTo(25);
  assert.equal(clock.runDue(), 2);
  assert.deepEqual(fired, ["a", "x"]);
  assert.deepEqual(clock.pending().map((t) => t.owner), ["c"]);
  clock.advanceTo(5);
  assert.equal(clock.now(), 25, "time never goes backwards");
});

Deno.test("console: ring buffer keeps the newest bytes, subscribers and input queue", () => {
  const c = new Console(8);
  const seen: string[] = [];
  const off = c.subscribe((d) => seen.push(new TextDecoder().decode(d)));
  c.write(new TextEncoder().encode("hello"));
  c.write(new TextEncoder().encode(" world"));
  assert.equal(c.text(), "lo world");
  assert.equal(c.totalWritten, 11);
  c.write(new TextEncoder().encode("0123456789"));
  assert.equal(c.text(), "23456789");
  off();
  c.writeByte(65);
  assert.deepEqual(seen, ["hello", " world", "0123456789"]);
  assert.equal(c.text(), "3456789A");
  let pokes = 0;
  c.onInput = () => pokes++;
  c.writeInput("hi");
  assert.equal(c.inputPending, 2);
  assert.equal(c.readInput(), 104);
  assert.equal(c.readInput(), 105);
  assert.equal(c.readInput(), -1);
  assert.equal(pokes, 1);
  assert.equal(new Console().capacity, 65536);
  assert.throws(() => new Console(0), /positive integer/);
});

Deno.test("console: the ring grows with output and keeps the same bytes as a full-size one would", () => {
  const stream = prng(7);
  const next = () => stream() / 2 ** 32;
  for (const capacity of [1, 255, 1000, 4096]) {
    const c = new Console(capacity);
    let all: number[] = [];
    for (let step = 0; step < 300; step++) {
      const r = next();
      if (r < 0.03) {
        c.clearOutput();
        all = [];
        continue;
      }
      if (r < 0.06) {
        // A snapshot restored into a fresh console gives the same bytes.
        const copy = new Console(capacity);
        copy.restore(c.snapshot());
        assert.deepEqual([...copy.output()], all.slice(-capacity));
        continue;
      }
      const n = Math.floor(next() * (r < 0.1 ? 3 * capacity : Math.min(capacity, 300)));
      const data = Uint8Array.from({ length: n }, () => Math.floor(next() * 256));
      c.write(data);
      all.push(...data);
      assert.deepEqual([...c.output()], all.slice(-capacity), `capacity ${capacity} step ${step}`);
    }
  }
});
