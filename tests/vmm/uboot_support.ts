/**
 * Shared by the U-Boot guest tests (tests/vmm/uboot_guest_test.ts, tests/e2e/uboot_vm_test.ts)
 * and bench/uboot_bench.ts: where Debian's U-Boot and the QEMU oracle live, the CI rule (a test
 * that needs them fails under `CI=true` and is skipped with a clear message elsewhere), a
 * hypervisor holding the example U-Boot configs and the image, and two console drivers that type
 * into U-Boot as a person would: one through the VMM's API (warp clock, deterministic), one into
 * `qemu-system-riscv64 -M virt` with OpenSBI underneath (the oracle).
 *
 * @module
 */

import {
  Hypervisor,
  type HypervisorOptions,
  loadBoard,
  MemoryFileSystem,
  type Vm,
} from "../../mod.ts";

/** The library's types this module's API uses (so that its documentation is complete). */
export type * from "../../mod.ts";

/** Debian's S-mode U-Boot for QEMU's riscv virt machine (package u-boot-qemu). */
export const UBOOT_BIN = "/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin";
/** OpenSBI's fw_jump for the generic platform (package opensbi): the oracle's M-mode firmware. */
export const OPENSBI_FW_JUMP = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin";
/** The oracle emulator (package qemu-system-misc). */
export const QEMU_RISCV64 = "qemu-system-riscv64";
/** Where the example configs expect the image inside the hypervisor's filesystem root. */
export const UBOOT_FS_PATH = "/images/u-boot.bin";
/** The example configs, as the hypervisor's filesystem sees them. */
export const UBOOT_CONFIG = "/configs/uboot.toml";
/** The four-vCPU example config. */
export const UBOOT_SMP_CONFIG = "/configs/uboot-smp.toml";

const EXAMPLES = new URL("../../examples/", import.meta.url);

/** A host file or program a test needs, and the Debian package that provides it. */
export interface HostRequirement {
  /** An absolute file path, or a program name looked up in `PATH`. */
  path: string;
  /** The Debian package that installs it. */
  pkg: string;
}

/** U-Boot's image. */
export const NEEDS_UBOOT: HostRequirement = { path: UBOOT_BIN, pkg: "u-boot-qemu" };
/** The QEMU + OpenSBI oracle. */
export const NEEDS_QEMU: HostRequirement[] = [
  { path: QEMU_RISCV64, pkg: "qemu-system-misc" },
  { path: OPENSBI_FW_JUMP, pkg: "opensbi" },
];

