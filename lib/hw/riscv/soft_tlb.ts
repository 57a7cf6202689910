/**
 * The hart's software TLBs: four direct-mapped caches (256 entries each) of the translation of
 * a virtual page to a RAM page: loads, stores to pages without decoded code, stores to pages
 * with decoded code (through their {@linkcode CodeGroup}) and fetches (to the
 * {@linkcode DecodedPage}). The interpreter and compiled blocks hit them with one tag compare
 * (`tag[(va >>> 12) & 255] === va - (va & 4095)`); everything else is a miss.
 *
 * Each entry also records what its translation depended on ({@linkcode TlbEntry}): whether it
 * was translated at all, the leaf's U bit, whether only mstatus.MXR allowed the load, and the
 * leaf's size. The hit path never reads these flags; they make a change of translation context
 * (privilege, MPRV, SUM, MXR) drop only the entries the new context may not use, and
 * `sfence.vma` with an address drop only the entries of that page, instead of everything.
 *
 * @module
 */

import { type CodeGroup, dummyGroup } from "./code_group.ts";
import { type DecodedPage, dummyPage, dummyView } from "./decoded_page.ts";
import type { HartArea, WasmTlb } from "./wasm/hart_area.ts";

/** Entries per TLB (direct mapped by virtual page number bits 0..7). */
export const TLB_SIZE = 256;

/** What an entry's translation depended on (bits of the per-entry flags). */
export const TlbEntry = {
  /** Not translated (M-mode, or satp Bare): the virtual page is the physical page. */
  Bare: 1,
  /** An Sv39 leaf with U clear (a supervisor page). */
  Supervisor: 2,
  /** An Sv39 leaf with U set (a user page). */
  User: 4,
  /** A load that only mstatus.MXR allowed (an execute-only page). */
  Mxr: 8,
  /** The leaf is a 2 MiB megapage. */
  Mega: 16,
  /** The leaf is a 1 GiB gigapage. */
  Giga: 32,
} as const;

/**
 * The entry flags that are stale in a translation context: `translated` (Sv39 on and the
 * access's effective privilege below M), the effective privilege `priv`, mstatus SUM and MXR,
 * for fetches or for data accesses.
 */
export function staleFlags(
  translated: boolean,
  priv: number,
  sum: boolean,
  mxr: boolean,
  fetch: boolean,
): number {
  if (!translated) return TlbEntry.Supervisor | TlbEntry.User;
  let stale: number = TlbEntry.Bare;
  if (priv === 0) stale |= TlbEntry.Supervisor;
  else if (fetch || !sum) stale |= TlbEntry.User;
  if (!fetch && !mxr) stale |= TlbEntry.Mxr;
  return stale;
}

/** Page-size flags of a leaf at `level` (0: 4 KiB, 1: 2 MiB, 2: 1 GiB). */
export function leafSizeFlags(level: number): number {
  return level === 0 ? 0 : level === 1 ? TlbEntry.Mega : TlbEntry.Giga;
}

/**
 * Drops the entries of one TLB (and of its wasm mirror, if any) whose flags meet `stale`;
 * returns the survivors' flags.
 */
function dropStale(
  tag: Float64Array,
  flags: Uint8Array,
  stale: number,
  wasm: WasmTlb | undefined,
): number {
  let present = 0;
  for (let i = 0; i < TLB_SIZE; i++) {
    if (tag[i] === -1) continue;
    if ((flags[i] & stale) !== 0) {
      tag[i] = -1;
      wasm?.drop(i);
    } else present |= flags[i];
  }
  return present;
}

/**
 * Drops the entries of one TLB (and of its wasm mirror, if any) that translate virtual address
 * `va`; `superpage` when a cached superpage may hold `va`.
 */
