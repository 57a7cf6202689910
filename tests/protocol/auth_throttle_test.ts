import assert from "node:assert/strict";
import { AuthThrottle } from "../../lib/protocol/auth.ts";
import { ConsoleServer } from "../../lib/protocol/server.ts";
import { drain, FakeBackend } from "./fake_backend.ts";

const enc = (s: string) => new TextEncoder().encode(s);

function setup() {
  let now = 1_000_000;
  const clock = { advance: (ms: number) => (now += ms) };
  const throttle = new AuthThrottle({ now: () => now });
  const server = new ConsoleServer({
    backend: new FakeBackend(),
    token: "s3cret",
    authThrottle: throttle,
    authTimeoutMs: 60_000,
  });
  const open = (address: string) =>
    server.openSession({ kind: "tcp", peer: `tcp ${address}:1`, address, mode: "json" });
  return { server, throttle, clock, open };
}

async function auth(
  s: ReturnType<ReturnType<typeof setup>["open"]>,
  token: string,
): Promise<{ ok: boolean; code?: string; message?: string }> {
  drain(s.output);
  await s.receive(enc(JSON.stringify({ id: 1, cmd: `auth ${token}` }) + "\n"));
  const reply = JSON.parse(drain(s.output).trim().split("\n").pop()!);
  return { ok: reply.ok, code: reply.error?.code, message: reply.error?.message };
}

Deno.test("auth back-off: guessing across reconnects is slowed per address, doubling", async () => {
  const { server, clock, open } = setup();
  try {
    // The attack of the report: reconnect, guess, repeat. Only the first guess is checked.
    let checked = 0;
    for (let i = 0; i < 50; i++) {
      const r = await auth(open("10.0.0.9"), `guess${i}`);
      assert.equal(r.ok, false);
      if (r.code === "AUTH_FAILED") checked++;
      else assert.equal(r.code, "AUTH_THROTTLED");
    }
    assert.equal(checked, 2, "a free retry (a typo), then one guess per back-off period");
    // Even the right token waits for the back-off (500 ms after the second failure).
    const early = await auth(open("10.0.0.9"), "s3cret");
    assert.equal(early.code, "AUTH_THROTTLED");
    assert.match(early.message!, /too many wrong tokens from 10\.0\.0\.9: wait 1 s/);
    // Another address is not affected.
    assert.equal((await auth(open("10.0.0.10"), "s3cret")).ok, true);
    clock.advance(500);
    assert.equal((await auth(open("10.0.0.9"), "wrong")).code, "AUTH_FAILED");
    clock.advance(500); // the third failure made the wait 1000 ms
    assert.equal((await auth(open("10.0.0.9"), "s3cret")).code, "AUTH_THROTTLED");
    clock.advance(500);
    assert.equal((await auth(open("10.0.0.9"), "s3cret")).ok, true);
    // A right token clears the address: a typo is free again.
    assert.equal((await auth(open("10.0.0.9"), "wrong")).code, "AUTH_FAILED");
    assert.equal((await auth(open("10.0.0.9"), "s3cret")).ok, true);
  } finally {
    server.shutdown("test over");
    server.dispose();
  }
});

Deno.test("auth back-off: the waits double up to the cap; the table is bounded", () => {
  let now = 0;
  const t = new AuthThrottle({
    now: () => now,
    baseDelayMs: 100,
    maxDelayMs: 1000,
    maxAddresses: 3,
  });
  const waits = [1, 2, 3, 4, 5, 6, 7].map(() => t.failed("a"));
  assert.deepEqual(waits, [0, 100, 200, 400, 800, 1000, 1000]);
  assert.equal(t.waitMs("a"), 1000);
  now += 400;
  assert.equal(t.waitMs("a"), 600);
  for (const a of ["b", "c", "d", "e"]) t.failed(a);
  assert.equal(t.size, 3, "at most maxAddresses remembered");
  assert.equal(t.waitMs("a"), 0, "the oldest was forgotten first");
  now += 15 * 60_000;
  assert.equal(t.waitMs("e"), 0, "forgotten after 15 minutes");
});
