/**
 * A WebAssembly tier for RV64I/M(C) code, with Zb* and Zicond: translates a *region* (basic
 * blocks reachable from an entry pc inside one 4 KiB page through static branches and jumps; by
 * default cut to the loop nest at the entry, see `shapeRegion`) into one wasm function with
 * native 64-bit registers, as v86 does for x86. The hart area it runs against is laid out as
 * hart_area.ts says (the interpreter's register halves, an exit record, the load and store TLBs);
 * in a hart the area and guest RAM live in the frame pool's shared memory (wasm_tier.ts wires the
 * tier into the run loop), in tests and benches in a `wasm_space.ts` memory with a flat RAM.
 *
 * ## The translated function
 *
 * `run(base: i32, budget: i32, vbaseLo: i32, vbaseHi: i32) -> i32`, `base` being the hart's area
 * in the memory (so harts share translated code) and `vbase` the virtual address the region's
 * pcs are relative to: loads the registers the region reads or writes from the register
 * file into i64 locals, runs, writes the ones it writes back, fills the exit record (next pc,
 * instructions done, reason) and returns the instructions done. Inside, the basic blocks sit in
 * address order and control flow is structured as v86 does it (see `controlPlan`): a loop is a
 * wasm `loop` (a backward branch is one `br`), a forward branch a `br` out of a `block`; a
 * `br_table` dispatch serves the entry and branches into a loop's body from outside (a region
 * whose constructs cannot nest falls back to dispatching every backward branch). Instructions
 * are counted exactly with a counter charged at checkpoints (the entry and loop headers, see
 * `Counting`), which also check the budget: a call may stop short of its budget, and does
 * nothing when the budget is below the entry's run (the caller then steps the interpreter).
 * Leaving the region (a target outside it, `jalr`, an instruction the tier leaves to the slow
 * path: system, CSR, atomics, FP, page crossing) is a `jump` or `end` exit with the pc.
 *
 * Loads and stores go through the software TLBs in memory (tag compare, then `wrap32(va) +
 * delta`); a miss, or an access across pages, is a `memory` exit *before* the access with its
 * pc and the count done so far, as the JavaScript tier does: the slow path performs it (page
 * walk, MMIO, fault, code-page store) and may fill the TLB. The code never traps: division by zero and
 * overflow give the ISA's results (the wasm traps are guarded); MULH/MULHSU/MULHU are built from
 * 32×32 products inline.
 *
 * pc values are constants relative to `vbase` (the hart discovers regions with page offsets as
 * pcs and passes the page's virtual base), so a module serves a page wherever it is mapped, and
 * every hart.
 *
 * In the hart, a unit that leaves (a `jump` or `end` exit) to a pc where the hart's jump cache
 * (hart_area.ts) names a unit tail-calls it (`return_call_indirect` through the hart's function
 * table, which each instance imports as `env.units`) with the count done so far and the same
 * budget, instead of returning to the run loop: chains of calls and returns through short
 * kernel functions stay in wasm, as QEMU's `lookup_and_goto_ptr` keeps them in generated code.
 * Registers go through the area between units, as between the run loop's calls.
 *
 * ## Measurements (bench/wasm_tier_bench.ts: one run, cases alternating, medians of 5)
 *
 * On the development VM (2 cores of an AMD EPYC, shared with other work), deno 2.9 (V8 15.0),
 * ranges over three runs of the bench:
 *
 * | compute loop (integer.S, 400 rounds, 494.7 M insns) | wall ms   | MIPS      | / QEMU    |
 * | ---------------------------------------------------- | --------- | --------- | --------- |
 * | this tier (bench/wasm_tier_runner.ts)                | 323-366   | 1352-1534 | 1.23-1.30 |
 * | bare machine today (interpreter + JS tier)           | 2091-2686 | 184-237   | 0.18-0.19 |
 * | QEMU TCG (-M spike), start-up twin subtracted        | 396-474   | 1044-1251 | 1         |
 *
 * By CPU time the ratio is 1.20-1.22 (V8's background compiler threads included). A run
 * translates 18 regions (275 instructions) and makes 712 calls into wasm: loops stay inside.
 *
 * Compilation up to the first call, µs per translated instruction (sources and modules made
 * unique so that no cache answers), on a synthetic corpus (8 pages of random RV64IM basic blocks)
 * and on real code (24 pages of U-Boot, from function entries and return points; 99% of its
 * instructions are ones this tier translates):
 *
 * | unit                                                           | synthetic | U-Boot  |
 * | -------------------------------------------------------------- | --------- | ------- |
 * | JS tier: `blockSource` + `compileBlock` (`new Function`)       | 13-23     | 15-29   |
 * | wasm: one module per basic block                               | 29-35     | 30-59   |
 * | wasm: a page's basic blocks in one module                      | 5.4-11    | 7.4-12  |
 * | wasm: a page's regions (as the runner shapes them), one module | 2.2-3.8   | 6.1-8.6 |
 *
 * A module has a fixed cost of some 150 µs, so the tier must batch; batched, it compiles 2.5-3x
 * cheaper than the JS tier on real code (U-Boot's regions are small: calls end them). In the
 * bench runner's short runs (19 regions, one module each) translation took 3 to 60 ms a run: the
 * translator's own JavaScript (discovery, emission) is still cold there; V8's part (module,
 * instance, first call) was 2 to 4 ms for the 19. A call costs 3.7-4.0 ns JS-to-wasm (register
 * load, write-back and exit record included) against 1.2-1.3 ns for a JS block function.
 *
 * What got the tier from the JS tier's 0.2x to 1.2x QEMU, in order of effect: native i64 registers
 * in locals (0.86x with naive regions); counting instructions at checkpoints instead of per block
 * (the counter otherwise costs 25% in tight loops); region shape (see
 * {@linkcode DEFAULT_REGION_INSTRUCTIONS}); inline MULH. Structured loops (wasm `loop` instead of
 * `br_table` dispatch) were within noise here but cost nothing.
 *
 * ## Decision: wire it in, behind the interpreter, for integer code (done: wasm_tier.ts)
 *
 * As wired, the plan below changed in two places: guest RAM stays in `SparseMemory` pages, whose
 * frames live in one shared pool memory (frame_pool.ts) that every module imports, so snapshots
 * and clones keep their form; and the registers keep their separate low/high halves (the
 * interpreter's `xl`/`xh` are views onto the hart's area), composed into i64 locals at entry.
 * The wasm TLBs first shared the JavaScript TLB's f64 tags, next to each entry's frame; they are
 * now mirrors that soft_tlb.ts keeps in step, with i64 tags and deltas as QEMU's TLB has (see
 * hart_area.ts): the check of a hit went from an f64 convert and compare plus a frame test to
 * one i64 compare, and the sort phase of the compute loop from 148 ms to 66 ms (0.70x to 1.33x
 * QEMU's time for it; the whole loop 0.96x to 1.14x).
 *
 * The JavaScript tier cannot get there (a 64-bit op is several int32 ops, MUL/DIV go through
 * alu.ts, and every block is a `new Function` that V8 must parse and tier up); this tier beats
 * QEMU on the compute loop by 1.2x and, batched, compiles 2.5-3x cheaper per instruction. The
 * interpreter stays the reference: every op is tested against it, and so are random programs
 * with loops, stopped by budgets or run to the end (tests/hw/riscv/wasm/wasm_block_test.ts).
 * What wiring it into the hart takes:
 *
 * - **RAM in one `WebAssembly.Memory` per VM**, flat, instead of `SparseMemory`'s page buffers.
 *   A memory's pages are committed by the OS on first touch, so an untouched guest page costs
 *   nothing, as today. wasm32 addresses 4 GiB: guest RAM beyond (less the space below) stays in a
 *   `SparseMemory` that the TLB never maps, so the tier exits to the slow path there (memory64
 *   lifts the limit but costs explicit bounds checks). Devices stay outside: MMIO is never mapped.
 * - **Copy-on-write snapshots and clones change form**: a memory cannot share pages with another.
 *   Since every translated access goes through the TLB, the TLB fill is the hook: a snapshot
 *   drops the store TLBs and records each page's first store afterwards (dirty logging, as KVM
 *   does), so snapshots become incremental page copies; a clone or restore gets a fresh memory
 *   whose pages are copied in on their first TLB fill (lazy restore), or eagerly (memcpy speed).
 *   `SparseMemory` stays the snapshot format and the store of big or cold RAM.
 * - **Registers and TLBs live in linear memory** (wasm_space.ts layout), one area per hart whose
 *   base the region function takes, so that harts share modules. The interpreter keeps using
 *   `xl`/`xh`: Int32Array views of the register file with interleaved halves (`gen_ops.ts` emits
 *   `2 * r` and `2 * r + 1`), so no state is copied between tiers. The TLB entries (tag + delta)
 *   replace the DataView arrays of soft_tlb.ts for RAM pages; context flags stay in JS.
 * - **Code coherence**: pages holding translated code are never in the store TLB (the code-store
 *   TLB of today), so a store there exits; the slow path stores, drops that page's regions from
 *   the lookup and lets fence.i and remote fences work as today. A module is freed when none of
 *   its regions is referenced any more.
 * - **Dispatch**: the run loop looks a pc up as it looks up compiled blocks now and calls the
 *   region with the remaining budget; interrupts, WFI and devices are handled between calls, and a
 *   budget exit at a loop header bounds the latency. Hot regions are queued and compiled in
 *   batches (or with `WebAssembly.compile` off the main thread while the interpreter runs), which
 *   is what lets the Linux boot lower its threshold; its gain is still to be measured.
 * - **Still to translate**: compressed instructions already are (they decode to the same ops;
 *   tested), A and system ops exit to the slow path, F/D need NaN boxing and exact fflags (exit
 *   first, then native f64 with checks); Zb* and Zicond are translated (a few i64 ops each).
 *
 * @module
 */

