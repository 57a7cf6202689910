/**
 * `deno task bare [options] <image>`: runs a bare-metal RISC-V image, as spike does.
 *
 * The image (ELF64, `.S`/`.s` assembly source, or raw binary at 0x8000_0000) starts on hart 0 in
 * M-mode at its entry point, on a one-hart machine with RAM at 0x8000_0000, or with `--board` on
 * every hart of a board. HTIF `tohost` decides the exit code (see `--help`). Guest output
 * (HTIF console, the board's UART) goes to stdout; the runner's messages, `--trace` and `--stats`
 * go to stderr.
 *
 * @module
 */

import { Command, InvalidArgumentError } from "commander";
import {
  DEFAULT_MAX_INSNS,
  DEFAULT_TRACE_LIMIT,
  EXIT_BUDGET,
  EXIT_FAIL,
  EXIT_PASS,
  EXIT_STOPPED,
  EXIT_USAGE,
  formatStats,
  type ImageFile,
  prepareRun,
  runMachine,
} from "../lib/hw/bare_runner.ts";
import { type BoardSpec, loadBoard } from "../lib/hw/boards/mod.ts";
import { parseRtcStart } from "../lib/hw/devices/goldfish_rtc.ts";

/** What the CLI touches: output streams and files. Injected so that tests can run it in-process. */
export interface BareIo {
  /** Writes guest output (raw bytes) to stdout. */
  stdout(bytes: Uint8Array): void;
  /** Writes runner text to stderr. */
  stderr(text: string): void;
  /** Reads a whole file. */
  readFile(path: string): Uint8Array;
  /** Reads a text file (board files). */
  readText(path: string): string;
  /** Host clock in milliseconds (for MIPS). */
  now(): number;
}

interface Options {
  maxInsns: number;
  rtc?: number;
  stats?: boolean;
  trace?: boolean;
  traceLimit: number;
  board?: string;
  load: string[];
  tohost?: number;
  input?: string;
  inputAfter?: string;
  until?: string;
  initrd?: string;
  append?: string;
  dtb?: string;
}

const HELP_AFTER = `
Images: an ELF64 RISC-V file is loaded by its program headers and starts at its entry point;
a .S/.s file is assembled at 0x80000000 (entry _start); any other file is a raw binary loaded
and started at 0x80000000. Execution starts in M-mode, as on spike.

HTIF: when the image has a \`tohost\` symbol (or --tohost is given), the guest ends the run by
storing to it: 1 means pass, any other odd value v means test v>>1 failed. HTIF console output
(device 1) and proxy-kernel write/exit calls are served. On a board, the test finisher
(sifive-test) ends the run too, and the console UART prints to stdout.

Exit status:
  0  pass: tohost = 1 (or exit(0), the finisher's pass, or the --until text appeared)
  1  fail: tohost = v, odd, v != 1; the failing test number v>>1 is printed
  2  the instruction budget (--max-insns) was spent first
  3  the machine stopped otherwise: every hart waits in wfi with nothing to wake it, a trap
     loop retires nothing, a hart halted, or an HTIF request cannot be served
  4  bad arguments, or an image or board that cannot be loaded

Examples:
  deno task bare rv64ui-p-add                       an official riscv-tests binary
  deno task bare --stats bench/workloads/integer.S  assemble and run; print MIPS
  deno task bare --trace --trace-limit 20 prog.elf
  deno task bare --board qemu-virt --input ' ' --input-after autoboot --until '=> ' \\
    --load /usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin@0x80200000 \\
    /usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf
  deno task bare --board qemu-virt --load examples/images/linux/Image@0x80200000 \\
    --initrd examples/images/linux/initramfs.cpio.gz --append console=ttyS0 \\
    /usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf     Linux under OpenSBI, as with
    qemu-system-riscv64 -M virt -bios fw_jump.elf -kernel Image -initrd ... -append ...
`;

function positiveInteger(value: string): number {
  const n = Number(value.replaceAll("_", ""));
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new InvalidArgumentError(`expected a positive integer, got '${value}'`);
  }
  return n;
}

/** Parses an address: decimal or 0x-prefixed hex, `_` separators allowed. */
export function parseAddress(value: string): number {
  const text = value.replaceAll("_", "").trim();
  const n = /^0x[0-9a-f]+$/i.test(text)
    ? parseInt(text.slice(2), 16)
    : /^\d+$/.test(text)
    ? Number(text)
    : NaN;
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new InvalidArgumentError(`'${value}' is not an address (e.g. 0x80200000)`);
  }
  return n;
}

/** Expands `\n`, `\r`, `\t`, `\xNN` and `\\` in a command-line text. */
export function unescape(text: string): string {
  return text.replace(/\\(x[0-9a-fA-F]{2}|[nrt\\])/g, (_, e: string) => {
    if (e[0] === "x") return String.fromCharCode(parseInt(e.slice(1), 16));
    return e === "n" ? "\n" : e === "r" ? "\r" : e === "t" ? "\t" : "\\";
  });
}

/** Splits `FILE@ADDR` (address optional for ELF files). */
export function parseLoadSpec(spec: string): { path: string; address?: number } {
  const at = spec.lastIndexOf("@");
  if (at < 0) return { path: spec };
  const path = spec.slice(0, at);
  if (path === "") throw new InvalidArgumentError(`'${spec}' names no file (expected FILE@ADDR)`);
  return { path, address: parseAddress(spec.slice(at + 1)) };
}

