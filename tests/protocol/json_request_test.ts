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

Deno.test("bad requests are rejected with a code and a message naming the problem", () => {
  const table: [string, string, RegExp, unknown][] = [
    [`{"id":1,"cmd":"vm list"`, "INVALID_JSON", /invalid JSON/, null],
    [`[1,2]`, "INVALID_REQUEST", /JSON object.*an array/, null],
    [`"vm list"`, "INVALID_REQUEST", /JSON object.*string/, null],
    [`{"id":1}`, "INVALID_REQUEST", /needs "cmd" or "argv"/, 1],
    [`{"id":2,"cmd":"a","argv":["a"]}`, "INVALID_REQUEST", /not both/, 2],
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