import { BlockExit } from "../hart_stats.ts";
import { decode, Op, X0_SINK } from "../decoder.ts";
import { BIT_IMM_OPS } from "../op.ts";
import {
  FunctionBuilder,
  type Label,
  MemOp,
  type MemoryOp,
  ModuleBuilder,
  Opcode as O,
  ValType,
} from "./wasm_writer.ts";
import {
  AREA_CHAIN_GEN,
  AREA_CHAINS,
  AREA_EXIT_DONE as EXIT_DONE,
  AREA_EXIT_PC as EXIT_PC,
  AREA_EXIT_REASON as EXIT_REASON,
  AREA_JUMP_ENTRIES,
  AREA_JUMP_GEN,
  AREA_JUMP_TAG,
  AREA_JUMP_UNIT,
  AREA_LOAD_TLB,
  AREA_STORE_TLB,
  AREA_TLB_DELTA,
  AREA_TLB_ENTRIES,
  AREA_TLB_ENTRY_BYTES,
  AREA_XH,
  AREA_XL,
  JUMP_HASH_SHIFT,
} from "./hart_area.ts";

/** One decoded instruction of a region. */
export interface RegionInsn {
  /** Its address. */
  readonly pc: number;
  /** The decoded word (decoder.ts: op, rd, rs1, rs2, length). */
  readonly word: number;
  /** The decoded immediate. */
  readonly imm: number;
}

/** A straight run of instructions with one entry (its first) in a region. */
export interface BasicBlock {
  /** Address of its first instruction. */
  readonly start: number;
  /** Its instructions; the last may be a branch or jump. */
  readonly insns: readonly RegionInsn[];
}

/** The basic blocks reachable from an entry, in address order. */
export interface Region {
  /** The entry address (the start of one of the blocks). */
  readonly entry: number;
  /** The blocks, by address. */
  readonly blocks: readonly BasicBlock[];
  /** Total instructions. */
  readonly length: number;
}

/** Reads the (up to) 32 instruction bits at a guest address, or `undefined` when unreadable. */
export type FetchBits = (pc: number) => number | undefined;

/**
 * Default size limit of a region, in instructions. Region shape matters more than one would
 * think: on the compute workload (bench/wasm_tier_bench.ts), regions shaped around loop nests ran
 * at 340 ms with this limit (the whole round loop, 118 instructions, is one region) and 385 ms
 * with 64 (each phase's loop nest a region of its own), while everything reachable in the page
 * (149 instructions with the set-up and failure paths) ran at about 500 ms, although all three
 * keep every loop inside wasm. The cause (TurboFan's register allocation over many i64 locals,
 * or code layout) is not isolated; keep measuring when changing this.
 */
export const DEFAULT_REGION_INSTRUCTIONS = 128;

/** Options of {@linkcode discoverRegion}. */
export interface RegionOptions {
  /**
   * Most instructions in one region (default {@linkcode DEFAULT_REGION_INSTRUCTIONS}).
   */
  readonly maxInstructions?: number;
  /**
   * `"loops"` (the default): the region is the loop nest headed at the entry when it fits, else
   * the code from the entry up to the next loop that fits or the end of the enclosing loop (see
   * {@linkcode shapeRegion}); `"reach"`: everything reachable in the page, in discovery order,
   * up to the size limit.
   */
  readonly shape?: "loops" | "reach";
}

const LOAD_OPS: Partial<Record<number, readonly [MemoryOp, number]>> = {
  [Op.LB]: [MemOp.i64_load8_s, 1],
  [Op.LBU]: [MemOp.i64_load8_u, 1],
  [Op.LH]: [MemOp.i64_load16_s, 2],
  [Op.LHU]: [MemOp.i64_load16_u, 2],
  [Op.LW]: [MemOp.i64_load32_s, 4],
  [Op.LWU]: [MemOp.i64_load32_u, 4],
  [Op.LD]: [MemOp.i64_load, 8],
};

const STORE_OPS: Partial<Record<number, readonly [MemoryOp, number]>> = {
  [Op.SB]: [MemOp.i64_store8, 1],
  [Op.SH]: [MemOp.i64_store16, 2],
  [Op.SW]: [MemOp.i64_store32, 4],
  [Op.SD]: [MemOp.i64_store, 8],
};

const BRANCH_OPS: Partial<Record<number, number>> = {
  [Op.BEQ]: O.i64_eq,
  [Op.BNE]: O.i64_ne,
  [Op.BLT]: O.i64_lt_s,
  [Op.BGE]: O.i64_ge_s,
  [Op.BLTU]: O.i64_lt_u,
  [Op.BGEU]: O.i64_ge_u,
};

/** 64-bit register-register ops that are one wasm instruction. */
const RR_OPS: Partial<Record<number, number>> = {
  [Op.ADD]: O.i64_add,
  [Op.SUB]: O.i64_sub,
  [Op.SLL]: O.i64_shl,
  [Op.SRL]: O.i64_shr_u,
  [Op.SRA]: O.i64_shr_s,
  [Op.XOR]: O.i64_xor,
  [Op.OR]: O.i64_or,
  [Op.AND]: O.i64_and,
  [Op.MUL]: O.i64_mul,
};

