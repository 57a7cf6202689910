/**
 * RISC-V platform-level interrupt controller in the SiFive / QEMU `virt` layout.
 *
 * | offset                      | register                                        |
 * |-----------------------------|-------------------------------------------------|
 * | 0x000000 + 4*source         | priority of `source` (1..ndev; 0 is reserved)   |
 * | 0x001000 + 4*word           | pending bits (read-only)                        |
 * | 0x002000 + 0x80*ctx + 4*w   | enable bits of context `ctx`                    |
 * | 0x200000 + 0x1000*ctx       | priority threshold of context `ctx`             |
 * | 0x200004 + 0x1000*ctx       | claim (read) / complete (write) of context `ctx` |
 *
 * Sources are level-triggered through a gateway: a high line makes its source pending unless the
 * source is in flight (claimed and not yet completed); claiming clears the pending bit; completing
 * lets a still-high line pend again. A context's output line is high while some enabled pending
 * source has a priority above the context's threshold. On a board there are two contexts per hart,
 * M-mode then S-mode (driving MEIP and SEIP), as on QEMU `virt`.
 *
 * @module
 */

import type { AccessWidth, DeviceState, IrqLine, MmioDevice } from "../device.ts";
import { mergeRegisterPart, readRegisterPart } from "../device.ts";

/** Highest priority value (priorities are 3 bits wide, as on QEMU virt). */
export const PLIC_MAX_PRIORITY = 7;
/** Largest number of interrupt sources the layout allows. */
export const PLIC_MAX_SOURCES = 1023;
/** Largest number of contexts the layout allows. */
export const PLIC_MAX_CONTEXTS = 15872;
/** Offset of the pending bits. */
export const PLIC_PENDING_BASE = 0x1000;
/** Offset of the enable bits of context 0. */
export const PLIC_ENABLE_BASE = 0x2000;
/** Distance between two contexts' enable bits. */
export const PLIC_ENABLE_STRIDE = 0x80;
/** Offset of context 0's threshold register. */
export const PLIC_CONTEXT_BASE = 0x200000;
/** Distance between two contexts' threshold/claim registers. */
export const PLIC_CONTEXT_STRIDE = 0x1000;

/** Options for {@linkcode Plic}. */
export interface PlicOptions {
  /** Number of interrupt sources, `riscv,ndev` (sources 1..ndev exist). 1..1023. */
  sources: number;
  /** One output line per context, in context order (on a board: hart0 M, hart0 S, hart1 M, ...). */
  contexts: IrqLine[];
  /** Size of the register window. Default: just large enough for the contexts. */
  size?: number;
}

/** The saved state of a {@linkcode Plic}. */
export interface PlicState extends DeviceState {
  /** Priority of each source, index = source id (index 0 unused). */
  priorities: number[];
  /** Pending source ids. */
  pending: number[];
  /** Source ids claimed and not completed yet. */
  claimed: number[];
  /** Input line levels: source ids whose line is high. */
  levels: number[];
  /** Enabled source ids per context. */
  enables: number[][];
  /** Threshold per context. */
  thresholds: number[];
}

/** Emulated PLIC. */
export class Plic implements MmioDevice {
  /** Model name. */
  readonly kind = "plic";
  /** Size of the register window in bytes. */
  readonly size: number;
  /** Number of sources (`riscv,ndev`). */
  readonly sources: number;
  /** Number of contexts. */
  readonly contextCount: number;

  #contexts: IrqLine[];
  #words: number;
  #priority: Uint8Array;
  #pending: Uint32Array;
  #claimed: Uint32Array;
  #level: Uint32Array;
  #enable: Uint32Array; // contextCount * words
  #threshold: Uint8Array;
  #output: Uint8Array; // current level of each context line
  #sourceLines: IrqLine[] = [];

