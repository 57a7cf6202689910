/**
 * `deno task images`: fetches the guest images the Linux example VMs boot, from Debian's own
 * archive (suite trixie, architecture riscv64), and builds the initramfs.
 *
 * - `linux-image-riscv64` (the metapackage; the versioned `linux-image-*-riscv64` it depends on
 *   is resolved and downloaded): its kernel Image becomes `examples/images/linux/Image`.
 * - `busybox-static`: its busybox becomes the shell of `examples/images/linux/initramfs.cpio.gz`,
 *   built here by lib/vmm/initramfs.ts (a cpio "newc" writer in TypeScript, then gzip).
 *
 * apt runs with a private configuration (its own sources list, package lists and download cache
 * under `$XDG_CACHE_HOME/axvisor-ts`, default `~/.cache/axvisor-ts`), so the host's apt state is
 * never touched and reruns download nothing. The archive address is read from the host's apt
 * sources (/etc/apt/sources.list, /etc/apt/sources.list.d/); none is written in the project.
 * A second run finds the images and does nothing (`--force` rebuilds them).
 *
 * @module
 */

import { Command } from "commander";
import {
  buildBusyboxInitramfs,
  busyboxApplets,
  debianArchiveFromSources,
} from "../lib/vmm/initramfs.ts";
import { gzip } from "../lib/vmm/cpio.ts";

const SUITE = "trixie";
const ARCH = "riscv64";
const KERNEL_META = "linux-image-riscv64";
const BUSYBOX = "busybox-static";
const KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg";
const OUT_DIR = new URL("../examples/images/linux/", import.meta.url).pathname;

/** A failure with a message for the user (no stack trace). */
class ImagesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ImagesError";
  }
}

const say = (text: string) => console.log(text);

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function cacheRoot(): string {
  const xdg = Deno.env.get("XDG_CACHE_HOME");
  const home = Deno.env.get("HOME");
  if (xdg) return `${xdg}/axvisor-ts`;
  if (home) return `${home}/.cache/axvisor-ts`;
  throw new ImagesError("neither XDG_CACHE_HOME nor HOME is set: no place for the apt cache");
}

/** Runs a program; returns its stdout, or throws with its stderr. */
async function run(program: string, args: string[], inherit = false): Promise<string> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(program, {
      args,
      stdout: inherit ? "inherit" : "piped",
      stderr: "piped",
      env: { LC_ALL: "C" },
    }).output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new ImagesError(
        `${program} is not installed: this task needs Debian's apt and dpkg (apt-get, apt-cache, ` +
          `dpkg-deb) to fetch packages`,
      );
    }
    throw e;
  }
  const stderr = new TextDecoder().decode(out.stderr);
  if (!out.success) {
    const hint = /Could not resolve|Temporary failure|Failed to fetch|Unable to connect/i
        .test(stderr)
      ? "\n(is the network reachable? apt could not reach the archive)"
      : "";
    throw new ImagesError(
      `${program} ${args.slice(-2).join(" ")} failed:\n${stderr.trim()}${hint}`,
    );
  }
  return inherit ? "" : new TextDecoder().decode(out.stdout);
}

