/**
 * Expressions of the RV64 assembler: parsing and evaluation.
 *
 * Syntax and precedence follow GNU as: unary `- ~ ! +`; then `* / % << >>`; then `| & ^ !`;
 * then `+ - == != <> < > <= >=`; then `&& ||` (left-associative within a level). Operands are
 * numbers, character literals, symbols, numeric local label references (`1f`, `1b`), `.` (the
 * address of the current statement), parentheses, and the relocation operators `%hi(x)`,
 * `%lo(x)`, `%pcrel_hi(x)` and `%pcrel_lo(label)`.
 *
 * Values are 64-bit (wrapping `bigint`) and either absolute or relative to a section; only
 * `+` and `-` accept section-relative operands, as in GNU as, so that `end - start` is absolute
 * before sections are placed.
 *
 * @module
 */

import type { Token } from "./assembler_lexer.ts";

/** A relocation operator. */
export type RelocOp = "hi" | "lo" | "pcrel_hi" | "pcrel_lo";

/** An expression tree. */
export type Expr =
  | { readonly k: "num"; readonly v: bigint }
  | { readonly k: "sym"; readonly name: string; readonly tok: Token; readonly entry?: unknown }
  | { readonly k: "dot" }
  | { readonly k: "un"; readonly op: string; readonly a: Expr }
  | {
    readonly k: "bin";
    readonly op: string;
    readonly a: Expr;
    readonly b: Expr;
    readonly tok: Token;
  }
  | { readonly k: "reloc"; readonly op: RelocOp; readonly a: Expr; readonly tok: Token }
  | { readonly k: "pcrelLoBack"; readonly target: Expr; readonly back: number };

/** A value: 64-bit, absolute (`section === null`) or an offset into a section. */
export interface Value {
  /** The number (two's complement 64-bit, kept in signed range). */
  v: bigint;
  /** Section the value is relative to, or `null` when absolute. */
  section: string | null;
  /** The value is a label's address (plus or minus a number), placed in the final pass. */
  address?: boolean;
}

/** An error inside an expression, at the column of the token that caused it. */
export class ExprError extends Error {
  /** Column of the offending token, when known. */
  readonly column?: number;
  /** Line of the offending token when it is not on the statement's line. */
  readonly line?: number;
  /** Creates an error; `column` (and `line`) point at the offending token. */
  constructor(message: string, column?: number, line?: number) {
    super(message);
    this.name = "ExprError";
    this.column = column;
    this.line = line;
  }
}

/** Thrown during evaluation when a symbol is not (yet) defined. */
export class UnresolvedError extends ExprError {
  /** The symbol's name. */
  readonly symbol: string;
  /** Creates the error for symbol `symbol` referenced at `column`. */
  constructor(symbol: string, column?: number, message = `undefined symbol '${symbol}'`) {
    super(message, column);
    this.name = "UnresolvedError";
    this.symbol = symbol;
  }
}

/** What an expression needs from the assembler to evaluate. */
export interface EvalContext {
  /** Value of a symbol; throws {@linkcode UnresolvedError} when unknown. */
  symbol(name: string, entry: unknown, tok: Token): Value;
  /** Value of `.`. */
  dot(): Value;
  /**
   * Absolute address of the current instruction for `%pcrel_*`, or `undefined` while
   * addresses are not final (the expression is then not a constant yet).
   */
  pc(): number | undefined;
  /** Target of the `%pcrel_hi` of the auipc at `address` (for `%pcrel_lo(label)`). */
  pcrelHiTarget(address: bigint, tok: Token): bigint;
}

/** Hooks the parser uses to bind names while parsing. */
export interface ParseHooks {
  /** Binds a symbol reference (e.g. to the current definition of a `.set` symbol). */
  bindSymbol(name: string): unknown;
  /** Resolves a numeric local label reference (`1f`, `1b`) to a symbol name. */
  localLabel(tok: Token): string;
}

const MASK64 = (1n << 64n) - 1n;
/** Wraps to the signed 64-bit range. */
export function wrap64(v: bigint): bigint {
  return BigInt.asIntN(64, v);
}

const LEVELS: readonly (readonly string[])[] = [
  ["&&", "||"],
  ["+", "-", "==", "!=", "<>", "<", ">", "<=", ">="],
  ["|", "&", "^", "!"],
  ["*", "/", "%", "<<", ">>"],
];

/** Most tokens in one expression (bounds parsing and evaluation, which recurse). */
export const MAX_EXPRESSION_TOKENS = 1024;
/** Deepest nesting of parentheses and unary operators in one expression. */
export const MAX_EXPRESSION_DEPTH = 64;

