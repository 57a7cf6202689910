import assert from "node:assert/strict";
import { MemoryFileSystem } from "../../lib/vmm/memory_filesystem.ts";
import { CommandTree } from "../../lib/shell/command_tree.ts";
import { registerBaseCommands } from "../../lib/shell/commands/base.ts";
import { registerFsCommands } from "../../lib/shell/commands/fs.ts";
import type { BaseContext } from "../../lib/shell/context.ts";
import { CommandRunner } from "../../lib/shell/runner.ts";
import { ShellSession } from "../../lib/shell/session.ts";

function setup(files: Record<string, string> = {}) {
  const fs = new MemoryFileSystem({
    "/guest/vm_default/linux.toml": "id = 1\n",
    "/guest/images/kernel.bin": "KERNEL",
    "/guest/.hidden": "h",
    "/readme.txt": "hello\nworld\n",
    ...files,
  });
  const tree = new CommandTree<BaseContext>();
  registerBaseCommands(tree);
  registerFsCommands(tree);
  const system = {
    kernel: "AxVisor",
    version: "0.1.0",
    arch: "riscv64",
    platform: "qemu-virt",
    smp: true,
  };
  const runner = new CommandRunner(tree, fs, (session, path) => ({ session, fs, system, path }));
  const session = new ShellSession();
  const run = (line: string, s = session) => runner.execute(line, s);
  return { fs, runner, session, run };
}

Deno.test("unknown commands, suggestions and group help", async () => {
  const { run } = setup();
  const r = await run("lss");
  assert.equal(r.ok, false);
  assert.equal(r.error?.code, "UNKNOWN_COMMAND");
  assert.equal(
    r.text,
    "Error: Unknown command 'lss'\nDid you mean 'ls'?\nType 'help' to see available commands",
  );
  const q = await run("frobnicate");
  assert.equal(
    q.text,
    "Error: Unknown command 'frobnicate'\nType 'help' to see available commands",
  );
  assert.deepEqual(await run(""), { ok: true, text: "" });
  assert.deepEqual(await run("   "), { ok: true, text: "" });
});

Deno.test("tokenizer errors become outcomes", async () => {
  const { run } = setup();
  const r = await run('echo "abc');
  assert.equal(r.ok, false);
  assert.equal(r.error?.code, "PARSE_ERROR");
  assert.equal(r.text, 'Error: Unclosed double quote (") starting at column 6');
});

Deno.test("parse errors print the error and the usage", async () => {
  const { run } = setup();
  const r = await run("ls --bogus");
  assert.equal(r.error?.code, "UNKNOWN_OPTION");
  assert.equal(
    r.text,
    [
      "Error: Unknown option 'bogus'",
      "Usage: ls [OPTIONS] [DIRECTORY...]",
      "List directory contents",
      "",
      "Flags:",
      "  --long, -l    Use long listing format",
      "  --all, -a    Show hidden files",
    ].join("\n"),
  );
  const c = await run("cat");
  assert.equal(c.error?.code, "MISSING_ARGUMENT");
  assert.match(c.text, /^Error: No file specified\nUsage: cat <FILE1> \[FILE2\.\.\.\]/);
  const p = await run("pwd extra");
  assert.equal(p.error?.code, "TOO_MANY_ARGUMENTS");
});

Deno.test("help, help <cmd> and --help on every command", async () => {
  const { run, runner } = setup();
  const list = await run("help");
  assert.ok(list.ok);
  assert.match(
    list.text,
    /^AxVisor Shell - Available Commands:\n\n {2}cat {13}Display file contents\n/,
  );
  for (const { path, node } of runner.tree.walk()) {
    const viaHelp = await run(`help ${path.join(" ")}`);
    const viaFlag = await run(`${path.join(" ")} --help`);
    const viaShort = await run(`${path.join(" ")} -h`);
    assert.ok(viaHelp.ok && viaFlag.ok && viaShort.ok, path.join(" "));
    assert.equal(viaHelp.text, viaFlag.text);
    assert.equal(viaShort.text, viaFlag.text);
    assert.ok(
      viaHelp.text.startsWith(
        `Command: ${path.join(" ")}\nDescription: ${node.description}\nUsage: `,
      ),
    );
  }
  assert.equal(
    (await run("help rm")).text,
    [
      "Command: rm",
      "Description: Remove files and directories",
      "Usage: rm [OPTIONS] <FILE1> [FILE2...]",
      "",
      "Arguments:",
      "  <FILE...>               Files or directories to remove",
      "",
      "Flags:",
      "  -d, --dir               Remove empty directories",
      "  -r, --recursive         Remove directories recursively",
      "  -f, --force             Force removal, ignore nonexistent files",
    ].join("\n"),
  );
  const bad = await run("help nosuch");
  assert.equal(bad.ok, false);
  assert.equal(bad.text, "Error: Unknown command 'nosuch'\nType 'help' to see available commands");
});

