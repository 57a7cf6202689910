import assert from "node:assert/strict";
import { fixture, vmConfig } from "./helpers.ts";
import { expandGlob } from "../../lib/shell/glob.ts";
import { MemoryFileSystem } from "../../lib/vmm/memory_filesystem.ts";

const BROKEN = `[base]
id = "one"
name = "bad/name"
cpu_num = 0
[kernel]
entry_point = 0x8020_0000
kernel_path = "/guest/images/spin.S"
kernel_load_addr = 0x8020_0000
memory_regions = [[0x8000_0000, 0, 0x7, 0], [0x9000_0000, 0x1000, 0x7, 5]]
[devices]
interrupt_mode = "sideways"
`;

Deno.test("config check reports every error of a file, each with its line", async () => {
  const f = fixture({ "/guest/configs/broken.toml": BROKEN });
  const r = await f.run("config check /guest/configs/broken.toml");
  assert.equal(r.ok, false);
  const errors = r.text.split("\n").filter((l) => l.includes("✗ error"));
  assert.ok(errors.length >= 6, r.text);
  for (
    const want of [
      /broken\.toml:2: base\.id: expected an integer/,
      /broken\.toml:3: base\.name:/,
      /broken\.toml:4: base\.cpu_num: a VM needs at least one vCPU/,
      /memory_regions\[0\]: size is 0/,
      /memory_regions\[1\]: map_type 5/,
      /broken\.toml:11: devices\.interrupt_mode: unknown mode "sideways"/,
    ]
  ) assert.match(r.text, want);
});

Deno.test("config check warns when cpu_num exceeds the board's harts", async () => {
  const f = fixture({
    "/guest/configs/nine.toml": vmConfig(9, "nine", "spin", { cpus: 9, memory: 0x40_0000 }),
  });
  const r = await f.run("config check /guest/configs/nine.toml");
  assert.equal(r.ok, true, r.text);
  assert.match(
    r.text,
    /⚠ warning: \/guest\/configs\/nine\.toml:\d+: base\.cpu_num: 9 vCPUs on board qemu-virt, which has 4 hart\(s\)/,
  );
});

Deno.test("config check expands wildcards; a pattern that matches nothing is an error", async () => {
  const f = fixture();
  const all = await f.run("config check /guest/configs/*.toml");
  const n = f.fs.readDir("/guest/configs").filter((e) => e.name.endsWith(".toml")).length;
  assert.ok(n >= 2);
  assert.match(all.text, new RegExp(`Checked ${n} config file\\(s\\)`));
  const none = await f.run("config check /guest/configs/*.nothing");
  assert.equal(none.ok, false);
  assert.match(none.text, /no file matches the pattern/);
});

Deno.test("glob: *, ?, sets, hidden names, several levels", () => {
  const fs = new MemoryFileSystem({
    "/c/a1.toml": "",
    "/c/a2.toml": "",
    "/c/b.toml": "",
    "/c/.h.toml": "",
    "/d/x/v.toml": "",
    "/d/y/v.toml": "",
  });
  assert.deepEqual(expandGlob(fs, "/c/*.toml"), ["/c/a1.toml", "/c/a2.toml", "/c/b.toml"]);
  assert.deepEqual(expandGlob(fs, "/c/a?.toml"), ["/c/a1.toml", "/c/a2.toml"]);
  assert.deepEqual(expandGlob(fs, "/c/[!a]*"), ["/c/b.toml"]);
  assert.deepEqual(expandGlob(fs, "/c/.*"), ["/c/.h.toml"]);
  assert.deepEqual(expandGlob(fs, "/d/*/v.toml"), ["/d/x/v.toml", "/d/y/v.toml"]);
  assert.deepEqual(expandGlob(fs, "/nowhere/*"), []);
});
