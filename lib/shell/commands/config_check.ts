/**
 * `config check <FILE...>`: validates VM configs without creating anything. Problems that
 * would make `vm create` fail (unreadable file, TOML or schema errors, CPUs the board does not
 * have, a missing or broken kernel/bios/dtb/ramdisk image) are errors; problems that may be fixed
 * before creating (an id already in use, an entry point outside memory) are warnings. The command fails on any error.
 *
 * @module
 */

import {
  ConfigError,
  configKeyLine,
  MapType,
  parseVmConfig,
  type VmConfig,
} from "../../vmm/config.ts";
import { ImageError, readGuestImage } from "../../vmm/image_loader.ts";
import type { Hypervisor } from "../../vmm/mod.ts";
import { type FileSystem, FsError } from "../../vmm/filesystem.ts";
import { ArgDef, CommandNode } from "../command_tree.ts";
import { fsErrorText } from "../fs_errors.ts";
import { formatMemorySize, hex } from "../format.ts";
import { failure, success } from "../outcome.ts";
import { expandGlob, GlobError, hasWildcards } from "../glob.ts";
import { resolvePath } from "../paths.ts";
import type { ShellContext } from "./vm_target.ts";

/** What `config check` found in one file. */
export interface ConfigReport {
  /** The file as resolved. */
  path: string;
  /** Errors: `vm create` would fail. */
  errors: string[];
  /** Warnings: worth fixing, not fatal here. */
  warnings: string[];
  /** The parsed config's summary, when it parsed. */
  vm?: { id: number; name: string; vcpus: number; memoryBytes: number; entryPoint: number };
}

function inRegions(config: VmConfig, addr: number): boolean {
  return config.kernel.memoryRegions.some((r) => addr >= r.gpa && addr < r.gpa + r.size);
}

/** Checks one config file against the filesystem, the board and the existing VMs. */
export function checkConfig(fs: FileSystem, hypervisor: Hypervisor, path: string): ConfigReport {
  const report: ConfigReport = { path, errors: [], warnings: [] };
  let text: string;
  try {
    text = fs.readTextFile(path);
  } catch (error) {
    report.errors.push(`${path}: cannot read: ${fsErrorText(error)}`);
    return report;
  }
  let config: VmConfig;
  try {
    config = parseVmConfig(text, path);
  } catch (error) {
    if (error instanceof ConfigError) {
      // Every problem of the file, not only the first.
      report.errors.push(...error.all.map((e) => e.message));
      return report;
    }
    throw error;
  }
  report.warnings.push(...config.warnings);
  const board = hypervisor.board;
  const pcpus = board.cpus.hartIds.length;
  if (config.base.cpuNum > pcpus) {
    const line = configKeyLine(text, "base", "cpu_num");
    report.warnings.push(
      `${path}${
        line !== undefined ? `:${line}` : ""
      }: base.cpu_num: ${config.base.cpuNum} vCPUs on board ${board.name}, which has ${pcpus} hart(s): vCPUs will share pCPUs (time-sliced)`,
    );
  }
  config.base.physCpuSets?.forEach((mask, i) => {
    if (mask >= 2 ** pcpus) {
      report.errors.push(
        `${path}: base.phys_cpu_sets[${i}]: mask ${
          hex(mask)
        } names pCPUs the board ${board.name} does not have (it has ${pcpus}: mask ${
          hex(2 ** pcpus - 1)
        })`,
      );
    }
  });
  config.base.physCpuIds?.forEach((hartId, i) => {
    if (!board.cpus.hartIds.includes(hartId)) {
      report.errors.push(
        `${path}: base.phys_cpu_ids[${i}]: CPU id ${hartId} does not exist on board ${board.name} (hart ids ${
          board.cpus.hartIds.join(", ")
        })`,
      );
    }
  });
  config.kernel.memoryRegions.forEach((r, i) => {
    if (r.mapType !== MapType.Identical) return;
    const inRam = board.memory.some((m) => r.gpa >= m.base && r.gpa + r.size <= m.base + m.size);
    if (!inRam) {
      report.errors.push(
        `${path}: kernel.memory_regions[${i}]: identical region ${hex(r.gpa)}+${
          hex(r.size)
        } is not inside the RAM of board ${board.name}`,
      );
    }
  });
  const existing = hypervisor.vm(config.base.id);
  if (existing) {
    report.warnings.push(
      `${path}: base.id: VM id ${config.base.id} is already used by VM[${existing.id}] '${existing.name}' (vm create would fail)`,
    );
  }
  const k = config.kernel;
  const images: [string, string | undefined][] = [
    ["kernel_path", k.imageLocation === "fs" ? k.kernelPath : undefined],
    ["bios_path", k.biosPath],
    ["dtb_path", k.dtbPath],
    ["ramdisk_path", k.ramdiskPath],
    ["disk_path", k.diskPath],
  ];
  // Images `vm create` reads are errors when missing or broken; the disk image is only a warning
  // (create does not read it).
  const loadAddrs: Record<string, number | undefined> = {
    kernel_path: k.kernelLoadAddr,
    bios_path: k.biosLoadAddr ?? 0,
  };
  for (const [key, file] of images) {
    if (file === undefined) continue;
    const line = configKeyLine(text, "kernel", key);
    const where = `${path}${line !== undefined ? `:${line}` : ""}: kernel.${key}`;
    const problems = key === "disk_path" ? report.warnings : report.errors;
    const info = fs.stat(file);
    if (!info) problems.push(`${where}: ${unreachableReason(fs, file)}`);
    else if (info.kind !== "file") problems.push(`${where}: ${file} is a directory`);
    else if (loadAddrs[key] !== undefined) {
      try {
        readGuestImage(fs, file, loadAddrs[key]);
      } catch (error) {
        if (!(error instanceof ImageError)) throw error;
        report.errors.push(`${where}: ${error.message}`);
      }
    }
  }
  if (!inRegions(config, k.entryPoint)) {
    report.warnings.push(
      `${path}: kernel.entry_point: ${hex(k.entryPoint)} is outside every memory region`,
    );
  }
  if (!inRegions(config, k.kernelLoadAddr)) {
    report.warnings.push(
      `${path}: kernel.kernel_load_addr: ${hex(k.kernelLoadAddr)} is outside every memory region`,
    );
  }
  report.vm = {
    id: config.base.id,
    name: config.base.name,
    vcpus: config.base.cpuNum,
    memoryBytes: config.kernel.memoryRegions.reduce((s, r) => s + r.size, 0),
    entryPoint: k.entryPoint,
  };
  return report;
}

