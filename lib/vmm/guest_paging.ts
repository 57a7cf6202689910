/**
 * Guest virtual-to-guest-physical translation for the VMM's slow paths: when a guest passes a
 * pointer in an SBI call (legacy send_ipi's hart mask), the pointer is a virtual address of the
 * calling vCPU, translated through its current `satp`. Sv39 page tables are walked in the guest's
 * own memory, as the hart's MMU would (superpages, V/R/W/X/U bits, SUM and MXR).
 *
 * @module
 */

import type { Bus } from "../hw/bus.ts";

/** `satp.MODE` values. */
export const SatpMode = {
  /** No translation. */
  Bare: 0,
  /** Sv39: three levels of 512 eight-byte entries, 39-bit virtual addresses. */
  Sv39: 8,
} as const;

/** Kind of access being translated. */
export type GuestAccess = "read" | "write" | "execute";

/** The outcome of a translation: a guest-physical address, or why there is none. */
export type GuestTranslation = { ok: true; gpa: number } | { ok: false; reason: string };

/** What the walk needs of the vCPU: its `satp`, privilege and `sstatus` (SUM, MXR). */
export interface GuestMmuState {
  /** The `satp` CSR. */
  satp: bigint;
  /** Privilege of the access: 0 U, 1 S. */
  priv: number;
  /** The `sstatus` CSR (SUM bit 18, MXR bit 19). */
  sstatus: bigint;
}

const hex = (n: number | bigint) => `0x${n.toString(16)}`;

/**
 * Translates virtual address `va` of a vCPU whose MMU state is `mmu`, reading page tables from
 * `bus` (the VM's guest-physical space). With paging off (`satp.MODE` Bare) the address is
 * returned unchanged. Sv48 and Sv57 are reported as unsupported (the hart implements Sv39).
 */
export function translateGuestVa(
  bus: Bus,
  mmu: GuestMmuState,
  va: bigint,
  access: GuestAccess,
): GuestTranslation {
  const mode = Number((mmu.satp >> 60n) & 0xfn);
  if (mode === SatpMode.Bare) return { ok: true, gpa: Number(BigInt.asUintN(64, va)) };
  if (mode !== SatpMode.Sv39) {
    return { ok: false, reason: `satp mode ${mode} is not supported (Sv39 only)` };
  }
  const v = BigInt.asUintN(64, va);
  // Bits 63..39 must all equal bit 38.
  const top = v >> 38n;
  if (top !== 0n && top !== (1n << 26n) - 1n) {
    return { ok: false, reason: `virtual address ${hex(v)} is not canonical for Sv39` };
  }
  let table = (mmu.satp & ((1n << 44n) - 1n)) << 12n;
  for (let level = 2; level >= 0; level--) {
    const vpn = (v >> (12n + 9n * BigInt(level))) & 0x1ffn;
    const pteAddr = Number(table + vpn * 8n);
    const pte = bus.read64(pteAddr);
    if (pte === undefined) {
      return {
        ok: false,
        reason: `page-table entry at ${hex(pteAddr)} (level ${level}) for ${
          hex(v)
        } is not in guest memory`,
      };
    }
    const valid = (pte & 1n) !== 0n;
    const r = (pte & 2n) !== 0n, w = (pte & 4n) !== 0n, x = (pte & 8n) !== 0n;
    const u = (pte & 16n) !== 0n;
    if (!valid || (!r && w)) {
      return { ok: false, reason: `no valid mapping for ${hex(v)} (level ${level} PTE ${hex(pte)})` };
    }
    const ppn = (pte >> 10n) & ((1n << 44n) - 1n);
    if (!r && !x) {
      table = ppn << 12n;
      continue;
    }
    // A leaf: check permissions.
    const sum = (mmu.sstatus & (1n << 18n)) !== 0n;
    const mxr = (mmu.sstatus & (1n << 19n)) !== 0n;
    if (mmu.priv === 0 ? !u : u && (access === "execute" || !sum)) {
      return { ok: false, reason: `page of ${hex(v)} is not accessible from the vCPU's privilege` };
    }
    const allowed = access === "execute" ? x : access === "write" ? w : r || (mxr && x);
    if (!allowed) {
      return { ok: false, reason: `page of ${hex(v)} does not allow ${access}` };
    }
    if ((pte & 0x40n) === 0n || (access === "write" && (pte & 0x80n) === 0n)) {
      return { ok: false, reason: `page of ${hex(v)} has its A/D bits clear` };
    }
    const pageBits = 12n + 9n * BigInt(level);
    // A superpage's low PPN bits must be zero (misaligned superpage).
    if (level > 0 && (ppn & ((1n << (9n * BigInt(level))) - 1n)) !== 0n) {
      return { ok: false, reason: `misaligned superpage for ${hex(v)} (level ${level})` };
    }
    const offset = v & ((1n << pageBits) - 1n);
    return { ok: true, gpa: Number(((ppn << 12n) & ~((1n << pageBits) - 1n)) | offset) };
  }
  return { ok: false, reason: `no leaf page-table entry for ${hex(v)}` };
}