function dropAddress(
  tag: Float64Array,
  flags: Uint8Array,
  superpage: boolean,
  va: number,
  wasm?: WasmTlb,
): void {
  if (!superpage) {
    const i = (va >>> 12) & (tag.length - 1);
    if (tag[i] === va - (va & 4095)) {
      tag[i] = -1;
      wasm?.drop(i);
    }
    return;
  }
  // Superpages: any entry may lie in the leaf that holds va.
  for (let i = 0; i < tag.length; i++) {
    const t = tag[i];
    if (t === -1) continue;
    const f = flags[i];
    const mask = (f & TlbEntry.Giga) !== 0
      ? 0x3fffffff
      : (f & TlbEntry.Mega) !== 0
      ? 0x1fffff
      : 4095;
    if (t - (t & mask) === va - (va & mask)) {
      tag[i] = -1;
      wasm?.drop(i);
    }
  }
}

/** Entries of each second-level TLB (direct mapped by virtual page number bits 0..11). */
export const L2_TLB_SIZE = 4096;

/** Tags of a second-level TLB that has cached nothing yet (all empty; shared, never written). */
const NO_TAGS = new Float64Array(L2_TLB_SIZE).fill(-1);
/** Flags and physical addresses of a second-level TLB that has cached nothing yet. */
const NO_FLAGS = new Uint8Array(L2_TLB_SIZE);
const NO_PAS = new Float64Array(L2_TLB_SIZE);

/**
 * A second-level TLB: 16 times bigger than a first-level one, consulted on a first-level miss
 * before walking (a hit refills the first level). Its entries are not dropped when the
 * translation context changes: their {@linkcode TlbEntry} flags are checked on every hit.
 *
 * Its arrays (about 100 KiB) are allocated by the first fill, so that a hart that never
 * translates (a VM created and not started, a guest without paging) does not pay for them:
 * until then every lookup misses in shared empty arrays.
 */
export class BackingTlb<P> {
  /** Virtual page tags (-1: empty). */
  tag: Float64Array = NO_TAGS;
  /** What the first level caches for the page (a RAM page view or a decoded page). */
  page: P[] = [];
  /** {@linkcode TlbEntry} flags. */
  flags: Uint8Array = NO_FLAGS;
  /** Physical page addresses. */
  pa: Float64Array = NO_PAS;
  readonly #empty: P;

  /** Creates an empty TLB whose empty entries hold `empty`. */
  constructor(empty: P) {
    this.#empty = empty;
  }

  /** Whether the arrays are allocated (something was cached since the TLB was created). */
  get allocated(): boolean {
    return this.tag !== NO_TAGS;
  }

  /**
   * The index of the entry of the virtual page `tag` that a context whose stale flags are
   * `stale` (see {@linkcode staleFlags}) may use, or -1.
   */
  find(tag: number, stale: number): number {
    const i = (tag >>> 12) & (L2_TLB_SIZE - 1);
    return this.tag[i] === tag && (this.flags[i] & stale) === 0 ? i : -1;
  }

