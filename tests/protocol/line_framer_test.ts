import assert from "node:assert/strict";
import { firstInvalidUtf8, LineFramer, MAX_LINE_BYTES } from "../../lib/protocol/line_framer.ts";

const enc = (s: string) => new TextEncoder().encode(s);

function lines(framer: LineFramer, ...chunks: (string | Uint8Array)[]) {
  return chunks.flatMap((c) => framer.push(typeof c === "string" ? enc(c) : c)).map((i) =>
    i.kind === "line" ? i.text : `!${i.error.code}`
  );
}

Deno.test("framer splits LF and CRLF lines across chunk boundaries", () => {
  const f = new LineFramer();
  assert.deepEqual(lines(f, "vm li", "st\r\nhelp\n", "\n", "a\r", "\nb"), [
    "vm list",
    "help",
    "",
    "a",
  ]);
  assert.equal(f.pending, true);
  assert.deepEqual(f.end().map((i) => i.kind === "line" && i.text), ["b"]);
  assert.equal(f.lineNumber, 5);
});

Deno.test("framer keeps a lone CR inside a line only when it is not before LF", () => {
  const f = new LineFramer();
  assert.deepEqual(lines(f, "a\rb\n"), ["!CONTROL_CHARACTER"]);
});

Deno.test("a line of exactly the limit passes, one byte more is rejected and discarded", () => {
  const f = new LineFramer();
  const max = "x".repeat(MAX_LINE_BYTES);
  assert.deepEqual(lines(f, max + "\r\n"), [max]);
  const out = lines(f, max + "y", "zzzz", "zz\nnext\n");
  assert.deepEqual(out, ["!LINE_TOO_LONG", "next"]);
});

Deno.test("an endless line is reported once, while it arrives, and memory stays bounded", () => {
  const f = new LineFramer({ maxLineBytes: 16 });
  const out = lines(f, "a".repeat(10), "b".repeat(10), "c".repeat(1000));
  assert.deepEqual(out, ["!LINE_TOO_LONG"]);
  assert.deepEqual(lines(f, "ccc\nok\n"), ["ok"]);
});

Deno.test("the long-line error names the line number and the limit", () => {
  const f = new LineFramer({ maxLineBytes: 8 });
  lines(f, "one\n");
  const [item] = f.push(enc("0123456789\n"));
  assert.equal(item.kind, "error");
  assert.match(item.kind === "error" ? item.error.message : "", /line 2 is longer than 8 bytes/);
});

Deno.test("invalid UTF-8, NUL and control characters are errors; the next line is fine", () => {
  const f = new LineFramer();
  const bad = Uint8Array.of(0x76, 0x6d, 0xff, 0x0a);
  assert.deepEqual(lines(f, bad, "ok\n"), ["!INVALID_UTF8", "ok"]);
  assert.deepEqual(lines(f, "a\0b\n", "\x1b[A\n", "del\x7f\n", "tab\there\n"), [
    "!CONTROL_CHARACTER",
    "!CONTROL_CHARACTER",
    "!CONTROL_CHARACTER",
    "tab\there",
  ]);
  const [nul] = f.push(enc("ab\0\n"));
  assert.match(nul.kind === "error" ? nul.error.message : "", /NUL at column 3/);
});

Deno.test("multi-byte UTF-8 split across chunks is accepted", () => {
  const f = new LineFramer();
  const bytes = enc("vm create 名前.toml\n");
  const out = [];
  for (const b of bytes) out.push(...f.push(Uint8Array.of(b)));
  assert.deepEqual(out.map((i) => i.kind === "line" && i.text), ["vm create 名前.toml"]);
});

Deno.test("firstInvalidUtf8 finds overlongs, surrogates, truncations and bad leads", () => {
  const cases: [number[], number][] = [
    [[0x41, 0x42], -1],
    [[0xc3, 0xa9], -1],
    [[0xf0, 0x9f, 0x98, 0x80], -1],
    [[0xc0, 0x80], 0], // overlong NUL
    [[0xe0, 0x80, 0x80], 0], // overlong
    [[0xed, 0xa0, 0x80], 0], // surrogate
    [[0xf4, 0x90, 0x80, 0x80], 0], // above U+10FFFF
    [[0x41, 0xe2, 0x82], 1], // truncated at the end
    [[0x41, 0xe2, 0x41, 0x41], 2], // bad continuation
    [[0x80], 0],
    [[0xff], 0],
  ];
  for (const [bytes, want] of cases) {
    assert.equal(firstInvalidUtf8(Uint8Array.from(bytes)), want, `bytes ${bytes}`);
  }
});
