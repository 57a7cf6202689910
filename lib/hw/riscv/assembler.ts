/**
 * RV64 assembler for GNU as syntax, producing a flat image at an origin plus symbols.
 *
 * ```ts
 * const { image, origin, symbols, entry } = assemble(source, { origin: 0x8000_0000 });
 * ```
 *
 * **Instructions**: every entry of the ISA table (`isa_table.ts`): RV64I, M, A (`lr`/`sc`/`amo*`
 * in `.w`/`.d` with `.aq`/`.rl`/`.aqrl`), C (every RV64 integer compressed form, as `c.*`),
 * Zicsr, Zifencei, `ecall`, `ebreak`, `mret`, `sret`, `dret`, `wfi`, `sfence.vma`, `unimp`.
 * The encodings equal GNU as 2.40 (checked by a differential test against
 * `riscv64-unknown-elf-as`).
 *
 * **Pseudo-instructions** (GNU expansions): `nop`, `li` (any 64-bit constant, GNU's exact
 * sequence; a value not known yet becomes `lui`+`addi` with `%hi`/`%lo`), `la`/`lla` (always
 * pc-relative `auipc`+`addi`: there is no GOT), `mv`, `not`, `neg`, `negw`, `sext.w`, `zext.b`,
 * `seqz`, `snez`, `sltz`, `sgtz`, `beqz`, `bnez`, `blez`, `bgez`, `bltz`, `bgtz`, `bgt`, `ble`,
 * `bgtu`, `bleu`, `j`, `jal target`, `jr rs`/`jr off(rs)`, `jalr rs`, `jalr rd, rs[, off]`,
 * `ret`, `call [rd,] sym`, `tail sym`, `jump sym, temp`, `csrr`, `csrw`, `csrs`, `csrc` (with a
 * register or an immediate), `csrwi`, `csrsi`, `csrci`, `csrrw/csrrs/csrrc` with an immediate,
 * `rdtime`, `rdcycle`, `rdinstret`, `fence` (= `fence iorw,iorw`), `sfence.vma [rs1]`, and
 * loads/stores of a symbol (`lw rd, sym`; `sw rs, sym, temp`).
 *
 * **Operands**: registers `x0`..`x31`, ABI names and `fp`; CSRs by name (privileged spec 1.12,
 * plus the legacy `sbadaddr`, `mbadaddr`, `sptbr`, `mucounteren`, `dscratch`) or number; fence
 * sets as letters of `iorw`. A branch or jump target is an address (`label`, `.+8`, `0x80000000`),
 * as in GNU as; ranges are checked and errors give the distance.
 *
 * **Expressions**: numbers (`42`, `0x2a`, `0b101`, `052`), character literals (`'a'`, `'\n'`),
 * symbols, numeric local labels (`1:` … `1b`/`1f`), `.`, `+ - * / % << >> & | ^ ~ !`,
 * comparisons, `&& ||`, parentheses (GNU precedence), `%hi(x)`, `%lo(x)`, `%pcrel_hi(x)`,
 * `%pcrel_lo(label-of-the-auipc)`. In a multi-instruction expansion `.` is the statement's
 * address.
 *
 * **Directives**: `.text`, `.data`, `.bss`, `.rodata`, `.section name[, flags…]`, `.globl`,
 * `.global`, `.weak`, `.local`, `.hidden`, `.equ`/`.set`/`sym = expr` (redefinable), `.equiv`,
 * `.byte`, `.half`/`.short`/`.2byte`, `.word`/`.long`/`.int`/`.4byte`, `.dword`/`.quad`/
 * `.8byte`, `.ascii`, `.asciz`/`.string`, `.align`/`.p2align` (power of two) and `.balign`
 * (bytes) with optional fill and maximum, `.zero`, `.space`/`.skip` (with fill), `.fill`,
 * `.option rvc|norvc|push|pop` (and `relax`, `norelax`, `pic`, `nopic`, `arch`, accepted and
 * ignored), and `.type`, `.size`, `.file`, `.ident`, `.attribute`, `.loc`, `.cfi_*`, `.end`
 * (ignored). Alignment in code pads with `nop` (a `c.nop` for a 2-byte remainder); in data with
 * zeros; code sections end padded to their alignment, as in GNU as. Data values that do not fit
 * their size are errors (GNU only warns).
 *
 * **Macros**: `.macro name p1, p2=default, p3:req, rest:vararg` … `.endm`, invoked as
 * `name a, b` or with keywords (`name p2=5`); in the body `\p1` is replaced by the argument,
 * `\@` by a per-expansion counter, `\()` by nothing (character literals are left alone, as in
 * GNU as). `.rept count` … `.endr`, `.irp p, v1, v2…` … `.endr` and `.irpc p, chars` … `.endr`
 * repeat statements. Errors inside an expansion name the macro and the line that used it.
 *
 * **Comments and statements**: `#` and `//` to end of line, `/* … *\/` across lines, `;`
 * between statements, several `label:` before a statement.
 *
 * **Layout**: sections are placed one after another in one flat image starting at `origin`:
 * the `.text*` sections first, then the other sections that hold data (`.rodata`, `.data`,
 * ...), in order of first appearance, then the `.bss`/`.sbss` sections (zeros in the image).
 * Each section after the first starts at a multiple of 8 (or of its largest alignment). The
 * distance between labels of different sections is therefore known and may be used in data.
 *
 * **Compressed instructions** are emitted only when asked: with explicit `c.*` mnemonics, or
 * after `.option rvc`, which compresses each base instruction that has a compressed equivalent
 * as GNU as does with the C extension (branches and jumps written with base mnemonics stay
 * 32-bit: we do not relax).
 *
 * **Errors**: every problem is collected; {@linkcode AssemblerError} reports them all, in
 * source order, as `file:line:column: message`.
 *
 * Not supported: `.include`/`.incbin` (the assembler has no file system), conditional assembly
 * (`.if`…), relocatable output, floating-point and vector instructions.
 *
 * @module
 */

import { type AssemblerDiagnostic, AssemblerError } from "./assembler_error.ts";
import {
  type EvalContext,
  evaluate,
  type Expr,
  ExprError,
  parseExpression,
  UnresolvedError,
  type Value,
  wrap64,
} from "./assembler_expr.ts";
import {
  type RawStatement,
  splitStatements,
  type Token,
  tokenizeStatement,
} from "./assembler_lexer.ts";
import {
  ABI_REGISTER_NAMES,
  encodeImmediate,
  encodeRegister,
  FIELDS,
  FP_ABI_REGISTER_NAMES,
  fpRegisterNumber,
  immediateBits,
  type ImmediateField,
  immediateRangeError,
  instructionByMnemonic,
  type InstructionSpec,
  parseFenceSet,
  registerNumber,
  ROUNDING_MODE_NAMES,
  standardCsrNumber,
} from "./isa_table.ts";

export { AssemblerError } from "./assembler_error.ts";
export type { AssemblerDiagnostic } from "./assembler_error.ts";

/** Options of {@linkcode assemble}. */
export interface AssembleOptions {
  /** Address of the first byte of the image. Default `0x8000_0000`. */
  origin?: number;
  /** Name used in error messages. Default `<input>`. */
  fileName?: string;
}

/** Where a section ended up in the image. */
export interface AssembledSection {
  /** Section name (`.text`, `.data`, `.bss`, ...). */
  name: string;
  /** Address of its first byte. */
  address: number;
  /** Size in bytes. */
  size: number;
  /** `nobits` for `.bss`-like sections (zeros in the image), `progbits` otherwise. */
  kind: "progbits" | "nobits";
}

/** The result of {@linkcode assemble}. */
export interface AssemblyResult {
  /** The flat image: every section, `.bss` included as zeros. */
  image: Uint8Array;
  /** Address of `image[0]`. */
  origin: number;
  /** Every label and `.equ`/`.set` symbol with its final value (numeric local labels left out). */
  symbols: Map<string, number>;
  /** Symbols declared with `.globl`/`.global`. */
  globals: Set<string>;
  /** Sections in image order. */
  sections: AssembledSection[];
  /** The `_start` symbol if defined, else the origin. */
  entry: number;
}

// ---------------------------------------------------------------------------------------------
// Internal model

interface Section {
  name: string;
  nobits: boolean;
  code: boolean;
  size: number;
  align: number;
  items: Item[];
  base: number;
  firstLine: number;
  /** Rank of first use (selection or content); `Infinity` while unused. */
  order: number;
}

interface Loc {
  line: number;
  column: number;
  /** Where a macro expansion came from, for error messages. */
  note?: string;
}

/** A raw statement waiting to be assembled, with its macro-expansion context. */
interface QueuedStatement extends RawStatement {
  /** Macro expansion depth (0 for source statements). */
  depth: number;
  /** `in macro 'm' used at line N`, for statements produced by an expansion. */
  note?: string;
}

/** A `.macro` definition. */
interface Macro {
  name: string;
  params: { name: string; default?: string; required: boolean; vararg: boolean }[];
  body: QueuedStatement[];
  line: number;
}

interface Item {
  offset: number;
  size: number;
  loc: Loc;
  /** Writes the item's bytes; `pc` is its absolute address. */
  emit(out: Uint8Array, at: number, pc: number): void;
}

type SymbolEntry =
  | { kind: "label"; section: Section; offset: number; line: number }
  | {
    kind: "equ";
    expr: Expr;
    dotSection: Section;
    dotOffset: number;
    line: number;
    evaluating: boolean;
    /** The value last computed, valid while the symbol table's epoch is unchanged. */
    memo?: { epoch: number; value: Value };
    /** The chain-too-deep error met while evaluating it, valid for the same epoch. */
    tooDeep?: { epoch: number; error: ExprError };
  };

/** An instruction operand after parsing: a register number or an expression. */
type Arg = { reg: number; column: number } | { expr: Expr; column: number };

/** One machine instruction to encode: a table entry and its operands by field name. */
interface MachineInsn {
  spec: InstructionSpec;
  args: Record<string, Arg>;
  loc: Loc;
}

/** An operand as written: its tokens and its column. */
interface Operand {
  tokens: Token[];
  column: number;
}

const LOCAL_MARK = "\u0002";

class Fail extends Error {
  constructor(message: string, readonly column: number) {
    super(message);
  }
}

