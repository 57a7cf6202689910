/**
 * Traps and interrupts (QEMU's riscv_cpu_do_interrupt and riscv_cpu_local_irq_pending, in
 * target/riscv/cpu_helper.c): where a trap goes (delegation), what trap entry writes (xcause,
 * xepc, xtval, the mstatus stack), what `mret`/`sret` restore, which pending interrupt is taken
 * (enables and priority) and when `wfi` wakes. Functions over the {@linkcode CsrFile}; the hart
 * owns pc and the privilege level and applies the results.
 *
 * @module
 */

import { Csr, Mstatus } from "./csr.ts";
import type { CsrFile } from "./csr_file.ts";

const TWO32 = 4294967296;
/** Interrupt priority order of the privileged spec: MEI, MSI, MTI, SEI, SSI, STI. */
const IRQ_PRIORITY = [11, 3, 7, 9, 1, 5];

/**
 * The privilege a trap taken at `priv` enters: S when it comes from S or U and mideleg
 * (interrupts) or medeleg (exceptions) delegates `cause`, else M.
 */
export function trapTarget(csrs: CsrFile, priv: number, cause: number, interrupt: boolean): 1 | 3 {
  const deleg = interrupt ? csrs.mideleg : csrs.medeleg;
  return priv <= 1 && ((deleg >>> cause) & 1) !== 0 ? 1 : 3;
}

/**
 * Trap entry into `target` (see {@linkcode trapTarget}) from privilege `priv` at `pc`: writes
 * xcause, xepc, xtval (`tLo`/`tHi`: int32 halves) and the mstatus interrupt-enable stack and
 * previous privilege. Returns the new pc (xtvec; vectored interrupts add 4 * cause).
 */
export function enterTrap(
  csrs: CsrFile,
  target: 1 | 3,
  priv: number,
  pc: number,
  cause: number,
  interrupt: boolean,
  tLo: number,
  tHi: number,
): number {
  const c = csrs.regs;
  const epcLo = pc | 0;
  const epcHi = Math.floor(pc / TWO32) | 0;
  const causeHi = interrupt ? 0x80000000 | 0 : 0;
  let ms = csrs.ms;
  let vec: number;
  if (target === 1) {
    c[Csr.scause * 2] = cause;
    c[Csr.scause * 2 + 1] = causeHi;
    c[Csr.sepc * 2] = epcLo;
    c[Csr.sepc * 2 + 1] = epcHi;
    c[Csr.stval * 2] = tLo;
    c[Csr.stval * 2 + 1] = tHi;
    ms = (ms & Mstatus.SIE) !== 0 ? ms | Mstatus.SPIE : ms & ~Mstatus.SPIE;
    ms &= ~Mstatus.SIE;
    ms = priv === 1 ? ms | Mstatus.SPP : ms & ~Mstatus.SPP;
    vec = Csr.stvec;
  } else {
    c[Csr.mcause * 2] = cause;
    c[Csr.mcause * 2 + 1] = causeHi;
    c[Csr.mepc * 2] = epcLo;
    c[Csr.mepc * 2 + 1] = epcHi;
    c[Csr.mtval * 2] = tLo;
    c[Csr.mtval * 2 + 1] = tHi;
    ms = (ms & Mstatus.MIE) !== 0 ? ms | Mstatus.MPIE : ms & ~Mstatus.MPIE;
    ms &= ~Mstatus.MIE;
    ms = (ms & ~Mstatus.MPP) | (priv << 11);
    vec = Csr.mtvec;
  }
  csrs.ms = ms;
  const tvLo = c[vec * 2];
  const tvec = c[vec * 2 + 1] * TWO32 + ((tvLo & ~3) >>> 0);
  return interrupt && (tvLo & 3) === 1 ? tvec + 4 * cause : tvec;
}

/**
 * `mret` (the caller checked it runs in M-mode): restores MIE from MPIE, clears MPRV when
 * leaving M, and returns the privilege to enter (MPP; the new pc is mepc).
 */
export function leaveMret(csrs: CsrFile): 0 | 1 | 3 {
  let ms = csrs.ms;
  const mpp = (ms >> 11) & 3;
  ms = (ms & Mstatus.MPIE) !== 0 ? ms | Mstatus.MIE : ms & ~Mstatus.MIE;
  ms = (ms | Mstatus.MPIE) & ~Mstatus.MPP;
  if (mpp !== 3) ms &= ~Mstatus.MPRV;
  csrs.ms = ms;
  return mpp as 0 | 1 | 3;
}

/** Whether `sret` at `priv` is an illegal instruction (U-mode, or S-mode with mstatus.TSR). */
export const sretIllegal = (csrs: CsrFile, priv: number): boolean =>
  priv === 0 || (priv === 1 && (csrs.ms & Mstatus.TSR) !== 0);

/**
 * `sret`: restores SIE from SPIE, clears MPRV, and returns the privilege to enter (SPP; the
 * new pc is sepc).
 */
export function leaveSret(csrs: CsrFile): 0 | 1 {
  let ms = csrs.ms;
  const spp = (ms >> 8) & 1;
  ms = (ms & Mstatus.SPIE) !== 0 ? ms | Mstatus.SIE : ms & ~Mstatus.SIE;
  ms = (ms | Mstatus.SPIE) & ~Mstatus.SPP & ~Mstatus.MPRV;
  csrs.ms = ms;
  return spp as 0 | 1;
}

/** Whether `wfi` at `priv` is an illegal instruction (U-mode, or S-mode with mstatus.TW). */
export const wfiIllegal = (csrs: CsrFile, priv: number): boolean =>
  priv === 0 || (priv === 1 && (csrs.ms & Mstatus.TW) !== 0);

/**
 * Whether `sfence.vma` (and satp accesses) at `priv` are illegal (U-mode, or S-mode with
 * mstatus.TVM).
 */
export const sfenceIllegal = (csrs: CsrFile, priv: number): boolean =>
  priv === 0 || (priv === 1 && (csrs.ms & Mstatus.TVM) !== 0);

/**
 * Whether an interrupt is pending and enabled in mie, whatever the global enables: what
 * wakes a hart from `wfi`.
 */
export const wakesFromWfi = (csrs: CsrFile): boolean => (csrs.mip() & csrs.mie) !== 0;

/**
 * The interrupt a hart at `priv` takes now (its cause number), or -1: the highest-priority
 * one among those pending and enabled in mie whose target level is enabled (M-level ones
 * below M or with mstatus.MIE; delegated ones in U, or in S with mstatus.SIE).
 */
export function pendingInterrupt(csrs: CsrFile, priv: number): number {
  const pending = csrs.mip() & csrs.mie;
  if (pending === 0) return -1;
  const m = pending & ~csrs.mideleg;
  let take = 0;
  if (m !== 0 && (priv < 3 || (csrs.ms & Mstatus.MIE) !== 0)) take = m;
  else {
    const s = pending & csrs.mideleg;
    if (s !== 0 && (priv === 0 || (priv === 1 && (csrs.ms & Mstatus.SIE) !== 0))) take = s;
  }
  if (take === 0) return -1;
  for (let i = 0; i < IRQ_PRIORITY.length; i++) {
    if ((take >>> IRQ_PRIORITY[i]) & 1) return IRQ_PRIORITY[i];
  }
  return -1;
}