  /** Creates a PLIC with every source disabled, priority 0 and threshold 0. */
  constructor(options: PlicOptions) {
    const { sources, contexts } = options;
    if (!Number.isInteger(sources) || sources < 1 || sources > PLIC_MAX_SOURCES) {
      throw new RangeError(`plic: sources must be 1..${PLIC_MAX_SOURCES}, got ${sources}`);
    }
    if (contexts.length < 1 || contexts.length > PLIC_MAX_CONTEXTS) {
      throw new RangeError(`plic: needs 1..${PLIC_MAX_CONTEXTS} contexts, got ${contexts.length}`);
    }
    this.sources = sources;
    this.contextCount = contexts.length;
    this.#contexts = contexts;
    const needed = PLIC_CONTEXT_BASE + PLIC_CONTEXT_STRIDE * contexts.length;
    this.size = options.size ?? needed;
    if (this.size < needed) {
      throw new RangeError(
        `plic: a window of 0x${
          this.size.toString(16)
        } bytes cannot hold ${contexts.length} contexts (needs 0x${needed.toString(16)})`,
      );
    }
    this.#words = (sources + 1 + 31) >>> 5;
    this.#priority = new Uint8Array(sources + 1);
    this.#pending = new Uint32Array(this.#words);
    this.#claimed = new Uint32Array(this.#words);
    this.#level = new Uint32Array(this.#words);
    this.#enable = new Uint32Array(this.#words * contexts.length);
    this.#threshold = new Uint8Array(contexts.length);
    this.#output = new Uint8Array(contexts.length);
  }

  /** The input wire of `source` (1..sources), for a device to raise. */
  irq(source: number): IrqLine {
    if (!Number.isInteger(source) || source < 1 || source > this.sources) {
      throw new RangeError(`plic: no interrupt source ${source} (sources are 1..${this.sources})`);
    }
    let line = this.#sourceLines[source];
    if (!line) {
      line = { set: (level: boolean) => this.setSource(source, level) };
      this.#sourceLines[source] = line;
    }
    return line;
  }