/** 64-bit register-immediate ops that are one wasm instruction. */
const RI_OPS: Partial<Record<number, number>> = {
  [Op.ADDI]: O.i64_add,
  [Op.XORI]: O.i64_xor,
  [Op.ORI]: O.i64_or,
  [Op.ANDI]: O.i64_and,
  [Op.SLLI]: O.i64_shl,
  [Op.SRLI]: O.i64_shr_u,
  [Op.SRAI]: O.i64_shr_s,
};

/** 32-bit (W) ops that are one i32 instruction on the low words, then sign extension. */
const W_RR_OPS: Partial<Record<number, number>> = {
  [Op.ADDW]: O.i32_add,
  [Op.SUBW]: O.i32_sub,
  [Op.SLLW]: O.i32_shl,
  [Op.SRLW]: O.i32_shr_u,
  [Op.SRAW]: O.i32_shr_s,
  [Op.MULW]: O.i32_mul,
};

const W_RI_OPS: Partial<Record<number, number>> = {
  [Op.ADDIW]: O.i32_add,
  [Op.SLLIW]: O.i32_shl,
  [Op.SRLIW]: O.i32_shr_u,
  [Op.SRAIW]: O.i32_shr_s,
};

const OTHER_OPS = new Set<number>([
  Op.LUI,
  Op.AUIPC,
  Op.JAL,
  Op.JALR,
  Op.SLTI,
  Op.SLTIU,
  Op.SLT,
  Op.SLTU,
  Op.MULH,
  Op.MULHSU,
  Op.MULHU,
  Op.DIV,
  Op.DIVU,
  Op.REM,
  Op.REMU,
  Op.DIVW,
  Op.DIVUW,
  Op.REMW,
  Op.REMUW,
  Op.FENCE,
]);

/**
 * Zba/Zbb/Zbs/Zicond ops (Linux's string functions use orc.b, rev8, ctz...). The immediate
 * forms (`BIT_IMM_OPS` of op.ts) take the decoded immediate as their second operand, as the
 * interpreter does.
 */
const BIT_OPS = new Set<number>([
  Op.SH1ADD,
  Op.SH2ADD,
  Op.SH3ADD,
  Op.SH1ADD_UW,
  Op.SH2ADD_UW,
  Op.SH3ADD_UW,
  Op.ADD_UW,
  Op.SLLI_UW,
  Op.ANDN,
  Op.ORN,
  Op.XNOR,
  Op.CLZ,
  Op.CTZ,
  Op.CPOP,
  Op.CLZW,
  Op.CTZW,
  Op.CPOPW,
  Op.MAX,
  Op.MAXU,
  Op.MIN,
  Op.MINU,
  Op.SEXT_B,
  Op.SEXT_H,
  Op.ZEXT_H,
  Op.ROL,
  Op.ROR,
  Op.RORI,
  Op.ROLW,
  Op.RORW,
  Op.RORIW,
  Op.ORC_B,
  Op.REV8,
  Op.BCLR,
  Op.BSET,
  Op.BINV,
  Op.BEXT,
  Op.BCLRI,
  Op.BSETI,
  Op.BINVI,
  Op.BEXTI,
  Op.CZERO_EQZ,
  Op.CZERO_NEZ,
]);

/** Whether the tier translates `op` (RV64I/M integer ops, Zb*, Zicond, FENCE). */
export function translatable(op: number): boolean {
  return LOAD_OPS[op] !== undefined || STORE_OPS[op] !== undefined ||
    BRANCH_OPS[op] !== undefined || RR_OPS[op] !== undefined || RI_OPS[op] !== undefined ||
    W_RR_OPS[op] !== undefined || W_RI_OPS[op] !== undefined || OTHER_OPS.has(op) ||
    BIT_OPS.has(op);
}

const PAGE = 4096;
/** A TLB entry's offset in its TLB is `(va >>> TLB_INDEX_SHIFT) & TLB_INDEX_MASK`. */
const TLB_INDEX_SHIFT = 12 - Math.log2(AREA_TLB_ENTRY_BYTES);
const TLB_INDEX_MASK = (AREA_TLB_ENTRIES - 1) * AREA_TLB_ENTRY_BYTES;
const pageOf = (pc: number): number => pc - (pc % PAGE);

/**
 * Finds the region at `entry`: the basic blocks reachable through branch and `jal` targets and
 * fall-throughs that stay in `entry`'s page, up to `maxInstructions`. Returns `null` when the
 * instruction at `entry` is not translatable.
 */
export function discoverRegion(
  entry: number,
  fetch: FetchBits,
  options: RegionOptions = {},
): Region | null {
  const limit = options.maxInstructions ?? DEFAULT_REGION_INSTRUCTIONS;
  const loops = (options.shape ?? "loops") === "loops";
  const max = loops ? Math.max(limit, EXPLORE_INSTRUCTIONS) : limit;
  const page = pageOf(entry);
  const insnAt = new Map<number, RegionInsn>();
  const leaders = new Set<number>([entry]);
  const work = [entry];
  const inPage = (pc: number) => pc >= page && pc < page + PAGE;
  while (work.length > 0 && insnAt.size < max) {
    let pc = work.pop()!;
    while (inPage(pc) && !insnAt.has(pc) && insnAt.size < max) {
      const bits = fetch(pc);
      if (bits === undefined) break;
      const d = decode(bits);
      const op = d.word & 0xff;
      const length = d.word >>> 26;
      if (!translatable(op) || pc + length > page + PAGE) break;
      insnAt.set(pc, { pc, word: d.word, imm: d.imm });
      const next = pc + length;
      if (BRANCH_OPS[op] !== undefined || op === Op.JAL) {
        const target = pc + d.imm;
        if (inPage(target) && !leaders.has(target)) {
          leaders.add(target);
          work.push(target);
        }
        if (op === Op.JAL) break;
        leaders.add(next);
      }
      if (op === Op.JALR) break;
      pc = next;
    }
  }
  if (!insnAt.has(entry)) return null;
  const starts = [...leaders].filter((pc) => insnAt.has(pc)).sort((a, b) => a - b);
  const blocks: BasicBlock[] = [];
  const startSet = new Set(starts);
  for (const start of starts) {
    const insns: RegionInsn[] = [];
    let pc = start;
    for (;;) {
      const insn = insnAt.get(pc);
      if (insn === undefined) break;
      insns.push(insn);
      const op = insn.word & 0xff;
      pc += insn.word >>> 26;
      if (BRANCH_OPS[op] !== undefined || op === Op.JAL || op === Op.JALR || startSet.has(pc)) {
        break;
      }
    }
    blocks.push({ start, insns });
  }
  const region = { entry, blocks, length: insnAt.size };
  return loops ? shapeRegion(region, limit) : region;
}

/** How far {@linkcode discoverRegion} explores before it shapes a region around loops. */
const EXPLORE_INSTRUCTIONS = 512;

/**
 * Cuts a region to its loop structure, so that a region holds whole inner loops and little else
 * (fewer live registers, see {@linkcode DEFAULT_REGION_INSTRUCTIONS}): when the entry heads a
 * loop (nest) of at most `limit` instructions, that loop; else the blocks from the entry up to
 * the next header of such a loop, or the end of the innermost loop around the entry, within
 * `limit` instructions. Blocks are taken in address order, as loops lie in code.
 */
