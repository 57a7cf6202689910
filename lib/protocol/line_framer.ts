/**
 * Line framing: turns a byte stream into validated UTF-8 lines.
 *
 * The protocol is newline-delimited: a line ends with LF, and a CR right before the LF is
 * dropped (so CRLF clients such as telnet work). A line longer than {@linkcode MAX_LINE_BYTES}
 * is rejected as soon as it grows past the limit and the rest of it (up to the next LF) is
 * discarded. A line that is not valid UTF-8, or that contains NUL or any other control character
 * (TAB excepted), is reported as an error; the framer always carries on with the next line.
 *
 * @module
 */

import { ProtocolError, ProtocolErrorCode } from "./errors.ts";

/** The longest accepted line, in bytes, not counting the line ending. */
export const MAX_LINE_BYTES = 4096;

/** One result of framing: a good line or an error about a bad one. */
export type FramedLine =
  | { kind: "line"; text: string }
  | { kind: "error"; error: ProtocolError };

const LF = 0x0a;
const CR = 0x0d;
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Splits a byte stream into lines, validating each one. */
export class LineFramer {
  /** Maximum line length in bytes. */
  readonly maxLineBytes: number;
  #pieces: Uint8Array[] = [];
  #length = 0;
  #discarding = false;
  #lineNumber = 0;

  /** Creates a framer; `maxLineBytes` defaults to {@linkcode MAX_LINE_BYTES}. */
  constructor(options: { maxLineBytes?: number } = {}) {
    this.maxLineBytes = options.maxLineBytes ?? MAX_LINE_BYTES;
  }

  /** Number of complete lines (good or bad) seen so far. */
  get lineNumber(): number {
    return this.#lineNumber;
  }

  /** True while bytes of an unfinished line are buffered. */
  get pending(): boolean {
    return this.#length > 0 || this.#discarding;
  }

  /** Feeds bytes; returns the lines (and errors) that they complete. */
  push(chunk: Uint8Array): FramedLine[] {
    const out: FramedLine[] = [];
    let start = 0;
    while (start < chunk.length) {
      const lf = chunk.indexOf(LF, start);
      const end = lf < 0 ? chunk.length : lf;
      this.#append(chunk.subarray(start, end), out);
      if (lf < 0) break;
      this.#finishLine(out);
      start = lf + 1;
    }
    return out;
  }

  /** Signals the end of the stream: an unterminated last line is delivered as a line. */
  end(): FramedLine[] {
    const out: FramedLine[] = [];
    if (this.#length > 0 || this.#discarding) this.#finishLine(out);
    return out;
  }

  #append(bytes: Uint8Array, out: FramedLine[]): void {
    if (bytes.length === 0 || this.#discarding) return;
    if (this.#length + bytes.length > this.maxLineBytes + 1) {
      // +1 leaves room for the CR of a CRLF ending that arrives in this piece.
      const total = this.#length + bytes.length;
      this.#pieces = [];
      this.#length = 0;
      this.#discarding = true;
      out.push({
        kind: "error",
        error: new ProtocolError(
          ProtocolErrorCode.LineTooLong,
          `line ${this.#lineNumber + 1} is longer than ${this.maxLineBytes} bytes ` +
            `(${total} bytes so far); the line was discarded`,
        ),
      });
      return;
    }
    this.#pieces.push(bytes.slice());
    this.#length += bytes.length;
  }

  #finishLine(out: FramedLine[]): void {
    this.#lineNumber++;
    if (this.#discarding) {
      this.#discarding = false;
      return;
    }
    let bytes = concat(this.#pieces, this.#length);
    this.#pieces = [];
    this.#length = 0;
    if (bytes.length > 0 && bytes[bytes.length - 1] === CR) bytes = bytes.subarray(0, -1);
    if (bytes.length > this.maxLineBytes) {
      out.push({
        kind: "error",
        error: new ProtocolError(
          ProtocolErrorCode.LineTooLong,
          `line ${this.#lineNumber} is longer than ${this.maxLineBytes} bytes ` +
            `(${bytes.length} bytes); the line was discarded`,
        ),
      });
      return;
    }
    out.push(validateLine(bytes, this.#lineNumber));
  }
}

/**
 * Decodes and validates one line (without its line ending). `lineNumber` is only used in
 * messages.
 */
export function validateLine(bytes: Uint8Array, lineNumber: number): FramedLine {
  const bad = firstInvalidUtf8(bytes);
  if (bad >= 0) {
    return {
      kind: "error",
      error: new ProtocolError(
        ProtocolErrorCode.InvalidUtf8,
        `line ${lineNumber} is not valid UTF-8 (bad byte 0x${
          bytes[bad].toString(16).padStart(2, "0")
        } at byte ${bad + 1}); the line was ignored`,
      ),
    };
  }
  const text = decoder.decode(bytes);
  let column = 0;
  for (const ch of text) {
    column++;
    const code = ch.codePointAt(0)!;
    if ((code < 0x20 && code !== 0x09) || code === 0x7f || (code >= 0x80 && code < 0xa0)) {
      const name = code === 0 ? "NUL" : `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
      return {
        kind: "error",
        error: new ProtocolError(
          ProtocolErrorCode.ControlCharacter,
          `line ${lineNumber} contains the control character ${name} at column ${column}; ` +
            `the line was ignored`,
        ),
      };
    }
  }
  return { kind: "line", text };
}

/** Index of the first byte that makes `bytes` invalid UTF-8, or -1 when it is valid. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    let cp: number;
    if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      min = 0x80;
      cp = b & 0x1f;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      min = 0x800;
      cp = b & 0x0f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      min = 0x10000;
      cp = b & 0x07;
    } else {
      return i;
    }
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i + k < n ? i + k : i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

function concat(pieces: Uint8Array[], length: number): Uint8Array {
  if (pieces.length === 1) return pieces[0];
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
