/**
 * What a read-only session may run.
 *
 * `--read-only` sessions are observers: they may list, show, log, wait, read files and attach to
 * a console to watch it, but change nothing. The rule is an allow-list (anything not listed is
 * refused), checked on the argument vector before the command reaches the shell, so a command
 * added later is refused until someone decides it is harmless. The shell's own read-only flag is
 * set as well, as a second line of defence.
 *
 * @module
 */

/** Commands (first word) that are always harmless. */
const SAFE_COMMANDS = new Set([
  "help",
  "exit",
  "quit",
  "clear",
  "history",
  "pwd",
  "cd",
  "ls",
  "cat",
  "uname",
  "log",
  "echo",
]);

/** Subcommands of `vm`, `vcpu` and `config` that only read. */
const SAFE_SUBCOMMANDS: Record<string, Set<string>> = {
  vm: new Set(["list", "show", "log", "wait", "stats", "console"]),
  vcpu: new Set(["list", "dump"]),
  config: new Set(["check"]),
};

/**
 * Returns `undefined` when `argv` may run in a read-only session, otherwise the reason it may not.
 */
export function readOnlyRefusal(argv: readonly string[]): string | undefined {
  if (argv.length === 0) return undefined;
  const [cmd, sub] = argv;
  const refuse = (what: string) => `'${what}' is not allowed in a read-only session`;
  if (argv.includes("--help") || argv.includes("-h")) return undefined;
  if (cmd === "echo") {
    // `echo ... > FILE` writes a file.
    if (argv.some((a) => a.startsWith(">"))) return refuse("echo > FILE");
    return undefined;
  }
  if (SAFE_COMMANDS.has(cmd)) return undefined;
  const subs = SAFE_SUBCOMMANDS[cmd];
  if (subs) {
    if (sub === undefined || sub.startsWith("-")) return undefined; // help for the group
    if (subs.has(sub)) return undefined;
    return refuse(`${cmd} ${sub}`);
  }
  return refuse(cmd);
}
