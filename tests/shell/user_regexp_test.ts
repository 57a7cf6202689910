import assert from "node:assert/strict";
import {
  compileUserRegExp,
  LINEAR_REGEXP,
  LINEAR_REGEXP_FLAG,
  UnsafePatternError,
} from "../../lib/shell/user_regexp.ts";

const EVIL = "a".repeat(40) + "b";

/** The linear engine is there under `deno task test` (deno.json passes the V8 flag); CI needs it. */
const needsLinear = !LINEAR_REGEXP && Deno.env.get("CI") !== "true";

Deno.test({
  name: "user regexp: `deno task test` runs with V8's linear-time engine",
  ignore: needsLinear,
  fn: () => assert.ok(LINEAR_REGEXP, "deno.json's test task passes the V8 flag"),
});

Deno.test({
  name: "user regexp: with the linear engine, (a+)+$ matches in linear time",
  ignore: needsLinear,
}, () => {
  const re = compileUserRegExp("(a+)+$", "m", true);
  assert.equal(re.exec(EVIL), null); // exponential (hours) on the backtracking engine
  assert.equal(
    compileUserRegExp("log(in|out): (\\w+)", "m", true).exec("x login: root")?.[2],
    "root",
  );
  assert.throws(() => compileUserRegExp("(a)\\1", "m", true), UnsafePatternError);
  assert.throws(() => compileUserRegExp("a(?=b)", "m", true), /needs backtracking/);
  assert.throws(() => compileUserRegExp("(a", "m", true), SyntaxError);
});

Deno.test("user regexp: without it, risky shapes are refused and plain patterns work", () => {
  for (const p of ["(a+)+$", "(a*)*", "(\\w+\\s?){3,}", "((ab)+)+", "(x+){2}", "(a)\\1", "(?=a)"]) {
    assert.throws(() => compileUserRegExp(p, "m", false), UnsafePatternError, p);
  }
  for (const p of ["login: (\\w+)", "[+*]+ (done|fail)", "a{2,3}b+", "\\(x+\\)+", "(ab){1}c*"]) {
    assert.ok(compileUserRegExp(p, "m", false) instanceof RegExp, p);
  }
  assert.throws(
    () => compileUserRegExp("(a+)+$", "m", false),
    /repeats a group that holds a repetition.*--enable-experimental-regexp-engine/s,
  );
  assert.throws(() => compileUserRegExp("[", "m", false), SyntaxError);
});

Deno.test("user regexp: deno task start and test run Deno with the linear engine's flag", () => {
  const config = JSON.parse(
    Deno.readTextFileSync(new URL("../../deno.json", import.meta.url)),
  ) as { tasks: Record<string, string> };
  for (const task of ["start", "test"]) {
    assert.match(config.tasks[task], new RegExp(`^deno \\w+ ${LINEAR_REGEXP_FLAG} `), task);
  }
});
