/**
 * Shared by the Linux guest tests (tests/vmm/linux_guest_test.ts, tests/e2e/linux_*_test.ts)
 * and bench/linux_bench.ts: where `deno task images` puts Debian's kernel and the busybox
 * initramfs, the rule for tests that need them (they fail under `CI=true`, where .ci/run builds
 * them, and are skipped with a clear message elsewhere), a hypervisor holding the example Linux
 * configs and images, a console driver that types into the busybox shell through the VMM's API,
 * the same driver for QEMU (`-M virt`, OpenSBI) and for the bare board, and the check of the
 * kernel's boot log for warnings our platform causes.
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
import { isCi } from "./uboot_support.ts";
import { prepareRun } from "../../lib/hw/bare_runner.ts";

/** The library's types this module's API uses (so that its documentation is complete). */
export type * from "../../mod.ts";

const IMAGES = new URL("../../examples/images/linux/", import.meta.url);
/** Debian's kernel Image, as `deno task images` leaves it. */
export const LINUX_IMAGE: string = new URL("Image", IMAGES).pathname;
/** The busybox initramfs `deno task images` builds. */
export const LINUX_INITRAMFS: string = new URL("initramfs.cpio.gz", IMAGES).pathname;
/** Where the example configs expect the images inside the hypervisor's filesystem root. */
export const LINUX_FS_IMAGE = "/images/linux/Image";
/** The initramfs inside the filesystem root. */
export const LINUX_FS_INITRAMFS = "/images/linux/initramfs.cpio.gz";
/** The one-vCPU example config, inside the filesystem root. */
export const LINUX_CONFIG = "/configs/linux.toml";
/** The four-vCPU example config. */
export const LINUX_SMP_CONFIG = "/configs/linux-smp.toml";
/** OpenSBI's fw_jump (ELF, for the bare board; QEMU takes it too). */
export const OPENSBI_FW_JUMP_ELF = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf";
/** The banner the initramfs' /init prints before the shell (lib/vmm/initramfs.ts). */
export const BANNER = "axvisor.ts: Linux initramfs ready";
/** The shell's prompt as it ends a command's output (busybox ash, root, after `\n`). */
export const PROMPT_RE = /\r?\n[~/][^\n]* # /;

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** Why the images are unusable (one sentence), or undefined when both are there. */
export function missingImages(): string | undefined {
  const missing = [LINUX_IMAGE, LINUX_INITRAMFS].filter((p) => !isFile(p));
  if (missing.length === 0) return undefined;
  return `${missing.join(" and ")} ${missing.length === 1 ? "is" : "are"} missing: run ` +
    "`deno task images` (.ci/run does)";
}

/** Whether QEMU and OpenSBI (the oracle) are installed. */
export function missingQemu(): string | undefined {
  const hasQemu = (Deno.env.get("PATH") ?? "/usr/bin").split(":").some((d) =>
    isFile(`${d}/qemu-system-riscv64`)
  );
  const missing = [
    ...(hasQemu ? [] : ["qemu-system-riscv64 (package qemu-system-misc)"]),
    ...(isFile(OPENSBI_FW_JUMP_ELF) ? [] : [`${OPENSBI_FW_JUMP_ELF} (package opensbi)`]),
  ];
  return missing.length === 0 ? undefined : `${missing.join(" and ")} missing (.ci/run installs)`;
}

/**
 * Registers a test that needs the Linux images (and, with `qemu`, the QEMU oracle). When they
 * are missing the test fails under CI (`CI=true`) and is registered as ignored elsewhere, its
 * name saying what to run.
 */
export function testNeedingLinux(
  name: string,
  fn: (t: Deno.TestContext) => void | Promise<void>,
  options: { qemu?: boolean } = {},
): void {
  const missing = [missingImages(), options.qemu ? missingQemu() : undefined].filter(Boolean)
    .join("; ");
  if (missing === "") {
    Deno.test(name, fn);
  } else if (isCi()) {
    Deno.test(name, () => {
      throw new Error(`${missing}; CI=true, so this test fails instead of being skipped`);
    });
  } else {
    Deno.test({ name: `${name} (skipped: ${missing})`, ignore: true, fn });
  }
}

