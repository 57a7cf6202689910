/**
 * Help generated from the command definitions:
 * - {@linkcode renderCommandList}: `help` without arguments (every command, alphabetically, with
 *   its subcommands), as the real shell's `show_available_commands`;
 * - {@linkcode renderCommandHelp}: `help <cmd...>` and `<cmd> --help` (description, usage,
 *   arguments, options, flags, subcommands), as the real shell's `show_help`;
 * - {@linkcode renderUsage}: the block shown after a parse error, as the seed's `show_usage`.
 *
 * @module
 */

import type { CommandNode, CommandTree } from "./command_tree.ts";

/** The usage line of a node: its declared usage, or one derived from its definitions. */
export function usageLine<C>(node: CommandNode<C>, path: readonly string[]): string {
  if (node.usage) return node.usage;
  const parts = [...path];
  if (!node.handler && node.subcommands.size > 0) {
    parts.push("<COMMAND>");
    if (node.options.length + node.flags.length > 0) parts.push("[OPTIONS]");
    parts.push("[ARGS]");
    return parts.join(" ");
  }
  if (node.options.length + node.flags.length > 0) parts.push("[OPTIONS]");
  for (const option of node.options) {
    if (option.isRequired) parts.push(`--${option.name} <${option.valueType}>`);
  }
  for (const arg of node.args) parts.push(arg.placeholder);
  return parts.join(" ");
}

/** The seed's `show_usage`: usage, description, options and flags (shown after an error). */
export function renderUsage<C>(node: CommandNode<C>, path: readonly string[]): string {
  const lines = [`Usage: ${usageLine(node, path)}`, node.description];
  if (node.options.length > 0) {
    lines.push("", "Options:");
    for (const opt of node.options) {
      const short = opt.shortName ? `, -${opt.shortName}` : "";
      lines.push(`  --${opt.name}${short} <${opt.valueType}>    ${opt.description}`);
    }
  }
  if (node.flags.length > 0) {
    lines.push("", "Flags:");
    for (const flag of node.flags) {
      const short = flag.shortName ? `, -${flag.shortName}` : "";
      lines.push(`  --${flag.name}${short}    ${flag.description}`);
    }
  }
  if (!node.handler && node.subcommands.size > 0) {
    lines.push("", "Subcommands:");
    for (const name of node.subcommandNames()) {
      lines.push(`  ${name.padEnd(12)} ${node.subcommands.get(name)!.description}`);
    }
  }
  return lines.join("\n");
}

function column(label: string, text: string, width = 24): string {
  return label.length < width ? `  ${label.padEnd(width)}${text}` : `  ${label}  ${text}`;
}

/** Full help for one command (`help vm start`, `vm start --help`). */
export function renderCommandHelp<C>(node: CommandNode<C>, path: readonly string[]): string {
  const lines = [
    `Command: ${path.join(" ")}`,
    `Description: ${node.description}`,
    `Usage: ${usageLine(node, path)}`,
  ];
  if (node.args.length > 0) {
    lines.push("", "Arguments:");
    for (const arg of node.args) lines.push(column(arg.placeholder, arg.description));
  }
  if (node.options.length > 0) {
    lines.push("", "Options:");
    for (const opt of node.options) {
      const names = (opt.shortName ? `-${opt.shortName}, ` : "") +
        `--${opt.name} <${opt.valueType}>`;
      const extras: string[] = [];
      if (opt.choices) extras.push(`one of: ${opt.choices.join(", ")}`);
      if (opt.defaultValue !== undefined) extras.push(`default: ${opt.defaultValue}`);
      if (opt.isRequired) extras.push("required");
      const suffix = extras.length > 0 ? ` (${extras.join("; ")})` : "";
      lines.push(column(names, opt.description + suffix));
    }
  }
  if (node.flags.length > 0) {
    lines.push("", "Flags:");
    for (const flag of node.flags) {
      const names = (flag.shortName ? `-${flag.shortName}, ` : "") + `--${flag.name}`;
      lines.push(column(names, flag.description));
    }
  }
  if (node.subcommands.size > 0) {
    lines.push("", "Subcommands:");
    for (const name of node.subcommandNames()) {
      lines.push(column(name, node.subcommands.get(name)!.description));
    }
    lines.push("", `Use '${path.join(" ")} <command> --help' for more information on a command.`);
  }
  if (node.notes) lines.push("", node.notes);
  return lines.join("\n");
}

/** `help` without arguments: every command with its subcommands, alphabetically. */
export function renderCommandList<C>(tree: CommandTree<C>, title = "AxVisor Shell"): string {
  const lines = [`${title} - Available Commands:`, ""];
  for (const name of tree.root.subcommandNames()) {
    const node = tree.root.subcommands.get(name)!;
    lines.push(`  ${name.padEnd(15)} ${node.description}`);
    for (const sub of node.subcommandNames()) {
      lines.push(`    ${sub.padEnd(13)} ${node.subcommands.get(sub)!.description}`);
    }
  }
  lines.push(
    "",
    "Tip: Use 'help <command>' or '<command> --help' to see detailed usage of a command",
  );
  return lines.join("\n");
}