/** Whether this run is a CI run (`CI=true`, as CI services set it): missing oracles then fail. */
export function isCi(): boolean {
  let value: string | undefined;
  try {
    value = Deno.env.get("CI");
  } catch {
    return false; // no --allow-env: not told that this is CI
  }
  return value !== undefined && ["true", "1", "yes"].includes(value.trim().toLowerCase());
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** Whether `req` is present: the file exists, or the program is found in `PATH`. */
export function hostHas(req: HostRequirement): boolean {
  if (req.path.includes("/")) return isFile(req.path);
  let path = "";
  try {
    path = Deno.env.get("PATH") ?? "";
  } catch {
    path = "/usr/local/bin:/usr/bin:/bin";
  }
  return path.split(":").some((dir) => dir !== "" && isFile(`${dir}/${req.path}`));
}

/** What is missing among `reqs`, as one sentence naming the files and packages; undefined if none. */
export function missingRequirements(reqs: HostRequirement[]): string | undefined {
  const missing = reqs.filter((r) => !hostHas(r));
  if (missing.length === 0) return undefined;
  return `${missing.map((r) => r.path).join(" and ")} ${
    missing.length === 1 ? "is" : "are"
  } missing: install the Debian package(s) ${
    [...new Set(missing.map((r) => r.pkg))].join(" ")
  } (.ci/run does)`;
}

/**
 * Registers a test that needs host files or programs. When one is missing, the test fails under
 * CI (`CI=true`: CI installs them, so their absence is a broken setup) and is registered as
 * ignored elsewhere, its name saying what to install.
 */
export function testNeeding(
  reqs: HostRequirement[],
  name: string,
  fn: (t: Deno.TestContext) => void | Promise<void>,
): void {
  const missing = missingRequirements(reqs);
  if (missing === undefined) {
    Deno.test(name, fn);
  } else if (isCi()) {
    Deno.test(name, () => {
      throw new Error(`${missing}; CI=true, so this test fails instead of being skipped`);
    });
  } else {
    Deno.test({ name: `${name} (skipped: ${missing})`, ignore: true, fn });
  }
}

/** Reads an example config (e.g. `uboot.toml`) from examples/configs/. */
export function exampleConfig(name: string): string {
  return Deno.readTextFileSync(new URL(`configs/${name}`, EXAMPLES));
}

/**
 * A hypervisor on the default board (warp clock) whose filesystem holds the two example U-Boot
 * configs, `extra` files, and Debian's u-boot.bin at {@linkcode UBOOT_FS_PATH}.
 */
export function makeUbootHypervisor(
  extra: Record<string, string | Uint8Array> = {},
  options: Partial<HypervisorOptions> = {},
): { hv: Hypervisor; fs: MemoryFileSystem } {
  const fs = new MemoryFileSystem({
    [UBOOT_CONFIG]: exampleConfig("uboot.toml"),
    [UBOOT_SMP_CONFIG]: exampleConfig("uboot-smp.toml"),
    [UBOOT_FS_PATH]: Deno.readFileSync(UBOOT_BIN),
    ...extra,
  });
  const hv = new Hypervisor({ board: loadBoard("qemu-virt"), fs, ...options });
  return { hv, fs };
}

/** Thrown when U-Boot does not print what was expected; carries the end of the transcript. */
export class UbootTimeoutError extends Error {
  /** Creates the error. */
  constructor(what: string, detail: string, transcript: string) {
    super(`${what} ${detail}; console so far:\n${transcript.slice(-1500)}`);
    this.name = "UbootTimeoutError";
  }
}

/** Index just past the first match of `pattern` in `text` at or after `from`, or -1. */
function matchEnd(text: string, pattern: string | RegExp, from: number): number {
  if (typeof pattern === "string") {
    const i = text.indexOf(pattern, from);
    return i < 0 ? -1 : i + pattern.length;
  }
  const re = new RegExp(pattern.source, pattern.flags.replace("g", "") + "g");
  re.lastIndex = from;
  const m = re.exec(text);
  return m ? m.index + m[0].length : -1;
}

/**
 * What a command printed, from the console text that follows typing it: the echoed command line,
 * the output, and the next prompt. CR LF become LF; no trailing newline.
 */
export function commandOutput(command: string, text: string): string {
  const body = text.replaceAll("\r\n", "\n").slice(0, -(PROMPT.length - 1)); // keep the "\n"
  const echo = body.indexOf("\n");
  if (echo < 0 || body.slice(0, echo) !== command) {
    throw new Error(`U-Boot did not echo "${command}" before its output: ${JSON.stringify(text)}`);
  }
  return body.slice(echo + 1).replace(/\n$/, "");
}

/** U-Boot's prompt, as it follows a command's output (U-Boot ends lines with CR LF). */
export const PROMPT = "\n=> ";
/** U-Boot's autoboot countdown line. */
export const AUTOBOOT = "Hit any key to stop autoboot";

/**
 * Types into U-Boot's console through the VMM API and reads what it prints. Every wait runs the
 * hypervisor synchronously in virtual time (deterministic in warp mode) and fails with the
 * console transcript when the text does not come within the budget.
 */
export class UbootConsole {
  /** The hypervisor running the VM. */
  readonly hv: Hypervisor;
  /** The U-Boot VM. */
  readonly vm: Vm;
  /** Everything the VM printed since this driver was made (across reboots). */
  transcript = "";
  /** Position in {@linkcode UbootConsole.transcript} up to which output has been consumed. */
  cursor = 0;
  readonly #unsubscribe: () => void;
  readonly #decoder = new TextDecoder();

  /** Attaches to `vm`'s console (before it starts, to see everything). */
  constructor(hv: Hypervisor, vm: Vm) {
    this.hv = hv;
    this.vm = vm;
    this.#unsubscribe = vm.console.subscribe((data) => {
      this.transcript += this.#decoder.decode(data, { stream: true });
    });
  }

  /** Stops following the console. */
  close(): void {
    this.#unsubscribe();
  }

  /**
   * Runs the hypervisor until `pattern` appears after the cursor (or `timeoutNs` of virtual
   * time pass: an error). Returns the text from the cursor to the end of the match and moves
   * the cursor there.
   */
  until(pattern: string | RegExp, timeoutNs = 10e9): string {
    let end = -1;
    const found = () => (end = matchEnd(this.transcript, pattern, this.cursor)) >= 0;
    if (!this.hv.runUntil(found, timeoutNs)) {
      throw new UbootTimeoutError(
        `VM[${this.vm.id}] (${this.vm.name}) did not print ${String(pattern)}`,
        `within ${timeoutNs / 1e9} s of virtual time (status ${this.vm.status}${
          this.vm.lastError ? `, ${this.vm.lastError}` : ""
        })`,
        this.transcript,
      );
    }
    const out = this.transcript.slice(this.cursor, end);
    this.cursor = end;
    return out;
  }

  /** Types `text` into the console (bytes go to the UART's receive FIFO). */
  type(text: string): void {
    this.vm.console.writeInput(text);
  }

  /** Waits for the autoboot countdown, presses a key, and waits for the prompt; returns the boot text. */
  stopAutoboot(timeoutNs = 10e9): string {
    const boot = this.until(AUTOBOOT, timeoutNs);
    this.type(" ");
    return boot + this.until(PROMPT, 1e9);
  }

  /**
   * Types `command` and Enter at the prompt and waits for the next prompt. Returns what the
   * command printed (after its echoed line, before the prompt), with CR LF turned into LF.
   */
  command(command: string, timeoutNs = 10e9): string {
    this.type(`${command}\n`);
    return commandOutput(command, this.until(PROMPT, timeoutNs));
  }
}

