/**
 * The SBI a guest calls with `ecall` from S-mode, dispatched per extension (guest-abi.md): the
 * legacy extensions, Base, TIME, IPI, RFENCE, HSM (sbi_hsm.ts), SRST, DBCN and AxVisor's
 * hypercall extension. Each handler counts the exit it stands for (`Nothing` for calls that the
 * VMM answers in place, `SendIPI`, `CpuUp`, `SystemDown`, `Hypercall`...).
 *
 * @module
 */

import { Csr } from "../hw/riscv/csr.ts";
import type { ExitKind } from "./exit_reason.ts";
import type { HypervisorEvent } from "./events.ts";
import { readGuestVirtual } from "./guest_paging.ts";
import {
  SBI_IMPL_ID,
  SBI_IMPL_VERSION,
  SBI_SPEC_VERSION,
  SbiError,
  SbiExtension,
  sbiExtensionAvailable,
  SrstType,
} from "./sbi.ts";
import { DBCN_MAX_BYTES_PER_CALL, guestAddress, isGuestRam } from "./sbi_args.ts";
import { hsmCall } from "./sbi_hsm.ts";
import { sendIpiTo, SupervisorIrq } from "./vcpu_interrupts.ts";
import type { VCpu } from "./vcpu.ts";
import type { Vm } from "./vm.ts";

const U64 = (1n << 64n) - 1n;

/** Sets register `i` of `v`'s hart to the safe integer `n` (two's complement), without a BigInt. */
function setXInt(v: VCpu, i: number, n: number): void {
  v.hart.setXHalves(i, n >>> 0, Math.floor(n / 4294967296) | 0);
}

/** What the SBI needs from the hypervisor. */
export interface SbiContext {
  /** Virtual ns per tick of the guest `time` CSR. */
  readonly nsPerTick: number;
  /** Virtual time as `v` sees it. */
  vcpuNowNs(v: VCpu): number;
  /** Emits a hypervisor event. */
  emit(event: HypervisorEvent): void;
  /** Guest console output of `vm`. */
  consoleOut(vm: Vm, data: Uint8Array): void;
  /** Executes an AxVisor hypercall; returns a0. */
  hypercall(vm: Vm, v: VCpu, code: number, args: bigint[]): number;
  /** The guest shut itself down (SRST shutdown, legacy shutdown). */
  systemDown(vm: Vm): void;
  /** The guest asked for a reboot (SRST cold or warm reboot): the VM restarts. */
  reboot(vm: Vm): void;
  /** Gives a vCPU started by HSM hart_start its task on a pCPU. */
  spawnTask(vm: Vm, v: VCpu): void;
}

/** One SBI call being handled: the caller, its function id and arguments, and how to answer. */
export interface SbiCall {
  /** The calling VM. */
  readonly vm: Vm;
  /** The calling vCPU. */
  readonly v: VCpu;
  /** Extension id (a7). */
  readonly ext: number;
  /** Function id (a6). */
  readonly fid: number;
  /** Argument `i` (a0..a5). */
  arg(i: number): bigint;
  /** Sets the SBI return pair: a0 = error, a1 = value. */
  ret(error: number, value?: bigint | number): void;
  /** Counts one exit of `kind` on the caller. */
  count(kind: ExitKind): void;
}

/**
 * The {@linkcode SbiCall} of one `ecall`: a plain object with methods on its prototype (no
 * closures per call), answering small results without BigInts; an SBI exit costs about half
 * what it did with a record of closures and BigInt writes (vmm_bench: 0.17 -> 0.10 µs).
 */
class EcallRecord implements SbiCall {
  constructor(
    readonly vm: Vm,
    readonly v: VCpu,
    readonly ext: number,
    readonly fid: number,
  ) {}

  arg(i: number): bigint {
    return this.v.hart.getX(10 + i);
  }

  ret(error: number, value: bigint | number = 0): void {
    setXInt(this.v, 10, error);
    if (typeof value === "bigint") this.v.hart.setX(11, value);
    else setXInt(this.v, 11, value);
  }

  count(kind: ExitKind): void {
    this.v.exits.count(kind);
  }
}

/** Handles one extension; returns whether `pc` advances past the `ecall`. */
export type SbiExtensionHandler = (call: SbiCall) => boolean;

/** Dispatches the SBI calls of every vCPU of one hypervisor. */
export class SbiDispatcher {
  readonly #ctx: SbiContext;
  readonly #extensions = new Map<number, SbiExtensionHandler>();

