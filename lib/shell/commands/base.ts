/**
 * Base commands: `help`, `exit`/`quit`, `shutdown`, `clear`, `log [LEVEL]`,
 * `uname [-a|-s|-m]`, `echo [-n] [TEXT...]` and `history`.
 *
 * @module
 */

import { ArgDef, CommandNode, type CommandTree, FlagDef } from "../command_tree.ts";
import type { BaseContext } from "../context.ts";
import { renderCommandHelp, renderCommandList } from "../help.ts";
import { failure, success } from "../outcome.ts";
import { LOG_LEVELS, type LogLevel } from "../session.ts";

const LEVEL_ALIASES: Record<string, LogLevel> = {
  on: "info",
  enable: "info",
  off: "off",
  disable: "off",
  error: "error",
  warn: "warn",
  info: "info",
  debug: "debug",
  trace: "trace",
};

/** Rust's `{:?}` of a `LevelFilter`: `Info`, `Off`... */
function levelName(level: LogLevel): string {
  return level.charAt(0).toUpperCase() + level.slice(1);
}

/** Registers the base commands on `tree`. */
export function registerBaseCommands<C extends BaseContext>(tree: CommandTree<C>): void {
  tree.add(
    "help",
    new CommandNode<C>("Show help information")
      .withUsage("help [COMMAND...]")
      .addArg(
        new ArgDef("COMMAND", "Command to describe, e.g. 'vm start'").variadic().completes(
          "command",
        ),
      )
      .readOnly()
      .withHandler((cmd) => {
        if (cmd.argCount === 0) {
          return success(renderCommandList(tree), { commands: tree.root.subcommandNames() });
        }
        const node = tree.nodeAt(cmd.positionalArgs);
        if (!node) {
          const name = cmd.positionalArgs.join(" ");
          return failure(
            "UNKNOWN_COMMAND",
            `Unknown command '${name}'`,
            `Error: Unknown command '${name}'\nType 'help' to see available commands`,
          );
        }
        return success(renderCommandHelp(node, cmd.positionalArgs), {
          command: cmd.positionalArgs,
          description: node.description,
          subcommands: node.subcommandNames(),
        });
      }),
  );

  const exitNode = (description: string) =>
    new CommandNode<C>(description)
      .withUsage(`${description.startsWith("Exit") ? "exit" : "quit"} [EXIT_CODE]`)
      .addArg(new ArgDef("EXIT_CODE", "Status code reported when the session ends"))
      .readOnly()
      .withHandler((cmd) => {
        const raw = cmd.getArg(0);
        const code = raw === undefined ? 0 : Number(raw);
        if (!Number.isInteger(code) || code < 0 || code > 255) {
          return failure("INVALID_ARGUMENT", `Invalid exit code '${raw}': expected 0 to 255`);
        }
        return success("Goodbye!", { code }, { type: "exit", code });
      });
  tree.add("exit", exitNode("Exit the shell"));
  tree.add("quit", exitNode("Quit the shell (same as exit)"));

  tree.add(
    "shutdown",
    new CommandNode<C>("Shut the hypervisor down (every VM stops, every session ends)")
      .withUsage("shutdown")
      .withHandler(() =>
        success("Shutting down the hypervisor...", { shutdown: true }, { type: "shutdown" })
      ),
  );

  tree.add(
    "clear",
    new CommandNode<C>("Clear the screen")
      .withUsage("clear")
      .readOnly()
      .withHandler(() => success("", undefined, { type: "clear" })),
  );

  tree.add(
    "log",
    new CommandNode<C>("Change log level")
      .withUsage("log [LEVEL]")
      .addArg(
        new ArgDef("LEVEL", `One of ${LOG_LEVELS.join(", ")} (also on/enable, disable)`)
          .withChoices([...LOG_LEVELS, "on", "enable", "disable"]),
      )
      .readOnly()
      .withHandler((cmd, ctx) => {
        const arg = cmd.getArg(0);
        if (arg === undefined) {
          return success(`Current log level: ${levelName(ctx.session.logLevel)}`, {
            level: ctx.session.logLevel,
          });
        }
        const level = LEVEL_ALIASES[arg.toLowerCase()];
        if (level === undefined) {
          return failure(
            "INVALID_ARGUMENT",
            `Unknown log level: ${arg}`,
            `Unknown log level: ${arg}\nAvailable levels: ${LOG_LEVELS.join(", ")}`,
          );
        }
        ctx.session.logLevel = level;
        return success(`Log level set to: ${levelName(level)}`, { level });
      }),
  );

  tree.add(
    "uname",
    new CommandNode<C>("System information")
      .withUsage("uname [OPTIONS]")
      .addFlag(new FlagDef("all", "Show all information").withShort("a"))
      .addFlag(new FlagDef("kernel-name", "Show kernel name").withShort("s"))
      .addFlag(new FlagDef("machine", "Show machine architecture").withShort("m"))
      .readOnly()
      .withHandler((cmd, ctx) => {
        const s = ctx.system;
        const all = `${s.kernel} ${s.version}${s.smp ? " SMP" : ""} ${s.arch} ${s.platform}`;
        const data = { ...s };
        if (cmd.hasFlag("all")) return success(all, data);
        const parts: string[] = [];
        if (cmd.hasFlag("kernel-name")) parts.push(s.kernel);
        if (cmd.hasFlag("machine")) parts.push(s.arch);
        return success(parts.length > 0 ? parts.join(" ") : all, data);
      }),
  );

  tree.add(
    "echo",
    new CommandNode<C>("Display text")
      .withUsage("echo [OPTIONS] [TEXT...] [> FILE]")
      .addFlag(new FlagDef("no-newline", "Do not output trailing newline").withShort("n"))
      .addArg(new ArgDef("TEXT", "Words to print, joined by spaces").variadic())
      .withNotes(
        "'> FILE' writes the text to FILE instead ('>> FILE' appends); this works after\nany command, e.g. 'vm show 0 --config > vm0.txt'.",
      )
      .readOnly()
      .withHandler((cmd) => {
        const text = cmd.positionalArgs.join(" ");
        const outcome = success(text, { text });
        if (cmd.hasFlag("no-newline")) outcome.noNewline = true;
        return outcome;
      }),
  );

  tree.add(
    "history",
    new CommandNode<C>("Show command history")
      .withUsage("history")
      .readOnly()
      .withHandler((_cmd, ctx) => {
        const history = ctx.session.history;
        const entries = history.entries();
        const first = history.firstNumber;
        const width = String(first + entries.length).length;
        const text = entries.map((e, i) => `  ${String(first + i).padStart(width)}  ${e}`).join(
          "\n",
        );
        return success(text, { entries, first });
      }),
  );
}
