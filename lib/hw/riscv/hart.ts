/**
 * The RV64GC hart: an interpreter for RV64I, M, A, F, D, C, Zicsr, Zifencei, Zicntr, Zba, Zbb,
 * Zbs, Zicond and Sstc (the list is isa.ts's) with the M, S and U privilege modes and Sv39
 * virtual memory.
 *
 * Design:
 *
 * - Registers are int32 halves (`xl` low, `xh` high); no BigInt on the hot path.
 * - Instructions are decoded once per physical code page ({@linkcode DecodedPage}) and executed
 *   from the decoded form. A store to a decoded page invalidates the decoded instructions it
 *   overlaps (and the page's compiled blocks when it hits one), on every hart that decoded it
 *   (see {@linkcode CodeGroup}); `fence.i` therefore costs nothing unless the host wrote RAM.
 * - Hot code is translated into JavaScript functions by the second tier (`jit.ts`); the
 *   interpreter stays the reference and handles everything the tier leaves out (traps, CSRs,
 *   atomics, MMIO, TLB misses). Loaders that rewrite memory behind the hart's back call
 *   {@linkcode Hart.reset} or {@linkcode Hart.flushCaches}; `SparseMemory.clear()` and bus
 *   remaps are noticed automatically.
 * - Three software TLBs (fetch, load, store; 256 entries each, direct mapped) cache the
 *   translation of a virtual page to a RAM page view. Device pages are never cached and go
 *   through the bus on every access.
 * - The `pc` is a number holding the signed 64-bit value: exact for every canonical Sv39
 *   address and every physical address below 2^53. A fetch with bit 63 set or at or above 2^56
 *   (bare) raises an instruction access fault, a non-canonical Sv39 fetch a page fault; a jump
 *   target beyond 2^53 in magnitude faults too, with mepc/mtval rounded to a double.
 *
 * Architectural choices (all allowed by the specifications):
 *
 * - Misaligned loads and stores to RAM are performed (also across pages); misaligned accesses to
 *   devices raise an access fault; misaligned LR/SC/AMOs raise address-misaligned exceptions.
 * - With C, instruction addresses are always even, so no instruction-misaligned exception exists;
 *   `misa` is read-only.
 * - Sv39 A/D bits are set by the page walker (no A/D page faults).
 * - F and D: the FP registers and fcsr live in {@linkcode Hart.fp}; the arithmetic is fpu.ts's
 *   (through fp_exec.ts, shared with the JIT). mstatus.FS resets to Off; every instruction that
 *   may change FP state (all but FP stores, fmv.x.*, fclass) sets it Dirty.
 * - Sstc: with menvcfg.STCE set, mip.STIP is `time >= stimecmp` (ORed with the VMM's virtual
 *   STIP line) and software writes to mip.STIP are ignored; the comparison is evaluated whenever
 *   interrupts are checked (at the start of every run and after CSR writes), so a caller that
 *   runs in slices sees it within one slice. stimecmp resets to all ones (no timer armed).
 * - PMP CSRs hold WARL values but are not enforced. No debug triggers (tselect reads 0,
 *   tdata1 reads type 0, tinfo reads 1).
 * - `cycle` counts retired instructions, like `instret`.
 * - The LR reservation survives the end of a `run` call (so single-stepping an LR/SC loop works)
 *   unless something could have broken it: it is dropped at every trap (interrupts included), at
 *   `reset`/`restore`, and at the start of a `run` when any other hart ran since this hart's
 *   last run (other harts' stores are not tracked, and harts on different buses may still share
 *   RAM, e.g. IVC pages). Host writes between runs (loaders, debuggers) do not break it. An SC
 *   consumes the reservation.
 * - A device may end a run early with {@linkcode Hart.requestStop}; a store to a range watched
 *   with {@linkcode Hart.watchWrites} calls back right after the write (HTIF `tohost`).
 *
 * @module
 */

import type { Bus, BusRegion } from "../bus.ts";
import type { SparseMemory } from "../memory.ts";
import * as alu from "./alu.ts";
import { Cause, Csr, Mstatus } from "./csr.ts";
import {
  BIT_IMM_OPS,
  BIT_OP_FIRST,
  BIT_OP_LAST,
  decode,
  FP_OP_FIRST,
  FP_OP_LAST,
  Op,
} from "./decoder.ts";
import { bitOp } from "./bitmanip.ts";
import { FpRegisters } from "./fpu.ts";
import { FP_CLEAN_OPS, FP_INT_RESULT_OPS, fpExec } from "./fp_exec.ts";
import { MISA_EXTENSION_BITS } from "./isa.ts";
import { type BlockFn, blockSource, compileBlock } from "./jit.ts";
import { codeCacheStats, HartStats } from "./hart_stats.ts";
import { Access, type WalkOutput, WalkResult, walkSv39 } from "./mmu.ts";
import { DecodedPage, dummyPage, dummyView, NO_BLOCKS } from "./decoded_page.ts";
import { type BusErrorInfo, type HartOptions, type HartState, StopReason } from "./hart_state.ts";

export * from "./hart_state.ts";
export { DecodedPage } from "./decoded_page.ts";

const TLB_SIZE = 256;
/**
 * Executions of an interpreted instruction before a block is compiled from it. Each compiled
 * block costs V8 about 2 ms (parse, lazy compile, running cold in its bytecode interpreter,
 * tier-up), which only pays back on code run tens of thousands of times. Debian's kernel
 * booting to /init (1.1 G instructions, CPU time of one run each): threshold 100 -> 96 s
 * (76,000 blocks), 5000 -> 45 s, 20000 -> 33 s, 60000 -> 28 s (1,900 blocks); the interpreter
 * alone 31.5 s. Hot loops (the compute benchmark) are compiled after 60000 iterations anyway.
 */
const JIT_THRESHOLD = 60000;
const TWO32 = 4294967296;
/** Interrupt priority order of the privileged spec: MEI, MSI, MTI, SEI, SSI, STI. */
const IRQ_PRIORITY = [11, 3, 7, 9, 1, 5];
const MSTATUS_WMASK = Mstatus.SIE | Mstatus.MIE | Mstatus.SPIE | Mstatus.MPIE | Mstatus.SPP |
  Mstatus.MPP | Mstatus.FS | Mstatus.MPRV | Mstatus.SUM | Mstatus.MXR | Mstatus.TVM | Mstatus.TW |
  Mstatus.TSR;
const SSTATUS_MASK = Mstatus.SIE | Mstatus.SPIE | Mstatus.SPP | Mstatus.FS | Mstatus.SUM |
  Mstatus.MXR;
/** mstatus.FS = Dirty. */
const FS_DIRTY = 3 << 13;
/** mip.STIP. */
const STIP = 1 << 5;
/** mstatus high word: UXL = SXL = 2 (64-bit). */
const MSTATUS_HI = 0xa;
const SSTATUS_HI = 0x2;
const S_INTS = 0x222;
const MIE_MASK = 0xaaa;
const MEDELEG_MASK = 0xb3ff;
/** misa: RV64 (MXL=2) and the extensions of isa.ts (plus S and U). */
const MISA_LO = MISA_EXTENSION_BITS;
const MISA_HI = 0x80000000 | 0;
/** Physical addresses are 56 bits wide (Sv39's PPN); fetches at or above fault. */
const PA_LIMIT = 2 ** 56;
/** Generic 64-bit CSR storage index of the CSR number. */
const CSR_STORE = 4096;

/**
 * The decoded forms of one RAM page on every hart that executed from it. Stores into the page,
 * by any hart, go through {@linkcode codeStore}, which invalidates exactly the instructions they
 * overlap on all of those harts: decoded code is always coherent with memory (as in QEMU), so
 * `fence.i` and remote fence.i need not throw code away.
 */
class CodeGroup {
  /** The decoded pages of this RAM page, one per hart that currently has it decoded. */
  readonly pages: DecodedPage[] = [];
  /** Creates the group of the RAM page `view`. */
  constructor(readonly view: DataView) {}
}

/**
 * Code groups by RAM page view, shared by every hart (harts of one VM, and of VMs sharing RAM,
 * see each other's stores). A group lives as long as its page: store-TLB entries keep pointing
 * at it.
 */
const codeGroups = new WeakMap<DataView, CodeGroup>();
/** Incremented when a RAM page gets its code group: harts then re-sort their store TLBs. */
let codeGroupGen = 0;

/** Decoded instructions of the page's slots that a store of `width` bytes at `po` overlaps. */
function invalidateSlots(page: DecodedPage, po: number, width: number): void {
  const ops = page.ops;
  const covered = page.covered;
  const last = (po + width - 1) >> 1;
  let hit = 0;
  for (let i = po > 1 ? (po - 2) >> 1 : 0; i <= last; i++) {
    ops[i] = 0;
    hit |= covered[i];
  }
  if (hit !== 0) {
    codeCacheStats.storeInvalidations++;
    page.blocks.fill(null);
    page.heat.fill(0);
    covered.fill(0);
    page.blockCount = 0;
  }
}

/**
 * Invalidates, on every hart, the decoded instructions that a store of `width` bytes at page
 * offset `po` overlaps (they decode again when next executed), drops a page's compiled blocks
 * when the store hits one of them, and returns the page view to store into.
 */
function codeStore(group: CodeGroup, po: number, width: number): DataView {
  const pages = group.pages;
  for (let i = 0; i < pages.length; i++) invalidateSlots(pages[i], po, width);
  return group.view;
}
const dummyGroup = new CodeGroup(dummyView);

/**
 * Called by {@linkcode Hart.watchWrites} right after a store wrote watched bytes: `pa` and
 * `width` describe the store (physical address, bytes). It may call {@linkcode Hart.requestStop}.
 */
export type WriteWatch = (pa: number, width: number) => void;

/** The hart that ran last: a run by another hart may have broken a reservation. */
let lastRunner: Hart | undefined;

/** An RV64GC (+ Zba/Zbb/Zbs/Zicond, Sstc) hart with M/S/U privilege modes and Sv39. */
export class Hart {
  /** Low 32 bits of x0..x31 (index 32 is the write sink for x0). */
  readonly xl: Int32Array = new Int32Array(34);
  /** High 32 bits of x0..x31. */
  readonly xh: Int32Array = new Int32Array(34);
  /** Program counter: the signed 64-bit value (exact below 2^53 in magnitude). */
  pc = 0;
  /** Instructions retired. */
  instret = 0;
  /** Instructions executed by the last {@linkcode Hart.run} call (retired or trapped). */
  lastRunInstructions = 0;
  /** Blocks compiled by the second tier so far. */
  compiledBlocks = 0;
  /** Instructions executed inside compiled blocks so far (the rest were interpreted). */
  blockInstructions = 0;
  /** Execution statistics (tiers, block exits, compilations, flushes, walks, traps). */
  readonly stats: HartStats = new HartStats();
  /** When set, {@linkcode Hart.run} returns StopReason.Halted without executing. */
  halted = false;
  /** Whether the hart waits in wfi for an interrupt (only without exitOnWfi). */
  waiting = false;
  /** The last unanswered access (valid after StopReason.BusError). */
  readonly lastBusError: BusErrorInfo = { addr: 0, width: 0, write: false, fetch: false, pc: 0 };
  /** mhartid. */
  readonly hartId: number;
  /** The bus this hart accesses. */
  readonly bus: Bus;
  /** The FP registers, fflags and frm (F and D). */
  readonly fp: FpRegisters = new FpRegisters();

  #readTime: (instretNow: number) => number;
  #exitOnEcall: boolean;
  #exitOnWfi: boolean;
  #exitOnBusError: boolean;
  #exitOnEbreak: boolean;
  #guestDelegation: boolean;
  #jit: boolean;
  #jitThreshold: number;
  #jitStatus = new Int32Array(2);
  /** mstatus.FS (0..3), for compiled blocks (they run FP ops only when it is Dirty). */
  #fsState = new Int32Array(1);
  #sstc: boolean;

  // Privileged state.
  #priv: 0 | 1 | 3 = 3;
  #ms = 0;
  #mie = 0;
  #mipSw = 0;
  #mipExt = 0;
  #mideleg = 0;
  #medeleg = 0;
  #satpMode = 0;
  #satpPpn = 0;
  #csr = new Int32Array(CSR_STORE * 2);
  #cycleOffset = 0;
  #instretOffset = 0;
  #cycleFrozen = 0;
  #instretFrozen = 0;

  // Run state.
  #stop = -1;
  #irqCheck = true;
  #runCount = 0;
  #exc = 0;
  #resValid = false;
  #resAddr = 0;
  #resWidth = 0;
  #running = false;
  /** Write watches: [physical start, end (exclusive), callback]. */
  #watches: { start: number; end: number; onWrite: WriteWatch }[] = [];
  #crossWord = 0;
  #crossImm = 0;
  #csrLo = 0;
  #csrHi = 0;
  #eaLo = 0;
  #eaHi = 0;
  #walk: WalkOutput = { pa: 0, pte: 0, level: 0, pteAddr: 0 };

  // Caches.
  #rTag = new Float64Array(TLB_SIZE).fill(-1);
  #rPage: DataView[] = new Array<DataView>(TLB_SIZE).fill(dummyView);
  #wTag = new Float64Array(TLB_SIZE).fill(-1);
  #wPage: DataView[] = new Array<DataView>(TLB_SIZE).fill(dummyView);
  #wcTag = new Float64Array(TLB_SIZE).fill(-1);
  #wcPage: CodeGroup[] = new Array<CodeGroup>(TLB_SIZE).fill(dummyGroup);
  #fTag = new Float64Array(TLB_SIZE).fill(-1);
  #fPage: DecodedPage[] = new Array<DecodedPage>(TLB_SIZE).fill(dummyPage);
  #code = new Map<DataView, DecodedPage>();
  #codeGroupGen = -1;
  /** Host writes into RAM (summed over #memories) when this hart's code was last known good. */
  #hostWrites = 0;
  #busGen = -1;
  #memGen = -1;
  #memories: SparseMemory[] = [];

