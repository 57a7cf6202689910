/**
 * The seed's command tree: {@linkcode CommandNode}s built with a builder API, each with its
 * handler, subcommands, description, usage, options ({@linkcode OptionDef}), flags
 * ({@linkcode FlagDef}) and positional arguments ({@linkcode ArgDef}); and
 * {@linkcode CommandTree}, whose lookup matches subcommands greedily.
 *
 * The tree is generic over the context `C` handed to handlers, so that the framework knows
 * nothing about the hypervisor.
 *
 * @module
 */

import type { CommandOutcome } from "./outcome.ts";
import type { ParsedCommand } from "./parser.ts";

/** A command handler: gets the parsed arguments and the context; never prints. */
export type CommandHandler<C> = (
  cmd: ParsedCommand,
  ctx: C,
) => CommandOutcome | Promise<CommandOutcome>;

/** What tab completion offers for a positional argument or an option value. */
export type CompletionKind = "none" | "vm" | "path" | "command" | "choices";

/** Whether a command may run in a read-only session. */
export type CommandAccess = "read" | "write";

/** An option: a named argument that takes a value (`--format json`, `-f json`, `--format=json`). */
export class OptionDef {
  /** Long name, used as `--name` and as the key in {@linkcode ParsedCommand.options}. */
  readonly name: string;
  /** Description for help. */
  readonly description: string;
  /** One-letter short name (`-f`), if any. */
  shortName?: string;
  /** Whether the option must be given. */
  isRequired = false;
  /** Value used when the option is absent. */
  defaultValue?: string;
  /** Value placeholder shown in help, e.g. `FORMAT`. */
  valueType = "VALUE";
  /** Accepted values; any other value is rejected. */
  choices?: readonly string[];
  /** What completion offers for the value (choices by default when there are choices). */
  completion: CompletionKind = "none";

  /** Creates an option called `--name`. */
  constructor(name: string, description: string) {
    this.name = name;
    this.description = description;
  }

  /** Sets the one-letter short name. */
  withShort(short: string): this {
    if (short.length !== 1) throw new Error(`Short option name must be one character: '${short}'`);
    this.shortName = short;
    return this;
  }

  /** Marks the option as required. */
  required(): this {
    this.isRequired = true;
    return this;
  }

  /** Sets the default value. */
  withDefault(value: string): this {
    this.defaultValue = value;
    return this;
  }

  /** Sets the value placeholder shown in help. */
  withValueType(valueType: string): this {
    this.valueType = valueType;
    return this;
  }

  /** Restricts the value to `choices` (and completes them). */
  withChoices(choices: readonly string[]): this {
    this.choices = choices;
    this.completion = "choices";
    return this;
  }

  /** Sets what completion offers for the value. */
  completes(kind: CompletionKind): this {
    this.completion = kind;
    return this;
  }
}

/** A flag: a boolean switch (`--force`, `-f`); it never takes a value. */
export class FlagDef {
  /** Long name, used as `--name` and as the key in {@linkcode ParsedCommand.flags}. */
  readonly name: string;
  /** Description for help. */
  readonly description: string;
  /** One-letter short name, if any. */
  shortName?: string;

  /** Creates a flag called `--name`. */
  constructor(name: string, description: string) {
    this.name = name;
    this.description = description;
  }

  /** Sets the one-letter short name. */
  withShort(short: string): this {
    if (short.length !== 1) throw new Error(`Short flag name must be one character: '${short}'`);
    this.shortName = short;
    return this;
  }
}

/** A positional argument, for help, completion and count checks. */
export class ArgDef {
  /** Placeholder name, e.g. `VM_ID`. */
  readonly name: string;
  /** Description for help. */
  readonly description: string;
  /** Whether at least one value must be given. */
  isRequired = false;
  /** Whether it takes any number of values (only the last argument may). */
  isVariadic = false;
  /** What completion offers. */
  completion: CompletionKind = "none";
  /** Message (after `Error: `) when a required argument is missing. */
  missingMessage?: string;
  /** Whole human text when a required argument is missing (replaces `Error:` and the usage). */
  missingText?: string;
  /** Values offered by completion (the handler validates them). */
  choices?: readonly string[];

  /** Creates an argument shown as `<NAME>` or `[NAME]`. */
  constructor(name: string, description: string) {
    this.name = name;
    this.description = description;
  }