  /**
   * Caches the translation of the virtual page `tag`, unless it is {@linkcode TlbEntry.Bare}:
   * redoing an untranslated one costs no page walk, and a guest that never pages (a VM started
   * and stopped, firmware) then never allocates the arrays.
   */
  fill(tag: number, pa: number, page: P, flags: number): void {
    if ((flags & TlbEntry.Bare) !== 0) return;
    if (this.tag === NO_TAGS) {
      this.tag = new Float64Array(L2_TLB_SIZE).fill(-1);
      this.page = new Array<P>(L2_TLB_SIZE).fill(this.#empty);
      this.flags = new Uint8Array(L2_TLB_SIZE);
      this.pa = new Float64Array(L2_TLB_SIZE);
    }
    const i = (tag >>> 12) & (L2_TLB_SIZE - 1);
    this.tag[i] = tag;
    this.pa[i] = pa;
    this.page[i] = page;
    this.flags[i] = flags;
  }

  /** Drops every entry. */
  flush(): void {
    if (this.tag !== NO_TAGS) this.tag.fill(-1);
  }

  /** Drops the entries that may translate `va` (see {@linkcode dropAddress}). */
  dropAddress(superpage: boolean, va: number): void {
    if (this.tag !== NO_TAGS) dropAddress(this.tag, this.flags, superpage, va);
  }

  /** Entries holding `old` hold `now` instead (copy-on-write gave a page a private copy). */
  replace(old: P, now: P): void {
    if (this.tag === NO_TAGS) return;
    for (let i = 0; i < L2_TLB_SIZE; i++) if (this.page[i] === old) this.page[i] = now;
  }
}

/**
 * The four TLBs. Tags are virtual page addresses (-1: empty); the arrays are shared with the
 * run loop and with compiled blocks, which hold them for their lifetime, so they are never
 * replaced, only rewritten.
 *
 * With a hart area (wasm/hart_area.ts), the load and store TLBs keep the area's wasm TLBs in
 * step: every fill of an entry whose page is in the pool memory fills the wasm entry, every drop
 * drops it, so that the wasm tier hits the same entries; the code-store TLB has no wasm side
 * (stores into code always leave wasm).
 */
export class SoftTlb {
  /** Load TLB: virtual page tags. */
  readonly rTag: Float64Array;
  /** Load TLB: RAM page views. */
  readonly rPage: DataView[] = new Array<DataView>(TLB_SIZE).fill(dummyView);
  /** Load TLB: {@linkcode TlbEntry} flags. */
  readonly rFlags: Uint8Array = new Uint8Array(TLB_SIZE);
  /** Load TLB: physical page addresses (for the slow paths; hits never read them). */
  readonly rPa: Float64Array = new Float64Array(TLB_SIZE);
  /** Store TLB of pages without decoded code: tags. */
  readonly wTag: Float64Array;
  readonly #area: HartArea | undefined;
  /** The area's wasm load TLB (none without an area). */
  readonly #rWasm: WasmTlb | undefined;
  /** The area's wasm store TLB. */
  readonly #wWasm: WasmTlb | undefined;
  /** Store TLB of pages without decoded code: RAM page views. */
  readonly wPage: DataView[] = new Array<DataView>(TLB_SIZE).fill(dummyView);
  /** Store TLB of pages without decoded code: flags. */
  readonly wFlags: Uint8Array = new Uint8Array(TLB_SIZE);
  /** Store TLB of pages without decoded code: physical page addresses. */
  readonly wPa: Float64Array = new Float64Array(TLB_SIZE);
  /** Store TLB of pages with decoded code: tags. */
  readonly wcTag: Float64Array = new Float64Array(TLB_SIZE).fill(-1);
  /** Store TLB of pages with decoded code: their code groups. */
  readonly wcPage: CodeGroup[] = new Array<CodeGroup>(TLB_SIZE).fill(dummyGroup);
  /** Store TLB of pages with decoded code: flags. */
  readonly wcFlags: Uint8Array = new Uint8Array(TLB_SIZE);
  /** Store TLB of pages with decoded code: physical page addresses. */
  readonly wcPa: Float64Array = new Float64Array(TLB_SIZE);
  /** Fetch TLB: tags. */
  readonly fTag: Float64Array = new Float64Array(TLB_SIZE).fill(-1);
  /** Fetch TLB: decoded pages. */
  readonly fPage: DecodedPage[] = new Array<DecodedPage>(TLB_SIZE).fill(dummyPage);
  /** Fetch TLB: flags. */
  readonly fFlags: Uint8Array = new Uint8Array(TLB_SIZE);
  /**
   * Per TLB (load, store, code store, fetch), a superset of the flags of its valid entries: a
   * context change whose stale flags miss it has nothing to scan.
   */
  readonly present: Int32Array = new Int32Array(4);
  /**
   * The superpages cached since the last whole flush (a superset): 2 MiB bases, and 1 GiB
   * bases plus 1. An address outside them needs no scan of the TLBs to be fenced.
   */
  readonly #superpages = new Set<number>();
  /** Second-level load TLB. */
  readonly load2: BackingTlb<DataView> = new BackingTlb<DataView>(dummyView);
  /**
   * Second-level store TLB: RAM page views, with or without decoded code (a hit looks the
   * page's code group up). Watched pages are never cached.
   */
  readonly store2: BackingTlb<DataView> = new BackingTlb<DataView>(dummyView);
  /** Second-level fetch TLB. */
  readonly fetch2: BackingTlb<DecodedPage> = new BackingTlb<DecodedPage>(dummyPage);
  /** The stale flags (see {@linkcode staleFlags}) of fetches in the current context. */
  fetchStale = 0;
  /** The stale flags of data accesses in the current context. */
  dataStale = 0;

