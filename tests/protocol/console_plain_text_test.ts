/**
 * `[VM n] ` lines are plain text: a guest's terminal queries (busybox asks for the cursor position
 * after its prompt) must not reach the host's terminal, which would answer into the host prompt.
 */
import assert from "node:assert/strict";
import { ConsoleAssembler, plainText } from "../../lib/protocol/events.ts";

const ESC = String.fromCharCode(27);
const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("console lines: terminal control sequences and control characters are taken out", () => {
  assert.equal(plainText(`/ # ${ESC}[6n`), "/ # ");
  assert.equal(plainText(`${ESC}[1;32mgreen${ESC}[0m text`), "green text");
  assert.equal(plainText(`${ESC}]0;title\x07after`), "after");
  assert.equal(plainText(`${ESC}]0;title${ESC}\\after`), "after");
  assert.equal(plainText(`a${ESC}7b\x08c\x00d\r`), "abcd");
  assert.equal(plainText("tab\tkept"), "tab\tkept");
  assert.equal(plainText("plain ✓ text"), "plain ✓ text");
  assert.equal(plainText(`cut at the end ${ESC}[`), "cut at the end ");
});

Deno.test("console lines: the assembler's [VM n] lines carry no escape bytes", () => {
  const a = new ConsoleAssembler(21);
  const { lines } = a.push(enc(`[    0.1] ok\r\n/ # ${ESC}[6n\n`));
  assert.equal(lines, "[VM 21] [    0.1] ok\n[VM 21] / # \n");
  assert.equal(a.flush(), "");
});
