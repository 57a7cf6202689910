/**
 * The WebAssembly tier experiment (issue 15: "decide with numbers"), in one run:
 *
 * 1. The compute loop (bench/workloads/integer.S, 400 rounds, as bench/compute_qemu_bench.ts
 *    builds it with GNU as) through the wasm tier (bench/wasm_tier_runner.ts: regions of
 *    lib/hw/riscv/wasm/wasm_block.ts in a flat RAM), through the bare machine (interpreter + JS
 *    tier, as `deno task bare` runs it) and through QEMU TCG (minus its start-up twin), the cases
 *    alternating round by round on this shared machine; medians are printed at the end. The
 *    first round is a warm-up (our own code's JIT), left out of the medians.
 * 2. Compilation cost per translated instruction over a synthetic corpus of RV64IM code (random
 *    ALU, M, load and store ops in basic blocks that end in a branch and a jump): the JS tier
 *    (region.ts `regionSource` + jit.ts `compileBlock`, i.e. `new Function`, and the first call), the wasm
 *    tier with one module per basic block, all of a page's basic blocks batched in one module,
 *    and one region per page (as the runner translates), each up to the first call
 *    (`new WebAssembly.Module` + `Instance` + call: V8 compiles wasm functions lazily).
 *    Sources and modules are made unique per iteration so that no cache answers.
 * 3. The cost of one call of a one-instruction block: JS-to-wasm call (with register load, write
 *    back and exit record) against a JS block function call.
 *
 * Run: `deno bench --allow-all bench/wasm_tier_bench.ts`. QEMU cases need
 * binutils-riscv64-unknown-elf and qemu-system-misc (skipped with a message otherwise).
 *
 * @module
 */

import process from "node:process";
import { prepareRun, runMachine } from "../lib/hw/bare_runner.ts";
import { assemble } from "../lib/hw/riscv/assembler.ts";
import { decode, Op } from "../lib/hw/riscv/decoder.ts";
import { loadElf, parseElf } from "../lib/hw/riscv/elf.ts";
import { FpRegisters } from "../lib/hw/riscv/fpu.ts";
import { type BlockContext, type BlockFn, compileBlock } from "../lib/hw/riscv/jit.ts";
import { type RegionSource, regionSource } from "../lib/hw/riscv/region.ts";
import {
  type BasicBlock,
  discoverRegion,
  type Region,
  type RegionFn,
  regionModule,
  translatable,
} from "../lib/hw/riscv/wasm/wasm_block.ts";
import { WasmSpace } from "../lib/hw/riscv/wasm/wasm_space.ts";
import { buildElf, note, runQemu } from "./compute_elf.ts";
import { WasmTierRunner } from "./wasm_tier_runner.ts";

const RAM_BASE = 0x8000_0000;
const TIMED_ROUNDS = 5;

let elf: Uint8Array | undefined;
let startupElf: Uint8Array | undefined;
const wall = new Map<string, number[]>();
const cpu = new Map<string, number[]>();
const instret = new Map<string, number>();
const extra: string[] = [];

function record(name: string, wallMs: number, cpuMs: number, insns = 0): void {
  wall.set(name, [...(wall.get(name) ?? []), wallMs]);
  cpu.set(name, [...(cpu.get(name) ?? []), cpuMs]);
  if (insns > 0) instret.set(name, insns);
}

const WASM = "wasm tier (regions, flat RAM)";
const JS = "axvisor.ts bare machine (interpreter + JS tier)";
const QEMU = "qemu-system-riscv64 -M spike (TCG)";
const QEMU_STARTUP = "QEMU start-up twin";

