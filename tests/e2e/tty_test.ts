/**
 * The interactive terminal, through a real pseudo-terminal (`script` from util-linux gives the
 * program a TTY): prompt, Tab completion, Ctrl-C, console attach and Ctrl-], exit.
 */
import assert from "node:assert/strict";
import { hasScript, openTerminal } from "./terminal.ts";

Deno.test({
  name: "tty e2e: line editing, Tab completion, Ctrl-C, attach and Ctrl-], exit",
  ignore: !hasScript(),
  fn: async () => {
    const t = await openTerminal("warp", { failOnError: true });
    let code: number;
    try {
      assert.match(await t.until("axvisor:/$ "), /axvisor\.ts .*3 VMs/);
      // Tab completes `list` (a key of its own: readline takes a pasted TAB literally).
      await t.type("vm lis");
      await t.until("vm lis");
      await t.type("\t");
      await t.until("t");
      await t.type("\r");
      assert.match(await t.until("smp"), /hello/);
      await t.until("axvisor:/$ ");
      await t.type("vm start 1\r");
      await t.until("Goodbye.");
      await t.type("half typed\x03"); // Ctrl-C cancels the line
      await t.until("^C");
      await t.type("vm console --force 1\r");
      await t.until("Escape character");
      await t.type("\x1d"); // Ctrl-] detaches
      await t.until("detached from VM 1");
      await t.type("exit\r");
      await t.until("Goodbye!");
    } finally {
      code = await t.finish();
    }
    assert.equal(code, 0);
  },
});

Deno.test({
  name: "tty e2e: Ctrl-D while attached goes to the guest; at an empty prompt it ends the program",
  ignore: !hasScript(),
  fn: async () => {
    const t = await openTerminal("warp");
    let code: number;
    try {
      await t.until("axvisor:/$ ");
      await t.type("vm start echo\r");
      await t.until("type to echo");
      await t.type("vm console echo\r");
      await t.until("Escape character");
      await t.type("\x04"); // Ctrl-D: the guest's, not the end of the console
      await t.type("still here\r");
      // No host echo and no host line editing: only the guest's own output comes back.
      assert.doesNotMatch(await t.until("STILL HERE"), /still here/);
      await t.type("\x1d");
      await t.until("detached from VM 8");
      await t.type("vm list\r");
      assert.match(await t.until("Blk:1"), /8\s+echo\s+Running/);
      await t.until("axvisor:/$ ");
      await t.type("\x04"); // at an empty prompt: end of input, the program ends
    } finally {
      code = await t.finish();
    }
    assert.equal(code, 0);
  },
});

Deno.test({
  name: "tty e2e: Ctrl-C cancels a running `vm wait` (realtime clock) and the prompt returns",
  ignore: !hasScript(),
  fn: async () => {
    const t = await openTerminal("realtime");
    let code: number;
    try {
      await t.until("axvisor:/$ ");
      // VM 1 was created but not started: an hour-long wait for Suspended.
      await t.type("vm wait 1 --state suspended --timeout 3600s\r");
      await t.until("--timeout 3600s");
      await t.type("\x03"); // Ctrl-C while the command runs: cancels it, not the program
      const cancelled = await t.until("axvisor:/$ ");
      // The Ctrl-C may land before the wait began (the command is then not started) or during it.
      assert.match(
        cancelled,
        /✗ Cancelled while (waiting for VM\[1\] to reach state Suspended|starting 'vm wait')/,
      );
      await t.type("vm list\r");
      assert.match(await t.until("axvisor:/$ "), /hello/);
      await t.type("exit\r");
      await t.until("Goodbye!");
    } finally {
      code = await t.finish();
    }
    assert.equal(code, 0);
  },
});
