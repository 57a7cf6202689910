/**
 * The AxVisor shell: the command tree with every command, bound to a hypervisor and its root
 * filesystem. It never prints: {@linkcode Shell.execute} returns a {@linkcode CommandOutcome}
 * that the protocol renders as text or JSON.
 *
 * @example
 * ```ts ignore
 * const shell = new Shell({ hypervisor, fs });
 * shell.bootDefaultVms();
 * const session = new ShellSession();
 * const outcome = await shell.execute("vm list --format json", session);
 * ```
 *
 * @module
 */

import type { FileSystem } from "../vmm/filesystem.ts";
import type { Hypervisor } from "../vmm/mod.ts";
import { canResumeVm, canStartVm, canStopVm, canSuspendVm, type VmStatus } from "../vmm/status.ts";
import { CommandNode, CommandTree } from "./command_tree.ts";
import { registerBaseCommands } from "./commands/base.ts";
import { configCommand } from "./commands/config_check.ts";
import { registerFsCommands } from "./commands/fs.ts";
import {
  vmAutostartCommand,
  vmCloneCommand,
  vmRestoreCommand,
  vmSnapshotCommand,
} from "./commands/vm_snapshot.ts";
import { vcpuDumpCommand, vcpuListCommand, vcpuPinCommand } from "./commands/vcpu.ts";
import {
  vmConsoleCommand,
  vmLogCommand,
  vmSendCommand,
  vmWaitCommand,
} from "./commands/vm_console.ts";
import { vmListCommand, vmShowCommand, vmStatsCommand } from "./commands/vm_info.ts";
import {
  vmCreateCommand,
  vmDeleteCommand,
  vmRestartCommand,
  vmResumeCommand,
  vmStartCommand,
  vmStopCommand,
  vmSuspendCommand,
} from "./commands/vm_lifecycle.ts";
import type { ShellContext } from "./commands/vm_target.ts";
import { completeLine, type Completion } from "./completion.ts";
import type { ExecuteOptions } from "./cancel.ts";
import type { SystemInfo } from "./context.ts";
import { type CommandOutcome, success } from "./outcome.ts";
import { CommandRunner } from "./runner.ts";
import { ShellSession } from "./session.ts";
import { type ConsoleLogOptions, DEFAULT_DATA_DIR, VmDataFolders } from "./vm_data.ts";
import { VmRecords } from "./vm_records.ts";

/** The shell's version, reported by `uname`. */
export const SHELL_VERSION = "0.1.0";

/** Where AxVisor looks for the VMs to create at start-up. */
export const DEFAULT_VM_DIR = "/guest/vm_default";

/** Options of {@linkcode Shell}. */
export interface ShellOptions {
  /** The hypervisor the VM commands drive. */
  hypervisor: Hypervisor;
  /** The hypervisor's root filesystem (commands, `vm create`, data folders). */
  fs: FileSystem;
  /** Overrides of what `uname` reports. */
  system?: Partial<SystemInfo>;
  /** Root of the VM data folders. Default `/guest/vms`. */
  dataDir?: string;
  /** Console log cap (default 1 MiB x 3 files per VM), or `false` for no console logs. */
  consoleLog?: ConsoleLogOptions | false;
  /**
   * Filesystem of the VM data folders (logs, records, snapshots). Default: `fs`. The program
   * gives a per-user data location here unless `--fs-root` is given.
   */
  dataFs?: FileSystem;
  /** Folder of the VM configs created by {@linkcode Shell.bootDefaultVms}. */
  defaultVmDir?: string;
}

/** The prompt of the real shell: `axvisor:/guest$ `. */
export function promptFor(session: ShellSession): string {
  return `axvisor:${session.cwd}$ `;
}

