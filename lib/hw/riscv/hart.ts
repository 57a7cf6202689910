/**
 * The RV64GC hart: an interpreter for RV64I, M, A, F, D, C, Zicsr, Zifencei, Zicntr, Zba, Zbb,
 * Zbs, Zicond and Sstc (the list is isa.ts's) with the M, S and U privilege modes and Sv39
 * virtual memory.
 *
 * The hart is split by concept (as QEMU's target/riscv): this file holds the `Hart` class (its
 * public API, the run loop, system, CSR and F/D instructions, block compilation); the CSR file
 * is csr_file.ts over the table of csr_table.ts; traps and interrupts are traps.ts's; address
 * translation, loads, stores and fetches are memory_access.ts's over the TLBs of soft_tlb.ts;
 * LR/SC and AMOs are atomics.ts's.
 *
 * Design:
 *
 * - Registers are int32 halves (`xl` low, `xh` high); no BigInt on the hot path.
 * - Instructions are decoded once per physical code page ({@linkcode DecodedPage}) and executed
 *   from the decoded form. A store to a decoded page invalidates the decoded instructions it
 *   overlaps (and the page's compiled blocks when it hits one), on every hart that decoded it
 *   (see code_group.ts); `fence.i` therefore costs nothing unless the host wrote RAM.
 * - Hot integer code (with Zb* and Zicond) is translated into WebAssembly (wasm/wasm_tier.ts
 *   over wasm_block.ts; the registers and the load/store TLB tags live in the hart's area in the
 *   frame pool, see wasm/hart_area.ts); the rest of the hot code (FP), and everything when the
 *   frame pool is unavailable or `wasm: false`, into JavaScript functions by the JavaScript tier
 *   (`jit.ts`, one function per region of a page: `region.ts`); the
 *   interpreter stays the reference and handles everything the tier leaves out (traps, CSRs,
 *   atomics, MMIO, TLB misses). Loaders that rewrite memory behind the hart's back call
 *   {@linkcode Hart.reset} or {@linkcode Hart.flushCaches}; `SparseMemory.clear()` and bus
 *   remaps are noticed automatically.
 * - Software TLBs (fetch, load, store, store into code; 256 entries each, direct mapped) cache
 *   the translation of a virtual page to a RAM page view. Device pages are never cached and go
 *   through the bus on every access. Privilege and mstatus changes drop only the entries the
 *   new context may not use; `sfence.vma` with an address drops only that page's.
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

import type { Bus } from "../bus.ts";
import * as alu from "./alu.ts";
import { Cause, Csr, Mstatus } from "./csr.ts";
import { CsrFile } from "./csr_file.ts";
import { csrMinPriv, csrReadOnly } from "./csr_table.ts";
import {
  enterTrap,
  leaveMret,
  leaveSret,
  pendingInterrupt,
  sfenceIllegal,
  sretIllegal,
  trapTarget,
  wakesFromWfi,
  wfiIllegal,
} from "./traps.ts";
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
import { type BlockFn, compileBlock } from "./jit.ts";
import { regionSource } from "./region.ts";
import { codeCacheStats, HartStats, TlbFlushCause } from "./hart_stats.ts";
import { type DecodedPage, NO_BLOCKS } from "./decoded_page.ts";
import { codeStore } from "./code_group.ts";
import { amo, Reservation } from "./atomics.ts";
import { MemoryAccess, type WriteWatch } from "./memory_access.ts";
import { primeInterpreter } from "./warm_up.ts";
import {
  AREA_JUMP_ENTRIES,
  HartArea,
  JUMP_HASH_SHIFT,
  releaseNow,
  releaseWith,
} from "./wasm/hart_area.ts";
import { discoverRegion, type Region, translatable } from "./wasm/wasm_block.ts";
import { pageFetcher, WasmTier } from "./wasm/wasm_tier.ts";
import { type BusErrorInfo, type HartOptions, type HartState, StopReason } from "./hart_state.ts";

export * from "./hart_state.ts";
export { DecodedPage } from "./decoded_page.ts";
export type { WriteWatch } from "./memory_access.ts";

/**
 * Executions of an interpreted instruction before a block is compiled from it. Each compiled
 * block costs V8 about 2 ms (parse, lazy compile, running cold in its bytecode interpreter,
 * tier-up), which only pays back on code run tens of thousands of times. Debian's kernel
 * booting to /init (1.1 G instructions, CPU time of one run each): threshold 100 -> 96 s
 * (76,000 blocks), 5000 -> 45 s, 20000 -> 33 s, 60000 -> 28 s (1,900 blocks); the interpreter
 * alone 31.5 s. Hot loops (the compute benchmark) are compiled after 60000 iterations anyway.
 * With the generated interpreter (1014 M instructions, loaded 2-core machine, same-run pairs),
 * 150000 (1246 blocks) and 400000 (413 blocks) were within noise of 60000 in main-thread CPU;
 * 84 blocks that loop into themselves hold 353 M of the 685 M instructions run in blocks.
 * Since the units are regions (region.ts), one loop gets one region instead of one block per
 * instruction where a run slice ended (the boot compiles 153 regions instead of 2052 blocks);
 * thresholds of 5000 and 15000 (839 and 340 regions) moved 200 M and 135 M more instructions
 * out of the interpreter but were not faster in CPU time (same-run triples, loaded machine).
 */