  /** Creates a hart in M-mode at pc 0 with every register zero. */
  constructor(options: HartOptions) {
    this.bus = options.bus;
    this.hartId = options.hartId;
    this.#readTime = options.readTime ?? (() => 0);
    this.#exitOnEcall = options.exitOnSupervisorEcall ?? false;
    this.#exitOnWfi = options.exitOnWfi ?? false;
    this.#exitOnBusError = options.exitOnBusError ?? false;
    this.#exitOnEbreak = options.exitOnEbreak ?? false;
    this.#guestDelegation = options.guestDelegation ?? false;
    this.#sstc = options.sstc ?? true;
    this.#jit = options.jit ?? true;
    const threshold = options.jitThreshold ?? JIT_THRESHOLD;
    if (!Number.isInteger(threshold) || threshold < 1 || threshold > 65535) {
      throw new RangeError(`jitThreshold ${threshold} is not an integer in 1..65535`);
    }
    this.#jitThreshold = threshold;
    this.reset(0, 3);
  }

  // ---------------------------------------------------------------- public slow-path API

  /** Current privilege level: 0 U, 1 S, 3 M. Setting it drops cached translations. */
  get priv(): 0 | 1 | 3 {
    return this.#priv;
  }

  set priv(p: 0 | 1 | 3) {
    if (p !== 0 && p !== 1 && p !== 3) {
      throw new RangeError(`privilege level ${p} is not 0, 1 or 3`);
    }
    this.#priv = p;
    this.#flushTlb();
    this.#irqCheck = true;
  }