export function shapeRegion(region: Region, limit: number): Region {
  const index = new Map<number, number>();
  region.blocks.forEach((b, i) => index.set(b.start, i));
  const count = region.blocks.length;
  const loopEnd = loopEnds(region, index);
  const sizeBefore = new Int32Array(count + 1);
  region.blocks.forEach((b, i) => (sizeBefore[i + 1] = sizeBefore[i] + b.insns.length));
  const size = (a: number, b: number) => sizeBefore[b] - sizeBefore[a];
  const fits = (j: number) => loopEnd[j] >= 0 && size(j, loopEnd[j]) <= limit;
  const first = index.get(region.entry)!;
  let end: number;
  if (fits(first)) end = loopEnd[first];
  else {
    let stop = count;
    for (let j = 0; j < first; j++) if (loopEnd[j] > first) stop = Math.min(stop, loopEnd[j]);
    end = first + 1;
    while (end < stop && !fits(end) && size(first, end + 1) <= limit) end++;
  }
  const blocks = region.blocks.slice(first, end);
  return { entry: region.entry, blocks, length: size(first, end) };
}

/** The addresses control may go to after block `b` (inside the region or not). */
function successors(b: BasicBlock): number[] {
  const last = b.insns[b.insns.length - 1];
  const op = last.word & 0xff;
  const next = last.pc + (last.word >>> 26);
  if (BRANCH_OPS[op] !== undefined) return [last.pc + last.imm, next];
  if (op === Op.JAL) return [last.pc + last.imm];
  if (op === Op.JALR) return [];
  return [next];
}

/**
 * How instructions are counted. The entry block and every target of a backward edge (each cycle
 * has one) are *checkpoints*. `reach[i]` is the longest run of instructions from the start of
 * block `i` to the next checkpoint or exit. A checkpoint adds its `reach` to the counter up
 * front and checks it against the budget; an edge adds only the difference to the path it takes
 * (nothing on the longest path), and an exit takes back what was not run, so the counter is exact
 * at checkpoints and exits and a loop iteration costs one add and one compare, not an add per
 * block.
 */
interface Counting {
  /** Per block: 1 for a checkpoint. */
  readonly checkpoint: Uint8Array;
  /** Per block: the longest run of instructions to the next checkpoint or exit. */
  readonly reach: Int32Array;
}

function counting(region: Region, index: Map<number, number>): Counting {
  const count = region.blocks.length;
  const checkpoint = new Uint8Array(count);
  checkpoint[index.get(region.entry)!] = 1;
  region.blocks.forEach((b, i) => {
    for (const t of successors(b)) {
      const j = index.get(t);
      if (j !== undefined && j <= i) checkpoint[j] = 1;
    }
  });
  const reach = new Int32Array(count);
  for (let i = count - 1; i >= 0; i--) {
    let longest = 0;
    for (const t of successors(region.blocks[i])) {
      const j = index.get(t);
      if (j !== undefined && j > i && checkpoint[j] === 0) longest = Math.max(longest, reach[j]);
    }
    reach[i] = region.blocks[i].insns.length + longest;
  }
  return { checkpoint, reach };
}

/**
 * A wasm construct of the control plan: the `block` whose end is the start of block `block`'s
 * code (a forward branch target), or the `loop` whose start is that of header `block`. It opens
 * before the code of block `start` (-1: before the dispatch `br_table`) and closes before the
 * code of block `end`.
 */
interface Interval {
  readonly block: number;
  readonly loop: boolean;
  readonly start: number;
  readonly end: number;
}

/** How a region's control flow maps onto wasm constructs. */
interface ControlPlan {
  /** The constructs, in opening order (by start, then outer first). */
  readonly intervals: readonly Interval[];
  /** Per block: the end of its loop (loop headers), else -1. */
  readonly loopEnd: Int32Array;
  /** Per block: 1 when the `br_table` dispatch may go to it (the entry, unstructured targets). */
  readonly dispatch: Uint8Array;
}

/** Indices of the in-region successors of each block. */
function edges(region: Region, index: Map<number, number>): number[][] {
  return region.blocks.map((b) =>
    successors(b).map((t) => index.get(t)).filter((j): j is number => j !== undefined)
  );
}

/**
 * Per block: for a loop header (the target of a backward edge), the index past the last block of
 * its loop (its last back edge's source, widened so that overlapping loops nest); else -1.
 */
function loopEnds(region: Region, index: Map<number, number>): Int32Array {
  const count = region.blocks.length;
  const loopEnd = new Int32Array(count).fill(-1);
  edges(region, index).forEach((ts, i) => {
    for (const j of ts) if (j <= i) loopEnd[j] = Math.max(loopEnd[j], i + 1);
  });
  for (let changed = true; changed;) {
    changed = false;
    for (let a = 0; a < count; a++) {
      for (let b = a + 1; b < loopEnd[a]; b++) {
        if (loopEnd[b] > loopEnd[a]) {
          loopEnd[a] = loopEnd[b];
          changed = true;
        }
      }
    }
  }
  return loopEnd;
}

/** Sorts intervals into opening order and checks that they nest; `null` when they do not. */
function nest(intervals: Interval[]): Interval[] | null {
  intervals.sort((a, b) => a.start - b.start || b.end - a.end || Number(a.loop) - Number(b.loop));
  const stack: Interval[] = [];
  for (const iv of intervals) {
    while (stack.length > 0 && stack[stack.length - 1].end <= iv.start) stack.pop();
    if (stack.length > 0 && stack[stack.length - 1].end < iv.end) return null;
    stack.push(iv);
  }
  return intervals;
}

/**
 * The fallback plan: every block a dispatch target, no loops (a backward branch goes through the
 * `br_table`, a forward one is a `br`).
 */
function dispatchPlan(region: Region, _index: Map<number, number>): ControlPlan {
  const count = region.blocks.length;
  return {
    intervals: nest(region.blocks.map((_, i) => ({ block: i, loop: false, start: -1, end: i })))!,
    loopEnd: new Int32Array(count).fill(-1),
    dispatch: new Uint8Array(count).fill(1),
  };
}

/**
 * The structured plan, as v86 builds it: a `loop` for each target of a backward branch, spanning
 * the blocks up to its last back edge (widened where loops overlap), so that a loop iteration is
 * one wasm branch; a `block` per forward target, opened before its first source (earlier where
 * it would cross a loop). A forward branch into a loop's body from outside it goes through the
 * dispatch. `null` when the constructs cannot nest (or a dispatch target lies inside a loop's
 * body): the caller then takes {@linkcode dispatchPlan}.
 */
function controlPlan(region: Region, index: Map<number, number>): ControlPlan | null {
  const count = region.blocks.length;
  const succ = edges(region, index);
  const loopEnd = loopEnds(region, index);
  /** Whether block `m` lies in the body (past the header) of the loop of `j`. */
  const inside = (m: number, j: number) => loopEnd[j] >= 0 && j < m && m < loopEnd[j];
  const dispatch = new Uint8Array(count);
  dispatch[index.get(region.entry)!] = 1;
  const labelStart = new Int32Array(count).fill(count);
  succ.forEach((ts, i) => {
    for (const m of ts) {
      if (m <= i) continue;
      let structured = true;
      for (let j = 0; j < m; j++) if (inside(m, j) && j > i) structured = false;
      if (structured) labelStart[m] = Math.min(labelStart[m], i);
      else dispatch[m] = 1;
    }
  });
  for (let m = 0; m < count; m++) {
    if (dispatch[m] === 0) continue;
    for (let j = 0; j < m; j++) if (inside(m, j)) return null;
    labelStart[m] = -1;
  }
  // A label that begins inside a loop and ends past it begins before the loop instead; one that
  // begins inside another label and ends past it begins with that label.
  for (let changed = true; changed;) {
    changed = false;
    for (let m = 0; m < count; m++) {
      const s = labelStart[m];
      if (s >= count || s < 0) continue;
      let start = s;
      for (let j = 0; j <= s; j++) if (loopEnd[j] > s && loopEnd[j] < m) start = Math.min(start, j);
      for (let m2 = s + 1; m2 < m; m2++) {
        if (labelStart[m2] < s) start = Math.min(start, labelStart[m2]);
      }
      if (start < s) {
        labelStart[m] = start;
        changed = true;
      }
    }
  }
  const intervals: Interval[] = [];
  for (let m = 0; m < count; m++) {
    if (labelStart[m] < count) {
      intervals.push({ block: m, loop: false, start: labelStart[m], end: m });
    }
    if (loopEnd[m] >= 0) intervals.push({ block: m, loop: true, start: m, end: loopEnd[m] });
  }
  const nested = nest(intervals);
  return nested === null ? null : { intervals: nested, loopEnd, dispatch };
}

