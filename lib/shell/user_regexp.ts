/**
 * Regular expressions that sessions send (`vm wait --console`), compiled so that matching them
 * can never stall the event loop: a backtracking pattern such as `(a+)+$` takes exponential time
 * on V8's default engine (28 characters: 45 s), and one session's pattern would freeze every VM
 * and session.
 *
 * With V8's linear-time engine (`deno run --v8-flags=--enable-experimental-regexp-engine`, which
 * `deno task start` sets) a pattern is compiled with the `l` flag: matching is linear in the text,
 * and a pattern that cannot run in linear time (backreferences, lookahead) is refused. Without it,
 * patterns whose matching can blow up are refused by their shape instead: backreferences,
 * lookaround, and a quantified group that holds a quantifier (nested quantifiers).
 *
 * @module
 */

/** The `deno run` flag that gives V8's linear-time engine (`deno task start` and `test` pass it). */
export const LINEAR_REGEXP_FLAG = "--v8-flags=--enable-experimental-regexp-engine";

/** Whether this runtime offers V8's linear-time engine (the `l` flag). */
export const LINEAR_REGEXP: boolean = (() => {
  try {
    new RegExp("a", "l");
    return true;
  } catch {
    return false;
  }
})();

/** A pattern a session may not use, with why. */
export class UnsafePatternError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "UnsafePatternError";
  }
}

/**
 * Compiles a session's pattern with `flags` so that matching takes time linear in the text.
 *
 * @param linear whether to use the linear-time engine; default: when the runtime has it
 * @throws {SyntaxError} when the pattern is not a regular expression
 * @throws {UnsafePatternError} when matching it could take more than linear time
 */
export function compileUserRegExp(pattern: string, flags = "", linear = LINEAR_REGEXP): RegExp {
  if (linear) {
    try {
      return new RegExp(pattern, flags + "l");
    } catch (e) {
      if (/linear time/.test((e as Error).message)) {
        throw new UnsafePatternError(
          "it needs backtracking (a backreference or a lookahead), which could stall the " +
            "hypervisor: rewrite it without",
        );
      }
      throw e;
    }
  }
  const regex = new RegExp(pattern, flags); // syntax errors first
  const problem = backtrackingRisk(pattern);
  if (problem) {
    throw new UnsafePatternError(
      `${problem}, which could make matching take exponential time and stall the hypervisor ` +
        "(run with --v8-flags=--enable-experimental-regexp-engine to allow any pattern that " +
        "matches in linear time)",
    );
  }
  return regex;
}

/** Why matching `pattern` on V8's backtracking engine could blow up, or undefined. */
function backtrackingRisk(pattern: string): string | undefined {
  // Each open group: whether a quantifier occurs inside it.
  const groups: boolean[] = [];
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") {
      const next = pattern[i + 1] ?? "";
      if (!inClass && (/[1-9]/.test(next) || next === "k")) return "it uses a backreference";
      i++;
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      continue;
    }
    if (c === "[") {
      inClass = true;
    } else if (c === "(") {
      if (/^\?<?[=!]/.test(pattern.slice(i + 1, i + 4))) return "it uses a lookaround";
      groups.push(false);
    } else if (c === ")") {
      const hadQuantifier = groups.pop() ?? false;
      const quantified = isQuantifier(pattern, i + 1);
      if (hadQuantifier && quantified) return "it repeats a group that holds a repetition";
      if ((hadQuantifier || quantified) && groups.length > 0) groups[groups.length - 1] = true;
    } else if (isQuantifier(pattern, i) && groups.length > 0) {
      groups[groups.length - 1] = true;
    }
  }
  return undefined;
}

/** Whether a repeating quantifier (`*`, `+`, `{n}` with n > 1, `{n,}`, `{n,m}` with m > 1) starts at `i`. */
function isQuantifier(pattern: string, i: number): boolean {
  const c = pattern[i];
  if (c === "*" || c === "+") return true;
  if (c !== "{") return false;
  const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i));
  if (!m) return false;
  if (m[2] === undefined) return Number(m[1]) > 1;
  return m[3] === "" || Number(m[3]) > 1;
}
