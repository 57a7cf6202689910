import assert from "node:assert/strict";
import type { VmStatus } from "../../lib/vmm/status.ts";
import { fixture, spinVmIn } from "./helpers.ts";

const NOTE = "  Note: VCpu threads will exit gracefully, VM status will transition to Stopped";
const STATES: VmStatus[] = ["loading", "loaded", "running", "suspended", "stopping", "stopped"];

/** Expected `[ok, text]` of one command in each state of VM 1 (the seed's state matrix). */
type Matrix = Record<VmStatus, [boolean, string[]]>;

async function checkMatrix(command: string, matrix: Matrix) {
  for (const state of STATES) {
    const f = fixture();
    await spinVmIn(f, state);
    const outcome = await f.run(command);
    const [ok, lines] = matrix[state];
    assert.equal(outcome.text, lines.join("\n"), `${command} in ${state}`);
    assert.equal(outcome.ok, ok, `${command} in ${state}: ok`);
    if (!ok) assert.ok(outcome.error?.code, `${command} in ${state}: error code`);
  }
}

Deno.test("vm start in every state", async () => {
  // Seed line 1962: the reason is printed with `{:?}`, so quoted.
  const refuse = (why: string): [boolean, string[]] => [false, [
    `✗ VM[1] failed to start: "${why}"`,
  ]];
  await checkMatrix("vm start 1", {
    loading: refuse("VM is still loading"),
    loaded: [true, ["✓ VM[1] started successfully"]],
    running: refuse("VM is already running"),
    suspended: refuse("VM is suspended, use 'vm resume' instead"),
    stopping: refuse("VM is stopping, wait for it to fully stop"),
    stopped: [true, ["✓ VM[1] started successfully"]],
  });
});

Deno.test("vm start without ids starts every startable VM and skips the others", async () => {
  await checkMatrix("vm start --detach", {
    loading: [true, [
      "⚠ VM[1] is in Loading state, cannot start",
      "Started 0 VM(s)",
      "VMs started in background mode",
    ]],
    loaded: [true, [
      "✓ VM[1] started successfully",
      "Started 1 VM(s)",
      "VMs started in background mode",
    ]],
    running: [true, [
      "⚠ VM[1] is already running, skipping",
      "Started 0 VM(s)",
      "VMs started in background mode",
    ]],
    suspended: [true, [
      "⚠ VM[1] is in Suspended state, cannot start",
      "Started 0 VM(s)",
      "VMs started in background mode",
    ]],
    stopping: [true, [
      "⚠ VM[1] is in Stopping state, cannot start",
      "Started 0 VM(s)",
      "VMs started in background mode",
    ]],
    stopped: [true, [
      "✓ VM[1] started successfully",
      "Started 1 VM(s)",
      "VMs started in background mode",
    ]],
  });
});

Deno.test("vm stop in every state, graceful and forced", async () => {
  const sent = ["✓ VM[1] stop signal sent successfully", NOTE];
  const refuse = (
    why: string,
  ): [boolean, string[]] => [false, [`⚠ VM[1] ${why}`, `✗ Failed to stop VM[1]: "${why}"`]];
  await checkMatrix("vm stop 1", {
    // A VM never started needs --force, as `vm delete` does (issue 14, item 20).
    loading: refuse("VM is Loading and was never started, use '--force' to stop it anyway"),
    loaded: refuse("VM is Loaded and was never started, use '--force' to stop it anyway"),
    running: [true, ["Gracefully stopping VM[1]...", ...sent]],
    suspended: [true, sent],
    stopping: refuse("VM is already stopping"),
    stopped: refuse("VM is already stopped"),
  });
  await checkMatrix("vm stop --force 1", {
    loading: [true, ["⚠ VM[1] is in Loading state, stopping anyway...", ...sent]],
    loaded: [true, ["⚠ VM[1] is in Loaded state, stopping anyway...", ...sent]],
    running: [true, ["Force stopping VM[1]...", ...sent]],
    suspended: [true, sent],
    stopping: [true, ["Force stopping VM[1]...", ...sent]],
    stopped: refuse("VM is already stopped"),
  });
});

Deno.test("vm suspend in every state", async () => {
  const refuse = (
    why: string,
  ): [boolean, string[]] => [false, ["Suspending VM[1]...", `✗ Failed to suspend VM[1]: ${why}`]];
  await checkMatrix("vm suspend 1", {
    loading: refuse("VM is loading, cannot suspend"),
    loaded: refuse("VM is not running, cannot suspend"),
    running: [true, [
      "Suspending VM[1]...",
      "✓ VM[1] suspend signal sent",
      "  Note: 1 VCpu task(s) will enter wait queue at next VMExit",
      "  Waiting for VCpus to suspend...",
      "✓ All VCpu tasks are now suspended",
      "  Use 'vm resume 1' to resume the VM",
    ]],
    suspended: refuse("VM is already suspended"),
    stopping: refuse("VM is stopping, cannot suspend"),
    stopped: refuse("VM is stopped, cannot suspend"),
  });
});

