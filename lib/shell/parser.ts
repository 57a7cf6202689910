/**
 * Argument parsing driven by a node's definitions (the seed's stages 3 and 4), and
 * {@linkcode ParsedCommand}.
 *
 * - `--opt=value`, `--opt value`, `-o value` and `-ovalue` set options;
 * - `--flag` and `-f` set flags; short flags group (`-fd`); a declared flag never takes the
 *   next word, so `vm start --force 0 1 --detach` gives args `0 1` and both flags;
 * - `--` ends options: every later word is positional; `-` alone and negative numbers are
 *   positional;
 * - option defaults are applied; unknown options and flags, missing values, values outside an
 *   option's choices, missing required options and wrong argument counts are
 *   {@linkcode ParseError}s with the real shell's messages, which name an option without its
 *   dashes as the seed's validator does (`Unknown option 'bogus'`, seed lines 930-946).
 *
 * @module
 */

import type { CommandNode } from "./command_tree.ts";

/** Raised for arguments that do not fit the command's definitions. */
export class ParseError extends Error {
  /**
   * `UNKNOWN_OPTION`, `MISSING_VALUE`, `FLAG_WITH_VALUE`, `INVALID_VALUE`,
   * `MISSING_REQUIRED_OPTION`, `MISSING_ARGUMENT` or `TOO_MANY_ARGUMENTS`.
   */
  readonly code: string;
  /**
   * The command's own rendering of this error, shown instead of `Error: <message>` and the
   * usage (the seed's handlers print their own text for a missing VM id, e.g.).
   */
  readonly text?: string;
  /** Creates the error; `message` is shown after `Error: `. */
  constructor(code: string, message: string, text?: string) {
    super(message);
    this.name = "ParseError";
    this.code = code;
    if (text !== undefined) this.text = text;
  }
}

/** The parsed arguments of one command (the seed's `ParsedCommand`). */
export class ParsedCommand {
  /** The command words, e.g. `["vm", "start"]`. */
  readonly commandPath: string[];
  /** Positional arguments in order. */
  readonly positionalArgs: string[];
  /** Option values by long name (given or defaulted). */
  readonly options: Map<string, string>;
  /** Flags that were set, by long name. */
  readonly flags: Map<string, boolean>;
  /** Long names of the options given on the command line (not defaulted). */
  readonly givenOptions: Set<string>;

  /** Creates a parsed command. */
  constructor(
    commandPath: string[] = [],
    positionalArgs: string[] = [],
    options: Map<string, string> = new Map(),
    flags: Map<string, boolean> = new Map(),
    givenOptions: Set<string> = new Set(options.keys()),
  ) {
    this.commandPath = commandPath;
    this.positionalArgs = positionalArgs;
    this.options = options;
    this.flags = flags;
    this.givenOptions = givenOptions;
  }

  /** The positional argument at `index`. */
  getArg(index: number): string | undefined {
    return this.positionalArgs[index];
  }

  /** The value of an option (given or default). */
  getOption(name: string): string | undefined {
    return this.options.get(name);
  }

  /** Whether a flag was set. */
  hasFlag(name: string): boolean {
    return this.flags.get(name) ?? false;
  }

  /** Whether an option was given on the command line (rather than defaulted). */
  hasOption(name: string): boolean {
    return this.givenOptions.has(name);
  }

  /** Number of positional arguments. */
  get argCount(): number {
    return this.positionalArgs.length;
  }

  /** A plain-object view, for JSON and tests. */
  toJSON(): {
    command: string[];
    args: string[];
    options: Record<string, string>;
    flags: Record<string, boolean>;
  } {
    return {
      command: this.commandPath,
      args: this.positionalArgs,
      options: Object.fromEntries(this.options),
      flags: Object.fromEntries(this.flags),
    };
  }
}

/** True when the words ask for help (`--help` or `-h` before any `--`). */
export function isHelpRequest(words: readonly string[]): boolean {
  for (const word of words) {
    if (word === "--") return false;
    if (word === "--help" || word === "-h") return true;
  }
  return false;
}

/**
 * Parses `words` (what follows the command path) against `node`'s definitions and validates
 * them; throws {@linkcode ParseError}.
 */
