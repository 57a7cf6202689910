/**
 * Guest virtual-to-guest-physical translation for the VMM's slow paths: when a guest passes a
 * pointer in an SBI call (legacy send_ipi's hart mask), the pointer is a virtual address of the
 * calling vCPU and is translated through its current `satp`. The walk is the hart's own Sv39
 * walker (lib/hw/riscv/mmu.ts) over the VM's guest-physical space, so the VMM sees exactly what
 * the guest's loads would (superpages, permission bits, SUM/MXR, A/D updates).
 *
 * @module
 */

import { isGuestRam } from "./sbi_args.ts";
import type { Bus } from "../hw/bus.ts";
import { Access, type WalkOutput, WalkResult, walkSv39 } from "../hw/riscv/mmu.ts";

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
const ACCESS = { read: Access.Load, write: Access.Store, execute: Access.Fetch } as const;

/**
 * Translates virtual address `va` of a vCPU whose MMU state is `mmu`, reading page tables from
 * `bus` (the VM's guest-physical space). With paging off (`satp.MODE` Bare) the address is
 * returned unchanged. Modes other than Sv39 are reported as unsupported (the hart has Sv39 only).
 */
export function translateGuestVa(
  bus: Bus,
  mmu: GuestMmuState,
  va: bigint,
  access: GuestAccess,
): GuestTranslation {
  const satp = BigInt.asUintN(64, mmu.satp);
  const mode = Number(satp >> 60n);
  const v = BigInt.asUintN(64, va);
  if (mode === SatpMode.Bare) {
    return v > BigInt(Number.MAX_SAFE_INTEGER)
      ? { ok: false, reason: `physical address ${hex(v)} is out of range` }
      : { ok: true, gpa: Number(v) };
  }
  if (mode !== SatpMode.Sv39) {
    return { ok: false, reason: `satp mode ${mode} is not supported (Sv39 only)` };
  }
  const signed = BigInt.asIntN(64, v);
  if (signed < -(1n << 38n) || signed >= 1n << 38n) {
    return { ok: false, reason: `virtual address ${hex(v)} is not canonical for Sv39` };
  }
  const out: WalkOutput = { pa: 0, pte: 0, level: 0, pteAddr: 0 };
  const rootPpn = Number(satp & ((1n << 44n) - 1n));
  const r = walkSv39(
    bus,
    rootPpn,
    Number(signed),
    ACCESS[access],
    mmu.priv,
    (mmu.sstatus & (1n << 18n)) !== 0n,
    (mmu.sstatus & (1n << 19n)) !== 0n,
    out,
  );
  if (r === WalkResult.Ok) return { ok: true, gpa: out.pa };
  if (r === WalkResult.AccessFault) {
    return {
      ok: false,
      reason: `page-table entry at ${hex(out.pteAddr)} for ${hex(v)} is not in guest memory`,
    };
  }
  return {
    ok: false,
    reason: `page fault: no ${access} mapping for ${hex(v)} (last PTE at ${hex(out.pteAddr)})`,
  };
}

/**
 * Reads `length` bytes at virtual address `va` of a vCPU (page by page, so a buffer may cross
 * a page boundary). Returns the bytes, or why they cannot be read (naming the address).
 */
export function readGuestVirtual(
  bus: Bus,
  mmu: GuestMmuState,
  va: bigint,
  length: number,
): { ok: true; data: Uint8Array } | { ok: false; reason: string } {
  const data = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const addr = BigInt.asUintN(64, va + BigInt(done));
    const t = translateGuestVa(bus, mmu, addr, "read");
    if (!t.ok) return t;
    const chunk = Math.min(length - done, 4096 - Number(addr & 0xfffn));
    // Only guest RAM: reading device registers on the guest's behalf would have side effects.
    const bytes = isGuestRam(bus, t.gpa, chunk) ? bus.readBytes(t.gpa, chunk) : undefined;
    if (!bytes) {
      return {
        ok: false,
        reason: `guest-physical address ${hex(t.gpa)} (virtual ${hex(addr)}) is not memory`,
      };
    }
    data.set(bytes, done);
    done += chunk;
  }
  return { ok: true, data };
}