function runWasm(): { ms: number; cpuMs: number; insns: number; info: string } {
  elf ??= buildElf();
  const image = parseElf(elf);
  const runner = new WasmTierRunner(RAM_BASE, 16 << 20, image.symbolAddress("tohost")!);
  loadElf(image, runner);
  const used0 = process.cpuUsage();
  const t0 = performance.now();
  const r = runner.run(image.entry, 10_000_000_000);
  const ms = performance.now() - t0;
  const used = process.cpuUsage(used0);
  if (r.outcome !== "pass") throw new Error(`wasm tier: ${r.outcome} ${r.detail}`);
  const info = `${r.regions} regions, ${r.translated} instructions translated in ` +
    `${r.compileMs.toFixed(1)} ms, ${r.calls} calls into wasm`;
  return { ms, cpuMs: (used.user + used.system) / 1e3, insns: r.instret, info };
}

function runJs(): { ms: number; cpuMs: number; insns: number } {
  elf ??= buildElf();
  const prepared = prepareRun({ image: { name: "integer.elf", bytes: elf } });
  const used0 = process.cpuUsage();
  const t0 = performance.now();
  const result = runMachine(prepared, { maxInsns: 10_000_000_000 });
  const ms = performance.now() - t0;
  const used = process.cpuUsage(used0);
  if (result.outcome !== "pass") throw new Error(`JS tier: ${result.message}`);
  return { ms, cpuMs: (used.user + used.system) / 1e3, insns: result.instret };
}

for (let round = 0; round <= TIMED_ROUNDS; round++) {
  const tag = round === 0 ? "warm-up" : `round ${round}`;
  const keep = round > 0;
  Deno.bench({
    name: `${WASM}, ${tag}`,
    group: "compute loop",
    n: 1,
    warmup: 0,
    fn: (b) => {
      b.start();
      const r = runWasm();
      b.end();
      if (keep) record(WASM, r.ms, r.cpuMs, r.insns);
      if (round === TIMED_ROUNDS) extra[0] = `wasm tier run: ${r.info}`;
    },
  });
  Deno.bench({
    name: `${JS}, ${tag}`,
    group: "compute loop",
    n: 1,
    warmup: 0,
    fn: (b) => {
      b.start();
      const r = runJs();
      b.end();
      if (keep) record(JS, r.ms, r.cpuMs, r.insns);
    },
  });
  Deno.bench({
    name: `${QEMU}, ${tag}${note ? ` (skipped: ${note})` : ""}`,
    group: "compute loop",
    ignore: note !== undefined,
    n: 1,
    warmup: 0,
    fn: async (b) => {
      elf ??= buildElf();
      b.start();
      const r = await runQemu(elf);
      b.end();
      if (keep) record(QEMU, r.wallMs, r.cpuMs);
    },
  });
  Deno.bench({
    name: `${QEMU_STARTUP}, ${tag}${note ? ` (skipped: ${note})` : ""}`,
    group: "compute loop",
    ignore: note !== undefined,
    n: 1,
    warmup: 0,
    fn: async (b) => {
      startupElf ??= buildElf(true);
      b.start();
      const r = await runQemu(startupElf);
      b.end();
      if (keep) record(QEMU_STARTUP, r.wallMs, r.cpuMs);
    },
  });
}

// ---------------------------------------------------------------- compilation cost

const CORPUS_PAGES = 8;

/** Seeded PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Synthetic RV64IM code: pages of basic blocks of 3 to 12 random ops, each ending in a
 * conditional branch two blocks ahead and a jump to the next block (so a JS-tier block, which
 * runs through conditional branches up to an unconditional jump, and a wasm basic block cover
 * the same instructions but the jump).
 */