/**
 * Emits the function body of `region`: with the {@linkcode RegionFn} signature, or with
 * `hart`, a unit's `(vbase: f64, origin: f64, done: i32, budget: i32) -> f64` (type `unitType`:
 * the area offset is the imported global 0; it returns the next pc less `origin`, the page base
 * of the run loop's call, and may tail-call another unit through the jump cache).
 */
function emitRegion(region: Region, hart = false, unitType = -1): FunctionBuilder {
  const { i32, i64, f64 } = ValType;
  const f = new FunctionBuilder(hart ? [f64, f64, i32, i32] : [i32, i32, i32, i32]);
  const BASE = hart ? f.local(i32) : 0;
  const BUDGET = hart ? 3 : 1;
  const ORIGIN = 1;
  const VBASE_LO = 2;
  const VBASE_HI = 3;
  if (hart) f.globalGet(0).set(BASE);
  // In the hart, the count goes on from the unit that called this one (0 from the run loop).
  const done = hart ? 2 : f.local(i32);
  const state = f.local(i32);
  const exReason = f.local(i32);
  const e = f.local(i32);
  const exPc = f.local(i64);
  const addr = f.local(i64);
  const vbase = f.local(i64);
  const low = f.local(i32);
  let jalrF: number | undefined;
  let mulTemps: [number, number] | undefined;
  // Registers used by the region get locals; x0 reads as the constant 0.
  const regLocal = new Int32Array(33).fill(-1);
  const written = new Set<number>();
  const use = (r: number) => {
    if (r !== 0 && r !== X0_SINK && regLocal[r] < 0) regLocal[r] = f.local(i64);
  };
  for (const b of region.blocks) {
    for (const { word } of b.insns) {
      const rd = (word >>> 8) & 63;
      use((word >>> 14) & 63);
      use((word >>> 20) & 63);
      const op = word & 0xff;
      if (BRANCH_OPS[op] === undefined && STORE_OPS[op] === undefined && op !== Op.FENCE) {
        use(rd);
        if (rd !== X0_SINK) written.add(rd);
      }
    }
  }
  for (let r = 1; r < 32; r++) {
    if (regLocal[r] < 0) continue;
    f.get(BASE).mem(MemOp.i64_load32_u, AREA_XL + 4 * r);
    f.get(BASE).mem(MemOp.i64_load32_s, AREA_XH + 4 * r).i64Const(32).op(O.i64_shl, O.i64_or);
    f.set(regLocal[r]);
  }
  // The virtual address the region's pcs are relative to (its page's, in the hart).
  if (hart) f.get(0).op(O.i64_trunc_f64_s).set(vbase);
  else {
    f.get(VBASE_LO).op(O.i64_extend_i32_u).get(VBASE_HI).op(O.i64_extend_i32_s);
    f.i64Const(32).op(O.i64_shl, O.i64_or).set(vbase);
  }
  /** Pushes the i64 virtual address of the region-relative `pc`. */
  const pcValue = (pc: number) => f.get(vbase).i64Const(pc).op(O.i64_add);
  const reg = (r: number) => (r === 0 ? f.i64Const(0) : f.get(regLocal[r]));
  const index = new Map<number, number>();
  region.blocks.forEach((b, i) => index.set(b.start, i));
  f.i32Const(index.get(region.entry)!).set(state);
  const { checkpoint, reach } = counting(region, index);

  const plan = controlPlan(region, index) ?? dispatchPlan(region, index);
  const exit = f.block();
  const dispatch = f.loop();
  const count = region.blocks.length;
  const labels: Label[] = new Array(count);
  const loops: Label[] = new Array(count);
  const open: Interval[] = [];
  /** Opens the intervals that start at `p` (outer first) and records their labels. */
  const openAt = (p: number) => {
    for (const iv of plan.intervals) {
      if (iv.start !== p) continue;
      if (iv.loop) loops[iv.block] = f.loop();
      else labels[iv.block] = f.block();
      open.push(iv);
    }
  };
  /** Closes the intervals that end at `p` (they are innermost: the plan nests). */
  const closeAt = (p: number) => {
    while (open.length > 0 && open[open.length - 1].end === p) {
      open.pop();
      f.end();
    }
  };
  openAt(-1);
  f.get(state).brTable(region.blocks.map((_, i) => (plan.dispatch[i] ? labels[i] : exit)), exit);

  /** Adds `delta` to the instruction counter. */
  const count_ = (delta: number) => {
    if (delta !== 0) f.get(done).i32Const(delta).op(O.i32_add).set(done);
  };
  /** Leaves with `reason` at the constant `pc`, correcting the counter by `delta`. */
  const leave = (reason: number, pc: number, delta: number) => {
    pcValue(pc).set(exPc);
    f.i32Const(reason).set(exReason);
    count_(delta);
    f.br(exit);
  };
  /** The counter correction on the edge from (the end of) block `i` to block `j`. */
  const edgeDelta = (i: number, j: number) =>
    region.blocks[i].insns.length - reach[i] + (checkpoint[j] === 1 ? 0 : reach[j]);
  /** Goes to `target` from the end of block `i`. */
  const goTo = (i: number, target: number, reason: number) => {
    const j = index.get(target);
    const n = region.blocks[i].insns.length;
    if (j === undefined) return leave(reason, target, n - reach[i]);
    count_(edgeDelta(i, j));
    if (j > i) f.br(labels[j]);
    else if (plan.loopEnd[j] > i) f.br(loops[j]);
    else f.i32Const(j).set(state).br(dispatch);
  };
  /** TLB lookup of the access at `x[r1] + imm` of `width`; leaves `linear address` (i32). */
  const access = (
    store: boolean,
    r1: number,
    imm: number,
    width: number,
    pc: number,
    i: number,
    k: number,
  ) => {
    // The entry of the access's first byte must hold the page of its last byte (so a misaligned
    // access inside the page is done in place, as the interpreter does; one across pages has a
    // last page whose entry is the next one); an empty entry holds -1, which no page equals. The
    // offset in the memory is then the low word of the address plus the entry's delta.
    reg(r1).i64Const(imm).op(O.i64_add).tee(addr);
    f.op(O.i32_wrap_i64).tee(low).i32Const(TLB_INDEX_SHIFT).op(O.i32_shr_u);
    f.i32Const(TLB_INDEX_MASK).op(O.i32_and);
    f.get(BASE).op(O.i32_add).tee(e);
    f.mem(MemOp.i64_load, store ? AREA_STORE_TLB : AREA_LOAD_TLB);
    f.get(addr);
    if (width > 1) f.i64Const(width - 1).op(O.i64_add);
    f.i64Const(-PAGE).op(O.i64_and, O.i64_ne);
    f.if_();
    leave(BlockExit.Memory, pc, k - reach[i]);
    f.end();
    f.get(low).get(e).mem(
      MemOp.i32_load,
      (store ? AREA_STORE_TLB : AREA_LOAD_TLB) + AREA_TLB_DELTA,
    );
    f.op(O.i32_add);
  };

  for (let i = 0; i < region.blocks.length; i++) {
    const block = region.blocks[i];
    closeAt(i);
    openAt(i);
    const n = block.insns.length;
    if (checkpoint[i] === 1) {
      f.get(done).i32Const(reach[i]).op(O.i32_add).tee(done).get(BUDGET).op(O.i32_gt_u);
      f.if_();
      leave(BlockExit.Budget, block.start, -reach[i]);
      f.end();
    }
    let closed = false;
    for (let k = 0; k < n; k++) {
      const { pc, word, imm } = block.insns[k];
      const op = word & 0xff;
      const rd = (word >>> 8) & 63;
      const r1 = (word >>> 14) & 63;
      const r2 = (word >>> 20) & 63;
      const next = pc + (word >>> 26);
      const sink = rd === X0_SINK;
      const setRd = () => (sink ? f.op(O.drop) : f.set(regLocal[rd]));
      const load = LOAD_OPS[op];
      const store = STORE_OPS[op];
      const branch = BRANCH_OPS[op];
      if (load !== undefined) {
        access(false, r1, imm, load[1], pc, i, k);
        f.mem(load[0]);
        setRd();
        continue;
      }
      if (store !== undefined) {
        access(true, r1, imm, store[1], pc, i, k);
        reg(r2).mem(store[0]);
        continue;
      }
      if (branch !== undefined) {
        reg(r1);
        reg(r2).op(branch).if_();
        goTo(i, pc + imm, BlockExit.Jump);
        f.end();
        if (index.get(next) === i + 1) count_(edgeDelta(i, i + 1));
        else goTo(i, next, BlockExit.End);
        closed = true;
        continue;
      }
      if (op === Op.JAL) {
        if (!sink) pcValue(next).set(regLocal[rd]);
        goTo(i, pc + imm, BlockExit.Jump);
        closed = true;
        continue;
      }
      if (op === Op.JALR) {
        if (hart) {
          // The interpreter keeps the target as the double hi * 2^32 + lo + imm, not wrapped to
          // 64 bits: beyond 2^53 in magnitude (where it faults) the pc it reports is that double.
          jalrF ??= f.local(f64);
          reg(r1).i64Const(32).op(O.i64_shr_s, O.f64_convert_i64_s).f64Const(4294967296);
          f.op(O.f64_mul);
          reg(r1).i64Const(0xffffffff).op(O.i64_and, O.f64_convert_i64_u, O.f64_add);
          f.f64Const(imm).op(O.f64_add).set(jalrF);
        }
        reg(r1).i64Const(imm).op(O.i64_add).i64Const(-2).op(O.i64_and).set(exPc);
        if (!sink) pcValue(next).set(regLocal[rd]);
        f.i32Const(BlockExit.Jump).set(exReason);
        count_(n - reach[i]);
        f.br(exit);
        closed = true;
        continue;
      }
      if (sink || op === Op.FENCE) continue;
      const rr = RR_OPS[op], ri = RI_OPS[op], wrr = W_RR_OPS[op], wri = W_RI_OPS[op];
      if (rr !== undefined) reg(r1), reg(r2).op(rr);
      else if (ri !== undefined) reg(r1).i64Const(imm).op(ri);
      else if (wrr !== undefined) {
        reg(r1).op(O.i32_wrap_i64);
        reg(r2).op(O.i32_wrap_i64, wrr, O.i64_extend_i32_s);
      } else if (wri !== undefined) {
        reg(r1).op(O.i32_wrap_i64).i32Const(imm).op(wri, O.i64_extend_i32_s);
      } else if (BIT_OPS.has(op)) emitBit(op, r1, r2, imm);
      else emitOther(op, r1, r2, imm, pc);
      setRd();
    }
    if (!closed) {
      // The block runs into the next one (a leader) or ends before an untranslated instruction.
      const last = block.insns[n - 1];
      const next = last.pc + (last.word >>> 26);
      if (index.get(next) === i + 1) count_(edgeDelta(i, i + 1));
      else goTo(i, next, BlockExit.End);
    }
  }
  closeAt(count);
  if (open.length !== 0) throw new Error("wasm_block: control plan left constructs open");
  // Past the last block: only reached when that block fell through, which goTo prevents.
  f.op(O.unreachable);
  f.end(); // dispatch loop
  f.end(); // exit block
  for (const r of written) {
    f.get(BASE).get(regLocal[r]).mem(MemOp.i64_store32, AREA_XL + 4 * r);
    f.get(BASE).get(regLocal[r]).i64Const(32).op(O.i64_shr_u).mem(
      MemOp.i64_store32,
      AREA_XH + 4 * r,
    );
  }
  if (hart) {
    // Leaving to a pc where a unit starts that the jump cache knows (in this generation): that
    // unit goes on (a tail call), counting on from `done` against the same budget.
    f.get(exReason).i32Const(BlockExit.Jump).op(O.i32_le_u).if_();
    f.get(exPc).op(O.i32_wrap_i64).tee(e).i32Const(1).op(O.i32_shr_u);
    f.get(e).i32Const(JUMP_HASH_SHIFT).op(O.i32_shr_u, O.i32_xor);
    f.i32Const(AREA_JUMP_ENTRIES - 1).op(O.i32_and).set(e);
    f.get(e).i32Const(3).op(O.i32_shl).get(BASE).op(O.i32_add).mem(MemOp.f64_load, AREA_JUMP_TAG);
    f.get(exPc).op(O.f64_convert_i64_s, O.f64_eq);
    f.get(e).i32Const(2).op(O.i32_shl).get(BASE).op(O.i32_add).tee(e);
    f.mem(MemOp.i32_load, AREA_JUMP_GEN).get(BASE).mem(MemOp.i32_load, AREA_CHAIN_GEN);
    f.op(O.i32_eq, O.i32_and).if_();
    f.get(BASE).get(BASE).mem(MemOp.i32_load, AREA_CHAINS).i32Const(1).op(O.i32_add);
    f.mem(MemOp.i32_store, AREA_CHAINS);
    f.get(exPc).i64Const(-PAGE).op(O.i64_and, O.f64_convert_i64_s).get(ORIGIN);
    f.get(done).get(BUDGET).get(e).mem(MemOp.i32_load, AREA_JUMP_UNIT);
    f.returnCallIndirect(unitType);
    f.end();
    f.end();
  }
  if (!hart) f.get(BASE).get(exPc).mem(MemOp.i64_store, EXIT_PC);
  f.get(BASE).get(done).mem(MemOp.i32_store, EXIT_DONE);
  f.get(BASE).get(exReason).mem(MemOp.i32_store, EXIT_REASON);
  if (hart) {
    if (jalrF !== undefined) {
      // A jalr exit whose target is beyond 2^53 in magnitude returns the interpreter's double
      // (jalrF is 0 unless a jalr, which always leaves, set it).
      f.get(jalrF).get(exPc).op(O.f64_convert_i64_s);
      f.get(jalrF).op(O.f64_abs).f64Const(2 ** 53).op(O.f64_lt, O.i32_eqz, O.select);
    } else f.get(exPc).op(O.f64_convert_i64_s);
    f.get(ORIGIN).op(O.f64_sub);
  } else f.get(done);
  return f;

  /**
   * The high 64 bits of the unsigned product of `x[r1]` and `x[r2]` from 32×32 products, inline
   * (a call of the module's `mulhu` helper cost 15-20% on the workload's multiply loop).
   */
  function mulhuInline(r1: number, r2: number): void {
    mulTemps ??= [f.local(i64), f.local(i64)];
    const [t, m1] = mulTemps;
    const lo = (r: number) => reg(r).i64Const(0xffffffff).op(O.i64_and);
    const hi = (r: number) => reg(r).i64Const(32).op(O.i64_shr_u);
    lo(r1), lo(r2).op(O.i64_mul).i64Const(32).op(O.i64_shr_u).set(t);
    hi(r1), lo(r2).op(O.i64_mul).get(t).op(O.i64_add).set(m1);
    lo(r1), hi(r2).op(O.i64_mul).get(m1).i64Const(0xffffffff).op(O.i64_and, O.i64_add).set(t);
    hi(r1), hi(r2).op(O.i64_mul).get(m1).i64Const(32).op(O.i64_shr_u, O.i64_add);
    f.get(t).i64Const(32).op(O.i64_shr_u, O.i64_add);
  }

  /** Pushes the result of the bit-manipulation or Zicond op `op` (see bitmanip.ts). */
  function emitBit(op: number, r1: number, r2: number, imm: number): void {
    const b = () => (BIT_IMM_OPS.has(op) ? f.i64Const(imm) : reg(r2));
    const lo32 = (r: number) => reg(r).i64Const(0xffffffff).op(O.i64_and);
    const low = (r: number) => reg(r).op(O.i32_wrap_i64);
    /** `1 << (b & 63)` */
    const bit = () => (f.i64Const(1), b().op(O.i64_shl));
    switch (op) {
      case Op.SH1ADD:
      case Op.SH2ADD:
      case Op.SH3ADD:
        reg(r1).i64Const(op - Op.SH1ADD + 1).op(O.i64_shl), b().op(O.i64_add);
        return;
      case Op.SH1ADD_UW:
      case Op.SH2ADD_UW:
      case Op.SH3ADD_UW:
        lo32(r1).i64Const(op - Op.SH1ADD_UW + 1).op(O.i64_shl), b().op(O.i64_add);
        return;
      case Op.ADD_UW:
        lo32(r1), b().op(O.i64_add);
        return;
      case Op.SLLI_UW:
        lo32(r1), b().op(O.i64_shl);
        return;
      case Op.ANDN:
        reg(r1), b().i64Const(-1).op(O.i64_xor, O.i64_and);
        return;
      case Op.ORN:
        reg(r1), b().i64Const(-1).op(O.i64_xor, O.i64_or);
        return;
      case Op.XNOR:
        reg(r1), b().op(O.i64_xor).i64Const(-1).op(O.i64_xor);
        return;
      case Op.CLZ:
        reg(r1).op(O.i64_clz);
        return;
      case Op.CTZ:
        reg(r1).op(O.i64_ctz);
        return;
      case Op.CPOP:
        reg(r1).op(O.i64_popcnt);
        return;
      case Op.CLZW:
        low(r1).op(O.i32_clz, O.i64_extend_i32_u);
        return;
      case Op.CTZW:
        low(r1).op(O.i32_ctz, O.i64_extend_i32_u);
        return;
      case Op.CPOPW:
        low(r1).op(O.i32_popcnt, O.i64_extend_i32_u);
        return;
      case Op.MAX:
      case Op.MAXU:
      case Op.MIN:
      case Op.MINU: {
        const cmp = op === Op.MAX
          ? O.i64_gt_s
          : op === Op.MAXU
          ? O.i64_gt_u
          : op === Op.MIN
          ? O.i64_lt_s
          : O.i64_lt_u;
        reg(r1), b(), reg(r1), b().op(cmp, O.select);
        return;
      }
      case Op.SEXT_B:
        reg(r1).op(O.i64_extend8_s);
        return;
      case Op.SEXT_H:
        reg(r1).op(O.i64_extend16_s);
        return;
      case Op.ZEXT_H:
        reg(r1).i64Const(0xffff).op(O.i64_and);
        return;
      case Op.ROL:
        reg(r1), b().op(O.i64_rotl);
        return;
      case Op.ROR:
      case Op.RORI:
        reg(r1), b().op(O.i64_rotr);
        return;
      case Op.ROLW:
        low(r1), b().op(O.i32_wrap_i64, O.i32_rotl, O.i64_extend_i32_s);
        return;
      case Op.RORW:
      case Op.RORIW:
        low(r1), b().op(O.i32_wrap_i64, O.i32_rotr, O.i64_extend_i32_s);
        return;
      case Op.ORC_B: {
        // Bit 7 of each byte: set when the byte is nonzero ((b & 0x7f) + 0x7f carries into it,
        // or it was set), then spread over the byte.
        const low7 = 0x7f7f7f7f7f7f7f7fn;
        reg(r1).i64Const(low7).op(O.i64_and).i64Const(low7).op(O.i64_add);
        reg(r1).op(O.i64_or).i64Const(-0x7f7f7f7f7f7f7f80n).op(O.i64_and);
        f.i64Const(7).op(O.i64_shr_u).i64Const(0xff).op(O.i64_mul);
        return;
      }
      case Op.REV8: {
        // Swap bytes within halfwords, halfwords within words, then the words.
        const m8 = 0x00ff00ff00ff00ffn;
        const m16 = 0x0000ffff0000ffffn;
        reg(r1).i64Const(8).op(O.i64_shr_u).i64Const(m8).op(O.i64_and);
        reg(r1).i64Const(m8).op(O.i64_and).i64Const(8).op(O.i64_shl, O.i64_or).tee(addr);
        f.i64Const(16).op(O.i64_shr_u).i64Const(m16).op(O.i64_and);
        f.get(addr).i64Const(m16).op(O.i64_and).i64Const(16).op(O.i64_shl, O.i64_or);
        f.i64Const(32).op(O.i64_rotl);
        return;
      }
      case Op.BCLR:
      case Op.BCLRI:
        reg(r1), bit().i64Const(-1).op(O.i64_xor, O.i64_and);
        return;
      case Op.BSET:
      case Op.BSETI:
        reg(r1), bit().op(O.i64_or);
        return;
      case Op.BINV:
      case Op.BINVI:
        reg(r1), bit().op(O.i64_xor);
        return;
      case Op.BEXT:
      case Op.BEXTI:
        reg(r1), b().op(O.i64_shr_u).i64Const(1).op(O.i64_and);
        return;
      case Op.CZERO_EQZ:
      case Op.CZERO_NEZ:
        // select(x, y, c) is c ? x : y: zero when rs2 is zero (eqz), or when it is not (nez).
        if (op === Op.CZERO_EQZ) f.i64Const(0), reg(r1);
        else reg(r1), f.i64Const(0);
        b().op(O.i64_eqz, O.select);
        return;
    }
    throw new Error(`wasm_block: op ${op} is not translatable`);
  }

  function emitOther(op: number, r1: number, r2: number, imm: number, pc: number): void {
    const ifI64 = () => f.if_(i64);
    switch (op) {
      case Op.LUI:
        f.i64Const(imm);
        return;
      case Op.AUIPC:
        pcValue(pc + imm);
        return;
      case Op.SLTI:
        reg(r1).i64Const(imm).op(O.i64_lt_s, O.i64_extend_i32_u);
        return;
      case Op.SLTIU:
        reg(r1).i64Const(imm).op(O.i64_lt_u, O.i64_extend_i32_u);
        return;
      case Op.SLT:
        reg(r1), reg(r2).op(O.i64_lt_s, O.i64_extend_i32_u);
        return;
      case Op.SLTU:
        reg(r1), reg(r2).op(O.i64_lt_u, O.i64_extend_i32_u);
        return;
      case Op.MULHU:
        mulhuInline(r1, r2);
        return;
      case Op.MULH:
      case Op.MULHSU:
        // mulhu(a, b) - (a < 0 ? b : 0) [- (b < 0 ? a : 0) for mulh]
        mulhuInline(r1, r2);
        reg(r1).i64Const(63).op(O.i64_shr_s), reg(r2).op(O.i64_and, O.i64_sub);
        if (op === Op.MULH) reg(r2).i64Const(63).op(O.i64_shr_s), reg(r1).op(O.i64_and, O.i64_sub);
        return;
      case Op.DIV:
        reg(r2).op(O.i64_eqz), ifI64();
        f.i64Const(-1).else_();
        reg(r2).i64Const(-1).op(O.i64_eq), ifI64();
        f.i64Const(0), reg(r1).op(O.i64_sub).else_();
        reg(r1), reg(r2).op(O.i64_div_s).end();
        f.end();
        return;
      case Op.DIVU:
        reg(r2).op(O.i64_eqz), ifI64();
        f.i64Const(-1).else_();
        reg(r1), reg(r2).op(O.i64_div_u).end();
        return;
      case Op.REM:
      case Op.REMU:
        // wasm's rem_s of INT64_MIN by -1 is 0, as RISC-V's; only zero needs a guard.
        reg(r2).op(O.i64_eqz), ifI64();
        reg(r1).else_();
        reg(r1), reg(r2).op(op === Op.REM ? O.i64_rem_s : O.i64_rem_u).end();
        return;
      case Op.DIVW:
        reg(r2).op(O.i32_wrap_i64, O.i32_eqz), f.if_(i32);
        f.i32Const(-1).else_();
        reg(r2).op(O.i32_wrap_i64).i32Const(-1).op(O.i32_eq), f.if_(i32);
        f.i32Const(0), reg(r1).op(O.i32_wrap_i64, O.i32_sub).else_();
        reg(r1).op(O.i32_wrap_i64), reg(r2).op(O.i32_wrap_i64, O.i32_div_s).end();
        f.end().op(O.i64_extend_i32_s);
        return;
      case Op.DIVUW:
      case Op.REMW:
      case Op.REMUW: {
        const wop = op === Op.DIVUW ? O.i32_div_u : op === Op.REMW ? O.i32_rem_s : O.i32_rem_u;
        reg(r2).op(O.i32_wrap_i64, O.i32_eqz), f.if_(i32);
        if (op === Op.DIVUW) f.i32Const(-1);
        else reg(r1).op(O.i32_wrap_i64);
        f.else_();
        reg(r1).op(O.i32_wrap_i64), reg(r2).op(O.i32_wrap_i64, wop).end();
        f.op(O.i64_extend_i32_s);
        return;
      }
    }
    throw new Error(`wasm_block: op ${op} is not translatable`);
  }
}

