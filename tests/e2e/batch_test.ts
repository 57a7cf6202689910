import assert from "node:assert/strict";
import { makeFsRoot, runAxvisor } from "./harness.ts";

Deno.test("batch: commands run in order, output printed, exit 0 when all succeed", async () => {
  const script = "vm list; vm start 1; vm wait 1 --state stopped --timeout 5s; vm log 1";
  const first = await runAxvisor(["-c", script]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /1\s+hello\s+Loaded/);
  assert.match(first.stdout, /VM\[1\] started/);
  assert.match(first.stdout, /\[VM 1\] Hello from axvisor\.ts!/);
  assert.match(first.stdout, /reached state Stopped/);
  // Deterministic: the same script gives byte-identical output.
  const second = await runAxvisor(["-c", script]);
  assert.equal(second.stdout, first.stdout);
});

Deno.test("batch: the first failure stops the run with exit 1; --keep-going runs the rest", async () => {
  const stop = await runAxvisor(["-c", "vm start 9; vm list"]);
  assert.equal(stop.code, 1);
  assert.match(stop.stdout, /VM\[9\] not found/);
  assert.doesNotMatch(stop.stdout, /hello/, "the second command did not run");
  assert.match(
    stop.stderr,
    /command 1 of 2 \(-c\) failed: vm start 9 \(stopping; 1 more not run\)/,
  );
  const keep = await runAxvisor(["--keep-going", "-c", "vm start 9", "-c", "vm list"]);
  assert.equal(keep.code, 1);
  assert.match(keep.stdout, /hello/);
  assert.match(keep.stderr, /1 of 2 commands failed/);
  assert.match(keep.stderr, /command 1 of 2 \(-c #1\) failed: vm start 9\n/);
});

Deno.test("batch: --batch FILE (comments, quotes, CRLF) and --batch - from stdin", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const file = `${dir}/script.txt`;
    Deno.writeTextFileSync(file, "# a comment\r\necho 'a;b' \"c d\"\r\n\r\nuname -s\r\n");
    const r = await runAxvisor(["--batch", file]);
    assert.equal(r.code, 0, r.stderr);
    // Each command is echoed after the prompt (--echo is the default in batch mode).
    assert.equal(r.stdout, `axvisor:/$ echo 'a;b' "c d"\na;b c d\naxvisor:/$ uname -s\nAxVisor\n`);
    const s = await runAxvisor(["--no-echo", "--batch", "-"], {
      stdin: "echo from stdin\nnope\necho never\n",
    });
    assert.equal(s.code, 1);
    assert.match(s.stdout, /^from stdin\n/);
    assert.doesNotMatch(s.stdout, /never/);
    const missing = await runAxvisor(["--batch", `${dir}/missing.txt`]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read batch file .*missing\.txt/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("flags: --help needs no env permission; bad flags and values exit 2", async () => {
  const root = new URL("../../", import.meta.url).pathname;
  const help = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", `${root}bin/axvisor.ts`, "--help"],
    stdout: "piped",
    stderr: "piped",
    cwd: root,
  }).output();
  const text = new TextDecoder().decode(help.stdout);
  assert.equal(help.code, 0, new TextDecoder().decode(help.stderr));
  for (const flag of ["--board", "--vm", "--autostart", "--listen", "--clock", "--fs-root"]) {
    assert.ok(text.includes(flag), flag);
  }
  for (const flag of ["--log-level", "--token", "--read-only", "--batch", "--keep-going", "-c,"]) {
    assert.ok(text.includes(flag), flag);
  }
  assert.match(text, /AXVISOR_TOKEN/);
  const bad = await runAxvisor(["--bogus"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown option '--bogus'/);
  const clock = await runAxvisor(["--clock", "fast", "-c", "vm list"]);
  assert.equal(clock.code, 2);
  assert.match(clock.stderr, /--clock.*fast.*invalid|Allowed choices are realtime, warp/);
  const board = await runAxvisor(["--board", "nope-board", "-c", "vm list"]);
  assert.equal(board.code, 2);
  assert.match(board.stderr, /nope-board/);
});

Deno.test("batch: --vm adds a VM from a host file; --autostart starts it (not the example VMs)", async () => {
  const root = new URL("../../", import.meta.url).pathname;
  const r = await runAxvisor([
    "--vm",
    `${root}examples/configs/timer.toml`,
    "--autostart",
    "-c",
    "vm list",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const rows = r.stdout.split("\n");
  const timer = rows.find((l) => / timer /.test(l));
  assert.ok(timer, r.stdout);
  assert.doesNotMatch(timer, /Loaded/, "the VM named by --vm was started");
  assert.ok(
    rows.some((l) => / Loaded /.test(l)),
    "the example VMs were not: their boot output would bury the named VM's",
  );
});

Deno.test("batch: a failure names the script file and line, even when it is the last command", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const file = `${dir}/ci.txt`;
    Deno.writeTextFileSync(file, "# setup\nvm list\n\nuname -s; vm start 42\n");
    const r = await runAxvisor(["--batch", file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`command 3 of 3 \\(${file}:4\\) failed: vm start 42\\n`));
    const s = await runAxvisor(["--keep-going", "--batch", "-"], {
      stdin: "bogus\necho fine\nvm stop 77\n",
    });
    assert.equal(s.code, 1);
    assert.match(s.stdout, /fine/);
    assert.match(s.stderr, /command 1 of 3 \(<stdin>:1\) failed: bogus\n/);
    assert.match(s.stderr, /command 3 of 3 \(<stdin>:3\) failed: vm stop 77\n/);
    assert.match(s.stderr, /2 of 3 commands failed/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("config typos in default VMs and --vm files are warned about on stderr, with file:line", async () => {
  const fsRoot = makeFsRoot();
  try {
    const hello = Deno.readTextFileSync(`${fsRoot}/guest/vm_default/hello.toml`);
    const typo = hello.replace(/^cpu_num = 1$/m, "cpu_nmu = 1");
    assert.notEqual(typo, hello, "the example config has the line the test edits");
    Deno.writeTextFileSync(`${fsRoot}/guest/vm_default/hello.toml`, typo);
    const extra = `${fsRoot}/extra.toml`;
    Deno.writeTextFileSync(
      extra,
      typo.replace(/^id = 1$/m, "id = 11").replace(/^name = "hello"$/m, 'name = "extra"') +
        "\n[base2]\nx = 1\n",
    );
    const r = await runAxvisor(["--vm", extra, "-c", "vm list"], { fsRoot });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /11\s+extra\s+Loaded/);
    assert.match(
      r.stderr,
      /warn: \/guest\/vm_default\/hello\.toml:\d+: unknown key 'base\.cpu_nmu'/,
    );
    assert.match(r.stderr, /warn: .*extra\.toml:\d+: unknown key 'base\.cpu_nmu' ignored/);
    assert.match(r.stderr, /warn: .*extra\.toml:\d+: unknown table or key 'base2' ignored/);
  } finally {
    Deno.removeSync(fsRoot, { recursive: true });
  }
});
