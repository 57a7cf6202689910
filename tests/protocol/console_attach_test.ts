/**
 * Console attach details: the escape keys (EscapeScanner), just-enough telnet (TelnetFilter and
 * a TCP session offering character mode), `vm log --follow`, and detaching when the VM stops.
 */
import assert from "node:assert/strict";
import { ConsoleServer } from "../../lib/protocol/server.ts";
import {
  describeEscapeKey,
  EscapeScanner,
  parseEscapeKey,
} from "../../lib/protocol/attach_escape.ts";
import { CHARACTER_MODE, LINE_MODE, TelnetFilter } from "../../lib/protocol/telnet.ts";
import { drain, FakeBackend } from "./fake_backend.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

/** Everything queued, as bytes. */
function drainBytes(q: { take(): Uint8Array | undefined }): number[] {
  const out: number[] = [];
  for (let c = q.take(); c; c = q.take()) out.push(...c);
  return out;
}

function includesSeq(hay: number[], needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

Deno.test("EscapeScanner: Ctrl-] anywhere, ~. at a line start, ~~, split chunks", () => {
  const s = new EscapeScanner();
  let r = s.scan(enc("ab~c\r~~x"));
  assert.equal(dec(r.forward), "ab~c\r~x");
  assert.equal(r.detached, false);
  r = s.scan(enc("\r~"));
  assert.equal(dec(r.forward), "\r");
  assert.equal(s.holding, true);
  r = s.scan(enc(".\r\nvm list\n"));
  assert.deepEqual([dec(r.forward), r.detached, dec(r.rest)], ["", true, "vm list\n"]);
  r = new EscapeScanner().scan(enc("\x03\x00\x1b[A\x1drest"));
  assert.deepEqual([...r.forward], [0x03, 0x00, 0x1b, 0x5b, 0x41]);
  assert.deepEqual([r.detached, dec(r.rest)], [true, "rest"]);
  // Configured keys: ^A detaches, no line escape, Ctrl-] goes to the guest.
  const a = new EscapeScanner({ control: 0x01, line: null });
  r = a.scan(enc("~.\x1d\x01x"));
  assert.deepEqual([dec(r.forward), r.detached, dec(r.rest)], ["~.\x1d", true, "x"]);
});

Deno.test("escape keys parse and print as ^X", () => {
  assert.equal(parseEscapeKey("^]"), 0x1d);
  assert.equal(parseEscapeKey("^a"), 0x01);
  assert.equal(parseEscapeKey("ctrl-b"), 0x02);
  assert.equal(parseEscapeKey("~"), 0x7e);
  assert.equal(parseEscapeKey("none"), null);
  assert.equal(parseEscapeKey("^1"), undefined);
  assert.equal(parseEscapeKey("ab"), undefined);
  assert.equal(describeEscapeKey(0x1d), "^]");
  assert.equal(describeEscapeKey(null), "none");
});

Deno.test("TelnetFilter: IAC sequences out, IAC IAC is 0xff, DO/WILL refused, SB skipped", () => {
  const f = new TelnetFilter();
  const r = f.filter(Uint8Array.of(
    0x61,
    255,
    253,
    1,
    255,
    253,
    24,
    0x62,
    255,
    255,
    255,
    251,
    31,
    255,
    250,
    24,
    1,
    255,
    240,
    0x63,
    255,
  ));
  assert.deepEqual([...r.data], [0x61, 0x62, 0xff, 0x63]);
  // DO ECHO was offered (no reply); DO TERMINAL-TYPE: WONT; WILL NAWS: DONT.
  assert.deepEqual([...r.reply], [255, 252, 24, 255, 254, 31]);
  assert.equal(f.isTelnet, true);
  // The IAC at the end of the chunk continues in the next one.
  assert.deepEqual([...f.filter(Uint8Array.of(255, 0x64)).data], [0xff, 0x64]);
});

Deno.test("a telnet client (CRLF lines) gets character mode while attached, line mode after", async () => {
  const backend = new FakeBackend();
  const server = new ConsoleServer({ backend });
  const s = server.openSession({ kind: "tcp", peer: "telnet", banner: false });
  drain(s.output);
  await s.receive(enc("vm console 1\r\n"));
  const offered = drainBytes(s.output);
  assert.ok(includesSeq(offered, CHARACTER_MODE), "WILL ECHO, WILL SGA offered");
  // The client agrees (DO ECHO, DO SGA), asks for more (DO 24: refused), types keys.
  await s.receive(Uint8Array.of(255, 253, 1, 255, 253, 3, 255, 253, 24, 0x61, 0x0d, 0x00, 0x09));
  await s.receive(Uint8Array.of(0x62, 0x0d, 0x0a, 0x03, 0x1b, 0x5b, 0x41, 255, 255, 0x00));
  assert.deepEqual(
    [...enc(backend.consoleInputs.map((i) => i.text).join(""))].filter((b) => b !== 0xef),
    [...enc("a\r\tb\r\x03\x1b[A")].concat([0xbf, 0xbd, 0x00]),
  );
  assert.deepEqual(drainBytes(s.output), [255, 252, 24]);
  // Guest output with a 0xff byte reaches the client doubled.
  backend.emit({ event: "console", vm: 1, data: Uint8Array.of(0x41, 0xff) });
  server.flushEvents();
  assert.deepEqual(drainBytes(s.output), [0x41, 0xff, 0xff]);
  await s.receive(Uint8Array.of(0x1d));
  const after = drainBytes(s.output);
  assert.ok(includesSeq(after, LINE_MODE), "WONT ECHO, WONT SGA on detach");
  assert.match(dec(Uint8Array.from(after)), /detached from VM 1/);
  // The client's answers to WONT are taken out; the next line is a command again.
  await s.receive(Uint8Array.of(255, 254, 1, 255, 254, 3, ...enc("vm list\r\n")));
  assert.match(drain(s.output), /1 {2}hello/);
});

Deno.test("an nc client (LF lines) is never sent telnet commands; its 0xff bytes are errors", async () => {
  const backend = new FakeBackend();
  const server = new ConsoleServer({ backend });
  const s = server.openSession({ kind: "tcp", peer: "nc", banner: false });
  drain(s.output);
  await s.receive(enc("vm console 1\n"));
  const out = drainBytes(s.output);
  assert.ok(!out.includes(255));
  await s.receive(enc("line\n~.\n"));
  assert.equal(backend.consoleInputs.map((i) => i.text).join(""), "line\n");
  drain(s.output);
  await s.receive(Uint8Array.of(0xff, 0x0a));
  assert.match(drain(s.output), /not valid UTF-8/);
});

Deno.test("vm log --follow streams until a key; a VM that stops detaches, a restart does not", async () => {
  const backend = new FakeBackend();
  const server = new ConsoleServer({ backend });
  const s = server.openSession({ kind: "tcp", peer: "t", banner: false });
  drain(s.output);
  await s.receive(enc("vm log --follow 1\n"));
  assert.equal(s.following, true);
  backend.console(1, "new\r\n");
  server.flushEvents();
  assert.equal(drain(s.output), "old output\nnew\r\n");
  await s.receive(enc("anything\nvm list\n"));
  assert.equal(s.following, false);
  assert.equal(backend.consoleInputs.length, 0, "following never types");
  assert.match(drain(s.output), /stopped following VM 1[^]*thing|stopped following VM 1/);

  const t = server.openSession({ kind: "tty", peer: "terminal", banner: false, prompt: false });
  await t.receiveLine("vm console 1");
  backend.emit({ event: "status", vm: 1, from: "running", to: "stopping" });
  backend.emit({ event: "status", vm: 1, from: "stopping", to: "stopped" });
  backend.emit({ event: "status", vm: 1, from: "stopped", to: "running" });
  await Promise.resolve();
  assert.equal(t.attachedVm, 1, "a restart keeps the attach");
  backend.emit({ event: "status", vm: 1, from: "running", to: "stopped" });
  await Promise.resolve();
  assert.equal(t.attachedVm, undefined);
  assert.match(drain(t.output), /\[detached from VM 1: the VM stopped\]/);
  // Typed raw (a terminal in raw mode): the rest after the escape is handed back.
  await t.receiveLine("vm console 1");
  assert.equal(dec(t.attachInput(enc("x\x1dleft"))), "left");
  assert.equal(backend.consoleInputs.at(-1)?.text, "x");
});