  /** Creates the dispatcher with every extension of guest-abi.md. */
  constructor(ctx: SbiContext) {
    this.#ctx = ctx;
    const e = this.#extensions;
    e.set(SbiExtension.LegacySetTimer, (c) => this.#legacySetTimer(c));
    e.set(SbiExtension.LegacyPutchar, (c) => this.#legacyPutchar(c));
    e.set(SbiExtension.LegacyGetchar, (c) => this.#legacyGetchar(c));
    e.set(SbiExtension.LegacyClearIpi, (c) => this.#legacyClearIpi(c));
    e.set(SbiExtension.LegacySendIpi, (c) => this.#legacySendIpi(c));
    e.set(SbiExtension.LegacyShutdown, (c) => this.#legacyShutdown(c));
    e.set(SbiExtension.Base, (c) => this.#base(c));
    e.set(SbiExtension.Time, (c) => this.#time(c));
    e.set(SbiExtension.Ipi, (c) => this.#ipiExt(c));
    e.set(SbiExtension.Rfence, (c) => this.#rfence(c));
    e.set(SbiExtension.Hsm, (c) => hsmCall(this.#ctx, c));
    e.set(SbiExtension.Srst, (c) => this.#srst(c));
    e.set(SbiExtension.Dbcn, (c) => this.#dbcn(c));
    e.set(SbiExtension.Hvc, (c) => this.#hvc(c));
  }

  /**
   * Handles the `ecall` `v` stopped at (`pc` points at it): dispatches on a7, answers in a0/a1
   * and advances `pc` unless the call moved the vCPU elsewhere (stop, reboot, suspend).
   */
  handleEcall(vm: Vm, v: VCpu): void {
    const h = v.hart;
    const ext = h.getXLow(17) >>> 0;
    if (ext === SbiExtension.Time && h.getXLow(16) === 0) {
      // sbi_set_timer, an idle guest's one call per tick: answered without allocating (no call
      // record, no BigInt), which keeps the garbage collector asleep while guests idle.
      v.exits.count("Nothing");
      this.setTimer(v, (h.getXHigh(10) >>> 0) * 4294967296 + (h.getXLow(10) >>> 0));
      h.setXHalves(10, 0, 0);
      h.setXHalves(11, 0, 0);
      h.pc = h.pc + 4;
      return;
    }
    const call = new EcallRecord(vm, v, ext, h.getXLow(16) >>> 0);
    const handler = this.#extensions.get(ext);
    let advance: boolean;
    if (handler) advance = handler(call);
    else if (ext <= 8) {
      // The legacy remote fences (5 remote_fence_i, 6 remote_sfence_vma, 7 ..._asid) reach
      // every vCPU.
      call.count("Nothing");
      if (ext === 5) remoteFence(vm, true);
      else if (ext === 6 || ext === 7) remoteFence(vm, false, call.arg(1), call.arg(2));
      h.setX(10, 0n);
      advance = true;
    } else {
      call.count("Nothing");
      call.ret(SbiError.NotSupported);
      advance = true;
    }
    if (advance) h.pc = h.pc + 4;
  }

  /**
   * Programs `v`'s timer for `ticks` of the `time` CSR (clears a pending timer interrupt). The
   * vCPU's `timeOffsetNs` (time spent suspended, or before a snapshot was restored) is the
   * difference between hypervisor and guest time.
   */
  setTimer(v: VCpu, ticks: bigint | number): void {
    v.hart.setIrqLine(SupervisorIrq.STIP, false);
    const n = Number(ticks); // rounds above 2^53: such deadlines are beyond any run anyway
    const t = n * this.#ctx.nsPerTick + v.timeOffsetNs;
    v.timerDeadlineNs = n >= 2 ** 63 || !Number.isFinite(t) || t > Number.MAX_SAFE_INTEGER
      ? Infinity
      : t;
    if (v.timerDeadlineNs <= this.#ctx.vcpuNowNs(v)) {
      v.timerDeadlineNs = Infinity;
      v.hart.setIrqLine(SupervisorIrq.STIP, true);
    }
  }

  // ── legacy extensions (a0 only) ──

  #legacySetTimer(c: SbiCall): boolean {
    c.count("Nothing");
    this.setTimer(c.v, c.arg(0));
    c.v.hart.setX(10, 0n);
    return true;
  }

  #legacyPutchar(c: SbiCall): boolean {
    c.count("Nothing");
    this.#ctx.consoleOut(c.vm, Uint8Array.of(Number(c.arg(0) & 0xffn)));
    c.v.hart.setX(10, 0n);
    return true;
  }

  #legacyGetchar(c: SbiCall): boolean {
    c.count("Nothing");
    setXInt(c.v, 10, c.vm.console.readInput());
    return true;
  }

  #legacyClearIpi(c: SbiCall): boolean {
    c.count("Nothing");
    c.v.hart.setIrqLine(SupervisorIrq.SSIP, false);
    c.v.hart.setX(10, 0n);
    return true;
  }

  /**
   * Legacy send_ipi(const unsigned long *hart_mask): the pointer is a virtual address of the
   * caller, translated through its `satp` when paging is on.
   */
  #legacySendIpi(c: SbiCall): boolean {
    const h = c.v.hart;
    const read = readGuestVirtual(
      c.vm.bus,
      { satp: h.readCsr(Csr.satp), priv: h.priv, sstatus: h.readCsr(Csr.sstatus) },
      c.arg(0),
      8,
    );
    if (!read.ok) {
      c.count("Nothing");
      setXInt(c.v, 10, SbiError.InvalidAddress);
      this.#ctx.emit({
        type: "log",
        level: "warn",
        vmId: c.vm.id,
        message:
          `VM[${c.vm.id}] VCpu[${c.v.id}] legacy send_ipi: hart mask pointer: ${read.reason}`,
        timeNs: this.#ctx.vcpuNowNs(c.v),
      });
      return true;
    }
    const mask = new DataView(read.data.buffer).getBigUint64(0, true);
    setXInt(c.v, 10, this.#ipi(c.vm, c.v, mask, 0n));
    return true;
  }

  #legacyShutdown(c: SbiCall): boolean {
    c.count("SystemDown");
    this.#ctx.systemDown(c.vm);
    return false;
  }

  // ── SBI v0.2+ extensions ──

  #base(c: SbiCall): boolean {
    c.count("Nothing");
    switch (c.fid) {
      case 0:
        c.ret(0, SBI_SPEC_VERSION);
        break;
      case 1:
        c.ret(0, SBI_IMPL_ID);
        break;
      case 2:
        c.ret(0, SBI_IMPL_VERSION);
        break;
      case 3:
        c.ret(0, sbiExtensionAvailable(Number(BigInt.asIntN(64, c.arg(0)))) ? 1 : 0);
        break;
      case 4:
      case 5:
      case 6:
        c.ret(0, 0);
        break;
      default:
        c.ret(SbiError.NotSupported);
    }
    return true;
  }

  /** TIME: set_timer (fid 0) is answered by `handleEcall`'s allocation-free path; no others. */
  #time(c: SbiCall): boolean {
    c.count("Nothing");
    c.ret(SbiError.NotSupported);
    return true;
  }

  #ipiExt(c: SbiCall): boolean {
    if (c.fid === 0) c.ret(this.#ipi(c.vm, c.v, c.arg(0), c.arg(1)));
    else {
      c.count("Nothing");
      c.ret(SbiError.NotSupported);
    }
    return true;
  }

  #rfence(c: SbiCall): boolean {
    c.count("Nothing");
    if (c.fid > 6) c.ret(SbiError.NotSupported);
    else if (!checkHartMask(c.vm, c.arg(0), c.arg(1))) c.ret(SbiError.InvalidParam);
    else {
      // Each hart caches translations (a software TLB) and decoded instructions: a remote
      // sfence.vma (fid 1, 2: of its address range; the hypervisor fences 3..6: all) drops the
      // targets' translations; a remote fence.i (fid 0) makes them see stores into code
      // (stores by harts already did; host writes may not have).
      if (c.fid === 1 || c.fid === 2) remoteFence(c.vm, false, c.arg(2), c.arg(3));
      else remoteFence(c.vm, c.fid === 0);
      c.ret(0);
    }
    return true;
  }

  #srst(c: SbiCall): boolean {
    if (c.fid !== 0) {
      c.count("Nothing");
      c.ret(SbiError.NotSupported);
      return true;
    }
    const type = Number(c.arg(0) & 0xffffffffn);
    if (type === SrstType.Shutdown) {
      c.count("SystemDown");
      this.#ctx.systemDown(c.vm);
      return false;
    }
    if (type === SrstType.ColdReboot || type === SrstType.WarmReboot) {
      c.count("SystemDown");
      this.#ctx.reboot(c.vm);
      return false;
    }
    c.count("Nothing");
    c.ret(SbiError.InvalidParam);
    return true;
  }

  #dbcn(c: SbiCall): boolean {
    c.count("Nothing");
    const { vm } = c;
    switch (c.fid) {
      case 0: { // console_write(num, base_lo, base_hi)
        // At most DBCN_MAX_BYTES_PER_CALL bytes per call: SBI lets us write fewer and return
        // the count, and the guest loops for the rest.
        const n = Math.min(Number(c.arg(0) & 0xffff_ffffn), DBCN_MAX_BYTES_PER_CALL);
        const addr = dbcnAddress(c, n);
        if (addr === undefined) c.ret(SbiError.InvalidParam);
        else {
          const data = n > 0 ? vm.bus.readBytes(addr, n)! : new Uint8Array(0);
          this.#ctx.consoleOut(vm, data);
          c.ret(0, data.length);
        }
        break;
      }
      case 1: { // console_read(num, base_lo, base_hi)
        const n = Math.min(
          Number(c.arg(0) & 0xffff_ffffn),
          DBCN_MAX_BYTES_PER_CALL,
          vm.console.inputPending,
        );
        const addr = dbcnAddress(c, n);
        if (addr === undefined) {
          c.ret(SbiError.InvalidParam);
          break;
        }
        const bytes = new Uint8Array(n);
        for (let i = 0; i < n; i++) bytes[i] = vm.console.readInput();
        if (n > 0) vm.bus.writeBytes(addr, bytes);
        c.ret(0, n);
        break;
      }
      case 2: // console_write_byte
        this.#ctx.consoleOut(vm, Uint8Array.of(Number(c.arg(0) & 0xffn)));
        c.ret(0);
        break;
      default:
        c.ret(SbiError.NotSupported);
    }
    return true;
  }

  #hvc(c: SbiCall): boolean {
    c.count("Hypercall");
    const args = [c.arg(0), c.arg(1), c.arg(2), c.arg(3), c.arg(4), c.arg(5)];
    setXInt(c.v, 10, this.#ctx.hypercall(c.vm, c.v, c.fid, args));
    return true;
  }

  /** SBI send_ipi: the SendIPI exit (self, other, broadcast). Returns the SBI error. */
  #ipi(vm: Vm, v: VCpu, mask: bigint, base: bigint): number {
    v.exits.count("SendIPI");
    let targets: VCpu[];
    if (base === U64) targets = [...vm.vcpus];
    else {
      targets = [];
      for (let i = 0n; i < 64n; i++) {
        if (!((mask >> i) & 1n)) continue;
        const t = vm.vcpuByHartId(Number(base + i));
        if (!t) return SbiError.InvalidParam;
        targets.push(t);
      }
    }
    for (const t of targets) sendIpiTo(vm, t);
    return SbiError.Success;
  }
}

/**
 * The guest-physical address of a DBCN buffer of `n` bytes (a1 = low XLEN bits, a2 = high bits,
 * which on RV64 must be 0), when every byte is guest RAM; `undefined` otherwise.
 */
function dbcnAddress(c: SbiCall, n: number): number | undefined {
  if (c.arg(2) !== 0n) return undefined;
  const addr = guestAddress(c.arg(1), n);
  if (addr === undefined) return undefined;
  return n === 0 || isGuestRam(c.vm.bus, addr, n) ? addr : undefined;
}

/**
 * A remote fence on every vCPU: fence.i when `code`, else sfence.vma of [start, start + size)
 * (every translation when no range is given or the hart cannot drop a range).
 */
function remoteFence(vm: Vm, code: boolean, start?: bigint, size?: bigint): void {
  for (const v of vm.vcpus) {
    if (code) v.hart.fenceI();
    else if (start !== undefined && size !== undefined && v.hart.flushTlbRange) {
      v.hart.flushTlbRange(start, size);
    } else v.hart.flushTlb();
  }
}

/** Whether every hart a (mask, base) pair names is a vCPU of `vm` (base -1: all harts). */
function checkHartMask(vm: Vm, mask: bigint, base: bigint): boolean {
  if (base === U64) return true;
  for (let i = 0n; i < 64n; i++) {
    if ((mask >> i) & 1n && !vm.vcpuByHartId(Number(base + i))) return false;
  }
  return true;
}