function corpus(): Uint8Array {
  const rnd = prng(15);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)];
  const reg = () => `x${5 + Math.floor(rnd() * 10)}`;
  const RR = ["add", "sub", "xor", "or", "and", "sll", "srl", "sra", "slt", "sltu", "addw", "subw"];
  const M = ["mul", "mulh", "mulhu", "div", "divu", "rem", "remu", "mulw", "divw", "remw"];
  const RI = ["addi", "xori", "andi", "ori", "slti", "addiw"];
  const SH = ["slli", "srli", "srai"];
  const LD = ["ld", "lw", "lwu", "lh", "lbu", "lb"];
  const ST = ["sd", "sw", "sh", "sb"];
  const lines: string[] = [];
  let block = 0;
  for (let page = 0; page < CORPUS_PAGES; page++) {
    lines.push(`.balign 4096`);
    let bytes = 0;
    while (bytes < 4096 - 64) {
      lines.push(`b${block}:`);
      const n = 3 + Math.floor(rnd() * 10);
      for (let i = 0; i < n; i++) {
        const k = rnd();
        if (k < 0.4) lines.push(`${pick(RR)} ${reg()}, ${reg()}, ${reg()}`);
        else if (k < 0.5) lines.push(`${pick(M)} ${reg()}, ${reg()}, ${reg()}`);
        else if (k < 0.65) {
          lines.push(`${pick(RI)} ${reg()}, ${reg()}, ${Math.floor(rnd() * 4096) - 2048}`);
        } else if (k < 0.72) {
          lines.push(`${pick(SH)} ${reg()}, ${reg()}, ${Math.floor(rnd() * 64)}`);
        } else if (k < 0.86) lines.push(`${pick(LD)} ${reg()}, ${8 * Math.floor(rnd() * 32)}(x20)`);
        else lines.push(`${pick(ST)} ${reg()}, ${8 * Math.floor(rnd() * 32)}(x20)`);
      }
      lines.push(`bne ${reg()}, ${reg()}, b${block + 2}`, `j b${block + 1}`);
      bytes += 4 * (n + 2);
      block++;
    }
  }
  lines.push(`b${block}:`, `b${block + 1}:`, "ebreak");
  return assemble(`.text\n${lines.join("\n")}\n`, { origin: RAM_BASE }).image;
}

const code = corpus();
const space = new WasmSpace(RAM_BASE, 1 << 20);
space.u8.set(code, space.linear(RAM_BASE));
const fetch = (pc: number): number | undefined => {
  const a = space.linear(pc);
  return a < 0 ? undefined : space.view.getInt32(a, true);
};
/** A body of code to translate, cut the ways the compile cases need it. */
interface Corpus {
  readonly name: string;
  /** Per page: its basic blocks as one-block regions. */
  readonly blockRegions: Region[][];
  /** Per page: regions as the runner makes them (default shape) covering those blocks. */
  readonly runnerRegions: Region[][];
  /** JS-tier block sources at the same basic-block starts. */
  readonly jsSources: { page: number; off: number; src: RegionSource }[];
  readonly wasmInsns: number;
  readonly regionInsns: number;
  readonly jsInsns: number;
  /** Share of the instructions (linear sweep of the pages) that the wasm tier translates. */
  readonly translatable: number;
}

/** Cuts the code that `fetch` reads, from `entries` (grouped by page), into a corpus. */
function buildCorpus(
  name: string,
  fetch: (pc: number) => number | undefined,
  entries: number[][],
): Corpus {
  const blockRegions: Region[][] = [];
  const runnerRegions: Region[][] = [];
  let swept = 0, ok = 0;
  for (const pageEntries of entries) {
    const blocks = new Map<number, BasicBlock>();
    for (const e of pageEntries) {
      const whole = discoverRegion(e, fetch, { shape: "reach", maxInstructions: 1024 });
      for (const b of whole?.blocks ?? []) blocks.set(b.start, b);
    }
    const sorted = [...blocks.values()].sort((x, y) => x.start - y.start);
    if (sorted.length === 0) continue;
    blockRegions.push(sorted.map((b) => ({ entry: b.start, blocks: [b], length: b.insns.length })));
    const covered = new Set<number>();
    const regions: Region[] = [];
    for (const b of sorted) {
      if (covered.has(b.start)) continue;
      const r = discoverRegion(b.start, fetch)!;
      for (const rb of r.blocks) covered.add(rb.start);
      regions.push(r);
    }
    runnerRegions.push(regions);
    const page = pageEntries[0] - (pageEntries[0] % 4096);
    for (let pc = page; pc < page + 4096;) {
      const bits = fetch(pc);
      if (bits === undefined) break;
      const d = decode(bits);
      swept++;
      if (translatable(d.word & 0xff)) ok++;
      pc += d.word >>> 26;
    }
  }
  const jsSources = blockRegions.flat().map((r) => {
    const page = r.entry - (r.entry % 4096);
    const at = (o: number) => decode(fetch(page + o) ?? 0);
    return {
      page,
      off: r.entry - page,
      src: regionSource(r.entry - page, (o: number) => at(o).word, (o: number) => at(o).imm)!,
    };
  });
  return {
    name,
    blockRegions,
    runnerRegions,
    jsSources,
    wasmInsns: blockRegions.flat().reduce((n, r) => n + r.length, 0),
    regionInsns: runnerRegions.flat().reduce((n, r) => n + r.length, 0),
    jsInsns: jsSources.reduce((n, s) => n + s.src.length, 0),
    translatable: ok / swept,
  };
}

