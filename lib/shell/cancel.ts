/**
 * Cancelling a running command: an optional {@linkcode AbortSignal} passed with
 * {@linkcode ExecuteOptions} reaches every handler (as `ctx.signal`), and commands that wait
 * (`vm wait`, `vm restart`) stop waiting when it fires and fail with code `CANCELLED`.
 *
 * @module
 */

import { type CommandOutcome, failure } from "./outcome.ts";

/** The error code of a command cancelled through its signal. */
export const CANCELLED = "CANCELLED";

/** Options of `Shell.execute` / `CommandRunner.execute` (all optional). */
export interface ExecuteOptions {
  /** Aborting it cancels the command (commands that wait give up with code `CANCELLED`). */
  signal?: AbortSignal;
}

/** What {@linkcode cancellableWait} needs: the hypervisor's `waitFor`. */
export interface Waitable {
  /** Resolves true when `predicate` holds, false after `timeoutNs` of virtual time. */
  waitFor(predicate: () => boolean, timeoutNs: number, signal?: AbortSignal): Promise<boolean>;
}

/** How a {@linkcode cancellableWait} ended. */
export type WaitResult = "reached" | "timeout" | "cancelled";

/**
 * Waits like `hypervisor.waitFor(predicate, timeoutNs)`, but gives up when `signal` aborts:
 * the abort makes the hypervisor's wait end at its next check (one driver tick, at most the
 * driver's sleep), so no waiter or timer is left behind.
 */
export async function cancellableWait(
  hypervisor: Waitable,
  predicate: () => boolean,
  timeoutNs: number,
  signal?: AbortSignal,
): Promise<WaitResult> {
  if (signal?.aborted) return "cancelled";
  const reached = await hypervisor.waitFor(
    signal ? () => signal.aborted || predicate() : predicate,
    timeoutNs,
    signal,
  );
  if (signal?.aborted) return "cancelled";
  return reached ? "reached" : "timeout";
}

/** The outcome of a command cancelled while `doing` (e.g. `waiting for VM[1] to stop`). */
export function cancelledOutcome(doing: string, data?: unknown): CommandOutcome {
  const message = `Cancelled while ${doing}`;
  return failure(CANCELLED, message, `✗ ${message}`, data);
}
