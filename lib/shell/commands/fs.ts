/**
 * Filesystem commands on the hypervisor's root: `ls [-l] [-a]`, `cat`, `pwd`, `cd`,
 * `mkdir [-p]`, `rm [-r] [-f] [-d]`, `cp [-r]`, `mv` and `touch`. Paths are resolved against the
 * session's working directory and never leave the root. Messages follow the real shell
 * (`ls: x: No such file or directory`, `mkdir: cannot create directory 'x': File exists`).
 *
 * @module
 */

import type { FileInfo } from "../../vmm/filesystem.ts";
import { fsErrorCode, fsErrorText } from "../fs_errors.ts";
import { ArgDef, CommandNode, type CommandTree, FlagDef } from "../command_tree.ts";
import type { BaseContext } from "../context.ts";
import { type CommandOutcome, failure, success } from "../outcome.ts";
import { basename, joinPath, resolvePath } from "../paths.ts";

/** Collects per-target lines and errors of a command working on several paths. */
class Report {
  readonly lines: string[] = [];
  readonly errors: { path: string; code: string; message: string }[] = [];
  constructor(readonly command: string) {}

  error(path: string, code: string, message: string): void {
    this.lines.push(`${this.command}: ${message}`);
    this.errors.push({ path, code, message });
  }

  outcome(data: Record<string, unknown> = {}): CommandOutcome {
    const text = this.lines.join("\n");
    if (this.errors.length === 0) return success(text, data);
    const first = this.errors[0];
    const out = failure(first.code, `${this.command}: ${first.message}`, text, {
      ...data,
      errors: this.errors,
    });
    return out;
  }
}

const decoder = new TextDecoder();

function permissions(info: FileInfo): string {
  return info.kind === "dir" ? "drwxr-xr-x" : "-rw-r--r--";
}

function longLine(info: FileInfo, name: string): string {
  return `${permissions(info)} ${String(info.size).padStart(8)} ${name}`;
}

