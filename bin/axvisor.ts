/**
 * axvisor: the emulated AxVisor hypervisor, driven through its serial-console protocol.
 *
 * Boots a hypervisor on a board, creates the VMs of `<fs-root>/guest/vm_default/` (and `--vm`
 * files), and serves the console on stdio and, with `--listen`, on TCP. `--help` says it all.
 *
 * @module
 */

import { Command, InvalidArgumentError, Option } from "commander";
import { loadBoard } from "../lib/hw/boards/mod.ts";
import { parseRtcStart } from "../lib/hw/devices/goldfish_rtc.ts";
import { type BoardSpec } from "../lib/hw/boards/spec.ts";
import { DEFAULT_MAX_LAG_MS, Hypervisor, HypervisorDriver } from "../lib/vmm/mod.ts";
import { Shell, ShellSession } from "../lib/shell/mod.ts";
import {
  AxvisorBackend,
  ConsolePorts,
  ConsoleServer,
  HostFileSystem,
  isLoopbackHost,
  parseListenAddress,
  runBatch,
  runInteractive,
  type ServerLogLevel,
  serveStdioStream,
  serveTcp,
  splitScript,
  type TcpConsoleService,
  tokenProblem,
  VERSION,
} from "../lib/protocol/mod.ts";

const encoder = new TextEncoder();
const DEFAULT_FS_ROOT = new URL("../examples/", import.meta.url).pathname;

/** Exit codes. */
const EXIT_OK = 0;
const EXIT_COMMAND_FAILED = 1;
const EXIT_USAGE = 2;

function writeErr(text: string): void {
  Deno.stderr.writeSync(encoder.encode(text));
}

function writeOut(text: string): void {
  let data = encoder.encode(text);
  while (data.length > 0) data = data.subarray(Deno.stdout.writeSync(data));
}

/** Parsed command-line options. */
interface Options {
  board: string;
  vm?: string[];
  autostart: boolean;
  listen?: string;
  clock?: "realtime" | "warp";
  fsRoot: string;
  dataDir?: string;
  logLevel: ServerLogLevel;
  token?: string;
  readOnly: boolean;
  command?: string[];
  batch?: string;
  keepGoing: boolean;
  echo?: boolean;
  maxSessions: number;
  bootDelay: number;
  idleLag: number;
  consoleLog: boolean;
  consoleLogSize: number;
  consoleLogFiles: number;
  consolePorts?: string;
  rtc?: string;
}

