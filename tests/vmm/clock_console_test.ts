import assert from "node:assert/strict";
import { VirtualClock } from "../../lib/vmm/clock.ts";
import { Console } from "../../lib/vmm/console.ts";

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