  /** Resets the architectural state (registers, CSRs, caches) and starts at `pc` in `priv`. */
  reset(pc: number, priv: 0 | 1 | 3): void {
    this.xl.fill(0);
    this.xh.fill(0);
    this.#csr.fill(0);
    this.pc = pc;
    this.priv = priv;
    this.instret = 0;
    this.#ms = 0;
    this.#mie = 0;
    this.#mipSw = 0;
    this.#mideleg = 0;
    this.#medeleg = 0;
    this.#satpMode = 0;
    this.#satpPpn = 0;
    this.#cycleOffset =
      this.#instretOffset =
      this.#cycleFrozen =
      this.#instretFrozen =
        0;
    this.#resValid = false;
    this.waiting = false;
    this.halted = false;
    new Int32Array(this.fp.buffer).fill(0);
    this.fp.fflags = 0;
    this.fp.frm = 0;
    this.#syncFs();
    if (this.#sstc) {
      // stimecmp's reset value is unspecified: all ones, i.e. no Sstc timer armed.
      this.#csr[Csr.stimecmp * 2] = -1;
      this.#csr[Csr.stimecmp * 2 + 1] = -1;
    }
    if (this.#guestDelegation) {
      this.#medeleg = MEDELEG_MASK;
      this.#mideleg = S_INTS;
      this.#csr[Csr.mcounteren * 2] = 7;
      // As OpenSBI does at boot: U-mode may read cycle, time and instret (a Linux guest's vDSO
      // reads `time` in clock_gettime; without an SBI PMU the kernel leaves scounteren alone).
      this.#csr[Csr.scounteren * 2] = 7;
      // What SBI firmware does on a hart with Sstc: S-mode owns stimecmp.
      if (this.#sstc) this.#csr[Csr.menvcfg * 2 + 1] = 0x80000000 | 0;
    }
    this.#irqCheck = true;
    this.flushCaches();
  }

  /** Drops every cached translation and decoded instruction (e.g. after memory was reloaded). */
  flushCaches(): void {
    this.#flushTlb();
    this.#dropCode();
  }

  /** Drops the cached translations (sfence.vma, and remote sfence.vma from other harts). */
  flushTlb(): void {
    this.#flushTlb();
  }

  /**
   * `fence.i` (and remote fence.i from other harts): every hart's stores into code already
   * invalidated what they overlap, so only writes by the host (loaders, devices, SBI calls that
   * write guest memory) since the code was decoded make this drop the decoded code.
   */
  fenceI(): void {
    this.stats.fenceI++;
    if (this.#hostWriteCount() === this.#hostWrites) return;
    this.stats.fenceIFlushes++;
    this.#dropCode();
    this.#fTag.fill(-1);
  }

  #hostWriteCount(): number {
    let n = 0;
    for (const m of this.#memories) n += m.hostWrites;
    return n;
  }

  /** Drops the decoded instructions: the next fetches decode again. */
  #dropCode(): void {
    for (const [view, page] of this.#code) {
      const pages = codeGroups.get(view)?.pages;
      const i = pages === undefined ? -1 : pages.indexOf(page);
      if (i >= 0) pages!.splice(i, 1);
    }
    if (this.#code.size !== 0) this.stats.codeFlushes++;
    this.#code.clear();
    this.#hostWrites = this.#hostWriteCount();
  }

  /** Executes one instruction (or takes one pending interrupt); returns a StopReason. */
  step(): number {
    return this.run(1);
  }

  /**
   * Ends the current {@linkcode Hart.run} early: the instruction being executed (e.g. the store
   * a device's MMIO handler is serving) completes, and run returns StopReason.Requested right
   * after it. Meant for device handlers and write watches; outside a run it does nothing (each
   * run starts afresh). A stop reason already set by the instruction (ecall, wfi...) wins.
   */
  requestStop(): void {
    if (this.#running && this.#stop < 0) this.#stop = StopReason.Requested;
  }

  /**
   * Instructions retired so far, live: during a run (from a device handler, a write watch or
   * the `time` callback) it counts the instructions retired before the current one; outside a
   * run it equals {@linkcode Hart.instret}.
   */
  instretNow(): number {
    return this.#counterNow();
  }

  /**
   * Watches the physical bytes [`pa`, `pa + length`): every store by this hart (any width, SC
   * and AMOs included) that writes one of them calls `onWrite` right after the write. Stores to
   * the watched page take the slow path (other pages keep their speed). Returns a function that
   * removes the watch.
   *
   * @throws {RangeError} when the range is empty or not below 2^53
   */
  watchWrites(pa: number, length: number, onWrite: WriteWatch): () => void {
    if (!Number.isSafeInteger(pa) || pa < 0 || !Number.isSafeInteger(length) || length < 1) {
      throw new RangeError(`watchWrites: bad range (address ${pa}, length ${length})`);
    }
    const watch = { start: pa, end: pa + length, onWrite };
    this.#watches.push(watch);
    this.#wTag.fill(-1);
    this.#wcTag.fill(-1);
    return () => {
      const i = this.#watches.indexOf(watch);
      if (i >= 0) this.#watches.splice(i, 1);
    };
  }

  /** Whether the physical page holding `pa` holds watched bytes. */
  #watchedPage(pa: number): boolean {
    const start = pa - (pa & 4095);
    for (const w of this.#watches) {
      if (w.start < start + 4096 && w.end > start) return true;
    }
    return false;
  }

  /** Calls the watches that the store of `width` bytes at physical `pa` wrote into. */
  #fireWatches(pa: number, width: number): void {
    for (const w of [...this.#watches]) {
      if (w.start < pa + width && w.end > pa) w.onWrite(pa, width);
    }
  }

  /** Value of register `i` as an unsigned 64-bit BigInt. */
  getX(i: number): bigint {
    return alu.bigU(this.xl[i], this.xh[i]);
  }

  /** Sets register `i` (writes to x0 are ignored). */
  setX(i: number, value: bigint): void {
    if (i === 0) return;
    const v = BigInt.asUintN(64, value);
    this.xl[i] = Number(v & 0xffffffffn) | 0;
    this.xh[i] = Number(v >> 32n) | 0;
  }

  /** Raw 64 bits of FP register f`i` (a single is NaN-boxed: high word all ones). */
  getF(i: number): bigint {
    return alu.bigU(this.fp.words[i * 2], this.fp.words[i * 2 + 1]);
  }

  /** Low 32 bits of register `i`, signed. */
  getXLow(i: number): number {
    return this.xl[i];
  }

  /** The pc as an unsigned 64-bit BigInt. */
  getPc(): bigint {
    return BigInt.asUintN(64, BigInt(this.pc));
  }

  /**
   * Drives an external interrupt wire into mip. `mipBit` is the mip mask (e.g. `Mip.MTIP`,
   * `1 << 7`). MSIP, MTIP, MEIP and the external SEIP line are read-only to software; SSIP and
   * STIP driven here set or clear the mip bit itself (the VMM's virtual lines).
   */
  setIrqLine(mipBit: number, level: boolean): void {
    if (mipBit === (1 << 1) || mipBit === (1 << 5)) {
      this.#mipSw = level ? this.#mipSw | mipBit : this.#mipSw & ~mipBit;
    } else if ((mipBit & 0xa88) === mipBit && mipBit !== 0) {
      this.#mipExt = level ? this.#mipExt | mipBit : this.#mipExt & ~mipBit;
    } else {
      throw new RangeError(`setIrqLine: mip bit mask 0x${mipBit.toString(16)} is not a wire`);
    }
    this.#irqCheck = true;
    if (this.waiting && (this.#mip() & this.#mie) !== 0) this.waiting = false;
  }

  /** Reads a CSR without privilege checks (debuggers, the VMM). Throws for unknown CSRs. */
  readCsr(num: number): bigint {
    this.#runCount = 0;
    if (!this.#csrRead(num, true)) {
      throw new RangeError(`CSR 0x${num.toString(16)} does not exist on this hart`);
    }
    return alu.bigU(this.#csrLo, this.#csrHi);
  }

  /** Writes a CSR without privilege checks (WARL rules apply). Throws for unknown CSRs. */
  writeCsr(num: number, value: bigint): void {
    const v = BigInt.asUintN(64, value);
    this.#runCount = -1;
    if (
      !this.#csrRead(num, true) ||
      !this.#csrWrite(num, Number(v & 0xffffffffn) | 0, Number(v >> 32n) | 0)
    ) {
      throw new RangeError(`CSR 0x${num.toString(16)} does not exist or is read-only`);
    }
    this.#irqCheck = true;
  }

  /** Captures the architectural state. */
  snapshot(): HartState {
    const csrs: number[][] = [];
    for (let i = 0; i < CSR_STORE; i++) {
      const lo = this.#csr[i * 2];
      const hi = this.#csr[i * 2 + 1];
      if (lo !== 0 || hi !== 0) csrs.push([i, lo, hi]);
    }
    return {
      version: 1,
      pc: this.pc,
      priv: this.priv,
      xl: Array.from(this.xl.subarray(0, 32)),
      xh: Array.from(this.xh.subarray(0, 32)),
      instret: this.instret,
      mstatus: this.#ms,
      mipSw: this.#mipSw,
      mipExt: this.#mipExt,
      mie: this.#mie,
      mideleg: this.#mideleg,
      medeleg: this.#medeleg,
      counters: [this.#cycleOffset, this.#instretOffset, this.#cycleFrozen, this.#instretFrozen],
      csrs,
      waiting: this.waiting,
      halted: this.halted,
      fpr: Array.from(this.fp.words),
      fcsr: (this.fp.frm << 5) | this.fp.fflags,
    };
  }

  /** Restores a state captured by {@linkcode Hart.snapshot}. */
  restore(state: HartState): void {
    if (state.version !== 1 || state.xl.length !== 32 || state.xh.length !== 32) {
      throw new TypeError("Hart.restore: not a version-1 hart snapshot with 32 registers");
    }
    this.xl.fill(0);
    this.xh.fill(0);
    this.xl.set(state.xl);
    this.xh.set(state.xh);
    this.xl[0] = this.xh[0] = 0;
    this.pc = state.pc;
    this.priv = state.priv;
    this.instret = state.instret;
    this.#ms = state.mstatus;
    this.#mipSw = state.mipSw;
    this.#mipExt = state.mipExt;
    this.#mie = state.mie;
    this.#mideleg = state.mideleg;
    this.#medeleg = state.medeleg;
    [this.#cycleOffset, this.#instretOffset, this.#cycleFrozen, this.#instretFrozen] =
      state.counters;
    this.#csr.fill(0);
    for (const [i, lo, hi] of state.csrs) {
      this.#csr[i * 2] = lo;
      this.#csr[i * 2 + 1] = hi;
    }
    const satpHi = this.#csr[Csr.satp * 2 + 1];
    this.#satpMode = satpHi >>> 28;
    this.#satpPpn = (satpHi & 0xfff) * TWO32 + (this.#csr[Csr.satp * 2] >>> 0);
    this.waiting = state.waiting;
    this.halted = state.halted;
    this.fp.words.fill(0);
    if (state.fpr !== undefined) this.fp.words.set(state.fpr.slice(0, 64));
    this.fp.fflags = (state.fcsr ?? 0) & 31;
    this.fp.frm = ((state.fcsr ?? 0) >> 5) & 7;
    this.#syncFs();
    this.#resValid = false;
    this.#irqCheck = true;
    this.flushCaches();
  }

  // ---------------------------------------------------------------- the interpreter

  /**
   * Executes at most `budget` instructions and returns why it stopped (a {@linkcode StopReason}).
   * Taking an interrupt costs no budget; an instruction that traps does.
   */
  run(budget: number): number {
    this.lastRunInstructions = 0;
    if (this.halted) return StopReason.Halted;
    this.#syncCaches();
    if (lastRunner !== this) {
      lastRunner = this;
      this.#resValid = false;
    }
    if (this.waiting) {
      if ((this.#mip() & this.#mie) === 0) return StopReason.Wfi;
      this.waiting = false;
    }
    this.#stop = -1;
    this.#irqCheck = true;
    this.#exc = 0;
    this.#runCount = 0;
    this.#running = true;
    const xl = this.xl;
    const xh = this.xh;
    const rTag = this.#rTag;
    const rPage = this.#rPage;
    const wTag = this.#wTag;
    const wPage = this.#wPage;
    const wcTag = this.#wcTag;
    const wcPage = this.#wcPage;
    const fTag = this.#fTag;
    const fPage = this.#fPage;
    const jst = this.#jitStatus;
    const blockExits = this.stats.blockExits;
    const jit = this.#jit;
    const jitThreshold = this.#jitThreshold;
    let pc = this.pc;
    let n = 0;
    let inBlocks = 0;
    outer: while (n < budget) {
      if (this.#irqCheck) {
        this.#irqCheck = false;
        this.pc = pc;
        this.#runCount = n;
        if (this.#checkInterrupts()) pc = this.pc;
      }
      if ((pc & 1) !== 0) {
        // Only reachable when a caller sets an odd pc: xRET and jumps keep pc even.
        this.pc = pc;
        this.#runCount = n;
        this.#trapNum(Cause.InstructionMisaligned, pc);
        pc = this.pc;
        n++;
        continue;
      }
      const fi = (pc >>> 12) & 255;
      let off = pc & 4095;
      const base = pc - off;
      let page = fPage[fi];
      if (fTag[fi] !== base) {
        this.pc = pc;
        this.#runCount = n;
        const p = this.#fetchPage(pc);
        if (p === null) {
          pc = this.pc;
          n++;
          if (this.#stop >= 0) break;
          continue;
        }
        page = p;
      }
      const ops = page.ops;
      const imms = page.imms;
      let blocks = page.blocks;
      let blockLengths = page.blockLengths;
      const heat = page.heat;
      for (;;) {
        const slot = off >> 1;
        const block = blocks[slot];
        if (block !== null && n + blockLengths[slot] <= budget) {
          off = block(base, off, budget - n);
          const done = jst[0];
          blockExits[jst[1]]++;
          n += done;
          inBlocks += done;
          if (off < 0 || off >= 4096 || n >= budget) break;
          // A block that executed nothing stopped before its first instruction (a TLB miss):
          // the interpreter takes that instruction.
          if (done !== 0) continue;
        }
        let w = ops[slot];
        if (w === 0) w = this.#decodeSlot(page, off);
        else if (jit && ++heat[slot] === jitThreshold) {
          this.#compile(page, off);
          blocks = page.blocks; // the page's first block allocates its tables
          blockLengths = page.blockLengths;
        }
        let imm = imms[slot];
        n++;
        dispatch: for (;;) {
          switch (w & 255) {
            // BEGIN GENERATED by bin/gen_ops.ts from lib/hw/riscv/int_ops.ts: do not edit.
            // Edit the op table (or the generator) and run `deno task gen`; a test fails when this
            // region is stale. The case labels are literal op numbers (names in comments): V8 compiles
            // a switch over literal labels to a jump table, one over `Op.X` labels to a comparison chain.
            case 1 /* Op.LUI */: {
              const rd = (w >> 8) & 63;
              xl[rd] = imm;
              xh[rd] = imm >> 31;
              off += w >>> 26;
              break;
            }
            case 2 /* Op.AUIPC */: {
              const rd = (w >> 8) & 63;
              const v = (base + off) + imm;
              xl[rd] = v | 0;
              xh[rd] = Math.floor(v / 4294967296) | 0;
              off += w >>> 26;
              break;
            }
            case 3 /* Op.JAL */: {
              const rd = (w >> 8) & 63;
              const v = base + off + (w >>> 26);
              xl[rd] = v | 0;
              xh[rd] = Math.floor(v / 4294967296) | 0;
              const t = off + imm;
              if (t >= 0 && t < 4096) off = t;
              else {
                pc = base + t;
                continue outer;
              }
              break;
            }
            case 4 /* Op.JALR */: {
              const rd = (w >> 8) & 63;
              const r1 = (w >> 14) & 63;
              let t = xh[r1] * 4294967296 + (xl[r1] >>> 0) + imm;
              t -= t & 1;
              const v = base + off + (w >>> 26);
              xl[rd] = v | 0;
              xh[rd] = Math.floor(v / 4294967296) | 0;
              const d = t - base;
              if (d >= 0 && d < 4096) off = d;
              else {
                pc = t;
                continue outer;
              }
              break;
            }
            case 5 /* Op.BEQ */: {
              const r1 = (w >> 14) & 63;
              const r2 = (w >> 20) & 63;
              if (xl[r1] === xl[r2] && xh[r1] === xh[r2]) {
                const t = off + imm;
                if (t >= 0 && t < 4096) off = t;
                else {
                  pc = base + t;
                  continue outer;
                }
              } else off += w >>> 26;
              break;
            }
            case 6 /* Op.BNE */: {
              const r1 = (w >> 14) & 63;
              const r2 = (w >> 20) & 63;
              if (xl[r1] !== xl[r2] || xh[r1] !== xh[r2]) {
                const t = off + imm;
                if (t >= 0 && t < 4096) off = t;
                else {
                  pc = base + t;
                  continue outer;
                }
              } else off += w >>> 26;
              break;
            }
            case 7 /* Op.BLT */: {
              const r1 = (w >> 14) & 63;
              const r2 = (w >> 20) & 63;
              if (xh[r1] < xh[r2] || (xh[r1] === xh[r2] && (xl[r1] >>> 0) < (xl[r2] >>> 0))) {
                const t = off + imm;
                if (t >= 0 && t < 4096) off = t;
                else {
                  pc = base + t;
                  continue outer;
                }
              } else off += w >>> 26;
              break;
            }
            case 8 /* Op.BGE */: {
              const r1 = (w >> 14) & 63;
              const r2 = (w >> 20) & 63;
              if (!(xh[r1] < xh[r2] || (xh[r1] === xh[r2] && (xl[r1] >>> 0) < (xl[r2] >>> 0)))) {
                const t = off + imm;
                if (t >= 0 && t < 4096) off = t;
                else {
                  pc = base + t;
                  continue outer;
                }
              } else off += w >>> 26;
              break;
            }
            case 9 /* Op.BLTU */: {
              const r1 = (w >> 14) & 63;
              const r2 = (w >> 20) & 63;
              if (
                (xh[r1] >>> 0) < (xh[r2] >>> 0) ||
                (xh[r1] === xh[r2] && (xl[r1] >>> 0) < (xl[r2] >>> 0))
              ) {
                const t = off + imm;
                if (t >= 0 && t < 4096) off = t;
                else {
                  pc = base + t;
                  continue outer;
                }
              } else off += w >>> 26;
              break;
            }
            case 10 /* Op.BGEU */: {
              const r1 = (w >> 14) & 63;
              const r2 = (w >> 20) & 63;
              if (
                !((xh[r1] >>> 0) < (xh[r2] >>> 0) ||
                  (xh[r1] === xh[r2] && (xl[r1] >>> 0) < (xl[r2] >>> 0)))
              ) {
                const t = off + imm;
                if (t >= 0 && t < 4096) off = t;
                else {
                  pc = base + t;
                  continue outer;
                }
              } else off += w >>> 26;
              break;
            }
            case 11 /* Op.LB */: {
              const r1 = (w >> 14) & 63;
              const a = xh[r1] * 4294967296 + (xl[r1] >>> 0) + imm;
              const ti = (a >>> 12) & 255;
              const po = a & 4095;
              if (rTag[ti] === a - po && po <= 4095) {
                const p = rPage[ti];
                const rd = (w >> 8) & 63;
                const v = p.getInt8(po);
                xl[rd] = v;
                xh[rd] = v >> 31;
                off += w >>> 26;
                break;
              }
              this.pc = base + off;
              this.#runCount = n - 1;
              if (this.#load(w, imm)) pc = base + off + (w >>> 26);
              else {
                pc = this.pc;
                if (this.#stop >= 0) break outer;
              }
              continue outer;
            }
            case 12 /* Op.LH */: {
              const r1 = (w >> 14) & 63;
              const a = xh[r1] * 4294967296 + (xl[r1] >>> 0) + imm;
              const ti = (a >>> 12) & 255;
              const po = a & 4095;
              if (rTag[ti] === a - po && po <= 4094) {
                const p = rPage[ti];
                const rd = (w >> 8) & 63;
                const v = p.getInt16(po, true);
                xl[rd] = v;
                xh[rd] = v >> 31;
                off += w >>> 26;
                break;
              }
              this.pc = base + off;
              this.#runCount = n - 1;
              if (this.#load(w, imm)) pc = base + off + (w >>> 26);
              else {
                pc = this.pc;
                if (this.#stop >= 0) break outer;
              }
              continue outer;
            }
            case 13 /* Op.LW */: {
              const r1 = (w >> 14) & 63;
              const a = xh[r1] * 4294967296 + (xl[r1] >>> 0) + imm;
              const ti = (a >>> 12) & 255;
              const po = a & 4095;
              if (rTag[ti] === a - po && po <= 4092) {
                const p = rPage[ti];
                const rd = (w >> 8) & 63;
                const v = p.getInt32(po, true);
                xl[rd] = v;
                xh[rd] = v >> 31;
                off += w >>> 26;
                break;
              }
              this.pc = base + off;
              this.#runCount = n - 1;
              if (this.#load(w, imm)) pc = base + off + (w >>> 26);
              else {
                pc = this.pc;
                if (this.#stop >= 0) break outer;
              }
              continue outer;
            }
            case 14 /* Op.LD */: {
              const r1 = (w >> 14) & 63;
              const a = xh[r1] * 4294967296 + (xl[r1] >>> 0) + imm;
              const ti = (a >>> 12) & 255;
              const po = a & 4095;
              if (rTag[ti] === a - po && po <= 4088) {
                const p = rPage[ti];
                const rd = (w >> 8) & 63;
                xl[rd] = p.getInt32(po, true);
                xh[rd] = p.getInt32(po + 4, true);
                off += w >>> 26;
                break;
              }
              this.pc = base + off;
              this.#runCount = n - 1;
              if (this.#load(w, imm)) pc = base + off + (w >>> 26);
              else {
                pc = this.pc;
                if (this.#stop >= 0) break outer;
              }
              continue outer;
            }
            case 15 /* Op.LBU */: {
              const r1 = (w >> 14) & 63;
              const a = xh[r1] * 4294967296 + (xl[r1] >>> 0) + imm;
              const ti = (a >>> 12) & 255;
              const po = a & 4095;
              if (rTag[ti] === a - po && po <= 4095) {
                const p = rPage[ti];
                const rd = (w >> 8) & 63;
                xl[rd] = p.getUint8(po);
                xh[rd] = 0;
                off += w >>> 26;
                break;
              }
              this.pc = base + off;
              this.#runCount = n - 1;
              if (this.#load(w, imm)) pc = base + off + (w >>> 26);
              else {
                pc = this.pc;
                if (this.#stop >= 0) break outer;
              }
              continue outer;
            }
            case 16 /* Op.LHU */: {
              const r1 = (w >> 14) & 63;
              const a = xh[r1] * 4294967296 + (xl[r1] >>> 0) + imm;
              const ti = (a >>> 12) & 255;
              const po = a & 4095;
              if (rTag[ti] === a - po && po <= 4094) {
                const p = rPage[ti];
                const rd = (w >> 8) & 63;
                xl[rd] = p.getUint16(po, true);
                xh[rd] = 0;
                off += w >>> 26;
                break;
              }
              this.pc = base + off;
              this.#runCount = n - 1;
              if (this.#load(w, imm)) pc = base + off + (w >>> 26);
              else {
                pc = this.pc;
                if (this.#stop >= 0) break outer;
              }
              continue outer;
            }
            case 17 /* Op.LWU */: {
              const r1 = (w >> 14) & 63;
              const a = xh[r1] * 4294967296 + (xl[r1] >>> 0) + imm;
              const ti = (a >>> 12) & 255;
              const po = a & 4095;
              if (rTag[ti] === a - po && po <= 4092) {
                const p = rPage[ti];
                const rd = (w >> 8) & 63;
                xl[rd] = p.getInt32(po, true);
                xh[rd] = 0;
                off += w >>> 26;
                break;
              }
              this.pc = base + off;
              this.#runCount = n - 1;
              if (this.#load(w, imm)) pc = base + off + (w >>> 26);
              else {
                pc = this.pc;
                if (this.#stop >= 0) break outer;
              }
              continue outer;
            }
            case 18 /* Op.SB */: {
              const r1 = (w >> 14) & 63;
              const a = xh[r1] * 4294967296 + (xl[r1] >>> 0) + imm;
              const ti = (a >>> 12) & 255;
              const po = a & 4095;
              if (po <= 4095) {
                let p: DataView | undefined;
                if (wTag[ti] === a - po) p = wPage[ti];
                else if (wcTag[ti] === a - po) p = codeStore(wcPage[ti], po, 1);
                if (p !== undefined) {
                  const r2 = (w >> 20) & 63;
                  p.setInt8(po, xl[r2]);
                  off += w >>> 26;
                  break;
                }
              }
              this.pc = base + off;
              this.#runCount = n - 1;
              if (this.#store(w, imm)) pc = base + off + (w >>> 26);
              else {
                pc = this.pc;
                if (this.#stop >= 0) break outer;
              }
              continue outer;
            }
            case 19 /* Op.SH */: {
              const r1 = (w >> 14) & 63;
              const a = xh[r1] * 4294967296 + (xl[r1] >>> 0) + imm;
              const ti = (a >>> 12) & 255;
              const po = a & 4095;
              if (po <= 4094) {
                let p: DataView | undefined;
                if (wTag[ti] === a - po) p = wPage[ti];
                else if (wcTag[ti] === a - po) p = codeStore(wcPage[ti], po, 2);
                if (p !== undefined) {
                  const r2 = (w >> 20) & 63;
                  p.setInt16(po, xl[r2], true);
                  off += w >>> 26;
                  break;
                }
              }
              this.pc = base + off;
              this.#runCount = n - 1;
              if (this.#store(w, imm)) pc = base + off + (w >>> 26);
              else {
                pc = this.pc;
                if (this.#stop >= 0) break outer;
              }
              continue outer;
            }
            case 20 /* Op.SW */: {
              const r1 = (w >> 14) & 63;
              const a = xh[r1] * 4294967296 + (xl[r1] >>> 0) + imm;
              const ti = (a >>> 12) & 255;
              const po = a & 4095;
              if (po <= 4092) {
                let p: DataView | undefined;
                if (wTag[ti] === a - po) p = wPage[ti];
                else if (wcTag[ti] === a - po) p = codeStore(wcPage[ti], po, 4);
                if (p !== undefined) {
                  const r2 = (w >> 20) & 63;
                  p.setInt32(po, xl[r2], true);
                  off += w >>> 26;
                  break;
                }
              }
              this.pc = base + off;
              this.#runCount = n - 1;
              if (this.#store(w, imm)) pc = base + off + (w >>> 26);
              else {
                pc = this.pc;
                if (this.#stop >= 0) break outer;
              }
              continue outer;
            }
            case 21 /* Op.SD */: {
              const r1 = (w >> 14) & 63;
              const a = xh[r1] * 4294967296 + (xl[r1] >>> 0) + imm;
              const ti = (a >>> 12) & 255;
              const po = a & 4095;
              if (po <= 4088) {
                let p: DataView | undefined;
                if (wTag[ti] === a - po) p = wPage[ti];
                else if (wcTag[ti] === a - po) p = codeStore(wcPage[ti], po, 8);
                if (p !== undefined) {
                  const r2 = (w >> 20) & 63;
                  p.setInt32(po, xl[r2], true);
                  p.setInt32(po + 4, xh[r2], true);
                  off += w >>> 26;
                  break;
                }
              }
              this.pc = base + off;
              this.#runCount = n - 1;
              if (this.#store(w, imm)) pc = base + off + (w >>> 26);
              else {
                pc = this.pc;
                if (this.#stop >= 0) break outer;
              }
              continue outer;
            }
            case 22 /* Op.ADDI */: {
              const rd = (w >> 8) & 63;
              const r1 = (w >> 14) & 63;
              const a = xl[r1];
              xh[rd] = (xh[r1] + (imm >> 31) + ((a >>> 0) + (imm >>> 0) > 4294967295 ? 1 : 0)) | 0;
              xl[rd] = (a + imm) | 0;
              off += w >>> 26;
              break;
            }
            case 23 /* Op.SLTI */: {
              const rd = (w >> 8) & 63;
              const r1 = (w >> 14) & 63;
              xl[rd] =
                xh[r1] < (imm >> 31) || (xh[r1] === (imm >> 31) && (xl[r1] >>> 0) < (imm >>> 0))
                  ? 1
                  : 0;
              xh[rd] = 0;
              off += w >>> 26;
              break;
            }
            case 24 /* Op.SLTIU */: {
              const rd = (w >> 8) & 63;
              const r1 = (w >> 14) & 63;
              xl[rd] = (xh[r1] >>> 0) < ((imm >> 31) >>> 0) ||
                  (xh[r1] === (imm >> 31) && (xl[r1] >>> 0) < (imm >>> 0))
                ? 1
                : 0;
              xh[rd] = 0;
              off += w >>> 26;
              break;
            }
            case 25 /* Op.XORI */: {
              const rd = (w >> 8) & 63;
              const r1 = (w >> 14) & 63;
              xh[rd] = xh[r1] ^ (imm >> 31);
              xl[rd] = xl[r1] ^ imm;
              off += w >>> 26;
              break;
            }
            case 26 /* Op.ORI */: {
              const rd = (w >> 8) & 63;
              const r1 = (w >> 14) & 63;
              xh[rd] = xh[r1] | (imm >> 31);
              xl[rd] = xl[r1] | imm;
              off += w >>> 26;
              break;
            }
            case 27 /* Op.ANDI */: {
              const rd = (w >> 8) & 63;
              const r1 = (w >> 14) & 63;
              xh[rd] = xh[r1] & (imm >> 31);
              xl[rd] = xl[r1] & imm;
              off += w >>> 26;
              break;
            }
            case 28 /* Op.SLLI */: {
              const rd = (w >> 8) & 63;
              const r1 = (w >> 14) & 63;
              if (imm === 0) {
                xl[rd] = xl[r1];
                xh[rd] = xh[r1];
              } else if (imm < 32) {
                const l = xl[r1], h = xh[r1];
                xh[rd] = (h << imm) | (l >>> (32 - imm));
                xl[rd] = l << imm;
              } else {
                xh[rd] = xl[r1] << imm;
                xl[rd] = 0;
              }
              off += w >>> 26;
              break;
            }
            case 29 /* Op.SRLI */: {
              const rd = (w >> 8) & 63;
              const r1 = (w >> 14) & 63;
              if (imm === 0) {
                xl[rd] = xl[r1];
                xh[rd] = xh[r1];
              } else if (imm < 32) {
                const l = xl[r1], h = xh[r1];
                xl[rd] = (l >>> imm) | (h << (32 - imm));
                xh[rd] = (h >>> imm) | 0;
              } else {
                xl[rd] = (xh[r1] >>> imm) | 0;
                xh[rd] = 0;
              }
              off += w >>> 26;
              break;
            }
            case 30 /* Op.SRAI */: {
              const rd = (w >> 8) & 63;
              const r1 = (w >> 14) & 63;
              if (imm === 0) {
                xl[rd] = xl[r1];
                xh[rd] = xh[r1];
              } else if (imm < 32) {
                const l = xl[r1], h = xh[r1];
                xl[rd] = (l >>> imm) | (h << (32 - imm));
                xh[rd] = h >> imm;
              } else {
                xl[rd] = xh[r1] >> imm;
                xh[rd] = xh[r1] >> 31;
              }
              off += w >>> 26;
              break;
            }
            case 31 /* Op.ADD */: {
              const rd = (w >> 8) & 63;
              const r1 = (w >> 14) & 63;
              const r2 = (w >> 20) & 63;
              const u = (xl[r1] >>> 0) + (xl[r2] >>> 0);
              xh[rd] = (xh[r1] + xh[r2] + (u > 4294967295 ? 1 : 0)) | 0;
              xl[rd] = u | 0;
              off += w >>> 26;
              break;
            }
            case 32 /* Op.SUB */: {
              const rd = (w >> 8) & 63;
              const r1 = (w >> 14) & 63;
              const r2 = (w >> 20) & 63;
              const u = (xl[r1] >>> 0) - (xl[r2] >>> 0);
              xh[rd] = (xh[r1] - xh[r2] - (u < 0 ? 1 : 0)) | 0;
              xl[rd] = u | 0;
              off += w >>> 26;
              break;
            }
            case 33 /* Op.SLL */: {
              const rd = (w >> 8) & 63;
              const r1 = (w >> 14) & 63;
              const r2 = (w >> 20) & 63;
              const l = xl[r1], h = xh[r1], s = xl[r2] & 63;
              if (s === 0) {
                xl[rd] = l;
                xh[rd] = h;
              } else if (s < 32) {
                xh[rd] = (h << s) | (l >>> (32 - s));
                xl[rd] = l << s;
              } else {
                xh[rd] = l << s;
                xl[rd] = 0;
              }
              off += w >>> 26;
              break;
            }
            case 34 /* Op.SLT */: {
              const rd = (w >> 8) & 63;
              const r1 = (w >> 14) & 63;
              const r2 = (w >> 20) & 63;
              xl[rd] = xh[r1] < xh[r2] || (xh[r1] === xh[r2] && (xl[r1] >>> 0) < (xl[r2] >>> 0))
                ? 1
                : 0;
              xh[rd] = 0;
              off += w >>> 26;
              break;
            }
            case 35 /* Op.SLTU */: {
              const rd = (w >> 8) & 63;
              const r1 = (w >> 14) & 63;
              const r2 = (w >> 20) & 63;
              xl[rd] = (xh[r1] >>> 0) < (xh[r2] >>> 0) ||
                  (xh[r1] === xh[r2] && (xl[r1] >>> 0) < (xl[r2] >>> 0))
                ? 1
                : 0;
              xh[rd] = 0;
              off += w >>> 26;
              break;
            }
            case 36 /* Op.XOR */: {
              const rd = (w >> 8) & 63;
              const r1 = (w >> 14) & 63;
              const r2 = (w >> 20) & 63;
              xl[rd] = xl[r1] ^ xl[r2];
              xh[rd] = xh[r1] ^ xh[r2];
              off += w >>> 26;
              break;
            }
            case 37 /* Op.SRL */: {
              const rd = (w >> 8) & 63;
              const r1 = (w >> 14) & 63;
              const r2 = (w >> 20) & 63;
              const l = xl[r1], h = xh[r1], s = xl[r2] & 63;
              if (s === 0) {
                xl[rd] = l;
                xh[rd] = h;
              } else if (s < 32) {
                xl[rd] = (l >>> s) | (h << (32 - s));
                xh[rd] = (h >>> s) | 0;
              } else {
                xl[rd] = (h >>> s) | 0;
                xh[rd] = 0;
              }
              off += w >>> 26;
              break;
            }
            case 38 /* Op.SRA */: {
              const rd = (w >> 8) & 63;
              const r1 = (w >> 14) & 63;
              const r2 = (w >> 20) & 63;
              const l = xl[r1], h = xh[r1], s = xl[r2] & 63;
              if (s === 0) {
                xl[rd] = l;
                xh[rd] = h;
              } else if (s < 32) {
                xl[rd] = (l >>> s) | (h << (32 - s));
                xh[rd] = h >> s;
              } else {
                xl[rd] = h >> s;
                xh[rd] = h >> 31;
              }
              off += w >>> 26;
              break;
            }
            case 39 /* Op.OR */: {
              const rd = (w >> 8) & 63;
              const r1 = (w >> 14) & 63;
              const r2 = (w >> 20) & 63;
              xl[rd] = xl[r1] | xl[r2];
              xh[rd] = xh[r1] | xh[r2];
              off += w >>> 26;
              break;
            }
            case 40 /* Op.AND */: {
              const rd = (w >> 8) & 63;
              const r1 = (w >> 14) & 63;
              const r2 = (w >> 20) & 63;
              xl[rd] = xl[r1] & xl[r2];
              xh[rd] = xh[r1] & xh[r2];
              off += w >>> 26;
              break;
            }
            case 41 /* Op.ADDIW */: {
              const rd = (w >> 8) & 63;
              const r1 = (w >> 14) & 63;
              const v = (xl[r1] + imm) | 0;
              xl[rd] = v;
              xh[rd] = v >> 31;
              off += w >>> 26;
              break;
            }
            case 42 /* Op.SLLIW */: {
              const rd = (w >> 8) & 63;
              const r1 = (w >> 14) & 63;
              const v = xl[r1] << imm;
              xl[rd] = v;
              xh[rd] = v >> 31;
              off += w >>> 26;
              break;
            }
            case 43 /* Op.SRLIW */: {
              const rd = (w >> 8) & 63;
              const r1 = (w >> 14) & 63;
              const v = (xl[r1] >>> imm) | 0;
              xl[rd] = v;
              xh[rd] = v >> 31;
              off += w >>> 26;
              break;
            }
            case 44 /* Op.SRAIW */: {
              const rd = (w >> 8) & 63;
              const r1 = (w >> 14) & 63;
              const v = xl[r1] >> imm;
              xl[rd] = v;
              xh[rd] = v >> 31;
              off += w >>> 26;
              break;
            }
            case 45 /* Op.ADDW */: {
              const rd = (w >> 8) & 63;
              const r1 = (w >> 14) & 63;
              const r2 = (w >> 20) & 63;
              const v = (xl[r1] + xl[r2]) | 0;
              xl[rd] = v;
              xh[rd] = v >> 31;
              off += w >>> 26;
              break;
            }
            case 46 /* Op.SUBW */: {
              const rd = (w >> 8) & 63;
              const r1 = (w >> 14) & 63;
              const r2 = (w >> 20) & 63;
              const v = (xl[r1] - xl[r2]) | 0;
              xl[rd] = v;
              xh[rd] = v >> 31;
              off += w >>> 26;
              break;
            }
            case 47 /* Op.SLLW */: {
              const rd = (w >> 8) & 63;
              const r1 = (w >> 14) & 63;
              const r2 = (w >> 20) & 63;
              const v = xl[r1] << (xl[r2] & 31);
              xl[rd] = v;
              xh[rd] = v >> 31;
              off += w >>> 26;
              break;
            }
            case 48 /* Op.SRLW */: {
              const rd = (w >> 8) & 63;
              const r1 = (w >> 14) & 63;
              const r2 = (w >> 20) & 63;
              const v = (xl[r1] >>> (xl[r2] & 31)) | 0;
              xl[rd] = v;
              xh[rd] = v >> 31;
              off += w >>> 26;
              break;
            }
            case 49 /* Op.SRAW */: {
              const rd = (w >> 8) & 63;
              const r1 = (w >> 14) & 63;
              const r2 = (w >> 20) & 63;
              const v = xl[r1] >> (xl[r2] & 31);
              xl[rd] = v;
              xh[rd] = v >> 31;
              off += w >>> 26;
              break;
            }
            case 50 /* Op.MUL */: {
              const rd = (w >> 8) & 63;
              const r1 = (w >> 14) & 63;
              const r2 = (w >> 20) & 63;
              alu.mul(xl[r1], xh[r1], xl[r2], xh[r2]);
              xl[rd] = alu.aluOut[0];
              xh[rd] = alu.aluOut[1];
              off += w >>> 26;
              break;
            }
            case 51 /* Op.MULH */: {
              const rd = (w >> 8) & 63;
              const r1 = (w >> 14) & 63;
              const r2 = (w >> 20) & 63;
              alu.mulh(xl[r1], xh[r1], xl[r2], xh[r2]);
              xl[rd] = alu.aluOut[0];
              xh[rd] = alu.aluOut[1];
              off += w >>> 26;
              break;
            }
            case 52 /* Op.MULHSU */: {
              const rd = (w >> 8) & 63;
              const r1 = (w >> 14) & 63;
              const r2 = (w >> 20) & 63;
              alu.mulhsu(xl[r1], xh[r1], xl[r2], xh[r2]);
              xl[rd] = alu.aluOut[0];
              xh[rd] = alu.aluOut[1];
              off += w >>> 26;
              break;
            }
            case 53 /* Op.MULHU */: {
              const rd = (w >> 8) & 63;
              const r1 = (w >> 14) & 63;
              const r2 = (w >> 20) & 63;
              alu.mulhu(xl[r1], xh[r1], xl[r2], xh[r2]);
              xl[rd] = alu.aluOut[0];
              xh[rd] = alu.aluOut[1];
              off += w >>> 26;
              break;
            }
            case 54 /* Op.DIV */: {
              const rd = (w >> 8) & 63;
              const r1 = (w >> 14) & 63;
              const r2 = (w >> 20) & 63;
              alu.div(xl[r1], xh[r1], xl[r2], xh[r2]);
              xl[rd] = alu.aluOut[0];
              xh[rd] = alu.aluOut[1];
              off += w >>> 26;
              break;
            }
            case 55 /* Op.DIVU */: {
              const rd = (w >> 8) & 63;
              const r1 = (w >> 14) & 63;
              const r2 = (w >> 20) & 63;
              alu.divu(xl[r1], xh[r1], xl[r2], xh[r2]);
              xl[rd] = alu.aluOut[0];
              xh[rd] = alu.aluOut[1];
              off += w >>> 26;
              break;
            }
            case 56 /* Op.REM */: {
              const rd = (w >> 8) & 63;
              const r1 = (w >> 14) & 63;
              const r2 = (w >> 20) & 63;
              alu.rem(xl[r1], xh[r1], xl[r2], xh[r2]);
              xl[rd] = alu.aluOut[0];
              xh[rd] = alu.aluOut[1];
              off += w >>> 26;
              break;
            }
            case 57 /* Op.REMU */: {
              const rd = (w >> 8) & 63;
              const r1 = (w >> 14) & 63;
              const r2 = (w >> 20) & 63;
              alu.remu(xl[r1], xh[r1], xl[r2], xh[r2]);
              xl[rd] = alu.aluOut[0];
              xh[rd] = alu.aluOut[1];
              off += w >>> 26;
              break;
            }
            case 58 /* Op.MULW */: {
              const rd = (w >> 8) & 63;
              const r1 = (w >> 14) & 63;
              const r2 = (w >> 20) & 63;
              const v = Math.imul(xl[r1], xl[r2]);
              xl[rd] = v;
              xh[rd] = v >> 31;
              off += w >>> 26;
              break;
            }
            case 59 /* Op.DIVW */: {
              const rd = (w >> 8) & 63;
              const r1 = (w >> 14) & 63;
              const r2 = (w >> 20) & 63;
              const a = xl[r1], b = xl[r2];
              const v = b === 0 ? -1 : (a / b) | 0;
              xl[rd] = v;
              xh[rd] = v >> 31;
              off += w >>> 26;
              break;
            }
            case 60 /* Op.DIVUW */: {
              const rd = (w >> 8) & 63;
              const r1 = (w >> 14) & 63;
              const r2 = (w >> 20) & 63;
              const a = xl[r1], b = xl[r2];
              const v = b === 0 ? -1 : ((a >>> 0) / (b >>> 0)) | 0;
              xl[rd] = v;
              xh[rd] = v >> 31;
              off += w >>> 26;
              break;
            }
            case 61 /* Op.REMW */: {
              const rd = (w >> 8) & 63;
              const r1 = (w >> 14) & 63;
              const r2 = (w >> 20) & 63;
              const a = xl[r1], b = xl[r2];
              const v = b === 0 ? a : (a % b) | 0;
              xl[rd] = v;
              xh[rd] = v >> 31;
              off += w >>> 26;
              break;
            }
            case 62 /* Op.REMUW */: {
              const rd = (w >> 8) & 63;
              const r1 = (w >> 14) & 63;
              const r2 = (w >> 20) & 63;
              const a = xl[r1], b = xl[r2];
              const v = b === 0 ? a : ((a >>> 0) % (b >>> 0)) | 0;
              xl[rd] = v;
              xh[rd] = v >> 31;
              off += w >>> 26;
              break;
            }
            case 63 /* Op.FENCE */: {
              off += w >>> 26;
              break;
            }
            // END GENERATED by bin/gen_ops.ts
            case Op.CROSS: {
              this.pc = base + off;
              this.#runCount = n - 1;
              if (!this.#fetchCross(base + off)) {
                pc = this.pc;
                if (this.#stop >= 0) break outer;
                continue outer;
              }
              w = this.#crossWord;
              imm = this.#crossImm;
              continue dispatch;
            }
            default: {
              const op = w & 255;
              if (op >= BIT_OP_FIRST && op <= BIT_OP_LAST) {
                // Zba/Zbb/Zbs/Zicond: out of the main switch, which stays as small as the
                // integer hot path wants it (the JIT runs hot bit-manipulation code).
                this.#bitmanip(w, imm);
                off += w >>> 26;
                break;
              }
              this.pc = base + off;
              this.#runCount = n - 1;
              if (op >= FP_OP_FIRST && op <= FP_OP_LAST) {
                if (this.#fp(w, imm)) pc = base + off + (w >>> 26);
                else {
                  pc = this.pc;
                  if (this.#stop >= 0) break outer;
                }
                continue outer;
              }
              // Everything else: system, CSR, atomics, illegal. Always leaves the block.
              this.pc = base + off;
              this.#runCount = n - 1;
              this.#system(w, imm);
              pc = this.pc;
              if (this.#stop >= 0) break outer;
              continue outer;
            }
          }
          break;
        }
        if (off >= 4096 || n >= budget) break;
      }
      pc = base + off;
    }
    this.pc = pc;
    if (this.#stop === StopReason.BusError || this.#stop === StopReason.Breakpoint) n--;
    this.lastRunInstructions = n;
    this.blockInstructions += inBlocks;
    this.instret += n - this.#exc;
    this.#exc = 0;
    this.#runCount = 0;
    this.#running = false;
    return this.#stop >= 0 ? this.#stop : StopReason.Budget;
  }

  // ---------------------------------------------------------------- caches

  #flushTlb(): void {
    this.stats.tlbFlushes++;
    this.#rTag.fill(-1);
    this.#wTag.fill(-1);
    this.#wcTag.fill(-1);
    this.#fTag.fill(-1);
  }

  #syncCaches(): void {
    const bus = this.bus;
    if (bus.generation !== this.#busGen) {
      this.#busGen = bus.generation;
      const mems = new Set<SparseMemory>();
      for (const r of bus.regions()) if (r.memory !== undefined) mems.add(r.memory);
      for (const m of this.#memories) m.unwatchReplacements(this);
      this.#memories = [...mems];
      for (const m of this.#memories) m.watchReplacements(this);
      this.#memGen = -1;
    }
    let g = 0;
    for (const m of this.#memories) g += m.generation;
    if (g !== this.#memGen) {
      this.#memGen = g;
      this.flushCaches();
    }
    if (this.#codeGroupGen !== codeGroupGen) {
      // Other harts decoded new pages: stores into them must now go through codeStore.
      this.#codeGroupGen = codeGroupGen;
      const wTag = this.#wTag;
      for (let i = 0; i < TLB_SIZE; i++) {
        const group = wTag[i] === -1 ? undefined : codeGroups.get(this.#wPage[i]);
        if (group !== undefined) {
          this.#wcTag[i] = wTag[i];
          this.#wcPage[i] = group;
          wTag[i] = -1;
        }
      }
    }
  }

  /**
   * Copy-on-write gave a RAM page a private copy (same bytes): cached translations and decoded
   * code that point at the old view follow it to the new one.
   */
  pageReplaced(old: DataView, now: DataView): void {
    const rPage = this.#rPage;
    const wPage = this.#wPage;
    for (let i = 0; i < TLB_SIZE; i++) {
      if (rPage[i] === old) rPage[i] = now;
      if (wPage[i] === old) wPage[i] = now;
    }
    // Store-TLB entries of code pages point at the old page's code group: refill them.
    const wcTag = this.#wcTag;
    const wcPage = this.#wcPage;
    for (let i = 0; i < TLB_SIZE; i++) {
      if (wcTag[i] !== -1 && wcPage[i].view === old) wcTag[i] = -1;
    }
    const code = this.#code.get(old);
    if (code !== undefined) {
      this.#code.delete(old);
      const pages = codeGroups.get(old)?.pages;
      const at = pages === undefined ? -1 : pages.indexOf(code);
      if (at >= 0) pages!.splice(at, 1);
      code.view = now;
      this.#code.set(now, code);
      let group = codeGroups.get(now);
      if (group === undefined) {
        group = new CodeGroup(now);
        codeGroups.set(now, group);
        codeGroupGen++;
      }
      group.pages.push(code);
    }
  }

  /**
   * Pages of a memory became shared copy-on-write: the store TLBs drop their views, so that the
   * next store to each page takes a private copy first. Loads and decoded code stay cached.
   */
  pagesShared(): void {
    this.#wTag.fill(-1);
    this.#wcTag.fill(-1);
  }

  /** The RAM page view for physical address `pa` in region `r` (allocating it if `alloc`). */
  #ramView(r: BusRegion, pa: number, alloc: boolean): DataView | undefined {
    const idx = Math.floor((r.memoryOffset! + pa - r.base) / 4096);
    return alloc ? r.memory!.pageForWrite(idx) : r.memory!.page(idx);
  }

  #decodeSlot(page: DecodedPage, off: number): number {
    const v = page.view;
    const low = v.getUint16(off, true);
    let d;
    if ((low & 3) !== 3) d = decode(low);
    else if (off <= 4092) d = decode(v.getInt32(off, true));
    else {
      page.ops[off >> 1] = Op.CROSS | (32 << 8) | (4 << 26);
      return page.ops[off >> 1];
    }
    page.ops[off >> 1] = d.word;
    page.imms[off >> 1] = d.imm;
    return d.word;
  }

  /** Compiles the block starting at page offset `off` (second tier). */
  #compile(page: DecodedPage, off: number): void {
    if (page.blocks[off >> 1] !== null) return;
    const src = blockSource(
      off,
      (o: number) => page.ops[o >> 1] !== 0 ? page.ops[o >> 1] : this.#decodeSlot(page, o),
      (o: number) => page.imms[o >> 1],
    );
    if (src === null) return;
    if (page.blocks === NO_BLOCKS) {
      page.blocks = new Array<BlockFn | null>(2048).fill(null);
      page.blockLengths = new Uint8Array(2048);
      page.covered = new Uint8Array(2048);
    }
    page.blocks[off >> 1] = compileBlock(src, {
      xl: this.xl,
      xh: this.xh,
      rTag: this.#rTag,
      rPage: this.#rPage,
      wTag: this.#wTag,
      wPage: this.#wPage,
      wcTag: this.#wcTag,
      wcPage: this.#wcPage,
      codeStore,
      st: this.#jitStatus,
      fr: this.fp,
      fs: this.#fsState,
    });
    page.blockLengths[off >> 1] = src.length;
    page.covered.fill(1, off >> 1, Math.min(2048, (src.end + 1) >> 1));
    page.blockCount++;
    this.compiledBlocks++;
    this.stats.compilations++;
  }

  /** Translates the fetch address `pc` to a physical address, or traps (returns -1). */
  #fetchPa(va: number, instrPc: number): number {
    if (this.#satpMode === 8 && this.priv < 3) {
      this.stats.pageWalks++;
      const r = walkSv39(
        this.bus,
        this.#satpPpn,
        va,
        Access.Fetch,
        this.priv,
        false,
        false,
        this.#walk,
      );
      if (r !== WalkResult.Ok) {
        this.pc = instrPc;
        this.#trapNum(
          r === WalkResult.PageFault ? Cause.InstructionPageFault : Cause.InstructionAccessFault,
          va,
        );
        return -1;
      }
      return this.#walk.pa;
    }
    if (va < 0 || va >= PA_LIMIT) {
      // Bare: bit 63 set, or beyond the 56-bit physical address space. No such memory exists
      // on any bus, so this is the guest's own access fault (never a VMM bus error).
      this.pc = instrPc;
      this.#trapNum(Cause.InstructionAccessFault, va);
      return -1;
    }
    return va;
  }

  #fetchPage(pc: number): DecodedPage | null {
    const pa = this.#fetchPa(pc, pc);
    if (pa < 0) return null;
    const r = pa >= 0 && pa < 2 ** 53 ? this.bus.find(pa) : undefined;
    if (r === undefined || r.kind !== "ram") {
      this.#busError(pa, 2, false, true, Cause.InstructionAccessFault, pc, 0);
      return null;
    }
    // Fetching does not write: a page shared copy-on-write stays shared.
    const view = this.#ramView(r, pa, false) ?? this.#ramView(r, pa, true)!;
    let page = this.#code.get(view);
    if (page === undefined) {
      page = new DecodedPage(view);
      this.#code.set(view, page);
      let group = codeGroups.get(view);
      if (group === undefined) {
        group = new CodeGroup(view);
        codeGroups.set(view, group);
        // Other harts' store TLBs must learn it at their next run; this one's is done below.
        if (this.#codeGroupGen === codeGroupGen) this.#codeGroupGen++;
        codeGroupGen++;
      }
      group.pages.push(page);
      // Stores to this page must now invalidate decoded slots: move its write-TLB entries.
      for (let i = 0; i < TLB_SIZE; i++) {
        if (this.#wPage[i] === view && this.#wTag[i] !== -1) {
          this.#wcTag[i] = this.#wTag[i];
          this.#wcPage[i] = group;
          this.#wTag[i] = -1;
        }
      }
    }
    const base = pc - (pc & 4095);
    const fi = (pc >>> 12) & 255;
    this.#fTag[fi] = base;
    this.#fPage[fi] = page;
    return page;
  }

  /** Fetches and decodes a 32-bit instruction that straddles a page boundary. */
  #fetchCross(pc: number): boolean {
    const lowPa = this.#fetchPa(pc, pc);
    if (lowPa < 0) return false;
    const hiVa = pc + 2;
    const hiPa = this.#fetchPa(hiVa, pc);
    if (hiPa < 0) return false;
    const lo = this.bus.find(lowPa);
    const hi = this.bus.find(hiPa);
    if (lo === undefined || lo.kind !== "ram") {
      this.#busError(lowPa, 2, false, true, Cause.InstructionAccessFault, pc, 0);
      return false;
    }
    if (hi === undefined || hi.kind !== "ram") {
      this.#busError(hiPa, 2, false, true, Cause.InstructionAccessFault, hiVa, 0);
      return false;
    }
    const bits = (this.bus.read(lowPa, 2)! | (this.bus.read(hiPa, 2)! << 16)) | 0;
    const d = decode(bits);
    this.#crossWord = d.word;
    this.#crossImm = d.imm;
    return true;
  }

  // ---------------------------------------------------------------- data accesses

  /** Computes rs1 + imm exactly into #eaLo/#eaHi and returns it as a number. */
  #ea(w: number, imm: number): number {
    const r1 = (w >> 14) & 63;
    const al = this.xl[r1];
    this.#eaLo = (al + imm) | 0;
    this.#eaHi = (this.xh[r1] + (imm >> 31) + ((al >>> 0) + (imm >>> 0) > 4294967295 ? 1 : 0)) | 0;
    return this.#eaHi * TWO32 + (this.#eaLo >>> 0);
  }

  /** Effective privilege of loads and stores (MPRV). */
  #dataPriv(): number {
    return this.priv === 3 && (this.#ms & Mstatus.MPRV) !== 0 ? (this.#ms >> 11) & 3 : this.priv;
  }

  /**
   * Translates a data address. Returns the physical address, or -1 after raising a fault, or -2
   * when the address cannot exist physically (reported as unanswered by the caller).
   */
  #dataPa(va: number, store: boolean): number {
    const eff = this.#dataPriv();
    const wild = this.#eaHi < -0x200000 || this.#eaHi >= 0x200000;
    if (this.#satpMode === 8 && eff < 3) {
      this.stats.pageWalks++;
      const r = wild ? WalkResult.PageFault : walkSv39(
        this.bus,
        this.#satpPpn,
        va,
        store ? Access.Store : Access.Load,
        eff,
        (this.#ms & Mstatus.SUM) !== 0,
        (this.#ms & Mstatus.MXR) !== 0,
        this.#walk,
      );
      if (r === WalkResult.Ok) return this.#walk.pa;
      const cause = r === WalkResult.PageFault
        ? (store ? Cause.StorePageFault : Cause.LoadPageFault)
        : (store ? Cause.StoreAccessFault : Cause.LoadAccessFault);
      this.#trap(cause, false, this.#eaLo, this.#eaHi);
      return -1;
    }
    if (wild || va < 0) return -2;
    return va;
  }

  #busError(
    addr: number,
    width: number,
    write: boolean,
    fetch: boolean,
    cause: number,
    tLo: number,
    tHi: number,
  ): void {
    if (this.#exitOnBusError) {
      const e = this.lastBusError;
      e.addr = addr;
      e.width = width;
      e.write = write;
      e.fetch = fetch;
      e.pc = this.pc;
      this.#stop = StopReason.BusError;
      return;
    }
    if (fetch) this.#trapNum(cause, tLo);
    else this.#trap(cause, false, tLo, tHi);
  }

  /** Reads `width` bytes at virtual address `va` (#eaLo/#eaHi hold it) into #csrLo/#csrHi. */
  #readData(va: number, width: number, signed: boolean): boolean {
    const po = va & 4095;
    if (po + width > 4096) {
      // Misaligned across a page: every byte translated, RAM only.
      const pas = this.#crossPas(va, width, false);
      if (pas === null) return false;
      let lo = 0;
      let hi = 0;
      for (let i = 0; i < width; i++) {
        const b = this.bus.read(pas[i], 1)!;
        if (i < 4) lo |= b << (8 * i);
        else hi |= b << (8 * (i - 4));
      }
      this.#setLoaded(lo, hi, width, signed);
      return true;
    }
    const pa = this.#dataPa(va, false);
    if (pa === -1) return false;
    const r = pa === -2 ? undefined : this.bus.find(pa);
    if (r === undefined || pa + width > r.base + r.size) {
      this.#busError(
        pa === -2 ? va : pa,
        width,
        false,
        false,
        Cause.LoadAccessFault,
        this.#eaLo,
        this.#eaHi,
      );
      return false;
    }
    if (r.kind === "ram") {
      const view = this.#ramView(r, pa, false);
      if (view === undefined) {
        this.#setLoaded(0, 0, width, signed);
        return true;
      }
      const ti = (va >>> 12) & 255;
      this.#rTag[ti] = va - po;
      this.#rPage[ti] = view;
      const lo = width === 8 || width === 4
        ? view.getInt32(po, true)
        : width === 2
        ? view.getUint16(po, true)
        : view.getUint8(po);
      this.#setLoaded(lo, width === 8 ? view.getInt32(po + 4, true) : 0, width, signed);
      return true;
    }
    if (pa % width !== 0) {
      this.#trap(Cause.LoadAccessFault, false, this.#eaLo, this.#eaHi);
      return false;
    }
    if (width === 8) {
      this.bus.readPair(pa);
      this.#setLoaded(this.bus.pairLo, this.bus.pairHi, 8, signed);
    } else {
      this.#setLoaded(this.bus.read(pa, width as 1 | 2 | 4)!, 0, width, signed);
    }
    return true;
  }

  #setLoaded(lo: number, hi: number, width: number, signed: boolean): void {
    if (width === 8) {
      this.#csrLo = lo | 0;
      this.#csrHi = hi | 0;
      return;
    }
    const shift = 32 - 8 * width;
    const v = signed
      ? (lo << shift) >> shift
      : shift === 0
      ? lo | 0
      : lo & ((1 << (8 * width)) - 1);
    this.#csrLo = v;
    this.#csrHi = signed ? v >> 31 : 0;
  }

  /** Writes the low `width` bytes of lo/hi at virtual address `va` (#eaLo/#eaHi hold it). */
  #writeData(va: number, width: number, lo: number, hi: number): boolean {
    const po = va & 4095;
    if (po + width > 4096) {
      // Translate every byte first so that a fault leaves memory untouched.
      const pas = this.#crossPas(va, width, true);
      if (pas === null) return false;
      for (let i = 0; i < width; i++) {
        const b = i < 4 ? lo >>> (8 * i) : hi >>> (8 * (i - 4));
        this.#invalidateCodeAt(pas[i]);
        this.bus.write(pas[i], 1, b & 0xff);
      }
      if (this.#watches.length !== 0) {
        for (let i = 0; i < width; i++) this.#fireWatches(pas[i], 1);
      }
      return true;
    }
    const pa = this.#dataPa(va, true);
    if (pa === -1) return false;
    const r = pa === -2 ? undefined : this.bus.find(pa);
    if (r === undefined || pa + width > r.base + r.size) {
      this.#busError(
        pa === -2 ? va : pa,
        width,
        true,
        false,
        Cause.StoreAccessFault,
        this.#eaLo,
        this.#eaHi,
      );
      return false;
    }
    if (r.kind === "ram") {
      const view = this.#ramView(r, pa, true)!;
      const code = codeGroups.get(view);
      const ti = (va >>> 12) & 255;
      const watched = this.#watches.length !== 0 && this.#watchedPage(pa);
      if (code !== undefined) {
        codeStore(code, po, width);
        if (!watched) {
          this.#wcTag[ti] = va - po;
          this.#wcPage[ti] = code;
        }
      } else if (!watched) {
        this.#wTag[ti] = va - po;
        this.#wPage[ti] = view;
      }
      this.#rTag[ti] = va - po;
      this.#rPage[ti] = view;
      if (width === 8) {
        view.setInt32(po, lo, true);
        view.setInt32(po + 4, hi, true);
      } else if (width === 4) view.setInt32(po, lo, true);
      else if (width === 2) view.setInt16(po, lo, true);
      else view.setInt8(po, lo);
      if (watched) this.#fireWatches(pa, width);
      return true;
    }
    if (pa % width !== 0) {
      this.#trap(Cause.StoreAccessFault, false, this.#eaLo, this.#eaHi);
      return false;
    }
    if (width === 8) this.bus.writePair(pa, lo, hi);
    else this.bus.write(pa, width as 1 | 2 | 4, lo);
    this.#irqCheck = true;
    return true;
  }

  /**
   * Physical addresses of the `width` bytes of a page-crossing access at `va`, or null after a
   * fault or a bus error. Misaligned accesses to devices raise access faults.
   */
  #crossPas(va: number, width: number, store: boolean): number[] | null {
    const eaLo = this.#eaLo;
    const eaHi = this.#eaHi;
    const pas: number[] = [];
    for (let i = 0; i < width; i++) {
      const pa = this.#dataPa(va + i, store);
      this.#eaLo = eaLo;
      this.#eaHi = eaHi;
      if (pa === -1) return null;
      const r = pa === -2 ? undefined : this.bus.find(pa);
      const cause = store ? Cause.StoreAccessFault : Cause.LoadAccessFault;
      if (r === undefined) {
        this.#busError(pa === -2 ? va : pa, width, store, false, cause, eaLo, eaHi);
        return null;
      }
      if (r.kind !== "ram") {
        this.#trap(cause, false, eaLo, eaHi);
        return null;
      }
      pas.push(pa);
    }
    return pas;
  }

  #invalidateCodeAt(pa: number): void {
    const r = this.bus.find(pa);
    if (r === undefined || r.kind !== "ram") return;
    const view = this.#ramView(r, pa, false);
    const code = view === undefined ? undefined : codeGroups.get(view);
    if (code !== undefined) codeStore(code, pa & 4095, 1);
  }

  #load(w: number, imm: number): boolean {
    const op = w & 255;
    const va = this.#ea(w, imm);
    const width = op === Op.LD
      ? 8
      : op === Op.LW || op === Op.LWU
      ? 4
      : op === Op.LH || op === Op.LHU
      ? 2
      : 1;
    const signed = op === Op.LB || op === Op.LH || op === Op.LW;
    if (!this.#readData(va, width, signed)) return false;
    const rd = (w >> 8) & 63;
    this.xl[rd] = this.#csrLo;
    this.xh[rd] = this.#csrHi;
    return this.#completed(w);
  }

  /**
   * After a load or store done by the slow path: true to go on, or, when a device or a write
   * watch requested a stop, false with pc after the instruction (the run loop then stops, as it
   * does after a fault, and the fast path pays nothing for the check).
   */
  #completed(w: number): boolean {
    if (this.#stop < 0) return true;
    this.pc += w >>> 26;
    return false;
  }

  #store(w: number, imm: number): boolean {
    const op = w & 255;
    const va = this.#ea(w, imm);
    const width = op === Op.SD ? 8 : op === Op.SW ? 4 : op === Op.SH ? 2 : 1;
    const r2 = (w >> 20) & 63;
    return this.#writeData(va, width, this.xl[r2], this.xh[r2]) && this.#completed(w);
  }

  // ---------------------------------------------------------------- atomics

  #amo(w: number): void {
    const op = w & 255;
    const d = op >= Op.LR_D;
    const width = d ? 8 : 4;
    const va = this.#ea(w, 0);
    const rd = (w >> 8) & 63;
    const r2 = (w >> 20) & 63;
    const isLr = op === Op.LR_W || op === Op.LR_D;
    if ((this.#eaLo & (width - 1)) !== 0) {
      this.#trap(
        isLr ? Cause.LoadMisaligned : Cause.StoreMisaligned,
        false,
        this.#eaLo,
        this.#eaHi,
      );
      return;
    }
    if (isLr) {
      const pa = this.#dataPa(va, false);
      if (pa === -1) return;
      if (!this.#readData(va, width, true)) return;
      this.xl[rd] = this.#csrLo;
      this.xh[rd] = this.#csrHi;
      this.#resValid = true;
      this.#resAddr = pa;
      this.#resWidth = width;
      this.#advance(4);
      return;
    }
    const pa = this.#dataPa(va, true);
    if (pa === -1) return;
    if (op === Op.SC_W || op === Op.SC_D) {
      const ok = this.#resValid && this.#resAddr === pa && this.#resWidth === width;
      this.#resValid = false;
      if (ok) {
        if (!this.#writeData(va, width, this.xl[r2], this.xh[r2])) return;
      }
      this.xl[rd] = ok ? 0 : 1;
      this.xh[rd] = 0;
      this.#advance(4);
      return;
    }
    // Read-modify-write. The store translation above set A/D; now read then write.
    if (!this.#readData(va, width, true)) return;
    const ol = this.#csrLo;
    const oh = this.#csrHi;
    const bl = this.xl[r2];
    const bh = d ? this.xh[r2] : bl >> 31;
    let nl = bl;
    let nh = bh;
    const k = op - (d ? Op.AMOSWAP_D : Op.AMOSWAP_W);
    switch (k) {
      case 1: { // add
        const u = (ol >>> 0) + (bl >>> 0);
        nl = u | 0;
        nh = (oh + bh + (u > 4294967295 ? 1 : 0)) | 0;
        break;
      }
      case 2:
        nl = ol ^ bl;
        nh = oh ^ bh;
        break;
      case 3:
        nl = ol & bl;
        nh = oh & bh;
        break;
      case 4:
        nl = ol | bl;
        nh = oh | bh;
        break;
      case 5:
      case 6:
      case 7:
      case 8: {
        const unsigned = k >= 7;
        const ah = unsigned ? oh >>> 0 : oh;
        const bhx = unsigned ? bh >>> 0 : bh;
        const less = ah < bhx || (ah === bhx && (ol >>> 0) < (bl >>> 0));
        const takeOld = (k === 5 || k === 7) ? less : !less;
        if (takeOld) {
          nl = ol;
          nh = oh;
        }
        break;
      }
    }
    if (!this.#writeData(va, width, nl, nh)) return;
    this.xl[rd] = ol;
    this.xh[rd] = oh;
    this.#advance(4);
  }

  #advance(len: number): void {
    this.pc += len;
  }

  // ---------------------------------------------------------------- system instructions

  #illegal(bits: number): void {
    this.#trap(Cause.IllegalInstruction, false, bits | 0, 0);
  }

  #system(w: number, imm: number): void {
    const op = w & 255;
    switch (op) {
      case Op.ILLEGAL:
        this.#trap(Cause.IllegalInstruction, false, imm, 0);
        return;
      case Op.ECALL:
        if (this.#exitOnEcall && this.priv === 1) {
          this.#stop = StopReason.Ecall;
          return;
        }
        this.#trap(
          this.priv === 0
            ? Cause.EcallFromU
            : this.priv === 1
            ? Cause.EcallFromS
            : Cause.EcallFromM,
          false,
          0,
          0,
        );
        return;
      case Op.EBREAK:
        if (this.#exitOnEbreak) {
          this.#stop = StopReason.Breakpoint;
          return;
        }
        this.#trapNum(Cause.Breakpoint, this.pc);
        return;
      case Op.MRET: {
        if (this.priv < 3) return this.#illegal(0x30200073);
        const mpp = (this.#ms >> 11) & 3;
        let ms = this.#ms;
        ms = (ms & Mstatus.MPIE) !== 0 ? ms | Mstatus.MIE : ms & ~Mstatus.MIE;
        ms = (ms | Mstatus.MPIE) & ~Mstatus.MPP;
        if (mpp !== 3) ms &= ~Mstatus.MPRV;
        this.#ms = ms;
        this.#setPriv(mpp as 0 | 1 | 3);
        this.pc = this.#csrNum(Csr.mepc);
        this.#irqCheck = true;
        return;
      }
      case Op.SRET: {
        if (this.priv === 0 || (this.priv === 1 && (this.#ms & Mstatus.TSR) !== 0)) {
          return this.#illegal(0x10200073);
        }
        const spp = (this.#ms >> 8) & 1;
        let ms = this.#ms;
        ms = (ms & Mstatus.SPIE) !== 0 ? ms | Mstatus.SIE : ms & ~Mstatus.SIE;
        ms = (ms | Mstatus.SPIE) & ~Mstatus.SPP & ~Mstatus.MPRV;
        this.#ms = ms;
        this.#setPriv(spp as 0 | 1);
        this.pc = this.#csrNum(Csr.sepc);
        this.#irqCheck = true;
        return;
      }
      case Op.WFI:
        if (this.priv === 0 || (this.priv === 1 && (this.#ms & Mstatus.TW) !== 0)) {
          return this.#illegal(0x10500073);
        }
        this.pc += 4;
        if (this.#exitOnWfi) {
          this.#stop = StopReason.Wfi;
          return;
        }
        if ((this.#mip() & this.#mie) === 0) {
          this.waiting = true;
          this.#stop = StopReason.Wfi;
        }
        return;
      case Op.SFENCE_VMA:
        if (this.priv === 0 || (this.priv === 1 && (this.#ms & Mstatus.TVM) !== 0)) {
          return this.#illegal(0x12000073 | (((w >> 14) & 31) << 15) | (((w >> 20) & 31) << 20));
        }
        this.#flushTlb();
        this.pc += 4;
        return;
      case Op.FENCE_I:
        this.fenceI();
        this.pc += 4;
        return;
      case Op.CSRRW:
      case Op.CSRRS:
      case Op.CSRRC:
      case Op.CSRRWI:
      case Op.CSRRSI:
      case Op.CSRRCI:
        return this.#csrInstr(w, imm);
      case Op.LR_W:
      case Op.SC_W:
      case Op.AMOSWAP_W:
      case Op.AMOADD_W:
      case Op.AMOXOR_W:
      case Op.AMOAND_W:
      case Op.AMOOR_W:
      case Op.AMOMIN_W:
      case Op.AMOMAX_W:
      case Op.AMOMINU_W:
      case Op.AMOMAXU_W:
      case Op.LR_D:
      case Op.SC_D:
      case Op.AMOSWAP_D:
      case Op.AMOADD_D:
      case Op.AMOXOR_D:
      case Op.AMOAND_D:
      case Op.AMOOR_D:
      case Op.AMOMIN_D:
      case Op.AMOMAX_D:
      case Op.AMOMINU_D:
      case Op.AMOMAXU_D:
        return this.#amo(w);
      default:
        // An op this switch does not know is an illegal instruction, never something else.
        return this.#illegal(this.#instructionBits(w >>> 26));
    }
  }

  /** Executes a Zba/Zbb/Zbs/Zicond instruction (the semantics are bitmanip.ts's). */
  #bitmanip(w: number, imm: number): void {
    const op = w & 255;
    const r1 = (w >> 14) & 63;
    if (BIT_IMM_OPS.has(op)) bitOp(op, this.xl[r1], this.xh[r1], imm, 0);
    else {
      const r2 = (w >> 20) & 63;
      bitOp(op, this.xl[r1], this.xh[r1], this.xl[r2], this.xh[r2]);
    }
    const rd = (w >> 8) & 63;
    this.xl[rd] = alu.aluOut[0];
    this.xh[rd] = alu.aluOut[1];
  }

  // ---------------------------------------------------------------- F and D

  /** Re-reads the bits of the instruction at pc (it was just fetched), for mtval; 0 if gone. */
  #instructionBits(len: number): number {
    const pc = this.pc;
    let bits = 0;
    for (let k = 0; k < len; k += 2) {
      const va = pc + k;
      let pa = va;
      if (this.#satpMode === 8 && this.priv < 3) {
        const r = walkSv39(
          this.bus,
          this.#satpPpn,
          va,
          Access.Fetch,
          this.priv,
          false,
          false,
          this.#walk,
        );
        if (r !== WalkResult.Ok) return 0;
        pa = this.#walk.pa;
      }
      const r = pa >= 0 && pa < 2 ** 53 ? this.bus.find(pa) : undefined;
      if (r === undefined || r.kind !== "ram") return 0;
      bits |= (this.bus.read(pa, 2) ?? 0) << (8 * k);
    }
    return bits | 0;
  }

  /** Mirrors mstatus.FS for compiled blocks; call after every change of #ms's FS field. */
  #syncFs(): void {
    this.#fsState[0] = (this.#ms >> 13) & 3;
  }

  /**
   * Executes an F/D instruction (FS Off: illegal). Returns true when it completed (pc not
   * advanced), false after a trap or a requested stop.
   */
  #fp(w: number, imm: number): boolean {
    const op = w & 255;
    if ((this.#ms & Mstatus.FS) === 0) {
      this.#illegal(this.#instructionBits(w >>> 26));
      return false;
    }
    const fr = this.fp;
    const words = fr.words;
    if (op === Op.FLW || op === Op.FLD) {
      const d = op === Op.FLD;
      if (!this.#readData(this.#ea(w, imm), d ? 8 : 4, false)) return false;
      const rd = (w >> 8) & 31;
      words[rd * 2] = this.#csrLo;
      words[rd * 2 + 1] = d ? this.#csrHi : -1;
      this.#ms |= FS_DIRTY;
      this.#syncFs();
      return this.#completed(w);
    }
    if (op === Op.FSW || op === Op.FSD) {
      const r2 = (w >> 20) & 31;
      return this.#writeData(
        this.#ea(w, imm),
        op === Op.FSD ? 8 : 4,
        words[r2 * 2],
        words[r2 * 2 + 1],
      ) && this.#completed(w);
    }
    const r1 = (w >> 14) & 63;
    if (fpExec(fr, w, imm, this.xl[r1], this.xh[r1]) !== 0) {
      this.#illegal(this.#instructionBits(w >>> 26));
      return false;
    }
    if (FP_INT_RESULT_OPS.has(op)) {
      const rd = (w >> 8) & 63;
      this.xl[rd] = fr.intOut[0];
      this.xh[rd] = fr.intOut[1];
    }
    if (!FP_CLEAN_OPS.has(op)) {
      this.#ms |= FS_DIRTY;
      this.#syncFs();
    }
    return true;
  }

  #csrInstr(w: number, imm: number): void {
    const op = w & 255;
    const num = imm & 0xfff;
    const rdField = (w >> 8) & 63;
    const rd = rdField === 32 ? 0 : rdField;
    const src = (w >> 14) & 63;
    const f3 = op - Op.CSRRW + (op >= Op.CSRRWI ? 2 : 1);
    const bits = (num << 20) | (src << 15) | (f3 << 12) | (rd << 7) | 0x73;
    const writes = op === Op.CSRRW || op === Op.CSRRWI || src !== 0;
    if (((num >> 8) & 3) > this.priv || (writes && (num >> 10) === 3)) return this.#illegal(bits);
    if (!this.#csrRead(num, false)) return this.#illegal(bits);
    const ol = this.#csrLo;
    const oh = this.#csrHi;
    if (writes) {
      let sl: number;
      let sh: number;
      if (op >= Op.CSRRWI) {
        sl = src;
        sh = 0;
      } else {
        sl = this.xl[src];
        sh = this.xh[src];
      }
      let nl = sl;
      let nh = sh;
      if (op === Op.CSRRS || op === Op.CSRRSI) {
        nl = ol | sl;
        nh = oh | sh;
      } else if (op === Op.CSRRC || op === Op.CSRRCI) {
        nl = ol & ~sl;
        nh = oh & ~sh;
      }
      if (!this.#csrWrite(num, nl, nh)) return this.#illegal(bits);
    }
    this.xl[rdField] = ol;
    this.xh[rdField] = oh;
    this.pc += 4;
    this.#irqCheck = true;
  }

  // ---------------------------------------------------------------- CSRs

  #mip(): number {
    return this.#mipSw | this.#mipExt | this.#sstcPending();
  }

  /** Whether menvcfg.STCE is set (Sstc enabled for S-mode). */
  #stce(): boolean {
    return this.#sstc && this.#csr[Csr.menvcfg * 2 + 1] < 0;
  }

  /** mip.STIP driven by Sstc: time >= stimecmp while menvcfg.STCE is set. */
  #sstcPending(): number {
    if (!this.#stce()) return 0;
    const cmp = this.#csrNum(Csr.stimecmp);
    if (cmp < 0) return 0; // stimecmp >= 2^63: never (time is below)
    return this.#readTime(this.#counterNow()) >= cmp ? STIP : 0;
  }

  /**
   * The Sstc timer: the `stimecmp` value (timebase ticks) at which mip.STIP rises, or
   * `undefined` when Sstc is off (menvcfg.STCE clear) or stimecmp is beyond 2^63. The VMM uses
   * it to wake a vCPU waiting in wfi.
   */
  sstcDeadline(): number | undefined {
    if (!this.#stce()) return undefined;
    const cmp = this.#csrNum(Csr.stimecmp);
    return cmp < 0 ? undefined : cmp;
  }

  #csrNum(num: number): number {
    return this.#csr[num * 2 + 1] * TWO32 + (this.#csr[num * 2] >>> 0);
  }

  #counterNow(): number {
    return this.instret + this.#runCount - this.#exc;
  }

  /** Whether counter bit `bit` is accessible at the current privilege. */
  #counterAllowed(bit: number): boolean {
    if (this.priv === 3) return true;
    if (((this.#csr[Csr.mcounteren * 2] >>> bit) & 1) === 0) return false;
    if (this.priv === 0 && ((this.#csr[Csr.scounteren * 2] >>> bit) & 1) === 0) return false;
    return true;
  }

  #setCsrNum(v: number): void {
    this.#csrLo = v | 0;
    this.#csrHi = Math.floor(v / TWO32) | 0;
  }

  /** Reads CSR `num` into #csrLo/#csrHi; false when it does not exist or is not accessible. */
  #csrRead(num: number, debug: boolean): boolean {
    this.#csrHi = 0;
    const c = this.#csr;
    switch (num) {
      case Csr.mstatus:
        this.#csrLo = this.#ms;
        this.#csrHi = MSTATUS_HI | ((this.#ms & FS_DIRTY) === FS_DIRTY ? 0x80000000 : 0);
        return true;
      case Csr.sstatus:
        this.#csrLo = this.#ms & SSTATUS_MASK;
        this.#csrHi = SSTATUS_HI | ((this.#ms & FS_DIRTY) === FS_DIRTY ? 0x80000000 : 0);
        return true;
      case Csr.fflags:
      case Csr.frm:
      case Csr.fcsr:
        if (!debug && (this.#ms & Mstatus.FS) === 0) return false;
        this.#csrLo = num === Csr.fflags
          ? this.fp.fflags
          : num === Csr.frm
          ? this.fp.frm
          : (this.fp.frm << 5) | this.fp.fflags;
        return true;
      case Csr.stimecmp:
        if (!this.#sstc) return false;
        if (!debug && this.priv === 1 && (!this.#counterAllowed(1) || !this.#stce())) {
          return false;
        }
        break;
      case Csr.misa:
        this.#csrLo = MISA_LO;
        this.#csrHi = MISA_HI;
        return true;
      case Csr.medeleg:
        this.#csrLo = this.#medeleg;
        return true;
      case Csr.mideleg:
        this.#csrLo = this.#mideleg;
        return true;
      case Csr.mie:
        this.#csrLo = this.#mie;
        return true;
      case Csr.sie:
        this.#csrLo = this.#mie & this.#mideleg;
        return true;
      case Csr.mip:
        this.#csrLo = this.#mip();
        return true;
      case Csr.menvcfg:
        this.#csrLo = this.#csr[num * 2];
        this.#csrHi = this.#csr[num * 2 + 1];
        return true;
      case Csr.sip:
        this.#csrLo = this.#mip() & this.#mideleg;
        return true;
      case Csr.satp:
        if (!debug && this.priv === 1 && (this.#ms & Mstatus.TVM) !== 0) return false;
        break;
      case Csr.mvendorid:
      case Csr.marchid:
      case Csr.mimpid:
      case Csr.mconfigptr:
      case Csr.mseccfg:
      case Csr.tselect:
      case Csr.tdata1:
      case Csr.tdata2:
      case Csr.tdata3:
        this.#csrLo = 0;
        return true;
      case Csr.tinfo:
        this.#csrLo = 1;
        return true;
      case Csr.mhartid:
        this.#csrLo = this.hartId;
        return true;
      case Csr.cycle:
      case Csr.instret:
      case Csr.mcycle:
      case Csr.minstret: {
        const isCycle = (num & 2) === 0;
        if (num < 0xc00 + 3 && !debug && !this.#counterAllowed(isCycle ? 0 : 2)) return false;
        const inhibit = this.#csr[Csr.mcountinhibit * 2];
        const now = this.#counterNow();
        const v = isCycle
          ? ((inhibit & 1) !== 0 ? this.#cycleFrozen : now + this.#cycleOffset)
          : ((inhibit & 4) !== 0 ? this.#instretFrozen : now + this.#instretOffset);
        this.#setCsrNum(v);
        return true;
      }
      case Csr.time:
        if (!debug && !this.#counterAllowed(1)) return false;
        this.#setCsrNum(this.#readTime(this.#counterNow()));
        return true;
      case Csr.sscratch:
      case Csr.sepc:
      case Csr.scause:
      case Csr.stval:
      case Csr.stvec:
      case Csr.scounteren:
      case Csr.senvcfg:
      case Csr.mscratch:
      case Csr.mepc:
      case Csr.mcause:
      case Csr.mtval:
      case Csr.mtvec:
      case Csr.mcounteren:
      case Csr.mcountinhibit:
        break;
      default:
        if (num >= Csr.hpmcounter3 && num <= Csr.hpmcounter31) {
          if (!debug && !this.#counterAllowed(num - 0xc00)) return false;
          this.#csrLo = 0;
          return true;
        }
        if (
          (num >= Csr.mhpmcounter3 && num <= Csr.mhpmcounter31) ||
          (num >= Csr.mhpmevent3 && num <= Csr.mhpmevent31)
        ) {
          this.#csrLo = 0;
          return true;
        }
        if (num >= Csr.pmpcfg0 && num <= Csr.pmpcfg15) {
          if ((num & 1) !== 0) return false; // RV64: odd pmpcfg registers do not exist
          break;
        }
        if (num >= Csr.pmpaddr0 && num <= Csr.pmpaddr63) break;
        return false;
    }
    this.#csrLo = c[num * 2];
    this.#csrHi = c[num * 2 + 1];
    return true;
  }

  /** Writes CSR `num` (WARL rules); false when it cannot be written. Call after #csrRead. */
  #csrWrite(num: number, lo: number, hi: number): boolean {
    const c = this.#csr;
    switch (num) {
      case Csr.mstatus:
      case Csr.sstatus: {
        const mask = num === Csr.mstatus ? MSTATUS_WMASK : SSTATUS_MASK;
        let ms = (this.#ms & ~mask) | (lo & mask);
        if (((ms >> 11) & 3) === 2) ms &= ~Mstatus.MPP; // reserved MPP value -> U
        const changed = ms ^ this.#ms;
        this.#ms = ms;
        this.#syncFs();
        if ((changed & (Mstatus.MPRV | Mstatus.MPP | Mstatus.SUM | Mstatus.MXR)) !== 0) {
          this.#flushTlb();
        }
        return true;
      }
      case Csr.misa:
        return true; // read-only WARL
      case Csr.fflags:
      case Csr.frm:
      case Csr.fcsr:
        if (num === Csr.fflags) this.fp.fflags = lo & 31;
        else if (num === Csr.frm) this.fp.frm = lo & 7;
        else {
          this.fp.fflags = lo & 31;
          this.fp.frm = (lo >> 5) & 7;
        }
        this.#ms |= FS_DIRTY;
        this.#syncFs();
        return true;
      case Csr.stimecmp:
        c[num * 2] = lo;
        c[num * 2 + 1] = hi;
        return true;
      case Csr.medeleg:
        this.#medeleg = lo & MEDELEG_MASK;
        return true;
      case Csr.mideleg:
        this.#mideleg = lo & S_INTS;
        return true;
      case Csr.mie:
        this.#mie = lo & MIE_MASK;
        return true;
      case Csr.sie:
        this.#mie = (this.#mie & ~this.#mideleg) | (lo & this.#mideleg & S_INTS);
        return true;
      case Csr.mip: {
        // With Sstc on, STIP is the comparison's (read-only to software).
        const m = this.#stce() ? S_INTS & ~STIP : S_INTS;
        this.#mipSw = (this.#mipSw & ~m) | (lo & m);
        return true;
      }
      case Csr.sip: {
        const m = this.#mideleg & 2;
        this.#mipSw = (this.#mipSw & ~m) | (lo & m);
        return true;
      }
      case Csr.mtvec:
      case Csr.stvec: {
        const mode = lo & 3;
        c[num * 2] = (lo & ~3) | (mode > 1 ? 0 : mode);
        c[num * 2 + 1] = hi;
        return true;
      }
      case Csr.mepc:
      case Csr.sepc:
        c[num * 2] = lo & ~1;
        c[num * 2 + 1] = hi;
        return true;
      case Csr.satp: {
        const mode = hi >>> 28;
        if (mode !== 0 && mode !== 8) return true; // unsupported mode: the write is ignored
        c[num * 2] = lo;
        c[num * 2 + 1] = hi;
        this.#satpMode = mode;
        this.#satpPpn = (hi & 0xfff) * TWO32 + (lo >>> 0);
        this.#flushTlb();
        return true;
      }
      case Csr.mcounteren:
      case Csr.scounteren:
        c[num * 2] = lo;
        return true;
      case Csr.menvcfg:
        c[num * 2] = lo & 1; // FIOM
        c[num * 2 + 1] = this.#sstc ? hi & (0x80000000 | 0) : 0; // STCE
        return true;
      case Csr.senvcfg:
        c[num * 2] = lo & 1;
        return true;
      case Csr.mcountinhibit: {
        const old = c[num * 2];
        const nv = lo & 5;
        const now = this.#counterNow() + 1;
        if ((old & 1) === 0 && (nv & 1) !== 0) this.#cycleFrozen = now + this.#cycleOffset;
        if ((old & 1) !== 0 && (nv & 1) === 0) this.#cycleOffset = this.#cycleFrozen - now;
        if ((old & 4) === 0 && (nv & 4) !== 0) this.#instretFrozen = now + this.#instretOffset;
        if ((old & 4) !== 0 && (nv & 4) === 0) this.#instretOffset = this.#instretFrozen - now;
        c[num * 2] = nv;
        return true;
      }
      case Csr.mcycle:
      case Csr.minstret: {
        const v = hi * TWO32 + (lo >>> 0);
        const now = this.#counterNow() + 1;
        const inhibit = c[Csr.mcountinhibit * 2];
        if (num === Csr.mcycle) {
          if ((inhibit & 1) !== 0) this.#cycleFrozen = v;
          else this.#cycleOffset = v - now;
        } else if ((inhibit & 4) !== 0) this.#instretFrozen = v;
        else this.#instretOffset = v - now;
        return true;
      }
      case Csr.sscratch:
      case Csr.scause:
      case Csr.stval:
      case Csr.mscratch:
      case Csr.mcause:
      case Csr.mtval:
        c[num * 2] = lo;
        c[num * 2 + 1] = hi;
        return true;
      case Csr.mseccfg:
      case Csr.tselect:
      case Csr.tdata1:
      case Csr.tdata2:
      case Csr.tdata3:
      case Csr.tinfo:
        return true; // no triggers, no Smepmp: WARL zero
      default:
        if (
          (num >= Csr.mhpmcounter3 && num <= Csr.mhpmcounter31) ||
          (num >= Csr.mhpmevent3 && num <= Csr.mhpmevent31)
        ) return true;
        if (num >= Csr.pmpcfg0 && num <= Csr.pmpcfg15) {
          this.#writePmpcfg(num, lo, hi);
          return true;
        }
        if (num >= Csr.pmpaddr0 && num <= Csr.pmpaddr63) {
          if (!this.#pmpLocked(num - Csr.pmpaddr0)) {
            c[num * 2] = lo;
            c[num * 2 + 1] = hi & 0x3fffff;
          }
          return true;
        }
        return false;
    }
  }

  #pmpCfgByte(i: number): number {
    const reg = Csr.pmpcfg0 + (i >> 3) * 2;
    const k = i & 7;
    const word = this.#csr[reg * 2 + (k >> 2)];
    return (word >>> ((k & 3) * 8)) & 0xff;
  }

  #pmpLocked(i: number): boolean {
    if ((this.#pmpCfgByte(i) & 0x80) !== 0) return true;
    // A locked TOR entry also locks the previous pmpaddr.
    if (i < 63) {
      const next = this.#pmpCfgByte(i + 1);
      if ((next & 0x80) !== 0 && ((next >> 3) & 3) === 1) return true;
    }
    return false;
  }

  #writePmpcfg(num: number, lo: number, hi: number): void {
    const first = (num - Csr.pmpcfg0) * 4;
    const halves = [lo, hi];
    for (let k = 0; k < 8; k++) {
      const i = first + k;
      if ((this.#pmpCfgByte(i) & 0x80) !== 0) continue; // locked
      let b = (halves[k >> 2] >>> ((k & 3) * 8)) & 0xff & 0x9f;
      if ((b & 3) === 2) b &= ~2; // W without R is reserved
      const idx = num * 2 + (k >> 2);
      const shift = (k & 3) * 8;
      this.#csr[idx] = (this.#csr[idx] & ~(0xff << shift)) | (b << shift);
    }
  }

  // ---------------------------------------------------------------- traps and interrupts

  #setPriv(p: 0 | 1 | 3): void {
    if (p !== this.#priv) {
      this.#priv = p;
      if (this.#satpMode === 8) this.#flushTlb();
    }
  }

  /** Raises an exception whose tval is a number (a pc or address). */
  #trapNum(cause: number, tval: number): void {
    this.#trap(cause, false, tval | 0, Math.floor(tval / TWO32) | 0);
  }

  /**
   * Takes a trap at this.pc: an exception (`interrupt` false) or an interrupt; tval given as
   * int32 halves.
   */
  #trap(cause: number, interrupt: boolean, tLo: number, tHi: number): void {
    (interrupt ? this.stats.interrupts : this.stats.exceptions)[cause & 15]++;
    this.#resValid = false;
    const p = this.priv;
    const deleg = p <= 1 && (((interrupt ? this.#mideleg : this.#medeleg) >>> cause) & 1) !== 0;
    const c = this.#csr;
    const pc = this.pc;
    const epcLo = pc | 0;
    const epcHi = Math.floor(pc / TWO32) | 0;
    const causeHi = interrupt ? 0x80000000 | 0 : 0;
    if (!interrupt) this.#exc++;
    let ms = this.#ms;
    let vec: number;
    if (deleg) {
      c[Csr.scause * 2] = cause;
      c[Csr.scause * 2 + 1] = causeHi;
      c[Csr.sepc * 2] = epcLo;
      c[Csr.sepc * 2 + 1] = epcHi;
      c[Csr.stval * 2] = tLo;
      c[Csr.stval * 2 + 1] = tHi;
      ms = (ms & Mstatus.SIE) !== 0 ? ms | Mstatus.SPIE : ms & ~Mstatus.SPIE;
      ms &= ~Mstatus.SIE;
      ms = p === 1 ? ms | Mstatus.SPP : ms & ~Mstatus.SPP;
      this.#ms = ms;
      this.#setPriv(1);
      vec = Csr.stvec;
    } else {
      c[Csr.mcause * 2] = cause;
      c[Csr.mcause * 2 + 1] = causeHi;
      c[Csr.mepc * 2] = epcLo;
      c[Csr.mepc * 2 + 1] = epcHi;
      c[Csr.mtval * 2] = tLo;
      c[Csr.mtval * 2 + 1] = tHi;
      ms = (ms & Mstatus.MIE) !== 0 ? ms | Mstatus.MPIE : ms & ~Mstatus.MPIE;
      ms &= ~Mstatus.MIE;
      ms = (ms & ~Mstatus.MPP) | (p << 11);
      this.#ms = ms;
      this.#setPriv(3);
      vec = Csr.mtvec;
    }
    const tvLo = c[vec * 2];
    const tvec = c[vec * 2 + 1] * TWO32 + ((tvLo & ~3) >>> 0);
    this.pc = interrupt && (tvLo & 3) === 1 ? tvec + 4 * cause : tvec;
    this.#irqCheck = true;
  }

  /** Takes the highest-priority pending and enabled interrupt, if any. */
  #checkInterrupts(): boolean {
    const pending = this.#mip() & this.#mie;
    if (pending === 0) return false;
    const m = pending & ~this.#mideleg;
    let take = 0;
    if (m !== 0 && (this.priv < 3 || (this.#ms & Mstatus.MIE) !== 0)) take = m;
    else {
      const s = pending & this.#mideleg;
      if (s !== 0 && (this.priv === 0 || (this.priv === 1 && (this.#ms & Mstatus.SIE) !== 0))) {
        take = s;
      }
    }
    if (take === 0) return false;
    for (const irq of IRQ_PRIORITY) {
      if ((take >>> irq) & 1) {
        this.waiting = false;
        this.#trap(irq, true, 0, 0);
        return true;
      }
    }
    return false;
  }
}
