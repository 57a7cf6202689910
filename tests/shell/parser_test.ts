import assert from "node:assert/strict";
import { ArgDef, CommandNode, FlagDef, OptionDef } from "../../lib/shell/command_tree.ts";
import { isHelpRequest, parseArguments, ParseError } from "../../lib/shell/parser.ts";

function startNode() {
  return new CommandNode("Start virtual machines")
    .withUsage("vm start [OPTIONS] [VM_ID...]")
    .addFlag(new FlagDef("detach", "Run in background mode").withShort("d"))
    .addFlag(new FlagDef("force", "Force").withShort("f"))
    .addArg(new ArgDef("VM_ID", "VMs").variadic());
}

function listNode() {
  return new CommandNode("List")
    .addOption(
      new OptionDef("format", "Output format").withShort("o").withValueType("FORMAT")
        .withDefault("table").withChoices(["table", "json"]),
    )
    .addOption(new OptionDef("state", "Filter").withShort("s"))
    .addFlag(new FlagDef("all", "All").withShort("a"))
    .addFlag(new FlagDef("verbose", "Verbose").withShort("v"))
    .addArg(new ArgDef("NAME", "Names").variadic());
}

type Expect = {
  args?: string[];
  options?: Record<string, string>;
  flags?: Record<string, boolean>;
};

Deno.test("parseArguments: table of inputs", () => {
  const cases: [CommandNode, string[], Expect][] = [
    [startNode(), ["0", "1", "--detach"], { args: ["0", "1"], flags: { detach: true } }],
    // The seed's example: a declared flag never swallows the next word.
    [startNode(), ["--force", "0", "1", "--detach"], {
      args: ["0", "1"],
      flags: { force: true, detach: true },
    }],
    [startNode(), ["0", "1", "--force", "--detach"], {
      args: ["0", "1"],
      flags: { force: true, detach: true },
    }],
    [startNode(), ["0", "--force", "1", "--detach"], {
      args: ["0", "1"],
      flags: { force: true, detach: true },
    }],
    [startNode(), ["-fd", "3"], { args: ["3"], flags: { force: true, detach: true } }],
    [startNode(), ["-d", "-f"], { args: [], flags: { force: true, detach: true } }],
    [startNode(), ["--", "-f", "--detach"], { args: ["-f", "--detach"], flags: {} }],
    [startNode(), ["-", "-1"], { args: ["-", "-1"] }],
    [listNode(), [], { options: { format: "table" } }],
    [listNode(), ["--format", "json"], { options: { format: "json" } }],
    [listNode(), ["--format=json"], { options: { format: "json" } }],
    [listNode(), ["-o", "json"], { options: { format: "json" } }],
    [listNode(), ["-ojson"], { options: { format: "json" } }],
    [listNode(), ["-avo", "json"], {
      options: { format: "json" },
      flags: { all: true, verbose: true },
    }],
    [listNode(), ["--state", "-x"], { options: { format: "table", state: "-x" } }],
    [listNode(), ["--state=", "x"], { args: ["x"], options: { format: "table", state: "" } }],
    [listNode(), ["--state", "running", "--format", "json", "--all"], {
      options: { format: "json", state: "running" },
      flags: { all: true },
    }],
  ];
  for (const [node, words, expected] of cases) {
    const parsed = parseArguments(node, words);
    const label = words.join(" ");
    assert.deepEqual(parsed.positionalArgs, expected.args ?? [], label);
    assert.deepEqual(Object.fromEntries(parsed.options), expected.options ?? {}, label);
    assert.deepEqual(Object.fromEntries(parsed.flags), expected.flags ?? {}, label);
  }
});

