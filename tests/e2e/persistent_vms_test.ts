/**
 * bin/axvisor.ts keeps VMs made with `vm create` across program starts, in a per-user data
 * folder (never in the repository's examples) unless --fs-root or --data-dir is given; and
 * `--autostart` starts the recorded VMs marked with `vm autostart <VM> on`.
 */
import { LINEAR_REGEXP_FLAG } from "../../lib/shell/user_regexp.ts";
import assert from "node:assert/strict";
import { makeFsRoot, runAxvisor } from "./harness.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = `${ROOT}bin/axvisor.ts`;

/** Runs axvisor without --fs-root (the repository's examples/ are its root), in batch mode. */
async function runPlain(args: string[], env: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", LINEAR_REGEXP_FLAG, "--allow-all", BIN, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env,
    cwd: ROOT,
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("e2e: recorded VMs live in $XDG_DATA_HOME/axvisor-ts and come back at the next start", async () => {
  const xdg = Deno.makeTempDirSync({ prefix: "axvisor-xdg-" });
  const inRepo = `${ROOT}examples/guest/vms/timer/vm.json`;
  try {
    const first = await runPlain(
      ["-c", "vm create /configs/timer.toml; vm autostart timer on; vm snapshot timer s1"],
      { XDG_DATA_HOME: xdg },
    );
    assert.equal(first.code, 0, first.stdout + first.stderr);
    const rec = JSON.parse(Deno.readTextFileSync(`${xdg}/axvisor-ts/vms/timer/vm.json`));
    assert.equal(rec.autostart, true);
    assert.ok(Deno.statSync(`${xdg}/axvisor-ts/vms/timer/snapshots/s1.axsnap`).isFile);
    assert.throws(() => Deno.statSync(inRepo), "nothing is written into the repository");
    const second = await runPlain(["--autostart", "-c", "vm list --autostart"], {
      XDG_DATA_HOME: xdg,
    });
    assert.equal(second.code, 0, second.stdout + second.stderr);
    assert.match(second.stdout, /\n9 +timer +Running .* on\n/);
    assert.match(
      second.stdout,
      /\n1 +hello +Running .* -\n/,
      "vm_default VMs: autostarted, not recorded",
    );
  } finally {
    Deno.removeSync(xdg, { recursive: true });
  }
});

Deno.test("e2e: with --fs-root the data is in <root>/guest/vms; --data-dir overrides it", async () => {
  const root = makeFsRoot();
  const data = Deno.makeTempDirSync({ prefix: "axvisor-data-" });
  try {
    const a = await runAxvisor(["-c", "vm create /configs/timer.toml"], { fsRoot: root });
    assert.equal(a.code, 0, a.stderr);
    assert.ok(Deno.statSync(`${root}/guest/vms/timer/vm.json`).isFile);
    const b = await runAxvisor(["-c", "vm list"], { fsRoot: root });
    assert.match(b.stdout, /\n9 +timer +Loaded /);
    const c = await runAxvisor(
      ["--data-dir", `${data}/vms`, "-c", "vm create /configs/sbi.toml; vm delete --force timer"],
      { fsRoot: root },
    );
    assert.equal(c.code, 1, "timer is not recorded in this data folder, so not created");
    assert.ok(Deno.statSync(`${data}/vms/sbi/vm.json`).isFile);
  } finally {
    Deno.removeSync(root, { recursive: true });
    Deno.removeSync(data, { recursive: true });
  }
});

Deno.test("e2e: JSON mode snapshots, lists, clones and restores", async () => {
  const lines = [
    { id: 1, cmd: "vm start echo" },
    { id: 3, cmd: "vm snapshot echo s1" },
    { id: 4, cmd: "vm snapshot list echo" },
    { id: 5, cmd: "vm clone echo echo2 --id 30" },
    { id: 6, cmd: "vm restore echo s1" },
    { id: 7, cmd: "vm restore echo nosuch" },
  ].map((l) => JSON.stringify(l)).join("\n") + "\n";
  const r = await runAxvisor(["--clock", "warp"], { stdin: lines });
  const replies = r.stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l))
    .filter((m) => typeof m.id === "number");
  const byId = new Map(replies.map((m) => [m.id, m]));
  assert.equal(byId.get(3)?.ok, true, r.stdout);
  assert.equal(byId.get(3)?.data.name, "s1");
  assert.equal(byId.get(3)?.data.statusAtSnapshot, "running");
  assert.deepEqual(byId.get(4)?.data.snapshots.map((s: { name: string }) => s.name), ["s1"]);
  assert.equal(byId.get(5)?.data.vmId, 30);
  assert.equal(byId.get(6)?.data.status, "running");
  assert.equal(byId.get(7)?.ok, false);
  assert.equal(byId.get(7)?.error.code, "NOT_FOUND");
});
