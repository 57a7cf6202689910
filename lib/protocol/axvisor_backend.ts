/**
 * The {@linkcode ProtocolBackend} of the real program: the VMM's `Hypervisor` and the shell's
 * `Shell`, seen through the few members the protocol uses (docs/architecture.md).
 *
 * @module
 */

import type { HypervisorEvent } from "../vmm/events.ts";
import type { CommandOutcome } from "../shell/outcome.ts";
import { ShellSession } from "../shell/session.ts";
import { promptFor } from "../shell/shell.ts";
import { scan } from "../shell/tokenizer.ts";
import type { CommandInput, ExecuteOptions, ProtocolBackend } from "./backend.ts";
import type { ProtocolEvent } from "./events.ts";

/** The members of the VMM's `Hypervisor` that the protocol uses. */
export interface HypervisorLike {
  /** The virtual clock. */
  readonly clock: { now(): number };
  /** A VM by id or name. */
  vm(idOrName: number | string): VmLike | undefined;
  /** Every VM, by id. */
  vms(): VmLike[];
  /** Subscribes to events; returns the unsubscribe function. */
  on(listener: (event: HypervisorEvent) => void): () => void;
}

/** The members of a VM that the protocol uses. */
export interface VmLike {
  /** VM id. */
  readonly id: number;
  /** VM name. */
  readonly name: string;
  /** The VM's console. */
  readonly console: { writeInput(data: Uint8Array | string): unknown };
  /** The VM instance (unique even when ids are reused), when the hypervisor tracks it. */
  readonly instance?: number;
}

/** The members of the shell's `Shell` that the protocol uses. */
export interface ShellLike {
  /** Runs a command line; `options.signal` cancels it. */
  execute(
    line: string,
    session: ShellSession,
    options?: { signal?: AbortSignal },
  ): Promise<CommandOutcome>;
  /** Runs a command given as words; `options.signal` cancels it. */
  executeArgv(
    argv: string[],
    session: ShellSession,
    options?: { signal?: AbortSignal },
  ): Promise<CommandOutcome>;
  /** Completion candidates for the word being typed at the end of `line`. */
  complete(line: string, session: ShellSession): string[];
}

/** Converts a hypervisor event into the protocol's form (`undefined` for unknown kinds). */
export function toProtocolEvent(event: HypervisorEvent): ProtocolEvent | undefined {
  switch (event.type) {
    case "status": {
      const e: ProtocolEvent = {
        event: "status",
        vm: event.vmId,
        from: event.from,
        to: event.to,
        timeNs: event.timeNs,
      };
      if (event.reason !== undefined) e.reason = event.reason;
      return e;
    }
    case "console":
      return { event: "console", vm: event.vmId, data: event.data, timeNs: event.timeNs };
    case "vcpu":
      return {
        event: "vcpu",
        vm: event.vmId,
        vcpu: event.vcpuId,
        state: event.change,
        pcpu: event.pcpu,
        timeNs: event.timeNs,
      };
    case "fault": {
      const e: ProtocolEvent = {
        event: "fault",
        vm: event.vmId,
        vcpu: event.vcpuId,
        kind: event.kind,
        message: event.message,
        pc: event.pc,
        timeNs: event.timeNs,
      };
      if (event.addr !== undefined) e.addr = event.addr;
      return e;
    }
    case "log": {
      const e: ProtocolEvent = {
        event: "log",
        level: event.level,
        message: event.message,
        timeNs: event.timeNs,
      };
      if (event.vmId !== undefined) e.vm = event.vmId;
      return e;
    }
    default:
      return undefined;
  }
}

/** Options of {@linkcode AxvisorBackend}. */
export interface AxvisorBackendOptions {
  /** The hypervisor. */
  hypervisor: HypervisorLike;
  /** The shell. */
  shell: ShellLike;
  /** The banner's description of the machine (board, harts, clock). */
  description: string;
  /** Called after every command and console input (wake the background driver). */
  onActivity?: () => void;
}

/** The hypervisor and the shell behind the protocol. */
export class AxvisorBackend implements ProtocolBackend {
  #hv: HypervisorLike;
  #shell: ShellLike;
  #description: string;
  #onActivity: () => void;

  /** Wraps a hypervisor and a shell. */
  constructor(options: AxvisorBackendOptions) {
    this.#hv = options.hypervisor;
    this.#shell = options.shell;
    this.#description = options.description;
    this.#onActivity = options.onActivity ?? (() => {});
  }

  /** Virtual time in nanoseconds. */
  now(): number {
    return this.#hv.clock.now();
  }

  /** Runs a command through the shell; `options.signal` cancels it. */
  async execute(
    command: CommandInput,
    shellSession: unknown,
    options: ExecuteOptions = {},
  ): Promise<CommandOutcome> {
    const session = shellSession as ShellSession;
    const shellOptions = options.signal ? { signal: options.signal } : {};
    try {
      return "argv" in command
        ? await this.#shell.executeArgv(command.argv, session, shellOptions)
        : await this.#shell.execute(command.line, session, shellOptions);
    } finally {
      this.#onActivity();
    }
  }

  /** Full-line completions of `line` (the shell completes the last word). */
  complete(line: string, shellSession: unknown): string[] {
    const words = this.#shell.complete(line, shellSession as ShellSession);
    let start = line.length;
    try {
      const { tokens, endsWithSpace } = scan(line, { partial: true });
      if (!endsWithSpace && tokens.length > 0) start = tokens[tokens.length - 1].start;
    } catch {
      return [];
    }
    const prefix = line.slice(0, start);
    return words.map((w) => prefix + w + (words.length === 1 && !w.endsWith("/") ? " " : ""));
  }

  /** A fresh shell session. */
  createShellSession(options: { readOnly: boolean }): unknown {
    return new ShellSession({ readOnly: options.readOnly });
  }

  /** Subscribes to the hypervisor's events. */
  subscribe(listener: (event: ProtocolEvent) => void): () => void {
    return this.#hv.on((event) => {
      const e = toProtocolEvent(event);
      if (e) listener(e);
    });
  }

  /** Types bytes into a VM's console. */
  consoleInput(vmId: number, data: Uint8Array, instance?: number): boolean {
    const vm = this.#hv.vm(vmId);
    // An attach bound to a deleted instance must not type into a new VM that reuses the id.
    if (!vm || (instance !== undefined && vm.instance !== instance)) return false;
    vm.console.writeInput(data);
    this.#onActivity();
    return true;
  }

  /** `VM 1 (hello)`. */
  vmLabel(vmId: number): string | undefined {
    const vm = this.#hv.vm(vmId);
    return vm ? `VM ${vm.id} (${vm.name})` : undefined;
  }

  /** The shell's prompt, `axvisor:/$ ` (with the session's working directory). */
  prompt(shellSession: unknown): string {
    return promptFor(shellSession as ShellSession);
  }

  /** The banner line. */
  describe(): string {
    const n = this.#hv.vms().length;
    return `${this.#description}, ${n} VM${n === 1 ? "" : "s"}`;
  }
}