/** Parses a token list as one expression; throws {@linkcode ExprError} on bad syntax. */
export function parseExpression(tokens: readonly Token[], hooks: ParseHooks): Expr {
  if (tokens.length > MAX_EXPRESSION_TOKENS) {
    throw new ExprError(
      `expression of ${tokens.length} tokens is too long (at most ${MAX_EXPRESSION_TOKENS})`,
      tokens[0].column,
    );
  }
  let pos = 0;
  let depth = 0;
  const nest = (t: Token) => {
    if (++depth > MAX_EXPRESSION_DEPTH) {
      throw new ExprError(`expression nested more than ${MAX_EXPRESSION_DEPTH} deep`, t.column);
    }
  };
  const peek = () => tokens[pos];
  const endColumn = () => {
    const last = tokens[tokens.length - 1];
    return last ? last.column + last.text.length : undefined;
  };
  const expect = (text: string) => {
    const t = peek();
    if (!t || t.kind !== "punct" || t.text !== text) {
      throw new ExprError(
        `expected '${text}'${t ? ` but found '${t.text}'` : " at end of expression"}`,
        t?.column ?? endColumn(),
      );
    }
    pos++;
  };

  function primary(): Expr {
    const t = peek();
    if (!t) throw new ExprError("missing expression", endColumn());
    pos++;
    switch (t.kind) {
      case "number":
        return { k: "num", v: wrap64(t.value!) };
      case "localref":
        return { k: "sym", name: hooks.localLabel(t), tok: t };
      case "ident":
        if (t.text === ".") return { k: "dot" };
        return { k: "sym", name: t.text, tok: t, entry: hooks.bindSymbol(t.text) };
      case "reloc": {
        expect("(");
        nest(t);
        const a = binary(0);
        depth--;
        expect(")");
        return { k: "reloc", op: t.text as RelocOp, a, tok: t };
      }
      case "punct":
        if (t.text === "(") {
          nest(t);
          const e = binary(0);
          depth--;
          expect(")");
          return e;
        }
        if (t.text === "-" || t.text === "~" || t.text === "!" || t.text === "+") {
          nest(t);
          const a = primary();
          depth--;
          return { k: "un", op: t.text, a };
        }
        break;
      case "string":
        break;
    }
    throw new ExprError(`unexpected '${t.text}' in expression`, t.column);
  }

  function binary(level: number): Expr {
    if (level >= LEVELS.length) return primary();
    let left = binary(level + 1);
    for (;;) {
      const t = peek();
      if (!t || t.kind !== "punct" || !LEVELS[level].includes(t.text)) return left;
      pos++;
      const right = binary(level + 1);
      left = { k: "bin", op: t.text, a: left, b: right, tok: t };
    }
  }

  if (tokens.length === 0) throw new ExprError("missing expression");
  const e = binary(0);
  if (pos < tokens.length) {
    throw new ExprError(`unexpected '${tokens[pos].text}' after expression`, tokens[pos].column);
  }
  return e;
}

const abs = (v: bigint): Value => ({ v: wrap64(v), section: null });

function requireAbsolute(x: Value, what: string, tok?: Token): bigint {
  if (x.section !== null) {
    throw new ExprError(
      `${what} needs an absolute value, not an address in ${x.section}`,
      tok?.column,
    );
  }
  return x.v;
}

/** Sign-extends the low 12 bits. */
export function lo12(v: bigint): bigint {
  return BigInt.asIntN(12, v);
}

/** The `%hi` part matching {@linkcode lo12}: `(v + 0x800) >> 12`, as a 20-bit field. */
export function hi20(v: bigint): bigint {
  return ((v + 0x800n) >> 12n) & 0xfffffn;
}

