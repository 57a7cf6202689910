import assert from "node:assert/strict";
import { FsError } from "../../lib/vmm/filesystem.ts";
import { MemoryFileSystem, normalizePath } from "../../lib/vmm/memory_filesystem.ts";

function fsCode(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof FsError, `expected FsError, got ${error}`);
    return error.code;
  }
  assert.fail("expected an FsError");
}

Deno.test("normalizePath folds dots, slashes and never climbs above the root", () => {
  const cases: [string, string][] = [
    ["/", "/"],
    ["a", "/a"],
    ["/a/b/", "/a/b"],
    ["a//b/./c", "/a/b/c"],
    ["/a/../b", "/b"],
    ["../../etc/passwd", "/etc/passwd"],
    ["/..", "/"],
    [".", "/"],
  ];
  for (const [input, expected] of cases) assert.equal(normalizePath(input), expected, input);
  assert.equal(fsCode(() => normalizePath("")), "EINVAL");
  assert.equal(fsCode(() => normalizePath("a\0b")), "EINVAL");
});

Deno.test("constructor seeds files and parent directories", () => {
  const fs = new MemoryFileSystem({
    "/guest/vm_default/a.toml": "id = 1\n",
    "guest/images/k.bin": new Uint8Array([1, 2, 3]),
    "/empty/": "",
  });
  assert.equal(fs.readTextFile("/guest/vm_default/a.toml"), "id = 1\n");
  assert.deepEqual([...fs.readFile("/guest/images/k.bin")], [1, 2, 3]);
  assert.deepEqual(fs.readDir("/").map((e) => [e.name, e.kind]), [["empty", "dir"], [
    "guest",
    "dir",
  ]]);
  assert.deepEqual(fs.readDir("/empty"), []);
  assert.deepEqual(fs.listFiles(), ["/guest/images/k.bin", "/guest/vm_default/a.toml"]);
});

Deno.test("read/write/append/stat", () => {
  let t = 100;
  const fs = new MemoryFileSystem({}, { now: () => t++ });
  fs.writeFile("/x.txt", "hello");
  fs.writeFile("/x.txt", " world", { append: true });
  assert.equal(fs.readTextFile("x.txt"), "hello world");
  fs.writeFile("/y.txt", "new", { append: true });
  assert.equal(fs.readTextFile("/y.txt"), "new");
  const info = fs.stat("/x.txt");
  assert.equal(info?.kind, "file");
  assert.equal(info?.size, 11);
  assert.equal(info?.name, "x.txt");
  assert.ok((info?.mtimeMs ?? 0) >= 100);
  assert.equal(fs.stat("/nope"), undefined);
  assert.equal(fs.stat("/x.txt/inner"), undefined);
  // The root was created at 100 and last changed when y.txt appeared (the fourth tick).
  assert.deepEqual(fs.stat("/"), { name: "/", kind: "dir", size: 0, mtimeMs: 103 });
  // Returned bytes are copies: mutating them does not change the file.
  const bytes = fs.readFile("/x.txt");
  bytes[0] = 0;
  assert.equal(fs.readTextFile("/x.txt"), "hello world");
});

Deno.test("error codes", () => {
  const fs = new MemoryFileSystem({ "/d/f": "x", "/d/sub/g": "y", "/file": "z" });
  assert.equal(fsCode(() => fs.readFile("/missing")), "ENOENT");
  assert.equal(fsCode(() => fs.readFile("/d")), "EISDIR");
  assert.equal(fsCode(() => fs.readFile("/file/x")), "ENOTDIR");
  assert.equal(fsCode(() => fs.readDir("/file")), "ENOTDIR");
  assert.equal(fsCode(() => fs.writeFile("/d", "x")), "EISDIR");
  assert.equal(fsCode(() => fs.writeFile("/no/such/file", "x")), "ENOENT");
  assert.equal(fsCode(() => fs.writeFile("/file/child", "x")), "ENOTDIR");
  assert.equal(fsCode(() => fs.mkdir("/d")), "EEXIST");
  assert.equal(fsCode(() => fs.mkdir("/a/b")), "ENOENT");
  assert.equal(fsCode(() => fs.mkdir("/file/x", { recursive: true })), "ENOTDIR");
  assert.equal(fsCode(() => fs.mkdir("/")), "EEXIST");
  assert.equal(fsCode(() => fs.remove("/d")), "ENOTEMPTY");
  assert.equal(fsCode(() => fs.remove("/missing")), "ENOENT");
  assert.equal(fsCode(() => fs.remove("/")), "EACCES");
  assert.equal(fsCode(() => fs.remove("/", { recursive: true })), "EACCES");
  assert.throws(() => fs.readFile("/missing"), {
    name: "FsError",
    message: "No such file or directory: /missing",
    path: "/missing",
  });
});

