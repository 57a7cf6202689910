/**
 * The SBI Hart State Management extension: hart_start (the CpuUp exit: the seed's `vcpu_on`),
 * hart_stop (CpuDown), hart_get_status and hart_suspend (Halt, retentive or not).
 *
 * @module
 */

import { guestAddress, isGuestRam, smallUnsigned } from "./sbi_args.ts";
import { HsmStatus, SbiError } from "./sbi.ts";
import type { SbiCall, SbiContext } from "./sbi_dispatcher.ts";
import { VCpuState } from "./status.ts";
import { initSupervisor, maybeWakeVcpu, SupervisorIrq } from "./vcpu_interrupts.ts";

/** HSM function ids. */
export const HsmFunction = {
  /** hart_start(hartid, start_addr, opaque). */
  HartStart: 0,
  /** hart_stop(). */
  HartStop: 1,
  /** hart_get_status(hartid). */
  HartGetStatus: 2,
  /** hart_suspend(suspend_type, resume_addr, opaque). */
  HartSuspend: 3,
} as const;

/** Handles an HSM call; returns whether `pc` advances past the `ecall`. */
export function hsmCall(ctx: SbiContext, c: SbiCall): boolean {
  const { vm, v } = c;
  const h = v.hart;
  switch (c.fid) {
    case HsmFunction.HartStart: {
      const hartId = smallUnsigned(c.arg(0), 0xffff_ffff);
      const entry = guestAddress(c.arg(1), 2);
      const opaque = c.arg(2);
      c.count("CpuUp");
      const target = hartId === undefined ? undefined : vm.vcpuByHartId(hartId);
      if (!target) {
        c.ret(SbiError.InvalidParam);
        return true;
      }
      // The start address must be guest RAM the hart can fetch from (SBI: INVALID_ADDRESS).
      if (entry === undefined || !isGuestRam(vm.bus, entry, 2)) {
        c.ret(SbiError.InvalidAddress);
        return true;
      }
      if (target.hsm !== HsmStatus.Stopped) {
        c.ret(SbiError.AlreadyAvailable);
        return true;
      }
      if (target.state !== VCpuState.Free && target.wait !== "cpu-down") {
        c.ret(SbiError.Failed);
        return true;
      }
      // The seed's vcpu_on: entry, a0 = hart id, a1 = arg, then a task.
      target.foldRetired();
      target.hart.reset(entry, 1);
      initSupervisor(target);
      target.hart.setX(10, BigInt(target.hartId));
      target.hart.setX(11, opaque);
      target.timerDeadlineNs = Infinity;
      target.hsm = HsmStatus.Started;
      if (target.wait === "cpu-down") {
        target.state = VCpuState.Ready;
        target.wait = undefined;
        ctx.emit({
          type: "vcpu",
          vmId: vm.id,
          vcpuId: target.id,
          change: "up",
          pcpu: target.pcpu,
          timeNs: ctx.vcpuNowNs(v),
        });
      } else {
        target.state = VCpuState.Free;
        ctx.spawnTask(vm, target);
      }
      c.ret(0);
      return true;
    }
    case HsmFunction.HartStop:
      c.count("CpuDown");
      v.hsm = HsmStatus.Stopped;
      v.state = VCpuState.Blocked;
      v.wait = "cpu-down";
      h.setIrqLine(SupervisorIrq.STIP, false);
      v.timerDeadlineNs = Infinity;
      ctx.emit({
        type: "vcpu",
        vmId: vm.id,
        vcpuId: v.id,
        change: "down",
        pcpu: v.pcpu,
        timeNs: ctx.vcpuNowNs(v),
      });
      return false;
    case HsmFunction.HartGetStatus: {
      c.count("Nothing");
      const hartId = smallUnsigned(c.arg(0), 0xffff_ffff);
      const target = hartId === undefined ? undefined : vm.vcpuByHartId(hartId);
      if (!target) c.ret(SbiError.InvalidParam);
      else c.ret(0, target.hsm);
      return true;
    }
    case HsmFunction.HartSuspend: {
      const type = Number(c.arg(0) & 0xffffffffn);
      c.count("Halt");
      if (type === 0) {
        c.ret(0);
        v.resume = undefined;
      } else if (type === 0x80000000) {
        // Non-retentive: resumes at resume_addr, which must be guest RAM (INVALID_ADDRESS).
        const addr = guestAddress(c.arg(1), 2);
        if (addr === undefined || !isGuestRam(vm.bus, addr, 2)) {
          c.ret(SbiError.InvalidAddress);
          return true;
        }
        v.resume = { addr, opaque: c.arg(2) };
        c.ret(0);
      } else {
        c.ret(SbiError.InvalidParam);
        return true;
      }
      v.hsm = HsmStatus.Suspended;
      h.pc = h.pc + 4;
      v.state = VCpuState.Blocked;
      v.wait = "hsm-suspend";
      // An interrupt already pending ends the suspend at once.
      if (v.interruptPending()) maybeWakeVcpu(vm, v);
      return false;
    }
    default:
      c.count("Nothing");
      c.ret(SbiError.NotSupported);
      return true;
  }
}
