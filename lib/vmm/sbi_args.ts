/**
 * Checked conversions of SBI and hypercall arguments (64-bit register values) to the numbers the
 * VMM works with. A guest may pass any 64-bit value; these helpers never throw and never lose
 * precision: a value that does not fit is refused (`undefined`), and the caller answers the guest
 * with an SBI error instead of stopping the VM.
 *
 * @module
 */

import type { Bus } from "../hw/bus.ts";

/** The largest guest-physical address the VMM represents exactly (a JavaScript safe integer). */
export const MAX_GUEST_ADDRESS = Number.MAX_SAFE_INTEGER;

/**
 * Most bytes one SBI debug console write (or read) moves per call. The SBI specification lets an
 * implementation write fewer bytes than asked and return the count; bounding the work per call
 * keeps one guest `ecall` from monopolising the event loop.
 */
export const DBCN_MAX_BYTES_PER_CALL = 4096;

/**
 * `[addr, addr + length)` as a JavaScript number when the whole range is exactly representable,
 * else `undefined` (an address at or above 2^53, e.g. one with bit 63 set).
 */
export function guestAddress(addr: bigint, length = 0): number | undefined {
  if (addr < 0n || length < 0) return undefined;
  if (addr + BigInt(length) > BigInt(MAX_GUEST_ADDRESS)) return undefined;
  return Number(addr);
}

/** `value` as a number when it is in `[0, max]`, else `undefined`. */
export function smallUnsigned(value: bigint, max: number): number | undefined {
  return value >= 0n && value <= BigInt(max) ? Number(value) : undefined;
}

/**
 * Whether every byte of `[addr, addr + length)` is guest RAM (no device register: an SBI call
 * must not read or write MMIO registers on the guest's behalf, with their side effects).
 */
export function isGuestRam(bus: Bus, addr: number, length: number): boolean {
  if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(addr + length)) return false;
  let a = addr;
  const end = addr + length;
  while (a < end) {
    const r = bus.find(a);
    if (r === undefined || r.kind !== "ram") return false;
    a = r.base + r.size;
  }
  return true;
}

/** A 64-bit value as `0x...` hex, exactly (for messages). */
export function hex64(value: bigint): string {
  return `0x${BigInt.asUintN(64, value).toString(16)}`;
}
