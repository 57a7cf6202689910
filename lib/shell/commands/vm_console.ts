/**
 * Guest console commands: `vm console <VM>` (attach), `vm send <VM> <TEXT...>` (type into the
 * console), `vm log <VM> [--tail N]` (the output ring buffer) and `vm wait <VM> [--state S]
 * [--console REGEX] [--new] [--timeout DUR]` (block, in virtual time, until a state or console
 * output is reached; a timeout is an error).
 *
 * @module
 */

import type { Vm } from "../../vmm/mod.ts";
import { VM_STATUSES, type VmStatus, vmStatusName } from "../../vmm/status.ts";
import { cancellableWait, cancelledOutcome, type WaitResult } from "../cancel.ts";
import { ArgDef, CommandNode, FlagDef, OptionDef } from "../command_tree.ts";
import { formatDuration, parseDuration, parseUnsigned } from "../format.ts";
import { type CommandAction, type CommandOutcome, failure, success } from "../outcome.ts";
import { notFoundError, notFoundLine, resolveVm, type ShellContext } from "./vm_target.ts";
import { compileUserRegExp, UnsafePatternError } from "../user_regexp.ts";

/** Default `vm wait --timeout`: 10 s of virtual time. */
export const DEFAULT_WAIT_TIMEOUT = "10s";

/** How much console text `vm wait --console` keeps for matching (the newest part). */
export const WAIT_BUFFER_LIMIT = 1 << 20;

function lookup(ctx: ShellContext, arg: string): Vm | CommandOutcome {
  const target = resolveVm(ctx.hypervisor, arg);
  if (target.vm) return target.vm;
  const error = notFoundError(target);
  return failure(error.code, error.message, notFoundLine(target));
}

function isVm(value: Vm | CommandOutcome): value is Vm {
  return "vcpus" in value;
}

const vmArg = (description: string) =>
  new ArgDef("VM_ID", description).required("No VM specified").completes("vm");

/**
 * Parses an escape key as `vm console --escape` takes it: `^]`, `^A` (caret notation),
 * `ctrl-a`, one printable character, or `none`. Returns the byte, `null` for `none`, or
 * `undefined` when the text is not a key.
 */
export function parseEscapeKey(text: string): number | null | undefined {
  const t = text.trim();
  if (t.toLowerCase() === "none") return null;
  const caret = /^(?:\^|ctrl-|c-)(.)$/i.exec(t);
  if (caret) {
    const c = caret[1].toUpperCase().charCodeAt(0);
    if (c === 0x3f) return 0x7f;
    return c >= 0x40 && c <= 0x5f ? c - 0x40 : undefined;
  }
  const c = t.charCodeAt(0);
  return t.length === 1 && c > 0x20 && c < 0x7f ? c : undefined;
}

