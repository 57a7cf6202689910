/**
 * vCPU commands, after `xl vcpu-list`, `xl vcpu-pin` and ACRN's `vcpu_dumpreg`:
 * `vcpu list [VM]`, `vcpu dump <VM> <VCPU>` (registers, privilege, CSRs, disassembly at pc)
 * and `vcpu pin <VM> <VCPU> <PCPU-MASK>`.
 *
 * @module
 */

import { disassembleRange } from "../../hw/riscv/disassembler.ts";
import { ABI_REGISTER_NAMES, FP_ABI_REGISTER_NAMES } from "../../hw/riscv/isa_table.ts";
import type { VCpu, Vm } from "../../vmm/mod.ts";
import { Csr } from "../../vmm/vcpu.ts";
import { ArgDef, CommandNode } from "../command_tree.ts";
import { hex, hex64, padRight, parseUnsigned } from "../format.ts";
import { type CommandOutcome, failure, success } from "../outcome.ts";
import { notFoundError, notFoundLine, resolveVm, type ShellContext } from "./vm_target.ts";

/** How many instructions `vcpu dump` disassembles from pc. */
export const DUMP_INSTRUCTIONS = 8;

const PRIV_NAMES: Record<number, string> = { 0: "U", 1: "S", 3: "M" };

const ROUNDING_NAMES = ["rne", "rtz", "rdn", "rup", "rmm", "5?", "6?", "7?"];
const FS_NAMES = ["Off", "Initial", "Clean", "Dirty"];

/** fflags as `NV DZ OF UF NX` letters, `-` for a clear flag. */
function fflagsText(f: number): string {
  return ["NV", "DZ", "OF", "UF", "NX"].map((n, i) => (f >> (4 - i)) & 1 ? n : "-").join(" ");
}

/** The supervisor CSRs `vcpu dump` shows, with the machine-level ones the VMM sets. */
const DUMP_CSRS: [string, number][] = [
  ["sstatus", Csr.sstatus],
  ["sie", Csr.sie],
  ["sip", Csr.sip],
  ["stvec", Csr.stvec],
  ["sepc", Csr.sepc],
  ["scause", Csr.scause],
  ["stval", Csr.stval],
  ["satp", Csr.satp],
  ["sscratch", 0x140],
  ["mideleg", Csr.mideleg],
  ["medeleg", Csr.medeleg],
  ["mie", Csr.mie],
  ["mip", Csr.mip],
];

function findVm(ctx: ShellContext, arg: string): Vm | CommandOutcome {
  const target = resolveVm(ctx.hypervisor, arg);
  if (target.vm) return target.vm;
  const error = notFoundError(target);
  return failure(error.code, error.message, notFoundLine(target));
}

function findVcpu(vm: Vm, arg: string): VCpu | CommandOutcome {
  const id = parseUnsigned(arg);
  const vcpu = id === undefined ? undefined : vm.vcpus[id];
  if (vcpu) return vcpu;
  const message = `VM[${vm.id}] has no VCpu ${arg} (it has ${vm.vcpus.length}: 0..${
    vm.vcpus.length - 1
  })`;
  return failure("NOT_FOUND", message, `✗ ${message}`);
}

function isOutcome(value: unknown): value is CommandOutcome {
  return typeof value === "object" && value !== null && "ok" in value && "text" in value;
}

const LIST_WIDTHS = [5, 5, 9, 5, 9, 5, 19, 12];

/** One row of `vcpu list`. */
function vcpuRecord(vm: Vm, v: VCpu) {
  return {
    vmId: vm.id,
    vm: vm.name,
    vcpu: v.id,
    state: v.stateName,
    wait: v.wait,
    pcpu: v.pcpu,
    affinity: v.physCpuSet,
    hartId: v.hartId,
    pc: v.hart.pc,
    instret: v.instret,
    task: v.taskName,
  };
}

