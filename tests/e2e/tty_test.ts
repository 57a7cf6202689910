/**
 * The interactive terminal, through a real pseudo-terminal (`script` from util-linux gives the
 * program a TTY): prompt, Tab completion, Ctrl-C, console attach and Ctrl-], exit.
 */
import assert from "node:assert/strict";
import { makeFsRoot } from "./harness.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

function hasScript(): boolean {
  try {
    return new Deno.Command("script", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

Deno.test({
  name: "tty e2e: line editing, Tab completion, Ctrl-C, attach and Ctrl-], exit",
  ignore: !hasScript(),
  fn: async () => {
    const fsRoot = makeFsRoot();
    const cmd =
      `'${Deno.execPath()}' run --allow-all '${ROOT}bin/axvisor.ts' --fs-root '${fsRoot}'` +
      " --clock warp";
    const child = new Deno.Command("script", {
      args: ["-qefc", cmd, "/dev/null"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      cwd: ROOT,
    }).spawn();
    const writer = child.stdin.getWriter();
    const reader = child.stdout.getReader();
    const decoder = new TextDecoder();
    let seen = "";
    const until = async (text: string) => {
      while (!seen.includes(text)) {
        // Fail (rather than wait forever) when a keystroke was not understood.
        if (/Error: /.test(seen)) {
          throw new Error(`unexpected error while waiting for ${text}: ${seen}`);
        }
        const { value, done } = await reader.read();
        if (done) throw new Error(`output ended before ${JSON.stringify(text)}: ${seen}`);
        seen += decoder.decode(value, { stream: true });
      }
      const at = seen.indexOf(text) + text.length;
      const out = seen.slice(0, at);
      seen = seen.slice(at);
      return out;
    };
    const type = (s: string) => writer.write(new TextEncoder().encode(s));
    try {
      assert.match(await until("axvisor:/$ "), /axvisor\.ts .*3 VMs/);
      // Tab completes `list` (a key of its own: readline takes a pasted TAB literally).
      await type("vm lis");
      await until("vm lis");
      await type("\t");
      await until("t");
      await type("\r");
      assert.match(await until("smp"), /hello/);
      await until("axvisor:/$ ");
      await type("vm start 1\r");
      await until("Goodbye.");
      await type("half typed\x03"); // Ctrl-C cancels the line
      await until("^C");
      await type("vm console 1\r");
      await until("Escape character");
      await type("\x1d"); // Ctrl-] detaches
      await until("detached from VM 1");
      await type("exit\r");
      await until("Goodbye!");
      await writer.close();
      const rest = (async () => {
        while (!(await reader.read()).done) { /* drain */ }
      })();
      const status = await child.status;
      await rest;
      await new Response(child.stderr).text();
      assert.equal(status.code, 0);
    } finally {
      Deno.removeSync(fsRoot, { recursive: true });
    }
  },
});

Deno.test({
  name: "tty e2e: Ctrl-D while attached goes to the guest; at an empty prompt it ends the program",
  ignore: !hasScript(),
  fn: async () => {
    const fsRoot = makeFsRoot();
    const cmd =
      `'${Deno.execPath()}' run --allow-all '${ROOT}bin/axvisor.ts' --fs-root '${fsRoot}'` +
      " --clock warp";
    const child = new Deno.Command("script", {
      args: ["-qefc", cmd, "/dev/null"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      cwd: ROOT,
    }).spawn();
    const writer = child.stdin.getWriter();
    const reader = child.stdout.getReader();
    const decoder = new TextDecoder();
    let seen = "";
    const until = async (text: string) => {
      while (!seen.includes(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`output ended before ${JSON.stringify(text)}: ${seen}`);
        seen += decoder.decode(value, { stream: true });
      }
      const at = seen.indexOf(text) + text.length;
      const out = seen.slice(0, at);
      seen = seen.slice(at);
      return out;
    };
    const type = (s: string) => writer.write(new TextEncoder().encode(s));
    try {
      await until("axvisor:/$ ");
      await type("vm start echo\r");
      await until("type to echo");
      await type("vm console echo\r");
      await until("Escape character");
      await type("\x04"); // Ctrl-D: the guest's, not the end of the console
      await type("still here\r");
      assert.match(await until("STILL HERE"), /still here/);
      await type("\x1d");
      await until("detached from VM 8");
      await type("vm list\r");
      assert.match(await until("Blk:1"), /8\s+echo\s+Running/);
      await until("axvisor:/$ ");
      await type("\x04"); // at an empty prompt: end of input, the program ends
      const rest = (async () => {
        while (!(await reader.read()).done) { /* drain */ }
      })();
      const status = await child.status;
      await rest;
      await writer.close().catch(() => {});
      await new Response(child.stderr).text();
      assert.equal(status.code, 0);
    } finally {
      Deno.removeSync(fsRoot, { recursive: true });
    }
  },
});

Deno.test({
  name: "tty e2e: Ctrl-C cancels a running `vm wait` (realtime clock) and the prompt returns",
  ignore: !hasScript(),
  fn: async () => {
    const fsRoot = makeFsRoot();
    const cmd =
      `'${Deno.execPath()}' run --allow-all '${ROOT}bin/axvisor.ts' --fs-root '${fsRoot}'` +
      " --clock realtime";
    const child = new Deno.Command("script", {
      args: ["-qefc", cmd, "/dev/null"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      cwd: ROOT,
    }).spawn();
    const writer = child.stdin.getWriter();
    const reader = child.stdout.getReader();
    const decoder = new TextDecoder();
    let seen = "";
    const until = async (text: string) => {
      while (!seen.includes(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`output ended before ${JSON.stringify(text)}: ${seen}`);
        seen += decoder.decode(value, { stream: true });
      }
      const at = seen.indexOf(text) + text.length;
      const out = seen.slice(0, at);
      seen = seen.slice(at);
      return out;
    };
    const type = (s: string) => writer.write(new TextEncoder().encode(s));
    try {
      await until("axvisor:/$ ");
      // VM 1 was created but not started: an hour-long wait for Suspended.
      await type("vm wait 1 --state suspended --timeout 3600s\r");
      await until("--timeout 3600s");
      await type("\x03"); // Ctrl-C while the command runs: cancels it, not the program
      const cancelled = await until("axvisor:/$ ");
      // The Ctrl-C may land before the wait began (the command is then not started) or during it.
      assert.match(
        cancelled,
        /✗ Cancelled while (waiting for VM\[1\] to reach state Suspended|starting 'vm wait')/,
      );
      await type("vm list\r");
      assert.match(await until("axvisor:/$ "), /hello/);
      await type("exit\r");
      await until("Goodbye!");
      await writer.close();
      const rest = (async () => {
        while (!(await reader.read()).done) { /* drain */ }
      })();
      const status = await child.status;
      await rest;
      await new Response(child.stderr).text();
      assert.equal(status.code, 0);
    } finally {
      Deno.removeSync(fsRoot, { recursive: true });
    }
  },
});
