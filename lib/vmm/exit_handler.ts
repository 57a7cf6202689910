/**
 * VM-exit handling and accounting: why a hart run stopped (ecall, wfi, an unanswered access, a
 * breakpoint, a trap loop) becomes an `AxVCpuExitReason`, is counted on the vCPU, and is handled:
 * SBI calls go to the {@linkcode SbiDispatcher}, `wfi` halts the vCPU, and anything a guest can
 * get wrong (a nested page fault, a trap with no handler, a double fault) stops that VM with an
 * error naming the address, the pc and the vCPU, never the host.
 *
 * @module
 */

import { Csr } from "../hw/riscv/csr.ts";
import { StopReason } from "../hw/riscv/hart.ts";
import { AccessFlags } from "./exit_reason.ts";
import type { HypervisorEvent } from "./events.ts";
import type { SbiDispatcher } from "./sbi_dispatcher.ts";
import { haltVcpu } from "./vcpu_interrupts.ts";
import type { VCpu } from "./vcpu.ts";
import type { Vm } from "./vm.ts";
import { formatAddress } from "../hw/riscv/address.ts";

const hex = formatAddress;

/** What the exit handler needs from the hypervisor. */
export interface ExitContext {
  /** The SBI. */
  readonly sbi: SbiDispatcher;
  /** Virtual time as `v` sees it. */
  vcpuNowNs(v: VCpu): number;
  /** Emits a hypervisor event. */
  emit(event: HypervisorEvent): void;
  /** Stops `vm` at once (a fault ended it). */
  stopForFault(vm: Vm): void;
}

const CAUSES: Record<number, string> = {
  0: "instruction address misaligned",
  1: "instruction access fault",
  2: "illegal instruction",
  3: "breakpoint",
  4: "load address misaligned",
  5: "load access fault",
  6: "store address misaligned",
  7: "store access fault",
  8: "ecall from U-mode",
  12: "instruction page fault",
  13: "load page fault",
  15: "store page fault",
};

/** `scause` as text, e.g. `2: illegal instruction` or `interrupt 5`. */
export function causeName(scause: bigint): string {
  const interrupt = (scause >> 63n) & 1n;
  const code = Number(scause & 0xffffn);
  if (interrupt) return `interrupt ${code}`;
  return `${code}: ${CAUSES[code] ?? "exception"}`;
}

/** Handles the exits of every vCPU of one hypervisor. */
export class ExitHandler {
  readonly #ctx: ExitContext;

  /** Creates the handler working with `ctx`. */
  constructor(ctx: ExitContext) {
    this.#ctx = ctx;
  }

  /** Handles hart stop `reason` (a {@linkcode StopReason} other than Budget) of `v`. */
  handleStop(vm: Vm, v: VCpu, reason: number): void {
    const hart = v.hart;
    switch (reason) {
      case StopReason.Ecall:
        v.extraInstret++;
        v.executed++;
        this.#ctx.sbi.handleEcall(vm, v);
        return;
      case StopReason.Wfi:
        v.exits.count("Halt");
        haltVcpu(v, "wfi");
        return;
      case StopReason.BusError: {
        const e = hart.lastBusError;
        v.exits.count("NestedPageFault");
        if (e.fetch) {
          const stvec = Number(BigInt.asIntN(64, hart.readCsr(Csr.stvec)));
          const scause = hart.readCsr(Csr.scause);
          const sepc = Number(BigInt.asIntN(64, hart.readCsr(Csr.sepc)));
          if (e.addr === stvec && hart.priv === 1 && scause !== 0n) {
            this.fault(
              vm,
              v,
              "UnhandledTrap",
              e.addr,
              sepc,
              `guest trap (scause ${causeName(scause)}) with no handler (stvec ${
                hex(stvec)
              } is not mapped)`,
            );
            return;
          }
        }
        const access = e.fetch
          ? "instruction fetch"
          : e.write
          ? `${e.width}-byte write`
          : `${e.width}-byte read`;
        this.fault(
          vm,
          v,
          "NestedPageFault",
          e.addr,
          e.pc,
          `nested page fault: ${access} at unmapped guest-physical address ${hex(e.addr)} (flags ${
            e.fetch ? AccessFlags.EXECUTE : e.write ? AccessFlags.WRITE : AccessFlags.READ
          })`,
        );
        return;
      }
      case StopReason.Breakpoint:
        v.exits.count("FailEntry");
        this.fault(vm, v, "GuestError", undefined, hart.pc, "ebreak with no debugger attached");
        return;
      default:
        v.exits.count("FailEntry");
        this.fault(
          vm,
          v,
          "FailEntry",
          undefined,
          hart.pc,
          `the vCPU cannot continue (hart stop reason ${reason})`,
        );
    }
  }

  /**
   * A double fault: the trap handler's first instruction traps again (sepc == stvec == pc for an
   * exception), so the vCPU would loop forever. Ends the VM with a clear error.
   */
  checkTrapLoop(vm: Vm, v: VCpu): void {
    const h = v.hart;
    if (h.priv !== 1) return;
    const stvec = Number(BigInt.asIntN(64, h.readCsr(Csr.stvec) & ~3n));
    if (h.pc !== stvec) return;
    const scause = h.readCsr(Csr.scause);
    if (scause >> 63n || Number(BigInt.asIntN(64, h.readCsr(Csr.sepc))) !== stvec) return;
    v.exits.count("FailEntry");
    this.fault(
      vm,
      v,
      "DoubleFault",
      undefined,
      stvec,
      `double fault: the trap handler at stvec ${hex(stvec)} itself traps (scause ${
        causeName(scause)
      })`,
    );
  }

  /** An emulation error (a device or hart bug) while `v` ran: ends this VM, never the host. */
  emulationError(vm: Vm, v: VCpu, error: unknown): void {
    v.exits.count("FailEntry");
    this.fault(
      vm,
      v,
      "FailEntry",
      undefined,
      v.hart.pc,
      `emulation error: ${(error as Error).message}`,
    );
  }

  /** Stops `vm` because of a guest error; other VMs are not affected. */
  fault(vm: Vm, v: VCpu, kind: string, addr: number | undefined, pc: number, what: string): void {
    const message = `VM[${vm.id}] VCpu[${v.id}] ${what} at pc ${hex(pc)}`;
    vm.lastError = message;
    this.#ctx.emit({
      type: "fault",
      vmId: vm.id,
      vcpuId: v.id,
      kind,
      addr,
      pc,
      message,
      timeNs: this.#ctx.vcpuNowNs(v),
    });
    this.#ctx.stopForFault(vm);
  }
}