Deno.test("mkdir recursive and remove", () => {
  const fs = new MemoryFileSystem();
  fs.mkdir("/a/b/c", { recursive: true });
  fs.mkdir("/a/b/c", { recursive: true });
  fs.mkdir("/", { recursive: true });
  fs.writeFile("/a/b/c/f", "1");
  fs.remove("/a/b/c/f");
  fs.remove("/a/b/c");
  assert.deepEqual(fs.readDir("/a/b"), []);
  fs.writeFile("/a/b/g", "2");
  fs.remove("/a", { recursive: true });
  assert.deepEqual(fs.readDir("/"), []);
});

Deno.test("rename moves files and trees and refuses bad moves", () => {
  const fs = new MemoryFileSystem({ "/a/x": "1", "/a/y/z": "2", "/b": "3", "/full/q": "4" });
  fs.rename("/a", "/c");
  assert.equal(fs.readTextFile("/c/y/z"), "2");
  assert.equal(fs.stat("/a"), undefined);
  fs.rename("/b", "/c/x"); // replaces a file
  assert.equal(fs.readTextFile("/c/x"), "3");
  fs.rename("/c/x", "/c/x"); // no-op
  assert.equal(fs.readTextFile("/c/x"), "3");
  assert.equal(fsCode(() => fs.rename("/c", "/c/y/inner")), "EINVAL");
  assert.equal(fsCode(() => fs.rename("/c/x", "/c/y")), "EISDIR");
  assert.equal(fsCode(() => fs.rename("/c/y", "/c/x")), "ENOTDIR");
  assert.equal(fsCode(() => fs.rename("/c/y", "/full")), "ENOTEMPTY");
  assert.equal(fsCode(() => fs.rename("/missing", "/m")), "ENOENT");
  assert.equal(fsCode(() => fs.rename("/", "/m")), "EACCES");
  assert.equal(fsCode(() => fs.rename("/c/x", "/")), "EEXIST");
});

Deno.test("copy duplicates files and trees independently", () => {
  const fs = new MemoryFileSystem({ "/src/a": "1", "/src/d/b": "2", "/f": "3" });
  fs.copy("/f", "/g");
  fs.writeFile("/g", "changed");
  assert.equal(fs.readTextFile("/f"), "3");
  fs.copy("/src", "/dst", { recursive: true });
  fs.writeFile("/dst/d/b", "changed");
  assert.equal(fs.readTextFile("/src/d/b"), "2");
  assert.equal(fs.readTextFile("/dst/a"), "1");
  assert.equal(fsCode(() => fs.copy("/src", "/other")), "EISDIR");
  assert.equal(fsCode(() => fs.copy("/src", "/src/inner", { recursive: true })), "EINVAL");
  assert.equal(fsCode(() => fs.copy("/f", "/f")), "EINVAL");
  assert.equal(fsCode(() => fs.copy("/f", "/src")), "EISDIR");
  assert.equal(fsCode(() => fs.copy("/src", "/dst", { recursive: true })), "ENOTEMPTY");
  assert.equal(fsCode(() => fs.copy("/missing", "/x")), "ENOENT");
});

Deno.test("readOnly rejects every change with EROFS", () => {
  const fs = new MemoryFileSystem({ "/a": "1" }, { readOnly: true });
  assert.equal(fs.readTextFile("/a"), "1");
  assert.equal(fsCode(() => fs.writeFile("/a", "2")), "EROFS");
  assert.equal(fsCode(() => fs.mkdir("/d")), "EROFS");
  assert.equal(fsCode(() => fs.remove("/a")), "EROFS");
  assert.equal(fsCode(() => fs.rename("/a", "/b")), "EROFS");
  assert.equal(fsCode(() => fs.copy("/a", "/b")), "EROFS");
});
