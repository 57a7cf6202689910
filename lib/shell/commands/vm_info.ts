/**
 * The seed's read-only VM views: `vm list [--format table|json] [--state S]`,
 * `vm show [--full|--config|--stats] <VM>` and `vm stats <VM>` (VM-exit counts per reason and
 * per vCPU, instructions retired, virtual time).
 *
 * @module
 */

import type { Vm } from "../../vmm/mod.ts";
import { EXIT_KINDS } from "../../vmm/exit_reason.ts";
import {
  vcpuStateName,
  VM_STATUSES,
  type VmStatus,
  vmStatusName,
  vmStatusWithIcon,
} from "../../vmm/status.ts";
import { ArgDef, CommandNode, FlagDef, OptionDef } from "../command_tree.ts";
import { VmRecords } from "../vm_records.ts";
import { formatDuration, formatMemorySize, hex, padRight } from "../format.ts";
import { type CommandOutcome, failure, success } from "../outcome.ts";
import { formatJitStats, vmJitStats } from "./vm_jit_stats.ts";
import { notFoundError, notFoundLine, resolveVm, type ShellContext } from "./vm_target.ts";

/** Parses a VM status name in any case (`running`, `Running`); undefined if unknown. */
export function parseVmStatus(text: string): VmStatus | undefined {
  const lower = text.toLowerCase();
  return (VM_STATUSES as readonly string[]).includes(lower) ? lower as VmStatus : undefined;
}

/** The seed's JSON record of one VM in `vm list --format json`. */
function listRecord(vm: Vm) {
  return {
    id: vm.id,
    name: vm.name,
    state: vmStatusName(vm.status),
    vcpu: vm.vcpus.length,
    memory: formatMemorySize(vm.memorySize),
  };
}

/** Rust's `{:<w}` row, with trailing padding removed (for our own tables). */
function row(cells: (string | number)[], widths: number[]): string {
  return exactRow(cells, widths).trimEnd();
}

/** Rust's `{:<w} {:<w} ...` row exactly, trailing padding included (the seed's tables). */
function exactRow(cells: (string | number)[], widths: number[]): string {
  return cells.map((c, i) => padRight(c, widths[i])).join(" ");
}

/**
 * vCPU states counted the seed's way: a `BTreeMap` keyed by the state's name, so in byte
 * order of the names (seed lines 3088-3107 and 3469-3483), e.g. `Blk:1,Run:2`.
 */
