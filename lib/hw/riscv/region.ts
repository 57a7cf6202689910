/**
 * Regions: the translation units of the second tier (jit.ts). A region starts at a hot
 * instruction (its origin) and holds, within its 4 KiB page and up to {@linkcode MAX_REGION}
 * instructions, the straight line from there (through not-taken branches, as the first tier's
 * blocks did) and the hot cycles through the origin: the code reachable from it through
 * fall-through, conditional branches and direct jumps (`jal`) that leads back to it, counting
 * as hot only code the interpreter ran often (so V8 does not optimize code the function never
 * ran, which would deoptimize it). Control flow between the region's instructions stays inside
 * its function; only leaving the region returns to the dispatcher (`Hart.run`): a target
 * outside it (another page, an instruction the tier leaves to the interpreter, cold code), an
 * indirect jump (`jalr`), a load or store that misses the TLB (before the access), a store that
 * dropped compiled code (after the store), or the instruction budget.
 *
 * The function is a `for (;;) switch (cur)` over the region's jump targets, laid out in address
 * order so that fall-through falls into the next case; a forward branch over a short straight
 * run that nothing else enters is an `if` around the run instead. Registers live in locals for
 * the whole region and are written back once, on the single exit path. The region can be
 * entered at its origin and at every jump target (where the interpreter lands after a budget
 * or side exit). Budget accounting is exact: every backward jump inside the region (every cycle
 * has one) checks that the instructions run so far plus the longest run from its target to the
 * next backward jump or exit stay within the limit, and otherwise leaves before the target (a
 * `Budget` exit); the dispatcher does the same check before calling the region, with the
 * entry's {@linkcode RegionSource.lengths}.
 *
 * @module
 */

import { Op, X0_SINK } from "./decoder.ts";
import { INT_OP_BY_NUMBER } from "./int_ops.ts";
import { emitInstruction, WRITES_RD } from "./jit.ts";

/**
 * Most instructions in one region. Measured on the Linux boot and the compute loop: 128 (for
 * the line too) halved the boot's `end` exits (2.6 M -> 1.5 M) but was not faster in CPU time;
 * 256 without the cycle rule (all hot code reachable from the origin) made TurboFan spend about
 * 66 ms per region and halved the compute loop's speed.
 */
export const MAX_REGION = 64;
/** Longest straight run a forward branch may skip as an `if`. */
const MAX_SKIP = 16;
/** Longest straight line from the entry (as the first tier's blocks were). */
const MAX_LINE = 64;
/** Most instructions explored to find the cycles through the entry. */
const MAX_EXPLORE = 512;

/** The source of a region. */
export interface RegionSource {
  /** Function body (uses the `BlockContext` names of jit.ts, `base`, `off`, `org`, `limit`). */
  readonly body: string;
  /**
   * The longest run of instructions from the entry before a backward jump or an exit: a call
   * needs at least this much budget.
   */
  readonly length: number;
  /**
   * Page offsets where the region may be entered: its origin (the hot instruction it was built
   * from, first) and the targets of its internal jumps. The function takes the offset it starts
   * at as `off`; it is bound to the origin's offset as `org`.
   */
  readonly entries: readonly number[];
  /** The budget each entry needs (as {@linkcode RegionSource.length} for the origin). */
  readonly lengths: readonly number[];
  /** Page offsets of the region's instructions (the slots a store must invalidate). */
  readonly offsets: readonly number[];
  /** Byte lengths of those instructions. */
  readonly sizes: readonly number[];
}

/** A constant as a JavaScript operand (negative numbers parenthesized). */
const lit = (v: number): string => (v < 0 ? `(${v})` : String(v));

/** The page offset `o` (absolute) as an expression over the origin's offset `org`. */
const at = (o: number, entry: number): string => (o === entry ? "org" : `org + ${lit(o - entry)}`);

