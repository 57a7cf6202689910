import assert from "node:assert/strict";
import { assemble, AssemblerError, MAX_SOURCE_CHARS } from "../../../lib/hw/riscv/assembler.ts";

function error(source: string): AssemblerError {
  try {
    assemble(source, { fileName: "bomb.S" });
  } catch (e) {
    if (e instanceof AssemblerError) return e;
    throw e;
  }
  throw new Error("expected an AssemblerError");
}

Deno.test("a recursive macro that doubles its argument stops at a clear limit, fast", () => {
  const t0 = performance.now();
  const e = error(".macro m x\nm \\x\\x\n.endm\nm ab");
  assert.match(e.message, /bomb\.S:2/);
  assert.match(e.message, /macro 'm' expands to a statement of \d+ characters \(limit 65536\)/);
  assert.ok(performance.now() - t0 < 5000);
});

Deno.test("a chain of .equ sN, sN-1+sN-1 evaluates in linear time", () => {
  const lines = [".equ s0, 1"];
  for (let i = 1; i <= 60; i++) lines.push(`.equ s${i}, s${i - 1}+s${i - 1}`);
  lines.push(".dword s60", "li a0, s40");
  const t0 = performance.now();
  const r = assemble(lines.join("\n"), { fileName: "chain.S", origin: 0 });
  assert.ok(performance.now() - t0 < 5000, "no exponential blow-up");
  assert.equal(new DataView(r.image.buffer).getBigUint64(0, true), 1n << 60n);
});

Deno.test("nested .rept cannot multiply past the statement budget", () => {
  const e = error(".rept 1000\n.rept 1000\n.rept 1000\nnop\n.endr\n.endr\n.endr");
  assert.match(e.message, /more than 100000 statements|expansions exceed/);
});

Deno.test("the source size is bounded", () => {
  const e = error("#".repeat(MAX_SOURCE_CHARS + 1));
  assert.match(e.message, /exceeds the \d+-character limit/);
});

Deno.test("a huge .space is refused before any allocation", () => {
  const e = error(".space 0x20000000");
  assert.match(e.message, /exceeds the \d+-byte limit/);
});

Deno.test("a large .rept is a clear error or an image, never a stack overflow", () => {
  const r = assemble(".rept 60000\nnop\n.endr", { origin: 0 });
  assert.equal(r.image.length, 240000);
  const e = error(".rept 150000\nnop\n.endr");
  assert.match(e.message, /\.rept count 150000 out of range/);
});

Deno.test("deeply nested or huge expressions are clear errors, never a stack overflow", () => {
  assert.match(error(".dword " + "(".repeat(5000) + "1" + ")".repeat(5000)).message, /too long/);
  assert.match(error(".dword " + "(".repeat(100) + "1" + ")".repeat(100)).message, /nested more/);
  assert.match(error(".dword " + "-".repeat(100) + "1").message, /nested more than 64 deep/);
  assert.match(error(".dword " + "1+".repeat(2000) + "1").message, /bomb\.S:1:8: expression/);
});

Deno.test("symbol chains: counters (.set n, n+1) of any length; deep lazy chains are an error", () => {
  const counter = [".set n, 0", ".rept 5000", ".set n, n+1", ".endr", ".dword n"].join("\n");
  const r = assemble(counter, { origin: 0 });
  assert.equal(new DataView(r.image.buffer).getBigUint64(0, true), 5000n);
  // A chain through a forward reference cannot be folded: its depth is bounded.
  const lines = [".dword s1999"];
  for (let i = 1; i < 2000; i++) lines.push(`.equ s${i}, s${i + 1}`);
  lines.push(".equ s2000, 7");
  assert.match(error(lines.join("\n")).message, /more than 1000 deep/);
});
