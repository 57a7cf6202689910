import assert from "node:assert/strict";
import { HostFileSystem } from "../../lib/protocol/host_filesystem.ts";
import { FsError } from "../../lib/vmm/filesystem.ts";

/** A temp tree: <tmp>/root (the sandbox) and <tmp>/outside/secret.txt, plus escaping links. */
function setup(): { fs: HostFileSystem; tmp: string; root: string; cleanup: () => void } {
  const tmp = Deno.makeTempDirSync({ prefix: "axvisor-hostfs-" });
  const root = `${tmp}/root`;
  Deno.mkdirSync(`${root}/guest/vm_default`, { recursive: true });
  Deno.mkdirSync(`${tmp}/outside`);
  Deno.writeTextFileSync(`${tmp}/outside/secret.txt`, "SECRET");
  Deno.writeTextFileSync(`${root}/guest/a.toml`, "A");
  Deno.symlinkSync(`${tmp}/outside`, `${root}/out_dir`); // absolute link out
  Deno.symlinkSync("../outside/secret.txt", `${root}/out_file`); // relative link out
  Deno.symlinkSync("guest/a.toml", `${root}/in_file`); // link that stays inside
  Deno.symlinkSync("guest", `${root}/in_dir`);
  Deno.symlinkSync(`${tmp}/outside/new.txt`, `${root}/dangling_out`); // dangling, points out
  Deno.symlinkSync("out_dir", `${root}/chain`); // link to a link that leaves
  return {
    fs: new HostFileSystem(root),
    tmp,
    root,
    cleanup: () => Deno.removeSync(tmp, { recursive: true }),
  };
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof FsError, `expected FsError, got ${e}`);
    return e.code;
  }
  return "no error";
}

Deno.test("normalize clamps .. at the root and drops . and empty segments", () => {
  assert.equal(HostFileSystem.normalize("/../../etc/passwd"), "/etc/passwd");
  assert.equal(HostFileSystem.normalize("guest//./a.toml"), "/guest/a.toml");
  assert.equal(HostFileSystem.normalize("/guest/../.."), "/");
  assert.equal(HostFileSystem.normalize(""), "/");
  assert.throws(() => HostFileSystem.normalize("/a\0b"), /NUL/);
});

Deno.test("ordinary file operations inside the root", () => {
  const { fs, root, cleanup } = setup();
  try {
    assert.equal(fs.readTextFile("/guest/a.toml"), "A");
    assert.equal(fs.readTextFile("guest/../guest/a.toml"), "A");
    fs.writeFile("/guest/b.txt", "hello");
    fs.writeFile("/guest/b.txt", " world", { append: true });
    assert.equal(Deno.readTextFileSync(`${root}/guest/b.txt`), "hello world");
    assert.deepEqual(fs.stat("/guest/b.txt")?.kind, "file");
    assert.equal(fs.stat("/guest/b.txt")?.size, 11);
    assert.equal(fs.stat("/")?.kind, "dir");
    assert.equal(fs.stat("/nope"), undefined);
    fs.mkdir("/x/y/z", { recursive: true });
    fs.mkdir("/x/y/z", { recursive: true });
    assert.equal(code(() => fs.mkdir("/x")), "EEXIST");
    assert.equal(code(() => fs.mkdir("/q/r")), "ENOENT");
    fs.copy("/guest", "/x/copy", { recursive: true });
    assert.equal(fs.readTextFile("/x/copy/a.toml"), "A");
    assert.deepEqual(fs.readDir("/x/copy").map((e) => e.name), ["a.toml", "b.txt", "vm_default"]);
    fs.rename("/x/copy/a.toml", "/x/renamed.toml");
    assert.equal(fs.readTextFile("/x/renamed.toml"), "A");
    assert.equal(code(() => fs.remove("/x")), "ENOTEMPTY");
    fs.remove("/x", { recursive: true });
    assert.equal(fs.stat("/x"), undefined);
    assert.equal(code(() => fs.readFile("/guest")), "EISDIR");
    assert.equal(code(() => fs.readDir("/guest/a.toml")), "ENOTDIR");
    assert.equal(code(() => fs.readFile("/missing")), "ENOENT");
    assert.equal(code(() => fs.remove("/missing")), "ENOENT");
    assert.equal(code(() => fs.copy("/guest", "/g2")), "EISDIR");
    assert.equal(code(() => fs.copy("/guest", "/guest/inner", { recursive: true })), "EINVAL");
    assert.equal(code(() => fs.rename("/guest", "/guest/inner")), "EINVAL");
    assert.equal(code(() => fs.remove("/")), "EACCES");
    assert.equal(code(() => fs.remove("/../..", { recursive: true })), "EACCES");
  } finally {
    cleanup();
  }
});