function countByName(vm: Vm, name: (state: Vm["vcpus"][number]["state"]) => string) {
  const counts = new Map<string, number>();
  for (const v of vm.vcpus) counts.set(name(v.state), (counts.get(name(v.state)) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
}

/** The seed's `VCPU STATE` column of `vm list`: `Blk:1,Run:2`. */
export function vcpuStateSummary(vm: Vm): string {
  return vm.vcpuSummary();
}

const LIST_WIDTHS = [6, 15, 12, 15, 10, 20];

/**
 * The seed's VCPU column, `0,1,2`; a list longer than the column (9 vCPUs and more) is written
 * with ranges, `0-8`, so that the columns after it stay in place.
 */
export function vcpuIdList(vm: Vm, width: number): string {
  const ids = vm.vcpus.map((v) => v.id);
  const plain = ids.join(",");
  if (plain.length <= width) return plain;
  const parts: string[] = [];
  for (let i = 0; i < ids.length;) {
    let j = i;
    while (j + 1 < ids.length && ids[j + 1] === ids[j] + 1) j++;
    parts.push(j > i ? `${ids[i]}-${ids[j]}` : String(ids[i]));
    i = j + 1;
  }
  return parts.join(",");
}

/** `vm show`'s line saying why a stopped VM stopped (after the seed's Status line), if known. */
function stopReasonLines(vm: Vm): string[] {
  return vm.status === "stopped" && vm.stopReason ? [`  Stopped:   ${vm.stopReason}`] : [];
}

/** Builds `vm list`. */
export function vmListCommand(): CommandNode<ShellContext> {
  return new CommandNode<ShellContext>("List all virtual machines")
    .withUsage("vm list [OPTIONS]")
    .addOption(
      new OptionDef("format", "Output format").withShort("f").withValueType("FORMAT")
        .withDefault("table").withChoices(["table", "json"]),
    )
    .addOption(
      new OptionDef("state", "Only VMs in this state").withShort("s").withValueType("STATE")
        .withChoices([...VM_STATUSES]),
    )
    .addFlag(
      new FlagDef("autostart", "Add an AUTOSTART column (recorded VMs: on/off; others: -)"),
    )
    .readOnly()
    .withHandler((cmd, ctx) => {
      const stateArg = cmd.getOption("state");
      let vms = ctx.hypervisor.vms();
      if (stateArg !== undefined) {
        const state = parseVmStatus(stateArg)!;
        vms = vms.filter((vm) => vm.status === state);
      }
      const records = vms.map(listRecord);
      const data = {
        vms: vms.map((vm) => ({
          ...listRecord(vm),
          status: vm.status,
          stopReason: vm.status === "stopped" ? vm.stopReason : undefined,
          memoryBytes: vm.memorySize,
          vcpuIds: vm.vcpus.map((v) => v.id),
          vcpuStates: vcpuStateSummary(vm),
        })),
      };
      // Seed lines 3036-3039: an empty list says so, in either format.
      if (vms.length === 0) return success("No virtual machines found.", data);
      if (cmd.getOption("format") === "json") {
        return success(JSON.stringify({ vms: records }, null, 2), data);
      }
      // Seed lines 3063-3070 and 3117-3125: every cell padded, the last one too.
      const lines = [
        exactRow(["VM ID", "NAME", "STATUS", "VCPU", "MEMORY", "VCPU STATE"], LIST_WIDTHS),
        LIST_WIDTHS.map((w) => "-".repeat(w)).join(" "),
      ];
      for (const vm of vms) {
        lines.push(exactRow([
          vm.id,
          vm.name,
          vmStatusName(vm.status),
          vcpuIdList(vm, LIST_WIDTHS[3]),
          formatMemorySize(vm.memorySize),
          vcpuStateSummary(vm),
        ], LIST_WIDTHS));
      }
      if (cmd.hasFlag("autostart")) {
        // An extra column after the seed's table (the default table stays the seed's).
        const records = new VmRecords(ctx.data);
        const flags = vms.map((vm) => {
          const r = records.get(vm.name);
          return r && r.id === vm.id ? (r.autostart ? "on" : "off") : "-";
        });
        lines[0] += " AUTOSTART";
        lines[1] += " " + "-".repeat(9);
        flags.forEach((f, i) => (lines[i + 2] += " " + f));
        data.vms.forEach((v, i) => Object.assign(v, { autostart: flags[i] }));
      }
      return success(lines.join("\n"), data);
    });
}

const INTERRUPT_MODE_NAMES: Record<string, string> = {
  no_irq: "NoIrq",
  emulated: "Emulated",
  passthrough: "Passthrough",
};

/** vCPU state counts of `vm show`, in the seed's BTreeMap order (`Blocked: 1`, `Running: 2`). */
function vcpuCounts(vm: Vm): [string, number][] {
  return countByName(vm, vcpuStateName);
}

/**
 * The DTB address of `image_config().dtb_load_gpa` (seed lines 3508-3510, 3619-3621): the
 * configured `dtb_load_addr`, else where the VMM put the DTB it generated (known once the VM
 * has booted), as AxVisor records a generated DTB's address in the image config.
 */
function dtbAddress(vm: Vm): number | undefined {
  return vm.config.kernel.dtbLoadAddr ?? vm.dtbGpa;
}

function configLines(vm: Vm): string[] {
  const k = vm.config.kernel;
  const lines = [
    "Configuration:",
    `  BSP Entry:      ${hex(k.entryPoint)}`,
    `  AP Entry:       ${hex(k.entryPoint)}`,
    `  Interrupt Mode: ${INTERRUPT_MODE_NAMES[vm.config.devices.interruptMode]}`,
  ];
  const dtb = dtbAddress(vm);
  if (dtb !== undefined) lines.push(`  DTB Address:    ${hex(dtb)}`);
  return lines;
}

function hintLines(vm: Vm): string[] {
  switch (vm.status) {
    case "suspended":
      return ["", `  ℹ VM is paused. Use 'vm resume ${vm.id}' to continue.`];
    case "stopped":
      return ["", `  ℹ VM is stopped. Use 'vm delete ${vm.id}' to clean up.`];
    case "loaded":
      return ["", `  ℹ VM is ready. Use 'vm start ${vm.id}' to boot.`];
    default:
      return [];
  }
}

/** Everything `vm show` knows about a VM, for JSON mode. */
function showData(vm: Vm) {
  return {
    id: vm.id,
    name: vm.name,
    status: vm.status,
    vcpus: vm.vcpus.map((v) => ({
      id: v.id,
      state: v.stateName,
      affinity: v.physCpuSet,
      pcpu: v.pcpu,
      hartId: v.hartId,
    })),
    memoryBytes: vm.memorySize,
    memory: formatMemorySize(vm.memorySize),
    eptRoot: vm.eptRoot,
    regions: vm.regions.map((r) => ({
      gpa: r.gpa,
      hpa: r.hpa,
      size: r.size,
      flags: r.flags,
      type: r.needsDealloc ? "Allocated" : "Reserved",
      identical: r.gpa === r.hpa,
    })),
    config: {
      bspEntry: vm.config.kernel.entryPoint,
      apEntry: vm.config.kernel.entryPoint,
      interruptMode: vm.config.devices.interruptMode,
      dtbAddress: dtbAddress(vm),
      kernelGpa: vm.config.kernel.kernelLoadAddr,
      file: vm.config.file,
    },
    devices: vm.devices.map((d) => ({
      name: d.name,
      kind: d.kind,
      model: d.model,
      gpa: d.gpa,
      hpa: d.hpa,
      size: d.size,
      irq: d.irq,
    })),
    lastError: vm.lastError,
    stopReason: vm.status === "stopped" ? vm.stopReason : undefined,
  };
}

function basicDetails(vm: Vm, showConfig: boolean, showStats: boolean): string {
  const lines = [
    `VM Details: ${vm.id}`,
    "",
    `  VM ID:     ${vm.id}`,
    `  Name:      ${vm.name}`,
    `  Status:    ${vmStatusWithIcon(vm.status)}`,
    `  VCPUs:     ${vm.vcpus.length}`,
    `  Memory:    ${formatMemorySize(vm.memorySize)}`,
    ...hintLines(vm),
    "",
    "VCPU Summary:",
    ...vcpuCounts(vm).map(([s, n]) => `  ${s}: ${n}`),
    "",
    "Memory Summary:",
    `  Total Regions: ${vm.regions.length}`,
    `  Total Size:    ${formatMemorySize(vm.memorySize)}`,
  ];
  if (vm.lastError) lines.splice(7, 0, `  Last Error: ${vm.lastError}`);
  lines.splice(7, 0, ...stopReasonLines(vm));
  if (showConfig) lines.push("", ...configLines(vm));
  if (showStats) {
    lines.push(
      "",
      "Device Summary:",
      `  MMIO Devices:   ${vm.devices.filter((d) => d.kind === "emulated").length}`,
      `  SysReg Devices: 0`,
    );
  }
  lines.push("", `Use 'vm show ${vm.id} --full' for detailed information`);
  return lines.join("\n");
}

function fullDetails(vm: Vm): string {
  const lines = [
    `=== VM Details: ${vm.id} ===`,
    "",
    "Basic Information:",
    `  VM ID:     ${vm.id}`,
    `  Name:      ${vm.name}`,
    `  Status:    ${vmStatusWithIcon(vm.status)}`,
    `  VCPUs:     ${vm.vcpus.length}`,
    `  Memory:    ${formatMemorySize(vm.memorySize)}`,
    `  EPT Root:  ${hex(vm.eptRoot)}`,
  ];
  lines.push(...stopReasonLines(vm));
  if (vm.lastError) lines.push(`  Last Error: ${vm.lastError}`);
  lines.push("", "VCPU Details:");
  for (const v of vm.vcpus) {
    lines.push(
      v.physCpuSet !== undefined
        ? `  VCPU ${v.id}: ${v.stateName} (Affinity: ${hex(v.physCpuSet)})`
        : `  VCPU ${v.id}: ${v.stateName} (No affinity)`,
    );
  }
  lines.push(
    "",
    `Memory Regions: (${vm.regions.length} region(s), ${formatMemorySize(vm.memorySize)} total)`,
  );
  vm.regions.forEach((r, i) => {
    const type = r.needsDealloc ? "Allocated" : "Reserved";
    const identical = r.gpa === r.hpa ? " [identical]" : "";
    lines.push(
      `  Region ${i}: GPA=${hex(r.gpa)} HVA=${hex(r.hpa)} Size=${
        formatMemorySize(r.size)
      } Type=${type}${identical}`,
    );
  });
  lines.push("", ...configLines(vm), `  Kernel GPA:     ${hex(vm.config.kernel.kernelLoadAddr)}`);
  const pt = vm.config.devices.passthroughDevices;
  if (pt.length > 0) {
    lines.push("", `  Passthrough Devices: (${pt.length} device(s))`);
    for (const d of pt) {
      lines.push(
        `    - ${d.name}: GPA[${hex(d.baseGpa)}~${hex(d.baseGpa + d.length)}] -> HPA[${
          hex(d.baseHpa)
        }~${hex(d.baseHpa + d.length)}] (${formatMemorySize(d.length)})`,
      );
    }
  }
  const emu = vm.devices.filter((d) => d.kind === "emulated");
  if (emu.length > 0) {
    lines.push("", `  Emulated Devices: (${emu.length} device(s))`);
    for (const d of emu) {
      const irq = d.irq > 0 ? `, IRQ ${d.irq}` : "";
      lines.push(
        `    - ${d.name}: GPA[${hex(d.gpa)}~${hex(d.gpa + d.size)}] ${d.model} (${
          formatMemorySize(d.size)
        }${irq})`,
      );
    }
  }
  lines.push("", "  VCpu Affinity Details:");
  for (const a of vm.vcpuAffinities()) {
    lines.push(
      a.mask !== undefined
        ? `    VCpu ${a.vcpuId}: Physical CPU mask ${hex(a.mask)}, PCpu ID ${a.hartId}`
        : `    VCpu ${a.vcpuId}: No specific affinity, PCpu ID ${a.hartId}`,
    );
  }
  return lines.join("\n");
}

function lookup(ctx: ShellContext, arg: string): Vm | CommandOutcome {
  const target = resolveVm(ctx.hypervisor, arg);
  if (target.vm) return target.vm;
  const error = notFoundError(target);
  return failure(error.code, error.message, notFoundLine(target));
}

/** Seed lines 3393-3399: `vm show` without a VM. */
const SHOW_NO_VM = [
  "Error: No VM specified",
  "Usage: vm show [OPTIONS] <VM_ID>",
  "",
  "Options:",
  "  -f, --full     Show full detailed information",
  "  -c, --config   Show configuration details",
  "  -s, --stats    Show statistics",
].join("\n");

/** Builds `vm show`. */
export function vmShowCommand(): CommandNode<ShellContext> {
  return new CommandNode<ShellContext>("Show virtual machine details")
    .withUsage("vm show [OPTIONS] <VM_ID>")
    .addFlag(new FlagDef("full", "Show full detailed information").withShort("f"))
    .addFlag(new FlagDef("config", "Show configuration details").withShort("c"))
    .addFlag(new FlagDef("stats", "Show statistics").withShort("s"))
    .addArg(
      new ArgDef("VM_ID", "VM to show (id or name)").required("No VM specified", SHOW_NO_VM)
        .completes("vm"),
    )
    .readOnly()
    .withHandler((cmd, ctx) => {
      const vm = lookup(ctx, cmd.getArg(0)!);
      if (!("vcpus" in vm)) return vm;
      const text = cmd.hasFlag("full")
        ? fullDetails(vm)
        : basicDetails(vm, cmd.hasFlag("config"), cmd.hasFlag("stats"));
      return success(text, showData(vm));
    });
}

/** Builds `vm stats`. */
export function vmStatsCommand(): CommandNode<ShellContext> {
  return new CommandNode<ShellContext>("Show VM-exit counts, instructions and virtual time")
    .withUsage("vm stats [--jit] <VM_ID>")
    .addArg(new ArgDef("VM_ID", "VM (id or name)").required("No VM specified").completes("vm"))
    .addFlag(new FlagDef("jit", "Also show execution statistics (tiers, block exits, traps)"))
    .readOnly()
    .withHandler((cmd, ctx) => {
      const vm = lookup(ctx, cmd.getArg(0)!);
      if (!("vcpus" in vm)) return vm;
      const now = ctx.hypervisor.clock.now();
      const stats = vm.stats(now);
      const uptime = vm.status === "running" || vm.status === "suspended"
        ? stats.boot.upNs
        : undefined;
      const counterWidths = [22, 16, 16];
      const counter = (name: string, boot: string | number, total: string | number) =>
        "  " + row([name, boot, total], counterWidths);
      const lines = [
        `VM[${vm.id}] ${vm.name}: ${vmStatusName(vm.status)}`,
        `  Virtual time:         ${formatDuration(now)}${
          uptime !== undefined ? ` (up ${formatDuration(uptime)})` : ""
        }`,
        `  Boots:                ${stats.boots}`,
        "",
        counter("COUNTER", "THIS BOOT", "ALL BOOTS"),
        counter(
          "Up time",
          stats.boot.upNs !== undefined ? formatDuration(stats.boot.upNs) : "-",
          "-",
        ),
        counter("Instructions retired", stats.boot.instret, stats.total.instret),
        counter(
          "Console output",
          `${stats.boot.consoleBytes} byte(s)`,
          `${stats.total.consoleBytes} byte(s)`,
        ),
        counter("VM exits", stats.boot.totalExits, stats.total.totalExits),
        counter(
          "vCPU run time",
          formatDuration(stats.boot.runNs),
          formatDuration(stats.total.runNs),
        ),
      ];
      const kinds = EXIT_KINDS.filter((k) =>
        (stats.exits[k] ?? 0) > 0 || stats.vcpus.some((v) => (v.exits[k] ?? 0) > 0)
      );
      if (kinds.length > 0) {
        const exitWidths = [18, 10, 10, ...stats.vcpus.map(() => 10)];
        lines.push(
          "",
          "  " + row(
            ["EXIT REASON", "ALL BOOTS", "THIS BOOT", ...stats.vcpus.map((v) => `VCPU ${v.id}`)],
            exitWidths,
          ),
        );
        for (const k of kinds) {
          lines.push(
            "  " + row([
              k,
              stats.total.exits[k] ?? 0,
              stats.boot.exits[k] ?? 0,
              ...stats.vcpus.map((v) => v.exits[k] ?? 0),
            ], exitWidths),
          );
        }
      } else {
        lines.push("", "  (no VM exits yet)");
      }
      const vcpuWidths = [6, 14, 10, 10, 12, 12];
      lines.push(
        "",
        "  vCPUs, this boot (run time never exceeds the up time; stalled: waiting on a full console):",
        "  " + row(["VCPU", "INSTRET", "EXITS", "PREEMPT", "RUN TIME", "STALLED"], vcpuWidths),
      );
      for (const v of stats.vcpus) {
        lines.push(
          "  " + row(
            [
              v.id,
              v.instret,
              v.totalExits,
              v.preemptions,
              formatDuration(v.runNs),
              formatDuration(v.throttledNs),
            ],
            vcpuWidths,
          ),
        );
      }
      const jit = cmd.hasFlag("jit") ? vmJitStats(vm) : undefined;
      if (jit) lines.push(...formatJitStats(jit));
      return success(lines.join("\n"), {
        ...(jit ? { jit } : {}),
        vmId: vm.id,
        status: vm.status,
        virtualTimeNs: now,
        uptimeNs: uptime,
        ...stats,
      });
    });
}
