import assert from "node:assert/strict";
import { MemoryFileSystem } from "../../lib/vmm/memory_filesystem.ts";
import { MAX_PATH_DEPTH, MAX_TREE_ENTRIES } from "../../lib/vmm/filesystem.ts";
import { CommandTree } from "../../lib/shell/command_tree.ts";
import { registerBaseCommands } from "../../lib/shell/commands/base.ts";
import { registerFsCommands } from "../../lib/shell/commands/fs.ts";
import type { BaseContext } from "../../lib/shell/context.ts";
import { CommandRunner } from "../../lib/shell/runner.ts";
import { ShellSession } from "../../lib/shell/session.ts";

function setup() {
  const fs = new MemoryFileSystem({ "/readme.txt": "hello\n" });
  const tree = new CommandTree<BaseContext>();
  registerBaseCommands(tree);
  registerFsCommands(tree);
  const system = { kernel: "AxVisor", version: "0.1.0", arch: "riscv64", platform: "x", smp: true };
  const runner = new CommandRunner(tree, fs, (session, path) => ({ session, fs, system, path }));
  const session = new ShellSession();
  return { fs, run: (line: string) => runner.execute(line, session) };
}

Deno.test("mkdir -p 2,000 levels deep is refused at once with a clear error", async () => {
  const { fs, run } = setup();
  const deep = Array.from({ length: 2000 }, () => "d").join("/");
  const t0 = performance.now();
  const r = await run(`mkdir -p /${deep}`);
  assert.ok(performance.now() - t0 < 2000);
  assert.equal(r.ok, false);
  assert.match(r.text, /File name too long: the path has 4000 characters \(limit 1024\)/);
  assert.equal(fs.stat("/d"), undefined, "nothing was created");
  const levels = Array.from({ length: MAX_PATH_DEPTH + 1 }, () => "d").join("/");
  const q = await run(`mkdir -p /${levels}`);
  assert.match(q.text, /is 65 levels deep \(limit 64\)/);
  const ok = await run(`mkdir -p /${Array.from({ length: MAX_PATH_DEPTH }, () => "d").join("/")}`);
  assert.equal(ok.ok, true, ok.text);
});

Deno.test("rm -r and cp -r refuse trees over the entry limit, leaving them intact", () => {
  const files: Record<string, string> = {};
  for (let i = 0; i <= MAX_TREE_ENTRIES; i++) files[`/big/f${i}`] = "";
  const fs = new MemoryFileSystem(files);
  assert.throws(() => fs.copy("/big", "/big2", { recursive: true }), /Too many entries/);
  assert.throws(() => fs.remove("/big", { recursive: true }), /Too many entries/);
  assert.equal(fs.readDir("/big").length, MAX_TREE_ENTRIES + 1);
  fs.remove("/big/f0");
  fs.copy("/big", "/big2", { recursive: true });
  fs.remove("/big", { recursive: true });
  assert.equal(fs.stat("/big"), undefined);
});