const NOP = 0x00000013;
/** Largest image the assembler builds (256 MiB): beyond it, a typo in `.space` is likelier. */
export const MAX_IMAGE_BYTES = 256 << 20;
const C_NOP = 0x0001;
/** How deep macros may invoke macros. */
const MAX_MACRO_DEPTH = 64;
/** Largest source text in characters (UTF-16 code units). */
export const MAX_SOURCE_CHARS = 2 << 20;
/**
 * Most statements assembled in all, source and expansions (`.macro`, `.rept`, `.irp`) together:
 * assembling is synchronous (it runs on the event loop), and this bounds its time to a second
 * or two whatever the input.
 */
export const MAX_TOTAL_STATEMENTS = 100_000;
/** Most statements one `.rept` or `.irp` may produce. */
const MAX_REPEATED_STATEMENTS = MAX_TOTAL_STATEMENTS;
/** Deepest chain of symbols defined in terms of one another that is evaluated at once. */
const MAX_SYMBOL_DEPTH = 1000;
/** Longest statement a macro expansion may produce, in characters. */
export const MAX_STATEMENT_CHARS = 64 * 1024;
/** Most characters all expansions together may produce (bounds the memory they take). */
export const MAX_EXPANSION_CHARS = 64 << 20;

// ---------------------------------------------------------------------------------------------

/**
 * Assembles GNU as source into a flat image. Throws {@linkcode AssemblerError} naming file,
 * line and column of every problem found.
 */
export function assemble(source: string, options: AssembleOptions = {}): AssemblyResult {
  return new Assembler(options.fileName ?? "<input>", options.origin ?? 0x8000_0000).run(source);
}

class Assembler {
  private readonly sections = new Map<string, Section>();
  private current: Section;
  private readonly symbols = new Map<string, SymbolEntry>();
  private readonly globals = new Set<string>();
  private readonly localCounts = new Map<string, number>();
  private readonly diagnostics: AssemblerDiagnostic[] = [];
  private readonly auipcs: { section: Section; offset: number; target: Expr; loc: Loc }[] = [];
  private readonly pcrelHiByAddress = new Map<bigint, bigint>();
  private readonly pcrelHiFailed = new Set<bigint>();
  private readonly exprColumns = new WeakMap<Expr, number>();
  private readonly macros = new Map<string, Macro>();
  private macroUses = 0;
  /**
   * Bumped whenever anything a symbol's value may depend on changes (a `.set` redefinition, the
   * final layout, a %pcrel_hi): `.equ` values are memoized per epoch, so evaluating a chain of
   * symbols that each use the previous one twice takes linear, not exponential, time.
   */
  private symbolEpoch = 0;
  /** Symbols being evaluated inside one another right now (bounded: evaluation recurses). */
  private symbolDepth = 0;
  /** The last chain-too-deep error (marked on every symbol of the chain as it unwinds). */
  private tooDeepError: ExprError | undefined;
  /** Characters produced by macro and repeat expansions so far. */
  private expansionChars = 0;
  private note: string | undefined;
  private sectionsUsed = 0;
  private rvc = false;
  private readonly optionStack: boolean[] = [];
  private final = false;

  constructor(readonly fileName: string, readonly origin: number) {
    if (!Number.isSafeInteger(origin) || origin < 0) {
      throw new AssemblerError(fileName, 1, 1, `origin ${origin} is not a valid address`);
    }
    this.current = this.section(".text", 0, false);
  }

  run(source: string): AssemblyResult {
    if (source.length > MAX_SOURCE_CHARS) {
      throw new AssemblerError(
        this.fileName,
        1,
        1,
        `source of ${source.length} characters exceeds the ${MAX_SOURCE_CHARS}-character limit`,
      );
    }
    // A stack of statements still to assemble (macro expansions are pushed onto it).
    const queue: QueuedStatement[] = splitStatements(source, this.fileName)
      .map((raw) => ({ ...raw, depth: 0 })).reverse();
    if (queue.length > MAX_TOTAL_STATEMENTS) {
      throw new AssemblerError(
        this.fileName,
        queue[0].line,
        1,
        `${queue.length} statements exceed the limit of ${MAX_TOTAL_STATEMENTS}`,
      );
    }
    let statements = 0;
    while (queue.length > 0) {
      const raw = queue.pop()!;
      if (++statements > MAX_TOTAL_STATEMENTS || this.expansionChars > MAX_EXPANSION_CHARS) {
        this.report(
          new Fail(
            statements > MAX_TOTAL_STATEMENTS
              ? `more than ${MAX_TOTAL_STATEMENTS} statements to assemble (macro or .rept expansion too large?)`
              : `macro and .rept expansions exceed ${MAX_EXPANSION_CHARS} characters in total`,
            raw.column,
          ),
          raw.line,
          raw.column,
          raw.note,
        );
        break;
      }
      this.note = raw.note;
      try {
        this.statement(tokenizeStatement(raw, this.fileName), raw, queue);
      } catch (e) {
        this.report(e, raw.line, raw.column, raw.note);
      }
      if (this.diagnostics.length >= 50) break;
    }
    this.note = undefined;
    // As GNU as does, code sections end padded (with nops) to their alignment.
    for (const section of this.sections.values()) {
      if (!section.code || section.order === Infinity) continue;
      this.current = section;
      this.align(section.align, undefined, Infinity, { line: 1, column: 1 });
    }
    // Go on with what assembled so that pass-2 problems are reported too.
    this.layout();
    const end = this.imageEnd();
    if (end - this.origin > MAX_IMAGE_BYTES) {
      this.diagnostics.push({
        fileName: this.fileName,
        line: 1,
        column: 1,
        detail: `image of ${end - this.origin} bytes exceeds the ${MAX_IMAGE_BYTES}-byte limit`,
      });
      this.throwIfErrors();
    }
    const image = new Uint8Array(end - this.origin);
    this.final = true;
    this.symbolEpoch++;
    // %pcrel_lo(label) needs the %pcrel_hi target of the auipc at label.
    for (const a of this.auipcs) {
      const pc = a.section.base + a.offset;
      try {
        const v = this.evalAt(a.target, a.section, a.offset, pc);
        this.pcrelHiByAddress.set(BigInt(pc), v);
        this.symbolEpoch++;
      } catch (e) {
        this.pcrelHiFailed.add(BigInt(pc));
        this.report(e, a.loc.line, a.loc.column, a.loc.note);
      }
    }
    for (const section of this.orderedSections()) {
      for (const item of section.items) {
        const pc = section.base + item.offset;
        try {
          item.emit(image, pc - this.origin, pc);
        } catch (e) {
          this.report(e, item.loc.line, item.loc.column, item.loc.note);
        }
        if (this.diagnostics.length >= 50) break;
      }
    }
    this.throwIfErrors();
    const symbols = new Map<string, number>();
    for (const [name, entry] of this.symbols) {
      if (name.includes(LOCAL_MARK)) continue;
      try {
        const v = this.symbolValue(name, entry, undefined);
        symbols.set(name, Number(v.v));
      } catch (e) {
        this.report(e, entry.line, 1);
      }
    }
    this.throwIfErrors();
    const sections = this.orderedSections().map((s) => ({
      name: s.name,
      address: s.base,
      size: s.size,
      kind: s.nobits ? "nobits" as const : "progbits" as const,
    }));
    return {
      image,
      origin: this.origin,
      symbols,
      globals: new Set(this.globals),
      sections,
      entry: symbols.get("_start") ?? this.origin,
    };
  }

  // ----- diagnostics -----

  private report(e: unknown, line: number, column: number, note?: string): void {
    if (e instanceof AssemblerError) {
      this.diagnostics.push(
        ...e.diagnostics.map((d) => note ? { ...d, detail: `${d.detail} (${note})` } : d),
      );
      return;
    }
    if (e instanceof Fail || e instanceof ExprError) {
      let detail = e.message;
      if (e instanceof UnresolvedError && e.symbol.includes(LOCAL_MARK)) {
        detail = `undefined local label '${e.symbol.split(LOCAL_MARK)[0].slice(2)}'`;
      }
      this.diagnostics.push({
        fileName: this.fileName,
        line: (e instanceof ExprError ? e.line : undefined) ?? line,
        column: e.column ?? column,
        detail: note ? `${detail} (${note})` : detail,
      });
      return;
    }
    throw e;
  }

