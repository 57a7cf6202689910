import assert from "node:assert/strict";
import { quoteWord, scan, tokenize, TokenizeError } from "../../lib/shell/tokenizer.ts";

Deno.test("tokenize: table of inputs", () => {
  const cases: [string, string[]][] = [
    ["", []],
    ["   \t ", []],
    ["vm start 0", ["vm", "start", "0"]],
    ["  vm   start\t0  ", ["vm", "start", "0"]],
    ['vm create "my vm"', ["vm", "create", "my vm"]],
    ["echo 'hello world'", ["echo", "hello world"]],
    ['echo "hello world"', ["echo", "hello world"]],
    ['echo \\"test\\"', ["echo", '"test"']],
    ['vm start 0 1 --name "test vm"', ["vm", "start", "0", "1", "--name", "test vm"]],
    ["a\\ b c", ["a b", "c"]],
    ['a"b c"d', ["ab cd"]],
    ["''", [""]],
    ['x "" y', ["x", "", "y"]],
    ["'it''s'", ["its"]],
    [`"it's"`, ["it's"]],
    [`'say "hi"'`, ['say "hi"']],
    ["'\\d+'", ["\\d+"]],
    ['"\\d+"', ["\\d+"]],
    ['"a\\\\b"', ["a\\b"]],
    ['"a\\"b"', ['a"b']],
    ["line1\nline2", ["line1", "line2"]],
    ["a\r\n", ["a"]],
    ["\\>", [">"]],
    ["你好 世界", ["你好", "世界"]],
  ];
  for (const [input, expected] of cases) {
    assert.deepEqual(tokenize(input), expected, JSON.stringify(input));
  }
});

Deno.test("tokenize: errors name the problem and the column", () => {
  const cases: [string, string, string][] = [
    ['echo "abc', "UNCLOSED_QUOTE", 'Unclosed double quote (") starting at column 6'],
    ["echo 'abc", "UNCLOSED_QUOTE", "Unclosed single quote (') starting at column 6"],
    ["echo abc\\", "TRAILING_BACKSLASH", "Trailing backslash at column 9: nothing to escape"],
  ];
  for (const [input, code, message] of cases) {
    assert.throws(() => tokenize(input), (e: unknown) => {
      assert.ok(e instanceof TokenizeError);
      assert.equal(e.code, code);
      assert.equal(e.message, message);
      return true;
    });
  }
});

Deno.test("scan: positions, quoting and partial lines", () => {
  const r = scan(`vm  ">" x`);
  assert.deepEqual(r.tokens, [
    { value: "vm", start: 0, end: 2, quoted: false },
    { value: ">", start: 4, end: 7, quoted: true },
    { value: "x", start: 8, end: 9, quoted: false },
  ]);
  assert.equal(r.endsWithSpace, false);
  assert.equal(scan("vm ").endsWithSpace, true);
  assert.equal(scan("").endsWithSpace, false);
  const partial = scan(`cat "my fi`, { partial: true });
  assert.deepEqual(partial.tokens.map((t) => t.value), ["cat", "my fi"]);
  assert.equal(partial.openQuote, '"');
  assert.equal(partial.endsWithSpace, false);
  assert.deepEqual(scan("a\\", { partial: true }).tokens.map((t) => t.value), ["a"]);
});

Deno.test("quoteWord round-trips through tokenize", () => {
  for (const word of ["plain", "a b", "", "it's", '"q"', "a\\b", "$x", "/guest/x.toml"]) {
    assert.deepEqual(tokenize(quoteWord(word)), [word], word);
  }
  assert.equal(quoteWord("/guest/x.toml"), "/guest/x.toml");
  assert.equal(quoteWord("a b"), "'a b'");
});