function hostSources(): string[] {
  const texts: string[] = [];
  const read = (p: string) => {
    try {
      texts.push(Deno.readTextFileSync(p));
    } catch { /* absent */ }
  };
  read("/etc/apt/sources.list");
  try {
    for (
      const e of [...Deno.readDirSync("/etc/apt/sources.list.d")].sort((a, b) =>
        a.name < b.name ? -1 : 1
      )
    ) {
      if (e.name.endsWith(".list") || e.name.endsWith(".sources")) {
        read(`/etc/apt/sources.list.d/${e.name}`);
      }
    }
  } catch { /* absent */ }
  return texts;
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

async function main(args: string[]): Promise<void> {
  const program = new Command("images")
    .description(
      `Fetch Debian's riscv64 kernel (${KERNEL_META}) and ${BUSYBOX} (suite ${SUITE}) and build ` +
        `examples/images/linux/{Image,initramfs.cpio.gz} for examples/configs/linux*.toml.`,
    )
    .option("--force", "rebuild even when the images are already there", false)
    .configureOutput({ getOutHasColors: () => false, getErrHasColors: () => false })
    .exitOverride();
  try {
    program.parse(args, { from: "user" });
  } catch (e) {
    const code = (e as { code?: string }).code ?? "";
    Deno.exit(code === "commander.helpDisplayed" ? 0 : 2);
  }
  const { force } = program.opts<{ force: boolean }>();
  const image = `${OUT_DIR}Image`, initramfs = `${OUT_DIR}initramfs.cpio.gz`;
  if (!force && exists(image) && exists(initramfs)) {
    say(`images: ${image} and ${initramfs} are there already (--force rebuilds them).`);
    return;
  }

  say(
    `images: fetching Debian's riscv64 Linux kernel and busybox (suite ${SUITE}) with a private ` +
      `apt configuration,\nthen building the initramfs for examples/configs/linux*.toml.`,
  );
  const archive = debianArchiveFromSources(hostSources());
  if (!archive) {
    throw new ImagesError(
      "no Debian archive in this machine's apt sources (/etc/apt/sources.list, " +
        "/etc/apt/sources.list.d/): add a 'deb <mirror>/debian ...' source, or run this on Debian",
    );
  }
  if (!exists(KEYRING)) {
    throw new ImagesError(
      `${KEYRING} is missing: install the Debian package debian-archive-keyring`,
    );
  }
  const cache = cacheRoot();
  const apt = `${cache}/apt`;
  for (const d of ["etc", "state/lists/partial", "cache/archives/partial", "debs"]) {
    Deno.mkdirSync(`${apt}/${d}`, { recursive: true });
  }
  Deno.writeTextFileSync(
    `${apt}/etc/sources.list`,
    `deb [arch=${ARCH} signed-by=${KEYRING}] ${archive} ${SUITE} main\n`,
  );
  const opts = [
    "-o",
    `APT::Architecture=${ARCH}`,
    "-o",
    `APT::Architectures::=${ARCH}`,
    "-o",
    `Dir::Etc::SourceList=${apt}/etc/sources.list`,
    "-o",
    "Dir::Etc::SourceParts=/dev/null",
    "-o",
    "Dir::Etc::Preferences=/dev/null",
    "-o",
    "Dir::Etc::PreferencesParts=/dev/null",
    "-o",
    `Dir::State=${apt}/state`,
    "-o",
    "Dir::State::status=/dev/null",
    "-o",
    `Dir::Cache=${apt}/cache`,
    "-o",
    "Debug::NoLocking=1",
    "-o",
    "APT::Sandbox::User=root",
  ];
  say(`images: archive ${archive} (from the host's apt sources); apt cache ${apt}`);
  say(`images: apt-get update (${SUITE}/main ${ARCH} package lists, about 10 MB)...`);
  await run("apt-get", [...opts, "-q", "update"]);

  const depends = await run("apt-cache", [...opts, "depends", KERNEL_META]);
  const kernelPkg = /Depends:\s*(linux-image-\S+-riscv64)\b/.exec(depends)?.[1];
  if (!kernelPkg) {
    throw new ImagesError(`cannot find the versioned kernel package ${KERNEL_META} depends on`);
  }
  const packages = [kernelPkg, BUSYBOX];
  let total = 0;
  const debs: string[] = [];
  for (const p of packages) {
    const show = await run("apt-cache", [...opts, "show", "--no-all-versions", p]);
    const size = Number(/^Size:\s*(\d+)/m.exec(show)?.[1] ?? 0);
    const version = /^Version:\s*(\S+)/m.exec(show)?.[1] ?? "?";
    // apt-get download names the file PACKAGE_VERSION_ARCH.deb, the epoch's ':' as %3a.
    const deb = `${apt}/debs/${p}_${version.replace(":", "%3a")}_${ARCH}.deb`;
    debs.push(deb);
    const cached = exists(deb) && Deno.statSync(deb).size === size;
    say(`images:   ${p} ${version}: ${mb(size)}${cached ? " (cached)" : ""}`);
    if (!cached) total += size;
  }
  if (total > 0) {
    say(`images: downloading ${mb(total)}...`);
    const child = new Deno.Command("apt-get", {
      args: [...opts, "download", ...packages],
      cwd: `${apt}/debs`,
      stdout: "inherit",
      stderr: "piped",
      env: { LC_ALL: "C" },
    });
    const out = await child.output();
    if (!out.success) {
      throw new ImagesError(
        `apt-get download failed:\n${new TextDecoder().decode(out.stderr).trim()}\n` +
          "(is the network reachable?)",
      );
    }
  }
  for (const deb of debs) {
    if (!exists(deb)) throw new ImagesError(`${deb} is missing after apt-get download`);
  }

  const unpacked = Deno.makeTempDirSync({ prefix: "axvisor-images-" });
  try {
    say("images: unpacking with dpkg-deb -x...");
    for (const deb of debs) await run("dpkg-deb", ["-x", deb, unpacked]);
    const kernel = [...Deno.readDirSync(`${unpacked}/boot`)].find((e) =>
      e.name.startsWith("vmlinu")
    );
    if (!kernel) throw new ImagesError(`${kernelPkg} has no /boot/vmlinu* file`);
    const busybox = Deno.readFileSync(`${unpacked}/usr/bin/busybox`);
    const applets = busyboxApplets(busybox);
    say(`images: building the initramfs (busybox, ${applets.length} applets, /init)...`);
    const cpio = buildBusyboxInitramfs({ busybox, applets });
    const packed = await gzip(cpio);
    Deno.mkdirSync(OUT_DIR, { recursive: true });
    Deno.copyFileSync(`${unpacked}/boot/${kernel.name}`, `${image}.tmp`);
    Deno.renameSync(`${image}.tmp`, image);
    Deno.writeFileSync(`${initramfs}.tmp`, packed);
    Deno.renameSync(`${initramfs}.tmp`, initramfs);
    Deno.writeTextFileSync(
      `${OUT_DIR}SOURCES.txt`,
      `Built by deno task images from Debian ${SUITE} (${ARCH}):\n` +
        packages.map((p, i) => `  ${p}: ${debs[i].split("/").pop()}\n`).join(""),
    );
    say(`images: ${image} (${mb(Deno.statSync(image).size)}, ${kernel.name})`);
    say(`images: ${initramfs} (${mb(packed.length)})`);
    say("images: done. Next: deno task start --vm examples/configs/linux.toml --autostart");
  } finally {
    Deno.removeSync(unpacked, { recursive: true });
  }
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (e) {
    console.error(`images: ${e instanceof ImagesError ? e.message : (e as Error).stack ?? e}`);
    Deno.exit(1);
  }
}