  private throwIfErrors(): void {
    if (this.diagnostics.length === 0) return;
    const sorted = this.diagnostics.map((d, i) => [d, i] as const).sort((a, b) =>
      a[0].line - b[0].line || a[0].column - b[0].column || a[1] - b[1]
    ).map(([d]) => d);
    const seen = new Set<string>();
    const unique = sorted.filter((d) => {
      const key = `${d.line}:${d.column}:${d.detail}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    const [first, ...more] = unique;
    throw new AssemblerError(first.fileName, first.line, first.column, first.detail, more);
  }

  // ----- sections and layout -----

  /** Marks a section as used, fixing its place among the sections of its kind. */
  private use(s: Section): void {
    if (s.order === Infinity) s.order = this.sectionsUsed++;
  }

  /** The section `name` (created on first mention); `select` marks it used. */
  private section(name: string, line: number, select = true): Section {
    let s = this.sections.get(name);
    if (!s) {
      const nobits = /^\.s?bss(\.|$)/.test(name) || name.startsWith(".tbss");
      s = {
        name,
        nobits,
        code: name.startsWith(".text") || name.startsWith(".init"),
        size: 0,
        align: 1,
        items: [],
        base: 0,
        firstLine: line,
        order: Infinity,
      };
      this.sections.set(name, s);
    }
    if (select) this.use(s);
    return s;
  }

  private orderedSections(): Section[] {
    const used = [...this.sections.values()].filter((s) => s.order !== Infinity);
    const rank = (s: Section) => (s.code ? 0 : s.nobits ? 2 : 1);
    return used.sort((a, b) => rank(a) - rank(b) || a.order - b.order);
  }

  private layout(): void {
    let addr = this.origin;
    let first = true;
    for (const s of this.orderedSections()) {
      if (first) {
        if (addr % s.align !== 0) {
          this.diagnostics.push({
            fileName: this.fileName,
            line: s.firstLine || 1,
            column: 1,
            detail: `origin 0x${
              addr.toString(16)
            } is not aligned to the ${s.align}-byte alignment that ${s.name} asks for`,
          });
        }
        first = false;
      } else {
        const align = Math.max(8, s.align);
        addr = Math.ceil(addr / align) * align;
      }
      s.base = addr;
      addr += s.size;
    }
    if (addr > Number.MAX_SAFE_INTEGER) {
      this.diagnostics.push({
        fileName: this.fileName,
        line: 1,
        column: 1,
        detail: "image extends beyond 2^53",
      });
    }
  }

  private imageEnd(): number {
    let end = this.origin;
    for (const s of this.orderedSections()) end = Math.max(end, s.base + s.size);
    return end;
  }

  private addItem(size: number, loc: Loc, emit: Item["emit"]): Item {
    const s = this.current;
    if (s.nobits && size > 0 && emit !== zeroEmit) {
      throw new Fail(
        `${s.name} holds no data: only .zero/.space/.skip and labels belong there`,
        loc.column,
      );
    }
    this.use(s);
    const item: Item = {
      offset: s.size,
      size,
      loc: this.note ? { ...loc, note: this.note } : loc,
      emit,
    };
    s.items.push(item);
    s.size += size;
    return item;
  }

  // ----- symbols -----

  private defineLabel(name: string, tok: Token): void {
    const existing = this.symbols.get(name);
    if (existing) {
      throw new Fail(`symbol '${name}' is already defined at line ${existing.line}`, tok.column);
    }
    this.use(this.current);
    this.symbols.set(name, {
      kind: "label",
      section: this.current,
      offset: this.current.size,
      line: tok.line,
    });
  }

  private defineEqu(name: string, expr: Expr, tok: Token, redefinable: boolean): void {
    const existing = this.symbols.get(name);
    if (existing && (existing.kind === "label" || !redefinable)) {
      throw new Fail(`symbol '${name}' is already defined at line ${existing.line}`, tok.column);
    }
    // A first definition changes no value computed so far (an expression that needed it failed
    // and was not memoized); a redefinition (`.set`) may change those that looked it up by name.
    if (existing) this.symbolEpoch++;
    // An expression that is already an absolute constant is kept as its value (as GNU as does):
    // `.set n, n+1` repeated then never builds a chain of definitions to walk.
    let constant: bigint | undefined;
    try {
      constant = this.tryConstant(expr);
    } catch {
      constant = undefined; // the problem is reported where the symbol is used
    }
    this.symbols.set(name, {
      kind: "equ",
      expr: constant === undefined ? expr : { k: "num", v: constant },
      dotSection: this.current,
      dotOffset: this.current.size,
      line: tok.line,
      evaluating: false,
    });
  }

  private localDefinition(digits: string): string {
    const n = (this.localCounts.get(digits) ?? 0) + 1;
    this.localCounts.set(digits, n);
    return `.L${digits}${LOCAL_MARK}${n}`;
  }

  private readonly hooks = {
    bindSymbol: (name: string): unknown => this.symbols.get(name),
    localLabel: (tok: Token): string => {
      const digits = String(Number(tok.text.slice(0, -1)));
      const dir = tok.text.slice(-1).toLowerCase();
      const n = this.localCounts.get(digits) ?? 0;
      if (dir === "b") {
        if (n === 0) {
          throw new Fail(`local label '${digits}' has no earlier definition`, tok.column);
        }
        return `.L${digits}${LOCAL_MARK}${n}`;
      }
      return `.L${digits}${LOCAL_MARK}${n + 1}`;
    },
  };

  private symbolValue(name: string, bound: unknown, tok: Token | undefined): Value {
    const entry = (bound as SymbolEntry | undefined) ?? this.symbols.get(name);
    if (!entry) throw new UnresolvedError(name, tok?.column);
    if (entry.kind === "label") {
      if (this.final) {
        return { v: BigInt(entry.section.base + entry.offset), section: null, address: true };
      }
      return { v: BigInt(entry.offset), section: entry.section.name };
    }
    if (entry.evaluating) {
      throw new ExprError(`symbol '${name}' is defined in terms of itself`, tok?.column, tok?.line);
    }
    if (entry.memo?.epoch === this.symbolEpoch) return { ...entry.memo.value };
    // A chain found too deep stays too deep: every symbol on it fails at once afterwards.
    if (entry.tooDeep?.epoch === this.symbolEpoch) throw entry.tooDeep.error;
    if (this.symbolDepth >= MAX_SYMBOL_DEPTH) {
      const error = new ExprError(
        `symbol '${name}': definitions refer to one another more than ${MAX_SYMBOL_DEPTH} deep`,
        tok?.column,
        tok?.line,
      );
      this.tooDeepError = error;
      throw error;
    }
    this.symbolDepth++;
    entry.evaluating = true;
    try {
      const pc = this.final ? entry.dotSection.base + entry.dotOffset : undefined;
      const epoch = this.symbolEpoch;
      const value = this.evalValue(entry.expr, entry.dotSection, entry.dotOffset, pc);
      entry.memo = { epoch, value: { ...value } };
      return value;
    } catch (e) {
      if (e === this.tooDeepError) {
        entry.tooDeep = { epoch: this.symbolEpoch, error: e as ExprError };
      }
      throw e;
    } finally {
      this.symbolDepth--;
      entry.evaluating = false;
    }
  }

  private context(section: Section, offset: number, pc: number | undefined): EvalContext {
    return {
      symbol: (name, entry, tok) => this.symbolValue(name, entry, tok),
      dot: () =>
        this.final
          ? { v: BigInt(section.base + offset), section: null, address: true }
          : { v: BigInt(offset), section: section.name },
      pc: () => pc,
      pcrelHiTarget: (address, tok) => {
        const v = this.pcrelHiByAddress.get(address);
        if (this.pcrelHiFailed.has(address)) {
          throw new ExprError(
            `%pcrel_lo: the %pcrel_hi at 0x${address.toString(16)} has an error`,
            tok.column,
          );
        }
        if (v === undefined) {
          throw new ExprError(
            `%pcrel_lo: no auipc with %pcrel_hi at address 0x${address.toString(16)}`,
            tok.column,
          );
        }
        return v;
      },
    };
  }

  private evalValue(e: Expr, section: Section, offset: number, pc: number | undefined): Value {
    return evaluate(e, this.context(section, offset, pc));
  }

  /** Evaluates to an absolute value in the final pass. */
  private evalAt(e: Expr, section: Section, offset: number, pc: number): bigint {
    const v = this.evalValue(e, section, offset, pc);
    if (v.section !== null) throw new ExprError("expression is not absolute");
    return v.v;
  }

  /** Evaluates now (pass 1) if possible: an absolute constant, or `undefined`. */
  private tryConstant(e: Expr): bigint | undefined {
    try {
      const v = this.evalValue(e, this.current, this.current.size, undefined);
      return v.section === null ? v.v : undefined;
    } catch (err) {
      if (err instanceof UnresolvedError) return undefined;
      throw err;
    }
  }

  /** Evaluates a pass-1 constant that must be known now (alignment, sizes). */
  private constant(e: Expr, what: string, column: number): bigint {
    let v: Value;
    try {
      v = this.evalValue(e, this.current, this.current.size, undefined);
    } catch (err) {
      if (err instanceof UnresolvedError) {
        throw new Fail(
          `${what} must be a constant known here (${err.message})`,
          err.column ?? column,
        );
      }
      throw err;
    }
    if (v.section !== null) throw new Fail(`${what} must be a constant, not an address`, column);
    return v.v;
  }

  // ----- statements -----

  private statement(tokens: Token[], raw: QueuedStatement, queue: QueuedStatement[]): void {
    let i = 0;
    // Labels: `name:` or `N:`, possibly several.
    while (i + 1 < tokens.length && tokens[i + 1].kind === "punct" && tokens[i + 1].text === ":") {
      const t = tokens[i];
      if (t.kind === "ident" && t.text !== ".") this.defineLabel(t.text, t);
      else if (t.kind === "number" && /^[0-9]+$/.test(t.text)) {
        const name = this.localDefinition(String(Number(t.text)));
        this.use(this.current);
        this.symbols.set(name, {
          kind: "label",
          section: this.current,
          offset: this.current.size,
          line: t.line,
        });
      } else throw new Fail(`'${t.text}' cannot be a label`, t.column);
      i += 2;
    }
    if (i >= tokens.length) return;
    const head = tokens[i];
    // `sym = expr`
    if (tokens[i + 1]?.kind === "punct" && tokens[i + 1].text === "=" && head.kind === "ident") {
      this.defineEqu(head.text, this.expr(tokens.slice(i + 2), tokens[i + 1]), head, true);
      return;
    }
    if (head.kind !== "ident") {
      throw new Fail(`expected an instruction or directive, found '${head.text}'`, head.column);
    }
    // Text after the mnemonic, raw (macro arguments keep their spelling).
    const rest = raw.text.slice(head.column - raw.column + head.text.length);
    const lower = head.text.toLowerCase();
    const macro = this.macros.get(head.text);
    if (macro) return this.expandMacro(macro, rest, head, raw, queue);
    switch (lower) {
      case ".macro":
        return this.defineMacro(rest, head, raw, queue);
      case ".rept":
      case ".irp":
      case ".irpc":
        return this.repeat(lower, rest, tokens.slice(i + 1), head, raw, queue);
      case ".endm":
      case ".endr":
        throw new Fail(
          `${lower} without a matching ${lower === ".endm" ? ".macro" : ".rept/.irp"}`,
          head.column,
        );
    }
    const operands = splitOperands(tokens.slice(i + 1));
    if (head.text.startsWith(".")) this.directive(head, operands);
    else this.instruction(head, operands);
  }

  // ----- macros and repetition -----

  /** Takes the statements up to the `close` directive that ends a block opened at `head`. */
  private collectBlock(
    queue: QueuedStatement[],
    opens: readonly string[],
    close: string,
    head: Token,
  ): QueuedStatement[] {
    const body: QueuedStatement[] = [];
    let depth = 1;
    while (queue.length > 0) {
      const next = queue.pop()!;
      const word = /^\S+/.exec(next.text)![0].toLowerCase();
      if (opens.includes(word)) depth++;
      if (word === close && --depth === 0) return body;
      body.push(next);
    }
    throw new Fail(`${head.text} without a matching ${close}`, head.column);
  }

  private defineMacro(rest: string, head: Token, raw: QueuedStatement, queue: QueuedStatement[]) {
    const m = /^\s*([A-Za-z_.$][\w.$]*)\s*,?\s*(.*)$/.exec(rest);
    if (!m) throw new Fail(".macro needs a name", head.column + head.text.length);
    const [, name, paramText] = m;
    const params: Macro["params"] = [];
    for (const part of paramText.split(/\s*,\s*|\s+(?=[A-Za-z_])/).filter((p) => p !== "")) {
      const p = /^([A-Za-z_][\w]*)(?::(req|vararg))?(?:\s*=\s*(.*))?$/.exec(part.trim());
      if (!p) throw new Fail(`bad .macro parameter '${part}'`, head.column);
      params.push({
        name: p[1],
        required: p[2] === "req",
        vararg: p[2] === "vararg",
        default: p[3],
      });
    }
    if (this.macros.has(name) || instructionByMnemonic(name.toLowerCase())) {
      throw new Fail(`macro '${name}' is already defined`, head.column);
    }
    const body = this.collectBlock(queue, [".macro"], ".endm", head);
    this.macros.set(name, { name, params, body, line: raw.line });
  }

  private expandMacro(
    macro: Macro,
    rest: string,
    head: Token,
    raw: QueuedStatement,
    queue: QueuedStatement[],
  ): void {
    if (raw.depth >= MAX_MACRO_DEPTH) {
      throw new Fail(
        `macro '${macro.name}' nested more than ${MAX_MACRO_DEPTH} deep (recursive?)`,
        head.column,
      );
    }
    const args = splitArguments(rest);
    const values = new Map<string, string>();
    let positional = 0;
    for (let k = 0; k < args.length; k++) {
      const keyword = /^([A-Za-z_]\w*)\s*=\s*(.*)$/.exec(args[k]);
      if (keyword && macro.params.some((p) => p.name === keyword[1])) {
        values.set(keyword[1], keyword[2]);
        continue;
      }
      const param = macro.params[positional++];
      if (!param) {
        throw new Fail(
          `macro '${macro.name}' takes ${macro.params.length} arguments, got ${args.length}`,
          head.column,
        );
      }
      values.set(param.name, param.vararg ? args.slice(k).join(", ") : args[k]);
      if (param.vararg) break;
    }
    for (const p of macro.params) {
      if (values.has(p.name) && values.get(p.name) !== "") continue;
      if (p.required) {
        throw new Fail(`macro '${macro.name}' needs argument '${p.name}'`, head.column);
      }
      values.set(p.name, p.default ?? "");
    }
    const unique = String(this.macroUses++);
    const note = `in macro '${macro.name}' used at line ${raw.line}`;
    const expanded: QueuedStatement[] = [];
    for (const b of macro.body) {
      const text = substitute(b.text, values, unique);
      if (text.length > MAX_STATEMENT_CHARS) {
        throw new Fail(
          `macro '${macro.name}' expands to a statement of ${text.length} characters (limit ${MAX_STATEMENT_CHARS})`,
          head.column,
        );
      }
      this.expansionChars += text.length;
      if (this.expansionChars > MAX_EXPANSION_CHARS) {
        throw new Fail(
          `macro '${macro.name}': expansions exceed ${MAX_EXPANSION_CHARS} characters in total`,
          head.column,
        );
      }
      expanded.push({ text, line: b.line, column: b.column, depth: raw.depth + 1, note });
    }
    for (let k = expanded.length - 1; k >= 0; k--) queue.push(expanded[k]);
  }

  private repeat(
    kind: string,
    rest: string,
    tokens: Token[],
    head: Token,
    raw: QueuedStatement,
    queue: QueuedStatement[],
  ): void {
    const body = this.collectBlock(queue, [".rept", ".irp", ".irpc"], ".endr", head);
    const copies: QueuedStatement[][] = [];
    if (kind === ".rept") {
      if (tokens.length === 0) {
        throw new Fail(".rept needs a count", head.column + head.text.length);
      }
      const count = this.constant(this.expr(tokens, head), ".rept count", tokens[0].column);
      if (
        count < 0n || count * BigInt(Math.max(1, body.length)) > BigInt(MAX_REPEATED_STATEMENTS)
      ) {
        throw new Fail(`.rept count ${count} out of range`, tokens[0].column);
      }
      this.chargeExpansion(body, Number(count), head);
      for (let k = 0n; k < count; k++) copies.push(body.map((b) => ({ ...b, depth: raw.depth })));
    } else {
      const [param, ...values] = splitArguments(rest);
      if (!param || !/^[A-Za-z_]\w*$/.test(param)) {
        throw new Fail(`${kind} needs a parameter name`, head.column + head.text.length);
      }
      const items = kind === ".irp" ? values : [...values.join("")];
      if (items.length * Math.max(1, body.length) > MAX_REPEATED_STATEMENTS) {
        throw new Fail(
          `${kind} produces more than ${MAX_REPEATED_STATEMENTS} statements`,
          head.column,
        );
      }
      this.chargeExpansion(body, items.length, head);
      for (const value of items) {
        const map = new Map([[param, value]]);
        copies.push(
          body.map((b) => ({ ...b, text: substitute(b.text, map, ""), depth: raw.depth })),
        );
      }
    }
    for (let k = copies.length - 1; k >= 0; k--) {
      for (let j = copies[k].length - 1; j >= 0; j--) queue.push(copies[k][j]);
    }
  }

  /** Counts `times` copies of `body` against the expansion budget. */
  private chargeExpansion(body: QueuedStatement[], times: number, head: Token): void {
    const chars = body.reduce((n, b) => n + b.text.length, 0) * times;
    this.expansionChars += chars;
    if (this.expansionChars > MAX_EXPANSION_CHARS) {
      throw new Fail(
        `${head.text} expansions exceed ${MAX_EXPANSION_CHARS} characters in total`,
        head.column,
      );
    }
  }

  private expr(tokens: Token[], near: Token): Expr {
    try {
      return parseExpression(tokens, this.hooks);
    } catch (e) {
      if (e instanceof ExprError && e.column === undefined) {
        throw new Fail(e.message, near.column + near.text.length);
      }
      throw e;
    }
  }

  /** The value of an operand that must be a constant known at this point; `what` names it. */
  private constantOperand(op: Operand, what: string): bigint {
    return this.constant(this.operandExpr(op), what, op.column);
  }

  /** The low byte of a fill-value operand (`.balign`, `.zero` and friends). */
  private fillByte(op: Operand): number {
    return Number(this.constantOperand(op, "fill value") & 0xffn);
  }

  private operandExpr(op: Operand): Expr {
    if (op.tokens.length === 0) throw new Fail("missing operand", op.column);
    try {
      const e = parseExpression(op.tokens, this.hooks);
      this.exprColumns.set(e, op.column);
      return e;
    } catch (e) {
      if (e instanceof ExprError && e.column === undefined) throw new Fail(e.message, op.column);
      throw e;
    }
  }

  // ----- directives -----

  private directive(head: Token, ops: Operand[]): void {
    const name = head.text.toLowerCase();
    const loc = { line: head.line, column: head.column };
    const count = (n: number, m = n) => {
      if (ops.length < n || ops.length > m) {
        const want = n === m ? `${n}` : `${n} to ${m}`;
        throw new Fail(
          `${name} takes ${want} operand${m === 1 ? "" : "s"}, got ${ops.length}`,
          head.column,
        );
      }
    };
    switch (name) {
      case ".text":
      case ".data":
      case ".bss":
        count(0);
        this.current = this.section(name, head.line);
        return;
      case ".rodata":
        count(0);
        this.current = this.section(".rodata", head.line);
        return;
      case ".section": {
        if (ops.length < 1) throw new Fail(".section needs a section name", head.column);
        const t = ops[0].tokens;
        const secName = t.length === 1 && t[0].kind === "string"
          ? String.fromCharCode(...t[0].bytes!)
          : t.map((x) => x.text).join("");
        if (!/^[.A-Za-z_$][\w.$]*$/.test(secName)) {
          throw new Fail(`bad section name '${secName}'`, ops[0].column);
        }
        this.current = this.section(secName, head.line);
        return;
      }
      case ".globl":
      case ".global":
      case ".weak":
        for (const op of ops) this.globals.add(this.identifier(op, name));
        return;
      case ".local":
      case ".hidden":
      case ".protected":
      case ".internal":
        for (const op of ops) this.identifier(op, name);
        return;
      case ".equ":
      case ".set":
      case ".equiv": {
        count(2);
        const id = this.identifier(ops[0], name);
        this.defineEqu(id, this.operandExpr(ops[1]), ops[0].tokens[0], name !== ".equiv");
        return;
      }
      case ".byte":
      case ".2byte":
      case ".half":
      case ".short":
      case ".4byte":
      case ".word":
      case ".long":
      case ".int":
      case ".8byte":
      case ".dword":
      case ".quad": {
        const size = DATA_SIZES[name];
        for (const op of ops) this.dataValue(op, size);
        return;
      }
      case ".ascii":
      case ".asciz":
      case ".string": {
        if (ops.length === 0) throw new Fail(`${name} needs a string`, head.column);
        for (const op of ops) {
          const t = op.tokens;
          if (t.length !== 1 || t[0].kind !== "string") {
            throw new Fail(`${name} expects a "string"`, op.column);
          }
          const bytes = [...t[0].bytes!, ...(name === ".ascii" ? [] : [0])];
          this.addItem(bytes.length, { line: t[0].line, column: t[0].column }, (out, at) => {
            out.set(bytes, at);
          });
        }
        return;
      }
      case ".align":
      case ".p2align":
      case ".balign": {
        count(1, 3);
        const n = this.constantOperand(ops[0], `${name} argument`);
        let bytes: number;
        if (name === ".balign") {
          if (n < 1n || n > 1n << 30n || (n & (n - 1n)) !== 0n) {
            throw new Fail(`.balign ${n}: alignment must be a power of two`, ops[0].column);
          }
          bytes = Number(n);
        } else {
          if (n < 0n || n > 30n) {
            throw new Fail(`${name} ${n}: exponent must be 0..30`, ops[0].column);
          }
          bytes = 2 ** Number(n);
        }
        let fill: number | undefined;
        if (ops.length >= 2 && ops[1].tokens.length > 0) fill = this.fillByte(ops[1]);
        let max = Infinity;
        if (ops.length === 3) max = Number(this.constantOperand(ops[2], "maximum padding"));
        this.align(bytes, fill, max, loc);
        return;
      }
      case ".zero":
      case ".space":
      case ".skip": {
        count(1, 2);
        const n = this.constantOperand(ops[0], `${name} size`);
        if (n < 0n || n > 1n << 32n) {
          throw new Fail(`${name} size ${n} out of range`, ops[0].column);
        }
        const fill = ops.length === 2 ? this.fillByte(ops[1]) : 0;
        this.addItem(
          Number(n),
          loc,
          fill === 0 ? zeroEmit : (out, at) => {
            out.fill(fill, at, at + Number(n));
          },
        );
        return;
      }
      case ".fill": {
        count(1, 3);
        const repeat = this.constantOperand(ops[0], ".fill repeat");
        const size = ops.length >= 2 ? this.constantOperand(ops[1], ".fill size") : 1n;
        const value = ops.length === 3 ? this.constantOperand(ops[2], ".fill value") : 0n;
        if (repeat < 0n || repeat > 1n << 32n) {
          throw new Fail(`.fill repeat ${repeat} out of range`, ops[0].column);
        }
        if (size < 0n || size > 8n) {
          throw new Fail(`.fill size ${size} must be 0..8`, ops[1].column);
        }
        const r = Number(repeat), sz = Number(size);
        this.addItem(
          r * sz,
          loc,
          value === 0n ? zeroEmit : (out, at) => {
            for (let k = 0; k < r; k++) writeLE(out, at + k * sz, sz, value);
          },
        );
        return;
      }
      case ".option": {
        if (ops.length === 0) throw new Fail(".option needs an option name", head.column);
        const opt = ops[0].tokens.map((t) => t.text).join("");
        if (opt !== "arch") count(1);
        switch (opt) {
          case "rvc":
            this.rvc = true;
            return;
          case "norvc":
            this.rvc = false;
            return;
          case "push":
            this.optionStack.push(this.rvc);
            return;
          case "pop":
            if (this.optionStack.length === 0) {
              throw new Fail(".option pop without a matching .option push", ops[0].column);
            }
            this.rvc = this.optionStack.pop()!;
            return;
          case "relax":
          case "norelax":
          case "pic":
          case "nopic":
          case "csr-check":
          case "no-csr-check":
            return;
        }
        if (opt === "arch") return;
        throw new Fail(`unknown .option '${opt}'`, ops[0].column);
      }
      case ".type":
      case ".size":
      case ".file":
      case ".ident":
      case ".attribute":
      case ".loc":
      case ".end":
        return;
    }
    if (name.startsWith(".cfi_")) return;
    throw new Fail(`unknown directive '${head.text}'`, head.column);
  }

  private identifier(op: Operand, directive: string): string {
    if (op.tokens.length !== 1 || op.tokens[0].kind !== "ident" || op.tokens[0].text === ".") {
      throw new Fail(`${directive} expects a symbol name`, op.column);
    }
    return op.tokens[0].text;
  }

  private dataValue(op: Operand, size: number): void {
    const e = this.operandExpr(op);
    const section = this.current;
    const offset = section.size;
    const loc = { line: op.tokens[0].line, column: op.column };
    this.addItem(size, loc, (out, at, pc) => {
      const v = this.evalAt(e, section, offset, pc);
      if (size < 8) {
        const min = -(1n << BigInt(size * 8 - 1));
        const max = (1n << BigInt(size * 8)) - 1n;
        if (v < min || v > max) {
          throw new Fail(
            `value ${v} does not fit in ${size} byte${size > 1 ? "s" : ""}`,
            op.column,
          );
        }
      }
      writeLE(out, at, size, v);
    });
  }

  private align(bytes: number, fill: number | undefined, max: number, loc: Loc): void {
    const s = this.current;
    s.align = Math.max(s.align, bytes);
    const pad = (bytes - (s.size % bytes)) % bytes;
    if (pad === 0 || pad > max) return;
    if (s.nobits || fill === 0) {
      this.addItem(pad, loc, zeroEmit);
      return;
    }
    if (fill !== undefined || !s.code) {
      const f = fill ?? 0;
      this.addItem(pad, loc, f === 0 ? zeroEmit : (out, at) => out.fill(f, at, at + pad));
      return;
    }
    // Code: zero bytes up to a 2-byte boundary, a c.nop up to 4, then nops.
    this.addItem(pad, loc, (out, at) => {
      let k = 0;
      const start = at;
      while ((start + k) % 2 !== 0 && k < pad) out[start + k++] = 0;
      if ((pad - k) % 4 === 2) {
        writeLE(out, start + k, 2, BigInt(C_NOP));
        k += 2;
      }
      for (; k + 4 <= pad; k += 4) writeLE(out, start + k, 4, BigInt(NOP));
    });
  }

  // ----- instructions -----

  private instruction(head: Token, ops: Operand[]): void {
    const mnemonic = head.text.toLowerCase();
    const loc = { line: head.line, column: head.column };
    const insns = this.expand(mnemonic, ops, head);
    // `.` in every instruction of an expansion is the address of the statement.
    const dot = this.current.size;
    for (const insn of insns) {
      const emitted = this.rvc && insn.spec.length === 4
        ? this.compress(insn, mnemonic) ?? insn
        : insn;
      this.emitInsn(emitted, loc, dot);
    }
  }

  private emitInsn(insn: MachineInsn, loc: Loc, dot: number): void {
    const section = this.current;
    const offset = section.size;
    const auipcHi = insn.spec.mnemonic === "auipc"
      ? relocTarget(insn.args.uimm20, "pcrel_hi")
      : undefined;
    if (auipcHi) {
      this.auipcs.push({ section, offset, target: auipcHi, loc: { ...insn.loc, note: this.note } });
    }
    if (section.align < 2) section.align = 2;
    this.addItem(insn.spec.length, loc, (out, at, pc) => {
      const word = this.encode(insn, section, dot, pc);
      out[at] = word & 0xff;
      out[at + 1] = (word >>> 8) & 0xff;
      if (insn.spec.length === 4) {
        out[at + 2] = (word >>> 16) & 0xff;
        out[at + 3] = word >>> 24;
      }
    });
  }

  /** Encodes `insn` at address `pc`; `dot` is the section offset that `.` stands for. */
  private encode(insn: MachineInsn, section: Section, dot: number, pc: number): number {
    const { spec } = insn;
    let word = spec.match;
    for (const name of fieldNames(spec)) {
      const f = FIELDS[name];
      const arg = insn.args[name];
      if (!arg) throw new Fail(`internal: ${spec.mnemonic} lacks operand ${name}`, insn.loc.column);
      if (f.type === "reg") {
        if (!("reg" in arg)) throw new Fail(`${spec.mnemonic}: expected a register`, arg.column);
        const w = encodeRegister(word, f, arg.reg);
        if (w === undefined) {
          const need = f.fixed !== undefined
            ? "sp"
            : f.width === 3
            ? "one of x8..x15 (s0, s1, a0..a5)"
            : "a register";
          throw new Fail(
            `${spec.mnemonic}: register ${
              ABI_REGISTER_NAMES[arg.reg]
            } not allowed here, need ${need}`,
            arg.column,
          );
        }
        word = w;
        continue;
      }
      if (!("expr" in arg)) {
        throw new Fail(`${spec.mnemonic}: expected an expression, not a register`, arg.column);
      }
      let v: bigint;
      try {
        v = this.evalAt(arg.expr, section, dot, pc);
      } catch (e) {
        if (e instanceof ExprError && e.column === undefined) throw new Fail(e.message, arg.column);
        throw e;
      }
      if (f.pcRelative) v = v - BigInt(pc);
      if (f.print === "clui" && v >= 0xfffe0n && v <= 0xfffffn) v -= 0x100000n;
      const err = immediateRangeError(f, Number(BigInt.asIntN(64, v)));
      if (
        err !== undefined || v > BigInt(Number.MAX_SAFE_INTEGER) ||
        v < -BigInt(Number.MAX_SAFE_INTEGER)
      ) {
        if (f.pcRelative) {
          const reach = 2 ** (immediateBits(f) - 1);
          const why = v % 2n !== 0n ? "is not 2-byte aligned" : "is out of range";
          throw new Fail(
            `${spec.mnemonic}: target ${why}: ${v} bytes away (reach ${-reach}..${reach - 2})`,
            arg.column,
          );
        }
        throw new Fail(`${spec.mnemonic}: ${err ?? `value ${v} out of range`}`, arg.column);
      }
      word = encodeImmediate(word, f, Number(v));
    }
    return word >>> 0;
  }

  /** Turns a mnemonic and its operands into machine instructions (pseudo-instructions expand). */
  private expand(mnemonic: string, ops: Operand[], head: Token): MachineInsn[] {
    const loc = { line: head.line, column: head.column };
    const pseudo = PSEUDO[mnemonic];
    const spec = instructionByMnemonic(mnemonic, ops.length);
    if (
      pseudo && (!spec || ops.length !== spec.operands.length || this.tryPseudoFirst(mnemonic, ops))
    ) {
      return pseudo(this.pseudoApi(loc, head), ops);
    }
    if (spec) return [this.parseReal(spec, ops, head)];
    throw new Fail(`unknown instruction '${head.text}'`, head.column);
  }

  /** Real mnemonics whose pseudo form has the same operand count (`lw rd, symbol` etc.). */
  private tryPseudoFirst(mnemonic: string, ops: Operand[]): boolean {
    if (LOADS.has(mnemonic) && ops.length === 2) return !isMemOperand(ops[1]);
    if (STORES.has(mnemonic) && ops.length === 3) return true;
    if (CSR_REG_FORMS.has(mnemonic) && ops.length === 3) {
      return this.reg(ops[2], false) === undefined;
    }
    if (mnemonic === "jalr" && ops.length === 2) return !isMemOperand(ops[1]);
    return false;
  }

  private parseReal(spec: InstructionSpec, ops: Operand[], head: Token): MachineInsn {
    if (ops.length !== spec.operands.length) {
      throw new Fail(
        `'${spec.mnemonic}' takes ${spec.operands.length} operand${
          spec.operands.length === 1 ? "" : "s"
        }` +
          (spec.syntax ? ` (${spec.syntax.replaceAll(/\bc_|q\b/g, "")})` : "") +
          `, got ${ops.length}`,
        ops[spec.operands.length]?.column ?? head.column,
      );
    }
    const args: Record<string, Arg> = {};
    spec.operands.forEach((t, i) => {
      const op = ops[i];
      if (t.kind === "field") {
        args[t.field] = this.fieldArg(t.field, op, spec.mnemonic);
        return;
      }
      const { offset, base } = splitMem(op);
      args[t.base] = { reg: this.requireReg(base), column: base.column };
      if (t.offset !== null) {
        args[t.offset] = offset.tokens.length === 0
          ? { expr: { k: "num", v: 0n }, column: op.column }
          : { expr: this.operandExpr(offset), column: offset.column };
      } else if (offset.tokens.length > 0) {
        const v = this.tryConstant(this.operandExpr(offset));
        if (v !== 0n) {
          throw new Fail(`${spec.mnemonic} takes no offset: write (reg) or 0(reg)`, offset.column);
        }
      }
    });
    return { spec, args, loc: { line: head.line, column: head.column } };
  }

  private fieldArg(name: string, op: Operand, mnemonic: string): Arg {
    const f = FIELDS[name];
    if (f.type === "reg") {
      return {
        reg: f.file === "f" ? this.requireFpReg(op) : this.requireReg(op),
        column: op.column,
      };
    }
    if (f.print === "csr") return { expr: this.csrExpr(op), column: op.column };
    if (f.print === "rm") {
      const text = op.tokens.map((t) => t.text).join("");
      const v = ROUNDING_MODE_NAMES.indexOf(text);
      if (v < 0 || text === "unknown" || op.tokens.length !== 1) {
        throw new Fail(
          `${mnemonic}: bad rounding mode '${text}' (rne, rtz, rdn, rup, rmm or dyn)`,
          op.column,
        );
      }
      return { expr: { k: "num", v: BigInt(v) }, column: op.column };
    }
    if (f.print === "fence") {
      const text = op.tokens.map((t) => t.text).join("");
      const v = parseFenceSet(text);
      if (v === undefined || op.tokens.length !== 1) {
        throw new Fail(
          `${mnemonic}: bad fence set '${text}' (use letters of iorw in that order)`,
          op.column,
        );
      }
      return { expr: { k: "num", v: BigInt(v) }, column: op.column };
    }
    if (
      op.tokens.length === 1 && op.tokens[0].kind === "ident" &&
      registerNumber(op.tokens[0].text) !== undefined
    ) {
      throw new Fail(
        `${mnemonic}: expected an immediate, found register '${op.tokens[0].text}'`,
        op.column,
      );
    }
    return { expr: this.operandExpr(op), column: op.column };
  }

  private csrExpr(op: Operand): Expr {
    if (op.tokens.length === 1 && op.tokens[0].kind === "ident") {
      const num = standardCsrNumber(op.tokens[0].text);
      if (num !== undefined) return { k: "num", v: BigInt(num) };
      if (!this.symbols.has(op.tokens[0].text)) {
        throw new Fail(`unknown CSR '${op.tokens[0].text}'`, op.column);
      }
    }
    return this.operandExpr(op);
  }

  /** Register number of an operand, or `undefined` if it is not a register (when not `strict`). */
  private reg(op: Operand, strict: boolean): number | undefined {
    if (op.tokens.length === 1 && op.tokens[0].kind === "ident") {
      const n = registerNumber(op.tokens[0].text);
      if (n !== undefined) return n;
    }
    if (strict) {
      const text = op.tokens.map((t) => t.text).join(" ");
      throw new Fail(
        op.tokens.length ? `expected a register, found '${text}'` : "missing register operand",
        op.column,
      );
    }
    return undefined;
  }

  private requireReg(op: Operand): number {
    if (op.tokens.length === 1 && fpRegisterNumber(op.tokens[0].text) !== undefined) {
      throw new Fail(
        `expected an integer register, found FP register '${op.tokens[0].text}'`,
        op.column,
      );
    }
    return this.reg(op, true)!;
  }

  /** FP register number of an operand (`f0`..`f31`, `ft0`.., `fa0`.., `fs0`..). */
  private requireFpReg(op: Operand): number {
    if (op.tokens.length === 1 && op.tokens[0].kind === "ident") {
      const n = fpRegisterNumber(op.tokens[0].text);
      if (n !== undefined) return n;
    }
    const text = op.tokens.map((t) => t.text).join(" ");
    throw new Fail(
      op.tokens.length
        ? `expected an FP register (f0..f31, ${FP_ABI_REGISTER_NAMES[10]}...), found '${text}'`
        : "missing FP register operand",
      op.column,
    );
  }

  private pseudoApi(loc: Loc, head: Token): PseudoApi {
    return {
      head,
      reg: (op) => this.requireReg(op),
      fpReg: (op) => this.requireFpReg(op),
      isReg: (op) => this.reg(op, false) !== undefined,
      expr: (op) => this.operandExpr(op),
      csr: (op) => this.csrExpr(op),
      constant: (e) => this.tryConstant(e),
      mem: (op) => {
        const { offset, base } = splitMem(op);
        return {
          base: this.requireReg(base),
          offset: offset.tokens.length === 0 ? { k: "num", v: 0n } : this.operandExpr(offset),
        };
      },
      isMem: (op) => isMemOperand(op),
      insn: (mnemonic, args) => {
        const spec = instructionByMnemonic(mnemonic)!;
        const out: Record<string, Arg> = {};
        for (const [k, v] of Object.entries(args)) {
          out[k] = typeof v === "number"
            ? { reg: v, column: loc.column }
            : { expr: v, column: this.exprColumns.get(v) ?? loc.column };
        }
        return { spec, args: out, loc };
      },
    };
  }

  // ----- RVC compression -----

  private compress(insn: MachineInsn, source: string): MachineInsn | undefined {
    const r = (name: string) => {
      const a = insn.args[name];
      return a && "reg" in a ? a.reg : undefined;
    };
    const c = (name: string) => {
      const a = insn.args[name];
      if (!a || !("expr" in a)) return undefined;
      const v = this.tryConstant(a.expr);
      return v === undefined ? undefined : Number(v);
    };
    const mk = (
      mnemonic: string,
      args: Record<string, number>,
      immField?: string,
      imm?: number,
    ) => {
      const spec = instructionByMnemonic(mnemonic)!;
      const out: Record<string, Arg> = {};
      for (const [k, v] of Object.entries(args)) out[k] = { reg: v, column: insn.loc.column };
      if (immField !== undefined) {
        out[immField] = { expr: { k: "num", v: BigInt(imm!) }, column: insn.loc.column };
      }
      // Reject if a field cannot hold its value.
      for (const name of fieldNames(spec)) {
        const f = FIELDS[name];
        const a = out[name];
        if (!a) return undefined;
        if (f.type === "reg") {
          if (!("reg" in a) || encodeRegister(0, f, a.reg) === undefined) return undefined;
        } else if (immediateRangeError(f as ImmediateField, imm!) !== undefined) return undefined;
      }
      if (spec.valid) {
        const probe = this.encode(
          { spec, args: out, loc: insn.loc },
          this.current,
          this.current.size,
          0,
        );
        if (!spec.valid(probe)) return undefined;
      }
      return { spec, args: out, loc: insn.loc };
    };
    const isQ = (n: number | undefined) => n !== undefined && n >= 8 && n <= 15;
    const rd = r("rd"), rs1 = r("rs1"), rs2 = r("rs2");
    switch (insn.spec.mnemonic) {
      case "addi": {
        const imm = c("imm12");
        if (imm === undefined || rd === undefined || rs1 === undefined) return undefined;
        if (rd === 0 && rs1 === 0 && imm === 0) return mk("c.nop", {});
        let out: MachineInsn | undefined;
        if (rd === rs1 && rd !== 0 && imm !== 0) {
          out = mk("c.addi", { crd: rd }, "c_imm6", imm);
          if (rd === 2) out ??= mk("c.addi16sp", { sp: 2 }, "c_addi16sp", imm);
        }
        if (rs1 === 2 && isQ(rd)) out ??= mk("c.addi4spn", { crdq: rd, sp: 2 }, "c_addi4spn", imm);
        if (rs1 === 0 && rd !== 0 && source !== "mv") {
          out ??= mk("c.li", { crd: rd }, "c_imm6", imm);
        }
        if (imm === 0 && rd !== 0 && rs1 !== 0) out ??= mk("c.mv", { crd: rd, crs2: rs1 });
        return out;
      }
      case "addiw": {
        const imm = c("imm12");
        if (imm === undefined || rd !== rs1 || rd === 0) return undefined;
        return mk("c.addiw", { crd: rd! }, "c_imm6", imm);
      }
      case "lui": {
        const imm = c("uimm20");
        if (imm === undefined || rd === 0 || rd === 2) return undefined;
        const v = imm >= 0xfffe0 ? imm - 0x100000 : imm;
        if (v === 0 || v < -32 || v > 31) return undefined;
        return mk("c.lui", { crd: rd! }, "c_lui", v);
      }
      case "slli": {
        const imm = c("shamt6");
        if (imm === undefined || rd !== rs1 || rd === 0 || imm === 0) return undefined;
        return mk("c.slli", { crd: rd! }, "c_shamt", imm);
      }
      case "srli":
      case "srai": {
        const imm = c("shamt6");
        if (imm === undefined || rd !== rs1 || !isQ(rd) || imm === 0) return undefined;
        return mk(`c.${insn.spec.mnemonic}`, { crs1q: rd! }, "c_shamt", imm);
      }
      case "andi": {
        const imm = c("imm12");
        if (imm === undefined || rd !== rs1 || !isQ(rd)) return undefined;
        return mk("c.andi", { crs1q: rd! }, "c_imm6", imm);
      }
      case "add":
        if (rd === 0 || rd === undefined) return undefined;
        if (rs1 === 0 && rs2 !== 0) return mk("c.mv", { crd: rd, crs2: rs2! });
        if (rd === rs1 && rs2 !== 0) return mk("c.add", { crd: rd, crs2: rs2! });
        if (rd === rs2 && rs1 !== 0) return mk("c.add", { crd: rd, crs2: rs1! });
        return undefined;
      case "sub":
      case "subw":
        if (rd === rs1 && isQ(rd) && isQ(rs2)) {
          return mk(`c.${insn.spec.mnemonic}`, { crs1q: rd!, crs2q: rs2! });
        }
        return undefined;
      case "xor":
      case "or":
      case "and":
      case "addw":
        if (rd === rs1 && isQ(rd) && isQ(rs2)) {
          return mk(`c.${insn.spec.mnemonic}`, { crs1q: rd!, crs2q: rs2! });
        }
        if (rd === rs2 && isQ(rd) && isQ(rs1)) {
          return mk(`c.${insn.spec.mnemonic}`, { crs1q: rd!, crs2q: rs1! });
        }
        return undefined;
      case "lw":
      case "ld": {
        const imm = c("imm12");
        if (imm === undefined || rd === undefined) return undefined;
        const w = insn.spec.mnemonic === "lw" ? "w" : "d";
        if (rs1 === 2 && rd !== 0) return mk(`c.l${w}sp`, { crd: rd, sp: 2 }, `c_l${w}sp`, imm);
        if (isQ(rd) && isQ(rs1)) return mk(`c.l${w}`, { crdq: rd, crs1q: rs1! }, `c_l${w}`, imm);
        return undefined;
      }
      case "sw":
      case "sd": {
        const imm = c("simm12");
        if (imm === undefined || rs2 === undefined) return undefined;
        const w = insn.spec.mnemonic === "sw" ? "w" : "d";
        if (rs1 === 2) return mk(`c.s${w}sp`, { crs2: rs2, sp: 2 }, `c_s${w}sp`, imm);
        if (isQ(rs2) && isQ(rs1)) return mk(`c.s${w}`, { crs2q: rs2, crs1q: rs1! }, `c_l${w}`, imm);
        return undefined;
      }
      case "fld": {
        const imm = c("imm12");
        const fd = r("frd");
        if (imm === undefined || fd === undefined) return undefined;
        if (rs1 === 2) return mk("c.fldsp", { cfrd: fd, sp: 2 }, "c_ldsp", imm);
        if (isQ(fd) && isQ(rs1)) return mk("c.fld", { cfrdq: fd, crs1q: rs1! }, "c_ld", imm);
        return undefined;
      }
      case "fsd": {
        const imm = c("simm12");
        const fs = r("frs2");
        if (imm === undefined || fs === undefined) return undefined;
        if (rs1 === 2) return mk("c.fsdsp", { cfrs2: fs, sp: 2 }, "c_sdsp", imm);
        if (isQ(fs) && isQ(rs1)) return mk("c.fsd", { cfrs2q: fs, crs1q: rs1! }, "c_ld", imm);
        return undefined;
      }
      case "jalr": {
        const imm = c("imm12");
        if (imm !== 0 || rs1 === 0 || rs1 === undefined) return undefined;
        if (rd === 0) return mk("c.jr", { crd: rs1 });
        if (rd === 1) return mk("c.jalr", { crd: rs1 });
        return undefined;
      }
      case "ebreak":
        return mk("c.ebreak", {});
    }
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

const DATA_SIZES: Record<string, number> = {
  ".byte": 1,
  ".2byte": 2,
  ".half": 2,
  ".short": 2,
  ".4byte": 4,
  ".word": 4,
  ".long": 4,
  ".int": 4,
  ".8byte": 8,
  ".dword": 8,
  ".quad": 8,
};

const LOADS = new Set(["lb", "lh", "lw", "ld", "lbu", "lhu", "lwu"]);
const STORES = new Set(["sb", "sh", "sw", "sd"]);
const CSR_REG_FORMS = new Set(["csrrw", "csrrs", "csrrc"]);

const zeroEmit: Item["emit"] = () => {};

function writeLE(out: Uint8Array, at: number, size: number, value: bigint): void {
  let v = BigInt.asUintN(64, value);
  for (let k = 0; k < size; k++) {
    out[at + k] = Number(v & 0xffn);
    v >>= 8n;
  }
}

const FIELD_NAMES = new Map<InstructionSpec, string[]>();

/** The operand field names of an instruction, in syntax order (cached). */
function fieldNames(spec: InstructionSpec): string[] {
  const cached = FIELD_NAMES.get(spec);
  if (cached) return cached;
  const names: string[] = [];
  FIELD_NAMES.set(spec, names);
  for (const t of spec.operands) {
    if (t.kind === "field") names.push(t.field);
    else {
      if (t.offset !== null) names.push(t.offset);
      names.push(t.base);
    }
  }
  return names;
}

function relocTarget(arg: Arg | undefined, op: string): Expr | undefined {
  if (!arg || !("expr" in arg)) return undefined;
  const e = arg.expr;
  return e.k === "reloc" && e.op === op ? e.a : undefined;
}

function splitOperands(tokens: Token[]): Operand[] {
  if (tokens.length === 0) return [];
  const ops: Operand[] = [];
  let depth = 0;
  let cur: Token[] = [];
  let col = tokens[0].column;
  for (const t of tokens) {
    if (t.kind === "punct" && t.text === "(") depth++;
    if (t.kind === "punct" && t.text === ")") depth--;
    if (t.kind === "punct" && t.text === "," && depth === 0) {
      ops.push({ tokens: cur, column: cur[0]?.column ?? t.column });
      cur = [];
      col = t.column + 1;
      continue;
    }
    cur.push(t);
  }
  ops.push({ tokens: cur, column: cur[0]?.column ?? col });
  return ops;
}

/** Splits macro arguments at top-level commas (outside parentheses and strings), trimmed. */
function splitArguments(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = "";
  let quote = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      current += c;
      if (c === "\\" && i + 1 < text.length) current += text[++i];
      else if (c === '"') quote = false;
      continue;
    }
    if (c === '"') quote = true;
    if (c === "(") depth++;
    if (c === ")") depth--;
    if (c === "," && depth === 0) {
      out.push(current.trim());
      current = "";
      continue;
    }
    current += c;
  }
  if (current.trim() !== "" || out.length > 0) out.push(current.trim());
  return out;
}

/**
 * Replaces `\param` by its value, `\@` by the expansion counter, and drops `\()`. As in GNU
 * as, character literals (`'\n'`) are left alone; strings are substituted.
 */
function substitute(text: string, values: ReadonlyMap<string, string>, unique: string): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === "'") {
      const len = text[i + 1] === "\\" ? 3 : 2;
      const end = i + len + (text[i + len] === "'" ? 1 : 0);
      out += text.slice(i, end);
      i = end;
      continue;
    }
    const m = c === "\\" ? /^\\(\(\)|@|[A-Za-z_]\w*)/.exec(text.slice(i)) : null;
    if (!m) {
      out += c;
      i++;
      continue;
    }
    const name = m[1];
    out += name === "()" ? "" : name === "@" ? unique : values.get(name) ?? m[0];
    i += m[0].length;
  }
  return out;
}

/** Whether an operand has the `offset(reg)` shape. */
function isMemOperand(op: Operand): boolean {
  const t = op.tokens;
  const n = t.length;
  return n >= 3 && t[n - 1].text === ")" && t[n - 3].text === "(" && t[n - 2].kind === "ident" &&
    registerNumber(t[n - 2].text) !== undefined;
}

function splitMem(op: Operand): { offset: Operand; base: Operand } {
  if (!isMemOperand(op)) {
    const text = op.tokens.map((t) => t.text).join("");
    throw new Fail(
      op.tokens.length
        ? `expected a memory operand offset(reg), found '${text}'`
        : "missing memory operand",
      op.column,
    );
  }
  const n = op.tokens.length;
  const offsetTokens = op.tokens.slice(0, n - 3);
  return {
    offset: { tokens: offsetTokens, column: op.column },
    base: { tokens: [op.tokens[n - 2]], column: op.tokens[n - 2].column },
  };
}

// ---------------------------------------------------------------------------------------------
// Pseudo-instructions

interface PseudoApi {
  head: Token;
  reg(op: Operand): number;
  fpReg(op: Operand): number;
  isReg(op: Operand): boolean;
  expr(op: Operand): Expr;
  csr(op: Operand): Expr;
  constant(e: Expr): bigint | undefined;
  mem(op: Operand): { base: number; offset: Expr };
  isMem(op: Operand): boolean;
  insn(mnemonic: string, args: Record<string, number | Expr>): MachineInsn;
}

type Pseudo = (api: PseudoApi, ops: Operand[]) => MachineInsn[];

function arity(api: PseudoApi, ops: Operand[], ...allowed: number[]): void {
  if (!allowed.includes(ops.length)) {
    const want = allowed.join(" or ");
    throw new Fail(
      `'${api.head.text}' takes ${want} operand${
        allowed.length === 1 && allowed[0] === 1 ? "" : "s"
      }, got ${ops.length}`,
      ops[Math.max(...allowed)]?.column ?? api.head.column,
    );
  }
}

const num = (v: bigint | number): Expr => ({ k: "num", v: BigInt(v) });
const reloc = (op: "hi" | "lo" | "pcrel_hi", a: Expr, tok: Token): Expr => ({
  k: "reloc",
  op,
  a,
  tok,
});

/** GNU as's `li` sequence for a constant (binutils `load_const`). */
function loadConst(api: PseudoApi, rd: number, value: bigint, top: boolean): MachineInsn[] {
  const v = wrap64(value);
  if (top && v >= -2048n && v <= 2047n) return [api.insn("addi", { rd, rs1: 0, imm12: num(v) })];
  const lower = BigInt.asIntN(12, v);
  let upper = wrap64(v - lower);
  if (v !== BigInt.asIntN(32, v)) {
    let shift = 12n;
    while (((upper >> shift) & 1n) === 0n) shift++;
    upper = upper >> shift;
    const out = loadConst(api, rd, upper, false);
    out.push(api.insn("slli", { rd, rs1: rd, shamt6: num(shift) }));
    if (lower !== 0n) out.push(api.insn("addi", { rd, rs1: rd, imm12: num(lower) }));
    return out;
  }
  const out: MachineInsn[] = [];
  let hiReg = 0;
  if (upper !== 0n) {
    out.push(api.insn("lui", { rd, uimm20: num(BigInt.asUintN(32, upper) >> 12n) }));
    hiReg = rd;
  }
  if (lower !== 0n || hiReg === 0) {
    out.push(api.insn("addiw", { rd, rs1: hiReg, imm12: num(lower) }));
  }
  return out;
}

function pcrelPair(
  api: PseudoApi,
  temp: number,
  target: Expr,
  second: (lo: Expr) => MachineInsn,
): MachineInsn[] {
  const lo: Expr = { k: "pcrelLoBack", target, back: 4 };
  return [api.insn("auipc", { rd: temp, uimm20: reloc("pcrel_hi", target, api.head) }), second(lo)];
}

/** `auipc temp, %pcrel_hi(target)` then `jalr rd, %pcrel_lo(...)(temp)`: a jump or call anywhere. */
function farJump(api: PseudoApi, rd: number, temp: number, target: Expr): MachineInsn[] {
  return pcrelPair(api, temp, target, (lo) => api.insn("jalr", { rd, rs1: temp, imm12: lo }));
}

/** `jalr rd, 0(reg)` for a register operand, `jalr rd, offset(base)` for a memory operand. */
function jalrTo(api: PseudoApi, rd: number, op: Operand): MachineInsn[] {
  if (api.isMem(op)) {
    const m = api.mem(op);
    return [api.insn("jalr", { rd, rs1: m.base, imm12: m.offset })];
  }
  return [api.insn("jalr", { rd, rs1: api.reg(op), imm12: num(0) })];
}

const branchZero = (mnemonic: string, swap: boolean): Pseudo => (api, ops) => {
  arity(api, ops, 2);
  const rs = api.reg(ops[0]);
  const target = api.expr(ops[1]);
  return [
    api.insn(
      mnemonic,
      swap ? { rs1: 0, rs2: rs, boff: target } : { rs1: rs, rs2: 0, boff: target },
    ),
  ];
};

const branchSwap = (mnemonic: string): Pseudo => (api, ops) => {
  arity(api, ops, 3);
  return [
    api.insn(mnemonic, { rs1: api.reg(ops[1]), rs2: api.reg(ops[0]), boff: api.expr(ops[2]) }),
  ];
};

const twoReg =
  (mnemonic: string, make: (rd: number, rs: number) => Record<string, number | Expr>): Pseudo =>
  (api, ops) => {
    arity(api, ops, 2);
    return [api.insn(mnemonic, make(api.reg(ops[0]), api.reg(ops[1])))];
  };

/** `fmv.s rd, rs` and friends: a sign injection with both sources `rs`. */
const fpSignInjection = (mnemonic: string): Pseudo => (api, ops) => {
  arity(api, ops, 2);
  const rs = api.fpReg(ops[1]);
  return [api.insn(mnemonic, { frd: api.fpReg(ops[0]), frs1: rs, frs2: rs })];
};

/** `frcsr rd` and friends: read an FP CSR. */
const fpCsrRead = (csr: number): Pseudo => (api, ops) => {
  arity(api, ops, 1);
  return [api.insn("csrrs", { rd: api.reg(ops[0]), csr: num(csr), rs1: 0 })];
};

/** `fscsr [rd,] rs` and friends: swap an FP CSR (rd defaults to zero). */
const fpCsrWrite = (csr: number): Pseudo => (api, ops) => {
  arity(api, ops, 1, 2);
  const rd = ops.length === 2 ? api.reg(ops[0]) : 0;
  return [api.insn("csrrw", { rd, csr: num(csr), rs1: api.reg(ops[ops.length - 1]) })];
};

/** `fsrmi [rd,] imm` and `fsflagsi`: swap an FP CSR with an immediate. */
const fpCsrWriteImm = (csr: number): Pseudo => (api, ops) => {
  arity(api, ops, 1, 2);
  const rd = ops.length === 2 ? api.reg(ops[0]) : 0;
  return [api.insn("csrrwi", { rd, csr: num(csr), zimm5: api.expr(ops[ops.length - 1]) })];
};

const counter = (csr: number): Pseudo => (api, ops) => {
  arity(api, ops, 1);
  return [api.insn("csrrs", { rd: api.reg(ops[0]), csr: num(csr), rs1: 0 })];
};

/** `csrw csr, rs` / `csrw csr, imm` and friends (rd = zero). */
const csrWrite = (reg: string, imm: string): Pseudo => (api, ops) => {
  arity(api, ops, 2);
  const csr = api.csr(ops[0]);
  if (api.isReg(ops[1])) return [api.insn(reg, { rd: 0, csr, rs1: api.reg(ops[1]) })];
  return [api.insn(imm, { rd: 0, csr, zimm5: api.expr(ops[1]) })];
};

const csrImm = (mnemonic: string): Pseudo => (api, ops) => {
  arity(api, ops, 2);
  return [api.insn(mnemonic, { rd: 0, csr: api.csr(ops[0]), zimm5: api.expr(ops[1]) })];
};

/** `csrrw rd, csr, imm` written with the register mnemonic: GNU as picks the `i` form. */
const csrRegWithImm = (imm: string): Pseudo => (api, ops) => {
  arity(api, ops, 3);
  return [api.insn(imm, { rd: api.reg(ops[0]), csr: api.csr(ops[1]), zimm5: api.expr(ops[2]) })];
};

/** `op rd, symbol`: `auipc rd` then `op rd, %pcrel_lo(...)(rd)` (a load, or `addi` for `la`). */
const loadSymbol = (mnemonic: string): Pseudo => (api, ops) => {
  arity(api, ops, 2);
  const rd = api.reg(ops[0]);
  return pcrelPair(
    api,
    rd,
    api.expr(ops[1]),
    (lo) => api.insn(mnemonic, { rd, rs1: rd, imm12: lo }),
  );
};

const storeSymbol = (mnemonic: string): Pseudo => (api, ops) => {
  arity(api, ops, 3);
  const rs2 = api.reg(ops[0]);
  const temp = api.reg(ops[2]);
  return pcrelPair(
    api,
    temp,
    api.expr(ops[1]),
    (lo) => api.insn(mnemonic, { rs2, rs1: temp, simm12: lo }),
  );
};

const PSEUDO: Record<string, Pseudo> = {
  nop: (api, ops) => (arity(api, ops, 0), [api.insn("addi", { rd: 0, rs1: 0, imm12: num(0) })]),
  "c.nop": (api, ops) => {
    arity(api, ops, 0, 1);
    const imm = ops.length === 1 ? api.expr(ops[0]) : num(0);
    return [api.insn("c.addi", { crd: 0, c_imm6: imm })];
  },
  li: (api, ops) => {
    arity(api, ops, 2);
    const rd = api.reg(ops[0]);
    const e = api.expr(ops[1]);
    const v = api.constant(e);
    if (v !== undefined) return loadConst(api, rd, v, true);
    return [
      api.insn("lui", { rd, uimm20: reloc("hi", e, api.head) }),
      api.insn("addi", { rd, rs1: rd, imm12: reloc("lo", e, api.head) }),
    ];
  },
  la: loadSymbol("addi"),
  lla: (api, ops) => PSEUDO.la(api, ops),
  mv: twoReg("addi", (rd, rs) => ({ rd, rs1: rs, imm12: num(0) })),
  not: twoReg("xori", (rd, rs) => ({ rd, rs1: rs, imm12: num(-1) })),
  neg: twoReg("sub", (rd, rs) => ({ rd, rs1: 0, rs2: rs })),
  negw: twoReg("subw", (rd, rs) => ({ rd, rs1: 0, rs2: rs })),
  "sext.w": twoReg("addiw", (rd, rs) => ({ rd, rs1: rs, imm12: num(0) })),
  "zext.b": twoReg("andi", (rd, rs) => ({ rd, rs1: rs, imm12: num(255) })),
  seqz: twoReg("sltiu", (rd, rs) => ({ rd, rs1: rs, imm12: num(1) })),
  snez: twoReg("sltu", (rd, rs) => ({ rd, rs1: 0, rs2: rs })),
  sltz: twoReg("slt", (rd, rs) => ({ rd, rs1: rs, rs2: 0 })),
  sgtz: twoReg("slt", (rd, rs) => ({ rd, rs1: 0, rs2: rs })),
  beqz: branchZero("beq", false),
  bnez: branchZero("bne", false),
  bltz: branchZero("blt", false),
  bgez: branchZero("bge", false),
  blez: branchZero("bge", true),
  bgtz: branchZero("blt", true),
  bgt: branchSwap("blt"),
  ble: branchSwap("bge"),
  bgtu: branchSwap("bltu"),
  bleu: branchSwap("bgeu"),
  j: (api, ops) => (arity(api, ops, 1), [api.insn("jal", { rd: 0, joff: api.expr(ops[0]) })]),
  jal: (api, ops) => (arity(api, ops, 1), [api.insn("jal", { rd: 1, joff: api.expr(ops[0]) })]),
  jr: (api, ops) => {
    arity(api, ops, 1, 2);
    if (ops.length === 2) {
      return [api.insn("jalr", { rd: 0, rs1: api.reg(ops[0]), imm12: api.expr(ops[1]) })];
    }
    return jalrTo(api, 0, ops[0]);
  },
  jalr: (api, ops) => {
    arity(api, ops, 1, 2, 3);
    if (ops.length === 3) {
      return [
        api.insn("jalr", { rd: api.reg(ops[0]), rs1: api.reg(ops[1]), imm12: api.expr(ops[2]) }),
      ];
    }
    if (ops.length === 1) return jalrTo(api, 1, ops[0]);
    return [api.insn("jalr", { rd: api.reg(ops[0]), rs1: api.reg(ops[1]), imm12: num(0) })];
  },
  ret: (api, ops) => (arity(api, ops, 0), [api.insn("jalr", { rd: 0, rs1: 1, imm12: num(0) })]),
  call: (api, ops) => {
    arity(api, ops, 1, 2);
    // `call sym` goes through ra; `call rd, sym` through t1, as in GNU as.
    const rd = ops.length === 2 ? api.reg(ops[0]) : 1;
    const temp = ops.length === 2 ? 6 : 1;
    return farJump(api, rd, temp, api.expr(ops[ops.length - 1]));
  },
  tail: (api, ops) => (arity(api, ops, 1), farJump(api, 0, 6, api.expr(ops[0]))),
  jump: (api, ops) => {
    arity(api, ops, 2);
    const temp = api.reg(ops[1]);
    return farJump(api, 0, temp, api.expr(ops[0]));
  },
  csrr: (api, ops) => {
    arity(api, ops, 2);
    return [api.insn("csrrs", { rd: api.reg(ops[0]), csr: api.csr(ops[1]), rs1: 0 })];
  },
  csrw: csrWrite("csrrw", "csrrwi"),
  csrs: csrWrite("csrrs", "csrrsi"),
  csrc: csrWrite("csrrc", "csrrci"),
  csrwi: csrImm("csrrwi"),
  csrsi: csrImm("csrrsi"),
  csrci: csrImm("csrrci"),
  csrrw: csrRegWithImm("csrrwi"),
  csrrs: csrRegWithImm("csrrsi"),
  csrrc: csrRegWithImm("csrrci"),
  "fmv.s": fpSignInjection("fsgnj.s"),
  "fneg.s": fpSignInjection("fsgnjn.s"),
  "fabs.s": fpSignInjection("fsgnjx.s"),
  "fmv.d": fpSignInjection("fsgnj.d"),
  "fneg.d": fpSignInjection("fsgnjn.d"),
  "fabs.d": fpSignInjection("fsgnjx.d"),
  frflags: fpCsrRead(0x001),
  fsflags: fpCsrWrite(0x001),
  fsflagsi: fpCsrWriteImm(0x001),
  frrm: fpCsrRead(0x002),
  fsrm: fpCsrWrite(0x002),
  fsrmi: fpCsrWriteImm(0x002),
  frcsr: fpCsrRead(0x003),
  fscsr: fpCsrWrite(0x003),
  rdcycle: counter(0xc00),
  rdtime: counter(0xc01),
  rdinstret: counter(0xc02),
  fence: (api, ops) => {
    arity(api, ops, 0);
    return [api.insn("fence", { pred: num(15), succ: num(15) })];
  },
  "sfence.vma": (api, ops) => {
    arity(api, ops, 0, 1);
    const rs1 = ops.length === 1 ? api.reg(ops[0]) : 0;
    return [api.insn("sfence.vma", { rs1, rs2: 0 })];
  },
  ...Object.fromEntries([...LOADS].map((m) => [m, loadSymbol(m)])),
  ...Object.fromEntries([...STORES].map((m) => [m, storeSymbol(m)])),
};