/** An example config (e.g. `linux.toml`) from examples/configs/. */
export function exampleConfig(name: string): string {
  return Deno.readTextFileSync(new URL(`../../examples/configs/${name}`, import.meta.url));
}

/**
 * A hypervisor on the default board (warp clock) whose filesystem holds the two example Linux
 * configs and the images where they expect them.
 */
export function makeLinuxHypervisor(
  options: Partial<HypervisorOptions> = {},
): { hv: Hypervisor; fs: MemoryFileSystem } {
  const fs = new MemoryFileSystem({
    [LINUX_CONFIG]: exampleConfig("linux.toml"),
    [LINUX_SMP_CONFIG]: exampleConfig("linux-smp.toml"),
    [LINUX_FS_IMAGE]: Deno.readFileSync(LINUX_IMAGE),
    [LINUX_FS_INITRAMFS]: Deno.readFileSync(LINUX_INITRAMFS),
  });
  const hv = new Hypervisor({ board: loadBoard("qemu-virt"), fs, ...options });
  return { hv, fs };
}

/** Index just past the first match of `pattern` in `text` at or after `from`, or -1. */
export function matchEnd(text: string, pattern: string | RegExp, from: number): number {
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
 * What a command printed, from the console text that follows typing it: without the echoed
 * command line and the next prompt, CR LF as LF, busybox's terminal query (ESC [6n) removed.
 */
export function shellOutput(command: string, text: string): string {
  // ash's line editor wraps a long echoed line at the terminal's width with CR CR LF.
  const clean = text.replaceAll("\x1b[6n", "").replaceAll("\r\r\n", "").replaceAll("\r\n", "\n")
    .replaceAll("\r", "");
  const m = /\n[~/][^\n]* # $/.exec(clean);
  const body = m ? clean.slice(0, m.index) : clean;
  const echo = body.indexOf("\n");
  const first = echo < 0 ? body : body.slice(0, echo);
  if (first.trimEnd() !== command) {
    throw new Error(
      `the shell did not echo "${command}" before its output: ${JSON.stringify(text)}`,
    );
  }
  return echo < 0 ? "" : body.slice(echo + 1);
}

/**
 * Boot-log lines that name a problem (a warning, an error, a failure, a stall, a lockup, a
 * missing capability). The kernel's messages for things our platform does not have on purpose
 * and that QEMU's virt machine lacks too (no EFI, no DMI, no SBI CPPC) do not match.
 */
const PROBLEM = new RegExp(
  [
    "warn",
    "error",
    "fail",
    "lacks",
    "\\bbug\\b",
    "oops",
    "panic",
    "call trace",
    "stall",
    "lockup",
    "unable",
    "cannot",
    "can't",
    "timed out",
    "invalid",
    "unknown",
    "unsupported",
    "deprecated",
    "spurious",
    "not responding",
    "tainted",
    "mismatch",
  ].join("|"),
  "i",
);
/** Lines that match {@linkcode PROBLEM} but are no problem (seen on QEMU's virt machine too). */
const BENIGN = [
  /DMI not present or invalid/, // no SMBIOS: QEMU virt without firmware tables says the same
  /iommu: DMA domain TLB invalidation policy/,
];

/** The kernel log lines (`[ time] text`) of `log` that report a problem. */
export function bootProblems(log: string): string[] {
  return log.replaceAll("\r", "").split("\n")
    .filter((l) => /^\[\s*\d+\.\d+\]/.test(l))
    .filter((l) => PROBLEM.test(l) && !BENIGN.some((b) => b.test(l)));
}

/**
 * Types into the busybox shell of a Linux VM through the VMM API and reads what it prints. Every
 * wait runs the hypervisor synchronously in virtual time (deterministic with the warp clock)
 * and fails with the end of the transcript when the text does not come in time.
 */
export class LinuxConsole {
  /** Everything the VM printed since this driver was made (across reboots). */
  transcript = "";
  /** Position in the transcript up to which output has been consumed. */
  cursor = 0;
  readonly #unsubscribe: () => void;
  readonly #decoder = new TextDecoder();

  /**
   * Attaches to `vm`'s console (before it starts, to see everything). With the environment
   * variable `AXVISOR_TEST_CONSOLE=1`, the console is also copied to stderr as it comes.
   */
  constructor(readonly hv: Hypervisor, readonly vm: Vm) {
    let echo = false;
    try {
      echo = Deno.env.get("AXVISOR_TEST_CONSOLE") === "1";
    } catch { /* no --allow-env */ }
    this.#unsubscribe = vm.console.subscribe((data) => {
      this.transcript += this.#decoder.decode(data, { stream: true });
      if (echo) Deno.stderr.writeSync(data);
    });
  }

  /** Stops following the console. */
  close(): void {
    this.#unsubscribe();
  }

  /**
   * Runs the hypervisor until `pattern` appears after the cursor (an error after `timeoutNs` of
   * virtual time); returns the text from the cursor to the end of the match, and moves there.
   */
  until(pattern: string | RegExp, timeoutNs = 30e9): string {
    let end = -1;
    const found = () => (end = matchEnd(this.transcript, pattern, this.cursor)) >= 0;
    if (!this.hv.runUntil(found, timeoutNs)) {
      throw new Error(
        `VM[${this.vm.id}] (${this.vm.name}) did not print ${String(pattern)} within ${
          timeoutNs / 1e9
        } s of virtual time (status ${this.vm.status}${
          this.vm.lastError ? `, ${this.vm.lastError}` : ""
        }); console so far:\n${this.transcript.slice(-3000)}`,
      );
    }
    const out = this.transcript.slice(this.cursor, end);
    this.cursor = end;
    return out;
  }

  /** Waits for the shell's first prompt after boot; returns the boot log up to it. */
  boot(timeoutNs = 200e9): string {
    const log = this.until(BANNER, timeoutNs);
    return log + this.until(PROMPT_RE, 20e9);
  }

  /** Types `text` (bytes go to the UART's receive FIFO). */
  type(text: string): void {
    this.vm.console.writeInput(text);
  }

  /** Types `command` and Enter; returns what it printed (see {@linkcode shellOutput}). */
  command(command: string, timeoutNs = 30e9): string {
    this.type(`${command}\n`);
    return shellOutput(command, this.until(PROMPT_RE, timeoutNs));
  }
}

