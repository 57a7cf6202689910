/**
 * Cancelling commands through `Shell.execute(line, session, { signal })`: `vm wait` and
 * `vm restart` stop waiting with code CANCELLED; an already-aborted signal runs nothing.
 */
import assert from "node:assert/strict";
import { HypervisorDriver } from "../../lib/vmm/driver.ts";
import { Hypervisor } from "../../lib/vmm/hypervisor.ts";
import { loadBoard } from "../../lib/hw/boards/load.ts";
import { MemoryFileSystem } from "../../lib/vmm/memory_filesystem.ts";
import { cancellableWait, CANCELLED } from "../../lib/shell/cancel.ts";
import { Shell } from "../../lib/shell/shell.ts";
import { ShellSession } from "../../lib/shell/session.ts";
import { testFiles } from "./helpers.ts";

/** A realtime hypervisor whose driver sees a wall clock the test moves (never sleeps). */
function realtime() {
  const fs = new MemoryFileSystem(testFiles());
  const hv = new Hypervisor({ board: loadBoard("qemu-virt"), fs, clock: "realtime" });
  const shell = new Shell({ hypervisor: hv, fs });
  const session = new ShellSession();
  const driver = new HypervisorDriver(hv, { now: () => 0, maxSleepMs: 0 });
  return { hv, shell, session, driver };
}

/** A zero-delay turn of the event loop (not a sleep). */
const turn = () => new Promise((r) => setTimeout(r, 0));

Deno.test("vm wait: aborting the signal cancels a one-hour realtime wait", async () => {
  const { hv, shell, session, driver } = realtime();
  driver.start();
  try {
    assert.equal((await shell.execute("vm create /guest/configs/bye.toml", session)).ok, true);
    const controller = new AbortController();
    const waiting = shell.execute("vm wait bye --state running --timeout 3600s", session, {
      signal: controller.signal,
    });
    await turn();
    await turn();
    controller.abort();
    const out = await waiting;
    assert.equal(out.ok, false);
    assert.equal(out.error?.code, CANCELLED);
    assert.match(out.error!.message, /^Cancelled while waiting for VM\[3\] to reach state Running/);
    assert.match(out.text, /^✗ Cancelled while waiting for VM\[3\]/);
    assert.equal((out.data as { vmId: number }).vmId, 3);
    assert.equal(hv.vm(3)!.status, "loaded");
    // The session works on: the next command runs (and its wait is not cancelled).
    const list = await shell.execute("vm list", session);
    assert.equal(list.ok, true, list.text);
  } finally {
    await driver.stop();
  }
});

Deno.test("an already-aborted signal runs nothing and reports CANCELLED", async () => {
  const { hv, shell, session } = realtime();
  const controller = new AbortController();
  controller.abort();
  const out = await shell.execute("vm create /guest/configs/bye.toml", session, {
    signal: controller.signal,
  });
  assert.equal(out.error?.code, CANCELLED);
  assert.match(out.text, /Cancelled while starting 'vm create'/);
  assert.equal(hv.vms().length, 0);
  // Without a signal, the same command runs.
  assert.equal((await shell.execute("vm create /guest/configs/bye.toml", session)).ok, true);
  assert.equal(hv.vms().length, 1);
});

Deno.test("vm wait: a signal never aborted leaves the timeout in charge", async () => {
  const { shell, session, driver } = realtime();
  driver.start();
  try {
    assert.equal((await shell.execute("vm create /guest/configs/bye.toml", session)).ok, true);
    const out = await shell.execute("vm wait bye --state running --timeout 0ms", session, {
      signal: new AbortController().signal,
    });
    assert.equal(out.error?.code, "TIMEOUT", out.text);
  } finally {
    await driver.stop();
  }
});

Deno.test("cancellableWait: reached, timeout and cancelled (warp clock)", async () => {
  const fs = new MemoryFileSystem(testFiles());
  const hv = new Hypervisor({ board: loadBoard("qemu-virt"), fs });
  assert.equal(await cancellableWait(hv, () => true, 1000), "reached");
  assert.equal(await cancellableWait(hv, () => false, 1000), "timeout");
  const controller = new AbortController();
  assert.equal(await cancellableWait(hv, () => false, 1000, controller.signal), "timeout");
  controller.abort();
  assert.equal(await cancellableWait(hv, () => true, 1000, controller.signal), "cancelled");
});