  /**
   * Marks the argument as required; `message` replaces the generic error, `text` the whole
   * human rendering of it (`Error: <message>` and the usage by default).
   */
  required(message?: string, text?: string): this {
    this.isRequired = true;
    this.missingMessage = message;
    if (text !== undefined) this.missingText = text;
    return this;
  }

  /** Lets the argument take any number of values. */
  variadic(): this {
    this.isVariadic = true;
    return this;
  }

  /** Sets what completion offers. */
  completes(kind: CompletionKind): this {
    this.completion = kind;
    return this;
  }

  /** Offers these values in completion. */
  withChoices(choices: readonly string[]): this {
    this.choices = choices;
    this.completion = "choices";
    return this;
  }

  /** `<NAME>`, `<NAME...>`, `[NAME]` or `[NAME...]`. */
  get placeholder(): string {
    const inner = this.isVariadic ? `${this.name}...` : this.name;
    return this.isRequired ? `<${inner}>` : `[${inner}]`;
  }
}

/**
 * A node of the command tree: a command group (subcommands, no handler), a leaf command
 * (handler) or both.
 */
export class CommandNode<C = unknown> {
  /** Short description for help. */
  readonly description: string;
  /** The handler, or undefined for a pure group. */
  handler?: CommandHandler<C>;
  /** Subcommands by name, iterated in name order. */
  readonly subcommands: Map<string, CommandNode<C>> = new Map();
  /** Usage line, e.g. `vm start [OPTIONS] [VM_ID...]`; derived from the definitions if unset. */
  usage?: string;
  /** Options, in declaration order. */
  readonly options: OptionDef[] = [];
  /** Flags, in declaration order. */
  readonly flags: FlagDef[] = [];
  /** Positional arguments, in order. */
  readonly args: ArgDef[] = [];
  /** Whether the command may run in a read-only session (default: it changes state). */
  access: CommandAccess = "write";
  /** When true, positional arguments are checked for count (too many is an error). */
  strictArgs = true;
  /** Extra help text printed after the generated sections. */
  notes?: string;

  /** Creates a node with its description. */
  constructor(description: string) {
    this.description = description;
  }

  /** Sets the handler. */
  withHandler(handler: CommandHandler<C>): this {
    this.handler = handler;
    return this;
  }

  /** Sets the usage line. */
  withUsage(usage: string): this {
    this.usage = usage;
    return this;
  }

  /** Adds a subcommand. */
  addSubcommand(name: string, node: CommandNode<C>): this {
    if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(name)) throw new Error(`Invalid command name '${name}'`);
    this.subcommands.set(name, node);
    return this;
  }

  /** Adds an option; its long and short names must not clash with another option or flag. */
  addOption(option: OptionDef): this {
    this.#checkNames(option.name, option.shortName);
    this.options.push(option);
    return this;
  }

  /** Adds a flag; its long and short names must not clash with another option or flag. */
  addFlag(flag: FlagDef): this {
    this.#checkNames(flag.name, flag.shortName);
    this.flags.push(flag);
    return this;
  }

  /** Adds a positional argument (after a variadic one, none may follow). */
  addArg(arg: ArgDef): this {
    const last = this.args[this.args.length - 1];
    if (last?.isVariadic) throw new Error(`Argument ${arg.name} follows variadic ${last.name}`);
    this.args.push(arg);
    return this;
  }

  /** Marks the command as safe in read-only sessions (it changes nothing shared). */
  readOnly(): this {
    this.access = "read";
    return this;
  }

  /** Accepts any number of positional arguments (the handler checks them). */
  looseArgs(): this {
    this.strictArgs = false;
    return this;
  }

  /** Adds free text to the command's help. */
  withNotes(notes: string): this {
    this.notes = notes;
    return this;
  }

  /** The option with this long name, or with this short name. */
  findOption(name: string, short = false): OptionDef | undefined {
    return this.options.find((o) => (short ? o.shortName === name : o.name === name));
  }

  /** The flag with this long name, or with this short name. */
  findFlag(name: string, short = false): FlagDef | undefined {
    return this.flags.find((f) => (short ? f.shortName === name : f.name === name));
  }

  /** Subcommand names, sorted. */
  subcommandNames(): string[] {
    return [...this.subcommands.keys()].sort();
  }

  #checkNames(name: string, short?: string): void {
    const taken = (n: string) => this.findOption(n) ?? this.findFlag(n);
    const takenShort = (s: string) => this.findOption(s, true) ?? this.findFlag(s, true);
    if (name === "help" || short === "h") {
      throw new Error(`--help/-h are reserved for help on every command`);
    }
    if (taken(name)) throw new Error(`Duplicate option or flag --${name}`);
    if (short !== undefined && takenShort(short)) throw new Error(`Duplicate short name -${short}`);
  }
}

