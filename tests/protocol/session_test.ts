import assert from "node:assert/strict";
import { ConsoleServer } from "../../lib/protocol/server.ts";
import { PROMPT } from "../../lib/protocol/session.ts";
import { drain, FakeBackend } from "./fake_backend.ts";

const enc = (s: string) => new TextEncoder().encode(s);

function setup(options: { token?: string; readOnly?: boolean; softLimit?: number } = {}) {
  const backend = new FakeBackend();
  const logs: string[] = [];
  const server = new ConsoleServer({
    backend,
    token: options.token,
    readOnly: options.readOnly,
    log: (level, m) => logs.push(`${level}: ${m}`),
    limits: options.softLimit ? { softLimit: options.softLimit } : undefined,
  });
  return { backend, server, logs };
}

function jsonLines(text: string): Record<string, unknown>[] {
  return text.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
}

Deno.test("human session: banner, prompt, replies, errors, blank lines", async () => {
  const { server } = setup();
  const s = server.openSession({ kind: "tcp", peer: "test" });
  const banner = drain(s.output);
  assert.match(banner, /^axvisor\.ts 0\.1\.0: fake board/);
  assert.match(banner, /Type `help`/);
  assert.ok(banner.endsWith(PROMPT));
  await s.receive(enc("vm list\r\n\nnope\n"));
  assert.equal(
    drain(s.output),
    `ID NAME\n1  hello\n${PROMPT}${PROMPT}Error: Unknown command 'nope'\n${PROMPT}`,
  );
});

Deno.test("human session: bad lines are errors and the session continues", async () => {
  const { server } = setup();
  const s = server.openSession({ kind: "tcp", peer: "test", banner: false });
  drain(s.output);
  await s.receive(Uint8Array.of(0xff, 0xfe, 0x0a));
  await s.receive(enc("a\0b\n" + "x".repeat(5000) + "\nvm list\n"));
  const out = drain(s.output);
  assert.match(out, /Error: line 1 is not valid UTF-8/);
  assert.match(out, /Error: line 2 contains the control character NUL/);
  assert.match(out, /Error: line 3 is longer than 4096 bytes/);
  assert.match(out, /1 {2}hello/);
  assert.equal(s.closed, false);
});

Deno.test("a first line starting with { switches to JSON mode", async () => {
  const { server, backend } = setup();
  const s = server.openSession({ kind: "tcp", peer: "test" });
  drain(s.output);
  backend.time = 5000;
  await s.receive(enc(`{"id":7,"cmd":"vm list"}\n{"id":"x","argv":["echo","a b"]}\n`));
  const out = drain(s.output);
  assert.ok(out.startsWith("\n"), "the pending prompt line is ended first");
  const [hello, r1, r2] = jsonLines(out);
  assert.equal(hello.event, "hello");
  assert.equal(hello.mode, "json");
  assert.deepEqual(r1, { id: 7, ok: true, data: [{ id: 1, name: "hello" }], time_ns: 5000 });
  assert.deepEqual(r2, { id: "x", ok: true, data: { text: "a b" }, time_ns: 5000 });
  assert.equal(s.mode, "json");
});

Deno.test("JSON errors: one reply per request, with id, code and message", async () => {
  const { server } = setup();
  const s = server.openSession({ kind: "tcp", peer: "test", banner: false, mode: "json" });
  drain(s.output);
  await s.receive(enc(`{"id":1,"cmd":"nope"}\n{"id":2,"cmd":"boom"}\nnot json\n{"id":3}\n`));
  await s.receive(Uint8Array.of(0x7b, 0xff, 0x0a));
  const replies = jsonLines(drain(s.output));
  assert.equal(replies.length, 5);
  assert.deepEqual(replies.map((r) => [r.id, r.ok, (r.error as { code: string }).code]), [
    [1, false, "UNKNOWN_COMMAND"],
    [2, false, "INTERNAL_ERROR"],
    [null, false, "INVALID_JSON"],
    [3, false, "INVALID_REQUEST"],
    [null, false, "INVALID_UTF8"],
  ]);
  assert.match((replies[1].error as { message: string }).message, /kaboom/);
});

