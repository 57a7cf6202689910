/**
 * The seed's VM lifecycle commands with its exact messages: `vm create`, `vm start`,
 * `vm stop`, `vm suspend`, `vm resume`, `vm restart` and `vm delete`. VMs are named by id or
 * by name. A command on several VMs reports each one and fails (ok false) when any failed.
 *
 * @module
 */

import { FsError } from "../../vmm/filesystem.ts";
import type { LifecycleResult, Vm } from "../../vmm/mod.ts";
import { canDeleteVm, vmStatusName } from "../../vmm/status.ts";
import { cancellableWait, CANCELLED } from "../cancel.ts";
import { ArgDef, CommandNode, FlagDef } from "../command_tree.ts";
import { type CommandOutcome, failure, success } from "../outcome.ts";
import { resolvePath } from "../paths.ts";
import { VmRecords } from "../vm_records.ts";
import {
  notFoundError,
  notFoundLine,
  noVmText,
  resolveVm,
  type ShellContext,
} from "./vm_target.ts";

/** Collects the lines and per-VM results of one command. */
class VmReport {
  readonly lines: string[] = [];
  readonly results: Record<string, unknown>[] = [];
  failures = 0;
  firstError?: { code: string; message: string };

  line(...lines: string[]): void {
    this.lines.push(...lines);
  }

  fail(code: string, message: string): void {
    this.failures++;
    this.firstError ??= { code, message };
  }

  outcome(extra: Record<string, unknown> = {}): CommandOutcome {
    const data = { results: this.results, ...extra };
    const text = this.lines.join("\n");
    if (this.failures === 0) return success(text, data);
    const error = this.firstError!;
    return failure(error.code, error.message, text, data);
  }
}

function errorOf(result: LifecycleResult): { code: string; message: string } {
  return result.error ?? { code: "FAILED", message: "operation failed" };
}

function summary(result: LifecycleResult): Record<string, unknown> {
  return {
    vmId: result.vmId,
    ok: result.ok,
    action: result.action,
    previousStatus: result.previousStatus,
    status: result.status,
    error: result.error,
  };
}

/**
 * Resolves one VM argument; an unknown one is reported (`✗ VM[9] not found`, or
 * `Error: Invalid VM ID: x` for a word that names no VM) and gives undefined.
 */
function resolveOrReport(ctx: ShellContext, arg: string, report: VmReport): Vm | undefined {
  const target = resolveVm(ctx.hypervisor, arg);
  if (target.vm) return target.vm;
  const error = notFoundError(target);
  report.line(notFoundLine(target));
  report.results.push({ vm: arg, ok: false, error });
  report.fail(error.code, error.message);
  return undefined;
}

/** Renders `start_vm_by_id`. */
function startOne(ctx: ShellContext, vm: Vm, report: VmReport): boolean {
  const result = ctx.hypervisor.startVm(vm.id);
  report.results.push(summary(result));
  if (result.ok) {
    report.line(`✓ VM[${vm.id}] started successfully`);
    return true;
  }
  const error = errorOf(result);
  // Seed line 1962: `{:?}` of the &str reason, so the reason is quoted.
  report.line(`✗ VM[${vm.id}] failed to start: "${error.message}"`);
  report.fail(error.code, `VM[${vm.id}] failed to start: ${error.message}`);
  return false;
}

/** Renders `stop_vm_by_id` (the announcement, then the result). */
function stopOne(ctx: ShellContext, vm: Vm, force: boolean, report: VmReport): boolean {
  const before = vm.status;
  const result = ctx.hypervisor.stopVm(vm.id, { force });
  report.results.push(summary(result));
  if (!result.ok && result.error?.code === "INVALID_STATE") {
    const message = result.error.message;
    report.line(`⚠ VM[${vm.id}] ${message}`, `✗ Failed to stop VM[${vm.id}]: "${message}"`);
    report.fail("INVALID_STATE", `Failed to stop VM[${vm.id}]: ${message}`);
    return false;
  }
  if (before === "stopping" && force) report.line(`Force stopping VM[${vm.id}]...`);
  else if (before === "running") {
    report.line(force ? `Force stopping VM[${vm.id}]...` : `Gracefully stopping VM[${vm.id}]...`);
  } else if (before === "loading" || before === "loaded") {
    report.line(`⚠ VM[${vm.id}] is in ${vmStatusName(before)} state, stopping anyway...`);
  }
  if (result.ok) {
    report.line(
      `✓ VM[${vm.id}] stop signal sent successfully`,
      "  Note: VCpu threads will exit gracefully, VM status will transition to Stopped",
    );
    return true;
  }
  const error = errorOf(result);
  report.line(`✗ Failed to stop VM[${vm.id}]: "${error.message}"`);
  report.fail(error.code, `Failed to stop VM[${vm.id}]: ${error.message}`);
  return false;
}

