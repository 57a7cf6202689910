/**
 * The hart side of the WebAssembly tier: translates hot integer regions of a decoded page
 * (wasm_block.ts) into functions over the frame pool's shared memory and wraps them as the run
 * loop's compiled units (`BlockFn` of jit.ts), so that the dispatcher calls them exactly as it
 * calls the JavaScript tier's regions:
 *
 * - the unit is the exported wasm function itself (no JavaScript wrapper: the module is
 *   instantiated per hart with the hart area's offset as an imported global); it runs from its
 *   entry with the remaining budget against the hart's area (hart_area.ts: the interpreter's
 *   `xl`/`xh` and TLB tags), writes the instructions done and the exit reason to the area's exit
 *   record, which is the hart's status array `st`, and returns the next pc as an offset from
 *   the page base;
 * - a TLB miss, an access across pages, a store into a page with decoded code (those are never
 *   in the store TLB the tier reads) or an untranslated instruction exits *before* the
 *   instruction, and the interpreter performs it (page walk, MMIO, fault, code invalidation);
 * - regions are position independent (pcs relative to the page's virtual base), and modules are
 *   cached by region content, so harts, and the same code at another address, share them;
 * - each hart puts its units in its own function table, which its instances import: a unit
 *   leaving to the entry of another unit the run loop entered before (the jump cache of
 *   hart_area.ts) calls it directly (wasm_block.ts).
 *
 * Translation is batched per page: the hart translates the region of an entry that reached the
 * compile threshold together with the regions of its page's other hot instructions that no
 * region covers yet, in one module, which shares the ~150 µs fixed cost of a module (see
 * wasm_block.ts).
 *
 * ## Measurements (as wired; development VM, 2 shared cores, same-run ratios)
 *
 * - Compute loop (bench/compute_qemu_bench.ts, 495 M instructions): 0.95-1.19x QEMU's speed by
 *   wall time (main before the wiring: 0.23-0.26x). 7 regions in 4 modules; some 20,000 unit
 *   calls a run (loops stay inside wasm).
 * - Linux boot to /init (bench/linux_init_bench.ts, 1 vCPU): 3.0x QEMU's wall time (6.2-7.0 s;
 *   main: 3.5x, 7.5 s); 4 vCPUs 2.2-3.1x (main 3.6x). 2,109 regions in 565 modules, 94 M of
 *   1,014 M instructions left in the interpreter, but 35 M unit calls: kernel regions are
 *   short (calls, returns and page ends end them), so the cost per call dominates. Calling the
 *   exported functions directly instead of through a JavaScript wrapper saved 0.8 s of CPU.
 *   A compile threshold of 500 was slower (4,400 regions), 10,000 about equal to 2,000.
 * - Then (issue 15, second pass): in-page misaligned accesses in wasm (Linux's memcpy of
 *   unaligned buffers left wasm at every access: 0.2 M memory exits), Zb* and Zicond translated
 *   (string functions), and the jump cache, kept across runs and fences: of some 36 M unit
 *   entries, 32 M now come from another unit and 4 M from the run loop (was 36 M). Four runs
 *   each, alternating with main in one session: 1 vCPU 4.3-5.1 s (main 4.8-7.1 s), 1.75-2.5x
 *   QEMU's wall time (main 1.6-3.0x); 4 vCPUs 5.8-6.5 s (main 5.9-8.5 s), 1.1-2.0x (main
 *   1.9-2.7x). QEMU's own time varied 2.0-3.1 s (1 vCPU) between runs on the shared VM, hence
 *   the spread of the ratios; against its best run, 1 vCPU is at 2.2x (main 2.4x). The compute
 *   loop and the SBI exit cost did not move. In a micro-benchmark of calls and returns across
 *   pages (units of 3 or 4 instructions) the jump cache doubles the speed. What is left: 91 M
 *   instructions of cold code (under 2,000 runs per instruction) in the interpreter, and V8's
 *   compilation (a quarter of the CPU time is its background compiler threads; a threshold of
 *   500 or 1,000 is still slower). Secondary harts keep their own heat, so they interpret code
 *   another hart already translated (4 vCPUs: 82 M interpreted on harts 1-3).
 *
 * @module
 */

import type { BlockFn } from "../jit.ts";
import { type FetchBits, type HartRegionFn, type Region, regionModule } from "./wasm_block.ts";
import type { HartArea } from "./hart_area.ts";
import type { FramePool } from "../../frame_pool.ts";

/** A translated region ready for the run loop. */
export interface WasmUnit {
  /** The region (page offsets: pcs relative to the page base). */
  readonly region: Region;
  /** The unit the dispatcher calls. */
  readonly fn: BlockFn;
  /**
   * Its index in the hart's function table, which the jump cache holds (hart_area.ts), or -1
   * when the table is full (other units then do not call it directly until the hart recycles
   * the table: {@linkcode WasmTier.tableFull}).
   */
  readonly index: number;
}

/**
 * Most units in a hart's function table. Units beyond it are only called by the run loop until
 * the hart recycles the table (drops its code and starts the table over, as QEMU flushes a full
 * translation buffer). A setting so that tests can reach the limit.
 */
export const unitTableSettings: { limit: number } = { limit: 65536 };

/**
 * How many translated regions the process-wide cache holds before it is dropped (and refilled
 * as harts translate again). A setting so that tests can reach the limit.
 */
