/**
 * Snapshots: `vm snapshot <VM> [NAME] [--stop]`, `vm snapshot list <VM>`,
 * `vm snapshot delete <VM> <NAME>`, `vm restore <VM> <NAME|PATH>`,
 * `vm restore --new <FILE> [--id N] [--name X]` and `vm clone <VM> <NEW-NAME> [--id N]`.
 *
 * Snapshots live in the VM's data folder (`<data>/<name>/snapshots/<NAME>.axsnap`); a NAME
 * with a `/` is a path in the filesystem instead (relative to the working directory).
 *
 * @module
 */

import type { FileSystem } from "../../vmm/filesystem.ts";
import type { Vm } from "../../vmm/mod.ts";
import { VmRecords } from "../vm_records.ts";
import { readSnapshotHeader, SnapshotFormatError } from "../../vmm/snapshot_file.ts";
import { SnapshotError } from "../../vmm/snapshot_types.ts";
import { vmStatusName } from "../../vmm/status.ts";
import { ArgDef, CommandNode, FlagDef, OptionDef } from "../command_tree.ts";
import { fsErrorText } from "../fs_errors.ts";
import { type CommandOutcome, failure, success } from "../outcome.ts";
import { resolvePath } from "../paths.ts";
import { parseUnsigned } from "../format.ts";
import { notFoundError, notFoundLine, resolveVm, type ShellContext } from "./vm_target.ts";

/** File extension of snapshot files in a data folder. */
export const SNAPSHOT_EXTENSION = ".axsnap";

const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;

/** Why `name` cannot name a snapshot in a data folder, or undefined. */
export function snapshotNameProblem(name: string): string | undefined {
  return NAME_RE.test(name)
    ? undefined
    : `snapshot name '${name}' must be 1-64 letters, digits, '_', '-' or '.' (not starting with '.' or '-'); give a path with '/' to write elsewhere`;
}

/** The snapshots folder of a VM. */
export function snapshotDir(ctx: ShellContext, vm: Vm): string {
  return `${ctx.data.folderOf(vm.name)}/snapshots`;
}

/**
 * Where snapshot `name` of `vm` lives: in the VM's data folder (on the data filesystem), or, for
 * a name with `/`, at that path of the shell's filesystem.
 */