function buildProgram(): Command {
  const program = new Command("axvisor");
  program
    .description(
      "Emulated AxVisor hypervisor: RISC-V guests on an emulated board, managed through a " +
        "line-based serial-console protocol (human text or JSON lines) on stdio and TCP.",
    )
    .version(VERSION, "-V, --version", "print the version and exit")
    .helpOption("-h, --help", "show this help and exit")
    .addOption(
      new Option("--board <name|file>", "board to emulate: a built-in name or a board TOML file")
        .default("qemu-virt"),
    )
    .addOption(
      new Option(
        "--vm <file>",
        "also create the VM described by this AxVisor TOML file (host path, else a path in " +
          "the fs root); repeatable",
      ).argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]),
    )
    .option(
      "--autostart",
      "start VMs once created: those given with --vm (without --vm, the example VMs of " +
        "guest/vm_default), and the recorded VMs marked with 'vm autostart <VM> on'",
      false,
    )
    .option(
      "--listen <host:port>",
      "also serve the console on TCP (port 0 picks a free port; the bound address is printed " +
        "on stderr). Loopback only unless --token is given",
    )
    .addOption(
      new Option(
        "--clock <mode>",
        "virtual clock: realtime (follows the wall clock) or warp (as fast as possible, " +
          "deterministic). Default: realtime, or warp with -c/--batch",
      ).choices(["realtime", "warp"]),
    )
    .option(
      "--rtc <time>",
      "what board real-time clocks (a goldfish-rtc passed through to a guest) read at start: " +
        "'host' (the host's time), 'fixed' (2026-01-01T00:00:00Z) or an ISO 8601 time. " +
        "Default: host with the realtime clock, fixed with warp (repeatable runs)",
    )
    .addOption(
      new Option("--fs-root <dir>", "host directory that is the hypervisor's /")
        .default(DEFAULT_FS_ROOT, "examples/ of this repository"),
    )
    .option(
      "--data-dir <dir>",
      "host folder of the VM data folders (records, logs, snapshots). Default: " +
        "<fs-root>/guest/vms when --fs-root is given, else $XDG_DATA_HOME/axvisor-ts/vms " +
        "(~/.local/share/axvisor-ts/vms)",
    )
    .addOption(
      new Option("--log-level <level>", "server log on stderr").choices([
        "error",
        "warn",
        "info",
        "debug",
      ]).default("warn"),
    )
    .option(
      "--token <token>",
      "require `auth <token>` from every TCP session (default: $AXVISOR_TOKEN); required to " +
        "listen on a non-loopback address",
    )
    .option("--read-only", "every session may list, show, log and wait, but change nothing", false)
    .addOption(
      new Option(
        "-c, --command <commands>",
        "batch: run these commands (separated by ';' or newlines) and exit; repeatable",
      ).argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]),
    )
    .option("--batch <file>", "batch: run the commands in this file ('-' for stdin) and exit")
    .option("--keep-going", "batch: run every command even after a failure", false)
    .option(
      "--echo",
      "batch: print each command after the prompt before its output (default in batch mode)",
    )
    .option("--no-echo", "batch: print only the commands' output")
    .addOption(
      new Option("--max-sessions <n>", "most concurrent console sessions").argParser(
        positiveInt,
      ).default(256),
    )
    .addOption(
      new Option("--boot-delay <seconds>", "the seed's per-VM boot delay: VM n waits (n-1)*s")
        .argParser(nonNegativeNumber).default(0),
    )
    .addOption(
      new Option(
        "--idle-lag <ms>",
        "realtime clock: while every vCPU idles and nothing is seen, virtual time may fall up " +
          "to this far behind the wall clock (and a tenth of the quiet spell), so that idle " +
          "guests' timer ticks run in batches (fewer host wake-ups); output, input and " +
          "commands make it exact again, and it stays under 100 ms while a console is " +
          "attached. 0: exact always",
      ).argParser(nonNegativeNumber).default(DEFAULT_MAX_LAG_MS),
    )
    .option(
      "--console-ports <[host:]base>",
      "serve VM n's console as a raw byte stream on TCP port BASE+n (nc, socat, telnet); a " +
        "VM's config may name its own port ([base] console_port). Loopback only unless --token",
    )
    .option("--no-console-log", "keep no console logs (vm.log in each VM's data folder)")
    .addOption(
      new Option("--console-log-size <bytes>", "largest console log file before rotation (K/M/G)")
        .argParser(byteSize).default(1 << 20, "1M"),
    )
    .addOption(
      new Option("--console-log-files <n>", "console log files kept per VM (vm.log, vm.log.1, ...)")
        .argParser(logFiles).default(3),
    )
    .addHelpText(
      "after",
      `
Console protocol (stdio and TCP, UTF-8 lines ending in LF or CRLF, at most 4 KiB each):
  Human mode   a banner, the prompt 'axvisor:/$ ', shell commands ('help' lists them).
               Guest output appears as '[VM n] ' lines; 'events off' mutes it.
  JSON mode    send a JSON object as the first line (or 'mode json'):
                 {"id": 1, "cmd": "vm list"}   or   {"id": 2, "argv": ["vm", "show", "1"]}
               replies  {"id", "ok": true, "data", "time_ns"} or
                        {"id", "ok": false, "error": {"code", "message"}, "time_ns"}
               events   {"event": "status"|"console"|"vcpu"|"fault"|"log", "time_ns", ...}
  Session      mode human|json, events on|off, auth <token>, exit
  Attach       'vm console <ID>': at a terminal, raw keys to the guest's serial line; Ctrl-] or
               '~.' at a line start detaches (--escape). Over TCP use telnet (character mode)
               or --console-ports (a raw byte stream per VM). Logs: vm.log in each VM's data folder.
  See docs/protocol.md.

Batch mode (-c / --batch): commands run in order on the warp clock, and virtual time passes
only while a command waits, so runs are deterministic. Each command is shown after the prompt
(--no-echo hides it), then its output; a slow reader of stdout slows the run down, no output
is ever dropped. The run stops at the first failure (reported on stderr after the output of
the command) unless --keep-going.

Exit status: 0 success; 1 a batch command failed; 2 bad usage or a start-up error.

Examples:
  deno task start                                   interactive console, example VMs
  deno task start --listen 127.0.0.1:4321           ... and on TCP: nc 127.0.0.1 4321
  deno task start -c 'vm start 1; vm wait 1 --console Hello --timeout 5s; vm log 1'
  AXVISOR_TOKEN=s3cret deno task start --listen 0.0.0.0:4321 --read-only
`,
    )
    .configureHelp({ helpWidth: 100 })
    .configureOutput({
      writeOut,
      writeErr,
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    })
    .exitOverride()
    .allowExcessArguments(false);
  return program;
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError("expected a positive integer");
  return n;
}