export const wasmCacheSettings: { limit: number } = { limit: 8192 };
/** A region translated into a module: the module and the index of its export. */
interface Translated {
  readonly module: WebAssembly.Module;
  readonly index: number;
}
/** Translated regions by content (entry offset and instruction words), shared by every hart. */
const cache = new Map<string, Translated>();
/** Counters of the tier, process-wide (tests, statistics). */
export const wasmTierStats = {
  /** Modules compiled. */
  modules: 0,
  /** Regions translated into them. */
  regions: 0,
  /** Regions found in the cache (another hart or address translated them). */
  cacheHits: 0,
};

function keyOf(region: Region): string {
  let key = `${region.entry}`;
  for (const b of region.blocks) {
    key += `|${b.start}`;
    for (const insn of b.insns) key += `,${insn.word},${insn.imm}`;
  }
  return key;
}

/** Reads the instruction bits at page offset `o` of the RAM page `view`. */
export function pageFetcher(view: DataView): FetchBits {
  return (o: number) => {
    if (o < 0 || o > 4094) return undefined;
    const lo = view.getUint16(o, true);
    if ((lo & 3) !== 3) return lo;
    if (o > 4092) return undefined;
    return view.getInt32(o, true);
  };
}

/** A unit as other units call it (wasm_block.ts): page base, origin, done so far, budget. */
type ChainedFn = (vbase: number, origin: number, done: number, budget: number) => number;

/** Exports `u0`, `u1`, ... of an instance (the units other units call). */
function unitsOf(exports: WebAssembly.Exports): ChainedFn[] {
  const units: ChainedFn[] = [];
  for (let k = 0; exports[`u${k}`] !== undefined; k++) units.push(exports[`u${k}`] as ChainedFn);
  return units;
}

/** One hart's wasm tier. */
export class WasmTier {
  readonly #area: HartArea;
  readonly #pool: FramePool;
  /** This hart's instances of the modules it uses, and the table index of their first unit. */
  #instances = new WeakMap<WebAssembly.Module, { exports: WebAssembly.Exports; first: number }>();
  /** This hart's units by index, for units that leave to another unit's entry. */
  readonly #table = new WebAssembly.Table({ element: "anyfunc", initial: 256 });
  /** Table slots handed out. */
  #used = 0;
  /**
   * True once a unit found the table full. The hart then drops its decoded code (whose pages
   * name table slots) and calls {@linkcode WasmTier.recycleTable} before its next run.
   */
  tableFull = false;

  /**
   * The tier of the hart with `area` (in a pool); units report through the area's exit record
   * (`area.status` is the hart's `st`).
   */
  constructor(area: HartArea) {
    if (area.pool === null) throw new Error("wasm tier: the hart area is not in a frame pool");
    this.#area = area;
    this.#pool = area.pool;
  }

  /** Puts the units of an instance in the table; the index of the first, or -1 when full. */
  #register(exports: WebAssembly.Exports): number {
    const units = unitsOf(exports);
    const first = this.#used;
    const limit = unitTableSettings.limit;
    if (first + units.length > limit) {
      this.tableFull = true;
      return -1;
    }
    const table = this.#table;
    if (first + units.length > table.length) {
      table.grow(Math.min(limit, Math.max(table.length * 2, first + units.length)) - table.length);
    }
    units.forEach((u, k) => table.set(first + k, u));
    this.#used += units.length;
    return first;
  }

  /**
   * Starts the function table over. The caller must have dropped every unit it took from this
   * tier (decoded pages and the jump cache name table slots): instances are made anew, and
   * registered again, as the hart translates.
   */
  recycleTable(): void {
    this.#used = 0;
    this.#instances = new WeakMap();
    this.tableFull = false;
  }

  /**
   * Translates `regions` (found by `discoverRegion` with page offsets as pcs) into units the run
   * loop calls directly, compiling those not cached into one module.
   */
  translate(regions: readonly Region[]): WasmUnit[] {
    const keys = regions.map(keyOf);
    // Looked up before any translation: dropping a full cache below must not lose these.
    const found = keys.map((key) => cache.get(key));
    const fresh: number[] = [];
    keys.forEach((key, i) => {
      if (found[i] !== undefined) wasmTierStats.cacheHits++;
      else if (!fresh.some((j) => keys[j] === key)) fresh.push(i);
    });
    if (fresh.length > 0) {
      const bytes = regionModule(
        fresh.map((i) => regions[i]),
        { minPages: 1, maxPages: this.#pool.maximumPages, shared: true },
        "r",
        true,
      );
      const module = new WebAssembly.Module(bytes);
      wasmTierStats.modules++;
      wasmTierStats.regions += fresh.length;
      if (cache.size + fresh.length > wasmCacheSettings.limit) cache.clear();
      fresh.forEach((i, k) => {
        const t = { module, index: k };
        cache.set(keys[i], t);
        keys.forEach((key, j) => {
          if (key === keys[i]) found[j] = t;
        });
      });
    }
    return regions.map((region, i) => {
      const { module, index } = found[i]!;
      let instance = this.#instances.get(module);
      if (instance === undefined) {
        const env = { mem: this.#pool.memory, area: this.#area.offset, units: this.#table };
        const exports = new WebAssembly.Instance(module, { env }).exports;
        instance = { exports, first: this.#register(exports) };
        this.#instances.set(module, instance);
      }
      const { exports, first } = instance;
      return {
        region,
        fn: exports[`r${index}`] as HartRegionFn,
        index: first < 0 ? -1 : first + index,
      };
    });
  }
}