/**
 * A translated region: runs on the hart whose area (hart_area.ts) starts at `base`, at most
 * `budget` instructions; returns those done. The region's pcs are taken relative to the 64-bit
 * virtual address `vbaseLo | vbaseHi << 32` (0 when omitted: the pcs are absolute), so that one
 * translation serves a page wherever it is mapped.
 */
export type RegionFn = (base: number, budget: number, vbaseLo?: number, vbaseHi?: number) => number;

/**
 * A translated region as the hart's run loop calls it (a `BlockFn` of jit.ts): `base` is the
 * virtual address of its page, `off` is ignored (a region has one entry), at most `limit`
 * instructions run, in it and in the units it enters through the jump cache. It returns the
 * next pc as an offset from `base` and writes the instructions done and the exit reason to the
 * exit record of the hart area whose offset the instance imports as `env.area` (the hart's
 * `st`).
 */
export type HartRegionFn = (base: number, off: number, limit: number) => number;

/** The memory a region module imports (`env.mem`). */
export interface RegionMemory {
  /** Minimum size in 64 KiB pages. */
  readonly minPages: number;
  /** Maximum size (required for a shared memory). */
  readonly maxPages?: number;
  /** Whether the memory is shared (the frame pool's is). */
  readonly shared?: boolean;
}

