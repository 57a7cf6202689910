/**
 * The hart's memory side (QEMU's get_physical_address and the load/store helpers of
 * target/riscv): the software TLBs and their refills, instruction fetch into decoded pages
 * (page-crossing instructions included), address translation of loads and stores with their
 * faults, page-crossing and device (MMIO) accesses, stores into decoded code, and write
 * watches. Its state is caches and per-access scratch; the architectural state it reads
 * (satp, mstatus) is the {@linkcode CsrFile}'s.
 *
 * @module
 */

import type { Bus, BusRegion } from "../bus.ts";
import type { SparseMemory } from "../memory.ts";
import { Cause, Mstatus } from "./csr.ts";
import type { CsrFile } from "./csr_file.ts";
import { decode, Op } from "./decoder.ts";
import { type HartStats, TlbFlushCause } from "./hart_stats.ts";
import { Access, Pte, type WalkOutput, WalkResult, walkSv39 } from "./mmu.ts";
import { DecodedPage } from "./decoded_page.ts";
import {
  codeGroupGeneration,
  codeGroupOf,
  codeGroups,
  codeStore,
  leaveCodeGroup,
} from "./code_group.ts";
import { leafSizeFlags, SoftTlb, staleFlags, TlbEntry } from "./soft_tlb.ts";
import type { BusErrorInfo } from "./hart_state.ts";
import type { HartArea } from "./wasm/hart_area.ts";

const TWO32 = 4294967296;
/** Physical addresses are 56 bits wide (Sv39's PPN); fetches at or above fault. */
const PA_LIMIT = 2 ** 56;

/**
 * Called by `Hart.watchWrites` right after a store wrote watched bytes: `pa` and `width`
 * describe the store (physical address, bytes). It may call `Hart.requestStop`.
 */
export type WriteWatch = (pa: number, width: number) => void;

/** Stores the low `width` bytes of lo/hi at offset `po` of a RAM page view. */
function storeTo(view: DataView, po: number, width: number, lo: number, hi: number): void {
  if (width === 8) {
    view.setInt32(po, lo, true);
    view.setInt32(po + 4, hi, true);
  } else if (width === 4) view.setInt32(po, lo, true);
  else if (width === 2) view.setInt16(po, lo, true);
  else view.setInt8(po, lo);
}

/** What the memory side needs from its hart. */
export interface MemoryHost {
  /** The current privilege level. */
  priv(): number;
  /** The pc of the instruction being executed. */
  pc(): number;
  /** Sets the pc (a fetch fault reports the faulting instruction's pc). */
  setPc(pc: number): void;
  /** Raises an exception at the current pc, tval given as int32 halves. */
  exception(cause: number, tLo: number, tHi: number): void;
  /** Ends the run with StopReason.BusError (`lastBusError` is filled in). */
  stopOnBusError(): void;
  /** A store reached a device: interrupts may have changed. */
  deviceWritten(): void;
}

/** How a {@linkcode MemoryAccess} is wired. */
export interface MemoryAccessOptions {
  /** The physical address space. */
  bus: Bus;
  /** The hart's CSRs (satp, mstatus). */
  csrs: CsrFile;
  /** Where page walks, flushes and code drops are counted. */
  stats: HartStats;
  /** Low register halves (loads write them, stores and AMOs read them). */
  xl: Int32Array;
  /** High register halves. */
  xh: Int32Array;
  /** Filled in when an access nobody answers stops the run. */
  lastBusError: BusErrorInfo;
  /** The hart's area: the load and store TLB tags live there, for the wasm tier. */
  area?: HartArea;
  /** An unanswered access stops the run instead of raising an access fault. */
  exitOnBusError: boolean;
  /** The hart. */
  host: MemoryHost;
}