/** Registers the filesystem commands on `tree`. */
export function registerFsCommands<C extends BaseContext>(tree: CommandTree<C>): void {
  tree.add(
    "ls",
    new CommandNode<C>("List directory contents")
      .withUsage("ls [OPTIONS] [DIRECTORY...]")
      .addFlag(new FlagDef("long", "Use long listing format").withShort("l"))
      .addFlag(new FlagDef("all", "Show hidden files").withShort("a"))
      .addArg(
        new ArgDef("DIRECTORY", "Directories or files to list (default: .)").variadic().completes(
          "path",
        ),
      )
      .readOnly()
      .withHandler((cmd, ctx) => {
        const long = cmd.hasFlag("long");
        const all = cmd.hasFlag("all");
        const targets = cmd.argCount > 0 ? cmd.positionalArgs : ["."];
        const report = new Report("ls");
        const listings: { path: string; entries: FileInfo[] }[] = [];
        targets.forEach((target, i) => {
          const path = resolvePath(ctx.session.cwd, target);
          const info = ctx.fs.stat(path);
          if (!info) return report.error(path, "ENOENT", `${target}: No such file or directory`);
          if (info.kind === "file") {
            report.lines.push(long ? longLine(info, target) : target);
            listings.push({ path, entries: [info] });
            return;
          }
          try {
            const entries = ctx.fs.readDir(path).filter((e) => all || !e.name.startsWith("."));
            if (i > 0) report.lines.push("");
            if (targets.length > 1) report.lines.push(`${target}:`);
            for (const e of entries) report.lines.push(long ? longLine(e, e.name) : e.name);
            listings.push({ path, entries });
          } catch (error) {
            report.error(path, fsErrorCode(error), `${target}: ${fsErrorText(error)}`);
          }
        });
        return report.outcome({ listings });
      }),
  );

  tree.add(
    "cat",
    new CommandNode<C>("Display file contents")
      .withUsage("cat <FILE1> [FILE2...]")
      .addArg(
        new ArgDef("FILE", "Files to print").required("No file specified").variadic()
          .completes("path"),
      )
      .readOnly()
      .withHandler((cmd, ctx) => {
        const report = new Report("cat");
        let text = "";
        for (const target of cmd.positionalArgs) {
          const path = resolvePath(ctx.session.cwd, target);
          try {
            text += decoder.decode(ctx.fs.readFile(path));
          } catch (error) {
            if (text !== "" && !text.endsWith("\n")) text += "\n";
            text += `cat: ${target}: ${fsErrorText(error)}\n`;
            report.errors.push({
              path,
              code: fsErrorCode(error),
              message: `${target}: ${fsErrorText(error)}`,
            });
          }
        }
        report.lines.push(text.endsWith("\n") ? text.slice(0, -1) : text);
        return report.outcome({ content: report.errors.length === 0 ? text : undefined });
      }),
  );

  tree.add(
    "pwd",
    new CommandNode<C>("Print working directory")
      .withUsage("pwd")
      .readOnly()
      .withHandler((_cmd, ctx) => success(ctx.session.cwd, { cwd: ctx.session.cwd })),
  );

  tree.add(
    "cd",
    new CommandNode<C>("Change directory")
      .withUsage("cd [DIRECTORY]")
      .addArg(new ArgDef("DIRECTORY", "Where to go (default: /)").completes("path"))
      .readOnly()
      .withHandler((cmd, ctx) => {
        const target = cmd.getArg(0) ?? "/";
        const path = resolvePath(ctx.session.cwd, target);
        const info = ctx.fs.stat(path);
        if (!info) {
          return failure(
            "ENOENT",
            `cd: ${target}: No such file or directory`,
            `cd: ${target}: No such file or directory`,
          );
        }
        if (info.kind !== "dir") {
          return failure(
            "ENOTDIR",
            `cd: ${target}: Not a directory`,
            `cd: ${target}: Not a directory`,
          );
        }
        ctx.session.cwd = path;
        return success("", { cwd: path });
      }),
  );

  tree.add(
    "mkdir",
    new CommandNode<C>("Create directories")
      .withUsage("mkdir [OPTIONS] <DIRECTORY1> [DIRECTORY2...]")
      .addFlag(new FlagDef("parents", "Create parent directories as needed").withShort("p"))
      .addArg(
        new ArgDef("DIRECTORY", "Directories to create").required("Missing operand")
          .variadic().completes("path"),
      )
      .withHandler((cmd, ctx) => {
        const report = new Report("mkdir");
        const created: string[] = [];
        for (const target of cmd.positionalArgs) {
          const path = resolvePath(ctx.session.cwd, target);
          try {
            ctx.fs.mkdir(path, { recursive: cmd.hasFlag("parents") });
            created.push(path);
          } catch (error) {
            report.error(
              path,
              fsErrorCode(error),
              `cannot create directory '${target}': ${fsErrorText(error)}`,
            );
          }
        }
        return report.outcome({ created });
      }),
  );

  tree.add(
    "rm",
    new CommandNode<C>("Remove files and directories")
      .withUsage("rm [OPTIONS] <FILE1> [FILE2...]")
      .addFlag(new FlagDef("dir", "Remove empty directories").withShort("d"))
      .addFlag(new FlagDef("recursive", "Remove directories recursively").withShort("r"))
      .addFlag(new FlagDef("force", "Force removal, ignore nonexistent files").withShort("f"))
      .addArg(
        new ArgDef("FILE", "Files or directories to remove").required("Missing operand")
          .variadic().completes("path"),
      )
      .withHandler((cmd, ctx) => {
        const report = new Report("rm");
        const removed: string[] = [];
        const force = cmd.hasFlag("force");
        for (const target of cmd.positionalArgs) {
          const path = resolvePath(ctx.session.cwd, target);
          const info = ctx.fs.stat(path);
          if (path === "/") {
            report.error(
              path,
              "EACCES",
              `refusing to remove '${target}': it is the root directory`,
            );
            continue;
          }
          if (!info) {
            if (!force) {
              report.error(path, "ENOENT", `cannot remove '${target}': No such file or directory`);
            }
            continue;
          }
          if (info.kind === "dir" && !cmd.hasFlag("recursive") && !cmd.hasFlag("dir")) {
            report.error(
              path,
              "EISDIR",
              `cannot remove '${target}': Is a directory (use -r or -d)`,
            );
            continue;
          }
          try {
            ctx.fs.remove(path, { recursive: cmd.hasFlag("recursive") });
            removed.push(path);
          } catch (error) {
            report.error(
              path,
              fsErrorCode(error),
              `cannot remove '${target}': ${fsErrorText(error)}`,
            );
          }
        }
        return report.outcome({ removed });
      }),
  );

  const transfer =
    (name: "cp" | "mv") => (cmd: import("../parser.ts").ParsedCommand, ctx: C): CommandOutcome => {
      const report = new Report(name);
      if (cmd.argCount < 2) {
        return failure("MISSING_ARGUMENT", `${name}: missing operand`, `${name}: missing operand`);
      }
      const destArg = cmd.positionalArgs[cmd.argCount - 1];
      const dest = resolvePath(ctx.session.cwd, destArg);
      const sources = cmd.positionalArgs.slice(0, -1);
      const destInfo = ctx.fs.stat(dest);
      if (sources.length > 1 && destInfo?.kind !== "dir") {
        return failure(
          "ENOTDIR",
          `${name}: target '${destArg}' is not a directory`,
          `${name}: target '${destArg}' is not a directory`,
        );
      }
      const done: { from: string; to: string }[] = [];
      for (const source of sources) {
        const from = resolvePath(ctx.session.cwd, source);
        const info = ctx.fs.stat(from);
        if (!info) {
          report.error(from, "ENOENT", `cannot stat '${source}': No such file or directory`);
          continue;
        }
        if (name === "cp" && info.kind === "dir" && !cmd.hasFlag("recursive")) {
          report.error(from, "EISDIR", `-r not specified; omitting directory '${source}'`);
          continue;
        }
        const to = destInfo?.kind === "dir" ? joinPath(dest, basename(from)) : dest;
        try {
          if (name === "cp") ctx.fs.copy(from, to, { recursive: info.kind === "dir" });
          else ctx.fs.rename(from, to);
          done.push({ from, to });
        } catch (error) {
          const verb = name === "cp" ? "copy" : "move";
          report.error(
            from,
            fsErrorCode(error),
            `cannot ${verb} '${source}' to '${to}': ${fsErrorText(error)}`,
          );
        }
      }
      return report.outcome({ [name === "cp" ? "copied" : "moved"]: done });
    };

  tree.add(
    "cp",
    new CommandNode<C>("Copy files")
      .withUsage("cp [OPTIONS] <SOURCE> <DEST> | cp [OPTIONS] <SOURCE...> <DIRECTORY>")
      .addFlag(new FlagDef("recursive", "Copy directories recursively").withShort("r"))
      .addArg(new ArgDef("PATH", "Sources, then the destination").variadic().completes("path"))
      .withHandler(transfer("cp")),
  );

  tree.add(
    "mv",
    new CommandNode<C>("Move/rename files")
      .withUsage("mv <SOURCE> <DEST> | mv <SOURCE1> [SOURCE2...] <DIRECTORY>")
      .addArg(new ArgDef("PATH", "Sources, then the destination").variadic().completes("path"))
      .withHandler(transfer("mv")),
  );

  tree.add(
    "touch",
    new CommandNode<C>("Create empty files")
      .withUsage("touch <FILE1> [FILE2...]")
      .addArg(
        new ArgDef("FILE", "Files to create or update").required("Missing operand")
          .variadic().completes("path"),
      )
      .withHandler((cmd, ctx) => {
        const report = new Report("touch");
        const touched: string[] = [];
        for (const target of cmd.positionalArgs) {
          const path = resolvePath(ctx.session.cwd, target);
          try {
            // Appending nothing creates a missing file and refreshes an existing one's mtime.
            ctx.fs.writeFile(path, new Uint8Array(0), { append: true });
            touched.push(path);
          } catch (error) {
            report.error(path, fsErrorCode(error), `${target}: ${fsErrorText(error)}`);
          }
        }
        return report.outcome({ touched });
      }),
  );
}
