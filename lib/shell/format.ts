/**
 * Text formatting shared by the commands: the seed's memory sizes, hex numbers, durations and
 * left-aligned columns.
 *
 * @module
 */

import { formatAddress } from "../hw/riscv/address.ts";

/**
 * The seed's `format_memory_size`: `512B`, `256KB`, `512MB`, `3GB` (integer division, as the
 * seed does).
 */
export function formatMemorySize(bytes: number): string {
  if (bytes < 1024) return `${bytes}B`;
  if (bytes < 1024 * 1024) return `${Math.floor(bytes / 1024)}KB`;
  if (bytes < 1024 * 1024 * 1024) return `${Math.floor(bytes / (1024 * 1024))}MB`;
  return `${Math.floor(bytes / (1024 * 1024 * 1024))}GB`;
}

/** Rust's `{:#x}`: `0x80200000`. */
export function hex(value: number | bigint): string {
  return value < 0 ? formatAddress(value) : `0x${value.toString(16)}`;
}

/** A 64-bit value as 16 hex digits, `0x0000000080200000`. */
export function hex64(value: bigint): string {
  return `0x${BigInt.asUintN(64, value).toString(16).padStart(16, "0")}`;
}

/** Rust's `{:<width}`: pads on the right, never truncates. */
export function padRight(text: string | number, width: number): string {
  return String(text).padEnd(width);
}

/** Parses a virtual-time duration: `10s`, `500ms`, `250us`, `100ns`, `2m`, or bare seconds. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)?$/.exec(text.trim());
  if (!m) return undefined;
  const value = Number(m[1]);
  const unit = m[2] ?? "s";
  const scale: Record<string, number> = {
    ns: 1,
    us: 1e3,
    "µs": 1e3,
    ms: 1e6,
    s: 1e9,
    m: 60e9,
    h: 3600e9,
  };
  return Math.round(value * scale[unit]);
}

/** Renders virtual nanoseconds for people: `0ns`, `1.5ms`, `2.000s`. */
export function formatDuration(ns: number): string {
  if (ns < 1e3) return `${ns}ns`;
  if (ns < 1e6) return `${trim(ns / 1e3)}us`;
  if (ns < 1e9) return `${trim(ns / 1e6)}ms`;
  return `${(ns / 1e9).toFixed(3)}s`;
}

function trim(n: number): string {
  return Number(n.toFixed(3)).toString();
}

/**
 * Parses a VM, vCPU or pCPU number written in decimal or `0x` hex; undefined when the text is
 * not a non-negative safe integer.
 */
export function parseUnsigned(text: string): number | undefined {
  if (!/^(0x[0-9a-fA-F_]+|[0-9_]+)$/.test(text)) return undefined;
  const clean = text.replaceAll("_", "");
  const value = clean.startsWith("0x") ? parseInt(clean.slice(2), 16) : parseInt(clean, 10);
  return Number.isSafeInteger(value) ? value : undefined;
}
