/**
 * Interrupt wiring of a vCPU and the waits it ends: the supervisor interrupt lines (software,
 * timer, external), halting in `wfi` or HSM suspend, and waking when an interrupt becomes
 * pending. Pure functions of a {@linkcode VCpu} and its {@linkcode Vm}.
 *
 * @module
 */

import { Csr } from "../hw/riscv/csr.ts";
import { HsmStatus } from "./sbi.ts";
import { VCpuState } from "./status.ts";
import type { VCpu, VCpuWait } from "./vcpu.ts";
import type { Vm } from "./vm.ts";

/** mip bits of the supervisor interrupt lines. */
export const SupervisorIrq = {
  /** Supervisor software interrupt (IPIs). */
  SSIP: 1 << 1,
  /** Supervisor timer interrupt. */
  STIP: 1 << 5,
  /** Supervisor external interrupt (the PLIC). */
  SEIP: 1 << 9,
} as const;

/** Clears what a guest must find at boot: interrupts disabled, paging off, pending lines low. */
export function initSupervisor(v: VCpu): void {
  v.hart.writeCsr(Csr.mie, 0n);
  v.hart.writeCsr(Csr.satp, 0n);
  v.hart.setIrqLine(SupervisorIrq.SSIP, false);
  v.hart.setIrqLine(SupervisorIrq.STIP, false);
  v.hart.setIrqLine(SupervisorIrq.SEIP, false);
}

/** The Halt exit: `v` blocks (for `wait`) unless an interrupt is already pending. */
export function haltVcpu(v: VCpu, wait: VCpuWait): void {
  if (v.interruptPending()) return;
  v.state = VCpuState.Blocked;
  v.wait = wait;
}

/**
 * Wakes a vCPU halted in `wfi` or HSM suspend when an interrupt is pending and its VM runs. A
 * non-retentive HSM suspend resumes at its resume address with a0 = hart id, a1 = opaque,
 * paging off and interrupts disabled (SBI HSM).
 */
export function maybeWakeVcpu(vm: Vm, v: VCpu): void {
  if (v.state !== VCpuState.Blocked) return;
  if (v.wait !== "wfi" && v.wait !== "hsm-suspend") return;
  if (vm.status !== "running") return;
  if (!v.interruptPending()) return;
  if (v.wait === "hsm-suspend") {
    v.hsm = HsmStatus.Started;
    if (v.resume) {
      v.hart.pc = v.resume.addr;
      v.hart.setX(10, BigInt(v.hartId));
      v.hart.setX(11, v.resume.opaque);
      v.hart.writeCsr(Csr.satp, 0n);
      v.hart.writeCsr(Csr.sstatus, v.hart.readCsr(Csr.sstatus) & ~2n);
      v.resume = undefined;
    }
  }
  v.state = VCpuState.Ready;
  v.wait = undefined;
}

/** Raises the supervisor software interrupt of `target` (an IPI) and wakes it if it waits. */
export function sendIpiTo(vm: Vm, target: VCpu): void {
  target.hart.setIrqLine(SupervisorIrq.SSIP, true);
  maybeWakeVcpu(vm, target);
}

/** Raises the timer interrupt of `v` (its deadline passed) and wakes it if it waits. */
export function fireTimer(vm: Vm, v: VCpu): void {
  v.timerDeadlineNs = Infinity;
  v.hart.setIrqLine(SupervisorIrq.STIP, true);
  maybeWakeVcpu(vm, v);
}