/**
 * Commands whose answers must be the same wherever the same kernel and initramfs run (the
 * QEMU and bare-board comparison), each with what it must print.
 */
export const PORTABLE_COMMANDS: { command: string; expect: RegExp }[] = [
  { command: "uname -srm", expect: /^Linux 6\.\d+\.\d+\S*-riscv64 riscv64$/ },
  { command: "echo hello | md5sum", expect: /^b1946ac92492d2347c6235b4d2611184 {2}-$/ },
  {
    command: "dd if=/dev/zero bs=1024 count=64 2>/dev/null | md5sum",
    expect: /^fcd6bcb56c1689fcef28b57c22475bad {2}-$/,
  },
  { command: "seq 1 100 | grep 7 | wc -l", expect: /^19$/ },
  {
    command: "cat /proc/sys/kernel/ostype /proc/sys/kernel/hostname",
    expect: /^Linux\naxvisor$/,
  },
  {
    command: "ls -1 /dev/console /dev/null /dev/ttyS0",
    expect: /^\/dev\/console\n\/dev\/null\n\/dev\/ttyS0$/,
  },
  { command: "echo $((6 * 7)) $(id -u)", expect: /^42 0$/ },
];

/** The kernel command line of {@linkcode onQemu} and {@linkcode onBareBoard} (`mem=` keeps the bare board's 8 GiB out of the way). */
export const LINUX_APPEND = "console=ttyS0 earlycon mem=256M";

/** Drives a console (QEMU's stdio, the bare board's UART) through boot and commands. */
interface ShellDriver {
  until(pattern: string | RegExp): Promise<string>;
  type(text: string): Promise<void>;
}

/** Boots to the prompt, runs every portable command; returns the boot log and the answers. */
async function session(
  d: ShellDriver,
  commands: string[],
): Promise<{ boot: string; answers: string[] }> {
  const boot = await d.until(BANNER) + await d.until(PROMPT_RE);
  const answers: string[] = [];
  for (const command of commands) {
    await d.type(`${command}\n`);
    answers.push(shellOutput(command, await d.until(PROMPT_RE)));
  }
  await d.type("poweroff\n");
  await d.until("reboot: Power down");
  return { boot, answers };
}