const JIT_THRESHOLD = 60000;
/** Bytes of an Sv39 gigapage (the largest page an sfence.vma with an address may drop). */
const GIGAPAGE = 2 ** 30;
/**
 * The compile threshold of the wasm tier (when `jitThreshold` is higher): a region costs it a
 * few µs per instruction plus a share of a module's ~150 µs (batched per page), not the 2 ms of
 * a JavaScript unit, so it pays back much sooner; at 60000 the compute loop's outer loops were
 * translated late in the run.
 */
const WASM_THRESHOLD = 2000;
/**
 * A jump target joins a region when the interpreter ran it at least 1/HOT_RATIO as often as the
 * compile threshold (region.ts).
 */
const HOT_RATIO = 64;
/** The largest jitThreshold: heat counters are 32-bit signed. */
const MAX_JIT_THRESHOLD = 0x7fff_ffff;
const TWO32 = 4294967296;
/** Ranged remote sfence above this many bytes (64 pages) flushes everything. */
const RANGED_FLUSH_LIMIT = 64n * 4096n;

/** The hart that ran last: a run by another hart may have broken a reservation. */
let lastRunner: Hart | undefined;
/** Whether the interpreter's type feedback has been primed (warm_up.ts), once per process. */
let primed = false;

/** An RV64GC (+ Zba/Zbb/Zbs/Zicond, Sstc) hart with M/S/U privilege modes and Sv39. */
export class Hart {
  /**
   * Low 32 bits of x0..x31 (index 32 is the write sink for x0); a view onto the hart's area
   * (wasm/hart_area.ts), which the wasm tier reads and writes.
   */
  readonly xl: Int32Array;
  /** High 32 bits of x0..x31 (a view onto the hart's area). */
  readonly xh: Int32Array;
  /** Program counter: the signed 64-bit value (exact below 2^53 in magnitude). */
  pc = 0;
  /** Instructions retired. */
  instret = 0;
  /** Instructions executed by the last {@linkcode Hart.run} call (retired or trapped). */
  lastRunInstructions = 0;
  /** Units (regions) compiled by the second tier so far. */
  compiledBlocks = 0;
  /** Instructions executed inside compiled units so far (the rest were interpreted). */
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

  #exitOnEcall: boolean;
  #exitOnWfi: boolean;
  #exitOnBusError: boolean;
  #exitOnEbreak: boolean;
  #guestDelegation: boolean;
  #jit: boolean;
  /** Executions after which the run loop asks for a unit (the wasm tier's, when it is on). */
  #jitThreshold: number;
  /** The JavaScript tier's threshold (`jitThreshold`). */
  #jsThreshold: number;
  /** Per decoded page, slots whose region the wasm tier refused: the JS tier takes them later. */
  #deferred = new WeakMap<DecodedPage, Uint8Array>();
  /** Unit status (`st` of jit.ts): the exit record of the hart's area. */
  #jitStatus: Int32Array;
  /** `codeCacheStats.storeInvalidations` when the jump cache was last known good. */
  #drops = 0;
  /** The area holding the registers and TLB tags (in the frame pool when there is one). */
  readonly #area: HartArea;
  #disposed = false;
  /** The wasm tier, or null (option off, or no frame pool). */
  readonly #wasm: WasmTier | null;

  // Privileged state.
  #priv: 0 | 1 | 3 = 3;
  #csrs: CsrFile;

  // Run state.
  #stop = -1;
  #irqCheck = true;
  #runCount = 0;
  #exc = 0;
  readonly #reservation = new Reservation();
  #running = false;
  /** The decoded word and immediate of the last page-crossing instruction. */
  #crossWord = 0;
  #crossImm = 0;
  #mem: MemoryAccess;

