import assert from "node:assert/strict";
import { MemoryFileSystem } from "../../lib/vmm/memory_filesystem.ts";
import {
  ArgDef,
  CommandNode,
  CommandTree,
  FlagDef,
  OptionDef,
} from "../../lib/shell/command_tree.ts";
import { registerBaseCommands } from "../../lib/shell/commands/base.ts";
import { registerFsCommands } from "../../lib/shell/commands/fs.ts";
import { completeLine, type CompletionSource } from "../../lib/shell/completion.ts";
import type { BaseContext } from "../../lib/shell/context.ts";

function setup() {
  const fs = new MemoryFileSystem({
    "/guest/vm_default/linux.toml": "",
    "/guest/vm_default/arceos.toml": "",
    "/guest/my vm.toml": "",
    "/guest/.hidden": "",
    "/readme.txt": "",
  });
  const tree = new CommandTree<BaseContext>();
  registerBaseCommands(tree);
  registerFsCommands(tree);
  tree.add(
    "vm",
    new CommandNode<BaseContext>("Virtual machine management")
      .addSubcommand(
        "start",
        new CommandNode<BaseContext>("Start")
          .addFlag(new FlagDef("detach", "Detach").withShort("d"))
          .addArg(new ArgDef("VM_ID", "VMs").variadic().completes("vm"))
          .withHandler(() => ({ ok: true, text: "" })),
      )
      .addSubcommand(
        "list",
        new CommandNode<BaseContext>("List")
          .addOption(
            new OptionDef("format", "Format").withShort("f").withChoices(["table", "json"]),
          )
          .withHandler(() => ({ ok: true, text: "" })),
      )
      .addSubcommand(
        "create",
        new CommandNode<BaseContext>("Create")
          .addArg(new ArgDef("FILE", "Configs").variadic().completes("path"))
          .withHandler(() => ({ ok: true, text: "" })),
      ),
  );
  const source: CompletionSource = {
    cwd: "/",
    vmNames: () => ["0", "1", "linux", "arceos"],
    listDir: (path) => {
      try {
        return fs.readDir(path);
      } catch {
        return [];
      }
    },
  };
  return (line: string, cwd = "/") => completeLine(tree, line, { ...source, cwd });
}

Deno.test("completion: commands, subcommands, flags, option values", () => {
  const complete = setup();
  const cases: [string, string[]][] = [
    ["", [
      "cat",
      "cd",
      "clear",
      "cp",
      "echo",
      "exit",
      "help",
      "history",
      "log",
      "ls",
      "mkdir",
      "mv",
      "pwd",
      "quit",
      "rm",
      "shutdown",
      "touch",
      "uname",
      "vm",
    ]],
    ["c", ["cat", "cd", "clear", "cp"]],
    ["vm ", ["create", "list", "start"]],
    ["vm st", ["start"]],
    ["vm start -", ["--detach", "--help"]],
    ["vm start --d", ["--detach"]],
    ["vm list --format ", ["json", "table"]],
    ["vm list -f j", ["json"]],
    ["vm start ", ["0", "1", "arceos", "linux"]],
    ["vm start 0 l", ["linux"]],
    ["vm start --detach a", ["arceos"]],
    ["help v", ["vm"]],
    ["help vm ", ["create", "list", "start"]],
    ["log d", ["debug", "disable"]],
    ["uname -", ["--all", "--help", "--kernel-name", "--machine"]],
    ["nosuch ", []],
    ["pwd ", []],
  ];
  for (const [line, expected] of cases) {
    assert.deepEqual(complete(line).candidates, expected, JSON.stringify(line));
  }
});

Deno.test("completion: paths, quoting and the replaced word", () => {
  const complete = setup();
  assert.deepEqual(complete("cat ").candidates, ["guest/", "readme.txt"]);
  assert.deepEqual(complete("cat /g").candidates, ["/guest/"]);
  assert.deepEqual(complete("vm create /guest/").candidates, [
    "'/guest/my vm.toml'",
    "/guest/vm_default/",
  ]);
  assert.deepEqual(complete("vm create /guest/.").candidates, ["/guest/.hidden"]);
  assert.deepEqual(complete("vm create /guest/vm_default/l").candidates, [
    "/guest/vm_default/linux.toml",
  ]);
  assert.deepEqual(complete("cat vm_default/a", "/guest").candidates, ["vm_default/arceos.toml"]);
  assert.deepEqual(complete("ls /nowhere/").candidates, []);
  const c = complete("cat /guest/vm_d");
  assert.equal(c.word, "/guest/vm_d");
  assert.equal(c.start, 4);
  const quoted = complete(`cat "/guest/my`);
  assert.deepEqual(quoted.candidates, ["'/guest/my vm.toml'"]);
  assert.equal(quoted.word, `"/guest/my`);
});