const corpora: Corpus[] = [
  buildCorpus(
    "synthetic",
    fetch,
    Array.from({ length: CORPUS_PAGES }, (_, i) => [RAM_BASE + i * 4096]),
  ),
];

/**
 * Real code: U-Boot for QEMU's virt machine in S-mode (Debian's u-boot-qemu), the first
 * {@linkcode UBOOT_PAGES} pages of its functions, translated from each function's entry and each
 * return point.
 */
const UBOOT = "/usr/lib/u-boot/qemu-riscv64_smode/uboot.elf";
const UBOOT_PAGES = 24;
try {
  const image = parseElf(Deno.readFileSync(UBOOT));
  const text = image.segments[0];
  const view = new DataView(text.data.buffer, text.data.byteOffset, text.data.byteLength);
  const ubootFetch = (pc: number): number | undefined => {
    const o = pc - Number(text.vaddr);
    if (o < 0 || o + 2 > view.byteLength) return undefined;
    return o + 4 <= view.byteLength ? view.getInt32(o, true) : view.getUint16(o, true);
  };
  const byPage = new Map<number, number[]>();
  for (const sym of image.symbols) {
    if (sym.type !== "func" || sym.value === 0n) continue;
    const pc = Number(sym.value);
    if (ubootFetch(pc) === undefined) continue;
    const page = pc - (pc % 4096);
    byPage.set(page, [...(byPage.get(page) ?? []), pc]);
  }
  const pages = [...byPage.keys()].sort((a, b) => a - b).slice(0, UBOOT_PAGES);
  // Return points (after a call) are entries too, as they are for a running tier.
  for (const page of pages) {
    for (let pc = Math.max(page, Number(text.vaddr)); pc < page + 4096;) {
      const bits = ubootFetch(pc);
      if (bits === undefined) break;
      const d = decode(bits);
      const op = d.word & 0xff, length = d.word >>> 26;
      if ((op === Op.JAL || op === Op.JALR) && ((d.word >>> 8) & 63) !== 32) {
        byPage.get(page)!.push(pc + length);
      }
      pc += length;
    }
  }
  corpora.push(buildCorpus("U-Boot", ubootFetch, pages.map((p) => byPage.get(p)!)));
} catch (e) {
  extra.push(`U-Boot corpus skipped (${UBOOT}: ${(e as Error).message})`);
}

function jsContext(): BlockContext {
  const empty = () => new Float64Array(256).fill(-1);
  return {
    xl: new Int32Array(34),
    xh: new Int32Array(34),
    rTag: empty(),
    rPage: [],
    wTag: empty(),
    wPage: [],
    wcTag: empty(),
    wcPage: [],
    codeStore: () => new DataView(new ArrayBuffer(4096)),
    st: new Int32Array(2),
    fr: new FpRegisters(),
    fs: new Int32Array(1),
  };
}