function buildProgram(io: BareIo): Command {
  return new Command("bare")
    .description("Run a bare-metal RISC-V (RV64IMAC) image, as spike does.")
    .argument("<image>", "ELF64, .S/.s assembly source, or raw binary (at 0x80000000)")
    .option(
      "--max-insns <n>",
      `stop after N instructions retired (exit 2)`,
      positiveInteger,
      DEFAULT_MAX_INSNS,
    )
    .option("--stats", "print instructions retired, host time and MIPS (stderr)")
    .option("--trace", "print each executed instruction: hart, pc, bits, disassembly (stderr)")
    .option("--trace-limit <n>", "instructions to trace", positiveInteger, DEFAULT_TRACE_LIMIT)
    .option(
      "--board <name|file>",
      "run on a board (built-in name or TOML file) instead of bare RAM",
    )
    .option(
      "--load <file@addr>",
      "extra image copied at addr (repeatable; an ELF without @addr loads by its headers)",
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option("--tohost <addr>", "address of tohost when the image has no such symbol", parseAddress)
    .option("--input <text>", "console input for the guest (escapes: \\n \\r \\t \\xNN \\\\)")
    .option("--input-after <text>", "hold --input back until the console output contains text")
    .option("--until <text>", "end the run (exit 0) once the console output contains text")
    .option(
      "--initrd <file>",
      "board: a Linux initramfs, loaded as QEMU does and named in /chosen (linux,initrd-*)",
    )
    .option("--append <args>", "board: the kernel command line (/chosen/bootargs)")
    .option("--dtb <file>", "board: boot with this device tree blob instead of the board's")
    .option(
      "--rtc <time>",
      "board: what the RTC reads at boot: fixed (2026-01-01T00:00:00Z, the default), host or " +
        "an ISO 8601 time",
      (value: string) => {
        try {
          return parseRtcStart(value, Date.now());
        } catch (e) {
          throw new InvalidArgumentError((e as Error).message);
        }
      },
    )
    .addHelpText("after", HELP_AFTER)
    .configureOutput({
      writeOut: (text) => io.stdout(new TextEncoder().encode(text)),
      writeErr: (text) => io.stderr(text),
      getOutHasColors: () => false,
      getErrHasColors: () => false,
      getOutHelpWidth: () => 100,
      getErrHelpWidth: () => 100,
    })
    .exitOverride()
    .allowExcessArguments(false);
}

/** Runs the CLI with `args` (without the program name); returns the exit status. */
export function main(args: string[], io: BareIo): number {
  const program = buildProgram(io);
  try {
    program.parse(args, { from: "user" });
  } catch (e) {
    const code = (e as { code?: string }).code ?? "";
    return code === "commander.helpDisplayed" || code === "commander.version"
      ? EXIT_PASS
      : EXIT_USAGE;
  }
  const opts = program.opts() as Options;
  const imagePath = program.args[0];
  const fail = (message: string) => {
    io.stderr(`bare: ${message}\n`);
    return EXIT_USAGE;
  };

  let board: BoardSpec | undefined;
  const files: {
    image: ImageFile;
    loads: { file: ImageFile; address?: number }[];
    initrd?: ImageFile;
    dtb?: ImageFile;
  } = {
    image: { name: imagePath, bytes: new Uint8Array() },
    loads: [],
  };
  try {
    if (opts.board !== undefined) board = loadBoard(opts.board, io.readText);
    files.image.bytes = io.readFile(imagePath);
    for (const spec of opts.load) {
      const { path, address } = parseLoadSpec(spec);
      files.loads.push({ file: { name: path, bytes: io.readFile(path) }, address });
    }
    if (opts.initrd !== undefined) {
      files.initrd = { name: opts.initrd, bytes: io.readFile(opts.initrd) };
    }
    if (opts.dtb !== undefined) files.dtb = { name: opts.dtb, bytes: io.readFile(opts.dtb) };
  } catch (e) {
    return fail(e instanceof Error ? e.message : String(e));
  }

  let prepared;
  try {
    prepared = prepareRun({
      image: files.image,
      board,
      loads: files.loads,
      tohost: opts.tohost,
      trace: opts.trace,
      initrd: files.initrd,
      dtb: files.dtb,
      append: opts.append,
      rtcEpochNs: opts.rtc,
    });
  } catch (e) {
    return fail(e instanceof Error ? e.message : String(e));
  }
  const result = runMachine(prepared, {
    maxInsns: opts.maxInsns,
    trace: opts.trace,
    traceLimit: opts.traceLimit,
    output: io.stdout,
    log: (line) => io.stderr(`${line}\n`),
    now: io.now,
    input: opts.input === undefined ? undefined : new TextEncoder().encode(unescape(opts.input)),
    inputAfter: opts.inputAfter === undefined ? undefined : unescape(opts.inputAfter),
    until: opts.until === undefined ? undefined : unescape(opts.until),
  });
  if (opts.stats) { for (const line of formatStats(result)) io.stderr(`${line}\n`); }
  return result.exitCode;
}

/** The real process's I/O. */
function denoIo(): BareIo {
  const encoder = new TextEncoder();
  const writeAll = (stream: { writeSync(p: Uint8Array): number }, data: Uint8Array) => {
    while (data.length > 0) data = data.subarray(stream.writeSync(data));
  };
  return {
    stdout: (bytes) => writeAll(Deno.stdout, bytes),
    stderr: (text) => writeAll(Deno.stderr, encoder.encode(text)),
    readFile: (path) => Deno.readFileSync(path),
    readText: (path) => Deno.readTextFileSync(path),
    now: () => performance.now(),
  };
}

if (import.meta.main) {
  let code: number;
  try {
    code = main(Deno.args, denoIo());
  } catch (e) {
    console.error(`bare: internal error: ${e instanceof Error ? e.stack : e}`);
    code = EXIT_STOPPED;
  }
  Deno.exit(code);
}

export { EXIT_BUDGET, EXIT_FAIL, EXIT_PASS, EXIT_STOPPED, EXIT_USAGE };