/**
 * Builds one module holding a function per region (exported as `r0`, `r1`, ..., or with another
 * `exportPrefix`) over a memory imported as `env.mem` of at least `memory` 64 KiB pages (or
 * with the given limits): {@linkcode RegionFn}s, or with `hart` {@linkcode HartRegionFn}s
 * (which import the hart area's offset as the i32 global `env.area` and the hart's function
 * table as `env.units`; each region's unit, which other units call, is exported as `u0`, `u1`,
 * ...). Batching many regions in one module shares the module's fixed compilation cost.
 */
export function regionModule(
  regions: readonly Region[],
  memory: number | RegionMemory,
  exportPrefix = "r",
  hart = false,
): Uint8Array<ArrayBuffer> {
  const { i32, f64 } = ValType;
  const limits = typeof memory === "number" ? { minPages: memory } : memory;
  const m = new ModuleBuilder().importMemory({ module: "env", name: "mem", ...limits });
  if (!hart) {
    const type = m.type([i32, i32, i32, i32], [i32]);
    regions.forEach((r, i) => m.addFunction(type, emitRegion(r), `${exportPrefix}${i}`));
    return m.encode();
  }
  m.importGlobalI32("env", "area");
  m.importTable("env", "units");
  const unitType = m.type([f64, f64, i32, i32], [f64]);
  const runType = m.type([f64, i32, f64], [f64]);
  regions.forEach((r, i) => {
    const unit = m.addFunction(unitType, emitRegion(r, true, unitType), `u${i}`);
    // The run loop's entry: the unit with the page base as origin and nothing done yet.
    const run = new FunctionBuilder([f64, i32, f64]);
    run.get(0).get(0).i32Const(0);
    run.get(2).f64Const(0x7fffffff).op(O.f64_min, O.i32_trunc_f64_s).returnCall(unit);
    m.addFunction(runType, run, `${exportPrefix}${i}`);
  });
  return m.encode();
}