/** Builds `vcpu list`. */
export function vcpuListCommand(): CommandNode<ShellContext> {
  return new CommandNode<ShellContext>("List vCPUs: state, pCPU, affinity, pc, instructions")
    .withUsage("vcpu list [VM_ID]")
    .addArg(new ArgDef("VM_ID", "Only this VM (id or name)").completes("vm"))
    .readOnly()
    .withHandler((cmd, ctx) => {
      let vms = ctx.hypervisor.vms();
      const arg = cmd.getArg(0);
      if (arg !== undefined) {
        const vm = findVm(ctx, arg);
        if (isOutcome(vm)) return vm;
        vms = [vm];
      }
      const records = vms.flatMap((vm) => vm.vcpus.map((v) => vcpuRecord(vm, v)));
      if (records.length === 0) return success("No virtual machines found.", { vcpus: [] });
      const row = (cells: (string | number)[]) =>
        cells.map((c, i) => padRight(c, LIST_WIDTHS[i])).join(" ").trimEnd();
      const lines = [
        row(["VM", "VCPU", "STATE", "PCPU", "AFFINITY", "HART", "PC", "INSTRET"]),
        LIST_WIDTHS.map((w) => "-".repeat(w)).join(" "),
        ...records.map((r) =>
          row([
            r.vmId,
            r.vcpu,
            r.state,
            r.pcpu < 0 ? "-" : r.pcpu,
            r.affinity === undefined ? "any" : hex(r.affinity),
            r.hartId,
            hex64(BigInt(r.pc)),
            r.instret,
          ])
        ),
      ];
      return success(lines.join("\n"), { vcpus: records });
    });
}

/** Reads guest memory for disassembly; undefined where nothing answers. */
function readCode(vm: Vm, pc: number, count: number): Uint8Array | undefined {
  const bytes = vm.bus.readBytes(pc, count * 4);
  if (bytes) return bytes;
  // Near the end of a region: fall back to fewer bytes.
  for (let n = count * 4 - 2; n >= 2; n -= 2) {
    const part = vm.bus.readBytes(pc, n);
    if (part) return part;
  }
  return undefined;
}

/** Builds `vcpu dump`. */
export function vcpuDumpCommand(): CommandNode<ShellContext> {
  return new CommandNode<ShellContext>("Dump a vCPU: registers, privilege, CSRs, code at pc")
    .withUsage("vcpu dump <VM_ID> <VCPU_ID>")
    .addArg(new ArgDef("VM_ID", "VM (id or name)").required("No VM specified").completes("vm"))
    .addArg(new ArgDef("VCPU_ID", "vCPU number").required("No VCpu specified"))
    .readOnly()
    .withHandler((cmd, ctx) => {
      const vm = findVm(ctx, cmd.getArg(0)!);
      if (isOutcome(vm)) return vm;
      const v = findVcpu(vm, cmd.getArg(1)!);
      if (isOutcome(v)) return v;
      const { pc, x } = v.registers();
      const priv = v.hart.priv;
      const lines = [
        `VM[${vm.id}] VCpu[${v.id}] (${v.taskName}): ${v.stateName}${
          v.wait ? ` (${v.wait})` : ""
        }, pCPU ${v.pcpu < 0 ? "-" : v.pcpu}, hart ${v.hartId}`,
        `  pc   ${hex64(BigInt(pc))}   privilege ${
          PRIV_NAMES[priv] ?? priv
        }   instret ${v.instret}`,
        "",
        "Registers:",
      ];
      // Three registers a row: the dump stays within 90 columns.
      for (let i = 0; i < 32; i += 3) {
        const cells = [];
        for (let j = i; j < Math.min(32, i + 3); j++) {
          cells.push(
            `${padRight(`x${j}`, 3)} ${padRight(ABI_REGISTER_NAMES[j], 4)} ${hex64(x[j])}`,
          );
        }
        lines.push("  " + cells.join("  "));
      }
      const fp = v.fpRegisters();
      if (fp === undefined) {
        // A hart without F/D (the VMM's contract allows it).
      } else if (fp.fs === 0) {
        lines.push("", "FP: off (sstatus.FS = Off; the guest has not used F/D yet)");
      } else {
        lines.push(
          "",
          `FP registers: fcsr ${hex(fp.fcsr)} (frm ${ROUNDING_NAMES[(fp.fcsr >> 5) & 7]}, fflags ${
            fflagsText(fp.fcsr & 31)
          }), sstatus.FS ${FS_NAMES[fp.fs]}`,
        );
        for (let i = 0; i < 32; i += 3) {
          const cells = [];
          for (let j = i; j < Math.min(32, i + 3); j++) {
            cells.push(
              `${padRight(`f${j}`, 3)} ${padRight(FP_ABI_REGISTER_NAMES[j], 4)} ${hex64(fp.f[j])}`,
            );
          }
          lines.push("  " + cells.join("  "));
        }
      }
      const csrs: Record<string, string> = {};
      lines.push("", "CSRs:");
      for (let i = 0; i < DUMP_CSRS.length; i += 3) {
        const cells = DUMP_CSRS.slice(i, i + 3).map(([name, num]) => {
          const value = hex64(v.hart.readCsr(num));
          csrs[name] = value;
          return `${padRight(name, 8)} ${value}`;
        });
        lines.push("  " + cells.join("  "));
      }
      lines.push("", "Code at pc:");
      const satp = v.hart.readCsr(Csr.satp);
      let code: { address: number; text: string }[] = [];
      if (satp >> 60n !== 0n) {
        lines.push(`  (paging is on, satp ${hex64(satp)}: pc is a guest-virtual address)`);
      } else {
        const bytes = readCode(vm, pc, DUMP_INSTRUCTIONS);
        if (!bytes) {
          lines.push(`  (nothing mapped at ${hex(pc)})`);
        } else {
          const listing = disassembleRange(bytes, pc).slice(0, DUMP_INSTRUCTIONS);
          code = listing.map((l) => ({ address: l.address, text: l.text }));
          for (const l of listing) {
            const word = l.word.toString(16).padStart(l.length * 2, "0").padEnd(8);
            lines.push(
              `${l.address === pc ? "=>" : "  "} ${
                BigInt.asUintN(64, BigInt(l.address)).toString(16).padStart(8, "0")
              }:  ${word}  ${l.text}`,
            );
          }
        }
      }
      return success(lines.join("\n"), {
        vmId: vm.id,
        vcpu: v.id,
        state: v.stateName,
        pc,
        privilege: PRIV_NAMES[priv] ?? String(priv),
        registers: x.map((r) => hex64(r)),
        fp: fp === undefined || fp.fs === 0
          ? undefined
          : { fcsr: fp.fcsr, registers: fp.f.map((r) => hex64(r)) },
        csrs,
        code,
      });
    });
}

