/**
 * Leaving a console attach: the escape keys, as virsh and ssh have them.
 *
 * - The control key (Ctrl-] by default, as `virsh console` and `telnet`) detaches wherever it
 *   is typed.
 * - The line escape (`~` by default, as ssh): at the start of a line, `~.` detaches and `~~`
 *   sends one `~`; a `~` followed by anything else is sent as typed.
 *
 * {@linkcode EscapeScanner} sees every byte typed on an attached console and splits it into what
 * goes to the guest and what follows a detach (run as commands again). Both keys are
 * configurable (`vm console --escape ^A --line-escape none`).
 *
 * @module
 */

/** The default control escape: Ctrl-] (0x1d). */
export const DEFAULT_ESCAPE_BYTE = 0x1d;

/** The default line escape: `~`. */
export const DEFAULT_LINE_ESCAPE = 0x7e;

/** The escape keys of one attach; `null` turns a key off. */
export interface EscapeKeys {
  /** The byte that detaches anywhere (default Ctrl-], 0x1d). */
  control?: number | null;
  /** The byte that starts a line escape (default `~`, 0x7e). */
  line?: number | null;
}

/**
 * Parses an escape key as `vm console --escape` takes it: `^]`, `^A` (control keys, caret
 * notation), `ctrl-]`, a single printable character, or `none`. Returns the byte, `null` for
 * `none`, or `undefined` when the text is not a key.
 */
export function parseEscapeKey(text: string): number | null | undefined {
  const t = text.trim();
  if (t.toLowerCase() === "none") return null;
  const caret = /^(?:\^|ctrl-|c-)(.)$/i.exec(t);
  if (caret) {
    const c = caret[1].toUpperCase().charCodeAt(0);
    if (c === 0x3f) return 0x7f; // ^?
    if (c >= 0x40 && c <= 0x5f) return c - 0x40;
    return undefined;
  }
  if (t.length === 1 && t.charCodeAt(0) > 0x20 && t.charCodeAt(0) < 0x7f) return t.charCodeAt(0);
  return undefined;
}

/** How a key looks to a person: `^]`, `~`, or `none`. */
export function describeEscapeKey(byte: number | null | undefined): string {
  if (byte === null || byte === undefined) return "none";
  if (byte === 0x7f) return "^?";
  if (byte < 0x20) return "^" + String.fromCharCode(byte + 0x40);
  return String.fromCharCode(byte);
}

/** What {@linkcode EscapeScanner.scan} found in a chunk of typed bytes. */
export interface EscapeScanResult {
  /** Bytes for the guest. */
  forward: Uint8Array;
  /** True when an escape detached the console. */
  detached: boolean;
  /** Bytes after the escape (empty unless detached). */
  rest: Uint8Array;
}

const EMPTY = new Uint8Array(0);
const CR = 0x0d;
const LF = 0x0a;

/** Finds the escape keys in what is typed on an attached console (state spans chunks). */
export class EscapeScanner {
  readonly #control: number | null;
  readonly #line: number | null;
  #lineStart = true;
  #held = false;

  /** Creates a scanner; the attach starts at the beginning of a line. */
  constructor(keys: EscapeKeys = {}) {
    this.#control = keys.control === undefined ? DEFAULT_ESCAPE_BYTE : keys.control;
    this.#line = keys.line === undefined ? DEFAULT_LINE_ESCAPE : keys.line;
  }

  /** The control escape byte (`null`: none). */
  get control(): number | null {
    return this.#control;
  }

  /** The line escape byte (`null`: none). */
  get line(): number | null {
    return this.#line;
  }

  /** True while a line escape is held back, waiting for the next key. */
  get holding(): boolean {
    return this.#held;
  }

  /**
   * Splits typed bytes. A `~.` escape also swallows the line ending that follows it (a
   * line-mode client sends `~.` then Enter), so that no empty command runs after the detach.
   */
  scan(bytes: Uint8Array): EscapeScanResult {
    const out: number[] = [];
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      if (this.#held) {
        this.#held = false;
        if (b === 0x2e) { // '.'
          let at = i + 1;
          if (bytes[at] === CR) at++;
          if (bytes[at] === LF) at++;
          return this.#done(out, bytes.subarray(at));
        }
        out.push(this.#line!);
        if (b === this.#line) {
          this.#lineStart = false;
          continue;
        }
      }
      if (b === this.#control) return this.#done(out, bytes.subarray(i + 1));
      if (this.#lineStart && b === this.#line) {
        this.#held = true;
        continue;
      }
      out.push(b);
      this.#lineStart = b === CR || b === LF;
    }
    return { forward: Uint8Array.from(out), detached: false, rest: EMPTY };
  }

  #done(out: number[], rest: Uint8Array): EscapeScanResult {
    this.#held = false;
    this.#lineStart = true;
    return { forward: Uint8Array.from(out), detached: true, rest };
  }
}
