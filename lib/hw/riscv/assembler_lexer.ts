/**
 * Lexer for the RV64 assembler: splits GNU as source into statements and tokens.
 *
 * Comments are `#` and `//` to the end of the line and `/* ... *\/` (which may span lines);
 * `;` separates statements on one line. Tokens carry their 1-based line and column so that
 * every error can point at the offending text.
 *
 * @module
 */

import { AssemblerError } from "./assembler_error.ts";

/** Token kinds. */
export type TokenKind =
  | "ident" // symbol, mnemonic, directive or register name; `.` alone is the location counter
  | "number" // integer or character literal
  | "string" // double-quoted string (value has the escapes applied)
  | "localref" // numeric local label reference: `1f`, `2b`
  | "reloc" // `%hi`, `%lo`, `%pcrel_hi`, `%pcrel_lo`
  | "punct"; // operators and punctuation

/** One token of a statement. */
export interface Token {
  /** What kind of token. */
  kind: TokenKind;
  /** The source text of the token. */
  text: string;
  /** Value of a number or character literal. */
  value?: bigint;
  /** Bytes of a string literal. */
  bytes?: number[];
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  column: number;
}

/** A statement: the tokens between separators (`;`, newlines), with its position. */
export interface Statement {
  /** Tokens, at least one. */
  tokens: Token[];
  /** 1-based line of the first token. */
  line: number;
}

const RELOCS = new Set(["hi", "lo", "pcrel_hi", "pcrel_lo"]);
const IDENT_START = /[A-Za-z_.$]/;
const IDENT_PART = /[A-Za-z0-9_.$]/;
const PUNCT2 = new Set(["<<", ">>", "&&", "||", "==", "!=", "<=", ">=", "<>"]);
const PUNCT1 = new Set([..."()[],:+-*/%&|^~!<>=@"]);

/** Removes block comments, keeping newlines so that line numbers stay right. */
function stripBlockComments(source: string, fileName: string): string {
  let out = "";
  let i = 0;
  let line = 1;
  let column = 1;
  let inString: string | null = null;
  while (i < source.length) {
    const c = source[i];
    if (inString) {
      out += c;
      if (c === "\\" && i + 1 < source.length) {
        out += source[i + 1];
        i += 2;
        column += 2;
        continue;
      }
      if (c === inString || c === "\n") inString = null;
      if (c === "\n") {
        line++;
        column = 1;
      } else column++;
      i++;
      continue;
    }
    if (c === '"') inString = '"';
    if (c === "#" || (c === "/" && source[i + 1] === "/")) {
      // Line comment: copy up to the newline verbatim (it is dropped later), skipping `/*`.
      const end = source.indexOf("\n", i);
      const stop = end < 0 ? source.length : end;
      out += " ".repeat(stop - i);
      column += stop - i;
      i = stop;
      continue;
    }
    if (c === "'") {
      // Character literal: copy it whole so that '#' or '"' inside stays put.
      const len = source[i + 1] === "\\" ? 3 : 2;
      const chunk = source.slice(i, i + len + (source[i + len] === "'" ? 1 : 0));
      out += chunk;
      i += chunk.length;
      column += chunk.length;
      continue;
    }
    if (c === "/" && source[i + 1] === "*") {
      const end = source.indexOf("*/", i + 2);
      if (end < 0) {
        throw new AssemblerError(fileName, line, column, "unterminated /* comment");
      }
      for (let j = i; j < end + 2; j++) {
        if (source[j] === "\n") {
          out += "\n";
          line++;
          column = 1;
        } else {
          out += " ";
          column++;
        }
      }
      i = end + 2;
      continue;
    }
    out += c;
    if (c === "\n") {
      line++;
      column = 1;
    } else column++;
    i++;
  }
  return out;
}

const ESCAPES: Record<string, number> = {
  n: 10,
  t: 9,
  r: 13,
  b: 8,
  f: 12,
  v: 11,
  a: 7,
  e: 27,
  "\\": 92,
  '"': 34,
  "'": 39,
};

/** Reads one possibly-escaped character at `i`; returns its code and the next index. */
function readChar(
  text: string,
  i: number,
  fail: (msg: string) => never,
): [code: number, next: number] {
  const c = text[i];
  if (c !== "\\") return [c.codePointAt(0)!, i + c.length];
  const e = text[i + 1];
  if (e === undefined) fail("backslash at end of line");
  if (e in ESCAPES) return [ESCAPES[e], i + 2];
  if (e === "x" || e === "X") {
    const m = /^[0-9a-fA-F]+/.exec(text.slice(i + 2));
    if (!m) fail("\\x escape without hex digits");
    return [parseInt(m[0], 16) & 0xff, i + 2 + m[0].length];
  }
  if (/[0-7]/.test(e)) {
    const m = /^[0-7]{1,3}/.exec(text.slice(i + 1))!;
    return [parseInt(m[0], 8) & 0xff, i + 1 + m[0].length];
  }
  return [e.codePointAt(0)!, i + 2];
}

function utf8(code: number): number[] {
  return [...new TextEncoder().encode(String.fromCodePoint(code))];
}

/** Parses the digits of a number literal (GNU rules: `0x`, `0b`, leading `0` = octal). */
function parseNumber(text: string): bigint | undefined {
  const t = text.toLowerCase();
  if (/^0x[0-9a-f]+$/.test(t)) return BigInt(t);
  if (/^0b[01]+$/.test(t)) return BigInt(t);
  if (/^0o[0-7]+$/.test(t)) return BigInt(t);
  if (/^0[0-7]+$/.test(t)) return BigInt("0o" + t.slice(1));
  if (/^[0-9]+$/.test(t)) return BigInt(t);
  return undefined;
}