/** Builds `vm console`. */
export function vmConsoleCommand(): CommandNode<ShellContext> {
  return new CommandNode<ShellContext>("Attach to a VM's console")
    .withUsage("vm console [OPTIONS] <VM_ID>")
    .addOption(
      new OptionDef("escape", "Key that detaches anywhere: ^X (e.g. ^A), a character, or none")
        .withShort("e").withValueType("KEY").withDefault("^]"),
    )
    .addOption(
      new OptionDef("line-escape", "At the start of a line, KEY then '.' detaches (or none)")
        .withValueType("KEY").withDefault("~"),
    )
    .addFlag(
      new FlagDef("force", "Attach to a VM that is not running and wait for it to start")
        .withShort("f"),
    )
    .addArg(vmArg("VM whose console to attach (id or name)"))
    .readOnly()
    .withNotes(
      "At a terminal the keyboard is the guest's serial line (raw mode): every key goes to the\n" +
        "guest as typed (Tab, Ctrl-C, arrows...) and guest output is shown untouched. Detach with\n" +
        "Ctrl-] or, at the start of a line, '~.' ('~~' types one '~'); the VM keeps running.\n" +
        "Over TCP, telnet clients are switched to character mode; nc sends whole lines.\n" +
        "Read-only sessions only watch. Without a terminal (pipes, batch) use vm send/wait/log.",
    )
    .withHandler((cmd, ctx) => {
      const vm = lookup(ctx, cmd.getArg(0)!);
      if (!isVm(vm)) return vm;
      const keys: { control?: number | null; line?: number | null } = {};
      for (const [name, field] of [["escape", "control"], ["line-escape", "line"]] as const) {
        const text = cmd.getOption(name)!;
        const key = parseEscapeKey(text);
        if (key === undefined) {
          return failure(
            "INVALID_VALUE",
            `Invalid value '${text}' for option '--${name}': expected ^X (a control key such ` +
              `as ^] or ^A), one printable character, or none`,
          );
        }
        if (key !== (field === "control" ? 0x1d : 0x7e)) keys[field] = key;
      }
      const running = vm.status === "running" || vm.status === "suspended";
      if (!running && !cmd.hasFlag("force")) {
        const message = `VM[${vm.id}] is ${
          vmStatusName(vm.status)
        }, not running: start it first (vm start ${vm.id}), or attach with --force to wait for it`;
        return failure("INVALID_STATE", message, `✗ ${message}`);
      }
      const readOnly = ctx.session.readOnly;
      const escapeKey = keys.control === undefined ? "^]" : describeEscapeKey(keys.control);
      const text = `Connected to VM[${vm.id}] (${vm.name}) console${
        readOnly ? " (read-only)" : ""
      }. Escape character is '${escapeKey}'.`;
      const action: CommandAction = { type: "attach", vmId: vm.id, instance: vm.instance };
      if (readOnly) action.readOnly = true;
      if (keys.control !== undefined || keys.line !== undefined) action.escape = keys;
      if (!running) action.waiting = true;
      return success(text, { vmId: vm.id, name: vm.name, status: vm.status, readOnly }, action);
    });
}

/** How an escape key looks to a person: `^]`, `~`, or `none`. */
export function describeEscapeKey(byte: number | null | undefined): string {
  if (byte === undefined) return "none";
  if (byte === null) return "none";
  if (byte === 0x7f) return "^?";
  return byte < 0x20 ? "^" + String.fromCharCode(byte + 0x40) : String.fromCharCode(byte);
}

const SIMPLE_ESCAPES: Record<string, number> = { n: 10, r: 13, t: 9, "0": 0, "\\": 92 };

/**
 * Decodes `vm send -e` escapes into bytes (`\\xHH` is one raw byte); an unknown or short
 * escape is an error outcome.
 */
function decodeEscapes(text: string): Uint8Array | CommandOutcome {
  const out: number[] = [];
  const encoder = new TextEncoder();
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== "\\") {
      const cp = text.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      out.push(...encoder.encode(ch));
      i += ch.length - 1;
      continue;
    }
    const next = text[i + 1];
    if (next !== undefined && next in SIMPLE_ESCAPES) {
      out.push(SIMPLE_ESCAPES[next]);
      i++;
    } else if (next === "x" && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 2, i + 4))) {
      out.push(parseInt(text.slice(i + 2, i + 4), 16));
      i += 3;
    } else {
      const bad = text.slice(i, i + 4);
      return failure(
        "INVALID_VALUE",
        `Invalid escape '${bad}' at position ${i + 1}: use \\n \\r \\t \\0 \\\\ or \\xHH`,
      );
    }
  }
  return Uint8Array.from(out);
}

/** Builds `vm send`. */
export function vmSendCommand(): CommandNode<ShellContext> {
  return new CommandNode<ShellContext>("Type a line into a VM's console")
    .withUsage("vm send [OPTIONS] <VM_ID> <TEXT...>")
    .addFlag(new FlagDef("no-newline", "Do not send a trailing newline").withShort("n"))
    .addFlag(
      new FlagDef("escapes", "Interpret \\n \\r \\t \\0 \\\\ and \\xHH (e.g. '\\x03' for Ctrl-C)")
        .withShort("e"),
    )
    .addArg(vmArg("VM to type into (id or name)"))
    .addArg(new ArgDef("TEXT", "Text to send; words are joined by spaces").required().variadic())
    .withHandler((cmd, ctx) => {
      const vm = lookup(ctx, cmd.getArg(0)!);
      if (!isVm(vm)) return vm;
      if (vm.status !== "running" && vm.status !== "suspended") {
        const message = `VM[${vm.id}] is ${vmStatusName(vm.status)}: its console takes no input`;
        return failure("INVALID_STATE", message, `✗ ${message}`);
      }
      const text = cmd.positionalArgs.slice(1).join(" ");
      let body: Uint8Array;
      if (cmd.hasFlag("escapes")) {
        const decoded = decodeEscapes(text);
        if (!(decoded instanceof Uint8Array)) return decoded;
        body = decoded;
      } else {
        body = new TextEncoder().encode(text);
      }
      const newline = cmd.hasFlag("no-newline") ? 0 : 1;
      const bytes = new Uint8Array(body.length + newline);
      bytes.set(body);
      if (newline) bytes[body.length] = 10;
      const taken = vm.console.writeInput(bytes);
      if (taken < bytes.length) {
        const message =
          `VM[${vm.id}] console input is full (the guest is not reading it): ${taken} of ${bytes.length} byte(s) queued`;
        return failure("BUSY", message, `✗ ${message}`);
      }
      return success(`✓ Sent ${bytes.length} byte(s) to VM[${vm.id}] console`, {
        vmId: vm.id,
        bytes: bytes.length,
      });
    });
}