function locate(ctx: ShellContext, vm: Vm, name: string): { fs: FileSystem; path: string } {
  if (name.includes("/")) return { fs: ctx.fs, path: resolvePath(ctx.session.cwd, name) };
  const problem = snapshotNameProblem(name);
  if (problem) throw new SnapshotError("INVALID_ARGUMENT", problem);
  return { fs: ctx.data.fs, path: `${snapshotDir(ctx, vm)}/${name}${SNAPSHOT_EXTENSION}` };
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** An error of these commands as an outcome. */
function errorOutcome(e: unknown, prefix: string): CommandOutcome {
  if (e instanceof SnapshotFormatError || e instanceof SnapshotError) {
    return failure(e.code, `${prefix}: ${e.message}`, `✗ ${prefix}: ${e.message}`);
  }
  const message = (e as Error).message ?? String(e);
  return failure("FAILED", `${prefix}: ${message}`, `✗ ${prefix}: ${message}`);
}

function vmOf(ctx: ShellContext, arg: string): Vm | CommandOutcome {
  const target = resolveVm(ctx.hypervisor, arg);
  if (target.vm) return target.vm;
  const error = notFoundError(target);
  return failure(error.code, error.message, notFoundLine(target));
}

function nextName(ctx: ShellContext, vm: Vm): string {
  const taken = new Set(listSnapshots(ctx, vm).map((s) => s.name));
  let n = 1;
  while (taken.has(`snap${n}`)) n++;
  return `snap${n}`;
}

/** Snapshot files of a VM's folder: name, path, size. */
function listSnapshots(ctx: ShellContext, vm: Vm): { name: string; path: string; size: number }[] {
  const dir = snapshotDir(ctx, vm);
  if (ctx.data.fs.stat(dir)?.kind !== "dir") return [];
  return ctx.data.fs.readDir(dir)
    .filter((f) => f.kind === "file" && f.name.endsWith(SNAPSHOT_EXTENSION))
    .map((f) => ({
      name: f.name.slice(0, -SNAPSHOT_EXTENSION.length),
      path: `${dir}/${f.name}`,
      size: f.size,
    }));
}

/** Builds `vm snapshot` (with `list` and `delete`). */
export function vmSnapshotCommand(): CommandNode<ShellContext> {
  return new CommandNode<ShellContext>("Save a VM's whole state to a snapshot file")
    .withUsage(
      "vm snapshot <VM> [NAME] [--stop] | vm snapshot list <VM> | vm snapshot delete <VM> <NAME>",
    )
    .addFlag(new FlagDef("stop", "Stop the VM after the snapshot instead of letting it run on"))
    .addArg(new ArgDef("VM", "VM to save (id or name)").required().completes("vm"))
    .addArg(new ArgDef("NAME", "Snapshot name (default snapN), or a path containing '/'"))
    .addSubcommand("list", snapshotListCommand())
    .addSubcommand("delete", snapshotDeleteCommand())
    .withHandler(async (cmd, ctx) => {
      const vm = vmOf(ctx, cmd.getArg(0)!);
      if (!("vcpus" in vm)) return vm;
      const stop = cmd.hasFlag("stop");
      let name = cmd.getArg(1);
      let fs: FileSystem, path: string;
      try {
        name ??= nextName(ctx, vm);
        ({ fs, path } = locate(ctx, vm, name));
      } catch (e) {
        return errorOutcome(e, `cannot snapshot VM[${vm.id}]`);
      }
      const started = performance.now();
      let result;
      try {
        result = await ctx.hypervisor.snapshot(vm, { name, stop });
      } catch (e) {
        return errorOutcome(e, `cannot snapshot VM[${vm.id}]`);
      }
      try {
        const dir = path.slice(0, path.lastIndexOf("/")) || "/";
        fs.mkdir(dir, { recursive: true });
        // Written next to the target, then renamed: a crash never leaves half a snapshot.
        fs.writeFile(`${path}.partial`, result.bytes);
        fs.rename(`${path}.partial`, path);
      } catch (e) {
        return failure(
          "FS_ERROR",
          `cannot write snapshot ${path}: ${fsErrorText(e)}`,
          `✗ cannot write snapshot ${path}: ${fsErrorText(e)}`,
        );
      }
      const ms = performance.now() - started;
      const lines = [
        `✓ VM[${vm.id}] snapshot '${name}' saved to ${path} (${
          formatBytes(result.bytes.length)
        }, ${result.pages} memory pages, ${ms.toFixed(0)} ms, VM held ${
          result.pauseMs.toFixed(1)
        } ms)`,
      ];
      if (stop) lines.push(`  VM[${vm.id}] is ${vmStatusName(vm.status)}`);
      return success(lines.join("\n"), {
        vmId: vm.id,
        name,
        path,
        bytes: result.bytes.length,
        pages: result.pages,
        statusAtSnapshot: result.status,
        status: vm.status,
        pauseMs: result.pauseMs,
      });
    });
}

function snapshotListCommand(): CommandNode<ShellContext> {
  return new CommandNode<ShellContext>("List a VM's snapshots")
    .withUsage("vm snapshot list <VM>")
    .readOnly()
    .addArg(new ArgDef("VM", "VM (id or name)").required().completes("vm"))
    .withHandler((cmd, ctx) => {
      const vm = vmOf(ctx, cmd.getArg(0)!);
      if (!("vcpus" in vm)) return vm;
      const rows = listSnapshots(ctx, vm).map((s) => {
        let savedAtNs: number | undefined;
        let problem: string | undefined;
        try {
          const head = ctx.data.fs.readFile(s.path);
          savedAtNs = readSnapshotHeader(head, s.path).savedAtNs;
        } catch (e) {
          problem = (e as Error).message;
        }
        return { ...s, savedAtNs, problem };
      });
      if (rows.length === 0) {
        return success(`VM[${vm.id}] has no snapshots (in ${snapshotDir(ctx, vm)})`, {
          vmId: vm.id,
          snapshots: [],
        });
      }
      const w = Math.max(4, ...rows.map((r) => r.name.length));
      const lines = [`${"NAME".padEnd(w)}  ${"SIZE".padStart(10)}  SAVED AT (virtual)`];
      for (const r of rows) {
        lines.push(
          `${r.name.padEnd(w)}  ${formatBytes(r.size).padStart(10)}  ${
            r.problem ? `unreadable: ${r.problem}` : `${(r.savedAtNs! / 1e9).toFixed(3)} s`
          }`,
        );
      }
      return success(lines.join("\n"), { vmId: vm.id, snapshots: rows });
    });
}

function snapshotDeleteCommand(): CommandNode<ShellContext> {
  return new CommandNode<ShellContext>("Delete a VM's snapshot")
    .withUsage("vm snapshot delete <VM> <NAME>")
    .addArg(new ArgDef("VM", "VM (id or name)").required().completes("vm"))
    .addArg(new ArgDef("NAME", "Snapshot name").required())
    .withHandler((cmd, ctx) => {
      const vm = vmOf(ctx, cmd.getArg(0)!);
      if (!("vcpus" in vm)) return vm;
      const name = cmd.getArg(1)!;
      let fs: FileSystem, path: string;
      try {
        ({ fs, path } = locate(ctx, vm, name));
      } catch (e) {
        return errorOutcome(e, "cannot delete snapshot");
      }
      if (fs.stat(path)?.kind !== "file") {
        return failure(
          "NOT_FOUND",
          `VM[${vm.id}] has no snapshot '${name}'`,
          `✗ VM[${vm.id}] has no snapshot '${name}'`,
        );
      }
      try {
        fs.remove(path);
      } catch (e) {
        return failure("FS_ERROR", `cannot remove ${path}: ${fsErrorText(e)}`);
      }
      return success(`✓ VM[${vm.id}] snapshot '${name}' deleted`, { vmId: vm.id, name, path });
    });
}

function readFile(fs: FileSystem, path: string): Uint8Array | CommandOutcome {
  try {
    if (fs.stat(path)?.kind !== "file") {
      return failure(
        "NOT_FOUND",
        `snapshot ${path} does not exist`,
        `✗ snapshot ${path} does not exist`,
      );
    }
    return fs.readFile(path);
  } catch (e) {
    return failure("FS_ERROR", `cannot read ${path}: ${fsErrorText(e)}`);
  }
}

function idOption(value: string | undefined): number | undefined | CommandOutcome {
  if (value === undefined) return undefined;
  const id = parseUnsigned(value);
  if (id === undefined) {
    return failure("INVALID_ARGUMENT", `--id ${value} is not a VM id (a non-negative integer)`);
  }
  return id;
}

/** Builds `vm restore`. */
export function vmRestoreCommand(): CommandNode<ShellContext> {
  return new CommandNode<ShellContext>("Restore a VM from a snapshot (or create one with --new)")
    .withUsage("vm restore <VM> <NAME|PATH> | vm restore --new <FILE> [--id N] [--name X]")
    .addFlag(new FlagDef("new", "Create a new VM from the snapshot FILE"))
    .addOption(new OptionDef("id", "Id of the new VM (--new)").withValueType("N"))
    .addOption(new OptionDef("name", "Name of the new VM (--new)").withValueType("NAME"))
    .addArg(
      new ArgDef("VM", "VM to restore into (id or name); with --new, the FILE").required()
        .completes("vm"),
    )
    .addArg(new ArgDef("NAME", "Snapshot name in the VM's folder, or a path containing '/'"))
    .withHandler(async (cmd, ctx) => {
      if (cmd.hasFlag("new")) {
        if (cmd.getArg(1) !== undefined) {
          return failure(
            "INVALID_ARGUMENT",
            "vm restore --new takes one FILE (use --id and --name)",
          );
        }
        const path = resolvePath(ctx.session.cwd, cmd.getArg(0)!);
        const file = readFile(ctx.fs, path);
        if (!(file instanceof Uint8Array)) return file;
        const id = idOption(cmd.getOption("id"));
        if (id !== undefined && typeof id !== "number") return id;
        try {
          const r = await ctx.hypervisor.restoreNew(file, {
            id,
            name: cmd.getOption("name"),
            what: path,
          });
          const vm = ctx.hypervisor.vm(r.vmId)!;
          const problem = new VmRecords(ctx.data).record(vm, "restore");
          return success(
            `✓ VM[${vm.id}] '${vm.name}' created from ${path} (${vmStatusName(vm.status)})` +
              (problem ? `\n  ⚠ warning: ${problem}` : ""),
            { vmId: vm.id, name: vm.name, path, status: vm.status, applyMs: r.applyMs },
          );
        } catch (e) {
          return errorOutcome(e, `cannot restore ${path}`);
        }
      }
      if (cmd.getOption("id") !== undefined || cmd.getOption("name") !== undefined) {
        return failure("INVALID_ARGUMENT", "--id and --name go with --new");
      }
      const vm = vmOf(ctx, cmd.getArg(0)!);
      if (!("vcpus" in vm)) return vm;
      const name = cmd.getArg(1);
      if (name === undefined) {
        return failure(
          "MISSING_ARGUMENT",
          "vm restore needs a snapshot NAME",
          `Error: vm restore needs a snapshot NAME\nUsage: vm restore <VM> <NAME|PATH>`,
        );
      }
      let fs: FileSystem, path: string;
      try {
        ({ fs, path } = locate(ctx, vm, name));
      } catch (e) {
        return errorOutcome(e, `cannot restore VM[${vm.id}]`);
      }
      const file = readFile(fs, path);
      if (!(file instanceof Uint8Array)) return file;
      try {
        const r = await ctx.hypervisor.restore(vm, file, path);
        return success(
          `✓ VM[${vm.id}] restored from snapshot '${name}' (${vmStatusName(r.previousStatus)} -> ${
            vmStatusName(r.status)
          })`,
          {
            vmId: vm.id,
            name,
            path,
            previousStatus: r.previousStatus,
            status: r.status,
            applyMs: r.applyMs,
          },
        );
      } catch (e) {
        return errorOutcome(e, `cannot restore VM[${vm.id}]`);
      }
    });
}

/** Builds `vm clone`. */
export function vmCloneCommand(): CommandNode<ShellContext> {
  return new CommandNode<ShellContext>("Copy a VM (memory shared copy-on-write)")
    .withUsage("vm clone <VM> <NEW-NAME> [--id N]")
    .addOption(
      new OptionDef("id", "Id of the new VM (default: the next free one)").withValueType("N"),
    )
    .addArg(new ArgDef("VM", "VM to copy (id or name)").required().completes("vm"))
    .addArg(new ArgDef("NEW-NAME", "Name of the copy").required())
    .withHandler((cmd, ctx) => {
      const src = vmOf(ctx, cmd.getArg(0)!);
      if (!("vcpus" in src)) return src;
      const id = idOption(cmd.getOption("id"));
      if (id !== undefined && typeof id !== "number") return id;
      const started = performance.now();
      try {
        const vm = ctx.hypervisor.clone(src, { name: cmd.getArg(1)!, id });
        const ms = performance.now() - started;
        const shared = vm.regions.reduce((n, r) => n + (r.memory?.sharedPages ?? 0), 0);
        const problem = new VmRecords(ctx.data).record(vm, "clone");
        return success(
          `✓ VM[${src.id}] cloned to VM[${vm.id}] '${vm.name}' (${
            vmStatusName(vm.status)
          }, ${shared} pages shared copy-on-write, ${ms.toFixed(1)} ms)` +
            (problem ? `\n  ⚠ warning: ${problem}` : ""),
          { sourceId: src.id, vmId: vm.id, name: vm.name, status: vm.status, sharedPages: shared },
        );
      } catch (e) {
        return errorOutcome(e, `cannot clone VM[${src.id}]`);
      }
    });
}

/** Builds `vm autostart`. */
export function vmAutostartCommand(): CommandNode<ShellContext> {
  return new CommandNode<ShellContext>("Mark a recorded VM to be started at program start")
    .withUsage("vm autostart <VM> on|off")
    .addArg(new ArgDef("VM", "Recorded VM (id or name)").required().completes("vm"))
    .addArg(new ArgDef("STATE", "on or off").required().withChoices(["on", "off"]))
    .withHandler((cmd, ctx) => {
      const vm = vmOf(ctx, cmd.getArg(0)!);
      if (!("vcpus" in vm)) return vm;
      const state = cmd.getArg(1)!;
      if (state !== "on" && state !== "off") {
        return failure("INVALID_ARGUMENT", `autostart must be 'on' or 'off', not '${state}'`);
      }
      try {
        new VmRecords(ctx.data).setAutostart(vm, state === "on");
      } catch (e) {
        return failure("NOT_RECORDED", (e as Error).message, `✗ ${(e as Error).message}`);
      }
      return success(
        `✓ VM[${vm.id}] autostart ${state}${
          state === "on" ? " (started when the program starts with --autostart)" : ""
        }`,
        { vmId: vm.id, autostart: state === "on" },
      );
    });
}
