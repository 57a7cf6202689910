/**
 * A minimal standalone runner for the wasm tier experiment (bench/wasm_tier_bench.ts): bare
 * M-mode RV64IM code in a flat RAM inside a `WebAssembly.Memory` (wasm_space.ts), run by regions
 * translated on first use (wasm_block.ts), with a tiny slow path for what the compute workload
 * needs beyond them: `csrr` of mhartid (0), TLB fills for RAM pages, and the HTIF `tohost` store
 * that ends the run (stores to `tohost`'s page and to code pages go through the slow path; a code
 * store drops that page's regions). Anything else stops the run with outcome "unsupported".
 *
 * It is not a hart: no traps, no privilege, no devices. It exists to measure what the tier would
 * give the compute loop.
 *
 * @module
 */

import { decode, Op } from "../lib/hw/riscv/decoder.ts";
import { BlockExit } from "../lib/hw/riscv/hart_stats.ts";
import { compileRegions, discoverRegion, type RegionFn } from "../lib/hw/riscv/wasm/wasm_block.ts";
import { WasmSpace } from "../lib/hw/riscv/wasm/wasm_space.ts";

/** How a run ended. */
export interface WasmRunResult {
  /** "pass" (tohost = 1), "fail" (another tohost value), "budget" or "unsupported". */
  outcome: "pass" | "fail" | "budget" | "unsupported";
  /** Instructions retired. */
  instret: number;
  /** The tohost value, or a description of the unsupported instruction. */
  detail: string;
  /** Regions translated and their total instructions. */
  regions: number;
  /** Instructions translated. */
  translated: number;
  /** Calls into translated code. */
  calls: number;
  /** Milliseconds spent translating (building and compiling modules). */
  compileMs: number;
}

const PAGE = 4096;
const CSR_MHARTID = 0xf14;

/** The runner: a wasm space, the code cache by entry pc, and the slow path. */
export class WasmTierRunner {
  /** Registers, TLBs and RAM. */
  readonly space: WasmSpace;
  private readonly tohost: number;
  private readonly cache = new Map<number, RegionFn | null>();
  private readonly codePages = new Map<number, number[]>();
  /** Instructions per call into translated code at most (lets V8 swap in tiered-up code). */
  slice = 1 << 22;

  /** A runner over `ramBytes` of RAM at `ramBase`; `tohost` is the HTIF mailbox address. */
  constructor(ramBase: number, ramBytes: number, tohost: number) {
    this.space = new WasmSpace(ramBase, ramBytes);
    this.tohost = tohost;
  }

  /** Writes `data` at guest physical `addr` (a loader target); `false` outside RAM. */
  writeBytes(addr: number, data: Uint8Array): boolean {
    const a = this.space.linear(addr);
    if (a < 0 || this.space.linear(addr + data.length - 1) < 0) return false;
    this.space.u8.set(data, a);
    return true;
  }

  private fetch = (pc: number): number | undefined => {
    const a = this.space.linear(pc);
    if (a < 0 || this.space.linear(pc + 3) < 0) return undefined;
    return this.space.view.getInt32(a, true);
  };

  /** Runs from `entry` until tohost is written or `maxInsns` instructions retire. */
  run(entry: number, maxInsns: number): WasmRunResult {
    const s = this.space;
    const result: WasmRunResult = {
      outcome: "budget",
      instret: 0,
      detail: "",
      regions: 0,
      translated: 0,
      calls: 0,
      compileMs: 0,
    };
    let pc = entry;
    while (result.instret < maxInsns) {
      let fn = this.cache.get(pc);
      if (fn === undefined) {
        const t0 = performance.now();
        const region = discoverRegion(pc, this.fetch);
        fn = region === null ? null : compileRegions([region], s.memory)[0];
        result.compileMs += performance.now() - t0;
        this.cache.set(pc, fn);
        if (region !== null) {
          result.regions++;
          result.translated += region.length;
          const page = pc - (pc % PAGE);
          this.codePages.set(page, [...(this.codePages.get(page) ?? []), pc]);
          s.dropTlb("store", page);
        }
      }
      if (fn !== null) {
        result.calls++;
        result.instret += fn(s.base, Math.min(this.slice, maxInsns - result.instret));
        pc = s.exitPc;
        const reason = s.exitReason;
        if (reason !== BlockExit.Memory) continue;
      }
      // The slow path: one instruction at pc.
      const bits = this.fetch(pc);
      if (bits === undefined) return { ...result, outcome: "unsupported", detail: `fetch ${pc}` };
      const d = decode(bits);
      const op = d.word & 0xff;
      const rd = (d.word >>> 8) & 63;
      const r1 = (d.word >>> 14) & 63;
      const r2 = (d.word >>> 20) & 63;
      const length = d.word >>> 26;
      if (op === Op.CSRRS && r1 === 0 && d.imm === CSR_MHARTID) {
        if (rd !== 32) s.setX(rd, 0n);
      } else if (op >= Op.LB && op <= Op.SD) {
        const va = Number(BigInt.asUintN(64, s.getX(r1) + BigInt(d.imm)));
        const width = [1, 2, 4, 8, 1, 2, 4, 1, 2, 4, 8][op - Op.LB];
        const linear = s.linear(va);
        if (linear < 0 || va % width !== 0) {
          return { ...result, outcome: "unsupported", detail: `access at ${va.toString(16)}` };
        }
        const page = va - (va % PAGE);
        const isStore = op >= Op.SB;
        const special = page === this.tohost - (this.tohost % PAGE) || this.codePages.has(page);
        if (!isStore || !special) {
          // Map the page and retry the instruction in its region.
          s.fillTlb(isStore ? "store" : "load", va, linear - (va - page));
          if (isStore) s.fillTlb("load", va, linear - (va - page));
          continue;
        }
        // A store to tohost's page or a code page.
        const value = s.getX(r2);
        for (let i = 0; i < width; i++) s.u8[linear + i] = Number((value >> BigInt(8 * i)) & 0xffn);
        const dropped = this.codePages.get(page);
        if (dropped !== undefined) {
          for (const entryPc of dropped) this.cache.delete(entryPc);
          this.codePages.delete(page);
        }
        const t = this.space.linear(this.tohost);
        const tohost = s.view.getBigUint64(t, true);
        if (
          tohost !== 0n && va >= this.tohost && va < this.tohost + 8 &&
          va + width >= this.tohost + 8
        ) {
          result.instret++;
          return { ...result, outcome: tohost === 1n ? "pass" : "fail", detail: String(tohost) };
        }
      } else {
        return { ...result, outcome: "unsupported", detail: `op ${op} at ${pc.toString(16)}` };
      }
      result.instret++;
      pc += length;
    }
    return result;
  }
}
