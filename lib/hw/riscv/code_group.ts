/**
 * Coherence of decoded code with memory: the decoded forms of one RAM page on every hart that
 * executed from it, and the store path that invalidates exactly the decoded instructions a store
 * overlaps. Decoded code is therefore always coherent with memory (as in QEMU), so `fence.i` and
 * remote fence.i need not throw code away.
 *
 * @module
 */

import { codeCacheStats } from "./hart_stats.ts";
import { type DecodedPage, dummyView } from "./decoded_page.ts";

/**
 * The decoded forms of one RAM page on every hart that executed from it. Stores into the page,
 * by any hart, go through {@linkcode codeStore}.
 */
export class CodeGroup {
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
export const codeGroups: WeakMap<DataView, CodeGroup> = new WeakMap<DataView, CodeGroup>();

/**
 * Incremented when a RAM page gets its code group: harts then re-sort their store TLBs
 * (`codeGroupGeneration.value`).
 */
export const codeGroupGeneration: { value: number } = { value: 0 };

/** The group of `view`, created (and the generation bumped) when it has none yet. */
export function codeGroupOf(view: DataView): CodeGroup {
  let group = codeGroups.get(view);
  if (group === undefined) {
    group = new CodeGroup(view);
    codeGroups.set(view, group);
    codeGroupGeneration.value++;
  }
  return group;
}

/** Removes `page` from the group of `view` (the hart dropped its decoded form). */
export function leaveCodeGroup(view: DataView, page: DecodedPage): void {
  const pages = codeGroups.get(view)?.pages;
  const i = pages === undefined ? -1 : pages.indexOf(page);
  if (i >= 0) pages!.splice(i, 1);
}

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
    page.unitIndex.fill(-1);
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
export function codeStore(group: CodeGroup, po: number, width: number): DataView {
  const pages = group.pages;
  for (let i = 0; i < pages.length; i++) invalidateSlots(pages[i], po, width);
  return group.view;
}

/** A placeholder group for empty store-TLB entries. */
export const dummyGroup: CodeGroup = new CodeGroup(dummyView);