export function parseArguments<C>(
  node: CommandNode<C>,
  words: readonly string[],
  commandPath: string[] = [],
): ParsedCommand {
  const args: string[] = [];
  const options = new Map<string, string>();
  const flags = new Map<string, boolean>();
  const given = new Set<string>();

  // A following word is taken as a value unless it is `--` or itself a declared option/flag.
  const isDeclared = (word: string): boolean => {
    if (word === "--") return true;
    if (word.startsWith("--")) {
      const name = word.slice(2).split("=")[0];
      return node.findOption(name) !== undefined || node.findFlag(name) !== undefined;
    }
    if (word.startsWith("-") && word.length > 1) {
      const ch = word[1];
      return node.findOption(ch, true) !== undefined || node.findFlag(ch, true) !== undefined;
    }
    return false;
  };
  const setOption = (name: string, value: string) => {
    options.set(name, value);
    given.add(name);
  };

  let i = 0;
  let endOfOptions = false;
  while (i < words.length) {
    const word = words[i];
    if (endOfOptions) {
      args.push(word);
    } else if (word === "--") {
      endOfOptions = true;
    } else if (word.startsWith("--")) {
      const body = word.slice(2);
      const eq = body.indexOf("=");
      const name = eq >= 0 ? body.slice(0, eq) : body;
      const option = node.findOption(name);
      const flag = node.findFlag(name);
      if (option) {
        if (eq >= 0) {
          setOption(option.name, body.slice(eq + 1));
        } else if (i + 1 < words.length && !isDeclared(words[i + 1])) {
          setOption(option.name, words[i + 1]);
          i++;
        } else {
          throw new ParseError("MISSING_VALUE", `Option '${name}' is missing a value`);
        }
      } else if (flag) {
        if (eq >= 0) {
          throw new ParseError("FLAG_WITH_VALUE", `Flag '${name}' does not take a value`);
        }
        flags.set(flag.name, true);
      } else {
        throw new ParseError("UNKNOWN_OPTION", `Unknown option '${name}'`);
      }
    } else if (word.startsWith("-") && word.length > 1 && !isNegativeNumber(node, word)) {
      const group = word.slice(1);
      for (let j = 0; j < group.length; j++) {
        const ch = group[j];
        const flag = node.findFlag(ch, true);
        const option = node.findOption(ch, true);
        if (flag) {
          flags.set(flag.name, true);
        } else if (option) {
          const attached = group.slice(j + 1);
          if (attached.length > 0) {
            setOption(option.name, attached);
          } else if (i + 1 < words.length && !isDeclared(words[i + 1])) {
            setOption(option.name, words[i + 1]);
            i++;
          } else {
            throw new ParseError("MISSING_VALUE", `Option '${ch}' is missing a value`);
          }
          break;
        } else {
          throw new ParseError("UNKNOWN_OPTION", `Unknown option '${ch}'`);
        }
      }
    } else {
      args.push(word);
    }
    i++;
  }

  for (const option of node.options) {
    const value = options.get(option.name);
    if (value === undefined) {
      if (option.isRequired) {
        throw new ParseError("MISSING_REQUIRED_OPTION", `Missing required option '${option.name}'`);
      }
      if (option.defaultValue !== undefined) options.set(option.name, option.defaultValue);
    } else if (option.choices) {
      // Choices match in any case (`--format JSON`, `--state Running`) and are normalised.
      const choice = option.choices.find((c) => c.toLowerCase() === value.toLowerCase());
      if (choice !== undefined) {
        options.set(option.name, choice);
        continue;
      }
      throw new ParseError(
        "INVALID_VALUE",
        `Invalid value '${value}' for option '--${option.name}': expected one of ${
          option.choices.join(", ")
        }`,
      );
    }
  }

  validateArgCount(node, args);
  return new ParsedCommand(commandPath, args, options, flags, given);
}

function isNegativeNumber<C>(node: CommandNode<C>, word: string): boolean {
  return /^-\d/.test(word) && node.findFlag(word[1], true) === undefined &&
    node.findOption(word[1], true) === undefined;
}

function validateArgCount<C>(node: CommandNode<C>, args: string[]): void {
  if (node.args.length === 0 && !node.strictArgs) return;
  const required = node.args.filter((a) => a.isRequired);
  if (args.length < required.length) {
    const missing = required[args.length];
    throw new ParseError(
      "MISSING_ARGUMENT",
      missing.missingMessage ?? `Missing argument ${missing.placeholder}`,
      missing.missingText,
    );
  }
  const variadic = node.args.some((a) => a.isVariadic);
  if (node.strictArgs && !variadic && args.length > node.args.length) {
    const extra = args.slice(node.args.length).map((a) => `'${a}'`).join(" ");
    const expected = node.args.length === 0
      ? "no arguments"
      : `at most ${node.args.length} argument(s)`;
    throw new ParseError(
      "TOO_MANY_ARGUMENTS",
      `Too many arguments: expected ${expected}, got ${args.length} (unexpected ${extra})`,
    );
  }
}
