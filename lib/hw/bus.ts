/**
 * The system bus: routes physical addresses to RAM ({@linkcode SparseMemory}) or to MMIO
 * devices ({@linkcode MmioDevice}).
 *
 * The bus is a registry of non-overlapping regions. Accessors never throw for an address that
 * nobody answers: they return `undefined` (reads) or `false` (writes) so that the caller (a hart,
 * a loader, the SBI handler) decides what an unanswered access means.
 *
 * @module
 */

import type { AccessWidth, MmioDevice } from "./device.ts";
import { PAGE_SIZE, type SparseMemory } from "./memory.ts";

export type { AccessWidth, DeviceState, MmioDevice } from "./device.ts";
export type { SparseMemory } from "./memory.ts";

/** One mapped region of the physical address space. */
export interface BusRegion {
  /** First physical address of the region. */
  readonly base: number;
  /** Size of the region in bytes. */
  readonly size: number;
  /** Name used in messages and listings, e.g. `ram`, `uart0`. */
  readonly name: string;
  /** Whether the region is RAM or a device's register window. */
  readonly kind: "ram" | "device";
  /** The device answering the region (kind `device`). */
  readonly device?: MmioDevice;
  /** The memory backing the region (kind `ram`). */
  readonly memory?: SparseMemory;
  /** Offset in `memory` that corresponds to `base` (kind `ram`). */
  readonly memoryOffset?: number;
}

const hex = (n: number): string => `0x${n.toString(16)}`;
const describe = (r: { name: string; base: number; size: number }): string =>
  `"${r.name}" [${hex(r.base)}, ${hex(r.base + r.size)})`;

/** Raised when a new mapping would overlap an existing region; the message names both. */
export class BusOverlapError extends Error {
  /** Machine-readable error code. */
  readonly code = "BUS_OVERLAP";
  /** The region that was being mapped. */
  readonly region: { name: string; base: number; size: number };
  /** The existing region it overlaps. */
  readonly existing: BusRegion;
  /** Creates the error for a new region that overlaps an existing one. */
  constructor(region: { name: string; base: number; size: number }, existing: BusRegion) {
    super(`cannot map ${describe(region)}: it overlaps ${describe(existing)}`);
    this.name = "BusOverlapError";
    this.region = region;
    this.existing = existing;
  }
}

/** Raised for an invalid mapping request (bad address, size or alignment, unknown region). */
export class BusMapError extends Error {
  /** Machine-readable error code. */
  readonly code = "BUS_MAP";
  /** Creates the error with a message naming what is wrong. */
  constructor(message: string) {
    super(message);
    this.name = "BusMapError";
  }
}

/** Routes physical addresses to RAM or to devices. */
export class Bus {
  /**
   * Incremented on every map and unmap. Caches of translations (a hart's TLB) compare it to know
   * when to drop what they cached.
   */
  generation = 0;
  /** Low 32 bits (signed) of the last value read by {@linkcode Bus.readPair}. */
  pairLo = 0;
  /** High 32 bits (signed) of the last value read by {@linkcode Bus.readPair}. */
  pairHi = 0;
  #regions: BusRegion[] = [];
  #last: BusRegion | undefined;

  /**
   * Maps `size` bytes of `memory`, starting at `memoryOffset`, at physical address `base`.
   * `base`, `size` and `memoryOffset` must be multiples of 4096.
   *
   * @throws {BusOverlapError} when the range overlaps a mapped region
   * @throws {BusMapError} when the range is invalid or exceeds the memory
   */
  mapRam(base: number, size: number, memory: SparseMemory, memoryOffset = 0, name = "ram"): void {
    for (const [what, v] of [["base", base], ["size", size], ["memory offset", memoryOffset]]) {
      if (!Number.isSafeInteger(v as number) || (v as number) < 0 || (v as number) % PAGE_SIZE) {
        throw new BusMapError(
          `cannot map RAM "${name}": ${what} ${v} is not a non-negative multiple of ${PAGE_SIZE}`,
        );
      }
    }
    if (size === 0) throw new BusMapError(`cannot map RAM "${name}": size is zero`);
    if (memoryOffset + size > memory.size) {
      throw new BusMapError(
        `cannot map RAM "${name}": ${hex(size)} bytes at memory offset ${
          hex(memoryOffset)
        } exceed the ${hex(memory.size)}-byte memory`,
      );
    }
    this.#insert({ base, size, name, kind: "ram", memory, memoryOffset });
  }