function vmNode(description: string, usage: string): CommandNode<ShellContext> {
  return new CommandNode<ShellContext>(description).withUsage(usage);
}

/** The VM ids of a command; none given prints the seed's `Error: No VM specified` and `usage`. */
const vmArgs = (what: string, usage: string) =>
  new ArgDef("VM_ID", `${what} (ids or names)`).required("No VM specified", noVmText(usage))
    .variadic()
    .completes("vm");

/** Builds `vm create`. */
export function vmCreateCommand(): CommandNode<ShellContext> {
  return vmNode("Create virtual machines from config files", "vm create <CONFIG_FILE...>")
    .addFlag(
      new FlagDef(
        "transient",
        "Do not record the VM: it is not created again at the next program start",
      ),
    )
    .addArg(
      new ArgDef("CONFIG_FILE", "AxVisor VM config files (TOML)")
        .required(
          "No VM configuration file specified",
          // Seed lines 1787-1788.
          "Error: No VM configuration file specified\nUsage: vm create [CONFIG_FILE]",
        ).variadic().completes("path"),
    )
    .withHandler((cmd, ctx) => {
      const report = new VmReport();
      const created: { path: string; vmId: number; name: string }[] = [];
      for (const arg of cmd.positionalArgs) {
        const path = resolvePath(ctx.session.cwd, arg);
        report.line(`Creating VM from config: ${arg}`);
        if (ctx.fs.stat(path)?.kind !== "file") {
          const reason = ctx.fs.stat(path) ? "Is a directory" : "No such file or directory";
          report.line(`✗ Failed to read config file ${arg}: ${reason}`);
          report.results.push({ path, ok: false, error: { code: "ENOENT", message: reason } });
          report.fail("ENOENT", `Failed to read config file ${arg}: ${reason}`);
          continue;
        }
        try {
          const vm = ctx.hypervisor.createVm({ path });
          report.line(`✓ Successfully created VM[${vm.id}] from config: ${arg}`);
          // The same warnings `config check` gives (unknown keys, polled devices, ...).
          const warnings = [...vm.config.warnings];
          for (const w of warnings) report.line(`  ⚠ warning: ${w}`);
          if (!cmd.hasFlag("transient")) {
            // Kept across restarts (config.toml + vm.json in the VM's data folder).
            const problem = new VmRecords(ctx.data).record(vm, "create");
            if (problem) report.line(`  ⚠ warning: ${problem}`);
          }
          created.push({ path, vmId: vm.id, name: vm.name });
          report.results.push({ path, ok: true, vmId: vm.id, name: vm.name, warnings });
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          const code = error instanceof FsError
            ? error.code
            : (error as { code?: string }).code ?? "ECONFIG";
          // Seed lines 1810-1813 say `Configuration error`; we add what is wrong and where
          // (`/x.toml:3: key: ...`, as the program's --vm path does).
          report.line(`✗ Failed to create VM from ${arg}: Configuration error: ${message}`);
          report.results.push({ path, ok: false, error: { code, message } });
          report.fail(code, `Failed to create VM from ${arg}: ${message}`);
        }
      }
      if (created.length > 0) {
        report.line(
          `Successfully created ${created.length} VM(s)`,
          "Use 'vm start <VM_ID>' to start the created VMs.",
        );
      } else {
        report.line("No VMs were created.");
      }
      return report.outcome({ created });
    });
}

