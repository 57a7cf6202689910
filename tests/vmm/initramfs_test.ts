/**
 * The pieces of `deno task images` that need no network: the busybox initramfs layout, reading
 * busybox's applet table from a binary, and finding Debian's archive in apt sources of both
 * styles.
 */
import assert from "node:assert/strict";
import { readCpio } from "../../lib/vmm/cpio.ts";
import {
  buildBusyboxInitramfs,
  busyboxApplets,
  BusyboxError,
  debianArchiveFromSources,
  INIT_SCRIPT,
  INITRAMFS_BANNER,
  INITTAB,
} from "../../lib/vmm/initramfs.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A fake binary: some bytes, then busybox's NUL-separated applet table, then more bytes. */
function fakeBusybox(names: string[]): Uint8Array {
  return new Uint8Array([
    0x7f,
    ...enc.encode("ELF junk\x01\x02"),
    ...enc.encode(names.map((n) => `${n}\0`).join("")),
    0,
    0xff,
    0x13,
  ]);
}

const APPLETS = [
  "[",
  "[[",
  "ash",
  "cat",
  "cttyhack",
  "init",
  "ls",
  "mount",
  "poweroff",
  "sh",
  "setsid",
];

Deno.test("initramfs: busybox's applet table is read from the binary", () => {
  assert.deepEqual(busyboxApplets(fakeBusybox(APPLETS)), APPLETS);
  assert.throws(() => busyboxApplets(enc.encode("no table here")), BusyboxError);
  assert.throws(() => busyboxApplets(fakeBusybox(["[", "[[", "ls"])), /looks wrong/);
});

Deno.test("initramfs: layout, console node, applet links, inittab and /init", () => {
  const busybox = fakeBusybox(APPLETS);
  const entries = readCpio(buildBusyboxInitramfs({ busybox, applets: [...APPLETS, "busybox"] }));
  const byName = new Map(entries.map((e) => [e.name, e]));
  for (const d of ["bin", "sbin", "dev", "etc", "proc", "sys", "tmp", "root"]) {
    assert.equal(byName.get(d)!.mode & 0o170000, 0o040000, `${d} is a directory`);
  }
  const console = byName.get("dev/console")!;
  assert.deepEqual([console.mode & 0o170000, console.rdevMajor, console.rdevMinor], [
    0o020000,
    5,
    1,
  ]);
  assert.deepEqual(byName.get("bin/busybox")!.data, busybox);
  assert.equal(byName.get("bin/busybox")!.mode & 0o777, 0o755);
  for (const a of APPLETS) {
    const link = byName.get(`bin/${a}`)!;
    assert.equal(link.mode & 0o170000, 0o120000, `bin/${a} is a symlink`);
    assert.equal(dec.decode(link.data), "busybox");
  }
  assert.equal(byName.has("bin/busybox") && byName.get("bin/busybox")!.mode & 0o170000, 0o100000);
  const init = byName.get("init")!;
  assert.equal(init.mode & 0o777, 0o755);
  assert.equal(dec.decode(init.data), INIT_SCRIPT);
  assert.match(INIT_SCRIPT, /^#!\/bin\/sh\n/);
  for (const fs of ["proc", "sysfs", "devtmpfs"]) {
    assert.match(INIT_SCRIPT, new RegExp(`^mount -t ${fs} `, "m"));
  }
  assert.ok(INIT_SCRIPT.includes(INITRAMFS_BANNER));
  assert.match(INIT_SCRIPT, /\nexec \/bin\/init\n$/);
  assert.equal(dec.decode(byName.get("etc/inittab")!.data), INITTAB);
  assert.match(INITTAB, /^::respawn:-\/bin\/cttyhack \/bin\/sh$/m);
});

Deno.test("initramfs: Debian's archive is found in one-line and deb822 apt sources", () => {
  const deb822 = `Types: deb
# a snapshot comment
URIs: http://archive.example.net/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://archive.example.net/debian-security
Suites: bookworm-security
Components: main
`;
  assert.equal(debianArchiveFromSources([deb822]), "http://archive.example.net/debian");
  assert.equal(
    debianArchiveFromSources([
      "# comment\ndeb https://packages.cloud.google.com/apt cloud-sdk main\n",
      "deb [arch=amd64 signed-by=/k.gpg] http://mirror.example.org/debian/ trixie main\n",
    ]),
    "http://mirror.example.org/debian",
  );
  assert.equal(
    debianArchiveFromSources(["Types: deb\nURIs: http://x.org/debian\nEnabled: no\n"]),
    undefined,
  );
  assert.equal(
    debianArchiveFromSources(["deb http://x.org/debian-security trixie main"]),
    undefined,
  );
  assert.equal(debianArchiveFromSources([]), undefined);
});