/** Builds `vm log`. */
export function vmLogCommand(): CommandNode<ShellContext> {
  return new CommandNode<ShellContext>("Show a VM's console output")
    .withUsage("vm log [OPTIONS] <VM_ID>")
    .addOption(
      new OptionDef("tail", "Only the last N lines").withShort("t").withValueType("N"),
    )
    .addFlag(
      new FlagDef("follow", "Then show new output as it comes, until Ctrl-C (a terminal session)")
        .withShort("f"),
    )
    .addArg(vmArg("VM whose console output to show (id or name)"))
    .readOnly()
    .withNotes(
      "Shows the in-memory ring buffer (the newest 64 KiB). The whole history is in the VM's\n" +
        "data folder: /guest/vms/<name>/vm.log (rotated to vm.log.1, vm.log.2, ...).",
    )
    .withHandler((cmd, ctx) => {
      const vm = lookup(ctx, cmd.getArg(0)!);
      if (!isVm(vm)) return vm;
      let text = vm.console.text();
      const tailArg = cmd.getOption("tail");
      if (tailArg !== undefined) {
        const n = parseUnsigned(tailArg);
        if (n === undefined) {
          return failure(
            "INVALID_VALUE",
            `Invalid value '${tailArg}' for option '--tail': expected a number of lines`,
          );
        }
        const lines = text.split("\n");
        if (lines[lines.length - 1] === "") lines.pop();
        text = n === 0 ? "" : lines.slice(-n).join("\n");
      } else if (text.endsWith("\n")) {
        text = text.slice(0, -1);
      }
      const data = {
        vmId: vm.id,
        text,
        totalBytes: vm.console.totalWritten,
        truncated: vm.console.totalWritten > vm.console.capacity,
      };
      if (!cmd.hasFlag("follow")) return success(text, data);
      // The ring buffer's last line may be unfinished: it is shown as it is, and new output
      // continues it.
      const raw = vm.console.text();
      const shown = tailArg !== undefined ? text + (raw.endsWith("\n") ? "\n" : "") : raw;
      return {
        ok: true,
        text: shown,
        data,
        action: { type: "follow", vmId: vm.id, instance: vm.instance },
        noNewline: true,
      };
    });
}