/** The memory side of one hart. */
export class MemoryAccess {
  /** The physical address space. */
  readonly bus: Bus;
  /** The software TLBs (the run loop and compiled blocks hold their arrays). */
  readonly tlb: SoftTlb;
  /** Where page walks, flushes and code drops are counted. */
  readonly stats: HartStats;
  /** Low word of the effective address of the access in progress (see {@linkcode ea}). */
  eaLo = 0;
  /** High word of the effective address of the access in progress. */
  eaHi = 0;
  /** Low word of the value the last {@linkcode readData} loaded (extended to 64 bits). */
  loadedLo = 0;
  /** High word of the value the last {@linkcode readData} loaded. */
  loadedHi = 0;
  /** The decoded word of the last page-crossing instruction {@linkcode fetchCross} fetched. */
  crossWord = 0;
  /** Its immediate. */
  crossImm = 0;
  readonly #csrs: CsrFile;
  readonly #xl: Int32Array;
  readonly #xh: Int32Array;
  readonly #lastBusError: BusErrorInfo;
  readonly #exitOnBusError: boolean;
  readonly #host: MemoryHost;
  #walk: WalkOutput = { pa: 0, pte: 0, level: 0, pteAddr: 0 };
  /** TlbEntry flags of the last translation by dataPa/#fetchPa. */
  #xlatFlags = 0;
  /** Write watches: [physical start, end (exclusive), callback]. */
  #watches: { start: number; end: number; onWrite: WriteWatch }[] = [];
  /** This hart's decoded pages by RAM page view. */
  #code = new Map<DataView, DecodedPage>();
  #codeGroupGen = -1;
  /** Host writes into RAM (summed over #memories) when this hart's code was last known good. */
  #hostWrites = 0;
  #busGen = -1;
  #memGen = -1;
  #memories: SparseMemory[] = [];

  /** Wires the memory side of a hart. */
  constructor(options: MemoryAccessOptions) {
    this.bus = options.bus;
    this.#csrs = options.csrs;
    this.stats = options.stats;
    this.#xl = options.xl;
    this.tlb = new SoftTlb(options.area);
    this.#xh = options.xh;
    this.#lastBusError = options.lastBusError;
    this.#exitOnBusError = options.exitOnBusError;
    this.#host = options.host;
  }

  /** Drops every cached translation and decoded instruction. */
  flushCaches(): void {
    this.flushTlb(TlbFlushCause.Host);
    this.dropCode();
  }

  /**
   * `fence.i`: every hart's stores into code already invalidated what they overlap, so only
   * writes by the host since the code was decoded make this drop the decoded code.
   */
  fenceI(): void {
    this.stats.fenceI++;
    if (this.#hostWriteCount() === this.#hostWrites) return;
    this.stats.fenceIFlushes++;
    this.dropCode();
  }

  /**
   * Drops the cached translations of the virtual pages [`va`, `va + size`) touches (`va`
   * signed; `size` in bytes, at least 1).
   */
  flushTlbRange(va: number, size: number): void {
    const first = va - (va & 4095);
    for (let a = first; a < va + size; a += 4096) this.tlb.dropAddress(a);
    this.stats.tlbFlushesBy[TlbFlushCause.SfencePage]++;
  }

  /** Watches the physical bytes [`pa`, `pa + length`) (see `Hart.watchWrites`). */
  watchWrites(pa: number, length: number, onWrite: WriteWatch): () => void {
    const watch = { start: pa, end: pa + length, onWrite };
    this.#watches.push(watch);
    this.tlb.flushStores();
    return () => {
      const i = this.#watches.indexOf(watch);
      if (i >= 0) this.#watches.splice(i, 1);
    };
  }

  /** Raises exception `cause` with the effective address of the access as tval. */
  fault(cause: number): void {
    this.#host.exception(cause, this.eaLo, this.eaHi);
  }

  /** Raises an exception whose tval is a number (a pc or address). */
  #exceptionAt(cause: number, tval: number): void {
    this.#host.exception(cause, tval | 0, Math.floor(tval / TWO32) | 0);
  }

  #hostWriteCount(): number {
    let n = 0;
    for (const m of this.#memories) n += m.hostWrites;
    return n;
  }