/** Builds `vm start`. */
export function vmStartCommand(): CommandNode<ShellContext> {
  return vmNode("Start virtual machines", "vm start [OPTIONS] [VM_ID...]")
    .addFlag(new FlagDef("detach", "Run in background mode").withShort("d"))
    .addArg(
      new ArgDef("VM_ID", "VMs to start (ids or names; default: every startable VM)")
        .variadic().completes("vm"),
    )
    .withHandler((cmd, ctx) => {
      const report = new VmReport();
      let started = 0;
      if (cmd.argCount === 0) {
        for (const vm of ctx.hypervisor.vms()) {
          if (vm.status === "running") {
            report.line(`⚠ VM[${vm.id}] is already running, skipping`);
            report.results.push({ vmId: vm.id, ok: false, skipped: true, status: vm.status });
            continue;
          }
          if (vm.status !== "loaded" && vm.status !== "stopped") {
            report.line(`⚠ VM[${vm.id}] is in ${vmStatusName(vm.status)} state, cannot start`);
            report.results.push({ vmId: vm.id, ok: false, skipped: true, status: vm.status });
            continue;
          }
          if (startOne(ctx, vm, report)) started++;
        }
        report.line(`Started ${started} VM(s)`);
      } else {
        for (const arg of cmd.positionalArgs) {
          const vm = resolveOrReport(ctx, arg, report);
          if (vm && startOne(ctx, vm, report)) started++;
        }
      }
      if (cmd.hasFlag("detach")) report.line("VMs started in background mode");
      return report.outcome({ started });
    });
}

/** Builds `vm stop`. */
export function vmStopCommand(): CommandNode<ShellContext> {
  return vmNode("Stop virtual machines", "vm stop [OPTIONS] <VM_ID...>")
    .addFlag(new FlagDef("force", "Force stop without waiting").withShort("f"))
    // Seed lines 2097-2098.
    .addArg(vmArgs("VMs to stop", "vm stop [OPTIONS] <VM_ID>"))
    .withHandler((cmd, ctx) => {
      const report = new VmReport();
      for (const arg of cmd.positionalArgs) {
        const vm = resolveOrReport(ctx, arg, report);
        if (vm) stopOne(ctx, vm, cmd.hasFlag("force"), report);
      }
      return report.outcome();
    });
}

/** Builds `vm suspend`. */
export function vmSuspendCommand(): CommandNode<ShellContext> {
  return vmNode("Suspend (pause) running virtual machines", "vm suspend <VM_ID...>")
    .addArg(vmArgs("VMs to suspend", "vm suspend <VM_ID...>"))
    .withHandler((cmd, ctx) => {
      const report = new VmReport();
      for (const arg of cmd.positionalArgs) {
        // Seed lines 2275-2379: the announcement comes first, except for a word that is no id.
        const target = resolveVm(ctx.hypervisor, arg);
        if (target.id !== undefined) report.line(`Suspending ${target.label}...`);
        if (!target.vm) {
          resolveOrReport(ctx, arg, report);
          continue;
        }
        const id = target.vm.id;
        const result = ctx.hypervisor.suspendVm(id);
        report.results.push({
          ...summary(result),
          vcpuCount: result.vcpuCount,
          allSuspended: result.allSuspended,
        });
        if (!result.ok) {
          const error = errorOf(result);
          report.line(`✗ Failed to suspend VM[${id}]: ${error.message}`);
          report.fail(error.code, `Failed to suspend VM[${id}]: ${error.message}`);
          continue;
        }
        report.line(
          `✓ VM[${id}] suspend signal sent`,
          `  Note: ${result.vcpuCount} VCpu task(s) will enter wait queue at next VMExit`,
          "  Waiting for VCpus to suspend...",
        );
        if (result.allSuspended) {
          report.line("✓ All VCpu tasks are now suspended");
        } else {
          report.line(
            "⚠ Some VCpu tasks may still be transitioning to suspended state",
            "  VCpus will suspend at next VMExit (timer interrupt, I/O, etc.)",
          );
        }
        report.line(`  Use 'vm resume ${id}' to resume the VM`);
      }
      return report.outcome();
    });
}