/**
 * Builds the region whose origin is at page offset `entry`. `word(o)`/`immAt(o)` give the
 * decoded instruction at page offset `o` (decoding it if needed); `hot(o)` says whether the
 * interpreter ran the instruction at `o` often enough for it to join the region as the target
 * of a jump or either successor of a branch (straight-line fall-through always joins, as far as
 * it is translatable). Returns `null` when the first instruction cannot be translated.
 */
export function regionSource(
  entry: number,
  word: (o: number) => number,
  immAt: (o: number) => number,
  hot: (o: number) => boolean = () => true,
): RegionSource | null {
  // 1. The instructions: the straight line from the entry (through not-taken branches, as far
  // as it is translatable), then the cycles through the entry: the hot code reachable from the
  // entry (breadth first) that leads back to it. Code that does not loop back to the entry is
  // left out: its jumps would save few dispatcher round trips but cost V8 compile time.
  const words = new Map<number, number>();
  const imms = new Map<number, number>();
  const translatable = (o: number): boolean => {
    if (o < 0 || o >= 4096) return false;
    if (words.has(o)) return true;
    const w = word(o);
    if ((w & 255) === Op.CROSS) return false;
    const imm = immAt(o);
    if (emitInstruction(w, imm, 0, 0) === null) return false;
    words.set(o, w);
    imms.set(o, imm);
    return true;
  };
  const line: number[] = [];
  for (let o = entry; line.length < MAX_LINE && translatable(o);) {
    line.push(o);
    const op = words.get(o)! & 255;
    if (op === Op.JAL || op === Op.JALR) break;
    o += words.get(o)! >>> 26;
  }
  if (line.length === 0) return null;
  const preds = new Map<number, number[]>();
  const reached = [entry];
  const seen = new Set<number>(reached);
  const edge = (from: number, to: number): void => {
    if (!translatable(to)) return;
    let p = preds.get(to);
    if (p === undefined) preds.set(to, p = []);
    p.push(from);
    if (!seen.has(to) && seen.size < MAX_EXPLORE) {
      seen.add(to);
      reached.push(to);
    }
  };
  for (let q = 0; q < reached.length; q++) {
    const o = reached[q];
    const w = words.get(o)!;
    const op = w & 255;
    const kind = INT_OP_BY_NUMBER[op]?.kind;
    const t = o + imms.get(o)!;
    if ((kind === "branch" || op === Op.JAL) && hot(t)) edge(o, t);
    const f = o + (w >>> 26);
    if (kind === "branch" ? hot(f) : op !== Op.JAL && op !== Op.JALR) edge(o, f);
  }
  const region = new Set<number>(line);
  const back = [entry];
  const loops = new Set<number>(back);
  for (let q = 0; q < back.length && region.size < MAX_REGION; q++) {
    region.add(back[q]);
    for (const p of preds.get(back[q]) ?? []) {
      if (seen.has(p) && !loops.has(p)) {
        loops.add(p);
        back.push(p);
      }
    }
  }
  for (const o of [...words.keys()]) {
    if (!region.has(o)) {
      words.delete(o);
      imms.delete(o);
    }
  }
  if (!words.has(entry)) return null;
  const order = [...words.keys()].sort((a, b) => a - b);
  const pos = new Map<number, number>();
  order.forEach((o, i) => pos.set(o, i));

  // 2. Jump targets inside the region start cases; so does a fall-through that is not the next
  // instruction in address order (only with overlapping instructions), and an instruction that
  // is not the fall-through of the previous one.
  const leaders = new Set<number>([entry]);
  for (let i = 0; i < order.length; i++) {
    // An instruction the previous one in address order does not fall into starts a case too
    // (it is reachable only through a jump, or through code beyond the size limit).
    const prev = i === 0 ? undefined : words.get(order[i - 1])!;
    if (
      prev === undefined || (prev & 255) === Op.JAL || (prev & 255) === Op.JALR ||
      order[i - 1] + (prev >>> 26) !== order[i]
    ) leaders.add(order[i]);
  }
  // A forward branch over a short straight run that nothing else enters becomes an `if` around
  // the run (`skips`: branch offset -> the run's offsets); its target then needs no case.
  const jumpsTo = new Map<number, number>();
  for (const o of order) {
    const w = words.get(o)!;
    const kind = INT_OP_BY_NUMBER[w & 255]?.kind;
    const t = o + imms.get(o)!;
    if ((kind === "branch" || (w & 255) === Op.JAL) && words.has(t)) {
      jumpsTo.set(t, (jumpsTo.get(t) ?? 0) + 1);
    }
  }
  const skips = new Map<number, number[]>();
  for (const o of order) {
    const w = words.get(o)!;
    const t = o + imms.get(o)!;
    if (INT_OP_BY_NUMBER[w & 255]?.kind !== "branch" || t <= o || !words.has(t)) continue;
    const run: number[] = [];
    let x = o + (w >>> 26);
    while (x < t && run.length < MAX_SKIP && words.has(x) && !leaders.has(x) && !jumpsTo.has(x)) {
      const wx = words.get(x)!;
      const kx = INT_OP_BY_NUMBER[wx & 255]?.kind;
      if (kx === "branch" || kx === "jump") break;
      run.push(x);
      x += wx >>> 26;
    }
    if (x === t && run.length > 0 && run.every((r, j) => order[pos.get(o)! + 1 + j] === r)) {
      skips.set(o, run);
    }
  }
  for (const o of order) {
    const w = words.get(o)!;
    const op = w & 255;
    const kind = INT_OP_BY_NUMBER[op]?.kind;
    const t = o + imms.get(o)!;
    if ((kind === "branch" || op === Op.JAL) && words.has(t) && !skips.has(o)) leaders.add(t);
    const f = o + (w >>> 26);
    if (op !== Op.JAL && op !== Op.JALR && words.has(f) && order[pos.get(o)! + 1] !== f) {
      leaders.add(f);
    }
  }
  // A run must not hold a case (only overlapping instructions could put one there): such a
  // branch jumps to its target as any other.
  for (let changed = true; changed;) {
    changed = false;
    for (const [o, run] of skips) {
      if (run.some((r) => leaders.has(r))) {
        skips.delete(o);
        leaders.add(o + imms.get(o)!);
        changed = true;
      }
    }
  }
  const caseOf = new Map<number, number>();
  for (const o of order) if (leaders.has(o)) caseOf.set(o, caseOf.size);

  // 3. Longest runs: from each instruction to the next backward jump or exit (forward edges
  // only, so this is a longest path in a DAG, computed in reverse address order).
  const longest = new Map<number, number>();
  for (let i = order.length - 1; i >= 0; i--) {
    const o = order[i];
    const w = words.get(o)!;
    const op = w & 255;
    const kind = INT_OP_BY_NUMBER[op]?.kind;
    let best = 0;
    const f = o + (w >>> 26);
    if (op !== Op.JAL && op !== Op.JALR && words.has(f)) best = longest.get(f)!;
    const t = o + imms.get(o)!;
    if ((kind === "branch" || op === Op.JAL) && t > o && words.has(t)) {
      best = Math.max(best, longest.get(t)!);
    }
    longest.set(o, best + 1);
  }

  // 4. The code, in address order.
  const single = caseOf.size === 1;
  const goTo = (t: number): string =>
    single ? "continue main;" : `cur = ${caseOf.get(t)}; continue main;`;
  const parts: string[] = [];
  const written = new Set<number>();
  let k = 0;
  const emit = (o: number, k: number): string =>
    emitInstruction(words.get(o)!, imms.get(o)!, o - entry, k)!.replace(
      /@GO (\d+) (-?\d+)@/g,
      (_m, n: string, rel: string) => {
        const t = entry + Number(rel);
        if (!words.has(t)) {
          return `{ exN = ${n}; exW = 1; exR = ${at(t, entry)}; break main; }`;
        }
        if (t > o) return `{ done += ${n}; ${goTo(t)} }`;
        return `{ done += ${n}; if (done + ${longest.get(t)} <= limit) { ${
          goTo(t)
        } } exN = 0; exW = 3; exR = ${at(t, entry)}; break main; }`;
      },
    );
  for (let i = 0; i < order.length; i++) {
    let o = order[i];
    if (leaders.has(o)) {
      if (!single) parts.push(`case ${caseOf.get(o)}:`);
      k = 0;
    }
    let w = words.get(o)!;
    const run = skips.get(o);
    if (run === undefined) parts.push(emit(o, k));
    else {
      // `if (cond) goto t; run; t:` as `if (!cond) { run }`: the run's instructions count from
      // the branch's position on and are added to `done` at the end of the `if`.
      const cond = emitInstruction(w, imms.get(o)!, o - entry, k)!.match(/^if \((.*)\) \{ @GO/s)!;
      parts.push(`if (!(${cond[1]})) {`);
      run.forEach((r, j) => {
        parts.push(emit(r, k + 1 + j));
        const wr = words.get(r)!;
        if (WRITES_RD[wr & 255] !== 0) written.add((wr >>> 8) & 63);
      });
      parts.push(`done += ${run.length}; }`);
      i += run.length;
      o = run[run.length - 1];
      w = words.get(o)!;
    }
    const op = w & 255;
    if (WRITES_RD[op] !== 0) written.add((w >>> 8) & 63);
    k++;
    if (op === Op.JAL || op === Op.JALR) continue;
    const f = o + (w >>> 26);
    if (!words.has(f)) parts.push(`{ exN = ${k}; exW = 0; exR = ${at(f, entry)}; break main; }`);
    else if (order[i + 1] !== f) parts.push(`{ done += ${k}; ${goTo(f)} }`);
    else if (leaders.has(f)) parts.push(`done += ${k};`);
  }
  const code = single ? parts.join("\n") : `switch (cur) {\n${parts.join("\n")}\n}`;
  const entries = [entry, ...[...caseOf.keys()].filter((o) => o !== entry)];
  const start = single
    ? ""
    : `switch (off - org) {\n${
      entries.filter((o) => o !== entry).map((o) =>
        `case ${o - entry}: cur = ${caseOf.get(o)}; break;`
      )
        .join("\n")
    }\n}`;
  return {
    body: finish(code, written, single ? "" : `, cur = ${caseOf.get(entry)}`, entry, start),
    length: longest.get(entry)!,
    entries,
    lengths: entries.map((o) => longest.get(o)!),
    offsets: order,
    sizes: order.map((o) => words.get(o)! >>> 26),
  };
}

/**
 * Turns the emitted code into the function body: registers live in locals (`l5`/`h5`) loaded
 * at entry and written back once, on the single exit path that every exit breaks to (so the
 * source grows with the instructions, not with instructions times exits).
 */
function finish(
  code: string,
  written: Set<number>,
  extra: string,
  entry: number,
  start: string,
): string {
  const used = new Set<number>();
  let body = code.replace(/x([lh])\[(\d+)\]/g, (_m, half: string, r: string) => {
    used.add(Number(r));
    return `${half}${r}`;
  });
  const writeBack = [...written].filter((r) => r !== 0 && r !== X0_SINK)
    .map((r) => `xl[${r}] = l${r}; xh[${r}] = h${r};`).join(" ");
  body = body.replace(
    /@EXIT (\d+) (\d)@ return ([^;]+);/g,
    "{ exN = $1; exW = $2; exR = $3; break main; }",
  );
  if (body.includes("@")) {
    throw new Error(`jit: unresolved marker in the region at ${entry}:\n${body}`);
  }
  const decls = [...used].map((r) =>
    r === 0
      ? "const l0 = 0, h0 = 0;"
      : r === X0_SINK
      ? "let l32 = 0, h32 = 0;"
      : `let l${r} = xl[${r}], h${r} = xh[${r}];`
  ).join(" ");
  return `${decls}\nlet done = 0, exN = 0, exW = 0, exR = 0${extra};\nprime: {\nif (limit < 0) break prime;\n${start}\nmain: for (;;) {\n${body}\n}\n}\n${writeBack}\nst[0] = done + exN; st[1] = exW; return exR;`;
}
