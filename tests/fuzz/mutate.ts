/**
 * Seeded mutation fuzzing helpers: a small deterministic PRNG and mutators for text and bytes.
 * The same seed gives the same inputs on every run, so a failure is reproducible from its seed
 * and iteration number.
 *
 * @module
 */

/** A seeded PRNG (mulberry32). */
export class Rng {
  #s: number;
  /** Creates a generator from `seed`. */
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** One element of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
}

/** `text` with 1 to 4 random edits: deletions, insertions (of `tokens` or noise), duplications. */
export function mutateText(rng: Rng, text: string, tokens: readonly string[]): string {
  let s = text;
  const edits = 1 + rng.int(4);
  for (let e = 0; e < edits; e++) {
    const at = rng.int(s.length + 1);
    switch (rng.int(6)) {
      case 0: // delete a span
        s = s.slice(0, at) + s.slice(at + 1 + rng.int(16));
        break;
      case 1: // insert a token
        s = s.slice(0, at) + rng.pick(tokens) + s.slice(at);
        break;
      case 2: // insert random characters (control and non-ASCII included)
        s = s.slice(0, at) +
          Array.from({ length: 1 + rng.int(4) }, () => String.fromCharCode(rng.int(0x3000)))
            .join("") +
          s.slice(at);
        break;
      case 3: { // duplicate a span
        const len = 1 + rng.int(40);
        s = s.slice(0, at) + s.slice(at, at + len) + s.slice(at);
        break;
      }
      case 4: { // replace a character
        s = s.slice(0, at) + rng.pick(tokens).charAt(0) + s.slice(at + 1);
        break;
      }
      default: { // swap two lines
        const lines = s.split("\n");
        const i = rng.int(lines.length), j = rng.int(lines.length);
        [lines[i], lines[j]] = [lines[j], lines[i]];
        s = lines.join("\n");
      }
    }
  }
  return s;
}

/** `bytes` with 1 to 8 random edits: flipped bits, random bytes, interesting values, truncation. */
export function mutateBytes(rng: Rng, bytes: Uint8Array): Uint8Array {
  let b = bytes.slice();
  const edits = 1 + rng.int(8);
  for (let e = 0; e < edits; e++) {
    if (b.length === 0) break;
    const at = rng.int(b.length);
    switch (rng.int(5)) {
      case 0:
        b[at] ^= 1 << rng.int(8);
        break;
      case 1:
        b[at] = rng.int(256);
        break;
      case 2: { // an interesting little-endian value: 0, -1, huge, small
        const v = rng.pick([0, 0xff, 0x7f, 0x80, 0x40, 0x01]);
        for (let k = 0; k < 1 + rng.int(8) && at + k < b.length; k++) b[at + k] = v;
        break;
      }
      case 3:
        b = b.slice(0, at);
        break;
      default: {
        const extra = new Uint8Array(rng.int(64));
        for (let k = 0; k < extra.length; k++) extra[k] = rng.int(256);
        const out = new Uint8Array(b.length + extra.length);
        out.set(b.subarray(0, at));
        out.set(extra, at);
        out.set(b.subarray(at), at + extra.length);
        b = out;
      }
    }
  }
  return b;
}

/**
 * Runs `check` on `count` inputs from `make`; any exception that `allowed` does not accept fails
 * with the seed and the iteration (to reproduce it), as does an input that takes longer than
 * `maxMs` (a hang detector with a wide margin, not a speed target).
 */
export function fuzz<T>(
  name: string,
  seed: number,
  count: number,
  make: (rng: Rng, i: number) => T,
  check: (input: T) => void,
  allowed: (e: unknown) => boolean,
  maxMs = 5000,
): { errors: number } {
  const rng = new Rng(seed);
  let errors = 0;
  for (let i = 0; i < count; i++) {
    const input = make(rng, i);
    const t0 = performance.now();
    try {
      check(input);
    } catch (e) {
      if (!allowed(e)) {
        throw new Error(
          `${name}: seed ${seed} input ${i}: unexpected ${(e as Error)?.name}: ${
            (e as Error)?.message
          }\ninput: ${
            JSON.stringify(input instanceof Uint8Array ? [...input] : input)
              .slice(0, 2000)
          }`,
        );
      }
      errors++;
    }
    const ms = performance.now() - t0;
    if (ms > maxMs) {
      throw new Error(`${name}: seed ${seed} input ${i} took ${ms.toFixed(0)} ms`);
    }
  }
  return { errors };
}
