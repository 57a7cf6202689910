import assert from "node:assert/strict";
import { runBatch, splitCommands, splitScript } from "../../lib/protocol/batch.ts";
import { ConsoleAssembler, eventHuman, eventJson } from "../../lib/protocol/events.ts";
import { AxvisorBackend, toProtocolEvent } from "../../lib/protocol/axvisor_backend.ts";
import { ConsoleServer } from "../../lib/protocol/server.ts";
import { drain, FakeBackend } from "./fake_backend.ts";
import type { HypervisorEvent } from "../../lib/vmm/events.ts";
import { ShellSession } from "../../lib/shell/session.ts";

Deno.test("splitCommands: ; and newlines outside quotes, comments and blanks skipped", () => {
  assert.deepEqual(splitCommands("vm list; vm start 1;;  \nvm show 1"), [
    "vm list",
    "vm start 1",
    "vm show 1",
  ]);
  assert.deepEqual(splitCommands(`echo 'a;b' "c;\\"d"; echo e\\;f`), [
    `echo 'a;b' "c;\\"d"`,
    `echo e\\;f`,
  ]);
  assert.deepEqual(splitCommands("# comment\r\nvm list\r\n  # indented comment\n"), ["vm list"]);
  assert.deepEqual(splitCommands(""), []);
});

Deno.test("runBatch stops at the first failure unless keepGoing", async () => {
  const server = new ConsoleServer({ backend: new FakeBackend() });
  const s = server.openSession({ kind: "batch", peer: "b", banner: false, prompt: false });
  const failures: number[] = [];
  const r = await runBatch(s, ["echo a", "nope", "echo b"], { onFailure: (i) => failures.push(i) });
  assert.deepEqual(
    { ok: r.ok, ran: r.ran, failed: r.failed, stopped: r.stoppedEarly },
    { ok: false, ran: 2, failed: 1, stopped: true },
  );
  assert.deepEqual(failures, [2]);
  assert.equal(drain(s.output), "a\nError: Unknown command 'nope'\n");
  const k = await runBatch(s, ["nope", "echo b", "vm console 1", "echo c"], { keepGoing: true });
  assert.deepEqual({ ok: k.ok, ran: k.ran, failed: k.failed }, { ok: false, ran: 4, failed: 2 });
  assert.equal(s.attachedVm, undefined, "batch never attaches");
  assert.match(drain(s.output), /b\nError: `vm console` needs a terminal[^]*c\n$/);
  const e = await runBatch(s, ["echo x", "exit", "echo never"]);
  assert.deepEqual({ ok: e.ok, ran: e.ran, stopped: e.stoppedEarly }, {
    ok: true,
    ran: 2,
    stopped: true,
  });
});

Deno.test("ConsoleAssembler: per-VM lines, CRLF, split UTF-8, long partial lines", () => {
  const a = new ConsoleAssembler(3);
  const bytes = new TextEncoder().encode("né\r\nx");
  const first = a.push(bytes.subarray(0, 2)); // "n" + first byte of "é"
  assert.deepEqual(first, { text: "n", lines: "" });
  const second = a.push(bytes.subarray(2));
  assert.equal(second.text, "é\r\nx");
  assert.equal(second.lines, "[VM 3] né\n");
  assert.equal(a.partial, "x");
  assert.equal(a.flush(), "[VM 3] x\n");
  assert.equal(a.flush(), "");
  const long = a.push(new TextEncoder().encode("y".repeat(2500)));
  assert.equal(long.lines.split("\n").length - 1, 2, "over 1 KiB is shown in pieces");
  assert.equal(a.partial.length, 452);
  const bad = new ConsoleAssembler(1).push(Uint8Array.of(0xff, 0x0a));
  assert.equal(bad.lines, "[VM 1] \ufffd\n");
});

Deno.test("event renderings: JSON carries time_ns, human shows faults and warnings", () => {
  assert.equal(
    eventJson({ event: "status", vm: 1, from: "loaded", to: "running", timeNs: 5 }, 9),
    `{"event":"status","time_ns":5,"vm":1,"from":"loaded","to":"running"}\n`,
  );
  assert.equal(
    eventJson({ event: "console", vm: 2, data: new Uint8Array() }, 9, "hi"),
    `{"event":"console","time_ns":9,"vm":2,"text":"hi"}\n`,
  );
  assert.equal(
    eventHuman({ event: "fault", vm: 1, vcpu: 0, message: "NestedPageFault at 0x0" }),
    "[VM 1] fault (vCPU 0): NestedPageFault at 0x0\n",
  );
  assert.equal(eventHuman({ event: "log", level: "warn", message: "m" }), "[axvisor] warn: m\n");
  assert.equal(eventHuman({ event: "log", level: "info", message: "m" }), "");
  assert.equal(eventHuman({ event: "status", vm: 1, to: "running" }), "");
});