/** Builds `vm resume`. */
export function vmResumeCommand(): CommandNode<ShellContext> {
  return vmNode("Resume suspended virtual machines", "vm resume <VM_ID...>")
    .addArg(vmArgs("VMs to resume", "vm resume <VM_ID...>"))
    .withHandler((cmd, ctx) => {
      const report = new VmReport();
      for (const arg of cmd.positionalArgs) {
        const target = resolveVm(ctx.hypervisor, arg);
        if (target.id !== undefined) report.line(`Resuming ${target.label}...`);
        if (!target.vm) {
          resolveOrReport(ctx, arg, report);
          continue;
        }
        const id = target.vm.id;
        const result = ctx.hypervisor.resumeVm(id);
        report.results.push(summary(result));
        if (result.ok) {
          report.line(`✓ VM[${id}] resumed successfully`);
        } else {
          const error = errorOf(result);
          report.line(`✗ Failed to resume VM[${id}]: ${error.message}`);
          report.fail(error.code, `Failed to resume VM[${id}]: ${error.message}`);
        }
      }
      return report.outcome();
    });
}

/** Builds `vm restart`. */
export function vmRestartCommand(): CommandNode<ShellContext> {
  return vmNode("Restart virtual machines", "vm restart [OPTIONS] <VM_ID...>")
    .addFlag(new FlagDef("force", "Force stop before restarting").withShort("f"))
    .addArg(vmArgs("VMs to restart", "vm restart [OPTIONS] <VM_ID...>"))
    .withHandler(async (cmd, ctx) => {
      const report = new VmReport();
      for (const [i, arg] of cmd.positionalArgs.entries()) {
        if (ctx.signal?.aborted) {
          const skipped = cmd.positionalArgs.slice(i).join(" ");
          report.line(`✗ Cancelled: not restarted: ${skipped}`);
          report.fail(CANCELLED, `Cancelled before restarting ${skipped}`);
          break;
        }
        const target = resolveVm(ctx.hypervisor, arg);
        if (target.id !== undefined) report.line(`Restarting ${target.label}...`);
        if (!target.vm) {
          resolveOrReport(ctx, arg, report);
          continue;
        }
        await restartOne(ctx, target.vm, cmd.hasFlag("force"), report);
      }
      return report.outcome();
    });
}

async function restartOne(
  ctx: ShellContext,
  vm: Vm,
  force: boolean,
  report: VmReport,
): Promise<void> {
  const id = vm.id;
  const status = vm.status;
  if (status === "loading") {
    report.line(`✗ VM[${id}] is still loading, cannot restart`);
    report.results.push({ vmId: id, ok: false, error: { code: "INVALID_STATE" } });
    report.fail("INVALID_STATE", `VM[${id}] is still loading, cannot restart`);
    return;
  }
  if (status === "stopping" && !force) {
    report.line(
      `⚠ VM[${id}] is currently stopping`,
      `  Wait for shutdown to complete, then use 'vm start ${id}'`,
    );
    report.results.push({ vmId: id, ok: false, error: { code: "INVALID_STATE" } });
    report.fail("INVALID_STATE", `VM[${id}] is currently stopping`);
    return;
  }
  if (status === "stopped" || status === "loaded") {
    report.line(`VM[${id}] is already stopped, starting...`);
    startOne(ctx, vm, report);
    return;
  }
  if (status === "stopping") {
    report.line(`⚠ VM[${id}] is currently stopping, waiting...`);
  } else {
    // Seed lines 2511-2513: the wait follows even when the stop failed (it then reports the
    // state the VM is left in).
    report.line(`Stopping VM[${id}]...`);
    stopOne(ctx, vm, force, report);
  }
  report.line(`Waiting for VM[${id}] to stop completely...`);
  const waited = await cancellableWait(
    ctx.hypervisor,
    () => ctx.hypervisor.vm(id)?.status !== "stopping",
    ctx.hypervisor.restartTimeoutNs,
    ctx.signal,
  );
  if (waited === "cancelled") {
    report.line(`✗ VM[${id}] restart cancelled while waiting for it to stop`);
    report.fail(CANCELLED, `Cancelled while waiting for VM[${id}] to stop; it was not restarted`);
    return;
  }
  const stopped = waited === "reached";
  const now = ctx.hypervisor.vm(id);
  if (!now) {
    report.line(`✗ VM[${id}] no longer exists`);
    report.fail("NOT_FOUND", `VM[${id}] no longer exists`);
    return;
  }
  if (!stopped) {
    report.line(`⚠ VM[${id}] stop timeout`);
    report.fail("TIMEOUT", `VM[${id}] stop timeout`);
    return;
  }
  if (now.status !== "stopped") {
    report.line(`⚠ VM[${id}] in unexpected state: ${vmStatusName(now.status)}`);
    report.fail("INVALID_STATE", `VM[${id}] in unexpected state: ${vmStatusName(now.status)}`);
    return;
  }
  report.line(`✓ VM[${id}] stopped successfully`, `Starting VM[${id}]...`);
  startOne(ctx, now, report);
}

