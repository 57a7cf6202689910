import assert from "node:assert/strict";
import { constantTimeEqual, SessionAuth, tokenProblem } from "../../lib/protocol/auth.ts";
import { readOnlyRefusal } from "../../lib/protocol/read_only.ts";

Deno.test("constantTimeEqual compares exactly", () => {
  assert.equal(constantTimeEqual("secret", "secret"), true);
  assert.equal(constantTimeEqual("secret", "secreT"), false);
  assert.equal(constantTimeEqual("secret", "secret2"), false);
  assert.equal(constantTimeEqual("", ""), true);
  assert.equal(constantTimeEqual("", "x"), false);
  assert.equal(constantTimeEqual("é", "e"), false);
});

Deno.test("SessionAuth: no token means authenticated; attempts are limited", () => {
  assert.equal(new SessionAuth(undefined).authenticated, true);
  const a = new SessionAuth("tok", 2);
  assert.equal(a.authenticated, false);
  const first = a.attempt("nope");
  assert.equal(first.ok, false);
  assert.match(!first.ok ? first.message : "", /1 attempt left/);
  const second = a.attempt("nope");
  assert.equal(!second.ok && second.attemptsLeft, 0);
  assert.equal(a.attempt("tok").ok, false, "the right token after the last attempt is refused");
  const b = new SessionAuth("tok");
  assert.equal(b.attempt("tok").ok, true);
  assert.equal(b.authenticated, true);
});

Deno.test("read-only allow-list: look, never change", () => {
  const allowed = [
    ["vm", "list"],
    ["vm", "show", "1"],
    ["vm", "log", "1", "--tail", "5"],
    ["vm", "wait", "1", "--state", "running"],
    ["vm", "stats", "1"],
    ["vm", "console", "1"],
    ["vcpu", "list"],
    ["vcpu", "dump", "1", "0"],
    ["config", "check", "/a.toml"],
    ["help"],
    ["ls", "-l"],
    ["cat", "/x"],
    ["vm"],
    ["vm", "start", "--help"],
    ["echo", "hi"],
  ];
  for (const argv of allowed) assert.equal(readOnlyRefusal(argv), undefined, argv.join(" "));
  const refused = [
    ["vm", "start", "1"],
    ["vm", "stop", "1"],
    ["vm", "delete", "1"],
    ["vm", "create", "/x.toml"],
    ["vm", "send", "1", "hi"],
    ["vcpu", "pin", "1", "0", "1"],
    ["rm", "-r", "/"],
    ["mkdir", "x"],
    ["touch", "x"],
    ["mv", "a", "b"],
    ["cp", "a", "b"],
    ["shutdown"],
    ["echo", "hi", ">", "/f"],
    ["echo", "hi", ">>/f"],
    ["frobnicate"],
  ];
  for (const argv of refused) {
    assert.match(readOnlyRefusal(argv) ?? "", /not allowed in a read-only session/, argv.join(" "));
  }
});

Deno.test("tokenProblem refuses empty and multi-word tokens", () => {
  assert.equal(tokenProblem("s3cret-Token_1"), undefined);
  assert.match(tokenProblem("") ?? "", /empty/);
  assert.match(tokenProblem("a b") ?? "", /spaces or control characters/);
  assert.match(tokenProblem("tab\there") ?? "", /spaces or control characters/);
  assert.match(tokenProblem("bell\x07") ?? "", /control characters/);
});
