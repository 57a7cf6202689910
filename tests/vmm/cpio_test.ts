/**
 * The "newc" cpio writer: byte layout (checked against the format's field order, alignment and
 * trailer, and against GNU cpio's reader when it is installed), round trip through the reader,
 * refusals, and the gzip helpers.
 */
import assert from "node:assert/strict";
import { CpioError, CpioWriter, gunzip, gzip, readCpio } from "../../lib/vmm/cpio.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

Deno.test("cpio: a file entry is laid out as newc says (header, name, padding, data)", () => {
  const archive = new CpioWriter({ mtime: 0x1234 }).file("a", enc.encode("xyz"), 0o755).finish();
  const header = dec.decode(archive.subarray(0, 110));
  assert.equal(header.slice(0, 6), "070701");
  const field = (i: number) => header.slice(6 + 8 * i, 14 + 8 * i);
  assert.equal(field(0), "00000001", "ino");
  assert.equal(field(1), "000081ed", "mode: regular file 0755");
  assert.equal(field(4), "00000001", "nlink");
  assert.equal(field(5), "00001234", "mtime");
  assert.equal(field(6), "00000003", "filesize");
  assert.equal(field(11), "00000002", "namesize includes the NUL");
  // 110 + "a\0" = 112, already 4-aligned; the data follows, padded to 116.
  assert.equal(dec.decode(archive.subarray(110, 112)), "a\0");
  assert.equal(dec.decode(archive.subarray(112, 115)), "xyz");
  assert.equal(archive[115], 0);
  assert.equal(dec.decode(archive.subarray(116, 122)), "070701", "next header 4-aligned");
  assert.match(dec.decode(archive.subarray(116, 116 + 110 + 11)), /TRAILER!!!\0$/);
  assert.equal(archive.length % 512, 0, "padded to 512 bytes");
});

Deno.test("cpio: directories, files, symlinks and devices round-trip through the reader", () => {
  const w = new CpioWriter();
  w.directory("bin").directory("dev", 0o700);
  w.file("/init", enc.encode("#!/bin/busybox sh\n"), 0o755);
  w.file("bin/busybox", new Uint8Array([1, 2, 3, 4, 5]), 0o755);
  w.symlink("bin/sh", "busybox");
  w.charDevice("dev/console", 5, 1);
  assert.ok(w.size > 0);
  const entries = readCpio(w.finish());
  assert.deepEqual(entries.map((e) => [e.name, e.mode.toString(8)]), [
    ["bin", "40755"],
    ["dev", "40700"],
    ["init", "100755"],
    ["bin/busybox", "100755"],
    ["bin/sh", "120777"],
    ["dev/console", "20600"],
  ]);
  assert.equal(dec.decode(entries[2].data), "#!/bin/busybox sh\n");
  assert.deepEqual([...entries[3].data], [1, 2, 3, 4, 5]);
  assert.equal(dec.decode(entries[4].data), "busybox");
  assert.deepEqual([entries[5].rdevMajor, entries[5].rdevMinor], [5, 1]);
});

Deno.test("cpio: the same entries give the same bytes", () => {
  const make = () =>
    new CpioWriter().directory("x").file("x/y", enc.encode("hello"), 0o600).symlink("z", "x/y")
      .finish();
  assert.deepEqual(make(), make());
});

Deno.test("cpio: bad entries are refused with the name", () => {
  const w = new CpioWriter().file("a", new Uint8Array(1));
  assert.throws(() => w.file("a", new Uint8Array(1)), /'a' is added twice/);
  assert.throws(() => w.file("", new Uint8Array(1)), CpioError);
  assert.throws(() => w.file("../etc/passwd", new Uint8Array(1)), /not a valid entry name/);
  assert.throws(() => w.symlink("l", ""), /empty target/);
  w.finish();
  assert.throws(() => w.directory("late"), /archive finished/);
  assert.throws(() => w.finish(), /already finished/);
  assert.throws(() => readCpio(new Uint8Array(10)), /truncated header/);
  assert.throws(() => readCpio(new Uint8Array(200)), /bad magic/);
});

Deno.test("cpio: GNU cpio lists and extracts what the writer made (when installed)", async (t) => {
  let has = false;
  try {
    has = (await new Deno.Command("cpio", { args: ["--version"], stdout: "null" }).output())
      .success;
  } catch { /* not installed */ }
  if (!has) {
    await t.step({ name: "skipped: cpio is not installed", ignore: true, fn: () => {} });
    return;
  }
  const archive = new CpioWriter().directory("d").file("d/f", enc.encode("content\n"))
    .symlink("d/l", "f").finish();
  const child = new Deno.Command("cpio", {
    args: ["-t", "-v", "--quiet"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(archive);
  await writer.close();
  const out = await child.output();
  assert.ok(out.success, dec.decode(out.stderr));
  const listing = dec.decode(out.stdout);
  assert.match(listing, /^drwxr-xr-x .* d$/m);
  assert.match(listing, /^-rw-r--r-- .* 8 .* d\/f$/m);
  assert.match(listing, /^lrwxrwxrwx .* d\/l -> f$/m);
});

Deno.test("cpio: gzip and gunzip round-trip; the output is a gzip stream", async () => {
  const data = enc.encode("initramfs ".repeat(1000));
  const packed = await gzip(data);
  assert.deepEqual([packed[0], packed[1]], [0x1f, 0x8b]);
  assert.ok(packed.length < data.length / 10);
  assert.deepEqual(await gunzip(packed), data);
});