  /** Drops the decoded instructions (and the fetch TLBs' entries): fetches decode again. */
  dropCode(): void {
    this.tlb.flushFetches();
    for (const [view, page] of this.#code) leaveCodeGroup(view, page);
    if (this.#code.size !== 0) this.stats.codeFlushes++;
    this.#code.clear();
    this.#hostWrites = this.#hostWriteCount();
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

  /** Drops every cached translation, counted under `cause` (a `TlbFlushCause`). */
  flushTlb(cause: number): void {
    this.stats.tlbFlushes++;
    this.stats.tlbFlushesBy[cause]++;
    this.tlb.flushAll();
    this.#setStaleFlags(); // a satp write may have turned translation on or off
  }

  /**
   * Computes the stale flags (see soft_tlb.ts) of the current translation context into the
   * TLBs; returns whether some first-level entries may be stale.
   */
  #setStaleFlags(): boolean {
    const translated = this.#csrs.satpMode === 8;
    const ms = this.#csrs.ms;
    const priv = this.#host.priv();
    const dataPriv = priv === 3 && (ms & Mstatus.MPRV) !== 0 ? (ms >> 11) & 3 : priv;
    const t = this.tlb;
    t.fetchStale = staleFlags(translated && priv < 3, priv, false, false, true);
    t.dataStale = staleFlags(
      translated && dataPriv < 3,
      dataPriv,
      (ms & Mstatus.SUM) !== 0,
      (ms & Mstatus.MXR) !== 0,
      false,
    );
    return t.dropStale(t.fetchStale, t.dataStale);
  }

  /**
   * The translation context changed (privilege, MPRV/MPP, SUM, MXR): drops the cached
   * translations the new context may not use (see soft_tlb.ts). Cheap when none may be stale.
   */
  retainTlb(): void {
    if (this.#setStaleFlags()) this.stats.tlbFlushesBy[TlbFlushCause.Context]++;
  }

  /**
   * Before a run: follows bus remaps and reloaded memories (dropping the caches), and moves
   * store-TLB entries of pages other harts decoded since to the code-store TLB.
   */
  syncCaches(): void {
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
    const memories = this.#memories; // indexed: no iterator per run (an idle tick's path)
    for (let i = 0; i < memories.length; i++) g += memories[i].generation;
    if (g !== this.#memGen) {
      this.#memGen = g;
      this.flushCaches();
    }
    if (this.#codeGroupGen !== codeGroupGeneration.value) {
      // Other harts decoded new pages: stores into them must now go through codeStore.
      this.#codeGroupGen = codeGroupGeneration.value;
      this.tlb.sortStores((view) => codeGroups.get(view));
    }
  }

  /**
   * Copy-on-write gave a RAM page a private copy (same bytes): cached translations and decoded
   * code that point at the old view follow it to the new one.
   */
  pageReplaced(old: DataView, now: DataView): void {
    this.tlb.pageReplaced(old, now);
    const code = this.#code.get(old);
    if (code !== undefined) {
      this.#code.delete(old);
      leaveCodeGroup(old, code);
      code.view = now;
      this.#code.set(now, code);
      codeGroupOf(now).pages.push(code);
    }
  }

  /**
   * Pages of a memory became shared copy-on-write: the store TLBs drop their views, so that the
   * next store to each page takes a private copy first. Loads and decoded code stay cached.
   */
  pagesShared(): void {
    this.tlb.flushStores();
  }

  /** The RAM page view for physical address `pa` in region `r` (allocating it if `alloc`). */
  #ramView(r: BusRegion, pa: number, alloc: boolean): DataView | undefined {
    const idx = Math.floor((r.memoryOffset! + pa - r.base) / 4096);
    return alloc ? r.memory!.pageForWrite(idx) : r.memory!.page(idx);
  }

  /** Translates the fetch address `pc` to a physical address, or traps (returns -1). */
  #fetchPa(va: number, instrPc: number): number {
    if (this.#csrs.satpMode === 8 && this.#host.priv() < 3) {
      this.stats.pageWalks++;
      const r = walkSv39(
        this.bus,
        this.#csrs.satpPpn,
        va,
        Access.Fetch,
        this.#host.priv(),
        false,
        false,
        this.#walk,
      );
      if (r !== WalkResult.Ok) {
        this.#host.setPc(instrPc);
        this.#exceptionAt(
          r === WalkResult.PageFault ? Cause.InstructionPageFault : Cause.InstructionAccessFault,
          va,
        );
        return -1;
      }
      this.#xlatFlags = ((this.#walk.pte & Pte.U) !== 0 ? TlbEntry.User : TlbEntry.Supervisor) |
        leafSizeFlags(this.#walk.level);
      return this.#walk.pa;
    }
    this.#xlatFlags = TlbEntry.Bare;
    if (va < 0 || va >= PA_LIMIT) {
      // Bare: bit 63 set, or beyond the 56-bit physical address space. No such memory exists
      // on any bus, so this is the guest's own access fault (never a VMM bus error).
      this.#host.setPc(instrPc);
      this.#exceptionAt(Cause.InstructionAccessFault, va);
      return -1;
    }
    return va;
  }

  /**
   * The fetch-TLB miss path: translates `pc`, finds (or creates) the decoded page of its RAM
   * page and caches it; null after a fault or a bus-error stop (pc is the faulting one).
   */
  fetchPage(pc: number): DecodedPage | null {
    const t = this.tlb;
    const base = pc - (pc & 4095);
    const hit = t.fetch2.find(base, t.fetchStale);
    if (hit >= 0) {
      const cached = t.fetch2.page[hit];
      t.fillFetch(base, cached, t.fetch2.flags[hit]);
      return cached;
    }
    const pa = this.#fetchPa(pc, pc);
    if (pa < 0) return null;
    const flags = this.#xlatFlags;
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
      // Other harts' store TLBs learn of a new group at their next run; this one's is done here.
      const known = this.#codeGroupGen === codeGroupGeneration.value;
      const group = codeGroupOf(view);
      if (known) this.#codeGroupGen = codeGroupGeneration.value;
      group.pages.push(page);
      // Stores to this page must now invalidate decoded slots: move its write-TLB entries.
      this.tlb.moveToCodeStores(view, group);
    }
    this.tlb.fillFetch(pc - (pc & 4095), page, flags);
    return page;
  }