Deno.test("toProtocolEvent converts every hypervisor event kind", () => {
  const data = Uint8Array.of(65);
  const cases: [HypervisorEvent, unknown][] = [
    [
      { type: "status", vmId: 1, from: "loaded", to: "running", timeNs: 1, reason: "start" },
      { event: "status", vm: 1, from: "loaded", to: "running", timeNs: 1, reason: "start" },
    ],
    [
      { type: "console", vmId: 2, data, timeNs: 2 },
      { event: "console", vm: 2, data, timeNs: 2 },
    ],
    [
      { type: "vcpu", vmId: 1, vcpuId: 3, change: "down", pcpu: 2, timeNs: 3 },
      { event: "vcpu", vm: 1, vcpu: 3, state: "down", pcpu: 2, timeNs: 3 },
    ],
    [
      {
        type: "fault",
        vmId: 4,
        vcpuId: 0,
        kind: "NestedPageFault",
        addr: 0x1000,
        pc: 0x8020_0000,
        message: "m",
        timeNs: 4,
      },
      {
        event: "fault",
        vm: 4,
        vcpu: 0,
        kind: "NestedPageFault",
        addr: 0x1000,
        pc: 0x8020_0000,
        message: "m",
        timeNs: 4,
      },
    ],
    [
      { type: "log", level: "warn", vmId: 5, message: "w", timeNs: 5 },
      { event: "log", level: "warn", vm: 5, message: "w", timeNs: 5 },
    ],
  ];
  for (const [input, want] of cases) assert.deepEqual(toProtocolEvent(input), want);
});

Deno.test("AxvisorBackend: full-line completions, console input, labels, activity hook", async () => {
  const typed: string[] = [];
  let activity = 0;
  const vm = {
    id: 1,
    name: "hello",
    console: { writeInput: (d: Uint8Array | string) => typed.push(String(d)) },
  };
  const backend = new AxvisorBackend({
    hypervisor: {
      clock: { now: () => 42 },
      vm: (x) => (x === 1 || x === "hello" ? vm : undefined),
      vms: () => [vm],
      on: () => () => {},
    },
    shell: {
      execute: () => Promise.resolve({ ok: true, text: "done" }),
      executeArgv: () => Promise.resolve({ ok: true, text: "argv" }),
      complete: (line) => (line.endsWith("st") ? ["start", "stop"] : ["list"]),
    },
    description: "test board",
    onActivity: () => activity++,
  });
  assert.deepEqual(backend.complete("vm st", new ShellSession()), ["vm start", "vm stop"]);
  assert.deepEqual(backend.complete("vm l", new ShellSession()), ["vm list "]);
  assert.deepEqual(backend.complete("vm ", new ShellSession()), ["vm list "]);
  assert.equal((await backend.execute({ line: "x" }, new ShellSession())).text, "done");
  assert.equal((await backend.execute({ argv: ["x"] }, new ShellSession())).text, "argv");
  assert.equal(backend.consoleInput(1, Uint8Array.of(104)), true);
  assert.equal(backend.consoleInput(9, Uint8Array.of(104)), false);
  assert.equal(activity, 3);
  assert.equal(backend.vmLabel(1), "VM 1 (hello)");
  assert.equal(backend.vmLabel(7), undefined);
  assert.equal(backend.describe(), "test board, 1 VM");
  assert.equal(backend.now(), 42);
  assert.equal(backend.prompt(new ShellSession({ cwd: "/guest" })), "axvisor:/guest$ ");
});

Deno.test("splitScript gives each command the line it starts on", () => {
  const script = "# head\nvm list\n\n  uname -s; echo 'a;b'\r\necho one \\\n two\nvm show 1 # x\n";
  assert.deepEqual(splitScript(script), [
    { command: "vm list", line: 2 },
    { command: "uname -s", line: 4 },
    { command: "echo 'a;b'", line: 4 },
    { command: "echo one \\\n two", line: 5 },
    { command: "vm show 1 # x", line: 7 },
  ]);
  assert.deepEqual(splitCommands(script), splitScript(script).map((c) => c.command));
});

Deno.test("runBatch: a command spanning lines (quoted newline) runs whole; each line is still checked", async () => {
  const server = new ConsoleServer({ backend: new FakeBackend() });
  const s = server.openSession({ kind: "batch", peer: "b", banner: false, prompt: false });
  const r = await runBatch(s, ['echo "a\nb"', 'echo "c\u0001\nd"'], { keepGoing: true });
  assert.deepEqual({ ok: r.ok, ran: r.ran, failed: r.failed }, { ok: false, ran: 2, failed: 1 });
  const out = drain(s.output);
  assert.doesNotMatch(out, /U\+000A/, "the newline inside the quotes is not a framing error");
  assert.match(out, /U\+0001/, "a control character on any physical line still is");
});