/** Raised when a command line names no known command. */
export class UnknownCommandError extends Error {
  /** Always `UNKNOWN_COMMAND`. */
  readonly code = "UNKNOWN_COMMAND";
  /** The command path as typed, e.g. `vm foo`. */
  readonly command: string;
  /** The words that did match (e.g. `["vm"]`), possibly empty. */
  readonly matched: string[];
  /** Known names close to the unknown word. */
  readonly suggestions: string[];
  /**
   * Creates the error. Its message names the word that is unknown, as the seed's
   * `CommandError::UnknownCommand(tokens[depth])` does (seed line 821): `vm foo` gives
   * `Unknown command 'foo'`.
   */
  constructor(command: string, matched: string[], suggestions: string[]) {
    const word = matched.length > 0 ? command.slice(matched.join(" ").length + 1) : command;
    super(`Unknown command '${word}'`);
    this.name = "UnknownCommandError";
    this.command = command;
    this.matched = matched;
    this.suggestions = suggestions;
  }
}

/** The result of {@linkcode CommandTree.find}. */
export interface CommandMatch<C> {
  /** The deepest matching node. */
  node: CommandNode<C>;
  /** The words that selected it, e.g. `["vm", "start"]`. */
  path: string[];
  /** The words left for argument parsing. */
  rest: string[];
}

/** The command tree: the root node and the seed's greedy lookup. */
export class CommandTree<C = unknown> {
  /** The root node; its subcommands are the top-level commands. */
  readonly root: CommandNode<C>;

  /** Creates a tree whose root has this description. */
  constructor(description = "AxVisor Shell") {
    this.root = new CommandNode<C>(description);
  }

  /** Registers a top-level command. */
  add(name: string, node: CommandNode<C>): this {
    this.root.addSubcommand(name, node);
    return this;
  }

  /**
   * Finds the command for `words`: matches subcommands greedily from the root and returns the
   * deepest node with the remaining words. A first word that is not a command, or a group
   * without a handler followed by a word that is not one of its subcommands, is an
   * {@linkcode UnknownCommandError}.
   */
  find(words: readonly string[]): CommandMatch<C> {
    if (words.length === 0) throw new UnknownCommandError("", [], []);
    let node = this.root;
    let depth = 0;
    while (depth < words.length) {
      const next = node.subcommands.get(words[depth]);
      if (!next) break;
      node = next;
      depth++;
    }
    if (depth === 0) {
      throw new UnknownCommandError(words[0], [], suggest(words[0], node.subcommandNames()));
    }
    const rest = words.slice(depth);
    if (!node.handler && rest.length > 0 && !rest[0].startsWith("-")) {
      throw new UnknownCommandError(
        words.slice(0, depth + 1).join(" "),
        words.slice(0, depth),
        suggest(rest[0], node.subcommandNames()),
      );
    }
    return { node, path: words.slice(0, depth), rest };
  }

  /** The node at exactly this path, or undefined. */
  nodeAt(path: readonly string[]): CommandNode<C> | undefined {
    let node: CommandNode<C> | undefined = this.root;
    for (const word of path) {
      node = node.subcommands.get(word);
      if (!node) return undefined;
    }
    return node;
  }

  /** Every command path with its node, depth first in name order (for help and tests). */
  walk(): { path: string[]; node: CommandNode<C> }[] {
    const out: { path: string[]; node: CommandNode<C> }[] = [];
    const visit = (node: CommandNode<C>, path: string[]) => {
      for (const name of node.subcommandNames()) {
        const child = node.subcommands.get(name)!;
        out.push({ path: [...path, name], node: child });
        visit(child, [...path, name]);
      }
    };
    visit(this.root, []);
    return out;
  }
}

/** Names among `candidates` within a small edit distance of `word` (for "did you mean"). */
export function suggest(word: string, candidates: readonly string[]): string[] {
  const limit = word.length <= 3 ? 1 : 2;
  return candidates.filter((c) => c.startsWith(word) || editDistance(word, c) <= limit);
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}