/** Builds `config check` (the `config` group's only command for now). */
export function configCommand(): CommandNode<ShellContext> {
  return new CommandNode<ShellContext>("VM configuration tools")
    .addSubcommand(
      "check",
      new CommandNode<ShellContext>("Validate VM config files without creating VMs")
        .withUsage("config check <CONFIG_FILE...>")
        .withNotes(
          "File names may use wildcards: *, ? and [a-z] (e.g. config check /configs/*.toml).",
        )
        .addArg(
          new ArgDef("CONFIG_FILE", "AxVisor VM config files (TOML); wildcards allowed")
            .required("No VM configuration file specified").variadic().completes("path"),
        )
        .readOnly()
        .withHandler((cmd, ctx) => {
          const reports: ConfigReport[] = [];
          const lines: string[] = [];
          const ids = new Map<number, string>();
          const targets: { arg: string; path: string }[] = [];
          for (const arg of cmd.positionalArgs) {
            const path = resolvePath(ctx.session.cwd, arg);
            if (!hasWildcards(arg)) {
              targets.push({ arg, path });
              continue;
            }
            let matches: string[];
            try {
              matches = expandGlob(ctx.fs, path);
            } catch (error) {
              if (!(error instanceof GlobError)) throw error;
              reports.push({ path, errors: [error.message], warnings: [] });
              lines.push(`Checking ${arg}`, `  ✗ error: ${error.message}`);
              continue;
            }
            if (matches.length === 0) {
              const message = `${arg}: no file matches the pattern`;
              reports.push({ path, errors: [message], warnings: [] });
              lines.push(`Checking ${arg}`, `  ✗ error: ${message}`);
            }
            for (const m of matches) targets.push({ arg: m, path: m });
          }
          for (const { arg, path } of targets) {
            const report = checkConfig(ctx.fs, ctx.hypervisor, path);
            if (report.vm) {
              const other = ids.get(report.vm.id);
              if (other !== undefined) {
                report.warnings.push(
                  `${path}: base.id: VM id ${report.vm.id} is also used by ${other}`,
                );
              } else ids.set(report.vm.id, path);
            }
            reports.push(report);
            lines.push(`Checking ${arg}`);
            for (const e of report.errors) lines.push(`  ✗ error: ${e}`);
            for (const w of report.warnings) lines.push(`  ⚠ warning: ${w}`);
            if (report.errors.length === 0 && report.vm) {
              const vm = report.vm;
              lines.push(
                `  ✓ VM[${vm.id}] '${vm.name}': ${vm.vcpus} vCPU(s), ${
                  formatMemorySize(vm.memoryBytes)
                }, entry ${hex(vm.entryPoint)}`,
              );
            }
          }
          const invalid = reports.filter((r) => r.errors.length > 0).length;
          const warnings = reports.reduce((s, r) => s + r.warnings.length, 0);
          lines.push(
            `Checked ${reports.length} config file(s): ${
              reports.length - invalid
            } valid, ${invalid} invalid, ${warnings} warning(s)`,
          );
          const data = { files: reports, valid: reports.length - invalid, invalid, warnings };
          if (invalid === 0) return success(lines.join("\n"), data);
          const first = reports.find((r) => r.errors.length > 0)!;
          return failure("ECONFIG", first.errors[0], lines.join("\n"), data);
        }),
    );
}

/** Why `file` (which `stat` does not show) cannot be read: missing, or refused (e.g. a link out). */
function unreachableReason(fs: FileSystem, file: string): string {
  try {
    fs.readFile(file);
  } catch (e) {
    if (e instanceof FsError && e.code !== "ENOENT") return e.message;
  }
  return `${file} not found`;
}