/** Builds `vcpu pin`. */
export function vcpuPinCommand(): CommandNode<ShellContext> {
  return new CommandNode<ShellContext>("Pin a vCPU to a set of pCPUs")
    .withUsage("vcpu pin <VM_ID> <VCPU_ID> <PCPU_MASK>")
    .addArg(new ArgDef("VM_ID", "VM (id or name)").required("No VM specified").completes("vm"))
    .addArg(new ArgDef("VCPU_ID", "vCPU number").required("No VCpu specified"))
    .addArg(
      new ArgDef("PCPU_MASK", "Bit mask of allowed pCPUs, e.g. 0x3 for pCPUs 0 and 1")
        .required("No pCPU mask specified"),
    )
    .withHandler((cmd, ctx) => {
      const vm = findVm(ctx, cmd.getArg(0)!);
      if (isOutcome(vm)) return vm;
      const v = findVcpu(vm, cmd.getArg(1)!);
      if (isOutcome(v)) return v;
      const maskArg = cmd.getArg(2)!;
      const mask = parseUnsigned(maskArg);
      const count = ctx.hypervisor.pcpus().length;
      const all = 2 ** count - 1;
      if (mask === undefined || mask === 0 || mask > all) {
        const message =
          `Invalid pCPU mask '${maskArg}': the board has ${count} pCPU(s), so the mask must be between 0x1 and ${
            hex(all)
          }`;
        return failure("INVALID_VALUE", message, `✗ ${message}`);
      }
      const pinned = ctx.hypervisor.pinVcpu(vm.id, v.id, mask);
      if (!pinned.ok) {
        const message = pinned.error?.message ?? `cannot pin VM[${vm.id}] VCpu ${v.id}`;
        return failure(pinned.error?.code ?? "INVALID_VALUE", message, `✗ ${message}`);
      }
      const { from, to } = pinned;
      const lines = [`✓ VM[${vm.id}] VCpu ${v.id} pinned to pCPU mask ${hex(mask)}`];
      if (from >= 0 && from !== to) lines.push(`  Moved from pCPU ${from} to pCPU ${to}`);
      else if (from >= 0) lines.push(`  Stays on pCPU ${from}`);
      else lines.push("  Takes effect when the VM starts");
      return success(lines.join("\n"), { vmId: vm.id, vcpu: v.id, mask, from, to });
    });
}