let unique = 0;
const compileUs = new Map<string, number[]>();
function timeCompile(name: string, insns: number, fn: () => void): void {
  const t0 = performance.now();
  fn();
  const us = (performance.now() - t0) * 1000;
  compileUs.set(name, [...(compileUs.get(name) ?? []), us / insns]);
}

/** Compiles `regions` into one module (unique bytes, so that no module cache answers). */
function instantiate(regions: readonly Region[]): RegionFn[] {
  const prefix = `u${unique++}_`;
  const module = new WebAssembly.Module(regionModule(regions, space.pages, prefix));
  const exports = new WebAssembly.Instance(module, { env: { mem: space.memory } }).exports;
  return regions.map((_, i) => exports[`${prefix}${i}`] as RegionFn);
}

const COMPILE_JS = "JS tier: new Function per block + first call";
const COMPILE_WASM_BLOCK = "wasm: one module per basic block + first call";
const COMPILE_WASM_BATCH = "wasm: a page's basic blocks in one module + first calls";
const COMPILE_WASM_REGION = "wasm: a page's regions (as the runner makes them) in one module";

for (const c of corpora) {
  Deno.bench({
    name: `${c.name}: ${COMPILE_JS}`,
    group: "compile",
    n: 10,
    warmup: 2,
    fn: () => {
      const ctx = jsContext();
      const tag = `\n// ${unique++}`;
      timeCompile(`${c.name}: ${COMPILE_JS}`, c.jsInsns, () => {
        for (const s of c.jsSources) {
          compileBlock({ body: s.src.body + tag }, ctx, s.off)(s.page, s.off, 0);
        }
      });
    },
  });
  Deno.bench({
    name: `${c.name}: ${COMPILE_WASM_BLOCK}`,
    group: "compile",
    n: 10,
    warmup: 2,
    fn: () => {
      timeCompile(`${c.name}: ${COMPILE_WASM_BLOCK}`, c.wasmInsns, () => {
        for (const r of c.blockRegions.flat()) instantiate([r])[0](0, 0);
      });
    },
  });
  Deno.bench({
    name: `${c.name}: ${COMPILE_WASM_BATCH}`,
    group: "compile",
    n: 10,
    warmup: 2,
    fn: () => {
      timeCompile(`${c.name}: ${COMPILE_WASM_BATCH}`, c.wasmInsns, () => {
        for (const regions of c.blockRegions) for (const f of instantiate(regions)) f(0, 0);
      });
    },
  });
  Deno.bench({
    name: `${c.name}: ${COMPILE_WASM_REGION}`,
    group: "compile",
    n: 10,
    warmup: 2,
    fn: () => {
      timeCompile(`${c.name}: ${COMPILE_WASM_REGION}`, c.regionInsns, () => {
        for (const regions of c.runnerRegions) for (const f of instantiate(regions)) f(0, 0);
      });
    },
  });
}

// ---------------------------------------------------------------- call cost

const CALLS = 1_000_000;
const callNs = new Map<string, number[]>();
const one = assemble(".text\naddi x5, x5, 1\nebreak\n", { origin: RAM_BASE + 0x80000 }).image;
space.u8.set(one, space.linear(RAM_BASE + 0x80000));
const oneRegion = discoverRegion(RAM_BASE + 0x80000, fetch)!;
const wasmOne = instantiate([oneRegion])[0];
const jsOne: BlockFn = (() => {
  const at = (o: number) => decode(fetch(RAM_BASE + 0x80000 + o)!);
  return compileBlock(
    regionSource(0, (o: number) => at(o).word, (o: number) => at(o).imm)!,
    jsContext(),
    0,
  );
})();
const CALL_WASM = "JS-to-wasm call of a one-instruction region";
const CALL_JS = "call of a one-instruction JS-tier block";