  /** Creates a hart in M-mode at pc 0 with every register zero. */
  constructor(options: HartOptions) {
    this.bus = options.bus;
    this.hartId = options.hartId;
    this.#exitOnEcall = options.exitOnSupervisorEcall ?? false;
    this.#exitOnWfi = options.exitOnWfi ?? false;
    this.#exitOnBusError = options.exitOnBusError ?? false;
    this.#exitOnEbreak = options.exitOnEbreak ?? false;
    this.#guestDelegation = options.guestDelegation ?? false;
    this.#jit = options.jit ?? true;
    this.#area = HartArea.create();
    releaseWith(this, this.#area);
    this.xl = this.#area.xl;
    this.xh = this.#area.xh;
    this.#jitStatus = this.#area.status;
    this.#wasm = this.#jit && (options.wasm ?? true) && this.#area.pool !== null
      ? new WasmTier(this.#area)
      : null;
    const threshold = options.jitThreshold ?? JIT_THRESHOLD;
    if (!Number.isInteger(threshold) || threshold < 1 || threshold > MAX_JIT_THRESHOLD) {
      throw new RangeError(
        `jitThreshold ${threshold} is not an integer in 1..${MAX_JIT_THRESHOLD}`,
      );
    }
    this.#jsThreshold = threshold;
    this.#jitThreshold = this.#wasm === null || options.jitThreshold !== undefined
      ? threshold
      : WASM_THRESHOLD;
    this.#csrs = new CsrFile({
      hartId: this.hartId,
      sstc: options.sstc ?? true,
      fp: this.fp,
      counterNow: () => this.#counterNow(),
      readTime: options.readTime ?? (() => 0),
      translationChanged: (whole) => {
        if (whole) this.#mem.flushTlb(TlbFlushCause.Satp);
        else this.#mem.retainTlb();
      },
    });
    this.#mem = new MemoryAccess({
      bus: this.bus,
      csrs: this.#csrs,
      stats: this.stats,
      xl: this.xl,
      xh: this.xh,
      area: this.#area,
      lastBusError: this.lastBusError,
      exitOnBusError: this.#exitOnBusError,
      host: {
        priv: () => this.#priv,
        pc: () => this.pc,
        setPc: (pc: number) => void (this.pc = pc),
        exception: (cause: number, tLo: number, tHi: number) => this.#trap(cause, false, tLo, tHi),
        stopOnBusError: () => void (this.#stop = StopReason.BusError),
        deviceWritten: () => void (this.#irqCheck = true),
      },
    });
    this.reset(0, 3);
    if (!primed) {
      primed = true;
      primeInterpreter((bus) => new Hart({ bus, hartId: 0 }));
      lastRunner = undefined;
    }
  }

  // ---------------------------------------------------------------- public slow-path API

  /**
   * Current privilege level: 0 U, 1 S, 3 M. Setting it drops the cached translations the new
   * level may not use.
   */
  get priv(): 0 | 1 | 3 {
    return this.#priv;
  }

  set priv(p: 0 | 1 | 3) {
    if (p !== 0 && p !== 1 && p !== 3) {
      throw new RangeError(`privilege level ${p} is not 0, 1 or 3`);
    }
    this.#priv = p;
    this.#mem.retainTlb();
    this.#irqCheck = true;
    this.#area.chain[0]++; // fetch permissions follow the privilege
  }

  /**
   * Gives the hart's area (registers, wasm TLBs, jump cache) back to the frame pool now rather
   * than when the hart is collected, for an owner that is done with it (a deleted VM). The hart
   * halts for good: `run` returns {@linkcode StopReason.Halted}, `reset` and `restore` throw,
   * and its integer registers keep their last values in private arrays (so that a late reader or
   * writer of `xl`/`xh` never touches the area's next owner). Calling it again does nothing.
   */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.halted = true;
    const own = this as { xl: Int32Array; xh: Int32Array };
    own.xl = this.xl.slice();
    own.xh = this.xh.slice();
    releaseNow(this, this.#area);
  }

