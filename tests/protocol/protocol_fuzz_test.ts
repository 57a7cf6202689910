/**
 * Seeded, bounded fuzzing of the JSON request parser, the line framer and whole sessions: a few
 * thousand mutations of valid inputs each. Nothing may throw; every rejection is a documented
 * error code (docs/protocol.md); every input is handled in bounded time. The seed is fixed, so a
 * failure reproduces: the message names the input.
 */
import assert from "node:assert/strict";
import { isErrorCode } from "../../lib/protocol/error_codes.ts";
import { parseJsonRequest } from "../../lib/protocol/json_request.ts";
import { LineFramer, MAX_LINE_BYTES } from "../../lib/protocol/line_framer.ts";
import { ConsoleServer } from "../../lib/protocol/server.ts";
import { drain, FakeBackend } from "./fake_backend.ts";

/** Longest time one input may take, in ms: generous (a loaded CI machine), but finite. */
const BOUND_MS = 2000;

/** mulberry32: a small seeded PRNG. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEEDS = [
  '{"id":1,"cmd":"vm list"}',
  '{"id":"x","argv":["vm","show","1"]}',
  '{"id":null,"cmd":"echo \\"a b\\""}',
  '{"id":2.5,"argv":[]}',
  '{"cmd":"vm start 1","id":[1]}',
  "vm list",
  "mode json",
  "events off",
  "auth token",
  'echo "unterminated',
  "vm console 1",
];

const SPICE = [
  "{",
  "}",
  "[",
  "]",
  '"',
  "\\",
  ":",
  ",",
  "\u0000",
  "\uffff",
  "\ud800",
  "é",
  "\r",
  "\n",
  "1e999",
  "null",
  "-",
  "🙂",
];

function mutate(r: () => number, base: string): string {
  let s = base;
  const n = 1 + Math.floor(r() * 4);
  for (let i = 0; i < n; i++) {
    const at = Math.floor(r() * (s.length + 1));
    switch (Math.floor(r() * 8)) {
      case 0: // delete a span
        s = s.slice(0, at) + s.slice(at + Math.floor(r() * 6));
        break;
      case 1: // insert spice
        s = s.slice(0, at) + SPICE[Math.floor(r() * SPICE.length)] + s.slice(at);
        break;
      case 2: // random code unit
        s = s.slice(0, at) + String.fromCharCode(Math.floor(r() * 0x10000)) + s.slice(at);
        break;
      case 3: // duplicate a span
        s = s.slice(0, at) + s.slice(at, at + 8).repeat(1 + Math.floor(r() * 4)) + s.slice(at);
        break;
      case 4: // truncate
        s = s.slice(0, at);
        break;
      case 5: // deep nesting
        s = "[".repeat(Math.floor(r() * 5000)) + s;
        break;
      case 6: // very long
        s = s + "x".repeat(Math.floor(r() * 2 * MAX_LINE_BYTES));
        break;
      default: // splice another seed in
        s = s.slice(0, at) + SEEDS[Math.floor(r() * SEEDS.length)] + s.slice(at);
    }
  }
  return s;
}

function timed<T>(what: string, input: string, f: () => T): T {
  const t0 = performance.now();
  let out: T;
  try {
    out = f();
  } catch (e) {
    throw new Error(`${what} threw ${e} on ${JSON.stringify(input.slice(0, 200))}`);
  }
  const ms = performance.now() - t0;
  assert.ok(ms < BOUND_MS, `${what} took ${ms} ms on ${JSON.stringify(input.slice(0, 200))}`);
  return out;
}

Deno.test("fuzz: the JSON request parser never throws and rejects with documented codes", () => {
  const r = rng(0x5eed1);
  for (let i = 0; i < 5000; i++) {
    const input = mutate(r, SEEDS[i % SEEDS.length]);
    const parsed = timed("parseJsonRequest", input, () => parseJsonRequest(input));
    if (parsed.ok) {
      const req = parsed.request;
      assert.ok(typeof req.cmd === "string" || Array.isArray(req.argv), input);
      if (req.argv) assert.ok(req.argv.every((w) => typeof w === "string"), input);
    } else {
      assert.ok(isErrorCode(parsed.error.code), `${parsed.error.code} on ${input}`);
      assert.ok(parsed.error.message.length > 0);
    }
  }
});

Deno.test("fuzz: the line framer never throws, bounds lines and rejects with documented codes", () => {
  const r = rng(0x5eed2);
  const enc = new TextEncoder();
  for (let i = 0; i < 3000; i++) {
    const text = Array.from(
      { length: 1 + Math.floor(r() * 4) },
      () => mutate(r, SEEDS[Math.floor(r() * SEEDS.length)]),
    ).join(r() < 0.5 ? "\n" : "\r\n");
    const bytes = enc.encode(text);
    // Raw bytes too: invalid UTF-8 where a mutation lands.
    if (r() < 0.3 && bytes.length > 0) {
      bytes[Math.floor(r() * bytes.length)] = Math.floor(r() * 256);
    }
    const framer = new LineFramer();
    timed("LineFramer", text, () => {
      let at = 0;
      const items = [];
      while (at < bytes.length) {
        const size = 1 + Math.floor(r() * 64);
        items.push(...framer.push(bytes.subarray(at, at + size)));
        at += size;
      }
      items.push(...framer.end());
      for (const item of items) {
        if (item.kind === "line") {
          assert.ok(enc.encode(item.text).length <= MAX_LINE_BYTES, "a line within the limit");
        } else assert.ok(isErrorCode(item.error.code), item.error.code);
      }
      assert.ok(items.length <= bytes.length + 1);
    });
  }
});

Deno.test("fuzz: sessions take mutated lines and answer each with valid output", async () => {
  const r = rng(0x5eed3);
  const backend = new FakeBackend();
  const server = new ConsoleServer({ backend, maxSessions: 10_000 });
  const enc = new TextEncoder();
  try {
    for (let i = 0; i < 1500; i++) {
      const mode = r() < 0.5 ? "json" : "human";
      const s = server.openSession({ kind: "tcp", peer: `fuzz ${i}`, mode });
      drain(s.output);
      const input = mutate(r, SEEDS[i % SEEDS.length]) + "\n" +
        mutate(r, SEEDS[(i + 3) % SEEDS.length]) + "\n";
      const t0 = performance.now();
      try {
        await s.receive(enc.encode(input));
        await s.end();
      } catch (e) {
        throw new Error(`session threw ${e} on ${JSON.stringify(input.slice(0, 200))}`);
      }
      assert.ok(
        performance.now() - t0 < BOUND_MS,
        `slow on ${JSON.stringify(input.slice(0, 200))}`,
      );
      const out = drain(s.output);
      assert.ok(out.length < 64 * 1024, "bounded output");
      if (s.mode === "json" && mode === "json") {
        for (const line of out.split("\n").filter((l) => l !== "")) {
          const obj = JSON.parse(line);
          if (obj.ok === false) {
            assert.ok(isErrorCode(obj.error.code) || obj.error.code === "VM_NOT_FOUND", line);
          }
        }
      }
      if (backend.blocked.length > 0) backend.blocked.splice(0).forEach((f) => f());
    }
  } finally {
    server.shutdown("fuzz over");
    server.dispose();
  }
});