/**
 * Compiles and instantiates {@linkcode regionModule} against `memory` (a shared one needs its
 * `limits`); returns the functions.
 */
export function compileRegions(
  regions: readonly Region[],
  memory: WebAssembly.Memory,
  limits?: RegionMemory,
): RegionFn[] {
  const pages = memory.buffer.byteLength / 0x10000;
  const module = new WebAssembly.Module(regionModule(regions, limits ?? pages));
  const exports = new WebAssembly.Instance(module, { env: { mem: memory } }).exports;
  return regions.map((_, i) => exports[`r${i}`] as RegionFn);
}

/** How the control flow of a region is laid out in wasm (for tests and statistics). */
export interface RegionShape {
  /** Whether loops are wasm `loop`s (else every backward branch goes through the dispatch). */
  readonly structured: boolean;
  /** Loop headers, by address. */
  readonly loops: readonly number[];
  /** Blocks the `br_table` dispatch can reach, by address (the entry at least). */
  readonly dispatchTargets: readonly number[];
}

/** The control layout {@linkcode regionModule} gives `region`. */
export function regionShape(region: Region): RegionShape {
  const index = new Map<number, number>();
  region.blocks.forEach((b, i) => index.set(b.start, i));
  const structured = controlPlan(region, index);
  const plan = structured ?? dispatchPlan(region, index);
  return {
    structured: structured !== null,
    loops: region.blocks.filter((_, i) => plan.loopEnd[i] >= 0).map((b) => b.start),
    dispatchTargets: region.blocks.filter((_, i) => plan.dispatch[i] === 1).map((b) => b.start),
  };
}
