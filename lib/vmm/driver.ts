/**
 * The asynchronous driver: runs a {@linkcode Hypervisor}'s synchronous core in the background
 * for interactive use. It is the only place in lib/ where timers (`setTimeout`) are used.
 *
 * - `realtime` clock: virtual time follows the wall clock and never runs ahead of it; when no
 *   vCPU is runnable the driver sleeps until the next event (or a {@linkcode HypervisorDriver.poke}).
 * - `warp` clock: the core runs as fast as it can in chunks, yielding to the event loop between
 *   chunks so that I/O (consoles, sessions) keeps flowing; idle time jumps to the next event.
 *
 * @module
 */

import type { Hypervisor } from "./hypervisor.ts";

/** The shortest step the driver makes, in virtual nanoseconds (10 us). */
export const MIN_STEP_NS = 10_000;

/** Options of {@linkcode HypervisorDriver}. */
export interface DriverOptions {
  /** Host milliseconds of guest execution per chunk before yielding. Default 8. */
  chunkMs?: number;
  /** Virtual nanoseconds per step inside a chunk. Default 1 ms. */
  stepNs?: number;
  /** Longest sleep in host milliseconds while a timed event is pending. Default 50. */
  maxSleepMs?: number;
  /**
   * Sleep in host milliseconds when nothing at all is pending (no runnable vCPU, no timed event,
   * no wait): an idle hypervisor wakes a few times a second only. Input and commands wake the
   * driver at once through {@linkcode HypervisorDriver.poke}. Default 250.
   */
  idleSleepMs?: number;
  /** Wall clock in milliseconds (tests may inject one). Default `performance.now`. */
  now?: () => number;
}

interface Waiter {
  predicate: () => boolean;
  deadlineNs: number;
  resolve: (ok: boolean) => void;
}

/** Runs a hypervisor in the background. */
export class HypervisorDriver {
  /** The hypervisor driven. */
  readonly hypervisor: Hypervisor;
  readonly #chunkMs: number;
  readonly #stepNs: number;
  readonly #maxSleepMs: number;
  readonly #idleSleepMs: number;
  readonly #now: () => number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running = false;
  #wallBase = 0;
  #virtualBase = 0;
  #waiters: Waiter[] = [];
  #stopped: Promise<void> | undefined;
  #error: unknown;
  /**
   * Virtual nanoseconds the emulator ran per wall millisecond in the last busy step. A guest
   * that makes emulation slow (a console flood: one MMIO exit per byte) gets steps short enough
   * to end within the chunk, so the event loop (sessions, `vm stop`) is never held for long.
   */
  #nsPerMs: number;
  /** The last busy step's span: a step grows at most 4-fold, in case the guest turns slow. */
  #lastSpan = MIN_STEP_NS;

  /** Creates a driver (call {@linkcode HypervisorDriver.start}). */
  constructor(hypervisor: Hypervisor, options: DriverOptions = {}) {
    this.hypervisor = hypervisor;
    this.#chunkMs = options.chunkMs ?? 8;
    this.#stepNs = options.stepNs ?? 1_000_000;
    this.#maxSleepMs = options.maxSleepMs ?? 50;
    this.#idleSleepMs = Math.max(this.#maxSleepMs, options.idleSleepMs ?? 250);
    this.#now = options.now ?? (() => performance.now());
    // Until measured, assume a slow guest: the first step is short, the next ones grow.
    this.#nsPerMs = MIN_STEP_NS / this.#chunkMs;
  }

  /** Whether the background loop is running. */
  get running(): boolean {
    return this.#running;
  }

  /** The error that stopped the loop, if the core threw. */
  get error(): unknown {
    return this.#error;
  }

