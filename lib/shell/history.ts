/**
 * Command history: at most 100 entries (the real shell's limit), blank lines and consecutive
 * duplicates skipped, with a browsing cursor for Up/Down in a line editor.
 *
 * @module
 */

/** The real shell's history size. */
export const DEFAULT_HISTORY_SIZE = 100;

/** A bounded command history with a browsing cursor. */
export class History {
  /** Maximum number of entries kept; the oldest go first. */
  readonly capacity: number;
  #entries: string[] = [];
  #cursor = 0;
  /** Number of entries ever added (so numbering stays stable as old ones drop off). */
  #total = 0;

  /** Creates a history holding up to `capacity` entries. */
  constructor(capacity = DEFAULT_HISTORY_SIZE) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`History capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
  }

  /**
   * Records a line; returns false when it was skipped (blank, or equal to the previous entry).
   * Resets the browsing cursor either way.
   */
  add(line: string): boolean {
    this.#cursor = this.#entries.length;
    const trimmed = line.trim();
    if (trimmed === "") return false;
    if (this.#entries[this.#entries.length - 1] === trimmed) return false;
    this.#entries.push(trimmed);
    this.#total++;
    if (this.#entries.length > this.capacity) this.#entries.shift();
    this.#cursor = this.#entries.length;
    return true;
  }

  /** The entries, oldest first. */
  entries(): string[] {
    return [...this.#entries];
  }

  /** Number of entries kept. */
  get size(): number {
    return this.#entries.length;
  }

  /** The 1-based number of the oldest kept entry (numbers stay stable as entries drop off). */
  get firstNumber(): number {
    return this.#total - this.#entries.length + 1;
  }

  /** Moves the cursor one entry back (Up) and returns that entry; undefined at the oldest. */
  previous(): string | undefined {
    if (this.#cursor === 0) return undefined;
    this.#cursor--;
    return this.#entries[this.#cursor];
  }

  /**
   * Moves the cursor one entry forward (Down) and returns that entry, or `""` when it moves
   * past the newest (back to an empty line); undefined when already there.
   */
  next(): string | undefined {
    if (this.#cursor >= this.#entries.length) return undefined;
    this.#cursor++;
    return this.#cursor === this.#entries.length ? "" : this.#entries[this.#cursor];
  }

  /** Puts the cursor back after the newest entry. */
  resetCursor(): void {
    this.#cursor = this.#entries.length;
  }

  /** Forgets every entry. */
  clear(): void {
    this.#entries = [];
    this.#cursor = 0;
    this.#total = 0;
  }
}

/** A match of {@linkcode reverseSearch}: the entry and its index (0: newest). */
export interface HistoryMatch {
  /** The matching entry. */
  entry: string;
  /** Its index in the newest-first list searched. */
  index: number;
}

/**
 * Ctrl-R's reverse incremental search: the first entry at or after `from` (in a newest-first
 * list) that contains `query`; undefined when none does. An empty query matches nothing.
 */
export function reverseSearch(
  newestFirst: readonly string[],
  query: string,
  from = 0,
): HistoryMatch | undefined {
  if (query === "") return undefined;
  for (let i = Math.max(0, from); i < newestFirst.length; i++) {
    if (newestFirst[i].includes(query)) return { entry: newestFirst[i], index: i };
  }
  return undefined;
}