/** Builds the command tree with every command (base, filesystem, vm, vcpu, config). */
export function buildCommandTree(): CommandTree<ShellContext> {
  const tree = new CommandTree<ShellContext>("AxVisor Shell");
  registerBaseCommands(tree);
  registerFsCommands(tree);
  tree.add(
    "vm",
    new CommandNode<ShellContext>("Virtual machine management")
      .withUsage("vm <COMMAND> [OPTIONS] [ARGS]")
      .addSubcommand("create", vmCreateCommand())
      .addSubcommand("start", vmStartCommand())
      .addSubcommand("stop", vmStopCommand())
      .addSubcommand("suspend", vmSuspendCommand())
      .addSubcommand("resume", vmResumeCommand())
      .addSubcommand("restart", vmRestartCommand())
      .addSubcommand("delete", vmDeleteCommand())
      .addSubcommand("list", vmListCommand())
      .addSubcommand("show", vmShowCommand())
      .addSubcommand("stats", vmStatsCommand())
      .addSubcommand("console", vmConsoleCommand())
      .addSubcommand("send", vmSendCommand())
      .addSubcommand("log", vmLogCommand())
      .addSubcommand("wait", vmWaitCommand())
      .addSubcommand("snapshot", vmSnapshotCommand())
      .addSubcommand("restore", vmRestoreCommand())
      .addSubcommand("clone", vmCloneCommand())
      .addSubcommand("autostart", vmAutostartCommand()),
  );
  tree.add(
    "vcpu",
    new CommandNode<ShellContext>("Virtual CPU inspection and placement")
      .withUsage("vcpu <COMMAND> [ARGS]")
      .addSubcommand("list", vcpuListCommand())
      .addSubcommand("dump", vcpuDumpCommand())
      .addSubcommand("pin", vcpuPinCommand()),
  );
  tree.add("config", configCommand());
  return tree;
}

/** The AxVisor shell bound to one hypervisor. */
export class Shell {
  /** The hypervisor. */
  readonly hypervisor: Hypervisor;
  /** The root filesystem. */
  readonly fs: FileSystem;
  /** The command tree (for help, completion and extensions). */
  readonly tree: CommandTree<ShellContext>;
  /** What `uname` reports. */
  readonly system: SystemInfo;
  /** The VMs' data folders. */
  readonly data: VmDataFolders;
  /** Folder of the start-up VM configs. */
  readonly defaultVmDir: string;
  readonly #runner: CommandRunner<ShellContext>;