  /** Starts the loop and takes over the hypervisor's `waitFor`. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#wallBase = this.#now();
    this.#virtualBase = this.hypervisor.clock.now();
    this.hypervisor.setWaitHook((p, t) => this.waitFor(p, t));
    this.#schedule(0);
  }

  /** Stops the loop; pending waits resolve with their predicate's current value. */
  stop(): Promise<void> {
    if (!this.#running) return this.#stopped ?? Promise.resolve();
    this.#running = false;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.hypervisor.setWaitHook(undefined);
    for (const w of this.#waiters.splice(0)) w.resolve(w.predicate());
    this.#stopped = Promise.resolve();
    return this.#stopped;
  }

  /** Wakes the loop now (after a command changed something, or console input arrived). */
  poke(): void {
    if (!this.#running) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#schedule(0);
  }

  /** Resolves when `predicate` holds (true) or `timeoutNs` of virtual time passed (false). */
  waitFor(predicate: () => boolean, timeoutNs: number): Promise<boolean> {
    if (predicate()) return Promise.resolve(true);
    if (!this.#running) {
      return Promise.resolve(this.hypervisor.runUntil(predicate, timeoutNs));
    }
    return new Promise((resolve) => {
      this.#waiters.push({
        predicate,
        deadlineNs: this.hypervisor.clock.now() + Math.ceil(timeoutNs),
        resolve,
      });
      this.poke();
    });
  }

  /** Virtual time of the next hypervisor event or waiter deadline (Infinity: none). */
  #nearestNs(): number {
    let nearest = this.hypervisor.nextEventNs() ?? Infinity;
    for (const w of this.#waiters) nearest = Math.min(nearest, w.deadlineNs);
    return nearest;
  }

  #schedule(ms: number): void {
    this.#timer = setTimeout(() => this.#tick(), ms);
  }

  #checkWaiters(): void {
    const now = this.hypervisor.clock.now();
    this.#waiters = this.#waiters.filter((w) => {
      if (w.predicate()) {
        w.resolve(true);
        return false;
      }
      if (now >= w.deadlineNs) {
        w.resolve(false);
        return false;
      }
      return true;
    });
  }

  #tick(): void {
    this.#timer = undefined;
    if (!this.#running) return;
    const hv = this.hypervisor;
    const realtime = hv.clock.mode === "realtime";
    const start = this.#now();
    try {
      while (this.#now() - start < this.#chunkMs) {
        let span = this.#stepNs;
        if (realtime) {
          const wallNs = Math.floor((this.#now() - this.#wallBase) * 1e6);
          const behind = this.#virtualBase + wallNs - hv.clock.now();
          if (behind <= 0) break;
          if (!hv.hasRunnable()) {
            // Idle: jump to the next event, or catch up with the wall clock and sleep. (Looping
            // on the microseconds the wall clock moves meanwhile kept a core 10% busy.)
            const toNext = this.#nearestNs() - hv.clock.now();
            if (toNext >= behind) {
              hv.runFor(behind);
              this.#checkWaiters();
              if (!hv.hasRunnable()) break;
              continue;
            }
            span = Math.max(0, toNext);
          } else span = Math.min(span, behind);
        } else if (!hv.hasRunnable()) {
          const nearest = this.#nearestNs();
          if (nearest === Infinity) break;
          span = Math.max(0, nearest - hv.clock.now());
        }
        const busy = hv.hasRunnable();
        if (busy) {
          const left = Math.max(0, this.#chunkMs - (this.#now() - start));
          const fits = Math.floor(Math.min(this.#nsPerMs * left, 4 * this.#lastSpan));
          span = Math.min(span, Math.max(MIN_STEP_NS, fits));
        }
        const t0 = this.#now();
        // Bounded in wall time: a round that took long (a busy guest, heavy console output)
        // ends the chunk, and the event loop gets its turn.
        hv.runFor(span, () => this.#now() - start >= this.#chunkMs);
        if (busy) {
          this.#nsPerMs = span / Math.max(this.#now() - t0, 0.01);
          this.#lastSpan = span;
        }
        this.#checkWaiters();
        // Realtime and idle: virtual time caught up with the wall clock; spinning to follow it
        // in microsecond steps would burn the CPU. Sleep until the next event instead.
        if (realtime && !hv.hasRunnable()) break;
      }
    } catch (e) {
      this.#error = e;
      void this.stop();
      return;
    }
    this.#checkWaiters();
    if (!this.#running) return;
    let sleepMs = 0;
    if (realtime) {
      const wallNs = Math.floor((this.#now() - this.#wallBase) * 1e6);
      const ahead = hv.clock.now() - (this.#virtualBase + wallNs);
      if (!hv.hasRunnable()) {
        const nearest = this.#nearestNs();
        sleepMs = nearest === Infinity
          ? this.#idleSleepMs
          : Math.min(this.#maxSleepMs, Math.max(1, (nearest - hv.clock.now()) / 1e6));
      } else if (ahead >= 0) {
        sleepMs = Math.min(this.#maxSleepMs, Math.max(0, ahead / 1e6));
      }
    } else if (!hv.hasRunnable() && hv.nextEventNs() === undefined && this.#waiters.length === 0) {
      sleepMs = this.#idleSleepMs;
    }
    this.#schedule(sleepMs);
  }
}
