/**
 * `vm snapshot`, `vm snapshot list/delete`, `vm restore` (same VM and `--new`) and `vm clone`
 * through the shell, on the echo guest (warp clock); bad snapshot files (truncated, corrupted,
 * foreign, too new, from another board) get clear errors and change nothing.
 */
import assert from "node:assert/strict";
import { loadBoard } from "../../lib/hw/boards/load.ts";
import { Hypervisor } from "../../lib/vmm/hypervisor.ts";
import { MemoryFileSystem } from "../../lib/vmm/memory_filesystem.ts";
import { crc32, SNAPSHOT_FORMAT_VERSION } from "../../lib/vmm/snapshot_file.ts";
import { fixture, testFiles } from "./helpers.ts";

const SNAP = "/guest/vms/echo/snapshots";

async function echoRunning() {
  const f = fixture();
  await f.text("vm create /guest/configs/echo.toml");
  await f.text("vm start 2");
  f.hv.runFor(1_000_000);
  return f;
}

Deno.test("vm snapshot: saves into the VM's folder, lists, restores and deletes", async () => {
  const f = await echoRunning();
  const vm = f.hv.vm(2)!;
  vm.console.writeInput("ab");
  f.hv.runFor(1_000_000);
  assert.equal(vm.console.text(), "> ab");
  const saved = await f.text("vm snapshot echo first");
  assert.match(
    saved,
    /^✓ VM\[2\] snapshot 'first' saved to \/guest\/vms\/echo\/snapshots\/first\.axsnap \(/,
  );
  assert.equal(vm.status, "running", "the VM runs on");
  assert.ok(f.fs.stat(`${SNAP}/first.axsnap`));
  // A second one gets the default name.
  assert.match(await f.text("vm snapshot 2"), /snapshot 'snap1' saved/);
  const list = await f.text("vm snapshot list echo");
  assert.match(list, /^NAME +SIZE +SAVED AT \(virtual\)\nfirst +[\d.]+ (KiB|B) +0\.00\d s\nsnap1 /);
  // The guest goes on; restoring brings back the console and the guest's own state.
  vm.console.writeInput("cd");
  f.hv.runFor(1_000_000);
  assert.equal(vm.console.text(), "> abcd");
  assert.match(
    await f.text("vm restore 2 first"),
    /^✓ VM\[2\] restored from snapshot 'first' \(Running -> Running\)$/,
  );
  assert.equal(vm.console.text(), "> ab");
  vm.console.writeInput("x");
  f.hv.runFor(1_000_000);
  assert.equal(vm.console.text(), "> abx");
  // Into a stopped VM.
  await f.text("vm stop --force 2");
  assert.match(await f.text("vm restore echo first"), /\(Stopped -> Running\)/);
  assert.equal(vm.status, "running");
  assert.match(
    await f.text("vm snapshot delete echo snap1"),
    /^✓ VM\[2\] snapshot 'snap1' deleted$/,
  );
  assert.equal(f.fs.stat(`${SNAP}/snap1.axsnap`), undefined);
  const missing = await f.run("vm snapshot delete echo snap1");
  assert.equal(missing.ok, false);
  assert.equal(missing.error?.code, "NOT_FOUND");
  const bad = await f.run("vm snapshot echo ../evil");
  assert.equal(bad.ok, true, "a name with '/' is a path");
  const badName = await f.run("vm snapshot echo .hidden");
  assert.equal(badName.ok, false);
  assert.equal(badName.error?.code, "INVALID_ARGUMENT");
});

Deno.test("vm snapshot --stop stops the VM; JSON data carries the numbers", async () => {
  const f = await echoRunning();
  const out = await f.run("vm snapshot echo s --stop");
  assert.equal(out.ok, true);
  assert.ok(out.text.endsWith("\n  VM[2] is Stopped"), out.text);
  const data = out.data as Record<string, unknown>;
  assert.equal(data.status, "stopped");
  assert.equal(data.statusAtSnapshot, "running");
  assert.equal(typeof data.bytes, "number");
});

Deno.test("vm restore --new and vm clone make new VMs that run on their own", async () => {
  const f = await echoRunning();
  const vm = f.hv.vm(2)!;
  vm.console.writeInput("q");
  f.hv.runFor(1_000_000);
  await f.text("vm snapshot echo base");
  const made = await f.text(`vm restore --new ${SNAP}/base.axsnap --id 7 --name echo7`);
  assert.equal(made, `✓ VM[7] 'echo7' created from ${SNAP}/base.axsnap (Running)`);
  const copy = f.hv.vm(7)!;
  assert.equal(copy.console.text(), "> q");
  const dup = await f.run(`vm restore --new ${SNAP}/base.axsnap --id 7 --name other`);
  assert.equal(dup.ok, false);
  assert.equal(dup.error?.code, "EXISTS");
  const cloned = await f.text("vm clone echo echo-twin");
  assert.match(
    cloned,
    /^✓ VM\[2\] cloned to VM\[8\] 'echo-twin' \(Running, \d+ pages shared copy-on-write, [\d.]+ ms\)$/,
  );
  const twin = f.hv.vm("echo-twin")!;
  twin.console.writeInput("T");
  vm.console.writeInput("S");
  copy.console.writeInput("C");
  f.hv.runFor(2_000_000);
  assert.equal(vm.console.text(), "> qS");
  assert.equal(twin.console.text(), "> qT");
  assert.equal(copy.console.text(), "> qC");
  const again = await f.run("vm clone echo echo-twin");
  assert.equal(again.error?.code, "EXISTS");
  const gone = await f.run("vm clone 99 x");
  assert.equal(gone.error?.code, "NOT_FOUND");
  // The clone's config names it.
  assert.match(twin.config.text ?? "", /name = "echo-twin"/);
  assert.equal(twin.config.base.id, 8);
});

/** Rewrites the header JSON of a snapshot and fixes its checksum. */
function withHeader(file: Uint8Array, edit: (h: Record<string, unknown>) => void): Uint8Array {
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const len = dv.getUint32(12, true);
  const header = JSON.parse(new TextDecoder().decode(file.subarray(16, 16 + len)));
  edit(header);
  const meta = new TextEncoder().encode(JSON.stringify(header));
  const rest = file.subarray(16 + len + 4);
  const out = new Uint8Array(16 + meta.length + 4 + rest.length);
  out.set(file.subarray(0, 16));
  const ov = new DataView(out.buffer);
  ov.setUint32(12, meta.length, true);
  out.set(meta, 16);
  ov.setUint32(16 + meta.length, crc32(out.subarray(0, 16 + meta.length)), true);
  out.set(rest, 16 + meta.length + 4);
  return out;
}

Deno.test("vm restore: bad files get clear errors and change nothing", async () => {
  const f = await echoRunning();
  const vm = f.hv.vm(2)!;
  vm.console.writeInput("z");
  f.hv.runFor(1_000_000);
  await f.text("vm snapshot echo good");
  const good = f.fs.readFile(`${SNAP}/good.axsnap`);
  vm.console.writeInput("y");
  f.hv.runFor(1_000_000);
  const before = { text: vm.console.text(), pc: vm.vcpus[0].hart.pc, status: vm.status };
  const tooNew = good.slice();
  new DataView(tooNew.buffer).setUint32(8, SNAPSHOT_FORMAT_VERSION + 1, true);
  const corrupted = good.slice();
  corrupted[corrupted.length - 5] ^= 0xff; // in the last gzip trailer's CRC-32
  const damaged = good.slice();
  damaged[damaged.length - 40] ^= 0x55; // in the last section's compressed data
  const cases: [string, Uint8Array, string, RegExp][] = [
    [
      "truncated",
      good.subarray(0, good.length - 10),
      "TRUNCATED",
      /is truncated: \d+ bytes, the header announces \d+/,
    ],
    [
      "short",
      good.subarray(0, 9),
      "TRUNCATED",
      /is truncated: 9 bytes, shorter than the 16-byte header/,
    ],
    ["corrupted", corrupted, "CORRUPTED", /section \d+ \(pages of region 0\) checksum mismatch/],
    [
      "damaged",
      damaged,
      "CORRUPTED",
      /section \d+ \(pages\) is damaged: checksum mismatch or bad compressed data/,
    ],
    [
      "foreign",
      new TextEncoder().encode("[base]\nid = 1\n" + "x".repeat(40)),
      "FOREIGN",
      /is not an axvisor\.ts snapshot \(bad magic\)/,
    ],
    [
      "too-new",
      tooNew,
      "TOO_NEW",
      /has format version 2; this axvisor\.ts 0\.1\.0 reads versions up to 1/,
    ],
    [
      "board",
      withHeader(good, (h) => (h.board = "compact-2")),
      "INCOMPATIBLE",
      /was taken on board compact-2; this hypervisor runs board qemu-virt/,
    ],
    [
      "isa",
      withHeader(good, (h) => (h.isa = "rv64gcv")),
      "INCOMPATIBLE",
      /needs harts with ISA rv64gcv/,
    ],
  ];
  for (const [name, bytes, code, message] of cases) {
    f.fs.writeFile(`${SNAP}/${name}.axsnap`, bytes);
    const out = await f.run(`vm restore echo ${name}`);
    assert.equal(out.ok, false, name);
    assert.equal(out.error?.code, code, `${name}: ${out.text}`);
    assert.match(out.text, message, name);
    assert.match(out.text, /^✗ cannot restore VM\[2\]: \/guest\/vms\/echo\/snapshots\//, name);
    assert.deepEqual(
      { text: vm.console.text(), pc: vm.vcpus[0].hart.pc, status: vm.status },
      before,
      `${name} changed nothing`,
    );
    const created = await f.run(`vm restore --new ${SNAP}/${name}.axsnap --name n-${name}`);
    assert.equal(created.ok, false, `${name} --new`);
    assert.equal(f.hv.vm(`n-${name}`), undefined, `${name} --new made no VM`);
  }
  // A VM of another shape (two vCPUs) refuses the echo VM's snapshot.
  await f.text("vm create /guest/configs/smp.toml");
  const shape = await f.run(`vm restore smp ${SNAP}/good.axsnap`);
  assert.equal(shape.error?.code, "INCOMPATIBLE");
  assert.match(shape.text, /the snapshot has 1 vCPU\(s\), VM\[4\] has 2/);
  assert.equal(f.hv.vm(4)!.status, "loaded");
  const nothing = await f.run("vm restore echo nosuch");
  assert.equal(nothing.error?.code, "NOT_FOUND");
});

Deno.test("vm restore --new: a snapshot restores in another hypervisor without the images", async () => {
  const f = await echoRunning();
  const vm = f.hv.vm(2)!;
  vm.console.writeInput("k");
  f.hv.runFor(1_000_000);
  const snap = await f.hv.snapshot(vm);
  const files: Record<string, string> = { ...testFiles() };
  delete files["/guest/images/echo.S"];
  const hv = new Hypervisor({ board: loadBoard("qemu-virt"), fs: new MemoryFileSystem(files) });
  hv.runFor(5_000_000_000); // a later clock: the guest's own time continues from the snapshot
  const r = await hv.restoreNew(snap.bytes);
  const copy = hv.vm(r.vmId)!;
  assert.equal(copy.id, 2);
  assert.equal(copy.name, "echo");
  copy.console.writeInput("!");
  hv.runFor(1_000_000);
  assert.equal(copy.console.text(), "> k!");
});
