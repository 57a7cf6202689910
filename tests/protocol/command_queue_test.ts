import assert from "node:assert/strict";
import { CommandQueue } from "../../lib/protocol/command_queue.ts";
import { ConsoleServer } from "../../lib/protocol/server.ts";
import { FakeBackend } from "./fake_backend.ts";

/** Queues three tasks: `a` waits for `release()`, `b` throws, `c` returns 3; `log` records them. */
function threeTasks(q: CommandQueue) {
  const log: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const a = q.run(async () => {
    log.push("a start");
    await gate;
    log.push("a end");
    return 1;
  });
  const b = q.run(() => {
    log.push("b");
    throw new Error("b fails");
  });
  const c = q.run(() => {
    log.push("c");
    return 3;
  });
  return { log, release, a, b, c };
}

Deno.test("CommandQueue runs tasks one at a time in order, even when one throws", async () => {
  const q = new CommandQueue();
  const { log, release, a, b, c } = threeTasks(q);
  await Promise.resolve();
  assert.equal(q.waiting, 2);
  release();
  assert.equal(await a, 1);
  await assert.rejects(b, /b fails/);
  assert.equal(await c, 3);
  assert.deepEqual(log, ["a start", "a end", "b", "c"]);
});

Deno.test("CommandQueue interleaved: a waiting task does not block later ones; starts stay FIFO", async () => {
  const q = new CommandQueue({ interleaved: true });
  assert.equal(q.interleaved, true);
  const { log, release, a, b, c } = threeTasks(q);
  await assert.rejects(b, /b fails/);
  assert.equal(await c, 3);
  assert.equal(q.runningCount, 1, "a still waits");
  assert.deepEqual(log, ["a start", "b", "c"]);
  release();
  assert.equal(await a, 1);
  assert.equal(q.running, false);
  assert.deepEqual(log, ["a start", "b", "c", "a end"]);
});

Deno.test("CommandQueue default stays serial: the second task waits for the first", async () => {
  const q = new CommandQueue();
  assert.equal(q.interleaved, false);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const order: string[] = [];
  const a = q.run(async () => {
    await gate;
    order.push("a");
  });
  const b = q.run(() => {
    order.push("b");
  });
  await Promise.resolve();
  await Promise.resolve();
  assert.equal(q.waiting, 1);
  assert.equal(q.runningCount, 1);
  release();
  await Promise.all([a, b]);
  assert.deepEqual(order, ["a", "b"]);
});

Deno.test("ConsoleServer interleaveWaits selects the queue's mode", () => {
  for (const interleaveWaits of [undefined, false, true]) {
    const server = new ConsoleServer({ backend: new FakeBackend(), interleaveWaits });
    assert.equal(server.queue.interleaved, interleaveWaits === true);
    server.dispose();
  }
});