Deno.test("events reach JSON sessions between replies; `events off` mutes them", async () => {
  const { server, backend } = setup();
  const s = server.openSession({ kind: "tcp", peer: "t", banner: false, mode: "json" });
  drain(s.output);
  await s.receive(enc(`{"id":1,"cmd":"vm start 1"}\n`));
  const [status, reply] = jsonLines(drain(s.output));
  assert.deepEqual(status, {
    event: "status",
    time_ns: 1000,
    vm: 1,
    from: "loaded",
    to: "running",
  });
  assert.equal(reply.id, 1);
  backend.console(1, "hé");
  backend.emit({ event: "fault", vm: 1, vcpu: 0, message: "bad access at 0x0", timeNs: 77 });
  backend.emit({ event: "vcpu", vm: 1, vcpu: 1, state: "up", pcpu: 1 });
  const evs = jsonLines(drain(s.output));
  assert.deepEqual(evs[0], { event: "console", time_ns: 1000, vm: 1, text: "hé" });
  assert.deepEqual(evs[1], {
    event: "fault",
    time_ns: 77,
    vm: 1,
    vcpu: 0,
    message: "bad access at 0x0",
  });
  assert.deepEqual(evs[2], { event: "vcpu", time_ns: 1000, vm: 1, vcpu: 1, state: "up", pcpu: 1 });
  await s.receive(enc(`{"id":2,"cmd":"events off"}\n`));
  drain(s.output);
  backend.console(1, "muted");
  assert.equal(drain(s.output), "");
});

Deno.test("human sessions get guest output as [VM n] lines, assembled per VM", async () => {
  const { server, backend } = setup();
  const s = server.openSession({ kind: "tcp", peer: "t", banner: false });
  drain(s.output);
  backend.console(1, "hel");
  backend.console(2, "other\r\n");
  backend.console(1, "lo\nwor");
  assert.equal(drain(s.output), "", "console output is coalesced until the end of the task");
  await Promise.resolve();
  const out = drain(s.output);
  assert.equal(out, "\n[VM 1] hello\n[VM 2] other\n");
  backend.emit({ event: "status", vm: 1, from: "running", to: "stopped" });
  assert.equal(drain(s.output), "[VM 1] wor\n");
  await s.receive(enc("events off\n"));
  drain(s.output);
  backend.console(1, "quiet\n");
  assert.equal(drain(s.output), "");
});

Deno.test("mode command switches both ways; bad arguments are errors", async () => {
  const { server } = setup();
  const s = server.openSession({ kind: "tcp", peer: "t", banner: false });
  drain(s.output);
  await s.receive(enc("mode xml\nmode json\n"));
  const out = drain(s.output);
  assert.match(out, /Error: usage: mode human\|json/);
  const [hello, reply] = jsonLines(out);
  assert.equal(hello.event, "hello");
  assert.deepEqual(reply.data, { mode: "json" });
  await s.receive(enc(`{"id":1,"cmd":"mode human"}\nvm list\n`));
  const back = drain(s.output);
  assert.match(back, /"mode":"human"/);
  assert.match(back, /Human mode\./);
  assert.match(back, /1 {2}hello\n/);
});

Deno.test("token: commands before auth are refused; wrong tokens limited and logged", async () => {
  const { server, logs, backend } = setup({ token: "s3cret" });
  const s = server.openSession({ kind: "tcp", peer: "tcp 10.0.0.9:1234" });
  assert.match(drain(s.output), /Authentication required/);
  backend.console(1, "hidden\n");
  await s.receive(enc("vm list\nauth wrong\nauth s3cret\nvm list\n"));
  const out = drain(s.output);
  assert.doesNotMatch(out, /hidden/, "no guest output before auth");
  assert.match(out, /Error: authentication required/);
  assert.match(out, /Error: wrong token \(2 attempts left\)/);
  assert.match(out, /Authenticated\.\n.*\n?1 {2}hello/);
  assert.ok(logs.some((l) => l.startsWith("warn:") && l.includes("10.0.0.9:1234")));
  assert.deepEqual(backend.executed, [["vm", "list"]], "only the authenticated command ran");

  const t = server.openSession({ kind: "tcp", peer: "x" });
  await t.receive(enc("auth a\nauth b\nauth c\nauth s3cret\n"));
  assert.equal(t.closed, true);
  assert.equal(t.closeReason, "too many wrong tokens");
  // stdio sessions do not need the token.
  const local = server.openSession({ kind: "stdio", peer: "stdio" });
  assert.equal(local.authenticated, true);
});

