/**
 * Formatting of 64-bit addresses held as numbers. The hart keeps pc and addresses as the
 * signed 64-bit value in a JavaScript number (exact below 2^53 in magnitude), so an address with
 * bit 63 set is negative: it must be shown as the unsigned 64-bit value a user expects
 * (`0xfffffffffffffff8`, never `0x-8`).
 *
 * @module
 */

/** `value` as `0x` + unsigned 64-bit hex (negative numbers are two's complement). */
export function formatAddress(value: number | bigint): string {
  const v = typeof value === "bigint" ? value : BigInt(Math.trunc(value));
  return `0x${BigInt.asUintN(64, v).toString(16)}`;
}