  /** Drives the input line of `source` to `level`. */
  setSource(source: number, level: boolean): void {
    const w = source >>> 5, bit = 1 << (source & 31);
    if (level) {
      if (this.#level[w] & bit) return;
      this.#level[w] |= bit;
      if (!(this.#claimed[w] & bit)) this.#pending[w] |= bit;
    } else {
      if (!(this.#level[w] & bit)) return;
      this.#level[w] &= ~bit;
      this.#pending[w] &= ~bit;
    }
    this.#update();
  }

  /** Whether `source` is pending. */
  isPending(source: number): boolean {
    return (this.#pending[source >>> 5] & (1 << (source & 31))) !== 0;
  }

  /** Current level of context `ctx`'s output line. */
  contextLevel(ctx: number): boolean {
    return this.#output[ctx] === 1;
  }

  /** Claims the best interrupt for context `ctx` (what a read of its claim register does). */
  claim(ctx: number): number {
    const source = this.#best(ctx);
    if (source !== 0) {
      const w = source >>> 5, bit = 1 << (source & 31);
      this.#pending[w] &= ~bit;
      this.#claimed[w] |= bit;
      this.#update();
    }
    return source;
  }

  /** Completes `source` for context `ctx` (what a write of its claim register does). */
  complete(ctx: number, source: number): void {
    if (source < 1 || source > this.sources) return;
    const w = source >>> 5, bit = 1 << (source & 31);
    // The spec ignores completions for sources not enabled for the context.
    if (!(this.#enable[ctx * this.#words + w] & bit)) return;
    if (!(this.#claimed[w] & bit)) return;
    this.#claimed[w] &= ~bit;
    if (this.#level[w] & bit) this.#pending[w] |= bit;
    this.#update();
  }

  /** Reads a register; narrower accesses read part of the 32-bit register. */
  read(offset: number, width: AccessWidth): number {
    return readRegisterPart(this.#readWord(offset & ~3), offset, width);
  }

  /** Writes a register; narrower writes merge into the 32-bit register. */
  write(offset: number, width: AccessWidth, value: number): void {
    const aligned = offset & ~3;
    // Reading the claim register would claim an interrupt: a narrow completion merges into 0.
    const isClaim = aligned >= PLIC_CONTEXT_BASE && (aligned & 0xfff) === 4;
    const current = width === 4 || isClaim ? 0 : this.#readWord(aligned);
    this.#writeWord(aligned, mergeRegisterPart(current, offset, width, value));
  }

  /** Returns to the power-on state (line levels are kept: they belong to the devices). */
  reset(): void {
    this.#priority.fill(0);
    this.#pending.fill(0);
    this.#claimed.fill(0);
    this.#enable.fill(0);
    this.#threshold.fill(0);
    for (let w = 0; w < this.#words; w++) this.#pending[w] = this.#level[w];
    this.#update();
  }

  /** Captures priorities, pending/claimed bits, enables and thresholds. */
  snapshot(): PlicState {
    const enables: number[][] = [];
    for (let ctx = 0; ctx < this.contextCount; ctx++) {
      enables.push(
        this.#bitsToIds(this.#enable.subarray(ctx * this.#words, (ctx + 1) * this.#words)),
      );
    }
    return {
      priorities: Array.from(this.#priority),
      pending: this.#bitsToIds(this.#pending),
      claimed: this.#bitsToIds(this.#claimed),
      levels: this.#bitsToIds(this.#level),
      enables,
      thresholds: Array.from(this.#threshold),
    };
  }

  /** Restores a state taken by {@linkcode Plic.snapshot} from a PLIC of the same shape. */
  restore(state: DeviceState): void {
    const s = state as Partial<PlicState>;
    const ids = (name: string, v: unknown): number[] => {
      if (
        !Array.isArray(v) || v.some((id) => !Number.isInteger(id) || id < 1 || id > this.sources)
      ) {
        throw new TypeError(`plic restore: ${name} must list source ids 1..${this.sources}`);
      }
      return v;
    };
    if (!Array.isArray(s.priorities) || s.priorities.length !== this.sources + 1) {
      throw new TypeError(`plic restore: priorities must have ${this.sources + 1} entries`);
    }
    if (!Array.isArray(s.enables) || s.enables.length !== this.contextCount) {
      throw new TypeError(`plic restore: enables must have ${this.contextCount} entries`);
    }
    if (!Array.isArray(s.thresholds) || s.thresholds.length !== this.contextCount) {
      throw new TypeError(`plic restore: thresholds must have ${this.contextCount} entries`);
    }
    const setBits = (target: Uint32Array, list: number[]) => {
      target.fill(0);
      for (const id of list) target[id >>> 5] |= 1 << (id & 31);
    };
    s.priorities.forEach((p, i) =>
      this.#priority[i] = i === 0 ? 0 : Math.min(Number(p) >>> 0, PLIC_MAX_PRIORITY)
    );
    setBits(this.#pending, ids("pending", s.pending));
    setBits(this.#claimed, ids("claimed", s.claimed));
    setBits(this.#level, ids("levels", s.levels));
    for (let ctx = 0; ctx < this.contextCount; ctx++) {
      setBits(
        this.#enable.subarray(ctx * this.#words, (ctx + 1) * this.#words),
        ids(`enables[${ctx}]`, s.enables[ctx]),
      );
      this.#threshold[ctx] = Math.min(Number(s.thresholds[ctx]) >>> 0, PLIC_MAX_PRIORITY);
    }
    // Lines are reported again from scratch.
    this.#output.fill(2);
    this.#update();
  }

  #bitsToIds(bits: Uint32Array): number[] {
    const out: number[] = [];
    for (let w = 0; w < bits.length; w++) {
      let v = bits[w];
      while (v !== 0) {
        const b = 31 - Math.clz32(v & -v);
        out.push(w * 32 + b);
        v &= v - 1;
      }
    }
    return out;
  }

  /** The pending, enabled source of highest priority above the threshold (lowest id on ties). */
  #best(ctx: number): number {
    const base = ctx * this.#words;
    const threshold = this.#threshold[ctx];
    let best = 0, bestPriority = threshold;
    for (let w = 0; w < this.#words; w++) {
      let v = this.#pending[w] & this.#enable[base + w];
      while (v !== 0) {
        const b = 31 - Math.clz32(v & -v);
        const source = w * 32 + b;
        const p = this.#priority[source];
        if (p > bestPriority) {
          best = source;
          bestPriority = p;
        }
        v &= v - 1;
      }
    }
    return best;
  }

  #update(): void {
    for (let ctx = 0; ctx < this.contextCount; ctx++) {
      const level = this.#best(ctx) !== 0 ? 1 : 0;
      if (this.#output[ctx] !== level) {
        this.#output[ctx] = level;
        this.#contexts[ctx].set(level === 1);
      }
    }
  }

  #readWord(offset: number): number {
    if (offset < PLIC_PENDING_BASE) {
      const source = offset >>> 2;
      return source <= this.sources ? this.#priority[source] : 0;
    }
    if (offset < PLIC_ENABLE_BASE) {
      const w = (offset - PLIC_PENDING_BASE) >>> 2;
      return w < this.#words ? this.#pending[w] : 0;
    }
    if (offset < PLIC_CONTEXT_BASE) {
      const rel = offset - PLIC_ENABLE_BASE;
      const ctx = Math.floor(rel / PLIC_ENABLE_STRIDE);
      const w = (rel % PLIC_ENABLE_STRIDE) >>> 2;
      if (ctx >= this.contextCount || w >= this.#words) return 0;
      return this.#enable[ctx * this.#words + w];
    }
    const rel = offset - PLIC_CONTEXT_BASE;
    const ctx = Math.floor(rel / PLIC_CONTEXT_STRIDE);
    if (ctx >= this.contextCount) return 0;
    switch (rel % PLIC_CONTEXT_STRIDE) {
      case 0:
        return this.#threshold[ctx];
      case 4:
        return this.claim(ctx);
      default:
        return 0;
    }
  }

  #writeWord(offset: number, value: number): void {
    if (offset < PLIC_PENDING_BASE) {
      const source = offset >>> 2;
      if (source === 0 || source > this.sources) return;
      this.#priority[source] = value & PLIC_MAX_PRIORITY; // WARL: the low 3 bits
      this.#update();
      return;
    }
    if (offset < PLIC_ENABLE_BASE) return; // pending bits are read-only
    if (offset < PLIC_CONTEXT_BASE) {
      const rel = offset - PLIC_ENABLE_BASE;
      const ctx = Math.floor(rel / PLIC_ENABLE_STRIDE);
      const w = (rel % PLIC_ENABLE_STRIDE) >>> 2;
      if (ctx >= this.contextCount || w >= this.#words) return;
      let mask = 0xffffffff;
      if (w === 0) mask &= ~1; // source 0 does not exist
      const last = this.sources - w * 32; // bits of this word that name real sources
      if (last < 31) mask &= (2 ** (last + 1) - 1) >>> 0;
      this.#enable[ctx * this.#words + w] = (value & mask) >>> 0;
      this.#update();
      return;
    }
    const rel = offset - PLIC_CONTEXT_BASE;
    const ctx = Math.floor(rel / PLIC_CONTEXT_STRIDE);
    if (ctx >= this.contextCount) return;
    switch (rel % PLIC_CONTEXT_STRIDE) {
      case 0:
        // As QEMU: thresholds beyond the largest priority are ignored.
        if (value <= PLIC_MAX_PRIORITY) {
          this.#threshold[ctx] = value;
          this.#update();
        }
        break;
      case 4:
        this.complete(ctx, value);
        break;
    }
  }
}
