/**
 * Tests of the per-instruction test harness itself: a wrong expectation or an unexpected trap
 * must fail and name the case, and far `fail` branches must assemble.
 */

import assert from "node:assert/strict";
import {
  assertSuitePasses,
  farFailBranches,
  instructionSuites,
  runSuite,
  Suite,
} from "./test_harness.ts";

Deno.test("harness: a suite whose cases hold passes", () => {
  const s = new Suite("ok").rr("add", 2n, 3n, 5n).ri("addi", 7n, -8, -1n);
  const result = runSuite(s);
  assert.equal(result.passed, true, result.message);
  assert.ok(result.instret > 10);
});

Deno.test("harness: a wrong expected value fails and names the case and both values", () => {
  const s = new Suite("wrong").rr("add", 1n, 1n, 2n).rr("sub", 5n, 3n, 3n).rr("add", 0n, 0n, 0n);
  const result = runSuite(s);
  assert.equal(result.passed, false);
  assert.equal(result.failure?.number, 2);
  assert.equal(result.failure?.name, "wrong: sub 0x5, 0x3 -> 0x3");
  assert.equal(result.failure?.got, 2n);
  assert.equal(result.failure?.expected, 3n);
  assert.throws(
    () => assertSuitePasses(s),
    /suite wrong: test 2 failed: wrong: sub 0x5, 0x3 -> 0x3\n {2}got 0x2, expected 0x3/,
  );
});

Deno.test("harness: an unexpected trap fails the current case with its cause", () => {
  const s = new Suite("trap").rr("add", 1n, 1n, 2n).test("illegal", "li x1, 1\ncsrw mhartid, x1");
  assert.throws(
    () => assertSuitePasses(s),
    /test 2 failed: trap: illegal\n {2}unexpected trap: mcause 2, mepc 0x8000/,
  );
});

Deno.test("harness: a program that never reaches tohost reports the runner's message", () => {
  const s = new Suite("loop").test("spin", "1: j 1b");
  const result = runSuite(s, 10_000);
  assert.equal(result.passed, false);
  assert.equal(result.failure, undefined);
  assert.match(result.message, /instruction budget spent \(--max-insns 10000\)/);
});

Deno.test("harness: branches to fail are rewritten to reach any distance", () => {
  assert.equal(
    farFailBranches("bne x14, x7, fail\nbeqz x5, fail\nbnez x5, 1b\n  bltu a0, a1, fail"),
    "beq x14, x7, 99f\nj fail\n99:\nbnez x5, 99f\nj fail\n99:\nbnez x5, 1b\n" +
      "  bgeu a0, a1, 99f\n  j fail\n99:",
  );
  const far = new Suite("far");
  for (let i = 0; i < 400; i++) far.rr("xor", BigInt(i), 0x5555n, BigInt(i) ^ 0x5555n);
  assertSuitePasses(far);
});

Deno.test("harness: instructionSuites builds suites in order, compressed when asked", () => {
  const plain = instructionSuites("x");
  const add = plain.suite("add", (s) => s.rr("add", 1n, 2n, 3n).rr("add", 2n, 2n, 4n));
  assert.deepEqual(plain.suites, [add]);
  assert.equal(add.name, "add");
  assert.equal(add.cases.length, 2);
  assert.equal(add.compressed, false);
  const c = instructionSuites("c", { compressed: true });
  c.suite("c.add", () => {});
  c.suite("c.mv", () => {});
  assert.deepEqual(c.suites.map((s) => [s.name, s.compressed]), [["c.add", true], ["c.mv", true]]);
});