  /**
   * Maps `device` at physical address `base`; its window is `device.size` bytes.
   *
   * @throws {BusOverlapError} when the window overlaps a mapped region
   * @throws {BusMapError} when the address or size is invalid
   */
  mapDevice(base: number, device: MmioDevice, name: string): void {
    if (!Number.isSafeInteger(base) || base < 0) {
      throw new BusMapError(`cannot map device "${name}": base ${base} is not a valid address`);
    }
    if (!Number.isSafeInteger(device.size) || device.size <= 0) {
      throw new BusMapError(
        `cannot map device "${name}" (${device.kind}): window size ${device.size} is invalid`,
      );
    }
    this.#insert({ base, size: device.size, name, kind: "device", device });
  }

  #insert(region: BusRegion): void {
    if (region.base + region.size > Number.MAX_SAFE_INTEGER) {
      throw new BusMapError(`cannot map ${describe(region)}: it ends beyond 2^53`);
    }
    for (const r of this.#regions) {
      if (region.base < r.base + r.size && r.base < region.base + region.size) {
        throw new BusOverlapError(region, r);
      }
    }
    this.#regions.push(region);
    this.#regions.sort((a, b) => a.base - b.base);
    this.#last = undefined;
    this.generation++;
  }

  /**
   * Removes the region mapped at `base`.
   *
   * @throws {BusMapError} when no region starts at `base`
   */
  unmap(base: number): void {
    const i = this.#regions.findIndex((r) => r.base === base);
    if (i < 0) throw new BusMapError(`cannot unmap ${hex(base)}: no region starts there`);
    this.#regions.splice(i, 1);
    this.#last = undefined;
    this.generation++;
  }

  /** The mapped regions in ascending address order. */
  regions(): BusRegion[] {
    return [...this.#regions];
  }

  /** The region containing `addr`, or `undefined`. */
  find(addr: number): BusRegion | undefined {
    const last = this.#last;
    if (last !== undefined && addr >= last.base && addr < last.base + last.size) return last;
    const rs = this.#regions;
    let lo = 0;
    let hi = rs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const r = rs[mid];
      if (addr < r.base) hi = mid - 1;
      else if (addr >= r.base + r.size) lo = mid + 1;
      else {
        this.#last = r;
        return r;
      }
    }
    return undefined;
  }

  /**
   * Reads `width` bytes at `addr`, zero-extended (unsigned). `undefined` when no region answers
   * the whole access.
   */
  read(addr: number, width: AccessWidth): number | undefined {
    const r = this.find(addr);
    if (r === undefined || addr + width > r.base + r.size) return undefined;
    const off = addr - r.base;
    if (r.kind === "ram") {
      const m = r.memory!;
      const o = r.memoryOffset! + off;
      return width === 4 ? m.read32(o) : width === 2 ? m.read16(o) : m.read8(o);
    }
    const v = r.device!.read(off, width);
    return width === 4 ? v >>> 0 : v & (width === 2 ? 0xffff : 0xff);
  }

  /** Writes the low `width` bytes of `value` at `addr`. `false` when no region answers. */
  write(addr: number, width: AccessWidth, value: number): boolean {
    const r = this.find(addr);
    if (r === undefined || addr + width > r.base + r.size) return false;
    const off = addr - r.base;
    if (r.kind === "ram") {
      const m = r.memory!;
      const o = r.memoryOffset! + off;
      if (width === 4) m.write32(o, value);
      else if (width === 2) m.write16(o, value);
      else m.write8(o, value);
      return true;
    }
    r.device!.write(off, width, width === 4 ? value >>> 0 : value & (width === 2 ? 0xffff : 0xff));
    return true;
  }

  /**
   * Reads 8 bytes at `addr` into {@linkcode Bus.pairLo} and {@linkcode Bus.pairHi} (signed
   * int32 halves) without allocating a BigInt. A device sees two 4-byte reads, low word first.
   * Returns `false` when no region answers the whole access.
   */
  readPair(addr: number): boolean {
    const r = this.find(addr);
    if (r === undefined || addr + 8 > r.base + r.size) return false;
    const off = addr - r.base;
    if (r.kind === "ram") {
      const m = r.memory!;
      const o = r.memoryOffset! + off;
      this.pairLo = m.read32(o) | 0;
      this.pairHi = m.read32(o + 4) | 0;
      return true;
    }
    const d = r.device!;
    this.pairLo = d.read(off, 4) | 0;
    this.pairHi = d.read(off + 4, 4) | 0;
    return true;
  }

  /**
   * Writes the 64-bit value `hi:lo` (int32 halves) at `addr`. A device sees two 4-byte writes,
   * low word first. Returns `false` when no region answers the whole access.
   */
  writePair(addr: number, lo: number, hi: number): boolean {
    const r = this.find(addr);
    if (r === undefined || addr + 8 > r.base + r.size) return false;
    const off = addr - r.base;
    if (r.kind === "ram") {
      const m = r.memory!;
      const o = r.memoryOffset! + off;
      m.write32(o, lo);
      m.write32(o + 4, hi);
      return true;
    }
    const d = r.device!;
    d.write(off, 4, lo >>> 0);
    d.write(off + 4, 4, hi >>> 0);
    return true;
  }

  /** Reads 8 bytes at `addr` as an unsigned BigInt; `undefined` when nobody answers. */
  read64(addr: number): bigint | undefined {
    if (!this.readPair(addr)) return undefined;
    return (BigInt(this.pairHi >>> 0) << 32n) | BigInt(this.pairLo >>> 0);
  }

  /** Writes the low 64 bits of `value` at `addr`; `false` when nobody answers. */
  write64(addr: number, value: bigint): boolean {
    const v = BigInt.asUintN(64, value);
    return this.writePair(addr, Number(v & 0xffffffffn) | 0, Number(v >> 32n) | 0);
  }

  /** Whether every byte of `[addr, addr + length)` is answered by some region. */
  covers(addr: number, length: number): boolean {
    // An address beyond 2^53 is not exact as a number: nothing answers it.
    if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(addr + length) || length < 0) {
      return false;
    }
    let a = addr;
    const end = addr + length;
    while (a < end) {
      const r = this.find(a);
      if (r === undefined) return false;
      a = r.base + r.size;
    }
    return true;
  }

  /**
   * Copies `length` bytes starting at `addr`; the range may span adjacent regions. Device bytes
   * are read one byte at a time. `undefined` when any byte is unanswered.
   */
  readBytes(addr: number, length: number): Uint8Array | undefined {
    if (!this.covers(addr, length)) return undefined;
    const out = new Uint8Array(length);
    this.#eachPiece(addr, length, (r, off, done, n) => {
      if (r.kind === "ram") {
        out.set(r.memory!.readBytes(r.memoryOffset! + off, n), done);
      } else {
        for (let i = 0; i < n; i++) out[done + i] = r.device!.read(off + i, 1) & 0xff;
      }
    });
    return out;
  }

  /**
   * Copies `data` to `addr`; the range may span adjacent regions. Nothing is written and `false`
   * is returned when any byte of the range is unanswered.
   */
  writeBytes(addr: number, data: Uint8Array): boolean {
    if (!this.covers(addr, data.length)) return false;
    this.#eachPiece(addr, data.length, (r, off, done, n) => {
      if (r.kind === "ram") {
        r.memory!.writeBytes(r.memoryOffset! + off, data.subarray(done, done + n));
      } else {
        for (let i = 0; i < n; i++) r.device!.write(off + i, 1, data[done + i]);
      }
    });
    return true;
  }

  /**
   * Visits `[addr, addr + length)` (which {@linkcode Bus.covers} must have accepted) one region
   * at a time, in address order: the region, the offset in it, the bytes done before, the bytes
   * in this region.
   */
  #eachPiece(
    addr: number,
    length: number,
    visit: (region: BusRegion, offset: number, done: number, n: number) => void,
  ): void {
    let done = 0;
    while (done < length) {
      const a = addr + done;
      const r = this.find(a)!;
      const n = Math.min(r.base + r.size - a, length - done);
      visit(r, a - r.base, done, n);
      done += n;
    }
  }
}
