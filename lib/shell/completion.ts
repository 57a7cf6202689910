/**
 * Tab completion driven by the command definitions: command and subcommand names, `--flags`
 * and `--options`, option values (choices, VM ids, paths), and positional arguments by their
 * {@linkcode ArgDef} kind (VM ids and names, paths, command names).
 *
 * @module
 */

import type { FileInfo } from "../vmm/filesystem.ts";
import type { ArgDef, CommandNode, CommandTree, CompletionKind } from "./command_tree.ts";
import { quoteWord, scan } from "./tokenizer.ts";
import { resolvePath } from "./paths.ts";

/** What completion may look at. */
export interface CompletionSource {
  /** The session's working directory. */
  cwd: string;
  /** VM ids and names; `command` (e.g. `["vm", "stop"]`) lets it offer only VMs it applies to. */
  vmNames(command?: readonly string[]): string[];
  /** Entries of an absolute directory (empty when it cannot be read). */
  listDir(path: string): FileInfo[];
}

/** The result of {@linkcode completeLine}. */
export interface Completion {
  /** Candidate words for the word being typed, sorted, quoted where needed. */
  candidates: string[];
  /** The word being typed, as it appears in the line (what the candidates replace). */
  word: string;
  /** Offset in the line where that word starts. */
  start: number;
}

/**
 * Completes the last word of `line` (or a new word, after a trailing space). A directory
 * candidate ends with `/`; the caller appends a space after any other single candidate.
 */
export function completeLine<C>(
  tree: CommandTree<C>,
  line: string,
  source: CompletionSource,
): Completion {
  const { tokens, endsWithSpace } = scan(line, { partial: true });
  const typingNew = endsWithSpace || tokens.length === 0;
  const current = typingNew ? "" : tokens[tokens.length - 1].value;
  const start = typingNew ? line.length : tokens[tokens.length - 1].start;
  const before = (typingNew ? tokens : tokens.slice(0, -1)).map((t) => t.value);
  const result = (candidates: string[]): Completion => ({
    candidates: [...new Set(candidates)].filter((c) => c.startsWith(current)).sort(naturalOrder)
      .map(
        (c) => (c.endsWith("/") ? quoteWord(c.slice(0, -1)) + "/" : quoteWord(c)),
      ),
    word: line.slice(start),
    start,
  });

  // Walk the command words.
  let node = tree.root;
  let depth = 0;
  while (depth < before.length) {
    const next = node.subcommands.get(before[depth]);
    if (!next) break;
    node = next;
    depth++;
  }
  if (depth === 0 && before.length > 0) return result([]);
  const command = before.slice(0, depth);
  const outer = source;
  source = { ...outer, vmNames: () => outer.vmNames(command) };
  const rest = before.slice(depth);
  if (rest.length === 0 && node.subcommands.size > 0 && !current.startsWith("-")) {
    const names = node.subcommandNames();
    if (!node.handler) return result(names);
    return result([...names, ...positional(node, 0, current, source)]);
  }

  // An option waiting for its value?
  const last = rest[rest.length - 1];
  if (last !== undefined && !rest.includes("--")) {
    const option = last.startsWith("--")
      ? (last.includes("=") ? undefined : node.findOption(last.slice(2)))
      : last.length === 2 && last.startsWith("-")
      ? node.findOption(last[1], true)
      : undefined;
    if (option) {
      const kind = option.completion;
      if (kind === "choices") return result([...(option.choices ?? [])]);
      return result(values(kind, current, source));
    }
  }
  if (current.startsWith("-") && !rest.includes("--")) {
    return result([
      ...node.options.map((o) => `--${o.name}`),
      ...node.flags.map((f) => `--${f.name}`),
      "--help",
    ]);
  }
  const index = countPositionals(node, rest);
  if (argAt(node, index)?.completion === "command") {
    return result(completeCommandPath(tree, positionalWords(node, rest)));
  }
  return result(positional(node, index, current, source));
}

/** Numbers in numeric order, before words (`2` before `10`, ids before names). */
export function naturalOrder(a: string, b: string): number {
  const na = /^\d+$/.test(a), nb = /^\d+$/.test(b);
  if (na && nb) return Number(a) - Number(b) || (a < b ? -1 : a > b ? 1 : 0);
  if (na !== nb) return na ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function argAt<C>(node: CommandNode<C>, index: number): ArgDef | undefined {
  const last = node.args[node.args.length - 1];
  return node.args[index] ?? (last?.isVariadic ? last : undefined);
}

function positionalWords<C>(node: CommandNode<C>, words: string[]): string[] {
  return words.filter((_w, i) =>
    countPositionals(node, words.slice(0, i + 1)) > countPositionals(node, words.slice(0, i))
  );
}

function countPositionals<C>(node: CommandNode<C>, words: string[]): number {
  let count = 0;
  let endOfOptions = false;
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (endOfOptions || !w.startsWith("-") || w === "-") {
      count++;
    } else if (w === "--") {
      endOfOptions = true;
    } else if (w.startsWith("--")) {
      if (!w.includes("=") && node.findOption(w.slice(2))) i++;
    } else if (w.length === 2 && node.findOption(w[1], true)) {
      i++;
    }
  }
  return count;
}

function positional<C>(
  node: CommandNode<C>,
  index: number,
  current: string,
  source: CompletionSource,
): string[] {
  const arg = argAt(node, index);
  if (!arg) return [];
  if (arg.completion === "choices") return [...(arg.choices ?? [])];
  return values(arg.completion, current, source);
}

function values(kind: CompletionKind, current: string, source: CompletionSource): string[] {
  switch (kind) {
    case "vm":
      return source.vmNames();
    case "path":
      return paths(current, source);
    default:
      return [];
  }
}

function paths(current: string, source: CompletionSource): string[] {
  const slash = current.lastIndexOf("/");
  const dirPart = slash >= 0 ? current.slice(0, slash + 1) : "";
  const dir = resolvePath(source.cwd, dirPart === "" ? "." : dirPart);
  const showHidden = current.slice(slash + 1).startsWith(".");
  return source.listDir(dir)
    .filter((e) => showHidden || !e.name.startsWith("."))
    .map((e) => dirPart + e.name + (e.kind === "dir" ? "/" : ""));
}

/** Command names for `help <TAB>`: completes a path of command words. */
export function completeCommandPath<C>(tree: CommandTree<C>, words: string[]): string[] {
  const node = tree.nodeAt(words);
  return node ? node.subcommandNames() : [];
}
