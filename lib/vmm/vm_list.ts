/**
 * The seed's VM list: VMs ordered by id (a BTreeMap in AxVisor), with range queries.
 *
 * @module
 */

/** Raised when a VM id is pushed twice (AxVisor reports success here; we do not). */
export class DuplicateVmIdError extends Error {
  /** Error code for structured output. */
  readonly code = "EEXIST";
  /** The id that already exists. */
  readonly vmId: number;
  /** Creates the error for `vmId`. */
  constructor(vmId: number) {
    super(`VM with id ${vmId} already exists`);
    this.name = "DuplicateVmIdError";
    this.vmId = vmId;
  }
}

/** An ordered map from VM id to VM. Iteration is always by increasing id. */
export class VmList<T> {
  #map = new Map<number, T>();
  #sorted: number[] = [];

  /** Adds `vm` under `id`; throws {@linkcode DuplicateVmIdError} when the id is taken. */
  push(id: number, vm: T): void {
    if (this.#map.has(id)) throw new DuplicateVmIdError(id);
    this.#map.set(id, vm);
    let lo = 0, hi = this.#sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#sorted[mid] < id) lo = mid + 1;
      else hi = mid;
    }
    this.#sorted.splice(lo, 0, id);
  }

  /** The VM with this id, if any. */
  get(id: number): T | undefined {
    return this.#map.get(id);
  }

  /** Whether a VM has this id. */
  has(id: number): boolean {
    return this.#map.has(id);
  }

  /** Removes and returns the VM with this id, if any. */
  remove(id: number): T | undefined {
    const vm = this.#map.get(id);
    if (vm === undefined) return undefined;
    this.#map.delete(id);
    this.#sorted.splice(this.#sorted.indexOf(id), 1);
    return vm;
  }

  /** All VMs, ordered by id. */
  list(): T[] {
    return this.#sorted.map((id) => this.#map.get(id)!);
  }

  /** All ids, increasing. */
  ids(): number[] {
    return [...this.#sorted];
  }

  /** VMs with `from <= id <= to` (inclusive, as the seed's `range(0..=10)`), ordered by id. */
  range(from: number, to: number): T[] {
    return this.#sorted.filter((id) => id >= from && id <= to).map((id) => this.#map.get(id)!);
  }

  /** Number of VMs. */
  get size(): number {
    return this.#map.size;
  }

  /** The smallest id not in use that is `>= start`. */
  nextFreeId(start = 0): number {
    let id = start;
    while (this.#map.has(id)) id++;
    return id;
  }
}