Deno.test("vm resume in every state", async () => {
  const refuse = (
    why: string,
  ): [boolean, string[]] => [false, ["Resuming VM[1]...", `✗ Failed to resume VM[1]: ${why}`]];
  await checkMatrix("vm resume 1", {
    loading: refuse("VM is loading, cannot resume"),
    loaded: refuse("VM is not started yet, use 'vm start' instead"),
    running: refuse("VM is already running"),
    suspended: [true, ["Resuming VM[1]...", "✓ VM[1] resumed successfully"]],
    stopping: refuse("VM is stopping, cannot resume"),
    stopped: refuse("VM is stopped, use 'vm start' instead"),
  });
});

Deno.test("vm restart in every state", async () => {
  const fullCycle = (stopLines: string[]): [boolean, string[]] => [true, [
    "Restarting VM[1]...",
    "Stopping VM[1]...",
    ...stopLines,
    "✓ VM[1] stop signal sent successfully",
    NOTE,
    "Waiting for VM[1] to stop completely...",
    "✓ VM[1] stopped successfully",
    "Starting VM[1]...",
    "✓ VM[1] started successfully",
  ]];
  const quick: [boolean, string[]] = [true, [
    "Restarting VM[1]...",
    "VM[1] is already stopped, starting...",
    "✓ VM[1] started successfully",
  ]];
  await checkMatrix("vm restart 1", {
    loading: [false, ["Restarting VM[1]...", "✗ VM[1] is still loading, cannot restart"]],
    loaded: quick,
    running: fullCycle(["Gracefully stopping VM[1]..."]),
    suspended: fullCycle([]),
    stopping: [false, [
      "Restarting VM[1]...",
      "⚠ VM[1] is currently stopping",
      "  Wait for shutdown to complete, then use 'vm start 1'",
    ]],
    stopped: quick,
  });
  const f = fixture();
  await spinVmIn(f, "stopping");
  assert.equal(
    await f.text("vm restart --force 1"),
    [
      "Restarting VM[1]...",
      "⚠ VM[1] is currently stopping, waiting...",
      "Waiting for VM[1] to stop completely...",
      "✓ VM[1] stopped successfully",
      "Starting VM[1]...",
      "✓ VM[1] started successfully",
    ].join("\n"),
  );
  assert.equal(f.hv.vm(1)?.status, "running");
});

Deno.test("vm delete in every state, with and without --force", async () => {
  const done = (lines: string[]): [boolean, string[]] => [true, [
    ...lines,
    "✓ VM[1] removed from VM list",
    ...(lines.some((l) => l.includes("Loaded") || l.includes("Loading"))
      ? []
      : ["  Waiting for VCpu threads to exit..."]),
    "✓ VM[1] deleted completely",
    "  ✓ VM will be freed immediately",
    "✓ VM[1] deletion completed",
  ]];
  await checkMatrix("vm delete 1", {
    loading: [false, ["⚠ VM[1] is in Loading state", "Use --force to force delete"]],
    loaded: [false, ["⚠ VM[1] is in Loaded state", "Use --force to force delete"]],
    running: [false, ["✗ VM[1] is currently running", "  Use 'vm stop 1' first, or use '--force'"]],
    suspended: [false, ["⚠ VM[1] is in Suspended state", "Use --force to force delete"]],
    stopping: [false, ["⚠ VM[1] is currently stopping", "  Wait for it to stop, or use '--force'"]],
    stopped: done(["Deleting stopped VM[1]..."]),
  });
  await checkMatrix("vm delete --force 1", {
    loading: done(["⚠ VM[1] is in Loading state"]),
    loaded: done(["⚠ VM[1] is in Loaded state"]),
    running: done([
      "⚠ Force deleting running VM[1]...",
      "  VM[1] is Running, sending shutdown signal...",
    ]),
    suspended: done([
      "⚠ VM[1] is in Suspended state",
      "  VM[1] is Suspended, sending shutdown signal...",
    ]),
    stopping: done([
      "⚠ Force deleting stopping VM[1]...",
      "  VM[1] is Stopping, sending shutdown signal...",
    ]),
    stopped: done(["Deleting stopped VM[1]..."]),
  });
});

