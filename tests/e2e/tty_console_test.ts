/**
 * `vm console` at a real terminal (a pseudo-terminal driven through `script`): the keyboard is
 * U-Boot's serial line. One key stops the autoboot, the `=> ` prompt shows without Enter, Tab
 * completes at U-Boot's prompt, Ctrl-C reaches U-Boot, a resize redraws nothing, Ctrl-] and `~.`
 * detach, `vm log --follow` ends on Ctrl-C, a VM that stops detaches, and the terminal modes are
 * exactly what they were, at the prompt and after the program ends.
 */
import assert from "node:assert/strict";
import { openTerminal } from "./terminal.ts";
import { exampleConfig, NEEDS_UBOOT, testNeeding, UBOOT_BIN } from "../vmm/uboot_support.ts";

function ubootRoot(): string {
  const dir = Deno.makeTempDirSync({ prefix: "axvisor-tty-uboot-" });
  Deno.mkdirSync(`${dir}/configs`);
  Deno.mkdirSync(`${dir}/images`);
  Deno.writeTextFileSync(`${dir}/configs/uboot.toml`, exampleConfig("uboot.toml"));
  Deno.copyFileSync(UBOOT_BIN, `${dir}/images/u-boot.bin`);
  return dir;
}

testNeeding(
  [NEEDS_UBOOT, { path: "script", pkg: "util-linux" }],
  "tty console: raw keys to U-Boot, Tab and Ctrl-C at its prompt, Ctrl-] and ~. detach",
  async () => {
    // Realtime clock: U-Boot's 2-second countdown runs on the wall clock, and a key typed as
    // soon as the countdown shows stops it.
    const t = await openTerminal("realtime", {
      fsRoot: ubootRoot(),
      args: ["--vm", "/configs/uboot.toml"],
    });
    let code: number;
    try {
      const before = (await t.until(/MODES=\S+/)).match(/MODES=(\S+)/)![1];
      await t.until("axvisor:/$ ");
      const atPrompt = t.modes();
      // Not running yet: refused, with the way out.
      await t.type("vm console uboot\r");
      assert.match(await t.until("axvisor:/$ "), /is Loaded, not running[^]*--force/);
      await t.type("vm start uboot\r");
      await t.until("axvisor:/$ ");
      await t.type("vm console uboot\r");
      await t.until("Escape character is '^]'.");
      const attached = t.modes();
      await t.until("Hit any key to stop autoboot");
      await t.type(" "); // one key, no Enter
      await t.until("\n=> ");
      // Tab completion is U-Boot's: "vers" + Tab becomes "version".
      await t.type("vers");
      await t.until("vers");
      await t.type("\t");
      await t.until("ion");
      // Ctrl-C at U-Boot's prompt abandons the line (U-Boot prints <INTERRUPT>).
      await t.type("\x03");
      await t.until("<INTERRUPT>");
      await t.until("=> ");
      // A resize while attached redraws nothing of the host's (no prompt): the guest's line is
      // untouched, and keys still go to U-Boot.
      t.resize(30, 100);
      await t.type("\x03");
      assert.doesNotMatch(await t.until("=> "), /axvisor:\/\$/);
      await t.type("\x1d"); // Ctrl-]
      await t.until("[detached from VM 11]");
      await t.until("axvisor:/$ ");
      assert.equal(t.modes(), atPrompt, "the terminal modes are back after Ctrl-]");
      // The VM keeps running; attach again and leave with ~. at the start of a line.
      await t.type("vm list\r");
      await t.until(/11\s+uboot\s+Running/);
      await t.type("vm console uboot\r");
      await t.until("Escape character is '^]'.");
      await t.type("\r");
      await t.until("=> ");
      await t.type("~.");
      await t.until("[detached from VM 11]");
      await t.until("axvisor:/$ ");
      assert.equal(t.modes(), atPrompt, "the terminal modes are back after ~.");
      // vm log --follow shows the buffered output, then streams until a key (Ctrl-C).
      await t.type("vm log --follow uboot\r");
      await t.until("vm log --follow uboot");
      await t.type("\x03");
      // Ctrl-C ends the follow; pressed while the command is still queued it cancels it instead.
      await t.until(/\[stopped following VM 11\]|Cancelled while starting 'vm log'/);
      await t.until("axvisor:/$ ");
      assert.equal(t.modes(), atPrompt, "the terminal modes are back after following");
      // The VM stops while attached: said, and detached.
      await t.type("vm console uboot\r");
      await t.until("Escape character is '^]'.");
      await t.type("poweroff\r");
      await t.until("[detached from VM 11: the VM stopped]");
      await t.until("axvisor:/$ ");
      await t.type("exit\r");
      const after = (await t.until(/MODES-AFTER=\S+/)).match(/MODES-AFTER=(\S+)/)![1];
      assert.equal(after, before, "the terminal modes are restored when the program ends");
      assert.notEqual(attached, before, "attached, the terminal is in raw mode");
    } finally {
      code = await t.finish();
    }
    assert.equal(code, 0);
  },
);