Deno.test("exit, quit, clear, log, uname, echo, history", async () => {
  const { run, session } = setup();
  assert.deepEqual(await run("exit"), {
    ok: true,
    text: "Goodbye!",
    data: { code: 0 },
    action: { type: "exit", code: 0 },
  });
  assert.deepEqual((await run("quit 3")).action, { type: "exit", code: 3 });
  assert.equal((await run("exit abc")).ok, false);
  assert.deepEqual((await run("clear")).action, { type: "clear" });
  assert.deepEqual(await run("shutdown"), {
    ok: true,
    text: "Shutting down the hypervisor...",
    data: { shutdown: true },
    action: { type: "shutdown" },
  });
  const roShutdown = await run("shutdown", new ShellSession({ readOnly: true }));
  assert.equal(roShutdown.error?.code, "READ_ONLY");
  assert.equal((await run("log")).text, "Current log level: Info");
  assert.equal((await run("log debug")).text, "Log level set to: Debug");
  assert.equal(session.logLevel, "debug");
  assert.equal((await run("log off")).text, "Log level set to: Off");
  assert.equal((await run("log on")).text, "Log level set to: Info");
  const badLog = await run("log loud");
  assert.equal(badLog.ok, false);
  assert.equal(
    badLog.text,
    "Unknown log level: loud\nAvailable levels: off, error, warn, info, debug, trace",
  );
  assert.equal((await run("uname")).text, "AxVisor 0.1.0 SMP riscv64 qemu-virt");
  assert.equal((await run("uname -a")).text, "AxVisor 0.1.0 SMP riscv64 qemu-virt");
  assert.equal((await run("uname -s")).text, "AxVisor");
  assert.equal((await run("uname -m")).text, "riscv64");
  assert.equal((await run("uname -sm")).text, "AxVisor riscv64");
  assert.equal((await run(`echo hello   "big  world"`)).text, "hello big  world");
  const n = await run("echo -n hi");
  assert.equal(n.text, "hi");
  assert.equal(n.noNewline, true);
  assert.equal((await run("echo")).text, "");
  const h = await run("history");
  const lines = h.text.split("\n");
  assert.equal(lines[0], "   1  exit");
  assert.equal(lines[lines.length - 1], "  19  history");
});

Deno.test("history: 100 entries, blank lines and consecutive duplicates skipped", async () => {
  const { run, session } = setup();
  await run("pwd");
  await run("pwd");
  await run("   ");
  await run("ls");
  await run("pwd");
  assert.deepEqual(session.history.entries(), ["pwd", "ls", "pwd"]);
  for (let i = 0; i < 120; i++) await run(`echo ${i}`);
  assert.equal(session.history.size, 100);
  assert.equal(session.history.entries()[99], "echo 119");
  assert.equal(session.history.firstNumber, 24);
  assert.equal(session.history.previous(), "echo 119");
  assert.equal(session.history.previous(), "echo 118");
  assert.equal(session.history.next(), "echo 119");
  assert.equal(session.history.next(), "");
  assert.equal(session.history.next(), undefined);
});