  /** Creates the shell; it starts keeping VM data folders at once. */
  constructor(options: ShellOptions) {
    this.hypervisor = options.hypervisor;
    this.fs = options.fs;
    this.defaultVmDir = options.defaultVmDir ?? DEFAULT_VM_DIR;
    const board = options.hypervisor.board;
    this.system = {
      kernel: "AxVisor",
      version: SHELL_VERSION,
      arch: "riscv64",
      platform: board.name,
      smp: board.cpus.hartIds.length > 1,
      ...options.system,
    };
    this.tree = buildCommandTree();
    this.data = new VmDataFolders(
      this.hypervisor,
      options.dataFs ?? this.fs,
      options.dataDir ?? DEFAULT_DATA_DIR,
      options.consoleLog ?? {},
    );
    this.#runner = new CommandRunner(this.tree, this.fs, (session, path, signal) => ({
      session,
      ...(signal ? { signal } : {}),
      fs: this.fs,
      system: this.system,
      path,
      hypervisor: this.hypervisor,
      data: this.data,
    }));
  }

  /**
   * Runs one command line for `session`: history, quotes and escapes, `> FILE` redirection,
   * `--help`, parsing, read-only checks and the command. Never throws. Aborting
   * `options.signal` cancels the command: commands that wait then fail with code `CANCELLED`.
   */
  execute(
    line: string,
    session: ShellSession,
    options: ExecuteOptions = {},
  ): Promise<CommandOutcome> {
    // Partial console lines reach vm.log before any command can look at it.
    this.data.flush();
    return this.#runner.execute(line, session, options);
  }

  /**
   * Runs a command given as words (no quoting, redirection or history). Never throws;
   * `options.signal` cancels it as in {@linkcode Shell.execute}.
   */
  executeArgv(
    argv: string[],
    session: ShellSession,
    options: ExecuteOptions = {},
  ): Promise<CommandOutcome> {
    this.data.flush();
    return this.#runner.executeArgv(argv, session, options);
  }

  /** Candidate words for the word being typed at the end of `line` (see {@linkcode completion}). */
  complete(line: string, session: ShellSession): string[] {
    return this.completion(line, session).candidates;
  }

  /** Completion with the word being replaced and where it starts (for line editors). */
  completion(line: string, session: ShellSession): Completion {
    return completeLine(this.tree, line, {
      cwd: session.cwd,
      vmNames: (command) =>
        this.hypervisor.vms()
          .filter((vm) => vmAppliesTo(command, vm.status))
          .flatMap((vm) => [String(vm.id), vm.name]),
      listDir: (path) => {
        try {
          return this.fs.readDir(path);
        } catch {
          return [];
        }
      },
    });
  }

  /**
   * Creates the VMs described by `<defaultVmDir>/*.toml` (sorted by name), as AxVisor does at
   * boot, and with `start` starts them. Returns the `vm create` (and `vm start`) outcome; a
   * missing folder is not an error.
   */
  async bootDefaultVms(options: { start?: boolean } = {}): Promise<CommandOutcome> {
    const dir = this.defaultVmDir;
    const info = this.fs.stat(dir);
    if (info?.kind !== "dir") {
      return success(`No default VMs: ${dir} does not exist`, { created: [] });
    }
    const files = this.fs.readDir(dir)
      .filter((e) => e.kind === "file" && e.name.endsWith(".toml"))
      .map((e) => `${dir}/${e.name}`);
    if (files.length === 0) {
      return success(`No default VMs: ${dir} has no .toml file`, { created: [] });
    }
    const admin = new ShellSession({ name: "boot" });
    // Transient: they come from their own files at every start, as AxVisor's do.
    const created = await this.executeArgv(["vm", "create", "--transient", ...files], admin);
    if (!options.start) return created;
    const ids = ((created.data as { created?: { vmId: number }[] })?.created ?? [])
      .map((c) => String(c.vmId));
    if (ids.length === 0) return created;
    const started = await this.executeArgv(["vm", "start", ...ids], admin);
    return {
      ok: created.ok && started.ok,
      text: `${created.text}\n${started.text}`,
      data: { create: created.data, start: started.data },
      ...(created.error ?? started.error ? { error: created.error ?? started.error } : {}),
    };
  }

  /**
   * Creates every VM recorded in the data location (made by `vm create`, `vm restore --new` or
   * `vm clone` in an earlier run), Loaded, in id order. Returns the outcome and the VMs marked
   * for autostart.
   */
  recreateRecordedVms(): { outcome: CommandOutcome; autostart: number[] } {
    const r = new VmRecords(this.data).recreateAll(this.hypervisor);
    const text = [...r.lines, ...r.problems.map((p) => `⚠ ${p}`)].join("\n");
    const data = {
      created: r.created.map((vm) => ({ vmId: vm.id, name: vm.name })),
      problems: r.problems,
    };
    const outcome: CommandOutcome = r.problems.length === 0
      ? success(text, data)
      : { ok: false, text, data, error: { code: "RECORDS", message: r.problems.join("; ") } };
    return { outcome, autostart: r.autostart.map((vm) => vm.id) };
  }

  /** Writes buffered console output to the VMs' `vm.log` files. */
  flushLogs(): void {
    this.data.flush();
  }

  /** Flushes logs and stops following the hypervisor's events. */
  dispose(): void {
    this.data.dispose();
  }
}

/**
 * Whether completing a VM for `command` should offer a VM in `status`: `vm stop` offers the VMs
 * it would stop (not the stopped ones), `vm start`, `suspend` and `resume` likewise; other
 * commands every VM.
 */
function vmAppliesTo(command: readonly string[] | undefined, status: VmStatus): boolean {
  if (!command || command[0] !== "vm") return true;
  switch (command[1]) {
    case "start":
      return canStartVm(status) === undefined;
    case "stop":
      return canStopVm(status, false) === undefined;
    case "suspend":
      return canSuspendVm(status) === undefined;
    case "resume":
      return canResumeVm(status) === undefined;
    default:
      return true;
  }
}
