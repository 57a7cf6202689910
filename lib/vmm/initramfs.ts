/**
 * The busybox initramfs that `deno task images` builds for the Linux example VMs: busybox with
 * one symlink per applet, the usual mount points, `/dev/console`, and an `/init` script that
 * mounts proc, sysfs and devtmpfs, prints a banner and hands PID 1 to busybox's init, which runs
 * `cttyhack sh` on the console in its own session (setsid: a session leader with a controlling
 * terminal, so job control and Ctrl-C work) and serves `poweroff`, `reboot` and `halt` (they
 * signal PID 1) as on a full system.
 *
 * Also here: reading the applet list out of a busybox binary (it cannot be run on the host) and
 * finding Debian's archive in the host's own apt sources (so no archive address is written into
 * the project).
 *
 * @module
 */

import { CpioWriter } from "./cpio.ts";

/** The banner `/init` prints before the shell starts (tests wait for it). */
export const INITRAMFS_BANNER = "axvisor.ts: Linux initramfs ready";

/**
 * The `/init` script: mounts, hostname, banner, then `exec`s busybox's init (still PID 1),
 * which runs the shell from {@linkcode INITTAB} and does what `poweroff`, `reboot` and `halt`
 * ask of PID 1.
 */
export const INIT_SCRIPT = `#!/bin/sh
# /init of the axvisor.ts Linux initramfs (built by \`deno task images\`).
export PATH=/sbin:/bin:/usr/sbin:/usr/bin HOME=/root TERM=vt100
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
hostname axvisor
echo
echo "${INITRAMFS_BANNER}: $(uname -sr), $(grep -c ^processor /proc/cpuinfo) CPU(s)"
echo "poweroff stops the VM, reboot restarts it."
exec /bin/init
`;

/**
 * busybox init's table: the shell on the console, respawned when it exits. busybox init starts
 * it in a new session (setsid) with default signal handling, and \`cttyhack\` reopens the real
 * console (ttyS0) as its controlling terminal, so job control and Ctrl-C work.
 */
export const INITTAB = `# /etc/inittab of the axvisor.ts Linux initramfs (busybox init).
::respawn:-/bin/cttyhack /bin/sh
::shutdown:/bin/sync
`;

/** What {@linkcode buildBusyboxInitramfs} needs. */
export interface BusyboxInitramfsInput {
  /** The static busybox binary (e.g. Debian's busybox-static, for the guest's architecture). */
  busybox: Uint8Array;
  /** Applet names to link (see {@linkcode busyboxApplets}); `busybox` itself is skipped. */
  applets: string[];
  /** The init script (default {@linkcode INIT_SCRIPT}). */
  init?: string;
}

/** Directories of the initramfs, parents first. */
const DIRECTORIES = [
  "bin",
  "sbin",
  "usr",
  "usr/bin",
  "usr/sbin",
  "dev",
  "etc",
  "proc",
  "sys",
  "tmp",
  "root",
  "run",
  "mnt",
  "var",
];

/**
 * Builds the (uncompressed) cpio archive: directories, `/dev/console` (5:1, so the kernel can
 * give `/init` its console before devtmpfs is mounted), `/bin/busybox`, a `/bin/NAME` symlink
 * per applet, `/etc/passwd`, `/etc/group`, `/etc/inittab` and `/init`.
 */
export function buildBusyboxInitramfs(input: BusyboxInitramfsInput): Uint8Array {
  const enc = new TextEncoder();
  const cpio = new CpioWriter();
  for (const d of DIRECTORIES) cpio.directory(d, d === "tmp" ? 0o1777 : 0o755);
  cpio.charDevice("dev/console", 5, 1, 0o600);
  cpio.file("bin/busybox", input.busybox, 0o755);
  for (const name of [...new Set(input.applets)].sort()) {
    if (name === "busybox" || name === "." || name === ".." || !/^[\x21-\x7e]+$/.test(name)) {
      continue;
    }
    if (name.includes("/")) continue;
    cpio.symlink(`bin/${name}`, "busybox");
  }
  cpio.file("etc/passwd", enc.encode("root:x:0:0:root:/root:/bin/sh\n"));
  cpio.file("etc/group", enc.encode("root:x:0:\n"));
  cpio.file("etc/hostname", enc.encode("axvisor\n"));
  cpio.file("etc/inittab", enc.encode(INITTAB));
  cpio.file("init", enc.encode(input.init ?? INIT_SCRIPT), 0o755);
  return cpio.finish();
}

/** Raised when a binary does not look like busybox. */
export class BusyboxError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "BusyboxError";
  }
}

/**
 * Reads busybox's applet names from its binary: busybox keeps them as one run of NUL-terminated
 * strings, sorted, starting `[`, `[[`. Works for a binary of any architecture.
 *
 * @throws {BusyboxError} when no applet table is found
 */
export function busyboxApplets(binary: Uint8Array): string[] {
  const start = indexOf(binary, [0x5b, 0, 0x5b, 0x5b, 0]); // "[\0[[\0"
  if (start < 0) throw new BusyboxError("busybox: no applet table found in the binary");
  const names: string[] = [];
  let at = start;
  while (at < binary.length) {
    let end = at;
    while (end < binary.length && binary[end] !== 0) end++;
    if (end === at) break;
    const name = new TextDecoder().decode(binary.subarray(at, end));
    if (!/^[\x21-\x7e]+$/.test(name)) break;
    names.push(name);
    at = end + 1;
  }
  if (names.length < 10 || !names.includes("sh")) {
    throw new BusyboxError(`busybox: the applet table looks wrong (${names.length} names)`);
  }
  return names;
}

function indexOf(haystack: Uint8Array, needle: number[]): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let k = 0; k < needle.length; k++) if (haystack[i + k] !== needle[k]) continue outer;
    return i;
  }
  return -1;
}

/**
 * Finds the Debian archive among the host's apt sources: `sources` are the texts of
 * /etc/apt/sources.list, `*.list` (one-line style) and `*.sources` (deb822) files. Returns the
 * first `deb` URI whose path ends in `/debian` (not the security or ports archives), without a
 * trailing slash, or `undefined` when there is none.
 */
export function debianArchiveFromSources(sources: string[]): string | undefined {
  const uris: string[] = [];
  for (const text of sources) {
    // One-line style: deb [options] URI suite components...
    for (const raw of text.split("\n")) {
      const line = raw.replace(/#.*/, "").trim();
      const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+\S+/.exec(line);
      if (m) uris.push(m[1]);
    }
    // deb822 style: stanzas separated by blank lines.
    for (const stanza of text.split(/\n\s*\n/)) {
      const fields = new Map<string, string>();
      for (const raw of stanza.split("\n")) {
        if (raw.startsWith("#")) continue;
        const m = /^([A-Za-z-]+):\s*(.*)$/.exec(raw);
        if (m) fields.set(m[1].toLowerCase(), m[2].trim());
      }
      if (!(fields.get("types") ?? "").split(/\s+/).includes("deb")) continue;
      if ((fields.get("enabled") ?? "yes").toLowerCase() === "no") continue;
      uris.push(...(fields.get("uris") ?? "").split(/\s+/).filter(Boolean));
    }
  }
  return uris.map((u) => u.replace(/\/+$/, "")).find((u) =>
    /^(https?|file):\/\/\S*\/debian$/.test(u)
  );
}
