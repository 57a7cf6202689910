/**
 * Connects a {@linkcode Session} to a byte stream (a TCP connection, stdin/stdout pipes).
 *
 * Two loops per session: the reader feeds bytes to the session one chunk at a time and waits
 * for the session's output to drain below its soft limit before reading more (a client that
 * floods commands without reading replies is slowed down, not buffered without bound); the writer
 * drains the output queue to the stream. Neither loop ever blocks the emulator or other sessions.
 *
 * @module
 */

import type { Session } from "./session.ts";

/** The reading half of a byte stream (`Deno.Conn`, `Deno.stdin`). */
export interface ByteReader {
  /** Reads into `buffer`; resolves with the byte count or `null` at end of stream. */
  read(buffer: Uint8Array): Promise<number | null>;
}

/** The writing half of a byte stream (`Deno.Conn`, `Deno.stdout`). */
export interface ByteWriter {
  /** Writes some of `data`; resolves with the byte count written. */
  write(data: Uint8Array): Promise<number>;
}

/** Options of {@linkcode pumpSession}. */
export interface PumpOptions {
  /** Called once when both loops are done (close the connection here). */
  onDone?: () => void;
  /** Called when the reader hits the end of the stream (default: end the session). */
  onEof?: (session: Session) => void | Promise<void>;
  /** Called when the writer has written everything after the session closed (TCP: send FIN). */
  onWriterDone?: () => void | Promise<void>;
  /**
   * After the session closed, keep reading and discarding up to this many bytes until the peer
   * closes (so that unread input does not turn the close into a reset that loses the last
   * replies). Default 0: stop reading at once.
   */
  drainAfterClose?: number;
  /** Read buffer size (default 16 KiB). */
  readSize?: number;
}

/** Pumps bytes between a session and a stream until the session closes. */
export class SessionPump {
  /** Resolves when the reader loop has finished. */
  readonly readerDone: Promise<void>;
  /** Resolves when the writer loop has finished (all output written, or the stream failed). */
  readonly writerDone: Promise<void>;
  /** Resolves when both loops have finished. */
  readonly done: Promise<void>;
  /** Bytes read from the stream. */
  bytesIn = 0;
  /** Bytes written to the stream. */
  bytesOut = 0;
  #session: Session;
  #writing: Promise<unknown> = Promise.resolve();

  /** Starts the reader (if `reader` is given) and the writer. */
  constructor(
    session: Session,
    reader: ByteReader | undefined,
    writer: ByteWriter,
    options: PumpOptions = {},
  ) {
    this.#session = session;
    this.writerDone = this.#writeLoop(session, writer).then(() => options.onWriterDone?.());
    this.readerDone = reader ? this.#readLoop(session, reader, options) : Promise.resolve();
    this.done = Promise.all([this.readerDone, this.writerDone]).then(() => options.onDone?.());
  }

  /**
   * Resolves once everything queued so far has been written to the stream (or the session's
   * output was closed): batch mode waits for it between commands (back-pressure) and before it
   * prints a failure on stderr (so that the failure comes after the output it is about).
   */
  async flushed(): Promise<void> {
    const out = this.#session.output;
    while (true) {
      await out.waitForEmpty();
      await this.#writing;
      if (out.queuedBytes === 0 || out.closed || out.overflowed) return;
    }
  }

  async #readLoop(session: Session, reader: ByteReader, options: PumpOptions): Promise<void> {
    const buffer = new Uint8Array(options.readSize ?? 16 * 1024);
    let discarded = 0;
    try {
      while (true) {
        const n = await reader.read(buffer);
        if (n === null) {
          if (session.closed) return;
          if (options.onEof) await options.onEof(session);
          else await session.end();
          return;
        }
        this.bytesIn += n;
        if (session.closed) {
          discarded += n;
          if (discarded > (options.drainAfterClose ?? 0)) return;
          continue;
        }
        await session.receive(buffer.slice(0, n));
        await session.output.waitForDrain();
      }
    } catch (e) {
      if (!session.closed) {
        session.close(`read failed: ${(e as Error).message ?? e}`, { graceful: false });
      }
    }
  }

  async #writeLoop(session: Session, writer: ByteWriter): Promise<void> {
    const out = session.output;
    try {
      while (true) {
        await out.waitForData();
        const chunk = out.take();
        if (chunk) {
          const writing = (async () => {
            let at = 0;
            while (at < chunk.length) at += await writer.write(chunk.subarray(at));
          })();
          this.#writing = writing.catch(() => {});
          await writing;
          this.bytesOut += chunk.length;
          continue;
        }
        if (out.finished) return;
      }
    } catch (e) {
      if (!session.closed) {
        session.close(`write failed: ${(e as Error).message ?? e}`, { graceful: false });
      }
    }
  }
}