/** Builds `vm delete`. */
export function vmDeleteCommand(): CommandNode<ShellContext> {
  return vmNode("Delete a virtual machine", "vm delete [OPTIONS] <VM_ID>")
    .addFlag(new FlagDef("force", "Delete even if running (like pulling the plug)").withShort("f"))
    .addFlag(new FlagDef("keep-data", "Keep the VM's data folder (config copy, logs, disk)"))
    .addArg(
      new ArgDef("VM_ID", "VM to delete (id or name)")
        // Seed lines 2773-2774.
        .required("No VM specified", noVmText("vm delete [OPTIONS] <VM_ID>")).completes("vm"),
    )
    .withHandler((cmd, ctx) => {
      const report = new VmReport();
      const force = cmd.hasFlag("force");
      const keepData = cmd.hasFlag("keep-data");
      const vm = resolveOrReport(ctx, cmd.getArg(0)!, report);
      if (!vm) return report.outcome();
      const id = vm.id;
      const status = vm.status;
      const refusal = canDeleteVm(status, force);
      if (status === "running") {
        if (refusal) {
          report.line(
            `✗ VM[${id}] is currently running`,
            `  Use 'vm stop ${id}' first, or use '--force'`,
          );
        } else report.line(`⚠ Force deleting running VM[${id}]...`);
      } else if (status === "stopping") {
        if (refusal) {
          report.line(
            `⚠ VM[${id}] is currently stopping`,
            "  Wait for it to stop, or use '--force'",
          );
        } else report.line(`⚠ Force deleting stopping VM[${id}]...`);
      } else if (status === "stopped") {
        report.line(`Deleting stopped VM[${id}]...`);
      } else {
        report.line(`⚠ VM[${id}] is in ${vmStatusName(status)} state`);
        if (refusal) report.line("Use --force to force delete");
      }
      if (refusal) {
        report.fail("INVALID_STATE", `VM[${id}] ${refusal.replace(/^VM /, "")}`);
        return report.outcome();
      }
      if (status === "running" || status === "suspended" || status === "stopping") {
        report.line(`  VM[${id}] is ${vmStatusName(status)}, sending shutdown signal...`);
      }
      const result = ctx.hypervisor.deleteVm(id, { force, keepData });
      report.results.push({
        ...summary(result),
        keepData: result.keepData,
        removedFiles: result.removedFiles,
        leakedReferences: result.leakedReferences,
      });
      if (!result.ok) {
        const error = errorOf(result);
        // Seed line 2856 (the seed then claims "deletion completed" all the same: we do not).
        report.line(`✗ Failed to remove VM[${id}] from list`);
        report.fail(error.code, `Failed to delete VM[${id}]: ${error.message}`);
        return report.outcome();
      }
      report.line(`✓ VM[${id}] removed from VM list`);
      if (status !== "loaded" && status !== "loading") {
        report.line("  Waiting for VCpu threads to exit...");
      }
      report.line(
        keepData
          ? `✓ VM[${id}] deleted (configuration and data preserved)`
          : `✓ VM[${id}] deleted completely`,
      );
      if (result.leakedReferences.length === 0) {
        report.line("  ✓ VM will be freed immediately");
      } else {
        // Seed line 2852: the count includes the delete function's own reference.
        report.line(
          `  ⚠ Warning: Unexpected Arc count ${result.leakedReferences.length + 1}, possible leak!`,
        );
      }
      // The record goes in any case: a deleted VM is not created again at the next start.
      const recorded = new VmRecords(ctx.data).remove(vm.name);
      if (!keepData) ctx.data.removeData(vm.name);
      else if (recorded) {
        report.line(
          `  Data kept in ${ctx.data.folderOf(vm.name)}; its config.toml creates the VM again`,
        );
      }
      report.line(`✓ VM[${id}] deletion completed`);
      return report.outcome();
    });
}