Deno.test("read-only sessions may look but change nothing", async () => {
  const { server, backend } = setup({ readOnly: true });
  const s = server.openSession({ kind: "tcp", peer: "t", banner: false, mode: "json" });
  drain(s.output);
  await s.receive(enc(`{"id":1,"cmd":"vm start 1"}\n{"id":2,"cmd":"vm list"}\n`));
  await s.receive(enc(`{"id":3,"cmd":"shutdown"}\n`));
  const [r1, r2, r3] = jsonLines(drain(s.output));
  assert.equal((r1.error as { code: string }).code, "READ_ONLY");
  assert.equal(r2.ok, true);
  assert.equal((r3.error as { code: string }).code, "READ_ONLY");
  assert.deepEqual(backend.executed, [["vm", "list"]]);
  assert.equal(server.shuttingDown, false);
  assert.deepEqual(s.shellSession, { readOnly: true });
});

Deno.test("console attach: input to the guest, output raw, escape with ~. or Ctrl-]", async () => {
  const { server, backend } = setup();
  const s = server.openSession({ kind: "tcp", peer: "t", banner: false });
  drain(s.output);
  await s.receive(enc("vm console 1\nhello guest\n~x\n"));
  assert.equal(s.attachedVm, 1);
  assert.match(drain(s.output), /attached to VM 1 \(vm1\) console/);
  assert.deepEqual(backend.consoleInputs.map((i) => i.text).join(""), "hello guest\n~x\n");
  backend.console(1, "raw\r\nout");
  backend.console(2, "not shown\n");
  server.flushEvents();
  assert.equal(drain(s.output), "raw\r\nout");
  // `~.` split across chunks still detaches; what follows runs as commands.
  await s.receive(enc("~"));
  await s.receive(enc(".\r\nvm list\n"));
  assert.equal(s.attachedVm, undefined);
  const out = drain(s.output);
  assert.match(out, /detached from VM 1/);
  assert.match(out, /1 {2}hello/);
  assert.equal(backend.consoleInputs.map((i) => i.text).join(""), "hello guest\n~x\n");
  // Ctrl-] in the middle of a chunk.
  await s.receive(enc("vm console 2\nab\x1dvm list\n"));
  assert.equal(s.attachedVm, undefined);
  assert.equal(backend.consoleInputs.at(-1)?.text, "ab");
  assert.match(drain(s.output), /detached from VM 2[^]*1 {2}hello/);
});

Deno.test("console attach in JSON mode is refused with guidance", async () => {
  const { server } = setup();
  const s = server.openSession({ kind: "tcp", peer: "t", banner: false, mode: "json" });
  drain(s.output);
  await s.receive(enc(`{"id":1,"cmd":"vm console 1"}\n`));
  const [r] = jsonLines(drain(s.output));
  assert.equal((r.error as { code: string }).code, "UNSUPPORTED");
  assert.equal(s.attachedVm, undefined);
});

