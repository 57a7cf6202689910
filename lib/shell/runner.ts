/**
 * The seed's execution pipeline over any command tree: tokenize, split off an output
 * redirection, look the command up, answer `--help`, parse and validate the arguments, enforce
 * read-only sessions, and run the handler, turning every failure into a
 * {@linkcode CommandOutcome} (nothing throws out of {@linkcode CommandRunner.execute}).
 *
 * @module
 */

import type { FileSystem } from "../vmm/filesystem.ts";
import { type CommandTree, UnknownCommandError } from "./command_tree.ts";
import { fsErrorCode, fsErrorText } from "./fs_errors.ts";
import { renderCommandHelp, renderUsage } from "./help.ts";
import { type CommandOutcome, failure, success } from "./outcome.ts";
import { isHelpRequest, parseArguments, ParseError } from "./parser.ts";
import { resolvePath } from "./paths.ts";
import { cancelledOutcome, type ExecuteOptions } from "./cancel.ts";
import type { ShellSession } from "./session.ts";
import { scan, type Token, TokenizeError } from "./tokenizer.ts";

/** An output redirection found on a command line (`> FILE` or `>> FILE`). */
export interface Redirection {
  /** The file as typed. */
  target: string;
  /** True for `>>`. */
  append: boolean;
}

/**
 * Splits an unquoted `> FILE`, `>FILE`, `>> FILE` or `>>FILE` off the words of a line. Words
 * after the file name stay part of the command (as in a POSIX shell).
 *
 * @throws {TokenizeError} `MISSING_REDIRECT_TARGET` when `>` has no file, `DOUBLE_REDIRECT`
 * when a line has two redirections.
 */
export function splitRedirection(tokens: Token[]): { words: string[]; redirect?: Redirection } {
  const words: string[] = [];
  let redirect: Redirection | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (token.quoted || !token.value.startsWith(">")) {
      words.push(token.value);
      continue;
    }
    const append = token.value.startsWith(">>");
    let target = token.value.slice(append ? 2 : 1);
    if (target === "") {
      if (i + 1 >= tokens.length) {
        throw new TokenizeError(
          "MISSING_REDIRECT_TARGET",
          token.start,
          `Missing file name after '${append ? ">>" : ">"}' at column ${token.start + 1}`,
        );
      }
      target = tokens[++i].value;
    }
    if (redirect) {
      throw new TokenizeError(
        "DOUBLE_REDIRECT",
        token.start,
        `Only one output redirection is allowed (second at column ${token.start + 1})`,
      );
    }
    redirect = { target, append };
  }
  return redirect ? { words, redirect } : { words };
}

/** Runs command lines against a tree; `makeContext` builds each handler's context. */
export class CommandRunner<C> {
  /** The command tree. */
  readonly tree: CommandTree<C>;
  readonly #makeContext: (
    session: ShellSession,
    path: string[],
    signal?: AbortSignal,
  ) => C;
  readonly #fs: FileSystem;

  /** Creates a runner; `fs` receives redirected output. */
  constructor(
    tree: CommandTree<C>,
    fs: FileSystem,
    makeContext: (session: ShellSession, path: string[], signal?: AbortSignal) => C,
  ) {
    this.tree = tree;
    this.#fs = fs;
    this.#makeContext = makeContext;
  }

  /**
   * Runs one command line: records it in the session's history, tokenizes it (quotes,
   * escapes), honours an output redirection, and runs the command. `options.signal` cancels
   * it (see {@linkcode ExecuteOptions}).
   */
  async execute(
    line: string,
    session: ShellSession,
    options: ExecuteOptions = {},
  ): Promise<CommandOutcome> {
    session.history.add(line);
    let words: string[];
    let redirect: Redirection | undefined;
    try {
      ({ words, redirect } = splitRedirection(scan(line).tokens));
    } catch (error) {
      if (error instanceof TokenizeError) {
        return failure("PARSE_ERROR", error.message);
      }
      throw error;
    }
    if (words.length === 0) {
      if (redirect) return failure("PARSE_ERROR", "Missing command before output redirection");
      return success("");
    }
    if (redirect && session.readOnly) {
      return failure(
        "READ_ONLY",
        `Cannot write '${redirect.target}': this session is read-only`,
      );
    }
    const outcome = await this.executeArgv(words, session, options);
    if (!redirect || !outcome.ok) return outcome;
    const path = resolvePath(session.cwd, redirect.target);
    try {
      const text = outcome.text + (outcome.noNewline || outcome.text === "" ? "" : "\n");
      this.#fs.writeFile(path, text, { append: redirect.append });
    } catch (error) {
      const message = `${redirect.target}: ${fsErrorText(error)}`;
      return failure(fsErrorCode(error), message, `Error: cannot write ${message}`, outcome.data);
    }
    const redirected: CommandOutcome = { ...outcome, text: "" };
    delete redirected.noNewline;
    return redirected;
  }

  /** Runs a command given as words (no quoting, no redirection, no history). */
  async executeArgv(
    argv: readonly string[],
    session: ShellSession,
    options: ExecuteOptions = {},
  ): Promise<CommandOutcome> {
    if (argv.length === 0) return success("");
    let match;
    try {
      match = this.tree.find(argv);
    } catch (error) {
      if (error instanceof UnknownCommandError) {
        const scope = error.matched.length > 0 ? ` ${error.matched.join(" ")}` : "";
        const hint = error.suggestions.length > 0
          ? `\nDid you mean ${error.suggestions.map((s) => `'${s}'`).join(" or ")}?`
          : "";
        return failure(
          error.code,
          error.message,
          `Error: ${error.message}${hint}\nType 'help${scope}' to see available commands`,
          { suggestions: error.suggestions },
        );
      }
      throw error;
    }
    const { node, path, rest } = match;
    if (isHelpRequest(rest) || (!node.handler && rest.length === 0)) {
      return success(renderCommandHelp(node, path), {
        command: path,
        description: node.description,
        subcommands: node.subcommandNames(),
      });
    }
    if (!node.handler) {
      const message = `Command '${path.join(" ")}' needs a subcommand`;
      return failure("UNKNOWN_COMMAND", message, `Error: ${message}\n${renderUsage(node, path)}`);
    }
    let parsed;
    try {
      parsed = parseArguments(node, rest, path);
    } catch (error) {
      if (error instanceof ParseError) {
        return failure(
          error.code,
          error.message,
          error.text ?? `Error: ${error.message}\n${renderUsage(node, path)}`,
        );
      }
      throw error;
    }
    if (session.readOnly && node.access === "write") {
      return failure(
        "READ_ONLY",
        `'${path.join(" ")}' changes state; this session is read-only`,
      );
    }
    if (options.signal?.aborted) {
      return cancelledOutcome(`starting '${path.join(" ")}'`);
    }
    try {
      return await node.handler(parsed, this.#makeContext(session, path, options.signal));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return failure(
        (error as { code?: string })?.code ?? "INTERNAL",
        `${path.join(" ")}: ${message}`,
      );
    }
  }
}