/** Builds `vm wait`. */
export function vmWaitCommand(): CommandNode<ShellContext> {
  return new CommandNode<ShellContext>("Wait (in virtual time) for a VM state or console output")
    .withUsage("vm wait [OPTIONS] <VM_ID>")
    .addOption(
      new OptionDef("state", "Wait until the VM is in this state").withShort("s")
        .withValueType("STATE").withChoices([...VM_STATUSES]),
    )
    .addOption(
      new OptionDef("console", "Wait until the console output matches this regular expression")
        .withShort("c").withValueType("REGEX"),
    )
    .addFlag(new FlagDef("new", "Match only console output written after the command started"))
    .addOption(
      new OptionDef("timeout", "Give up after this much virtual time (e.g. 10s, 500ms)")
        .withShort("t").withValueType("DURATION").withDefault(DEFAULT_WAIT_TIMEOUT),
    )
    .addArg(vmArg("VM to wait for (id or name)"))
    .readOnly()
    .withNotes(
      "With both --state and --console, both must hold. A timeout is an error. Patterns must " +
        "match in linear time (no backreferences or lookahead), so that no pattern can stall " +
        "the hypervisor.",
    )
    .withHandler(async (cmd, ctx) => {
      const vm = lookup(ctx, cmd.getArg(0)!);
      if (!isVm(vm)) return vm;
      const state = cmd.getOption("state") as VmStatus | undefined;
      const pattern = cmd.getOption("console");
      if (state === undefined && pattern === undefined) {
        return failure("MISSING_ARGUMENT", "Nothing to wait for: give --state and/or --console");
      }
      const timeoutText = cmd.getOption("timeout")!;
      const timeoutNs = parseDuration(timeoutText);
      if (timeoutNs === undefined) {
        return failure(
          "INVALID_VALUE",
          `Invalid value '${timeoutText}' for option '--timeout': expected a duration such as 10s, 500ms, 250us`,
        );
      }
      let regex: RegExp | undefined;
      if (pattern !== undefined) {
        try {
          regex = compileUserRegExp(pattern, "m");
        } catch (error) {
          return failure(
            "INVALID_VALUE",
            error instanceof UnsafePatternError
              ? `Refused regular expression '${pattern}': ${error.message}`
              : `Invalid regular expression '${pattern}': ${(error as Error).message}`,
          );
        }
      }
      const hv = ctx.hypervisor;
      const id = vm.id;
      const started = hv.clock.now();
      let buffer = regex && !cmd.hasFlag("new") ? vm.console.text() : "";
      const decoder = new TextDecoder();
      let match: RegExpExecArray | null = null;
      const unsubscribe = regex
        ? vm.console.subscribe((data) => {
          buffer += decoder.decode(data, { stream: true });
          if (buffer.length > WAIT_BUFFER_LIMIT) buffer = buffer.slice(-WAIT_BUFFER_LIMIT);
        })
        : undefined;
      // A state reached and left again since the wait began (e.g. a VM that starts and stops
      // inside one emulator chunk on the realtime clock) counts as reached: the status-change
      // events are watched, not only the status at each check.
      let stateSeen = false;
      const unwatch = state !== undefined
        ? hv.on((event) => {
          if (event.type === "status" && event.vmId === id && event.to === state) stateSeen = true;
        })
        : undefined;
      let gone = false;
      const done = () => {
        const current = hv.vm(id);
        if (current !== vm) {
          gone = true;
          return true;
        }
        if (state !== undefined && vm.status !== state && !stateSeen) return false;
        if (regex) {
          match = regex.exec(buffer);
          if (!match) return false;
        }
        return true;
      };
      let result: WaitResult = "timeout";
      try {
        result = await cancellableWait(hv, done, timeoutNs, ctx.signal);
      } finally {
        unsubscribe?.();
        unwatch?.();
      }
      const reached = result === "reached";
      const waitedNs = hv.clock.now() - started;
      const what = [
        state !== undefined ? `state ${vmStatusName(state)}` : undefined,
        regex ? `console output matching /${pattern}/` : undefined,
      ].filter((w) => w !== undefined).join(" and ");
      const data = {
        vmId: id,
        status: vm.status,
        waitedNs,
        match: (match as RegExpExecArray | null)?.[0],
        /** True when the state was reached but had been left again when the wait ended. */
        stateLeft: state !== undefined && reached && vm.status !== state,
      };
      if (result === "cancelled") {
        return cancelledOutcome(
          `waiting for VM[${id}] to reach ${what} (after ${formatDuration(waitedNs)} virtual; ` +
            `it is ${vmStatusName(vm.status)})`,
          data,
        );
      }
      if (gone) {
        const message = `VM[${id}] was deleted while waiting for ${what}`;
        return failure("NOT_FOUND", message, `✗ ${message}`, data);
      }
      if (!reached) {
        const message =
          `Timed out after ${timeoutText} (virtual) waiting for VM[${id}] to reach ${what}; it is ${
            vmStatusName(vm.status)
          }`;
        return failure("TIMEOUT", message, `✗ ${message}`, data);
      }
      return success(
        `✓ VM[${id}] reached ${what} after ${formatDuration(waitedNs)} (virtual)`,
        data,
      );
    });
}