Deno.test("output redirection: > and >> write files, quoted > does not", async () => {
  const { run, fs } = setup();
  assert.deepEqual(await run("echo hello > /out.txt"), {
    ok: true,
    text: "",
    data: { text: "hello" },
  });
  assert.equal(fs.readTextFile("/out.txt"), "hello\n");
  await run("echo again >> /out.txt");
  assert.equal(fs.readTextFile("/out.txt"), "hello\nagain\n");
  await run("echo -n raw >/raw.txt");
  assert.equal(fs.readTextFile("/raw.txt"), "raw");
  await run("echo a > /split.txt b");
  assert.equal(fs.readTextFile("/split.txt"), "a b\n");
  assert.equal((await run("echo '>' x")).text, "> x");
  await run("ls /guest > listing");
  assert.equal(fs.readTextFile("/listing"), "images\nvm_default\n");
  const missing = await run("echo x >");
  assert.equal(missing.text, "Error: Missing file name after '>' at column 8");
  const twice = await run("echo x > a > b");
  assert.equal(twice.ok, false);
  const badDir = await run("echo x > /nodir/file");
  assert.equal(badDir.ok, false);
  assert.equal(badDir.text, "Error: cannot write /nodir/file: No such file or directory");
  // A failed command writes nothing.
  await run("cat /nope > /never.txt");
  assert.equal(fs.stat("/never.txt"), undefined);
});

Deno.test("ls, cat, pwd, cd", async () => {
  const { run, session } = setup();
  assert.equal((await run("ls")).text, "guest\nreadme.txt");
  assert.equal((await run("ls /guest")).text, "images\nvm_default");
  assert.equal((await run("ls -a /guest")).text, ".hidden\nimages\nvm_default");
  assert.equal(
    (await run("ls -l /guest/images /readme.txt")).text,
    "/guest/images:\n-rw-r--r--        6 kernel.bin\n-rw-r--r--       12 /readme.txt",
  );
  assert.equal(
    (await run("ls -la /guest")).text,
    "-rw-r--r--        1 .hidden\ndrwxr-xr-x        0 images\ndrwxr-xr-x        0 vm_default",
  );
  const lsMissing = await run("ls /nope /guest/images");
  assert.equal(lsMissing.ok, false);
  assert.equal(
    lsMissing.text,
    "ls: /nope: No such file or directory\n\n/guest/images:\nkernel.bin",
  );
  assert.equal((await run("cat /readme.txt")).text, "hello\nworld");
  assert.equal((await run("cat readme.txt /guest/images/kernel.bin")).text, "hello\nworld\nKERNEL");
  const catDir = await run("cat /guest");
  assert.equal(catDir.ok, false);
  assert.equal(catDir.text, "cat: /guest: Is a directory");
  assert.equal((await run("pwd")).text, "/");
  assert.equal((await run("cd guest/vm_default")).ok, true);
  assert.equal((await run("pwd")).text, "/guest/vm_default");
  assert.equal((await run("cat linux.toml")).text, "id = 1");
  await run("cd ../..");
  assert.equal(session.cwd, "/");
  await run("cd ../../..");
  assert.equal(session.cwd, "/", "cd .. never leaves the root");
  await run("cd /guest");
  await run("cd");
  assert.equal(session.cwd, "/");
  assert.equal((await run("cd /readme.txt")).text, "cd: /readme.txt: Not a directory");
  assert.equal((await run("cd /nope")).text, "cd: /nope: No such file or directory");
  assert.equal((await run("ls ../../..")).text, "guest\nreadme.txt");
  // `..` stops at the hypervisor's root: these name files inside it, never the host's.
  await run("cd /guest/vm_default");
  assert.equal((await run("cat ../../../../readme.txt")).text, "hello\nworld");
  assert.equal(
    (await run("cat ../../../../etc/passwd")).text,
    "cat: ../../../../etc/passwd: No such file or directory",
  );
  assert.equal((await run("cd /../../..")).ok, true);
  assert.equal(session.cwd, "/");
});