  /** Fetches and decodes a 32-bit instruction that straddles a page boundary. */
  fetchCross(pc: number): boolean {
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
    this.crossWord = d.word;
    this.crossImm = d.imm;
    return true;
  }

  // ---------------------------------------------------------------- data accesses

  /** Computes rs1 + imm exactly into #eaLo/#eaHi and returns it as a number. */
  ea(w: number, imm: number): number {
    const r1 = (w >> 14) & 63;
    const al = this.#xl[r1];
    this.eaLo = (al + imm) | 0;
    this.eaHi = (this.#xh[r1] + (imm >> 31) + ((al >>> 0) + (imm >>> 0) > 4294967295 ? 1 : 0)) | 0;
    return this.eaHi * TWO32 + (this.eaLo >>> 0);
  }

  /** Effective privilege of loads and stores (MPRV). */
  #dataPriv(): number {
    return this.#host.priv() === 3 && (this.#csrs.ms & Mstatus.MPRV) !== 0
      ? (this.#csrs.ms >> 11) & 3
      : this.#host.priv();
  }

  /**
   * Translates a data address. Returns the physical address, or -1 after raising a fault, or -2
   * when the address cannot exist physically (reported as unanswered by the caller).
   */
  dataPa(va: number, store: boolean): number {
    // A cached translation answers first (AMOs, LR/SC, FP and other slow-path accesses).
    const t = this.tlb;
    const ti = (va >>> 12) & 255;
    const po = va & 4095;
    if (store) {
      if (t.wTag[ti] === va - po) {
        this.#xlatFlags = t.wFlags[ti];
        return t.wPa[ti] + po;
      }
      if (t.wcTag[ti] === va - po) {
        this.#xlatFlags = t.wcFlags[ti];
        return t.wcPa[ti] + po;
      }
    } else if (t.rTag[ti] === va - po) {
      this.#xlatFlags = t.rFlags[ti];
      return t.rPa[ti] + po;
    }
    const level2 = store ? t.store2 : t.load2;
    const hit = level2.find(va - po, t.dataStale);
    if (hit >= 0) {
      this.#xlatFlags = level2.flags[hit];
      return level2.pa[hit] + po;
    }
    const eff = this.#dataPriv();
    const wild = this.eaHi < -0x200000 || this.eaHi >= 0x200000;
    if (this.#csrs.satpMode === 8 && eff < 3) {
      this.stats.pageWalks++;
      const r = wild ? WalkResult.PageFault : walkSv39(
        this.bus,
        this.#csrs.satpPpn,
        va,
        store ? Access.Store : Access.Load,
        eff,
        (this.#csrs.ms & Mstatus.SUM) !== 0,
        (this.#csrs.ms & Mstatus.MXR) !== 0,
        this.#walk,
      );
      if (r === WalkResult.Ok) {
        const pte = this.#walk.pte;
        this.#xlatFlags = ((pte & Pte.U) !== 0 ? TlbEntry.User : TlbEntry.Supervisor) |
          ((pte & Pte.R) === 0 ? TlbEntry.Mxr : 0) | leafSizeFlags(this.#walk.level);
        return this.#walk.pa;
      }
      const cause = r === WalkResult.PageFault
        ? (store ? Cause.StorePageFault : Cause.LoadPageFault)
        : (store ? Cause.StoreAccessFault : Cause.LoadAccessFault);
      this.#host.exception(cause, this.eaLo, this.eaHi);
      return -1;
    }
    this.#xlatFlags = TlbEntry.Bare;
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
      const e = this.#lastBusError;
      e.addr = addr;
      e.width = width;
      e.write = write;
      e.fetch = fetch;
      e.pc = this.#host.pc();
      this.#host.stopOnBusError();
      return;
    }
    if (fetch) this.#exceptionAt(cause, tLo);
    else this.#host.exception(cause, tLo, tHi);
  }

  /** Reads `width` bytes at virtual address `va` (#eaLo/#eaHi hold it) into #csrLo/#csrHi. */
  readData(va: number, width: number, signed: boolean): boolean {
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
    const t = this.tlb;
    const ti = (va >>> 12) & 255;
    if (t.rTag[ti] === va - po) {
      this.#loadFrom(t.rPage[ti], po, width, signed);
      return true;
    }
    const hit = t.load2.find(va - po, t.dataStale);
    if (hit >= 0) {
      const view = t.load2.page[hit];
      t.fillLoad(va - po, t.load2.pa[hit], view, t.load2.flags[hit]);
      this.#loadFrom(view, po, width, signed);
      return true;
    }
    const pa = this.dataPa(va, false);
    if (pa === -1) return false;
    const r = pa === -2 ? undefined : this.bus.find(pa);
    if (r === undefined || pa + width > r.base + r.size) {
      this.#busError(
        pa === -2 ? va : pa,
        width,
        false,
        false,
        Cause.LoadAccessFault,
        this.eaLo,
        this.eaHi,
      );
      return false;
    }
    if (r.kind === "ram") {
      const view = this.#ramView(r, pa, false);
      if (view === undefined) {
        this.#setLoaded(0, 0, width, signed);
        return true;
      }
      this.tlb.fillLoad(va - po, pa - po, view, this.#xlatFlags);
      this.#loadFrom(view, po, width, signed);
      return true;
    }
    if (pa % width !== 0) {
      this.#host.exception(Cause.LoadAccessFault, this.eaLo, this.eaHi);
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

  /** Loads `width` bytes at offset `po` of a RAM page view into loadedLo/loadedHi. */
  #loadFrom(view: DataView, po: number, width: number, signed: boolean): void {
    const lo = width === 8 || width === 4
      ? view.getInt32(po, true)
      : width === 2
      ? view.getUint16(po, true)
      : view.getUint8(po);
    this.#setLoaded(lo, width === 8 ? view.getInt32(po + 4, true) : 0, width, signed);
  }

  #setLoaded(lo: number, hi: number, width: number, signed: boolean): void {
    if (width === 8) {
      this.loadedLo = lo | 0;
      this.loadedHi = hi | 0;
      return;
    }
    const shift = 32 - 8 * width;
    const v = signed
      ? (lo << shift) >> shift
      : shift === 0
      ? lo | 0
      : lo & ((1 << (8 * width)) - 1);
    this.loadedLo = v;
    this.loadedHi = signed ? v >> 31 : 0;
  }

  /** Writes the low `width` bytes of lo/hi at virtual address `va` (#eaLo/#eaHi hold it). */
  writeData(va: number, width: number, lo: number, hi: number): boolean {
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
    const ti = (va >>> 12) & 255;
    const t = this.tlb;
    // Cached store translations (watched pages are never cached).
    const cached = t.wTag[ti] === va - po
      ? t.wPage[ti]
      : t.wcTag[ti] === va - po
      ? codeStore(t.wcPage[ti], po, width)
      : undefined;
    if (cached !== undefined) {
      storeTo(cached, po, width, lo, hi);
      return true;
    }
    const hit = t.store2.find(va - po, t.dataStale);
    if (hit >= 0) {
      const view = t.store2.page[hit];
      const group = codeGroups.get(view);
      const pa = t.store2.pa[hit];
      const flags = t.store2.flags[hit];
      if (group !== undefined) {
        codeStore(group, po, width);
        t.fillCodeStore(va - po, pa, group, flags);
      } else t.fillStore(va - po, pa, view, flags);
      t.fillLoad(va - po, pa, view, flags);
      storeTo(view, po, width, lo, hi);
      return true;
    }
    const pa = this.dataPa(va, true);
    if (pa === -1) return false;
    const r = pa === -2 ? undefined : this.bus.find(pa);
    if (r === undefined || pa + width > r.base + r.size) {
      this.#busError(
        pa === -2 ? va : pa,
        width,
        true,
        false,
        Cause.StoreAccessFault,
        this.eaLo,
        this.eaHi,
      );
      return false;
    }
    if (r.kind === "ram") {
      const view = this.#ramView(r, pa, true)!;
      const code = codeGroups.get(view);
      const flags = this.#xlatFlags;
      const watched = this.#watches.length !== 0 && this.#watchedPage(pa);
      if (code !== undefined) {
        codeStore(code, po, width);
        if (!watched) this.tlb.fillCodeStore(va - po, pa - po, code, flags);
      } else if (!watched) this.tlb.fillStore(va - po, pa - po, view, flags);
      this.tlb.fillLoad(va - po, pa - po, view, flags);
      storeTo(view, po, width, lo, hi);
      if (watched) this.#fireWatches(pa, width);
      return true;
    }
    if (pa % width !== 0) {
      this.#host.exception(Cause.StoreAccessFault, this.eaLo, this.eaHi);
      return false;
    }
    if (width === 8) this.bus.writePair(pa, lo, hi);
    else this.bus.write(pa, width as 1 | 2 | 4, lo);
    this.#host.deviceWritten();
    return true;
  }

  /**
   * Physical addresses of the `width` bytes of a page-crossing access at `va`, or null after a
   * fault or a bus error. Misaligned accesses to devices raise access faults.
   */
  #crossPas(va: number, width: number, store: boolean): number[] | null {
    const eaLo = this.eaLo;
    const eaHi = this.eaHi;
    const pas: number[] = [];
    for (let i = 0; i < width; i++) {
      const pa = this.dataPa(va + i, store);
      this.eaLo = eaLo;
      this.eaHi = eaHi;
      if (pa === -1) return null;
      const r = pa === -2 ? undefined : this.bus.find(pa);
      const cause = store ? Cause.StoreAccessFault : Cause.LoadAccessFault;
      if (r === undefined) {
        this.#busError(pa === -2 ? va : pa, width, store, false, cause, eaLo, eaHi);
        return null;
      }
      if (r.kind !== "ram") {
        this.#host.exception(cause, eaLo, eaHi);
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

  /** Executes the load `w` (decoded word, immediate `imm`); false after a fault or stop. */
  load(w: number, imm: number): boolean {
    const op = w & 255;
    const va = this.ea(w, imm);
    const width = op === Op.LD
      ? 8
      : op === Op.LW || op === Op.LWU
      ? 4
      : op === Op.LH || op === Op.LHU
      ? 2
      : 1;
    const signed = op === Op.LB || op === Op.LH || op === Op.LW;
    if (!this.readData(va, width, signed)) return false;
    const rd = (w >> 8) & 63;
    this.#xl[rd] = this.loadedLo;
    this.#xh[rd] = this.loadedHi;
    return true;
  }

  /** Executes the store `w` (decoded word, immediate `imm`); false after a fault or stop. */
  store(w: number, imm: number): boolean {
    const op = w & 255;
    const va = this.ea(w, imm);
    const width = op === Op.SD ? 8 : op === Op.SW ? 4 : op === Op.SH ? 2 : 1;
    const r2 = (w >> 20) & 63;
    return this.writeData(va, width, this.#xl[r2], this.#xh[r2]);
  }

  /** Re-reads the bits of the instruction at `pc` (it was just fetched), for mtval; 0 if gone. */
  instructionBits(pc: number, len: number): number {
    let bits = 0;
    for (let k = 0; k < len; k += 2) {
      const va = pc + k;
      let pa = va;
      if (this.#csrs.satpMode === 8 && this.#host.priv() < 3) {
        const r = walkSv39(
          this.bus,
          this.#csrs.satpPpn,
          va,
          Access.Fetch,
          this.#host.priv(),
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
}
