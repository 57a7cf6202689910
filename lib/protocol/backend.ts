/**
 * What the protocol needs from the layers below, as one small interface.
 *
 * Sessions and the server talk only to a {@linkcode ProtocolBackend}; `axvisor_backend.ts` builds
 * one from the VMM's `Hypervisor` and the shell's `Shell`, and tests can supply their own. The
 * {@linkcode CommandOutcome} shape is the shell's (docs/architecture.md).
 *
 * @module
 */

import type { ExecuteOptions } from "../shell/cancel.ts";
import type { CommandOutcome } from "../shell/outcome.ts";
import type { ProtocolEvent } from "./events.ts";

export type { CommandAction, CommandOutcome } from "../shell/outcome.ts";
export type { ExecuteOptions } from "../shell/cancel.ts";

/** A command as a line to tokenize or as ready-made words. */
export type CommandInput = { line: string } | { argv: string[] };

/** The hypervisor and shell as the protocol sees them. */
export interface ProtocolBackend {
  /** Virtual time in nanoseconds. */
  now(): number;
  /**
   * Runs one shell command for a session (the server serialises calls). Aborting
   * `options.signal` cancels it (Ctrl-C at the interactive console); backends may ignore it.
   */
  execute(
    command: CommandInput,
    shellSession: unknown,
    options?: ExecuteOptions,
  ): Promise<CommandOutcome>;
  /** Tab completions for a partial line: the candidate full lines. */
  complete(line: string, shellSession: unknown): string[];
  /** Creates the shell's per-session state (working directory, history, read-only flag). */
  createShellSession(options: { readOnly: boolean }): unknown;
  /** Subscribes to hypervisor events; returns the unsubscribe function. */
  subscribe(listener: (event: ProtocolEvent) => void): () => void;
  /**
   * Types bytes into a VM's console; false when there is no such VM (or, given `instance`, when
   * that VM instance was deleted, even if another VM now has the id).
   */
  consoleInput(vmId: number, data: Uint8Array, instance?: number): boolean;
  /** A short label such as `VM 1 (hello)`, or `undefined` when the VM does not exist. */
  vmLabel(vmId: number): string | undefined;
  /** One line about the machine for the banner (board, harts, VMs, clock). */
  describe(): string;
  /** The prompt for a session (it may show the working directory); default `axvisor> `. */
  prompt?(shellSession: unknown): string;
}