function byteSize(v: string): number {
  const m = /^(\d+)\s*([kmg]?)(i?b)?$/i.exec(v.trim());
  if (!m) throw new InvalidArgumentError("expected a size such as 1048576, 512K or 4M");
  const n = Number(m[1]) * ({ "": 1, k: 1024, m: 1 << 20, g: 1 << 30 } as Record<string, number>)[
    m[2].toLowerCase()
  ];
  if (n < 1024) throw new InvalidArgumentError("must be at least 1K");
  return n;
}

function logFiles(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 10) {
    throw new InvalidArgumentError("expected a number of files from 1 to 10");
  }
  return n;
}

function nonNegativeNumber(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError("expected a number >= 0");
  return n;
}

function envToken(): string | undefined {
  try {
    const state = Deno.permissions.querySync({ name: "env", variable: "AXVISOR_TOKEN" }).state;
    if (state !== "granted") return undefined;
    return Deno.env.get("AXVISOR_TOKEN") || undefined;
  } catch {
    return undefined;
  }
}

/** Wall-clock start (ns since the Unix epoch) of board RTCs for the `--rtc` value `text`. */
function rtcEpochNs(text: string): number {
  try {
    return parseRtcStart(text, Date.now());
  } catch (e) {
    throw new StartupError(`--rtc: ${(e as Error).message}`);
  }
}

function describeBoard(board: BoardSpec, clock: string): string {
  const ram = board.memory.reduce((sum, m) => sum + m.size, 0);
  const gib = ram / 2 ** 30;
  const size = gib >= 1 ? `${Number(gib.toFixed(1))} GiB` : `${ram / 2 ** 20} MiB`;
  const harts = board.cpus.hartIds.length;
  return `board ${board.name} (${harts} hart${harts === 1 ? "" : "s"}, ${size}), ${clock} clock`;
}

/**
 * Where the VM data folders go. Run-time files never land in the repository's examples by
 * default: `--data-dir` if given; else `<fs-root>/guest/vms` when `--fs-root` was given; else a
 * per-user folder, `$XDG_DATA_HOME/axvisor-ts/vms` (default `~/.local/share/axvisor-ts/vms`).
 */
function dataLocation(
  opts: Options,
  fsRootGiven: boolean,
): { shellOptions: { dataFs?: HostFileSystem; dataDir?: string }; note?: string } {
  let host: string | undefined = opts.dataDir;
  if (host === undefined && fsRootGiven) return { shellOptions: {} };
  if (host === undefined) {
    let base: string | undefined;
    try {
      base = Deno.env.get("XDG_DATA_HOME") || undefined;
      if (!base) {
        const home = Deno.env.get("HOME");
        if (home) base = `${home}/.local/share`;
      }
    } catch {
      base = undefined; // no --allow-env
    }
    if (!base) {
      return {
        shellOptions: {},
        note: "no per-user data folder ($XDG_DATA_HOME or $HOME unknown): VM data goes to " +
          "<fs-root>/guest/vms",
      };
    }
    host = `${base}/axvisor-ts/vms`;
  }
  host = host.replace(/\/+$/, "") || "/";
  try {
    Deno.mkdirSync(host, { recursive: true });
  } catch (e) {
    throw new StartupError(`cannot create the data folder ${host}: ${(e as Error).message}`);
  }
  const slash = host.lastIndexOf("/");
  const parent = slash <= 0 ? "/" : host.slice(0, slash);
  const leaf = host.slice(slash + 1);
  return {
    shellOptions: { dataFs: new HostFileSystem(parent), dataDir: `/${leaf}` },
    note: `VM data (records, logs, snapshots) in ${host}`,
  };
}

class StartupError extends Error {
  override name = "StartupError";
}

