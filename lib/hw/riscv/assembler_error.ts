/**
 * The error the assembler throws: it names the file, line and column of what is wrong.
 *
 * @module
 */

/** One problem found in assembly source. */
export interface AssemblerDiagnostic {
  /** Source file name as given to the assembler. */
  fileName: string;
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  column: number;
  /** What is wrong, without the position prefix. */
  detail: string;
}

/**
 * An error in assembly source. `message` reads `file:line:col: what is wrong`; when the
 * assembler found several problems, `diagnostics` lists them all (the first one is the error's
 * own position) and `message` has one line per problem.
 */
export class AssemblerError extends Error {
  /** Source file name. */
  readonly fileName: string;
  /** 1-based line of the (first) problem. */
  readonly line: number;
  /** 1-based column of the (first) problem. */
  readonly column: number;
  /** What is wrong, without the position prefix. */
  readonly detail: string;
  /** Every problem found, in source order. */
  readonly diagnostics: readonly AssemblerDiagnostic[];

  /** Creates an error at `fileName:line:column`; `more` adds further problems. */
  constructor(
    fileName: string,
    line: number,
    column: number,
    detail: string,
    more: readonly AssemblerDiagnostic[] = [],
  ) {
    const first = { fileName, line, column, detail };
    const all = [first, ...more];
    super(all.map((d) => `${d.fileName}:${d.line}:${d.column}: ${d.detail}`).join("\n"));
    this.name = "AssemblerError";
    this.fileName = fileName;
    this.line = line;
    this.column = column;
    this.detail = detail;
    this.diagnostics = all;
  }
}