  /** Creates empty TLBs, which keep `area`'s wasm TLBs in step when given. */
  constructor(area?: HartArea) {
    this.#area = area;
    this.rTag = new Float64Array(TLB_SIZE).fill(-1);
    this.wTag = new Float64Array(TLB_SIZE).fill(-1);
    this.#rWasm = area?.loadTlb;
    this.#wWasm = area?.storeTlb;
    this.#rWasm?.flush();
    this.#wWasm?.flush();
  }

  /** The wasm frame of a RAM page view (0: the wasm tier cannot reach it). */
  #frameOf(view: DataView): number {
    return this.#area === undefined ? 0 : this.#area.frameOf(view);
  }

  /** Drops every entry. */
  flushAll(): void {
    this.rTag.fill(-1);
    this.wTag.fill(-1);
    this.#rWasm?.flush();
    this.#wWasm?.flush();
    this.wcTag.fill(-1);
    this.fTag.fill(-1);
    this.present.fill(0);
    this.#superpages.clear();
    this.load2.flush();
    this.store2.flush();
    this.fetch2.flush();
  }

  /** Drops the fetch entries (the decoded pages they point to were dropped). */
  flushFetches(): void {
    this.fTag.fill(-1);
    this.fetch2.flush();
  }

  /** Drops the store entries (watches changed, pages became copy-on-write). */
  flushStores(): void {
    this.wTag.fill(-1);
    this.#wWasm?.flush();
    this.wcTag.fill(-1);
    this.store2.flush();
  }