Deno.test("mkdir, touch, rm, cp, mv", async () => {
  const { run, fs } = setup();
  assert.ok((await run("mkdir /a")).ok);
  assert.equal(
    (await run("mkdir /a")).text,
    "mkdir: cannot create directory '/a': File exists",
  );
  assert.equal(
    (await run("mkdir /x/y")).text,
    "mkdir: cannot create directory '/x/y': No such file or directory",
  );
  assert.ok((await run("mkdir -p /x/y/z /a")).ok);
  assert.equal(fs.stat("/x/y/z")?.kind, "dir");
  assert.ok((await run("touch /a/f1 /a/f2")).ok);
  assert.equal(fs.readTextFile("/a/f1"), "");
  fs.writeFile("/a/f1", "keep");
  await run("touch /a/f1");
  assert.equal(fs.readTextFile("/a/f1"), "keep", "touch does not truncate");
  assert.equal((await run("rm /a")).text, "rm: cannot remove '/a': Is a directory (use -r or -d)");
  assert.equal((await run("rm -d /a")).text, "rm: cannot remove '/a': Directory not empty");
  assert.equal(
    (await run("rm /nope")).text,
    "rm: cannot remove '/nope': No such file or directory",
  );
  assert.deepEqual(await run("rm -f /nope"), { ok: true, text: "", data: { removed: [] } });
  assert.equal((await run("rm -rf /")).ok, false);
  assert.equal(
    (await run("rm -r ..")).text,
    "rm: refusing to remove '..': it is the root directory",
  );
  assert.equal(fs.stat("/readme.txt")?.kind, "file");
  assert.ok((await run("rm -d /x/y/z")).ok);
  assert.ok((await run("rm /a/f2")).ok);
  assert.equal(fs.stat("/a/f2"), undefined);

  // cp
  assert.ok((await run("cp /readme.txt /copy.txt")).ok);
  assert.equal(fs.readTextFile("/copy.txt"), "hello\nworld\n");
  assert.ok((await run("cp /readme.txt /a")).ok);
  assert.equal(fs.readTextFile("/a/readme.txt"), "hello\nworld\n");
  assert.equal(
    (await run("cp /guest /g2")).text,
    "cp: -r not specified; omitting directory '/guest'",
  );
  assert.ok((await run("cp -r /guest /g2")).ok);
  assert.equal(fs.readTextFile("/g2/vm_default/linux.toml"), "id = 1\n");
  assert.ok((await run("cp /readme.txt /copy.txt /x")).ok);
  assert.deepEqual(fs.readDir("/x").map((e) => e.name), ["copy.txt", "readme.txt", "y"]);
  assert.equal(
    (await run("cp /readme.txt /copy.txt /nodir")).text,
    "cp: target '/nodir' is not a directory",
  );
  assert.equal((await run("cp /a")).text, "cp: missing operand");
  assert.equal(
    (await run("cp /nope /z")).text,
    "cp: cannot stat '/nope': No such file or directory",
  );
  assert.equal((await run("cp -r /g2 /g2/inner")).ok, false);

  // mv
  assert.ok((await run("mv /copy.txt /moved.txt")).ok);
  assert.equal(fs.stat("/copy.txt"), undefined);
  assert.equal(fs.readTextFile("/moved.txt"), "hello\nworld\n");
  assert.ok((await run("mv /moved.txt /a")).ok);
  assert.equal(fs.readTextFile("/a/moved.txt"), "hello\nworld\n");
  assert.ok((await run("mv /g2 /x")).ok);
  assert.equal(fs.stat("/x/g2/vm_default")?.kind, "dir");
  assert.equal((await run("mv /x /x/y")).ok, false);
});

Deno.test("read-only sessions may look but change nothing", async () => {
  const { run, fs } = setup();
  const ro = new ShellSession({ readOnly: true });
  for (
    const line of [
      "ls",
      "cat /readme.txt",
      "pwd",
      "cd /guest",
      "help",
      "history",
      "uname",
      "echo hi",
      "log debug",
    ]
  ) {
    assert.ok((await run(line, ro)).ok, line);
  }
  for (
    const line of [
      "mkdir /d",
      "touch /t",
      "rm /readme.txt",
      "cp /readme.txt /c",
      "mv /readme.txt /m",
    ]
  ) {
    const r = await run(line, ro);
    assert.equal(r.ok, false, line);
    assert.equal(r.error?.code, "READ_ONLY");
    assert.match(r.text, /^Error: '\w+' changes state; this session is read-only$/);
  }
  const redirect = await run("echo hi > /out.txt", ro);
  assert.equal(redirect.text, "Error: Cannot write '/out.txt': this session is read-only");
  assert.deepEqual(fs.listFiles(), [
    "/guest/.hidden",
    "/guest/images/kernel.bin",
    "/guest/vm_default/linux.toml",
    "/readme.txt",
  ]);
});