  /** Whether {@linkcode Hart.dispose} was called. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /** Resets the architectural state (registers, CSRs, caches) and starts at `pc` in `priv`. */
  reset(pc: number, priv: 0 | 1 | 3): void {
    if (this.#disposed) throw new Error(`hart ${this.hartId} was disposed: it cannot be reset`);
    this.xl.fill(0);
    this.xh.fill(0);
    this.pc = pc;
    this.priv = priv;
    this.instret = 0;
    this.#csrs.reset(this.#guestDelegation);
    this.#reservation.valid = false;
    this.waiting = false;
    this.halted = false;
    new Int32Array(this.fp.buffer).fill(0);
    this.fp.fflags = 0;
    this.fp.frm = 0;
    this.#irqCheck = true;
    this.flushCaches();
  }

  /** Drops every cached translation and decoded instruction (e.g. after memory was reloaded). */
  flushCaches(): void {
    this.#mem.flushCaches();
    this.#area.chain[0]++;
  }

  /** Drops the cached translations (remote sfence.vma of the whole address space). */
  flushTlb(): void {
    this.#mem.flushTlb(TlbFlushCause.Remote);
    this.#area.chain[0]++;
  }

  /**
   * Drops the cached translations of the virtual pages that [`va`, `va + size`) touches
   * (remote sfence.vma of a range: SBI RFENCE's start_addr and size, as unsigned 64-bit
   * values). A size of 0, or one above 64 pages (all ones: the whole address space), drops
   * everything, as SBI implementations do.
   */
  flushTlbRange(va: bigint, size: bigint): void {
    const bytes = BigInt.asUintN(64, size);
    this.#area.chain[0]++;
    if (bytes === 0n || bytes > RANGED_FLUSH_LIMIT) {
      return this.#mem.flushTlb(TlbFlushCause.Remote);
    }
    this.#mem.flushTlbRange(Number(BigInt.asIntN(64, va)), Number(bytes));
  }

  /**
   * `fence.i` (and remote fence.i from other harts): every hart's stores into code already
   * invalidated what they overlap, so only writes by the host (loaders, devices, SBI calls that
   * write guest memory) since the code was decoded make this drop the decoded code.
   */
  fenceI(): void {
    this.#mem.fenceI();
    this.#area.chain[0]++;
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
    return this.#mem.watchWrites(pa, length, onWrite);
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

  /** High 32 bits of register `i`, signed. */
  getXHigh(i: number): number {
    return this.xh[i];
  }

  /** Sets register `i` from its 32-bit halves, without a BigInt (writes to x0 are ignored). */
  setXHalves(i: number, lo: number, hi: number): void {
    if (i === 0) return;
    this.xl[i] = lo | 0;
    this.xh[i] = hi | 0;
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
      this.#csrs.mipSw = level ? this.#csrs.mipSw | mipBit : this.#csrs.mipSw & ~mipBit;
    } else if ((mipBit & 0xa88) === mipBit && mipBit !== 0) {
      this.#csrs.mipExt = level ? this.#csrs.mipExt | mipBit : this.#csrs.mipExt & ~mipBit;
    } else {
      throw new RangeError(`setIrqLine: mip bit mask 0x${mipBit.toString(16)} is not a wire`);
    }
    this.#irqCheck = true;
    if (this.waiting && wakesFromWfi(this.#csrs)) this.waiting = false;
  }

  /**
   * The interrupts pending (mip) and enabled in mie, as a bit mask (what wakes a `wfi`): read
   * without a BigInt, as the VMM does on every tick of an idle guest.
   */
  pendingEnabledInterrupts(): number {
    return this.#csrs.mip() & this.#csrs.mie;
  }

  /** Reads a CSR without privilege checks (debuggers, the VMM). Throws for unknown CSRs. */
  readCsr(num: number): bigint {
    this.#runCount = 0;
    if (!this.#csrs.read(num, this.#priv, true)) {
      throw new RangeError(`CSR 0x${num.toString(16)} does not exist on this hart`);
    }
    return alu.bigU(this.#csrs.lo, this.#csrs.hi);
  }

  /** Writes a CSR without privilege checks (WARL rules apply). Throws for unknown CSRs. */
  writeCsr(num: number, value: bigint): void {
    const v = BigInt.asUintN(64, value);
    this.#runCount = -1;
    if (
      !this.#csrs.read(num, this.#priv, true) ||
      !this.#csrs.write(num, Number(v & 0xffffffffn) | 0, Number(v >> 32n) | 0)
    ) {
      throw new RangeError(`CSR 0x${num.toString(16)} does not exist or is read-only`);
    }
    this.#irqCheck = true;
    this.#area.chain[0]++; // satp, for one
  }

  /** Captures the architectural state. */
  snapshot(): HartState {
    return {
      version: 1,
      pc: this.pc,
      priv: this.priv,
      xl: Array.from(this.xl.subarray(0, 32)),
      xh: Array.from(this.xh.subarray(0, 32)),
      instret: this.instret,
      ...this.#csrs.snapshot(),
      waiting: this.waiting,
      halted: this.halted,
      fpr: Array.from(this.fp.words),
      fcsr: (this.fp.frm << 5) | this.fp.fflags,
    };
  }

  /** Restores a state captured by {@linkcode Hart.snapshot}. */
  restore(state: HartState): void {
    if (this.#disposed) throw new Error(`hart ${this.hartId} was disposed: it cannot be restored`);
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
    this.#csrs.restore(state);
    this.waiting = state.waiting;
    this.halted = state.halted;
    this.fp.words.fill(0);
    if (state.fpr !== undefined) this.fp.words.set(state.fpr.slice(0, 64));
    this.fp.fflags = (state.fcsr ?? 0) & 31;
    this.fp.frm = ((state.fcsr ?? 0) >> 5) & 7;
    this.#reservation.valid = false;
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
    const flushes = this.stats.tlbFlushes;
    this.#mem.syncCaches();
    // The bus or the memory changed: translations and decoded code were dropped.
    if (this.stats.tlbFlushes !== flushes) this.#area.chain[0]++;
    if (this.#wasm?.tableFull) {
      // The units' function table is full: start it over, with the code that names its slots.
      this.#mem.dropCode();
      this.#wasm.recycleTable();
      this.#area.chain[0]++;
    }
    if (lastRunner !== this) {
      lastRunner = this;
      this.#reservation.valid = false;
    }
    if (this.waiting) {
      if (!wakesFromWfi(this.#csrs)) return StopReason.Wfi;
      this.waiting = false;
    }
    this.#stop = -1;
    this.#irqCheck = true;
    this.#exc = 0;
    this.#runCount = 0;
    this.#running = true;
    const xl = this.xl;
    const xh = this.xh;
    const tlb = this.#mem.tlb;
    const rTag = tlb.rTag;
    const rPage = tlb.rPage;
    const wTag = tlb.wTag;
    const wPage = tlb.wPage;
    const wcTag = tlb.wcTag;
    const wcPage = tlb.wcPage;
    const fTag = tlb.fTag;
    const fPage = tlb.fPage;
    const jst = this.#jitStatus;
    // The jump cache stays valid across runs: what may change its mapping between them (reset,
    // restore, privilege, remote fences, CSR writes, the bus) bumps its generation, and stores
    // by other harts that dropped code are caught before each unit call.
    const { chain, jumpTag, jumpUnit, jumpGen } = this.#area;
    const chainsBefore = chain[1];
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
        const p = this.#mem.fetchPage(pc);
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
      let unitIndex = page.unitIndex;
      const heat = page.heat;
      for (;;) {
        const slot = off >> 1;
        const block = blocks[slot];
        if (block !== null && n + blockLengths[slot] <= budget) {
          if (codeCacheStats.storeInvalidations !== this.#drops) {
            // A store dropped compiled code: the jump cache may name dropped units.
            this.#drops = codeCacheStats.storeInvalidations;
            chain[0]++;
          }
          const unit = unitIndex[slot];
          if (unit >= 0) {
            // Units that leave to this pc call this unit directly from now on.
            const p = (base + off) | 0;
            const h = ((p >>> 1) ^ (p >>> JUMP_HASH_SHIFT)) & (AREA_JUMP_ENTRIES - 1);
            jumpTag[h] = base + off;
            jumpUnit[h] = unit;
            jumpGen[h] = chain[0];
          }
          off = block(base, off, budget - n);
          const done = jst[0];
          blockExits[jst[1]]++;
          n += done;
          inBlocks += done;
          if (off < 0 || off >= 4096 || n >= budget) break;
          // A unit that executed nothing stopped before its first instruction (a TLB miss):
          // the interpreter takes that instruction.
          if (done !== 0) continue;
        }
        let w = ops[slot];
        if (w === 0) w = this.#decodeSlot(page, off);
        else if (jit && ++heat[slot] === jitThreshold) {
          this.#compile(page, off);
          blocks = page.blocks; // the page's first block allocates its tables
          blockLengths = page.blockLengths;
          unitIndex = page.unitIndex;
          // Run the new region now: interpreting on would make each following instruction of
          // a loop reach the threshold in turn and get a region of its own.
          if (blocks[slot] !== null) continue;
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
    this.stats.chainedCalls += (chain[1] - chainsBefore) | 0;
    this.instret += n - this.#exc;
    this.#exc = 0;
    this.#runCount = 0;
    this.#running = false;
    return this.#stop >= 0 ? this.#stop : StopReason.Budget;
  }

  // ---------------------------------------------------------------- caches

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

  /** Compiles the region starting at page offset `off` (second tier, region.ts). */
  #compile(page: DecodedPage, off: number): void {
    if (page.blocks[off >> 1] !== null) return;
    const src = regionSource(
      off,
      (o: number) => page.ops[o >> 1] !== 0 ? page.ops[o >> 1] : this.#decodeSlot(page, o),
      (o: number) => page.imms[o >> 1],
      (o: number) =>
        o >= 0 && o < 4096 && Math.abs(page.heat[o >> 1]) * HOT_RATIO >= this.#jsThreshold,
    );
    if (src === null) return;
    if (page.blocks === NO_BLOCKS) {
      page.blocks = new Array<BlockFn | null>(2048).fill(null);
      page.blockLengths = new Uint16Array(2048);
      page.unitIndex = new Int32Array(2048).fill(-1);
      page.covered = new Uint8Array(2048);
    }
    if (this.#wasm !== null && this.#allTranslatable(page, src.offsets)) {
      if (this.#compileWasm(page, off)) return;
    }
    if (this.#jsThreshold > this.#jitThreshold) {
      // The wasm tier's lower threshold fired for code it does not take: the JavaScript tier
      // compiles it once it is hot by its own measure (the counter fires again then).
      let deferred = this.#deferred.get(page);
      if (deferred === undefined) this.#deferred.set(page, deferred = new Uint8Array(2048));
      if (deferred[off >> 1] === 0) {
        deferred[off >> 1] = 1;
        page.heat[off >> 1] = this.#jitThreshold - this.#jsThreshold;
        return;
      }
    }
    const fn = compileBlock(src, {
      xl: this.xl,
      xh: this.xh,
      rTag: this.#mem.tlb.rTag,
      rPage: this.#mem.tlb.rPage,
      wTag: this.#mem.tlb.wTag,
      wPage: this.#mem.tlb.wPage,
      wcTag: this.#mem.tlb.wcTag,
      wcPage: this.#mem.tlb.wcPage,
      codeStore,
      st: this.#jitStatus,
      fr: this.fp,
      fs: this.#csrs.fsState,
    }, off);
    // The region is entered at its origin and at the targets of its internal jumps (where the
    // interpreter lands after a budget exit or a side exit), unless another region starts there.
    const { entries, lengths } = src;
    for (let i = 0; i < entries.length; i++) {
      const slot = entries[i] >> 1;
      if (page.blocks[slot] === null) {
        page.blocks[slot] = fn;
        page.blockLengths[slot] = lengths[i];
        page.unitIndex[slot] = -1;
      }
    }
    const { offsets, sizes } = src;
    const heat = page.heat;
    for (let i = 0; i < offsets.length; i++) {
      const o = offsets[i];
      page.covered.fill(1, o >> 1, Math.min(2048, (o + sizes[i] + 1) >> 1));
      // The region's other instructions ran about as often as its entry and are near the
      // threshold; the interpreter now runs them only where the region exits (the end of a run
      // slice, a TLB miss). Negated, their heat counts up again from below zero: one loop does
      // not get a region (that must warm up in V8) at every instruction where a slice ended.
      // The magnitude stays the profile that decides which jump targets join regions.
      if (o !== off && heat[o >> 1] > 0) heat[o >> 1] = -heat[o >> 1];
    }
    page.blockCount++;
    this.compiledBlocks++;
    this.stats.compilations++;
  }

  /** Whether the wasm tier translates every instruction at the page offsets `offsets`. */
  #allTranslatable(page: DecodedPage, offsets: readonly number[]): boolean {
    for (let i = 0; i < offsets.length; i++) {
      if (!translatable(page.ops[offsets[i] >> 1] & 255)) return false;
    }
    return true;
  }

  /**
   * Translates the region at page offset `off` into wasm, with the page's other hot entries in
   * the same module (wasm_tier.ts); false when the instruction at `off` is not translatable.
   */
  #compileWasm(page: DecodedPage, off: number): boolean {
    const heat = page.heat;
    const fetch = pageFetcher(page.view);
    const first = discoverRegion(off, fetch);
    if (first === null) return false;
    // The page's other hot instructions that no unit covers get their regions in the same
    // module (in address order, so that a loop's header comes before its body).
    const regions = [first];
    const taken = new Uint8Array(2048);
    const take = (r: Region) => {
      for (const b of r.blocks) for (const i of b.insns) taken[i.pc >> 1] = 1;
    };
    take(first);
    const warm = this.#jitThreshold >> 1;
    for (let slot = 0; slot < 2048 && regions.length < 16; slot++) {
      if (
        heat[slot] < warm || taken[slot] !== 0 || page.blocks[slot] !== null ||
        page.covered[slot] !== 0 || page.ops[slot] === 0 || !translatable(page.ops[slot] & 255)
      ) continue;
      const r = discoverRegion(slot << 1, fetch);
      if (r === null) continue;
      regions.push(r);
      take(r);
    }
    const units = this.#wasm!.translate(regions);
    for (const unit of units) {
      if (unit === null) continue;
      const { region, fn, index } = unit;
      const slot = region.entry >> 1;
      if (page.blocks[slot] !== null) continue;
      page.blocks[slot] = fn;
      page.blockLengths[slot] = 1;
      page.unitIndex[slot] = index;
      for (const b of region.blocks) {
        for (const insn of b.insns) {
          const o = insn.pc;
          page.covered.fill(1, o >> 1, Math.min(2048, (o + (insn.word >>> 26) + 1) >> 1));
          // As for the JavaScript tier (#compile): the region's other instructions count up
          // again from below zero.
          if (o !== region.entry && heat[o >> 1] > 0) heat[o >> 1] = -heat[o >> 1];
        }
      }
      page.blockCount++;
      this.compiledBlocks++;
      this.stats.compilations++;
      this.stats.wasmCompilations++;
    }
    return true;
  }

  // ---------------------------------------------------------------- atomics

  // ---------------------------------------------------------------- memory instructions

  /** A load the fast path missed (memory_access.ts). */
  #load(w: number, imm: number): boolean {
    return this.#mem.load(w, imm) && this.#completed(w);
  }

  /** A store the fast path missed (memory_access.ts). */
  #store(w: number, imm: number): boolean {
    return this.#mem.store(w, imm) && this.#completed(w);
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

  /** Fetches and decodes an instruction that straddles a page boundary into #crossWord/Imm. */
  #fetchCross(pc: number): boolean {
    if (!this.#mem.fetchCross(pc)) return false;
    this.#crossWord = this.#mem.crossWord;
    this.#crossImm = this.#mem.crossImm;
    return true;
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
      case Op.MRET:
        if (this.#priv < 3) return this.#illegal(0x30200073);
        this.#setPriv(leaveMret(this.#csrs));
        this.pc = this.#csrs.get64(Csr.mepc);
        this.#irqCheck = true;
        return;
      case Op.SRET:
        if (sretIllegal(this.#csrs, this.#priv)) return this.#illegal(0x10200073);
        this.#setPriv(leaveSret(this.#csrs));
        this.pc = this.#csrs.get64(Csr.sepc);
        this.#irqCheck = true;
        return;
      case Op.WFI:
        if (wfiIllegal(this.#csrs, this.#priv)) return this.#illegal(0x10500073);
        this.pc += 4;
        if (this.#exitOnWfi) {
          this.#stop = StopReason.Wfi;
          return;
        }
        if (!wakesFromWfi(this.#csrs)) {
          this.waiting = true;
          this.#stop = StopReason.Wfi;
        }
        return;
      case Op.SFENCE_VMA: {
        if (sfenceIllegal(this.#csrs, this.#priv)) {
          return this.#illegal(0x12000073 | (((w >> 14) & 31) << 15) | (((w >> 20) & 31) << 20));
        }
        const r1 = (w >> 14) & 31;
        if (r1 === 0) {
          this.#area.chain[0]++; // the jump cache's pcs may fetch elsewhere now
          this.#mem.flushTlb(TlbFlushCause.Sfence);
        } else {
          // One page: its entries in every TLB (all of them for a superpage it lies in), and
          // the jump cache's in its gigapage (which holds any superpage around it).
          const va = this.xh[r1] * TWO32 + (this.xl[r1] >>> 0);
          this.#mem.flushTlbRange(va, 1);
          this.#forgetJumps(va - (va % GIGAPAGE + GIGAPAGE) % GIGAPAGE);
        }
        this.pc += 4;
        return;
      }
      case Op.FENCE_I: {
        const flushes = this.stats.fenceIFlushes;
        this.#mem.fenceI();
        // Decoded code dropped (the host wrote RAM): the jump cache may name dropped units.
        if (this.stats.fenceIFlushes !== flushes) this.#area.chain[0]++;
        this.pc += 4;
        return;
      }
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
        if (amo(this.#mem, this.#reservation, this.xl, this.xh, w)) this.pc += 4;
        return;
      default:
        // An op this switch does not know is an illegal instruction, never something else.
        return this.#illegal(this.#mem.instructionBits(this.pc, w >>> 26));
    }
  }

  /** Drops the jump cache entries of pcs in the gigapage at `start`. */
  #forgetJumps(start: number): void {
    const jumpTag = this.#area.jumpTag;
    for (let h = 0; h < jumpTag.length; h++) {
      const t = jumpTag[h];
      if (t >= start && t < start + GIGAPAGE) jumpTag[h] = NaN; // equal to no pc
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

  /**
   * Executes an F/D instruction (FS Off: illegal). Returns true when it completed (pc not
   * advanced), false after a trap or a requested stop.
   */
  #fp(w: number, imm: number): boolean {
    const op = w & 255;
    if ((this.#csrs.ms & Mstatus.FS) === 0) {
      this.#illegal(this.#mem.instructionBits(this.pc, w >>> 26));
      return false;
    }
    const fr = this.fp;
    const words = fr.words;
    if (op === Op.FLW || op === Op.FLD) {
      const d = op === Op.FLD;
      if (!this.#mem.readData(this.#mem.ea(w, imm), d ? 8 : 4, false)) return false;
      const rd = (w >> 8) & 31;
      words[rd * 2] = this.#mem.loadedLo;
      words[rd * 2 + 1] = d ? this.#mem.loadedHi : -1;
      this.#csrs.markFsDirty();
      return this.#completed(w);
    }
    if (op === Op.FSW || op === Op.FSD) {
      const r2 = (w >> 20) & 31;
      return this.#mem.writeData(
        this.#mem.ea(w, imm),
        op === Op.FSD ? 8 : 4,
        words[r2 * 2],
        words[r2 * 2 + 1],
      ) && this.#completed(w);
    }
    const r1 = (w >> 14) & 63;
    if (fpExec(fr, w, imm, this.xl[r1], this.xh[r1]) !== 0) {
      this.#illegal(this.#mem.instructionBits(this.pc, w >>> 26));
      return false;
    }
    if (FP_INT_RESULT_OPS.has(op)) {
      const rd = (w >> 8) & 63;
      this.xl[rd] = fr.intOut[0];
      this.xh[rd] = fr.intOut[1];
    }
    if (!FP_CLEAN_OPS.has(op)) this.#csrs.markFsDirty();
    return true;
  }

  #csrInstr(w: number, imm: number): void {
    const op = w & 255;
    const num = imm & 0xfff;
    // A new address space: the jump cache's pcs may fetch elsewhere. (Privilege changes go
    // through #setPriv; other CSRs do not change what an instruction fetch gets.)
    if (num === Csr.satp) this.#area.chain[0]++;
    const rdField = (w >> 8) & 63;
    const rd = rdField === 32 ? 0 : rdField;
    const src = (w >> 14) & 63;
    const f3 = op - Op.CSRRW + (op >= Op.CSRRWI ? 2 : 1);
    const bits = (num << 20) | (src << 15) | (f3 << 12) | (rd << 7) | 0x73;
    const writes = op === Op.CSRRW || op === Op.CSRRWI || src !== 0;
    if (csrMinPriv(num) > this.#priv || (writes && csrReadOnly(num))) return this.#illegal(bits);
    const csrs = this.#csrs;
    if (!csrs.read(num, this.#priv, false)) return this.#illegal(bits);
    const ol = csrs.lo;
    const oh = csrs.hi;
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
      if (!csrs.write(num, nl, nh)) return this.#illegal(bits);
    }
    this.xl[rdField] = ol;
    this.xh[rdField] = oh;
    this.pc += 4;
    this.#irqCheck = true;
  }

  // ---------------------------------------------------------------- CSRs

  /**
   * The Sstc timer: the `stimecmp` value (timebase ticks) at which mip.STIP rises, or
   * `undefined` when Sstc is off (menvcfg.STCE clear) or stimecmp is beyond 2^63. The VMM uses
   * it to wake a vCPU waiting in wfi.
   */
  sstcDeadline(): number | undefined {
    return this.#csrs.sstcDeadline();
  }

  #counterNow(): number {
    return this.instret + this.#runCount - this.#exc;
  }

  // ---------------------------------------------------------------- traps and interrupts

  /** Enters privilege `p` after mstatus was updated (a trap or xRET). */
  #setPriv(p: 0 | 1 | 3): void {
    if (p !== this.#priv) this.#area.chain[0]++; // fetch permissions follow the privilege
    this.#priv = p;
    // Also when p is unchanged: a trap into M rewrites MPP, which MPRV accesses use.
    this.#mem.retainTlb();
  }

  /** Raises an exception whose tval is a number (a pc or address). */
  #trapNum(cause: number, tval: number): void {
    this.#trap(cause, false, tval | 0, Math.floor(tval / TWO32) | 0);
  }

  /**
   * Takes a trap at this.pc: an exception (`interrupt` false) or an interrupt; tval given as
   * int32 halves (traps.ts decides where it goes and what it writes).
   */
  #trap(cause: number, interrupt: boolean, tLo: number, tHi: number): void {
    (interrupt ? this.stats.interrupts : this.stats.exceptions)[cause & 15]++;
    this.#reservation.valid = false;
    if (!interrupt) this.#exc++;
    const from = this.#priv;
    const target = trapTarget(this.#csrs, from, cause, interrupt);
    this.pc = enterTrap(this.#csrs, target, from, this.pc, cause, interrupt, tLo, tHi);
    this.#setPriv(target);
    this.#irqCheck = true;
  }

  /** Takes the highest-priority pending and enabled interrupt, if any. */
  #checkInterrupts(): boolean {
    const irq = pendingInterrupt(this.#csrs, this.#priv);
    if (irq < 0) return false;
    this.waiting = false;
    this.#trap(irq, true, 0, 0);
    return true;
  }
}
