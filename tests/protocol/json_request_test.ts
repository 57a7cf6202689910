import assert from "node:assert/strict";
import { encodeJsonLine, parseJsonRequest } from "../../lib/protocol/json_request.ts";

Deno.test("well-formed requests: cmd or argv, with any id kind", () => {
  assert.deepEqual(parseJsonRequest(`{"id":1,"cmd":"vm list"}`), {
    ok: true,
    request: { id: 1, cmd: "vm list" },
  });
  assert.deepEqual(parseJsonRequest(`{"id":"a","argv":["vm","show","1"]}`), {
    ok: true,
    request: { id: "a", argv: ["vm", "show", "1"] },
  });
  assert.deepEqual(parseJsonRequest(`{"cmd":"help"}`), {
    ok: true,
    request: { id: null, cmd: "help" },
  });
});

Deno.test("console.input: base64 bytes become `vm send -e -n` of exactly those bytes", () => {
  // 0x00 0x03 0x1b 0xff
  assert.deepEqual(parseJsonRequest(`{"id":1,"console.input":{"vm":"echo","data":"AAMb/w=="}}`), {
    ok: true,
    request: { id: 1, argv: ["vm", "send", "-e", "-n", "echo", "\\x00\\x03\\x1b\\xff"] },
  });
  const big = btoa("x".repeat(3000));
  const r = parseJsonRequest(`{"id":2,"console.input":{"vm":1,"data":"${big}"}}`);
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.error.message, /3000 bytes; at most 2048/);
});

Deno.test("bad requests are rejected with a code and a message naming the problem", () => {
  const table: [string, string, RegExp, unknown][] = [
    [`{"id":1,"cmd":"vm list"`, "INVALID_JSON", /invalid JSON/, null],
    [`[1,2]`, "INVALID_REQUEST", /JSON object.*an array/, null],
    [`"vm list"`, "INVALID_REQUEST", /JSON object.*string/, null],
    [`{"id":1}`, "INVALID_REQUEST", /needs "cmd", "argv" or "console.input"/, 1],
    [`{"id":7,"console.input":"x"}`, "INVALID_REQUEST", /must be an object/, 7],
    [`{"id":8,"console.input":{"vm":1}}`, "INVALID_REQUEST", /data must be a base64/, 8],
    [`{"id":9,"console.input":{"vm":1,"data":"*"}}`, "INVALID_REQUEST", /not valid base64/, 9],
    [`{"id":10,"console.input":{"vm":1,"data":""}}`, "INVALID_REQUEST", /is empty/, 10],
    [`{"id":11,"console.input":{"vm":true,"data":"AA=="}}`, "INVALID_REQUEST", /VM id or name/, 11],
    [`{"id":12,"console.input":{"vm":1,"data":"AA==","x":1}}`, "INVALID_REQUEST", /"x"/, 12],
    [
      `{"id":13,"console.input":{"vm":1,"data":"AA=="},"cmd":"a"}`,
      "INVALID_REQUEST",
      /not several/,
      13,
    ],
    [`{"id":2,"cmd":"a","argv":["a"]}`, "INVALID_REQUEST", /not several/, 2],
    [`{"id":3,"cmd":5}`, "INVALID_REQUEST", /"cmd" must be a string, got the number 5/, 3],
    [`{"id":4,"argv":[]}`, "INVALID_REQUEST", /non-empty array/, 4],
    [`{"id":5,"argv":["vm",1]}`, "INVALID_REQUEST", /"argv"\[1\] must be a string/, 5],
    [`{"id":6,"cmd":"vm list","extra":1}`, "INVALID_REQUEST", /unknown key "extra"/, 6],
    [`{"id":{"x":1},"cmd":"vm list"}`, "INVALID_REQUEST", /"id" must be/, null],
    [`{"id":true,"cmd":"vm list"}`, "INVALID_REQUEST", /"id" must be/, null],
  ];
  for (const [line, code, message, id] of table) {
    const r = parseJsonRequest(line);
    assert.equal(r.ok, false, line);
    if (r.ok) continue;
    assert.equal(r.error.code, code, line);
    assert.match(r.error.message, message, line);
    assert.equal(r.id, id, line);
  }
});

Deno.test("encodeJsonLine writes one line and serialises bigints and byte arrays", () => {
  const line = encodeJsonLine({ a: 5n, b: 1n << 64n, c: Uint8Array.of(1, 2), s: "x\ny" });
  assert.equal(line, `{"a":5,"b":"18446744073709551616","c":[1,2],"s":"x\\ny"}\n`);
  assert.equal(line.indexOf("\n"), line.length - 1);
});

Deno.test("nanosecond fields are whole numbers on the wire, other numbers untouched", () => {
  const line = encodeJsonLine({
    id: 1,
    ok: true,
    data: { vmId: 1, waitedNs: 40222241.00000048, ratio: 0.5, nested: { start_ns: 1.5 } },
    time_ns: 2827065006.9999995,
  });
  assert.equal(
    line,
    '{"id":1,"ok":true,"data":{"vmId":1,"waitedNs":40222241,"ratio":0.5,"nested":{"start_ns":2}},' +
      '"time_ns":2827065007}\n',
  );
});