Deno.test("dot-dot never escapes: it resolves inside the root", () => {
  const { fs, tmp, cleanup } = setup();
  try {
    assert.equal(code(() => fs.readFile("/../outside/secret.txt")), "ENOENT");
    assert.equal(code(() => fs.readFile("../../../../../../etc/passwd")), "ENOENT");
    fs.writeFile("/../../escape.txt", "x");
    assert.equal(fs.readTextFile("/escape.txt"), "x");
    assert.throws(() => Deno.statSync(`${tmp}/escape.txt`));
  } finally {
    cleanup();
  }
});

Deno.test("symlinks that leave the root are refused for every operation", () => {
  const { fs, tmp, cleanup } = setup();
  try {
    const attempts: [string, () => unknown][] = [
      ["read link to outside file", () => fs.readFile("/out_file")],
      ["read through dir link", () => fs.readFile("/out_dir/secret.txt")],
      ["read through a chain of links", () => fs.readFile("/chain/secret.txt")],
      ["list dir link", () => fs.readDir("/out_dir")],
      ["write through dir link", () => fs.writeFile("/out_dir/pwn.txt", "x")],
      ["overwrite through file link", () => fs.writeFile("/out_file", "x")],
      ["write through dangling link", () => fs.writeFile("/dangling_out", "x")],
      ["mkdir through dir link", () => fs.mkdir("/out_dir/newdir")],
      ["mkdir -p through dir link", () => fs.mkdir("/out_dir/a/b", { recursive: true })],
      ["remove through dir link", () => fs.remove("/out_dir/secret.txt")],
      ["rename out through link", () => fs.rename("/guest/a.toml", "/out_dir/stolen")],
      ["rename in through link", () => fs.rename("/out_dir/secret.txt", "/guest/got")],
      ["copy out through link", () => fs.copy("/guest/a.toml", "/out_dir/copied")],
      ["copy in through link", () => fs.copy("/out_file", "/guest/copied")],
      ["copy tree through link", () => fs.copy("/out_dir", "/guest/t", { recursive: true })],
      ["mkdir -p below a dangling link", () => fs.mkdir("/dangling_out/x", { recursive: true })],
    ];
    for (const [what, fn] of attempts) assert.equal(code(fn), "EACCES", what);
    assert.equal(fs.stat("/out_file"), undefined);
    assert.equal(fs.stat("/out_dir/secret.txt"), undefined);
    // Nothing outside was touched.
    assert.deepEqual([...Deno.readDirSync(`${tmp}/outside`)].map((e) => e.name), ["secret.txt"]);
    assert.equal(Deno.readTextFileSync(`${tmp}/outside/secret.txt`), "SECRET");
    // Escaping links are left out of listings; links that stay inside are followed.
    const names = fs.readDir("/").map((e) => e.name);
    assert.deepEqual(names, ["guest", "in_dir", "in_file"]);
    assert.equal(fs.readTextFile("/in_file"), "A");
    assert.equal(fs.readTextFile("/in_dir/a.toml"), "A");
    assert.equal(fs.stat("/in_dir")?.kind, "dir");
    // Removing an escaping link removes the link, never its target.
    fs.remove("/out_dir");
    fs.remove("/out_file");
    assert.equal(Deno.readTextFileSync(`${tmp}/outside/secret.txt`), "SECRET");
  } finally {
    cleanup();
  }
});

Deno.test("a root given through a symlink works, and a missing root is a clear error", () => {
  const { tmp, root, cleanup } = setup();
  try {
    Deno.symlinkSync(root, `${tmp}/rootlink`);
    const fs = new HostFileSystem(`${tmp}/rootlink`);
    assert.equal(fs.readTextFile("/guest/a.toml"), "A");
    assert.equal(code(() => fs.readFile("/out_file")), "EACCES");
    assert.throws(() => new HostFileSystem(`${tmp}/nope`), /filesystem root .*nope does not exist/);
    assert.throws(() => new HostFileSystem(`${root}/guest/a.toml`), /is not a directory/);
  } finally {
    cleanup();
  }
});

Deno.test("errors carry the path as the caller wrote it", () => {
  const { fs, cleanup } = setup();
  try {
    try {
      fs.readFile("guest/../nope.toml");
      assert.fail("expected an error");
    } catch (e) {
      assert.ok(e instanceof FsError);
      assert.equal(e.path, "guest/../nope.toml");
      assert.match(e.message, /No such file or directory: guest\/\.\.\/nope\.toml/);
    }
  } finally {
    cleanup();
  }
});