Deno.test("exit closes gracefully after the reply; shutdown tells every session", async () => {
  const { server } = setup();
  const a = server.openSession({ kind: "tcp", peer: "a", banner: false });
  const b = server.openSession({ kind: "tcp", peer: "b", banner: false, mode: "json" });
  drain(a.output);
  drain(b.output);
  await a.receive(enc("exit\nvm list\n"));
  assert.equal(a.closed, true);
  assert.equal(drain(a.output), "Bye.\n");
  assert.equal(server.sessions().length, 1);
  const c = server.openSession({ kind: "tcp", peer: "c", banner: false });
  await c.receive(enc("shutdown\n"));
  assert.equal(await server.shutdownRequested, "shutdown command from session 3 (c)");
  const [shut] = jsonLines(drain(b.output));
  assert.equal(shut.event, "shutdown");
  assert.equal(b.closed, true);
  assert.throws(() => server.openSession({ kind: "tcp", peer: "late" }), /shutting down/);
});

Deno.test("a slow client loses console output (with a notice), never replies", async () => {
  const { server, backend } = setup({ softLimit: 64 });
  const s = server.openSession({ kind: "tcp", peer: "t", banner: false });
  drain(s.output);
  for (let i = 0; i < 20; i++) {
    backend.console(1, `line ${i}\n`);
    server.flushEvents();
  }
  await s.receive(enc("vm list\n"));
  const out = drain(s.output);
  assert.match(out, /\[VM 1\] line 0\n/);
  assert.doesNotMatch(out, /line 19/);
  assert.match(out, /1 {2}hello/);
  assert.match(out, /\[axvisor: \d+ bytes of console output dropped: the client is too slow\]/);
});

Deno.test("a session closed while its command runs leaves the queue consistent", async () => {
  const { server, backend } = setup();
  const a = server.openSession({ kind: "tcp", peer: "a", banner: false });
  const b = server.openSession({ kind: "tcp", peer: "b", banner: false });
  const pa = a.receive(enc("block\n"));
  const pb = b.receive(enc("vm list\n"));
  await backend.whenBlocked();
  a.close("client went away", { graceful: false });
  backend.blocked.shift()!();
  await pa;
  await pb;
  assert.match(drain(b.output), /1 {2}hello/);
  assert.equal(a.output.take(), undefined);
  assert.deepEqual(backend.executed.map((x) => x[0]), ["block", "vm"]);
});

Deno.test("too many sessions are refused", () => {
  const backend = new FakeBackend();
  const server = new ConsoleServer({ backend, maxSessions: 2 });
  server.openSession({ kind: "tcp", peer: "1" });
  server.openSession({ kind: "tcp", peer: "2" });
  assert.throws(() => server.openSession({ kind: "tcp", peer: "3" }), /too many sessions/);
});

Deno.test("help lists the session commands in human mode", async () => {
  const { server } = setup();
  const s = server.openSession({ kind: "tcp", peer: "t", banner: false });
  drain(s.output);
  await s.receive(enc("help\n"));
  assert.match(drain(s.output), /Commands: vm[^]*Session commands:[^]*events on\|off/);
});

Deno.test("receiveLine (readline and batch front ends) reports success per command", async () => {
  const { server, backend } = setup();
  const s = server.openSession({ kind: "batch", peer: "batch", banner: false, prompt: false });
  assert.equal(await s.receiveLine("vm list"), true);
  assert.equal(await s.receiveLine("nope"), false);
  assert.equal(await s.receiveLine(""), undefined);
  assert.equal(await s.receiveLine("x\x01"), false);
  assert.equal(drain(s.output).split("\n")[0], "ID NAME");
  // A batch (or a pipe) has no terminal: `vm console` is refused with the way out.
  assert.equal(await s.receiveLine("vm console 1"), false);
  assert.match(drain(s.output), /needs a terminal[^]*vm send[^]*vm wait --console[^]*vm log/);
  assert.equal(s.attachedVm, undefined);
  const tty = server.openSession({ kind: "tty", peer: "terminal", banner: false, prompt: false });
  assert.equal(await tty.receiveLine("vm console 1"), true);
  assert.equal(await tty.receiveLine("typed"), undefined);
  assert.equal(backend.consoleInputs.at(-1)?.text, "typed\n");
  assert.equal(await tty.receiveLine("~."), undefined);
  assert.equal(tty.attachedVm, undefined);
});