Deno.test("parseArguments: errors use the real shell's messages", () => {
  const required = new CommandNode("x").addOption(new OptionDef("name", "Name").required());
  const counted = new CommandNode("x").addArg(
    new ArgDef("VM_ID", "VM").required("No VM specified"),
  );
  const generic = new CommandNode("x").addArg(new ArgDef("FILE", "file").required());
  const none = new CommandNode("x");
  const cases: [CommandNode, string[], string, string][] = [
    [startNode(), ["--bogus"], "UNKNOWN_OPTION", "Unknown option 'bogus'"],
    [startNode(), ["-x"], "UNKNOWN_OPTION", "Unknown option 'x'"],
    [startNode(), ["-dz"], "UNKNOWN_OPTION", "Unknown option 'z'"],
    [startNode(), ["--force=yes"], "FLAG_WITH_VALUE", "Flag 'force' does not take a value"],
    [listNode(), ["--format"], "MISSING_VALUE", "Option 'format' is missing a value"],
    [listNode(), ["--format", "--all"], "MISSING_VALUE", "Option 'format' is missing a value"],
    [listNode(), ["-o"], "MISSING_VALUE", "Option 'o' is missing a value"],
    [
      listNode(),
      ["--format", "xml"],
      "INVALID_VALUE",
      "Invalid value 'xml' for option '--format': expected one of table, json",
    ],
    [required, [], "MISSING_REQUIRED_OPTION", "Missing required option 'name'"],
    [counted, [], "MISSING_ARGUMENT", "No VM specified"],
    [generic, [], "MISSING_ARGUMENT", "Missing argument <FILE>"],
    [
      none,
      ["a", "b"],
      "TOO_MANY_ARGUMENTS",
      "Too many arguments: expected no arguments, got 2 (unexpected 'a' 'b')",
    ],
    [
      counted,
      ["1", "2"],
      "TOO_MANY_ARGUMENTS",
      "Too many arguments: expected at most 1 argument(s), got 2 (unexpected '2')",
    ],
  ];
  for (const [node, words, code, message] of cases) {
    assert.throws(() => parseArguments(node, words), (e: unknown) => {
      assert.ok(e instanceof ParseError, words.join(" "));
      assert.equal(e.code, code, words.join(" "));
      assert.equal(e.message, message);
      return true;
    });
  }
});

Deno.test("ParsedCommand accessors", () => {
  const parsed = parseArguments(listNode(), ["a", "--state", "running", "-a", "b"], ["vm", "list"]);
  assert.equal(parsed.getArg(0), "a");
  assert.equal(parsed.getArg(1), "b");
  assert.equal(parsed.getArg(2), undefined);
  assert.equal(parsed.argCount, 2);
  assert.equal(parsed.getOption("state"), "running");
  assert.equal(parsed.getOption("format"), "table");
  assert.equal(parsed.hasOption("format"), false);
  assert.equal(parsed.hasOption("state"), true);
  assert.equal(parsed.hasFlag("all"), true);
  assert.equal(parsed.hasFlag("verbose"), false);
  assert.deepEqual(parsed.toJSON(), {
    command: ["vm", "list"],
    args: ["a", "b"],
    options: { state: "running", format: "table" },
    flags: { all: true },
  });
});

Deno.test("isHelpRequest stops at --", () => {
  assert.equal(isHelpRequest(["0", "--help"]), true);
  assert.equal(isHelpRequest(["-h"]), true);
  assert.equal(isHelpRequest(["--", "--help"]), false);
  assert.equal(isHelpRequest(["-hx"]), false);
});

Deno.test("builder rejects clashing and reserved names", () => {
  assert.throws(
    () => startNode().addFlag(new FlagDef("detach", "again")),
    /Duplicate option or flag --detach/,
  );
  assert.throws(
    () => startNode().addFlag(new FlagDef("other", "x").withShort("d")),
    /Duplicate short name -d/,
  );
  assert.throws(() => new CommandNode("x").addFlag(new FlagDef("help", "x")), /reserved/);
  assert.throws(
    () => new CommandNode("x").addOption(new OptionDef("x", "x").withShort("h")),
    /reserved/,
  );
  assert.throws(() => new FlagDef("x", "x").withShort("ab"), /one character/);
  assert.throws(
    () => new CommandNode("x").addArg(new ArgDef("A", "a").variadic()).addArg(new ArgDef("B", "b")),
    /follows variadic/,
  );
  assert.throws(
    () => new CommandNode("x").addSubcommand("bad name", new CommandNode("y")),
    /Invalid command name/,
  );
});