  /**
   * Drops the entries whose flags meet `fetchStale` (fetch TLB) or `dataStale` (the others),
   * see {@linkcode staleFlags}. Returns whether it had to look at the entries.
   */
  dropStale(fetchStale: number, dataStale: number): boolean {
    const p = this.present;
    let scanned = false;
    if ((p[0] & dataStale) !== 0) {
      p[0] = dropStale(this.rTag, this.rFlags, dataStale, this.#rWasm);
      scanned = true;
    }
    if ((p[1] & dataStale) !== 0) {
      p[1] = dropStale(this.wTag, this.wFlags, dataStale, this.#wWasm);
      scanned = true;
    }
    if ((p[2] & dataStale) !== 0) {
      p[2] = dropStale(this.wcTag, this.wcFlags, dataStale, undefined);
      scanned = true;
    }
    if ((p[3] & fetchStale) !== 0) {
      p[3] = dropStale(this.fTag, this.fFlags, fetchStale, undefined);
      scanned = true;
    }
    return scanned;
  }

  /** Drops the entries of every TLB that translate virtual address `va` (sfence.vma va). */
  dropAddress(va: number): void {
    const s = this.#superpages;
    const superpage = s.size !== 0 &&
      (s.has(va - (va & 0x1fffff)) || s.has(va - (va & 0x3fffffff) + 1));
    dropAddress(this.rTag, this.rFlags, superpage, va, this.#rWasm);
    dropAddress(this.wTag, this.wFlags, superpage, va, this.#wWasm);
    dropAddress(this.wcTag, this.wcFlags, superpage, va);
    dropAddress(this.fTag, this.fFlags, superpage, va);
    this.load2.dropAddress(superpage, va);
    this.store2.dropAddress(superpage, va);
    this.fetch2.dropAddress(superpage, va);
  }

  /** Records the superpage an entry with `flags` for the virtual page `tag` lies in. */
  #noteSuperpage(tag: number, flags: number): void {
    if ((flags & TlbEntry.Mega) !== 0) this.#superpages.add(tag - (tag & 0x1fffff));
    else if ((flags & TlbEntry.Giga) !== 0) this.#superpages.add(tag - (tag & 0x3fffffff) + 1);
  }

  /** Caches a load translation of the virtual page `tag` to the physical page `pa`. */
  fillLoad(tag: number, pa: number, view: DataView, flags: number): void {
    const i = (tag >>> 12) & 255;
    this.rTag[i] = tag;
    this.rPa[i] = pa;
    this.rPage[i] = view;
    this.#rWasm?.set(i, tag, this.#frameOf(view));
    this.rFlags[i] = flags;
    this.present[0] |= flags;
    this.load2.fill(tag, pa, view, flags);
    if ((flags & (TlbEntry.Mega | TlbEntry.Giga)) !== 0) this.#noteSuperpage(tag, flags);
  }

  /** Caches a store translation of the virtual page `tag` to a page without decoded code. */
  fillStore(tag: number, pa: number, view: DataView, flags: number): void {
    const i = (tag >>> 12) & 255;
    this.wTag[i] = tag;
    this.wPa[i] = pa;
    this.wPage[i] = view;
    this.#wWasm?.set(i, tag, this.#frameOf(view));
    this.wFlags[i] = flags;
    this.present[1] |= flags;
    this.store2.fill(tag, pa, view, flags);
    if ((flags & (TlbEntry.Mega | TlbEntry.Giga)) !== 0) this.#noteSuperpage(tag, flags);
  }

  /** Caches a store translation of the virtual page `tag` to a page with decoded code. */
  fillCodeStore(tag: number, pa: number, group: CodeGroup, flags: number): void {
    const i = (tag >>> 12) & 255;
    this.wcTag[i] = tag;
    this.wcPa[i] = pa;
    this.wcPage[i] = group;
    this.wcFlags[i] = flags;
    this.present[2] |= flags;
    this.store2.fill(tag, pa, group.view, flags);
    if ((flags & (TlbEntry.Mega | TlbEntry.Giga)) !== 0) this.#noteSuperpage(tag, flags);
  }

  /** Caches a fetch translation of the virtual page `tag`. */
  fillFetch(tag: number, page: DecodedPage, flags: number): void {
    const i = (tag >>> 12) & 255;
    this.fTag[i] = tag;
    this.fPage[i] = page;
    this.fFlags[i] = flags;
    this.present[3] |= flags;
    this.fetch2.fill(tag, 0, page, flags);
    if ((flags & (TlbEntry.Mega | TlbEntry.Giga)) !== 0) this.#noteSuperpage(tag, flags);
  }

  /**
   * Moves the store entries into RAM page `view` to the code-store TLB (the page now has
   * decoded code, so stores into it must invalidate it through `group`).
   */
  moveToCodeStores(view: DataView, group: CodeGroup): void {
    for (let i = 0; i < TLB_SIZE; i++) {
      if (this.wTag[i] !== -1 && this.wPage[i] === view) this.#moveToCode(i, group);
    }
  }

  /**
   * Moves every store entry whose page has a code group (`groupOf`) to the code-store TLB
   * (other harts decoded new pages).
   */
  sortStores(groupOf: (view: DataView) => CodeGroup | undefined): void {
    for (let i = 0; i < TLB_SIZE; i++) {
      const group = this.wTag[i] === -1 ? undefined : groupOf(this.wPage[i]);
      if (group !== undefined) this.#moveToCode(i, group);
    }
  }

  #moveToCode(i: number, group: CodeGroup): void {
    this.wcTag[i] = this.wTag[i];
    this.wcPa[i] = this.wPa[i];
    this.wcPage[i] = group;
    this.wcFlags[i] = this.wFlags[i];
    this.present[2] |= this.wFlags[i];
    this.wTag[i] = -1;
    this.#wWasm?.drop(i);
  }

  /**
   * Copy-on-write gave a RAM page a private copy: load and store entries follow `old` to
   * `now`; code-store entries of `old`'s group are dropped (they refill with the new group).
   */
  pageReplaced(old: DataView, now: DataView): void {
    const rPage = this.rPage;
    const wPage = this.wPage;
    for (let i = 0; i < TLB_SIZE; i++) {
      if (rPage[i] === old) {
        rPage[i] = now;
        if (this.rTag[i] !== -1) this.#rWasm?.set(i, this.rTag[i], this.#frameOf(now));
      }
      if (wPage[i] === old) {
        wPage[i] = now;
        if (this.wTag[i] !== -1) this.#wWasm?.set(i, this.wTag[i], this.#frameOf(now));
      }
      if (this.wcTag[i] !== -1 && this.wcPage[i].view === old) this.wcTag[i] = -1;
    }
    this.load2.replace(old, now);
    this.store2.replace(old, now);
  }
}