Deno.bench({
  name: CALL_WASM,
  group: "call",
  n: 10,
  warmup: 2,
  fn: () => {
    const t0 = performance.now();
    let n = 0;
    for (let i = 0; i < CALLS; i++) n += wasmOne(0, 1);
    callNs.set(CALL_WASM, [
      ...(callNs.get(CALL_WASM) ?? []),
      (performance.now() - t0) * 1e6 / CALLS,
    ]);
    if (n !== CALLS) throw new Error("wasm block did not run");
  },
});

Deno.bench({
  name: CALL_JS,
  group: "call",
  n: 10,
  warmup: 2,
  fn: () => {
    const t0 = performance.now();
    let n = 0;
    for (let i = 0; i < CALLS; i++) n += jsOne(RAM_BASE + 0x80000, 0, 1);
    callNs.set(CALL_JS, [...(callNs.get(CALL_JS) ?? []), (performance.now() - t0) * 1e6 / CALLS]);
    if (n === 0) throw new Error("JS block did not run");
  },
});

// ---------------------------------------------------------------- summary

globalThis.addEventListener("unload", () => {
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
  if (wall.has(WASM) || wall.has(JS)) {
    const insns = instret.get(WASM) ?? instret.get(JS)!;
    const mips = (ms: number) => (insns / ms / 1e3).toFixed(0);
    console.log(
      `\nCompute loop (${(insns / 1e6).toFixed(0)} M instructions), medians of ${TIMED_ROUNDS}:`,
    );
    if (instret.has(WASM) && instret.has(JS) && instret.get(WASM) !== instret.get(JS)) {
      console.log(
        `  (instruction counts differ: wasm ${instret.get(WASM)}, JS ${instret.get(JS)})`,
      );
    }
    const rows: [string, number, number][] = [];
    for (const name of [WASM, JS]) {
      if (wall.has(name)) rows.push([name, median(wall.get(name)!), median(cpu.get(name)!)]);
    }
    if (wall.has(QEMU) && wall.has(QEMU_STARTUP)) {
      const up = [median(wall.get(QEMU_STARTUP)!), median(cpu.get(QEMU_STARTUP)!)];
      console.log(
        `  QEMU start-up (excluded): wall ${up[0].toFixed(0)} ms, CPU ${up[1].toFixed(0)} ms`,
      );
      rows.push([
        "QEMU TCG, start-up excluded",
        median(wall.get(QEMU)!) - up[0],
        median(cpu.get(QEMU)!) - up[1],
      ]);
    }
    for (const [name, w, c] of rows) {
      console.log(
        `  ${name}: wall ${w.toFixed(0)} ms (${mips(w)} MIPS), CPU ${c.toFixed(0)} ms (${
          mips(c)
        } MIPS)`,
      );
    }
    const qemu = rows.find((r) => r[0].startsWith("QEMU"));
    if (qemu) {
      for (const [name, w, c] of rows.filter((r) => r !== qemu)) {
        console.log(
          `  ${name} / QEMU speed: ${(qemu[1] / w).toFixed(2)} by wall, ${
            (qemu[2] / c).toFixed(2)
          } by CPU`,
        );
      }
    }
    for (const line of extra) console.log(`  ${line}`);
  }
  if (compileUs.size > 0) {
    console.log("\nCompilation up to the first call, µs per translated instruction (medians):");
    for (const c of corpora) {
      console.log(
        `  ${c.name} corpus: ${c.blockRegions.length} pages, ` +
          `${c.blockRegions.flat().length} basic blocks, ${c.wasmInsns} instructions ` +
          `(${(100 * c.translatable).toFixed(0)}% of the pages' instructions translatable); ` +
          `JS blocks ${c.jsInsns} instructions (through conditional branches), ` +
          `the runner's regions ${c.regionInsns} in ${c.runnerRegions.flat().length} regions`,
      );
    }
    for (const [name, v] of compileUs) console.log(`  ${name}: ${median(v).toFixed(2)}`);
  }
  if (callNs.size > 0) {
    console.log("\nCall cost, ns per call (medians):");
    for (const [name, v] of callNs) console.log(`  ${name}: ${median(v).toFixed(1)}`);
  }
});
