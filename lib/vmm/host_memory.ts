/**
 * Host-physical memory accounting: which parts of the board's RAM belong to which VM.
 *
 * Allocated regions (`map_type` 0) take free board RAM (first fit, 2 MiB aligned when possible);
 * identical regions (`map_type` 1) claim exactly the board RAM at their guest-physical address.
 * No two claims ever overlap, so no two VMs can share RAM by accident. Page-table roots ("EPT
 * roots") are 4 KiB allocations from the same pool.
 *
 * @module
 */

/** Raised when board RAM cannot satisfy a request; the message says what and why. */
export class HostMemoryError extends Error {
  /** Error code for structured output. */
  readonly code = "ENOMEM";
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "HostMemoryError";
  }
}

/** One range of board RAM given to an owner. */
export interface HostAllocation {
  /** Host-physical base. */
  hpa: number;
  /** Size in bytes. */
  size: number;
  /** Owner label, e.g. `VM[1]`. */
  owner: string;
  /** What it is for, e.g. `memory_regions[0]`, `EPT root`. */
  purpose: string;
  /** `alloc` (first fit) or `identical` (fixed address). */
  kind: "alloc" | "identical";
}

const hex = (n: number) => `0x${n.toString(16)}`;
const SIZE_2M = 0x20_0000;

/** Board RAM allocator. */
export class HostMemory {
  readonly #ram: { base: number; size: number }[];
  #used: HostAllocation[] = [];
  #usedBytes = 0;

  /** Creates an allocator over the board's RAM ranges. */
  constructor(ram: readonly { base: number; size: number }[]) {
    this.#ram = [...ram].sort((a, b) => a.base - b.base);
  }

  /** Total board RAM in bytes. */
  get total(): number {
    return this.#ram.reduce((s, r) => s + r.size, 0);
  }

  /** Bytes currently given out. */
  get used(): number {
    return this.#usedBytes;
  }

  /** The board RAM range containing `[hpa, hpa+size)`, if any. */
  ramContaining(hpa: number, size: number): { base: number; size: number } | undefined {
    return this.#ram.find((r) => hpa >= r.base && hpa + size <= r.base + r.size);
  }

  #overlapping(hpa: number, size: number): HostAllocation | undefined {
    return this.#used.find((a) => hpa < a.hpa + a.size && a.hpa < hpa + size);
  }

  #insert(a: HostAllocation): HostAllocation {
    let lo = 0, hi = this.#used.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#used[mid].hpa < a.hpa) lo = mid + 1;
      else hi = mid;
    }
    this.#used.splice(lo, 0, a);
    this.#usedBytes += a.size;
    return a;
  }

  /** Allocates `size` bytes of free board RAM (4 KiB multiple): first fit, in address order. */
  allocate(size: number, owner: string, purpose: string): HostAllocation {
    const aligns = size >= SIZE_2M ? [SIZE_2M, 0x1000] : [0x1000];
    for (const align of aligns) {
      let i = 0; // allocations are sorted by address: walk the gaps once per RAM range
      for (const r of this.#ram) {
        let cand = Math.ceil(r.base / align) * align;
        while (i < this.#used.length && this.#used[i].hpa + this.#used[i].size <= cand) i++;
        while (cand + size <= r.base + r.size) {
          const next = this.#used[i];
          if (next === undefined || next.hpa >= cand + size) {
            return this.#insert({ hpa: cand, size, owner, purpose, kind: "alloc" });
          }
          cand = Math.ceil((next.hpa + next.size) / align) * align;
          while (i < this.#used.length && this.#used[i].hpa + this.#used[i].size <= cand) i++;
        }
      }
    }
    throw new HostMemoryError(
      `not enough board RAM for ${owner} ${purpose}: ${hex(size)} bytes requested, ${
        hex(this.total - this.used)
      } of ${hex(this.total)} free (or too fragmented)`,
    );
  }

  /** Claims the board RAM at exactly `[hpa, hpa+size)` (an identical mapping). */
  claim(hpa: number, size: number, owner: string, purpose: string): HostAllocation {
    if (!this.ramContaining(hpa, size)) {
      throw new HostMemoryError(
        `${owner} ${purpose}: no board RAM covers [${hex(hpa)}, ${
          hex(hpa + size)
        }) for an identical mapping (board RAM: ${
          this.#ram.map((r) => `[${hex(r.base)}, ${hex(r.base + r.size)})`).join(", ")
        })`,
      );
    }
    const clash = this.#overlapping(hpa, size);
    if (clash) {
      throw new HostMemoryError(
        `${owner} ${purpose}: board RAM [${hex(hpa)}, ${
          hex(hpa + size)
        }) is already used by ${clash.owner} ${clash.purpose} [${hex(clash.hpa)}, ${
          hex(clash.hpa + clash.size)
        })`,
      );
    }
    return this.#insert({ hpa, size, owner, purpose, kind: "identical" });
  }

  /** Releases one allocation. */
  free(allocation: HostAllocation): void {
    const i = this.#used.indexOf(allocation);
    if (i >= 0) {
      this.#used.splice(i, 1);
      this.#usedBytes -= allocation.size;
    }
  }

  /** Releases everything `owner` holds; returns how many allocations were freed. */
  freeOwner(owner: string): number {
    const before = this.#used.length;
    this.#used = this.#used.filter((a) => a.owner !== owner);
    this.#usedBytes = this.#used.reduce((s, a) => s + a.size, 0);
    return before - this.#used.length;
  }

  /** Every allocation, by address. */
  allocations(): HostAllocation[] {
    return this.#used.map((a) => ({ ...a }));
  }
}
