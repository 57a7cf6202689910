/**
 * Sv39 page-table walk (RISC-V privileged architecture 1.12, section 4.4).
 *
 * Accessed and dirty bits are updated by the walker ("hardware update", as QEMU does and as
 * Svadu describes): a leaf whose A bit is clear gets A set, and a store to a leaf whose D bit is
 * clear sets D, by writing the PTE back through the bus. No page fault is raised for A/D.
 * PTE bits 63:54 (PBMT, N and reserved) must be zero, otherwise the walk page-faults.
 *
 * @module
 */

import type { Bus } from "../bus.ts";

/** The kind of access being translated. */
export const Access = { Fetch: 0, Load: 1, Store: 2 } as const;

/** One of the {@linkcode Access} values. */
export type AccessKind = 0 | 1 | 2;

/** Outcome of a walk. */
export const WalkResult = {
  /** Translation succeeded; the physical address is in `WalkOutput.pa`. */
  Ok: 0,
  /** The access raises a page fault. */
  PageFault: 1,
  /** A page-table entry could not be read or written: the access raises an access fault. */
  AccessFault: 2,
} as const;

/** Where {@linkcode walkSv39} reports its result. */
export interface WalkOutput {
  /** Physical address of the access. */
  pa: number;
  /** The leaf PTE's low 32 bits after any A/D update (permission bits etc.). */
  pte: number;
  /** Level of the leaf: 0 for a 4 KiB page, 1 for a 2 MiB and 2 for a 1 GiB megapage. */
  level: number;
  /** Physical address of the PTE that failed or of the leaf. */
  pteAddr: number;
}

/** Sv39 page-table entry bits (low byte). */
export const Pte = { V: 1, R: 2, W: 4, X: 8, U: 16, G: 32, A: 64, D: 128 } as const;

const PTE_V = Pte.V;
const PTE_R = Pte.R;
const PTE_W = Pte.W;
const PTE_X = Pte.X;
const PTE_U = Pte.U;
const PTE_A = Pte.A;
const PTE_D = Pte.D;

/** Whether `va` is a canonical Sv39 address (bits 63..39 equal bit 38). */
export const isSv39Canonical = (va: number): boolean =>
  va >= -0x40_0000_0000 && va < 0x40_0000_0000;

/**
 * Walks the Sv39 page table rooted at physical page number `rootPpn` for virtual address `va`
 * (a signed number; canonical addresses are exact).
 *
 * @param priv effective privilege of the access (0 U, 1 S); M-mode accesses are not translated
 * @param sum mstatus.SUM: S-mode may load/store to user pages
 * @param mxr mstatus.MXR: loads may read executable-only pages
 */
export function walkSv39(
  bus: Bus,
  rootPpn: number,
  va: number,
  access: AccessKind,
  priv: number,
  sum: boolean,
  mxr: boolean,
  out: WalkOutput,
): 0 | 1 | 2 {
  if (!isSv39Canonical(va)) return WalkResult.PageFault;
  let table = rootPpn * 4096;
  const vpage = Math.floor(va / 4096);
  for (let level = 2; level >= 0; level--) {
    const vpn = (vpage >>> (9 * level)) & 511;
    const pteAddr = table + vpn * 8;
    out.pteAddr = pteAddr;
    if (!bus.readPair(pteAddr)) return WalkResult.AccessFault;
    let lo = bus.pairLo;
    const hi = bus.pairHi;
    if ((lo & PTE_V) === 0 || ((lo & PTE_R) === 0 && (lo & PTE_W) !== 0)) {
      return WalkResult.PageFault;
    }
    if ((hi >>> 22) !== 0) return WalkResult.PageFault;
    const ppn = (hi & 0x3fffff) * 0x400000 + (lo >>> 10);
    if ((lo & (PTE_R | PTE_X)) === 0) {
      if (level === 0) return WalkResult.PageFault;
      table = ppn * 4096;
      continue;
    }
    // Leaf: permission checks.
    if (priv === 0) {
      if ((lo & PTE_U) === 0) return WalkResult.PageFault;
    } else if ((lo & PTE_U) !== 0) {
      if (access === 0 || !sum) return WalkResult.PageFault;
    }
    if (access === 0) {
      if ((lo & PTE_X) === 0) return WalkResult.PageFault;
    } else if (access === 1) {
      if ((lo & PTE_R) === 0 && !(mxr && (lo & PTE_X) !== 0)) return WalkResult.PageFault;
    } else if ((lo & PTE_W) === 0) {
      return WalkResult.PageFault;
    }
    const span = level === 2 ? 0x40000 : level === 1 ? 0x200 : 1; // pages per leaf
    if (ppn % span !== 0) return WalkResult.PageFault; // misaligned superpage
    const want = access === 2 ? PTE_A | PTE_D : PTE_A;
    if ((lo & want) !== want) {
      lo |= want;
      if (!bus.writePair(pteAddr, lo, hi)) return WalkResult.AccessFault;
    }
    const vOff = ((vpage % span) + span) % span;
    out.pa = (ppn + vOff) * 4096 + (va & 4095);
    out.pte = lo;
    out.level = level;
    return WalkResult.Ok;
  }
  return WalkResult.PageFault;
}
