/**
 * The shell's tokenizer (the seed's "阶段 1: 词法分析"): splits a command line into words.
 *
 * Rules, as in a POSIX shell:
 * - Words are separated by unquoted spaces, tabs, carriage returns and newlines.
 * - `'...'` quotes everything literally (a backslash stays a backslash, handy for regexes).
 * - `"..."` quotes; inside, `\"` and `\\` are escapes and any other backslash stays literal.
 * - Outside quotes a backslash escapes the next character (`\ ` is a space inside a word).
 * - Quotes join with adjacent text (`a"b c"d` is the single word `ab cd`); `""` is an empty word.
 * - An unclosed quote or a trailing lone backslash is an error that says so and where.
 *
 * @module
 */

/** One word of a command line, with where it came from. */
export interface Token {
  /** The word after quote removal and escapes. */
  value: string;
  /** Offset of the word's first character in the input. */
  start: number;
  /** Offset just past the word's last character in the input. */
  end: number;
  /** True when any part of the word was quoted or escaped (`">"` is not a redirection). */
  quoted: boolean;
}

/** Raised for a line that cannot be split into words. */
export class TokenizeError extends Error {
  /** `UNCLOSED_QUOTE` or `TRAILING_BACKSLASH`. */
  readonly code: string;
  /** Offset in the input where the problem starts (the opening quote, or the backslash). */
  readonly position: number;
  /** Creates the error; the message names the problem and its column (1-based). */
  constructor(code: string, position: number, message: string) {
    super(message);
    this.name = "TokenizeError";
    this.code = code;
    this.position = position;
  }
}

/** Options of {@linkcode scan}. */
export interface ScanOptions {
  /**
   * Accept an unfinished line (an unclosed quote or a trailing backslash) instead of throwing:
   * the last word then holds what was typed so far. Tab completion uses this.
   */
  partial?: boolean;
}

/** The result of {@linkcode scan}. */
export interface ScanResult {
  /** The words of the line. */
  tokens: Token[];
  /** True when the line ends in whitespace outside quotes (a new word would start next). */
  endsWithSpace: boolean;
  /** The quote character left open at the end, when `partial` allowed one. */
  openQuote?: "'" | '"';
}

const WHITESPACE = new Set([" ", "\t", "\n", "\r"]);

/**
 * `column 7` for a one-line input; `line 2, column 3` once the input spans lines (a batch
 * file's quoted string may hold a newline), so the place can be found in the file.
 */
function placeOf(input: string, offset: number): string {
  const lineStart = input.lastIndexOf("\n", offset - 1) + 1;
  const column = offset - lineStart + 1;
  if (!input.includes("\n")) return `column ${column}`;
  let line = 1;
  for (let i = 0; i < lineStart; i++) if (input[i] === "\n") line++;
  return `line ${line}, column ${column}`;
}

/** Splits `input` into tokens with their positions; see the module doc for the rules. */
export function scan(input: string, options: ScanOptions = {}): ScanResult {
  const tokens: Token[] = [];
  let value = "";
  let inWord = false;
  let quoted = false;
  let start = 0;
  let quote: "'" | '"' | undefined;
  let quoteStart = 0;
  let i = 0;

  const finish = (end: number) => {
    if (inWord) tokens.push({ value, start, end, quoted });
    value = "";
    inWord = false;
    quoted = false;
  };
  const begin = (at: number) => {
    if (!inWord) {
      inWord = true;
      start = at;
    }
  };

  while (i < input.length) {
    const ch = input[i];
    if (quote === "'") {
      if (ch === "'") quote = undefined;
      else value += ch;
      i++;
      continue;
    }
    if (quote === '"') {
      if (ch === '"') {
        quote = undefined;
      } else if (
        ch === "\\" && i + 1 < input.length && (input[i + 1] === '"' || input[i + 1] === "\\")
      ) {
        value += input[i + 1];
        i++;
      } else {
        value += ch;
      }
      i++;
      continue;
    }
    if (WHITESPACE.has(ch)) {
      finish(i);
      i++;
      continue;
    }
    begin(i);
    if (ch === "'" || ch === '"') {
      quote = ch;
      quoteStart = i;
      quoted = true;
      i++;
      continue;
    }
    if (ch === "\\") {
      quoted = true;
      if (i + 1 >= input.length) {
        if (options.partial) {
          i++;
          continue;
        }
        throw new TokenizeError(
          "TRAILING_BACKSLASH",
          i,
          `Trailing backslash at ${placeOf(input, i)}: nothing to escape`,
        );
      }
      value += input[i + 1];
      i += 2;
      continue;
    }
    value += ch;
    i++;
  }
  if (quote !== undefined && !options.partial) {
    const kind = quote === "'" ? "single" : "double";
    throw new TokenizeError(
      "UNCLOSED_QUOTE",
      quoteStart,
      `Unclosed ${kind} quote (${quote}) starting at ${placeOf(input, quoteStart)}`,
    );
  }
  const endsWithSpace = quote === undefined && !inWord && input.length > 0 &&
    WHITESPACE.has(input[input.length - 1]);
  finish(input.length);
  return quote === undefined
    ? { tokens, endsWithSpace }
    : { tokens, endsWithSpace, openQuote: quote };
}

/** Splits `input` into words (see the module doc); throws {@linkcode TokenizeError}. */
export function tokenize(input: string): string[] {
  return scan(input).tokens.map((t) => t.value);
}

/**
 * Quotes a word so that {@linkcode tokenize} gives it back unchanged (for completion and for
 * echoing commands): plain words stay as they are, others get single quotes.
 */
export function quoteWord(word: string): string {
  if (word.length > 0 && /^[A-Za-z0-9_@%+=:,./~^-]+$/.test(word)) return word;
  return "'" + word.replaceAll("'", `'"'"'`) + "'";
}
