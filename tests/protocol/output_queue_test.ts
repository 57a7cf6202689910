import assert from "node:assert/strict";
import { OutputQueue } from "../../lib/protocol/output_queue.ts";
import { drain } from "./fake_backend.ts";

Deno.test("essential output is kept in order; take concatenates", () => {
  const q = new OutputQueue();
  q.push("a");
  q.push(new TextEncoder().encode("b"));
  q.pushDroppable("c");
  assert.equal(q.queuedBytes, 3);
  assert.equal(drain(q), "abc");
  assert.equal(q.take(), undefined);
});

Deno.test("console output beyond the soft limit is dropped, then a notice says how much", () => {
  const q = new OutputQueue({ softLimit: 10, hardLimit: 100 }, (n) => `<dropped ${n}>`);
  assert.equal(q.pushDroppable("12345678"), true);
  assert.equal(q.pushDroppable("abcd"), false); // 12 > 10
  assert.equal(q.pushDroppable("e"), false); // keeps dropping until the notice is out
  assert.equal(q.push("REPLY"), true); // essential output still goes through
  assert.equal(q.droppedBytes, 5);
  assert.equal(drain(q), "12345678REPLY<dropped 5>");
  assert.equal(q.droppedBytes, 0);
  assert.equal(q.droppedTotal, 5);
  assert.equal(q.pushDroppable("ok"), true);
  assert.equal(drain(q), "ok");
});

Deno.test("essential output past the hard limit marks the queue overflowed", () => {
  const q = new OutputQueue({ softLimit: 4, hardLimit: 8 });
  assert.equal(q.push("12345678"), true);
  assert.equal(q.push("9"), false);
  assert.equal(q.overflowed, true);
  assert.equal(q.finished, true);
});

Deno.test("end lets queued data drain; close discards it; waiters are released", async () => {
  const q = new OutputQueue();
  let woke = false;
  const w = q.waitForData().then(() => (woke = true));
  q.push("x");
  await w;
  assert.equal(woke, true);
  q.end();
  assert.equal(q.push("late"), false);
  assert.equal(q.finished, false);
  assert.equal(drain(q), "x");
  assert.equal(q.finished, true);
  const q2 = new OutputQueue({ softLimit: 2 });
  q2.push("abcdef");
  const drained = q2.waitForDrain();
  q2.close();
  await drained;
  assert.equal(q2.take(), undefined);
});

Deno.test("waitForDrain resolves once the queue is under half the soft limit", async () => {
  const q = new OutputQueue({ softLimit: 8 });
  q.push("123456789");
  let done = false;
  const p = q.waitForDrain().then(() => (done = true));
  await Promise.resolve();
  assert.equal(done, false);
  q.take();
  await p;
  assert.equal(done, true);
});

Deno.test("take respects maxBytes by whole chunks (at least one)", () => {
  const q = new OutputQueue();
  q.push("aaaa");
  q.push("bbbb");
  q.push("cccc");
  const d = new TextDecoder();
  assert.equal(d.decode(q.take(6)), "aaaa");
  assert.equal(d.decode(q.take(8)), "bbbbcccc");
});
