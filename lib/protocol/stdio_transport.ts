/**
 * Console sessions on the program's standard input and output.
 *
 * - {@linkcode serveStdioStream}: stdin/stdout as a plain byte stream (pipes, files, `nc`-like
 *   use), exactly like a TCP session.
 * - {@linkcode runInteractive} (interactive.ts): a terminal, with line editing.
 *
 * @module
 */

import type { ConsoleServer } from "./server.ts";
import type { OutputQueueLimits } from "./output_queue.ts";
import type { Session } from "./session.ts";
import { type ByteReader, type ByteWriter, SessionPump } from "./stream_transport.ts";

/** A running stdio session. */
export interface StdioService {
  /** The session. */
  session: Session;
  /** Resolves when the session has ended (end of input, `exit`, shutdown) and output is written. */
  done: Promise<void>;
  /** Resolves once everything queued so far is written (see `SessionPump.flushed`). */
  flushed(): Promise<void>;
}

/** Serves one session on a byte stream pair (default: `Deno.stdin` / `Deno.stdout`). */
export function serveStdioStream(
  server: ConsoleServer,
  options: {
    reader?: ByteReader;
    writer?: ByteWriter;
    banner?: boolean;
    prompt?: boolean;
    /** Do not read at all (batch mode feeds the session itself). */
    noInput?: boolean;
    /** Output limits of the session (default: the server's). */
    limits?: OutputQueueLimits;
    /** Stall timeout of large replies (0: wait for the reader for ever). */
    stallTimeoutMs?: number;
  } = {},
): StdioService {
  const session = server.openSession({
    kind: "stdio",
    peer: "stdio",
    banner: options.banner,
    prompt: options.prompt,
    limits: options.limits,
    stallTimeoutMs: options.stallTimeoutMs,
    bannerDelayMs: server.bannerDelayMs,
  });
  const pump = new SessionPump(
    session,
    options.noInput ? undefined : options.reader ?? Deno.stdin,
    options.writer ?? Deno.stdout,
  );
  // Stdin may stay open after the session ends (`exit`): do not wait for the reader then.
  const done = Promise.race([
    pump.done,
    session.closedPromise.then(() => pump.writerDone),
  ]);
  return { session, done, flushed: () => pump.flushed() };
}