async function main(args: string[]): Promise<number> {
  const program = buildProgram();
  try {
    program.parse(args, { from: "user" });
  } catch (e) {
    const code = (e as { code?: string }).code ?? "";
    if (code === "commander.helpDisplayed" || code === "commander.version") return EXIT_OK;
    return EXIT_USAGE; // commander already printed the error
  }
  const opts = program.opts() as Options;
  opts.vm ??= [];
  const batchMode = opts.command !== undefined || opts.batch !== undefined;
  const clock = opts.clock ?? (batchMode ? "warp" : "realtime");
  const token = opts.token ?? envToken();
  if (token !== undefined) {
    const problem = tokenProblem(token);
    if (problem) {
      const from = opts.token !== undefined ? "--token" : "AXVISOR_TOKEN";
      throw new StartupError(`bad ${from}: ${problem}`);
    }
  }

  // Security: loopback by default; anything else needs a token.
  let listen: { hostname: string; port: number } | undefined;
  if (opts.listen !== undefined) {
    listen = parseListenAddress(opts.listen);
    if (!isLoopbackHost(listen.hostname) && token === undefined) {
      throw new StartupError(
        `refusing to listen on ${opts.listen} without a token: that address is reachable from ` +
          `other machines. Pass --token (or set AXVISOR_TOKEN), or listen on 127.0.0.1`,
      );
    }
  }

  let consolePorts: { hostname: string; port: number } | undefined;
  if (opts.consolePorts !== undefined) {
    try {
      consolePorts = parseListenAddress(opts.consolePorts);
    } catch {
      throw new StartupError(
        `invalid --console-ports '${opts.consolePorts}': expected [HOST:]BASE (e.g. 5000 or ` +
          `127.0.0.1:5000); VM n is then served on BASE+n`,
      );
    }
    if (consolePorts.port === 0) {
      throw new StartupError("--console-ports needs a base port above 0 (VM n is on BASE+n)");
    }
    if (!isLoopbackHost(consolePorts.hostname) && token === undefined) {
      throw new StartupError(
        `refusing to serve consoles on ${opts.consolePorts} without a token: that address is ` +
          `reachable from other machines. Pass --token (or set AXVISOR_TOKEN), or use 127.0.0.1`,
      );
    }
  }

  // The batch script is read before anything boots, so that a bad file fails fast. Each command
  // remembers where it comes from, for the failure messages.
  let commands: string[] | undefined;
  const origins: string[] = [];
  if (batchMode) {
    commands = [];
    for (const [i, c] of (opts.command ?? []).entries()) {
      const many = (opts.command?.length ?? 0) > 1;
      for (const { command, line } of splitScript(c)) {
        commands.push(command);
        const where = line > 1 ? ` line ${line}` : "";
        origins.push(many || where ? `-c #${i + 1}${where}` : "-c");
      }
    }
    if (opts.batch !== undefined) {
      let text: string;
      try {
        text = opts.batch === "-"
          ? await new Response(Deno.stdin.readable).text()
          : Deno.readTextFileSync(opts.batch);
      } catch (e) {
        throw new StartupError(`cannot read batch file ${opts.batch}: ${(e as Error).message}`);
      }
      const name = opts.batch === "-" ? "<stdin>" : opts.batch;
      for (const { command, line } of splitScript(text)) {
        commands.push(command);
        origins.push(`${name}:${line}`);
      }
    }
  }

  const fs = new HostFileSystem(opts.fsRoot);
  let board: BoardSpec;
  try {
    board = loadBoard(opts.board, (p) => Deno.readTextFileSync(p));
  } catch (e) {
    throw new StartupError((e as Error).message);
  }
  const hypervisor = new Hypervisor({
    board,
    fs,
    clock,
    bootDelaySeconds: opts.bootDelay,
    rtcEpochNs: rtcEpochNs(opts.rtc ?? (clock === "realtime" ? "host" : "fixed")),
  });
  const data = dataLocation(opts, program.getOptionValueSource("fsRoot") === "cli");
  const shell = new Shell({
    hypervisor,
    fs,
    ...data.shellOptions,
    consoleLog: opts.consoleLog
      ? { maxBytes: opts.consoleLogSize, files: opts.consoleLogFiles }
      : false,
  });
  // Whether someone watches a console live (a session attached to one, a client on a console
  // port): the driver then keeps a guest's own output prompt. Set once those exist.
  let watched = () => false;
  const driver = batchMode
    ? undefined
    : new HypervisorDriver(hypervisor, { maxLagMs: opts.idleLag, watched: () => watched() });
  const log = (level: ServerLogLevel, message: string) =>
    writeErr(`axvisor: ${level}: ${message}\n`);

  if (data.note) log("info", data.note);
  // VMs: the default set (/guest/vm_default, as AxVisor does), then --vm files, then the VMs
  // recorded by `vm create` in earlier runs (in id order).
  const toStart: number[] = [];
  const boot = await shell.bootDefaultVms();
  if (!boot.ok) log("warn", `default VMs: ${boot.error?.message ?? boot.text}`);
  for (const c of (boot.data as { created?: { vmId: number }[] })?.created ?? []) {
    toStart.push(c.vmId);
  }
  // A typo in a config key is not fatal (AxVisor ignores unknown keys), but must not go unseen.
  for (const vm of hypervisor.vms()) for (const w of vm.config.warnings) log("warn", w);
  const defaultIds = new Set(toStart);
  for (const file of opts.vm) {
    let hostText: string | undefined;
    try {
      hostText = Deno.readTextFileSync(file);
    } catch {
      hostText = undefined;
    }
    if (hostText !== undefined) {
      try {
        const vm = hypervisor.createVm({ text: hostText, origin: file });
        toStart.push(vm.id);
        for (const w of vm.config.warnings) log("warn", w);
      } catch (e) {
        throw new StartupError(`cannot create a VM from --vm ${file}: ${(e as Error).message}`);
      }
      continue;
    }
    const before = new Set(hypervisor.vms());
    const created = await shell.executeArgv(
      ["vm", "create", "--transient", file],
      new ShellSession(),
    );
    if (!created.ok) {
      throw new StartupError(
        `cannot create a VM from --vm ${file}: ${created.error?.message ?? created.text}`,
      );
    }
    for (const vm of hypervisor.vms()) {
      if (!before.has(vm)) {
        toStart.push(vm.id);
        for (const w of vm.config.warnings) log("warn", w);
      }
    }
  }
  // --autostart starts the VMs named by --vm (the example VMs would bury their boot output), or
  // the example VMs when there is no --vm; and the recorded VMs marked for autostart.
  const named = toStart.filter((id) => !defaultIds.has(id));
  const recorded = shell.recreateRecordedVms();
  if (!recorded.outcome.ok) log("warn", `recorded VMs: ${recorded.outcome.text}`);
  const chosen = [...(named.length > 0 ? named : toStart), ...recorded.autostart];
  if (opts.autostart && chosen.length > 0) {
    const ids = [...new Set(chosen)].map(String);
    const started = await shell.executeArgv(["vm", "start", ...ids], new ShellSession());
    if (!started.ok) log("warn", `--autostart: ${started.error?.message ?? started.text}`);
  }

  const backend = new AxvisorBackend({
    hypervisor,
    shell,
    description: describeBoard(board, clock),
    onActivity: () => driver?.poke(),
  });
  const server = new ConsoleServer({
    backend,
    version: VERSION,
    token,
    readOnly: opts.readOnly,
    maxSessions: opts.maxSessions,
    log,
    logLevel: opts.logLevel,
    // With the background driver, waits are asynchronous: one session's `vm wait` must not
    // hold every other session up.
    interleaveWaits: driver !== undefined,
  });

  // Batch mode: one session, no banner, no prompt, no background driver.
  if (commands !== undefined) {
    const { session, done, flushed } = serveStdioStream(server, {
      reader: undefined,
      banner: false,
      prompt: false,
      noInput: true,
      // Batch output is never dropped: the run waits for stdout between commands (and large
      // replies are streamed), so only guest output within one command is bounded.
      limits: { softLimit: 8 * 1024 * 1024, hardLimit: 256 * 1024 * 1024 },
      stallTimeoutMs: 0,
    });
    const result = await runBatch(session, commands, {
      keepGoing: opts.keepGoing,
      echo: opts.echo ?? true,
      flush: flushed,
      onFailure: (i, c) => {
        const total = commands!.length;
        const stopping = !opts.keepGoing && i < total
          ? ` (stopping; ${total - i} more not run)`
          : "";
        log("error", `command ${i} of ${total} (${origins[i - 1]}) failed: ${c}${stopping}`);
      },
    });
    server.flushConsoles();
    session.close("end of batch");
    await done;
    shell.dispose();
    server.dispose();
    if (result.aborted !== undefined) {
      log(
        "error",
        `the batch stopped after ${result.ran} of ${result.total} commands: ${result.aborted}`,
      );
    }
    if (!result.ok && opts.keepGoing && result.failed > 0) {
      log("error", `${result.failed} of ${result.total} commands failed`);
    }
    return result.ok ? EXIT_OK : EXIT_COMMAND_FAILED;
  }

  let tcp: TcpConsoleService | undefined;
  if (listen) {
    try {
      tcp = serveTcp(server, listen);
    } catch (e) {
      throw new StartupError(`cannot listen on ${opts.listen}: ${(e as Error).message}`);
    }
    const a = tcp.addr;
    const host = a.hostname.includes(":") ? `[${a.hostname}]` : a.hostname;
    writeErr(`axvisor: listening on ${host}:${a.port}\n`);
  }

  // Raw console ports: --console-ports BASE, and VMs whose config names a console_port.
  const ports = new ConsolePorts(backend, hypervisor.vms().map((vm) => vm.id), {
    hostname: consolePorts?.hostname ?? "127.0.0.1",
    base: consolePorts?.port,
    vmPort: (id) => hypervisor.vm(id)?.config.base.consolePort,
    token,
    readOnly: opts.readOnly,
    log: (level, message) => server.log(level, message),
  });
  watched = () =>
    server.sessions().some((s) => s.attachedVm !== undefined) ||
    ports.ports().some((p) => p.clients > 0);
  for (const p of ports.ports()) {
    const host = p.addr.hostname.includes(":") ? `[${p.addr.hostname}]` : p.addr.hostname;
    writeErr(`axvisor: console of VM ${p.vmId} on ${host}:${p.addr.port}\n`);
  }

  // The first signal shuts down in order; a second one (shutdown stuck) exits at once.
  let signalled = false;
  const onSignal = (name: string) => () => {
    if (signalled) Deno.exit(name === "SIGINT" ? 130 : 143);
    signalled = true;
    server.shutdown(`${name} received`);
  };
  const sigint = onSignal("SIGINT");
  const sigterm = onSignal("SIGTERM");
  Deno.addSignalListener("SIGINT", sigint);
  Deno.addSignalListener("SIGTERM", sigterm);

  driver?.start();
  // Console logs are batched in memory and written within 250 ms of the output (or when a batch
  // fills). The timer is armed by output only: an idle hypervisor has nothing to wake up for.
  let logTimer: ReturnType<typeof setTimeout> | undefined;
  const stopLogFlush = hypervisor.on((event) => {
    if (event.type !== "console" || logTimer !== undefined) return;
    logTimer = setTimeout(() => {
      logTimer = undefined;
      shell.flushLogs();
    }, 250);
  });

  const interactive = Deno.stdin.isTerminal() && Deno.stdout.isTerminal();
  const stdio = interactive ? runInteractive(server) : serveStdioStream(server);
  stdio.done.then(() => {
    if (!tcp) {
      server.shutdown("end of the console session");
      return;
    }
    // `exit` (or end of input) at the local console with --listen: the TCP sessions go on.
    if (!server.shuttingDown) {
      const a = tcp.addr;
      const host = a.hostname.includes(":") ? `[${a.hostname}]` : a.hostname;
      writeErr(
        `axvisor: the local console is closed; the server keeps serving TCP on ` +
          `${host}:${a.port}. Stop it with Ctrl-C or SIGTERM (kill ${Deno.pid}), or ` +
          "`shutdown` from a TCP session.\n",
      );
    }
  });

  await server.shutdownRequested;
  // Let the stdio session write its last lines (a stdout nobody reads cannot hold us up).
  let grace: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([stdio.done, new Promise((r) => (grace = setTimeout(r, 2000)))]);
  clearTimeout(grace);
  if (tcp) await tcp.close();
  await ports.close();
  if (driver?.error) log("error", `the emulator stopped with an error: ${driver.error}`);
  await driver?.stop();
  stopLogFlush();
  clearTimeout(logTimer);
  shell.dispose();
  server.dispose();
  Deno.removeSignalListener("SIGINT", sigint);
  Deno.removeSignalListener("SIGTERM", sigterm);
  return EXIT_OK;
}

if (import.meta.main) {
  let code: number;
  try {
    code = await main(Deno.args);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    writeErr(`axvisor: ${msg}\n`);
    code = EXIT_USAGE;
  }
  Deno.exit(code);
}