/** Options of {@linkcode QemuUboot.start}. */
export interface QemuUbootOptions {
  /** Harts (`-smp`). Default 1. */
  smp?: number;
  /** RAM in MiB (`-m`). Default 256. */
  memoryMiB?: number;
  /**
   * A last resort against a hang, in wall-clock ms: QEMU is killed after this long, which ends
   * any wait with an error (nothing is timed by it). Default 120,000.
   */
  watchdogMs?: number;
}

/**
 * The oracle: `qemu-system-riscv64 -M virt -bios fw_jump.bin -kernel u-boot.bin -nographic`
 * (OpenSBI in M-mode, the same U-Boot in S-mode), driven through its serial console on stdio.
 */
export class QemuUboot {
  /** The QEMU process. */
  readonly child: Deno.ChildProcess;
  /** Everything QEMU printed on its serial console. */
  transcript = "";
  /** Consumed position in the transcript. */
  cursor = 0;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #decoder = new TextDecoder();
  readonly #stderr: Promise<string>;
  #done = false;
  readonly #watchdog: ReturnType<typeof setTimeout>;

  private constructor(child: Deno.ChildProcess, watchdogMs: number) {
    this.child = child;
    this.#watchdog = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch {
        // already exited
      }
    }, watchdogMs);
    this.#reader = child.stdout.getReader();
    this.#writer = child.stdin.getWriter();
    this.#stderr = new Response(child.stderr).text();
  }

  /** Starts QEMU on U-Boot. */
  static start(options: QemuUbootOptions = {}): QemuUboot {
    const child = new Deno.Command(QEMU_RISCV64, {
      args: [
        "-M",
        "virt",
        "-smp",
        String(options.smp ?? 1),
        "-m",
        `${options.memoryMiB ?? 256}M`,
        "-bios",
        OPENSBI_FW_JUMP,
        "-kernel",
        UBOOT_BIN,
        "-nographic",
        "-serial",
        "stdio",
        "-monitor",
        "none",
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    return new QemuUboot(child, options.watchdogMs ?? 120_000);
  }

  /** Reads QEMU's console until `pattern` appears after the cursor (an error if QEMU exits first). */
  async until(pattern: string | RegExp): Promise<string> {
    while (true) {
      const end = matchEnd(this.transcript, pattern, this.cursor);
      if (end >= 0) {
        const out = this.transcript.slice(this.cursor, end);
        this.cursor = end;
        return out;
      }
      const { value, done } = await this.#reader.read();
      if (done) {
        this.#done = true;
        throw new UbootTimeoutError(
          `QEMU exited before printing ${String(pattern)}`,
          `(stderr: ${(await this.#stderr).trim() || "empty"})`,
          this.transcript,
        );
      }
      this.transcript += this.#decoder.decode(value, { stream: true });
    }
  }

  /** Types into the serial console. */
  async type(text: string): Promise<void> {
    await this.#writer.write(new TextEncoder().encode(text));
  }

  /** Waits for the countdown, presses a key, waits for the prompt. */
  async stopAutoboot(): Promise<string> {
    const boot = await this.until(AUTOBOOT);
    await this.type(" ");
    return boot + await this.until(PROMPT);
  }

  /** Types a command and returns its output (see {@linkcode UbootConsole.command}). */
  async command(command: string): Promise<string> {
    await this.type(`${command}\n`);
    return commandOutput(command, await this.until(PROMPT));
  }

  /** Kills QEMU and releases its pipes. */
  async close(): Promise<void> {
    clearTimeout(this.#watchdog);
    try {
      this.child.kill("SIGKILL");
    } catch {
      // already exited
    }
    try {
      await this.#writer.close();
    } catch {
      // QEMU is gone: the pipe is broken
    }
    if (!this.#done) {
      try {
        await this.#reader.cancel();
      } catch {
        // already closed
      }
    }
    await this.#stderr;
    await this.child.status;
  }
}
