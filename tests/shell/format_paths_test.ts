import assert from "node:assert/strict";
import {
  formatDuration,
  formatMemorySize,
  hex,
  hex64,
  parseDuration,
  parseUnsigned,
} from "../../lib/shell/format.ts";
import { basename, dirname, joinPath, normalize, resolvePath } from "../../lib/shell/paths.ts";
import { CommandNode, CommandTree } from "../../lib/shell/command_tree.ts";
import { CommandRunner } from "../../lib/shell/runner.ts";
import { ShellSession } from "../../lib/shell/session.ts";
import { MemoryFileSystem } from "../../lib/vmm/memory_filesystem.ts";

Deno.test("formatMemorySize follows the seed's thresholds (integer division)", () => {
  const cases: [number, string][] = [
    [0, "0B"],
    [512, "512B"],
    [1023, "1023B"],
    [1024, "1KB"],
    [256 * 1024, "256KB"],
    [1024 * 1024 - 1, "1023KB"],
    [1024 * 1024, "1MB"],
    [8 * 1024 * 1024, "8MB"],
    [256 * 1024 * 1024, "256MB"],
    [1024 ** 3 - 1, "1023MB"],
    [1024 ** 3, "1GB"],
    [3 * 1024 ** 3, "3GB"],
    [3 * 1024 ** 3 + 512 * 1024 ** 2, "3GB"],
  ];
  for (const [bytes, text] of cases) assert.equal(formatMemorySize(bytes), text, String(bytes));
});

Deno.test("numbers, hex and durations", () => {
  assert.equal(hex(0x80200000), "0x80200000");
  assert.equal(hex(0), "0x0");
  assert.equal(hex64(-1n), "0xffffffffffffffff");
  assert.equal(hex64(0x10n), "0x0000000000000010");
  const durations: [string, number | undefined][] = [
    ["10s", 10e9],
    ["500ms", 500e6],
    ["250us", 250e3],
    ["100ns", 100],
    ["2m", 120e9],
    ["1.5s", 1.5e9],
    ["3", 3e9],
    ["", undefined],
    ["soon", undefined],
    ["-1s", undefined],
    ["10 parsecs", undefined],
  ];
  for (const [text, ns] of durations) assert.equal(parseDuration(text), ns, text);
  assert.equal(formatDuration(0), "0ns");
  assert.equal(formatDuration(1500), "1.5us");
  assert.equal(formatDuration(2_000_000), "2ms");
  assert.equal(formatDuration(1_234_567_890), "1.235s");
  assert.equal(parseUnsigned("12"), 12);
  assert.equal(parseUnsigned("0x1f"), 31);
  assert.equal(parseUnsigned("0x8000_0000"), 0x80000000);
  assert.equal(parseUnsigned("-1"), undefined);
  assert.equal(parseUnsigned("1e3"), undefined);
  assert.equal(parseUnsigned("linux"), undefined);
  assert.equal(parseUnsigned("99999999999999999999"), undefined);
});

Deno.test("paths resolve against the working directory and never leave the root", () => {
  const cases: [string, string, string][] = [
    ["/", "guest", "/guest"],
    ["/guest", "vm_default/a.toml", "/guest/vm_default/a.toml"],
    ["/guest", "/etc", "/etc"],
    ["/guest", "..", "/"],
    ["/guest", "../../../../etc/passwd", "/etc/passwd"],
    ["/a/b", "./c/../d//e/", "/a/b/d/e"],
    ["/", ".", "/"],
  ];
  for (const [cwd, path, expected] of cases) {
    assert.equal(resolvePath(cwd, path), expected, `${cwd} ${path}`);
  }
  assert.equal(normalize("//x///y/.."), "/x");
  assert.equal(basename("/a/b.toml"), "b.toml");
  assert.equal(basename("/"), "/");
  assert.equal(dirname("/a/b"), "/a");
  assert.equal(dirname("/a"), "/");
  assert.equal(joinPath("/a", "../b", "c"), "/b/c");
});

Deno.test("a throwing handler becomes an error outcome; the shell keeps going", async () => {
  const tree = new CommandTree<Record<string, never>>();
  tree.add(
    "boom",
    new CommandNode<Record<string, never>>("Fails").withHandler(() => {
      throw Object.assign(new Error("disk on fire"), { code: "EIO" });
    }),
  );
  tree.add(
    "ok",
    new CommandNode<Record<string, never>>("Works").readOnly().withHandler(() => ({
      ok: true,
      text: "fine",
    })),
  );
  tree.add(
    "group",
    new CommandNode<Record<string, never>>("A group").addSubcommand(
      "leaf",
      new CommandNode<Record<string, never>>("Leaf").withHandler(() => ({
        ok: true,
        text: "leaf",
      })),
    ),
  );
  const runner = new CommandRunner(tree, new MemoryFileSystem(), () => ({}));
  const session = new ShellSession();
  const boom = await runner.execute("boom", session);
  assert.deepEqual(boom, {
    ok: false,
    text: "Error: boom: disk on fire",
    error: { code: "EIO", message: "boom: disk on fire" },
  });
  assert.equal((await runner.execute("ok", session)).text, "fine");
  assert.equal((await runner.executeArgv(["group", "leaf"], session)).text, "leaf");
  const groupHelp = await runner.executeArgv(["group"], session);
  assert.ok(groupHelp.ok);
  assert.match(
    groupHelp.text,
    /^Command: group\nDescription: A group\nUsage: group <COMMAND> \[ARGS\]\n\nSubcommands:\n {2}leaf/,
  );
  const option = await runner.executeArgv(["group", "--x"], session);
  assert.equal(option.error?.code, "UNKNOWN_COMMAND");
  assert.equal(option.text.split("\n")[0], "Error: Command 'group' needs a subcommand");
  // executeArgv takes words literally: no quote processing, no redirection, no history.
  assert.equal((await runner.executeArgv(["ok"], session)).ok, true);
  assert.deepEqual(session.history.entries(), ["boom", "ok"]);
});
