import assert from "node:assert/strict";
import { BoardError, locateKey, parseBoard } from "../../../lib/hw/boards/spec.ts";
import {
  BUILTIN_BOARD_TEXTS,
  builtinBoards,
  DEFAULT_BOARD,
} from "../../../lib/hw/boards/builtin.ts";
import { loadBoard } from "../../../lib/hw/boards/load.ts";

const examples = new URL("../../../examples/boards/", import.meta.url);

Deno.test("boards: examples/boards/*.toml are exactly the built-in boards", () => {
  const files = [...Deno.readDirSync(examples)].filter((e) => e.name.endsWith(".toml")).map((e) =>
    e.name
  ).sort();
  assert.deepEqual(files, Object.keys(BUILTIN_BOARD_TEXTS).map((n) => `${n}.toml`).sort());
  for (const [name, text] of Object.entries(BUILTIN_BOARD_TEXTS)) {
    assert.equal(
      Deno.readTextFileSync(new URL(`${name}.toml`, examples)),
      text,
      `${name}.toml differs from the built-in text`,
    );
  }
});

Deno.test("boards: qemu-virt is QEMU's virt map with 4 harts and 8 GiB", () => {
  const b = builtinBoards.get(DEFAULT_BOARD)!;
  assert.equal(b.source, "builtin:qemu-virt");
  assert.deepEqual(b.cpus.hartIds, [0, 1, 2, 3]);
  assert.equal(b.timebaseFrequency, 10_000_000);
  assert.deepEqual(b.memory, [{ base: 0x8000_0000, size: 8 * 1024 ** 3 }]);
  const dev = Object.fromEntries(b.devices.map((d) => [d.name, d]));
  assert.deepEqual(dev.clint, { name: "clint", type: "aclint", base: 0x0200_0000, size: 0x1_0000 });
  assert.deepEqual(dev.plic, {
    name: "plic",
    type: "plic",
    base: 0x0c00_0000,
    size: 0x60_0000,
    sources: 96,
  });
  assert.deepEqual(dev.uart0, {
    name: "uart0",
    type: "ns16550a",
    base: 0x1000_0000,
    size: 0x100,
    irq: 10,
    clockFrequency: 3_686_400,
  });
  assert.deepEqual(dev.test, { name: "test", type: "sifive-test", base: 0x10_0000, size: 0x1000 });
  assert.equal(b.chosen.stdout, "uart0");
});

Deno.test("boards: the server and compact boards", () => {
  const server = builtinBoards.get("server-64")!;
  assert.equal(server.cpus.hartIds.length, 64);
  assert.equal(server.memory.reduce((n, m) => n + m.size, 0), 128 * 1024 ** 3);
  const compact = builtinBoards.get("compact-2")!;
  assert.equal(compact.cpus.hartIds.length, 2);
  assert.equal(compact.memory[0].size, 1024 ** 3);
  assert.equal(
    compact.devices.find((d) => d.type === "aclint")?.size,
    0x1_0000,
    "default window size",
  );
});

Deno.test("boards: loadBoard resolves built-in names without files, and files through the reader", () => {
  assert.equal(loadBoard("compact-2").name, "compact-2");
  const text = BUILTIN_BOARD_TEXTS["compact-2"].replace('name = "compact-2"', 'name = "mine"');
  const read: string[] = [];
  const b = loadBoard("boards/mine.toml", (p) => (read.push(p), text));
  assert.deepEqual(read, ["boards/mine.toml"]);
  assert.equal(b.name, "mine");
  assert.equal(b.source, "boards/mine.toml");
  assert.throws(
    () => loadBoard("nope"),
    /nope: unknown board \(built-in boards: qemu-virt, server-64, compact-2\)/,
  );
  assert.throws(() => loadBoard("x.toml"), /x.toml: board files cannot be read here/);
  assert.throws(
    () =>
      loadBoard("missing.toml", () => {
        throw new Error("No such file or directory");
      }),
    (e: unknown) =>
      e instanceof BoardError &&
      /missing.toml: cannot read board file: No such file/.test(e.message),
  );
});

/** Replaces `from` by `to` in the qemu-virt text and expects a BoardError at `line` naming `key`. */
function expectError(
  from: string | RegExp,
  to: string,
  line: number,
  key: string,
  problem: RegExp,
) {
  const base = BUILTIN_BOARD_TEXTS["qemu-virt"];
  const text = base.replace(from, to);
  assert.notEqual(text, base, `pattern ${from} not found`);
  try {
    parseBoard(text, "bad.toml");
  } catch (e) {
    assert.ok(e instanceof BoardError, String(e));
    assert.equal(e.file, "bad.toml");
    assert.equal(e.key, key, e.message);
    assert.equal(e.line, line, e.message);
    assert.match(e.message, problem);
    assert.ok(e.message.startsWith(line > 0 ? `bad.toml:${line}: ` : "bad.toml: "), e.message);
    return;
  }
  assert.fail(`no error for ${to}`);
}

