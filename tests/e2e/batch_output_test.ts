import { LINEAR_REGEXP_FLAG } from "../../lib/shell/user_regexp.ts";
import assert from "node:assert/strict";
import { Axvisor, makeFsRoot, RawClient, runAxvisor } from "./harness.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

Deno.test("batch: more than 4 MiB of output is all printed (back-pressure, never a silent stop)", async () => {
  const fsRoot = makeFsRoot();
  try {
    const line = "0123456789abcdef".repeat(4) + "\n"; // 65 bytes
    const file = line.repeat(Math.ceil((2 * 1024 * 1024) / line.length));
    Deno.writeTextFileSync(`${fsRoot}/big.txt`, file);
    const r = await runAxvisor([
      "--no-echo",
      "-c",
      "cat /big.txt; cat /big.txt; cat /big.txt; vm list",
    ], {
      fsRoot,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    assert.ok(r.stdout.startsWith(file + file + file), "every byte of the three files");
    assert.match(r.stdout.slice(3 * file.length), /1\s+hello\s+Loaded/, "and the last command ran");
  } finally {
    Deno.removeSync(fsRoot, { recursive: true });
  }
});

/** Runs axvisor with stdout and stderr on one pipe, as a terminal shows them. */
async function runMerged(args: string[]): Promise<{ code: number; out: string }> {
  const fsRoot = makeFsRoot();
  try {
    const quoted = args.map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(" ");
    const out = await new Deno.Command("sh", {
      args: [
        "-c",
        `'${Deno.execPath()}' run ${LINEAR_REGEXP_FLAG} --allow-all bin/axvisor.ts --fs-root '${fsRoot}' ${quoted} 2>&1`,
      ],
      cwd: ROOT,
      stdin: "null",
    }).output();
    return { code: out.code, out: new TextDecoder().decode(out.stdout) };
  } finally {
    Deno.removeSync(fsRoot, { recursive: true });
  }
}

Deno.test("batch: each command is echoed before its output; a failure is reported after it", async () => {
  const r = await runMerged(["-c", "vm list; vm show 9; vm list"]);
  assert.equal(r.code, 1);
  const echo1 = r.out.indexOf("axvisor:/$ vm list\n");
  const echo2 = r.out.indexOf("axvisor:/$ vm show 9\n");
  const output2 = r.out.indexOf("VM[9] not found");
  const failure = r.out.indexOf("axvisor: error: command 2 of 3 (-c) failed: vm show 9");
  assert.ok(echo1 === 0, r.out);
  assert.ok(echo1 < echo2 && echo2 < output2 && output2 < failure, r.out);
  const quiet = await runMerged(["--no-echo", "-c", "vm list"]);
  assert.equal(quiet.code, 0);
  assert.doesNotMatch(quiet.out, /axvisor:\/\$/);
});

Deno.test("stdio: a JSON first line gets only JSON lines on stdout", async () => {
  const r = await runAxvisor(["--clock", "warp"], {
    stdin: '{"id":1,"cmd":"vm list"}\n{"id":2,"argv":["vm","show","1"]}\n',
  });
  assert.equal(r.code, 0, r.stderr);
  const objects = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(objects.map((o) => o.event ?? `reply ${o.id}`), [
    "hello",
    "reply 1",
    "reply 2",
  ]);
});

Deno.test("exit at the local console with --listen says the server keeps running, and it does", async () => {
  const ax = await Axvisor.start(["--listen", "127.0.0.1:0", "--clock", "warp"]);
  await ax.write("exit\n");
  await ax.readStdoutUntil("Goodbye!");
  const c = await RawClient.connect(ax.port);
  await c.readUntil("axvisor:/$ ");
  await c.send("vm list\n");
  assert.match(await c.readUntil("axvisor:/$ "), /hello/);
  assert.match(
    ax.stderr,
    /the local console is closed; the server keeps serving TCP on 127\.0\.0\.1:\d+\. Stop it with Ctrl-C or SIGTERM/,
  );
  assert.equal(await ax.stop("SIGTERM"), 0);
  c.close();
});
