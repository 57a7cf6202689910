/**
 * Console logs in the VM data folders: capped and rotated, one marker per boot, batched writes,
 * the SBI debug console and the UART in the same file, and `consoleLog: false` keeping none.
 */
import assert from "node:assert/strict";
import { loadBoard } from "../../lib/hw/boards/load.ts";
import { Hypervisor } from "../../lib/vmm/hypervisor.ts";
import { MemoryFileSystem } from "../../lib/vmm/memory_filesystem.ts";
import { ShellSession } from "../../lib/shell/session.ts";
import { Shell } from "../../lib/shell/shell.ts";
import { type ConsoleLogOptions, LOG_FLUSH_BYTES } from "../../lib/shell/vm_data.ts";
import { floodConfig, floodGuest } from "./flood_guest.ts";

function setup(consoleLog: ConsoleLogOptions | false) {
  const fs = new MemoryFileSystem({
    "/guest/images/flood.S": floodGuest(true),
    "/guest/images/nonl.S": floodGuest(false),
    "/guest/configs/flood.toml": floodConfig(1, "flood", "/guest/images/flood.S"),
    "/guest/configs/nonl.toml": floodConfig(2, "nonl", "/guest/images/nonl.S"),
  });
  const hv = new Hypervisor({ board: loadBoard("qemu-virt"), fs });
  const shell = new Shell({ hypervisor: hv, fs, consoleLog });
  const session = new ShellSession();
  return { fs, hv, shell, run: (line: string) => shell.execute(line, session) };
}

Deno.test("console log: a flooding guest stays within size x files, rotated, batched", async () => {
  const cap = { maxBytes: 4096, files: 3 };
  const { fs, hv, shell, run } = setup(cap);
  assert.equal(
    (await run("vm create /guest/configs/flood.toml /guest/configs/nonl.toml")).ok,
    true,
  );
  assert.equal((await run("vm start 1 2")).ok, true);
  let maxPending = 0;
  for (let i = 0; i < 3; i++) {
    hv.runFor(1_000_000);
    maxPending = Math.max(maxPending, shell.data.pendingLogBytes);
  }
  const written = hv.vm(1)!.console.totalWritten;
  assert.ok(written > 2 * cap.maxBytes * cap.files, `the guest wrote only ${written} bytes`);
  // Batched: never more than one batch (plus one event's bytes) per VM waits in memory.
  assert.ok(maxPending <= 2 * (LOG_FLUSH_BYTES + 4096), `${maxPending} bytes were pending`);
  shell.flushLogs();
  for (const name of ["flood", "nonl"]) {
    const dir = `/guest/vms/${name}`;
    const files = fs.readDir(dir).map((e) => e.name).sort();
    // vm.json is the VM's record (lib/shell/vm_records.ts), kept next to its logs.
    assert.deepEqual(files, ["config.toml", "vm.json", "vm.log", "vm.log.1", "vm.log.2"], name);
    for (const f of ["vm.log", "vm.log.1", "vm.log.2"]) {
      const size = fs.stat(`${dir}/${f}`)!.size;
      assert.ok(size > 0 && size <= cap.maxBytes, `${dir}/${f} has ${size} bytes`);
    }
  }
  // Both consoles reach the same log: whole 32-byte pieces, in order (a file is cut at the
  // cap, so its first and last lines may be pieces).
  const lines = fs.readTextFile("/guest/vms/flood/vm.log").split("\n");
  assert.ok(lines.length > 10);
  assert.ok(lines.slice(1, -1).every((l) => l === "flood-dbcn-and-uart-0123456789a"));
  // The in-memory ring stays bounded too.
  assert.ok(hv.vm(1)!.console.output().length <= hv.vm(1)!.console.capacity);
  // Stop, start: a boot marker starts the new output (on a line of its own).
  assert.equal((await run("vm stop -f 2")).ok, true);
  assert.equal((await run("vm start 2")).ok, true);
  hv.runFor(10_000);
  shell.flushLogs();
  const nonl = fs.readTextFile("/guest/vms/nonl/vm.log");
  assert.match(nonl, /\n\[axvisor\] ----- VM 2 \(nonl\) boots at [^\n]* -----\nflood-no-newline/);
  assert.deepEqual(shell.data.problems, []);
  // vm delete removes the rotated logs with the folder.
  assert.equal((await run("vm stop -f 1")).ok, true);
  assert.equal((await run("vm delete 1")).ok, true);
  assert.equal(fs.stat("/guest/vms/flood"), undefined);
});

Deno.test("console log: one file only is truncated at the cap; `false` keeps no log", async () => {
  const one = setup({ maxBytes: 4096, files: 1 });
  await one.run("vm create /guest/configs/flood.toml");
  await one.run("vm start 1");
  one.hv.runFor(1_000_000);
  one.shell.flushLogs();
  assert.deepEqual(one.fs.readDir("/guest/vms/flood").map((e) => e.name).sort(), [
    "config.toml",
    "vm.json",
    "vm.log",
  ]);
  assert.ok(one.fs.stat("/guest/vms/flood/vm.log")!.size <= 4096);

  const none = setup(false);
  await none.run("vm create /guest/configs/flood.toml");
  await none.run("vm start 1");
  none.hv.runFor(100_000);
  none.shell.flushLogs();
  assert.deepEqual(none.fs.readDir("/guest/vms/flood").map((e) => e.name).sort(), [
    "config.toml",
    "vm.json",
  ]);
  assert.equal(none.shell.data.consoleLog, false);
});

Deno.test("console log: bad caps are refused", () => {
  assert.throws(() => setup({ maxBytes: 10 }), /at least 1 KiB/);
  assert.throws(() => setup({ files: 11 }), /1 to 10/);
});