const lineOf = (needle: string, nth = 0) => {
  const lines = BUILTIN_BOARD_TEXTS["qemu-virt"].split("\n");
  let seen = 0;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].includes(needle) && seen++ === nth) return i + 1;
  }
  throw new Error(`${needle} not in qemu-virt.toml`);
};

Deno.test("boards: semantic errors name file, line and key", () => {
  expectError(
    "irq = 10",
    "irq = 100",
    lineOf("irq = 10"),
    "devices[3].irq",
    /source 100 exceeds the plic's 96 sources/,
  );
  expectError(
    "irq = 10",
    "irq = 0",
    lineOf("irq = 10"),
    "devices[3].irq",
    /0 is out of range 1..1023/,
  );
  expectError(
    'type = "plic"',
    'type = "gic"',
    lineOf('type = "plic"'),
    "devices[2].type",
    /unknown device type "gic"/,
  );
  expectError(
    "timebase_frequency = 10_000_000",
    'timebase_frequency = "fast"',
    lineOf("timebase_frequency"),
    "timebase_frequency",
    /must be an integer/,
  );
  expectError(
    "hart_ids = [0, 1, 2, 3]",
    "hart_ids = [0, 1, 1]",
    lineOf("hart_ids"),
    "cpus.hart_ids",
    /hart id 1 appears twice/,
  );
  expectError(
    "hart_ids = [0, 1, 2, 3]",
    "hart_ids = [0, -1]",
    lineOf("hart_ids"),
    "cpus.hart_ids[1]",
    /out of range/,
  );
  expectError(
    "size = 0x2_0000_0000 # 8 GiB",
    "size = 0x2_0000_0001",
    lineOf("size = 0x2_0000_0000"),
    "memory[0].size",
    /not a multiple of 4096/,
  );
  expectError(
    "base = 0x0C00_0000",
    "base = 0x0200_8000",
    lineOf("base = 0x0C00_0000"),
    "devices[2].base",
    /"plic" .* overlaps "clint"/,
  );
  expectError(
    "base = 0x1000_0000",
    "base = 0x8000_1000",
    lineOf("base = 0x1000_0000"),
    "devices[3].base",
    /"uart0" overlaps RAM range 0/,
  );
  expectError(
    'stdout = "uart0"',
    'stdout = "plic"',
    lineOf('stdout = "uart0"'),
    "chosen.stdout",
    /"plic" is a plic, not a UART/,
  );
  expectError(
    'stdout = "uart0"',
    'stdout = "uart9"',
    lineOf('stdout = "uart0"'),
    "chosen.stdout",
    /no device named "uart9"/,
  );
  expectError(
    "sources = 96",
    "sources = 96\nirq = 3",
    lineOf("sources = 96") + 1,
    "devices[2].irq",
    /not a setting of a plic device/,
  );
  expectError(
    'mmu_type = "riscv,sv39"',
    'mmu_type = "sv39"\nspeed = 3',
    lineOf("mmu_type") + 1,
    "cpus.speed",
    /unknown key/,
  );
  expectError(
    'name = "clint"',
    'name = "uart0"',
    lineOf('name = "uart0"'),
    "devices[3].name",
    /"uart0" is used twice/,
  );
  expectError(
    "size = 0x60_0000",
    "size = 0x1000",
    lineOf("size = 0x60_0000"),
    "devices[2].size",
    /too small for 8 contexts/,
  );
  expectError(
    /\[cpus\][\s\S]*?(?=\[\[memory\]\])/,
    "",
    0,
    "cpus",
    /missing required table \[cpus\]/,
  );
  expectError(
    "base = 0x8000_0000\n",
    "",
    lineOf("[[memory]]"),
    "memory[0]",
    /missing required key "base"/,
  );
  expectError(
    "base = 0x8000_0000",
    "base = 0x1_0000_0000_0000_0000",
    lineOf("base = 0x8000_0000"),
    "memory[0].base",
    /too large/,
  );
});

Deno.test("boards: TOML syntax errors carry smol-toml's line and column", () => {
  const text = BUILTIN_BOARD_TEXTS["qemu-virt"].replace("irq = 10", "irq = = 10");
  assert.throws(
    () => parseBoard(text, "syntax.toml"),
    (e: unknown) =>
      e instanceof BoardError && e.line === lineOf("irq = 10") &&
      /^syntax.toml:\d+: TOML syntax error at column \d+/.test(e.message),
  );
});

Deno.test("boards: locateKey finds keys inside the right table and array entry", () => {
  const text = `a = 1
[t]
a = 2
[[arr]]
k = 1
[[arr]]
x = 2
k = 3
`;
  assert.equal(locateKey(text, ["a"]), 1);
  assert.equal(locateKey(text, ["t", "a"]), 3);
  assert.equal(locateKey(text, ["arr", 1, "k"]), 8);
  assert.equal(locateKey(text, ["arr", 1, "zz"]), 6, "missing key: the entry's header");
  assert.equal(locateKey(text, ["t"]), 2);
  assert.equal(locateKey(text, ["nothing"]), 0);
});