/** Evaluates an expression. Throws {@linkcode ExprError} or {@linkcode UnresolvedError}. */
export function evaluate(e: Expr, ctx: EvalContext): Value {
  switch (e.k) {
    case "num":
      return { v: e.v, section: null };
    case "sym":
      return ctx.symbol(e.name, e.entry, e.tok);
    case "dot":
      return ctx.dot();
    case "un": {
      const a = evaluate(e.a, ctx);
      if (e.op === "+") return a;
      const v = requireAbsolute(a, `unary '${e.op}'`);
      if (e.op === "-") return abs(-v);
      if (e.op === "~") return abs(~v);
      return abs(v === 0n ? 1n : 0n);
    }
    case "reloc": {
      if (e.op === "pcrel_lo") {
        const label = evaluate(e.a, ctx);
        const pc = ctx.pc();
        if (pc === undefined || label.section !== null) {
          throw new UnresolvedError("%pcrel_lo", e.tok.column);
        }
        return abs(lo12(ctx.pcrelHiTarget(label.v, e.tok) - label.v));
      }
      const a = evaluate(e.a, ctx);
      if (e.op === "pcrel_hi") {
        const pc = ctx.pc();
        if (pc === undefined || a.section !== null) {
          throw new UnresolvedError("%pcrel_hi", e.tok.column);
        }
        const delta = a.v - BigInt(pc);
        if (delta < -(1n << 31n) - 0x800n || delta >= (1n << 31n) - 0x800n) {
          throw new ExprError(
            `%pcrel_hi: target is ${delta} bytes away, beyond the ±2 GiB reach of auipc`,
            e.tok.column,
          );
        }
        return abs(hi20(delta));
      }
      if (a.section !== null) throw new UnresolvedError(`%${e.op}`, e.tok.column);
      if (e.op === "hi") {
        const fits = a.address
          ? a.v === BigInt.asIntN(32, a.v)
          : a.v >= -(1n << 31n) && a.v < 1n << 32n;
        if (!fits) {
          throw new ExprError(
            `%hi: ${a.address ? "address" : "value"} 0x${
              BigInt.asUintN(64, a.v).toString(16)
            } is out of reach of lui (needs a sign-extended 32-bit value${
              a.address ? "; use la/lla, which are pc-relative" : ""
            })`,
            e.tok.column,
          );
        }
      }
      return abs(e.op === "hi" ? hi20(a.v) : lo12(a.v));
    }
    case "pcrelLoBack": {
      const pc = ctx.pc();
      const target = evaluate(e.target, ctx);
      if (pc === undefined || target.section !== null) throw new UnresolvedError("%pcrel_lo");
      return abs(lo12(target.v - BigInt(pc - e.back)));
    }
    case "bin":
      return binaryOp(e.op, evaluate(e.a, ctx), evaluate(e.b, ctx), e.tok);
  }
}

function binaryOp(op: string, a: Value, b: Value, tok: Token): Value {
  if (op === "+") {
    if ((a.section !== null || a.address) && (b.section !== null || b.address)) {
      throw new ExprError("cannot add two addresses", tok.column);
    }
    return {
      v: wrap64(a.v + b.v),
      section: a.section ?? b.section,
      address: a.address || b.address,
    };
  }
  if (op === "-") {
    if (b.section === null && !b.address) {
      return { v: wrap64(a.v - b.v), section: a.section, address: a.address };
    }
    if (b.section === null) {
      if (!a.address) throw new ExprError("cannot subtract an address from a number", tok.column);
      return abs(a.v - b.v);
    }
    if (a.section === b.section) return abs(a.v - b.v);
    if (a.section === null) {
      throw new ExprError("cannot subtract an address from a number", tok.column);
    }
    // Sections are placed after pass 1: the distance is known only then.
    throw new UnresolvedError(
      "-",
      tok.column,
      `the distance between ${a.section} and ${b.section} is known only after layout`,
    );
  }
  if (a.section !== null && b.section !== null && a.section === b.section) {
    // Comparisons of two addresses in one section are fine.
    const d = a.v - b.v;
    switch (op) {
      case "==":
        return abs(d === 0n ? -1n : 0n);
      case "!=":
      case "<>":
        return abs(d !== 0n ? -1n : 0n);
    }
  }
  const x = requireAbsolute(a, `operator '${op}'`, tok);
  const y = requireAbsolute(b, `operator '${op}'`, tok);
  const uy = y & MASK64;
  switch (op) {
    case "*":
      return abs(x * y);
    case "/":
      if (y === 0n) throw new ExprError("division by zero", tok.column);
      return abs(x / y);
    case "%":
      if (y === 0n) throw new ExprError("division by zero", tok.column);
      return abs(x % y);
    case "<<":
      return abs(uy >= 64n ? 0n : x << uy);
    case ">>":
      return abs(uy >= 64n ? (x < 0n ? -1n : 0n) : x >> uy);
    case "|":
      return abs(x | y);
    case "&":
      return abs(x & y);
    case "^":
      return abs(x ^ y);
    case "!":
      return abs(x | ~y);
    // GNU as: comparisons yield -1 for true and 0 for false.
    case "==":
      return abs(x === y ? -1n : 0n);
    case "!=":
    case "<>":
      return abs(x !== y ? -1n : 0n);
    case "<":
      return abs(x < y ? -1n : 0n);
    case ">":
      return abs(x > y ? -1n : 0n);
    case "<=":
      return abs(x <= y ? -1n : 0n);
    case ">=":
      return abs(x >= y ? -1n : 0n);
    case "&&":
      return abs(x !== 0n && y !== 0n ? 1n : 0n);
    case "||":
      return abs(x !== 0n || y !== 0n ? 1n : 0n);
  }
  throw new ExprError(`unknown operator '${op}'`, tok.column);
}