/** Tokenizes one line segment starting at column `startColumn`. */
function tokenizeSegment(
  text: string,
  line: number,
  startColumn: number,
  fileName: string,
): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const column = startColumn + i;
    const fail = (msg: string): never => {
      throw new AssemblerError(fileName, line, column, msg);
    };
    if (c === " " || c === "\t" || c === "\r" || c === "\f" || c === "\v") {
      i++;
      continue;
    }
    if (c === '"') {
      const bytes: number[] = [];
      let j = i + 1;
      while (j < text.length && text[j] !== '"') {
        const [code, next] = readChar(text, j, fail);
        bytes.push(...(text[j] === "\\" ? [code] : utf8(code)));
        j = next;
      }
      if (j >= text.length) fail("unterminated string");
      tokens.push({ kind: "string", text: text.slice(i, j + 1), bytes, line, column });
      i = j + 1;
      continue;
    }
    if (c === "'") {
      if (i + 1 >= text.length) fail("empty character literal");
      const [code, next] = readChar(text, i + 1, fail);
      const end = text[next] === "'" ? next + 1 : next;
      tokens.push({ kind: "number", text: text.slice(i, end), value: BigInt(code), line, column });
      i = end;
      continue;
    }
    if (/[0-9]/.test(c)) {
      let j = i;
      while (j < text.length && IDENT_PART.test(text[j]) && text[j] !== ".") j++;
      const word = text.slice(i, j);
      const local = /^([0-9]+)([fb])$/i.exec(word);
      const value = parseNumber(word);
      if (value !== undefined) {
        tokens.push({ kind: "number", text: word, value, line, column });
      } else if (local) {
        tokens.push({ kind: "localref", text: word, line, column });
      } else {
        fail(`malformed number '${word}'`);
      }
      i = j;
      continue;
    }
    if (IDENT_START.test(c)) {
      let j = i + 1;
      while (j < text.length && IDENT_PART.test(text[j])) j++;
      tokens.push({ kind: "ident", text: text.slice(i, j), line, column });
      i = j;
      continue;
    }
    if (c === "%") {
      const m = /^%([A-Za-z_]+)/.exec(text.slice(i));
      if (m && RELOCS.has(m[1])) {
        tokens.push({ kind: "reloc", text: m[1], line, column });
        i += m[0].length;
        continue;
      }
      if (m && text[i + m[0].length] === "(") fail(`unknown relocation operator '%${m[1]}'`);
    }
    const two = text.slice(i, i + 2);
    if (PUNCT2.has(two)) {
      tokens.push({ kind: "punct", text: two, line, column });
      i += 2;
      continue;
    }
    if (PUNCT1.has(c)) {
      tokens.push({ kind: "punct", text: c, line, column });
      i++;
      continue;
    }
    fail(`unexpected character '${c}'`);
  }
  return tokens;
}

/** A statement's source text before tokenizing (macro bodies stay raw until expanded). */
export interface RawStatement {
  /** The text, without comments and separators. */
  text: string;
  /** 1-based line. */
  line: number;
  /** 1-based column of the first character of `text`. */
  column: number;
}

/**
 * Splits source text into raw statements: comments removed, lines cut at `;` (outside strings
 * and character literals), blank statements dropped. Throws {@linkcode AssemblerError} for an
 * unterminated block comment.
 */
export function splitStatements(source: string, fileName: string): RawStatement[] {
  const text = stripBlockComments(source, fileName);
  const statements: RawStatement[] = [];
  const lines = text.split("\n");
  for (let n = 0; n < lines.length; n++) {
    const lineText = lines[n];
    let start = 0;
    let i = 0;
    const flush = (end: number) => {
      const piece = lineText.slice(start, end);
      const lead = piece.length - piece.trimStart().length;
      const trimmed = piece.trim();
      if (trimmed !== "") statements.push({ text: trimmed, line: n + 1, column: start + lead + 1 });
    };
    while (i < lineText.length) {
      const c = lineText[i];
      if (c === '"') {
        i++;
        while (i < lineText.length && lineText[i] !== '"') i += lineText[i] === "\\" ? 2 : 1;
        i++;
        continue;
      }
      if (c === "'") {
        i += lineText[i + 1] === "\\" ? 3 : 2;
        if (lineText[i] === "'") i++;
        continue;
      }
      if (c === "#" || (c === "/" && lineText[i + 1] === "/")) break;
      if (c === ";") {
        flush(i);
        start = i + 1;
      }
      i++;
    }
    flush(Math.min(i, lineText.length));
  }
  return statements;
}

/** Tokenizes one raw statement; throws {@linkcode AssemblerError} at a malformed token. */
export function tokenizeStatement(raw: RawStatement, fileName: string): Token[] {
  return tokenizeSegment(raw.text, raw.line, raw.column, fileName);
}

/**
 * Splits source text into statements of tokens. Throws {@linkcode AssemblerError} for
 * malformed literals, naming file, line and column.
 */
export function lex(source: string, fileName: string): Statement[] {
  return splitStatements(source, fileName).map((raw) => ({
    tokens: tokenizeStatement(raw, fileName),
    line: raw.line,
  }));
}