/**
 * Boots the images on QEMU (`-M virt -smp 4`, OpenSBI fw_jump) with its serial console on stdio,
 * types each command at the shell and collects the answers, then powers off. `bootMs` is the
 * wall time from the start to the first prompt.
 */
export async function onQemu(
  commands: string[],
): Promise<{ boot: string; answers: string[]; bootMs: number }> {
  const started = performance.now();
  let bootMs = 0;
  const child = new Deno.Command("qemu-system-riscv64", {
    args: [
      ...["-M", "virt", "-smp", "4", "-m", "8G", "-nographic", "-monitor", "none"],
      ...["-serial", "stdio", "-bios", OPENSBI_FW_JUMP_ELF, "-kernel", LINUX_IMAGE],
      ...["-initrd", LINUX_INITRAMFS, "-append", LINUX_APPEND],
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.getReader();
  const writer = child.stdin.getWriter();
  const decoder = new TextDecoder();
  let text = "", cursor = 0;
  const killer = setTimeout(() => child.kill("SIGKILL"), 300_000);
  try {
    const result = await session({
      async until(pattern) {
        while (true) {
          const end = matchEnd(text, pattern, cursor);
          if (end >= 0) {
            const out = text.slice(cursor, end);
            cursor = end;
            return out;
          }
          const { value, done } = await reader.read();
          if (done) throw new Error(`QEMU ended before ${pattern}:\n${text.slice(-2000)}`);
          text += decoder.decode(value, { stream: true });
        }
      },
      async type(t) {
        bootMs ||= performance.now() - started;
        await writer.write(new TextEncoder().encode(t));
      },
    }, commands);
    return { ...result, bootMs };
  } finally {
    clearTimeout(killer);
    await writer.close().catch(() => {});
    await reader.cancel().catch(() => {});
    try {
      child.kill("SIGKILL");
    } catch { /* already ended */ }
    await child.status;
  }
}

/**
 * The same on our bare board (qemu-virt, 4 harts) with the same firmware, kernel, initramfs and
 * command line; `instret` counts the instructions retired (all harts).
 */
export async function onBareBoard(
  commands: string[],
): Promise<{ boot: string; answers: string[]; instret: number }> {
  const prepared = prepareRun({
    image: { name: OPENSBI_FW_JUMP_ELF, bytes: Deno.readFileSync(OPENSBI_FW_JUMP_ELF) },
    board: loadBoard("qemu-virt"),
    loads: [{
      file: { name: LINUX_IMAGE, bytes: Deno.readFileSync(LINUX_IMAGE) },
      address: 0x8020_0000,
    }],
    initrd: { name: LINUX_INITRAMFS, bytes: Deno.readFileSync(LINUX_INITRAMFS) },
    append: LINUX_APPEND,
  });
  const machine = prepared.target;
  const decoder = new TextDecoder();
  let text = "", cursor = 0, instret = 0;
  machine.onConsoleOutput!((bytes) => text += decoder.decode(bytes, { stream: true }));
  let pending = new Uint8Array(0);
  const result = await session({
    until(pattern) {
      // 60 s of guest time at most for one wait (the board runs 100 M instructions a second).
      for (let budget = 6_000_000_000; budget > 0;) {
        const end = matchEnd(text, pattern, cursor);
        if (end >= 0) {
          const out = text.slice(cursor, end);
          cursor = end;
          return Promise.resolve(out);
        }
        if (pending.length > 0) pending = pending.subarray(machine.sendConsoleInput!(pending));
        const stop = machine.run(200_000);
        instret += stop.instructions;
        budget -= Math.max(stop.instructions, 200_000);
        if (
          stop.reason !== "budget" && stop.reason !== "idle" && matchEnd(text, pattern, cursor) < 0
        ) {
          return Promise.reject(
            new Error(`the board stopped (${stop.reason}):\n${text.slice(-2000)}`),
          );
        }
      }
      return Promise.reject(new Error(`the board did not print ${pattern}:\n${text.slice(-2000)}`));
    },
    type(t) {
      const bytes = new TextEncoder().encode(t);
      const joined = new Uint8Array(pending.length + bytes.length);
      joined.set(pending);
      joined.set(bytes, pending.length);
      pending = joined;
      return Promise.resolve();
    },
  }, commands);
  return { ...result, instret };
}
