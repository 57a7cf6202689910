import assert from "node:assert/strict";
import { DoubleTab, HistorySearch } from "../../lib/protocol/interactive.ts";
import { reverseSearch } from "../../lib/shell/history.ts";

Deno.test("Tab: the common prefix first; the list only on the second Tab", () => {
  const t = new DoubleTab();
  assert.deepEqual(t.complete("vm s", ["vm start", "vm stop"]), ["vm st"]);
  assert.deepEqual(t.complete("vm st", ["vm start", "vm stop"]), ["vm st"], "first Tab: quiet");
  assert.deepEqual(t.complete("vm st", ["vm start", "vm stop"]), ["vm start", "vm stop"]);
  assert.deepEqual(t.complete("vm st", ["vm start", "vm stop"]), ["vm st"], "then quiet again");
  assert.deepEqual(t.complete("vm l", ["vm list "]), ["vm list "]);
});

Deno.test("reverseSearch: newest first, from an index, empty query matches nothing", () => {
  const h = ["vm show 2", "vm start 2", "ls", "vm start 1"];
  assert.deepEqual(reverseSearch(h, "start"), { entry: "vm start 2", index: 1 });
  assert.deepEqual(reverseSearch(h, "start", 2), { entry: "vm start 1", index: 3 });
  assert.equal(reverseSearch(h, "start", 4), undefined);
  assert.equal(reverseSearch(h, ""), undefined);
});

Deno.test("Ctrl-R: search, older match, cancel and accept", () => {
  // A stand-in for readline's interface: line editing by ctrl-e/ctrl-u and writes.
  const rl = {
    line: "draft",
    history: ["vm show 2", "vm start 2", "ls", "vm start 1"],
    promptText: "axvisor> ",
    getPrompt() {
      return this.promptText;
    },
    setPrompt(p: string) {
      this.promptText = p;
    },
    prompt() {},
    write(data: string | null, key?: { name?: string }) {
      if (data === null && key?.name === "u") this.line = "";
      else if (data !== null) this.line += data;
    },
  };
  const out = { write: () => true };
  const s = new HistorySearch(rl, out);
  assert.equal(s.key("\x12", { ctrl: true, name: "r" }), true);
  assert.equal(s.active, true);
  for (const c of "start") s.key(c, { name: c });
  assert.equal(rl.line, "vm start 2");
  assert.equal(rl.promptText, "(reverse-i-search)'start': ");
  s.key("\x12", { ctrl: true, name: "r" });
  assert.equal(rl.line, "vm start 1");
  s.key("\x07", { ctrl: true, name: "g" });
  assert.equal(s.active, false);
  assert.equal(rl.line, "draft", "Ctrl-G gives the original line back");
  assert.equal(rl.promptText, "axvisor> ");
  s.key("\x12", { ctrl: true, name: "r" });
  for (const c of "show") s.key(c, { name: c });
  assert.equal(s.key("\r", { name: "return" }), false, "Enter goes on to readline: it runs");
  assert.equal(rl.line, "vm show 2");
  s.key("\x12", { ctrl: true, name: "r" });
  s.key("z", { name: "z" });
  assert.match(rl.promptText, /failing reverse-i-search/);
});