Deno.test("vm create: batch, errors isolated, summary", async () => {
  const f = fixture({
    "/guest/configs/broken.toml": "[base]\nid = 9\ncpu_num = 0\n[kernel]\nentry_point = 1\n",
  });
  const out = await f.run(
    "vm create /guest/configs/spin.toml /guest/configs/broken.toml missing.toml /guest/configs/echo.toml",
  );
  assert.equal(out.ok, false);
  const lines = out.text.split("\n");
  assert.deepEqual(lines.slice(0, 4), [
    "Creating VM from config: /guest/configs/spin.toml",
    "✓ Successfully created VM[1] from config: /guest/configs/spin.toml",
    "Creating VM from config: /guest/configs/broken.toml",
    lines[3],
  ]);
  assert.match(
    lines[3],
    /^✗ Failed to create VM from \/guest\/configs\/broken\.toml: Configuration error: \/guest\/configs\/broken\.toml:3: base\.cpu_num: /,
  );
  const failed = (out.data as { results: { path: string; error?: { message: string } }[] })
    .results.find((r) => r.path === "/guest/configs/broken.toml");
  assert.match(
    failed!.error!.message,
    /^\/guest\/configs\/broken\.toml:3: base\.cpu_num: /,
    "data keeps the full message",
  );
  assert.deepEqual(lines.slice(4), [
    "Creating VM from config: missing.toml",
    "✗ Failed to read config file missing.toml: No such file or directory",
    "Creating VM from config: /guest/configs/echo.toml",
    "✓ Successfully created VM[2] from config: /guest/configs/echo.toml",
    "Successfully created 2 VM(s)",
    "Use 'vm start <VM_ID>' to start the created VMs.",
  ]);
  assert.deepEqual(
    (out.data as { created: { vmId: number; name: string }[] }).created.map((
      c,
    ) => [c.vmId, c.name]),
    [[1, "spin"], [2, "echo"]],
  );
  const dup = await f.run("vm create /guest/configs/spin.toml");
  assert.equal(dup.ok, false);
  assert.match(
    dup.text,
    /✗ Failed to create VM from \/guest\/configs\/spin\.toml: .*VM with id 1 already exists\nNo VMs were created\.$/,
  );
  const none = await f.run("vm create");
  assert.equal(none.error?.code, "MISSING_ARGUMENT");
  assert.match(
    none.text,
    /^Error: No VM configuration file specified\nUsage: vm create \[CONFIG_FILE\]$/,
  );
  // Relative paths follow the working directory.
  await f.run("cd /guest/configs");
  assert.match(
    await f.text("vm create bye.toml"),
    /✓ Successfully created VM\[3\] from config: bye\.toml/,
  );
});

Deno.test("VM names are accepted wherever an id is; unknown VMs are reported", async () => {
  const f = fixture();
  await f.text("vm create /guest/configs/spin.toml /guest/configs/echo.toml");
  assert.equal(
    await f.text("vm start spin echo"),
    "✓ VM[1] started successfully\n✓ VM[2] started successfully",
  );
  assert.match(await f.text("vm show echo"), /^VM Details: 2\n/);
  const missing = await f.run("vm stop nosuch 7 spin");
  assert.equal(missing.ok, false);
  assert.equal(missing.error?.code, "INVALID_ID");
  assert.equal(
    missing.text,
    [
      "Error: Invalid VM ID: nosuch",
      "✗ VM[7] not found",
      "Gracefully stopping VM[1]...",
      "✓ VM[1] stop signal sent successfully",
      NOTE,
    ].join("\n"),
  );
  assert.equal((await f.run("vm suspend 9")).text, "Suspending VM[9]...\n✗ VM[9] not found");
  assert.equal((await f.run("vm resume x")).text, "Error: Invalid VM ID: x");
  assert.equal((await f.run("vm restart 9")).text, "Restarting VM[9]...\n✗ VM[9] not found");
  assert.equal((await f.run("vm delete 9")).text, "✗ VM[9] not found");
  for (const cmd of ["vm stop", "vm suspend", "vm resume", "vm restart", "vm delete", "vm show"]) {
    const r = await f.run(cmd);
    assert.equal(r.error?.code, "MISSING_ARGUMENT", cmd);
    assert.ok(r.text.startsWith("Error: No VM specified\nUsage: "), cmd);
  }
});

Deno.test("vm delete removes the data folder unless --keep-data", async () => {
  const f = fixture();
  await f.text("vm create /guest/configs/spin.toml /guest/configs/echo.toml");
  assert.equal(
    f.fs.readTextFile("/guest/vms/spin/config.toml"),
    f.fs.readTextFile("/guest/configs/spin.toml"),
  );
  await f.text("vm start 1 2");
  f.hv.runFor(1_000_000);
  f.shell.flushLogs();
  assert.equal(unmarked(f.fs.readTextFile("/guest/vms/spin/vm.log")), "boot\n");
  await f.text("vm stop -f 1 2");
  await f.text("vm delete 1");
  assert.equal(f.fs.stat("/guest/vms/spin"), undefined);
  assert.match(
    await f.text("vm delete --keep-data 2"),
    /✓ VM\[2\] deleted \(configuration and data preserved\)/,
  );
  assert.deepEqual(f.fs.readDir("/guest/vms/echo").map((e) => e.name), ["config.toml", "vm.log"]);
  assert.equal(
    unmarked(f.fs.readTextFile("/guest/vms/echo/vm.log")),
    "> ",
    "a partial line is flushed too",
  );
  // The kept config re-creates the VM.
  assert.match(await f.text("vm create /guest/vms/echo/config.toml"), /created VM\[2\]/);
});

