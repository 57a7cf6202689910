/**
 * Persistent VM definitions: `vm create` records a VM (config.toml + vm.json in its data
 * folder), a new shell over the same data location creates it again (Loaded) in id order,
 * `vm autostart` marks it, `vm delete` removes the record (`--keep-data` keeps the files), and
 * transient VMs (`--transient`, the start-up folder) are not recorded.
 */
import assert from "node:assert/strict";
import { loadBoard } from "../../lib/hw/boards/load.ts";
import { Shell } from "../../lib/shell/shell.ts";
import { ShellSession } from "../../lib/shell/session.ts";
import { Hypervisor } from "../../lib/vmm/hypervisor.ts";
import type { MemoryFileSystem } from "../../lib/vmm/memory_filesystem.ts";
import { fixture } from "./helpers.ts";

/** A second program start: a new hypervisor and shell over the same filesystem. */
function restart(fs: MemoryFileSystem) {
  const hv = new Hypervisor({ board: loadBoard("qemu-virt"), fs });
  const shell = new Shell({ hypervisor: hv, fs });
  const recreated = shell.recreateRecordedVms();
  const run = (line: string) => shell.execute(line, new ShellSession());
  return { hv, shell, recreated, run };
}

Deno.test("vm create records the VM; the next start creates it again, Loaded, in id order", async () => {
  const f = fixture();
  await f.text("vm create /guest/configs/echo.toml /guest/configs/spin.toml");
  await f.text("vm create --transient /guest/configs/bye.toml");
  const rec = JSON.parse(f.fs.readTextFile("/guest/vms/spin/vm.json"));
  assert.deepEqual(rec, { version: 1, id: 1, name: "spin", autostart: false, source: "create" });
  assert.equal(f.fs.stat("/guest/vms/bye/vm.json"), undefined, "transient: no record");
  await f.text("vm start 1");
  f.hv.runFor(1_000_000);
  assert.match(await f.text("vm autostart echo on"), /^✓ VM\[2\] autostart on/);
  const notRecorded = await f.run("vm autostart bye on");
  assert.equal(notRecorded.error?.code, "NOT_RECORDED");
  assert.match(notRecorded.text, /VM\[3\] is not a recorded VM/);
  const list = await f.text("vm list --autostart");
  assert.match(list, /^VM ID .* AUTOSTART\n/);
  assert.match(list, /\n1 +spin .* off\n/);
  assert.match(list, /\n2 +echo .* on\n/);
  assert.match(list, /\n3 +bye .* -$/);
  f.shell.dispose();

  const r = restart(f.fs);
  assert.equal(r.recreated.outcome.ok, true, r.recreated.outcome.text);
  assert.deepEqual(r.hv.vms().map((vm) => [vm.id, vm.name, vm.status]), [
    [1, "spin", "loaded"],
    [2, "echo", "loaded"],
  ]);
  assert.equal(
    r.recreated.outcome.text,
    "✓ Re-created recorded VM[1] 'spin' from /guest/vms/spin\n" +
      "✓ Re-created recorded VM[2] 'echo' from /guest/vms/echo",
  );
  assert.deepEqual(r.recreated.autostart, [2]);
  // Delete with --keep-data: the record goes, the files stay.
  const kept = await r.run("vm delete --force --keep-data echo");
  assert.equal(kept.ok, true);
  assert.match(kept.text, /Data kept in \/guest\/vms\/echo; its config\.toml creates the VM again/);
  assert.equal(f.fs.stat("/guest/vms/echo/vm.json"), undefined);
  assert.ok(f.fs.stat("/guest/vms/echo/config.toml"));
  // Delete without: the folder goes.
  await r.run("vm snapshot spin s1");
  assert.ok(f.fs.stat("/guest/vms/spin/snapshots/s1.axsnap"));
  assert.equal((await r.run("vm delete --force spin")).ok, true);
  assert.equal(f.fs.stat("/guest/vms/spin"), undefined);
  r.shell.dispose();

  const r2 = restart(f.fs);
  assert.deepEqual(r2.hv.vms(), [], "deleted VMs are not created again");
  r2.shell.dispose();
});

Deno.test("recorded VMs: a clash or a broken record is reported, the others are created", async () => {
  const f = fixture();
  await f.text("vm create /guest/configs/spin.toml /guest/configs/echo.toml");
  f.fs.writeFile("/guest/vms/echo/config.toml", "[base]\nid = 'x'\n");
  f.fs.mkdir("/guest/vms/junk", { recursive: true });
  f.fs.writeFile("/guest/vms/junk/vm.json", "{not json");
  f.shell.dispose();
  const hv = new Hypervisor({ board: loadBoard("qemu-virt"), fs: f.fs });
  hv.createVm({ path: "/guest/configs/smp.toml" }); // id 4, no clash
  const shell = new Shell({ hypervisor: hv, fs: f.fs });
  const r = shell.recreateRecordedVms();
  assert.equal(r.outcome.ok, false);
  assert.deepEqual(hv.vms().map((vm) => vm.id), [1, 4]);
  assert.match(r.outcome.text, /⚠ recorded VM\[2\] 'echo' \(\/guest\/vms\/echo\) not created: /);
  assert.match(r.outcome.text, /⚠ cannot read the record in \/guest\/vms\/junk: /);
  shell.dispose();
});

Deno.test("the start-up folder's VMs are transient; clones and restored VMs are recorded", async () => {
  const f = fixture({
    "/guest/vm_default/spin.toml": "",
  });
  f.fs.writeFile("/guest/vm_default/spin.toml", f.fs.readTextFile("/guest/configs/spin.toml"));
  const boot = await f.shell.bootDefaultVms();
  assert.equal(boot.ok, true, boot.text);
  assert.equal(f.fs.stat("/guest/vms/spin/vm.json"), undefined);
  await f.text("vm start spin");
  f.hv.runFor(1_000_000);
  await f.text("vm clone spin spin2");
  assert.equal(JSON.parse(f.fs.readTextFile("/guest/vms/spin2/vm.json")).source, "clone");
  await f.text("vm snapshot spin base");
  await f.text("vm restore --new /guest/vms/spin/snapshots/base.axsnap --name spin3");
  assert.equal(JSON.parse(f.fs.readTextFile("/guest/vms/spin3/vm.json")).source, "restore");
  f.shell.dispose();
  const r = restart(f.fs);
  assert.deepEqual(r.hv.vms().map((vm) => vm.name), ["spin2", "spin3"]);
  r.shell.dispose();
});
