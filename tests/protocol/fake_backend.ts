/**
 * A small in-memory backend for protocol tests: a few commands, a clock the test moves, and
 * events the test emits. It records console input typed by attached sessions.
 *
 * @module
 */

import type {
  CommandInput,
  CommandOutcome,
  ExecuteOptions,
  ProtocolBackend,
} from "../../lib/protocol/backend.ts";
import type { ProtocolEvent } from "../../lib/protocol/events.ts";
import { tokenize } from "../../lib/shell/tokenizer.ts";

/** A scripted backend. */
export class FakeBackend implements ProtocolBackend {
  time = 1000;
  executed: string[][] = [];
  consoleInputs: { vm: number; text: string }[] = [];
  vmsAlive = new Set([1, 2]);
  listeners = new Set<(e: ProtocolEvent) => void>();
  /** Resolvers of `block` commands waiting to be released. */
  blocked: (() => void)[] = [];
  #blockWaiters: (() => void)[] = [];

  /** Resolves once a `block` command is waiting. */
  whenBlocked(): Promise<void> {
    if (this.blocked.length > 0) return Promise.resolve();
    return new Promise((resolve) => this.#blockWaiters.push(resolve));
  }

  now(): number {
    return this.time;
  }

  execute(
    command: CommandInput,
    _session: unknown,
    options: ExecuteOptions = {},
  ): Promise<CommandOutcome> {
    const argv = "argv" in command ? command.argv : tokenize(command.line);
    this.executed.push(argv);
    const [cmd, sub, arg] = argv;
    if (cmd === "help") return ok("Commands: vm, help, exit", { commands: ["vm"] });
    if (cmd === "exit" || cmd === "quit") return ok("Bye.", null, { type: "exit" });
    if (cmd === "shutdown") return ok("Shutting down.", null, { type: "shutdown" });
    if (cmd === "clear") return ok("", null, { type: "clear" });
    if (cmd === "echo") return ok(argv.slice(1).join(" "), { text: argv.slice(1).join(" ") });
    if (cmd === "boom") throw new Error("kaboom");
    if (cmd === "big") return ok(bigText(Number(sub)), { text: bigText(Number(sub)) });
    if (cmd === "block") {
      return new Promise((resolve) => {
        // Like `vm wait`: an abort of the command's signal ends it with CANCELLED.
        options.signal?.addEventListener("abort", () => {
          resolve(fail("CANCELLED", "Cancelled while blocked"));
        }, { once: true });
        this.blocked.push(() => resolve({ ok: true, text: "released" }));
        for (const w of this.#blockWaiters.splice(0)) w();
      });
    }
    if (cmd === "vm" && sub === "list") return ok("ID NAME\n1  hello", [{ id: 1, name: "hello" }]);
    if (cmd === "vm" && sub === "start") {
      this.emit({ event: "status", vm: Number(arg), from: "loaded", to: "running" });
      return ok(`VM[${arg}] started`, { started: [Number(arg)] });
    }
    if (cmd === "vm" && sub === "log" && argv[2] === "--follow") {
      return ok("old output\n", null, { type: "follow", vmId: Number(argv[3]) });
    }
    if (cmd === "vm" && sub === "console") {
      const id = Number(arg);
      if (!this.vmsAlive.has(id)) return fail("VM_NOT_FOUND", `VM ${arg} not found`);
      return ok("", null, { type: "attach", vmId: id });
    }
    return fail("UNKNOWN_COMMAND", `Unknown command '${argv.join(" ")}'`);
  }

  complete(line: string): string[] {
    return ["vm list", "vm start"].filter((c) => c.startsWith(line));
  }

  createShellSession(options: { readOnly: boolean }): unknown {
    return { readOnly: options.readOnly };
  }

  subscribe(listener: (event: ProtocolEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: ProtocolEvent): void {
    for (const l of this.listeners) l(event);
  }

  console(vm: number, text: string): void {
    this.emit({ event: "console", vm, data: new TextEncoder().encode(text) });
  }

  consoleInput(vmId: number, data: Uint8Array): boolean {
    if (!this.vmsAlive.has(vmId)) return false;
    this.consoleInputs.push({ vm: vmId, text: new TextDecoder().decode(data) });
    return true;
  }

  vmLabel(vmId: number): string | undefined {
    return this.vmsAlive.has(vmId) ? `VM ${vmId} (vm${vmId})` : undefined;
  }

  describe(): string {
    return "fake board, 2 VMs, warp clock";
  }
}

function ok(
  text: string,
  data?: unknown,
  action?: CommandOutcome["action"],
): Promise<CommandOutcome> {
  const o: CommandOutcome = { ok: true, text, data };
  if (action) o.action = action;
  return Promise.resolve(o);
}

function fail(code: string, message: string): Promise<CommandOutcome> {
  return Promise.resolve({ ok: false, text: `Error: ${message}`, error: { code, message } });
}

/** Drains and decodes everything a session has queued. */
export function drain(output: { take(): Uint8Array | undefined }): string {
  let s = "";
  const d = new TextDecoder();
  for (let c = output.take(); c; c = output.take()) s += d.decode(c);
  return s;
}

/** `n` bytes of numbered lines (`big N` replies with it), each 32 bytes long. */
export function bigText(n: number): string {
  const lines: string[] = [];
  for (let i = 0; i * 32 < n; i++) {
    lines.push(`line ${String(i).padStart(10, "0")} of big..........`);
  }
  return lines.join("\n").slice(0, n);
}