Deno.test("vm.log follows console output, partial lines included, across restarts", async () => {
  const f = fixture();
  await f.text("vm create /guest/configs/echo.toml");
  await f.text("vm start 2");
  f.hv.runFor(100_000);
  // The prompt has no newline: it is written when the next command runs.
  const first = await f.text("cat /guest/vms/echo/vm.log");
  assert.match(
    first,
    /^\[axvisor\] ----- VM 2 \(echo\) boots at \S+ \(virtual time \d+ ns\) -----\n/,
  );
  assert.equal(unmarked(first), "> ");
  await f.text("vm send 2 abc");
  f.hv.runFor(100_000);
  assert.equal(unmarked(await f.text("cat /guest/vms/echo/vm.log")), "> abc");
  await f.text("vm restart 2");
  f.hv.runFor(100_000);
  assert.equal(
    unmarked(f.fs.readTextFile("/guest/vms/echo/vm.log")),
    "> abc\n",
    "the new boot's output is batched",
  );
  f.shell.flushLogs();
  const log = f.fs.readTextFile("/guest/vms/echo/vm.log");
  assert.equal(log.match(/boots at/g)?.length, 2, "one marker per boot");
  assert.equal(unmarked(log), "> abc\n> ");
  assert.deepEqual(f.shell.data.problems, []);
});

Deno.test("a root that cannot be written: VMs still work, data-folder problems are reported", async () => {
  const { MemoryFileSystem } = await import("../../lib/vmm/memory_filesystem.ts");
  const { Hypervisor } = await import("../../lib/vmm/hypervisor.ts");
  const { loadBoard } = await import("../../lib/hw/boards/load.ts");
  const { Shell } = await import("../../lib/shell/shell.ts");
  const { ShellSession } = await import("../../lib/shell/session.ts");
  const { testFiles } = await import("./helpers.ts");
  const fs = new MemoryFileSystem(testFiles(), { readOnly: true });
  const hv = new Hypervisor({ board: loadBoard("qemu-virt"), fs });
  const shell = new Shell({ hypervisor: hv, fs });
  const session = new ShellSession();
  assert.ok((await shell.execute("vm create /guest/configs/spin.toml", session)).ok);
  assert.ok((await shell.execute("vm start 1", session)).ok);
  hv.runFor(1_000_000);
  assert.equal((await shell.execute("vm log 1", session)).text, "boot");
  assert.deepEqual(shell.data.problems, [
    "cannot create /guest/vms/spin: Read-only file system",
  ]);
  const redirect = await shell.execute("vm list > /list.txt", session);
  assert.equal(redirect.text, "Error: cannot write /list.txt: Read-only file system");
  shell.dispose();
});

Deno.test("a VM name that is not a plain file name keeps its data inside /guest/vms", async () => {
  const { safeFolderName } = await import("../../lib/shell/vm_data.ts");
  assert.equal(safeFolderName("linux"), "linux");
  assert.equal(safeFolderName("../../etc"), ".._.._etc");
  assert.equal(safeFolderName(".."), "_..");
  assert.equal(safeFolderName(""), "_");
  assert.equal(safeFolderName("a\\b\nc"), "a_b_c");
  const { vmConfig } = await import("./helpers.ts");
  const f = fixture({
    "/guest/configs/evil.toml": vmConfig(6, "../../evil", "spin"),
    "/evil/keep.txt": "mine",
  });
  // The VMM refuses such a name outright; nothing is written anywhere.
  assert.match(
    await f.text("vm create /guest/configs/evil.toml", false),
    /Configuration error: \/guest\/configs\/evil\.toml:3: base\.name: .*contains "\/"/,
  );
  assert.equal(f.fs.stat("/guest/vms/.._.._evil"), undefined);
  assert.deepEqual(f.fs.readDir("/evil").map((e) => e.name), ["keep.txt"]);
  assert.equal(f.fs.readTextFile("/evil/keep.txt"), "mine");
});

/** A console log without its boot marker lines. */
function unmarked(text: string): string {
  return text.replace(/^\[axvisor\] -{5} VM .* -{5}\n/gm, "");
}
