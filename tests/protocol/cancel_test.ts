/**
 * Cancelling the running command of a session (the interactive console's Ctrl-C): through the
 * fake backend, and end to end through the real shell's `vm wait` on the realtime clock.
 */
import assert from "node:assert/strict";
import { AxvisorBackend } from "../../lib/protocol/axvisor_backend.ts";
import { ConsoleServer } from "../../lib/protocol/server.ts";
import { Shell } from "../../lib/shell/shell.ts";
import { loadBoard } from "../../lib/hw/boards/load.ts";
import { HypervisorDriver } from "../../lib/vmm/driver.ts";
import { Hypervisor } from "../../lib/vmm/hypervisor.ts";
import { MemoryFileSystem } from "../../lib/vmm/memory_filesystem.ts";
import { testFiles } from "../shell/helpers.ts";
import { drain, FakeBackend } from "./fake_backend.ts";

Deno.test("session.cancelCommand aborts the running command; the session goes on", async () => {
  const backend = new FakeBackend();
  const server = new ConsoleServer({ backend, log: () => {} });
  const s = server.openSession({ kind: "tty", peer: "terminal", banner: false });
  drain(s.output);
  assert.equal(s.cancelCommand(), false, "nothing to cancel at the prompt");
  assert.equal(s.commandRunning, false);
  const running = s.receiveLine("block");
  await backend.whenBlocked();
  assert.equal(s.commandRunning, true);
  assert.equal(s.cancelCommand(), true);
  assert.equal(s.commandRunning, false);
  assert.equal(s.cancelCommand(), false, "a second Ctrl-C finds nothing more to cancel");
  assert.equal(await running, false);
  assert.match(drain(s.output), /Error: Cancelled while blocked/);
  assert.equal(s.closed, false);
  assert.equal(await s.receiveLine("echo still here"), true);
  assert.match(drain(s.output), /still here/);
  // A command that was not cancelled is not affected by the earlier abort.
  backend.blocked.length = 0; // forget the cancelled command's resolver
  const next = s.receiveLine("block");
  await backend.whenBlocked();
  backend.blocked.at(-1)!();
  assert.equal(await next, true);
  assert.match(drain(s.output), /released/);
});

Deno.test("Ctrl-C path end to end: vm wait --timeout 3600s on the realtime clock is cancelled", async () => {
  const fs = new MemoryFileSystem(testFiles());
  const hv = new Hypervisor({ board: loadBoard("qemu-virt"), fs, clock: "realtime" });
  const shell = new Shell({ hypervisor: hv, fs });
  // A wall clock that never moves: without the cancel the wait could never end.
  const driver = new HypervisorDriver(hv, { now: () => 0, maxSleepMs: 0 });
  driver.start();
  const backend = new AxvisorBackend({
    hypervisor: hv,
    shell,
    description: "test",
    onActivity: () => driver.poke(),
  });
  const server = new ConsoleServer({ backend, log: () => {} });
  const s = server.openSession({ kind: "tty", peer: "terminal", banner: false });
  try {
    assert.equal(await s.receiveLine("vm create /guest/configs/bye.toml"), true);
    drain(s.output);
    const waiting = s.receiveLine("vm wait bye --state running --timeout 3600s");
    for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 0));
    assert.equal(s.commandRunning, true);
    assert.equal(s.cancelCommand(), true);
    assert.equal(await waiting, false);
    const out = drain(s.output);
    assert.match(out, /✗ Cancelled while waiting for VM\[3\] to reach state Running/);
    assert.equal(await s.receiveLine("vm list"), true);
    assert.match(drain(s.output), /bye/);
  } finally {
    s.close("test over");
    await driver.stop();
    shell.dispose();
  }
});
