/**
 * The asynchronous driver: runs a {@linkcode Hypervisor}'s synchronous core in the background
 * for interactive use. It is the only place in lib/ where timers (`setTimeout`) are used.
 *
 * - `realtime` clock: virtual time follows the wall clock and never runs ahead of it; when no
 *   vCPU is runnable the driver sleeps until the next event (or a {@linkcode HypervisorDriver.poke}).
 * - `warp` clock: the core runs as fast as it can in chunks, yielding to the event loop between
 *   chunks so that I/O (consoles, sessions) keeps flowing; idle time jumps to the next event.
 *
 * Idle costs nothing, or next to nothing. With nothing pending at all (no VM running, every vCPU
 * halted with no timer, no wait) the driver arms no timer: only a poke wakes it. With idle guests
 * whose timers tick (a kernel in `wfi` between 100 Hz ticks), each host wake-up costs far more
 * than the few guest instructions it runs (a Deno timer wake-up is some 40 µs of CPU, and the
 * guest code then runs on cold caches), so the driver lets virtual time fall behind the wall
 * clock while nothing observable happens, and runs the silent ticks in batches. The allowed lag
 * grows with the quiet: it starts at {@linkcode FIRST_LAG_NS}, doubles per quiet wake-up, and is
 * held to a tenth of the time since anything was last noticed ({@linkcode QUIET_PER_LAG}) and to
 * {@linkcode DriverOptions.maxLagMs}, and to {@linkcode WATCHED_MAX_LAG_MS} while someone watches a
 * console live. A guest silent for 10 s or more costs about one host wake-up a second; one that
 * prints every second has its output at most 0.1 s late, as before.
 * The batch runs in one call of the core (two scheduling rounds a tick), handing back to the
 * driver's careful stepping as soon as a guest stays busy. Guests still see every tick at its
 * exact virtual time; only when the host runs them changes.
 * Any event (console output, a status change), any poke (a command, console input) and any
 * pending wait makes the driver exact again at once.
 *
 * @module
 */

import type { Hypervisor } from "./hypervisor.ts";

/** The shortest step the driver makes, in virtual nanoseconds (10 us). */
export const MIN_STEP_NS = 10_000;

/** The longest delay a host timer takes (2^31 - 1 ms, some 24 days): a longer one fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The first lag allowed after a quiet wake-up, in virtual nanoseconds; it doubles from there. */
export const FIRST_LAG_NS = 1_000_000;

/**
 * The lag allowed is at most the quiet time (wall time since anything was last noticed) divided
 * by this: output that follows a quiet spell is late by at most a tenth of that spell.
 */
export const QUIET_PER_LAG = 10;

/** The default {@linkcode DriverOptions.maxLagMs}: a silent guest wakes the host about once a second. */
export const DEFAULT_MAX_LAG_MS = 1000;

/**
 * The most lag allowed, in host milliseconds, while someone watches a console live
 * ({@linkcode DriverOptions.watched}): a guest's own output (`sleep 5; echo`, a timer's message)
 * then reaches the person at most this late, whatever the quiet before it.
 */
export const WATCHED_MAX_LAG_MS = 100;

/** The timer functions the driver uses (tests may inject their own). */
export interface DriverTimers {
  /** Calls `callback` after `ms` milliseconds; returns a handle for `clear`. */
  set(callback: () => void, ms: number): unknown;
  /** Cancels a timer set with `set`. */
  clear(handle: unknown): void;
}

/** Options of {@linkcode HypervisorDriver}. */
export interface DriverOptions {
  /** Host milliseconds of guest execution per chunk before yielding. Default 8. */
  chunkMs?: number;
  /** Virtual nanoseconds per step inside a chunk. Default 1 ms. */
  stepNs?: number;
  /**
   * Longest sleep in host milliseconds while a timed event is pending. Default: no limit (the
   * driver sleeps exactly until the next event, plus the allowed lag).
   */
  maxSleepMs?: number;
  /**
   * Realtime clock: how far, in host milliseconds, virtual time may at most fall behind the wall
   * clock while every vCPU is idle and nothing observable happens, so that an idle guest's timer
   * ticks run in batches (see the module doc; the lag reaches it only after
   * {@linkcode QUIET_PER_LAG} times as long a quiet spell). 0 runs every event at its wall time.
   * Default {@linkcode DEFAULT_MAX_LAG_MS}.
   */
  maxLagMs?: number;
  /**
   * Whether someone watches a guest's console live (a session attached to it, a client on its
   * console port): the lag is then held to {@linkcode WATCHED_MAX_LAG_MS} as well, so that what
   * a guest prints on its own after a quiet spell is not seen late. Default: nobody watches.
   */
  watched?: () => boolean;
  /** Wall clock in milliseconds (tests may inject one). Default `performance.now`. */
  now?: () => number;
  /** Timer functions (tests may inject their own). Default `setTimeout`, `clearTimeout`. */
  timers?: DriverTimers;
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
  readonly #maxLagNs: number;
  readonly #watched: () => boolean;
  readonly #now: () => number;
  readonly #timers: DriverTimers;
  #timer: unknown;
  /** Wall time (per `now`) at which the armed timer is due; undefined when none is armed. */
  #wakeAtMs: number | undefined;
  /** Whether the armed timer is a zero-delay one (the next turn of the event loop). */
  #immediate = false;
  /** Whether the loop is running now (a poke then asks for another run right after it). */
  #ticking = false;
  /** Whether a poke came during the current run of the loop. */
  #pokedWhileTicking = false;
  #running = false;
  #wallBase = 0;
  #virtualBase = 0;
  #waiters: Waiter[] = [];
  #stopped: Promise<void> | undefined;
  #error: unknown;
  #unsubscribe: (() => void) | undefined;
  /**
   * Whether anything a client may notice happened since the last sleep began: an event of the
   * hypervisor (console output, a status change), a poke (a command, console input), a wait
   * that ended.
   */
  #noticed = false;
  /** How far (virtual ns) the next idle sleep may run past the next event. */
  #lagNs = 0;
  /** Wall time (per `now`) at which anything was last noticed: the quiet spell began then. */
  #quietSinceMs = 0;
  /** Host wake-ups (ticks) so far. */
  #wakeUps = 0;
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
    this.#maxSleepMs = options.maxSleepMs ?? Infinity;
    this.#maxLagNs = Math.max(0, options.maxLagMs ?? DEFAULT_MAX_LAG_MS) * 1e6;
    this.#watched = options.watched ?? (() => false);
    this.#now = options.now ?? (() => performance.now());
    this.#timers = options.timers ?? {
      set: (callback, ms) => setTimeout(callback, ms),
      clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
    };
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

  /**
   * When the driver wakes next, in wall milliseconds (its `now` clock); undefined when no timer
   * is armed (it sleeps until poked: nothing is pending).
   */
  get nextWakeMs(): number | undefined {
    return this.#wakeAtMs;
  }

  /** Host wake-ups (runs of the background loop) since the driver was created. */
  get wakeUps(): number {
    return this.#wakeUps;
  }

  /** How far (ms) virtual time may now fall behind the wall clock before the driver wakes. */
  get lagMs(): number {
    return this.#lagNs / 1e6;
  }

  /** Starts the loop and takes over the hypervisor's `waitFor`. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#wallBase = this.#now();
    this.#quietSinceMs = this.#wallBase;
    this.#virtualBase = this.hypervisor.clock.now();
    this.hypervisor.setWaitHook((p, t, signal) => this.waitFor(p, t, signal));
    this.#unsubscribe = this.hypervisor.on(() => this.#noticed = true);
    this.#schedule(0);
  }

  /** Stops the loop; pending waits resolve with their predicate's current value. */
  stop(): Promise<void> {
    if (!this.#running) return this.#stopped ?? Promise.resolve();
    this.#running = false;
    this.#cancelTimer();
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.hypervisor.setWaitHook(undefined);
    for (const w of this.#waiters.splice(0)) w.resolve(w.predicate());
    this.#stopped = Promise.resolve();
    return this.#stopped;
  }

  /** Wakes the loop now (after a command changed something, or console input arrived). */
  poke(): void {
    if (!this.#running) return;
    this.#noticed = true;
    this.#lagNs = 0;
    if (this.#ticking) {
      this.#pokedWhileTicking = true; // the run ends with a zero-delay timer
      return;
    }
    if (this.#immediate) return; // a wake-up is due at once already
    this.#schedule(0);
  }

  /**
   * Resolves when `predicate` holds (true) or `timeoutNs` of virtual time passed (false). The
   * predicate is checked whenever the loop runs; aborting `signal` (a cancelled command, a closed
   * session) wakes the loop at once, so a predicate that watches the signal sees it without the
   * loop polling.
   */
  waitFor(predicate: () => boolean, timeoutNs: number, signal?: AbortSignal): Promise<boolean> {
    if (predicate()) return Promise.resolve(true);
    if (!this.#running) {
      return Promise.resolve(this.hypervisor.runUntil(predicate, timeoutNs));
    }
    return new Promise((resolve) => {
      const wake = () => this.poke();
      signal?.addEventListener("abort", wake, { once: true });
      this.#waiters.push({
        predicate,
        deadlineNs: this.hypervisor.clock.now() + Math.ceil(timeoutNs),
        resolve: (ok) => {
          signal?.removeEventListener("abort", wake);
          resolve(ok);
        },
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

  /** The virtual time the wall clock allows now (realtime: virtual time never passes it). */
  #wallNs(): number {
    return this.#virtualBase + Math.floor((this.#now() - this.#wallBase) * 1e6);
  }

  /** Arms the one timer (replacing any armed one). */
  #schedule(delayMs: number): void {
    this.#cancelTimer();
    // A guest timer decades away (stimecmp near 2^63) must not overflow into a zero delay.
    const ms = Math.min(delayMs, MAX_TIMER_MS);
    this.#wakeAtMs = this.#now() + ms;
    this.#immediate = ms <= 0;
    this.#timer = this.#timers.set(() => this.#tick(), ms);
  }

  #cancelTimer(): void {
    if (this.#wakeAtMs === undefined) return;
    this.#timers.clear(this.#timer);
    this.#timer = undefined;
    this.#wakeAtMs = undefined;
    this.#immediate = false;
  }

  #checkWaiters(): void {
    if (this.#waiters.length === 0) return;
    const now = this.hypervisor.clock.now();
    this.#waiters = this.#waiters.filter((w) => {
      if (w.predicate()) {
        w.resolve(true);
        this.#noticed = true;
        return false;
      }
      if (now >= w.deadlineNs) {
        w.resolve(false);
        this.#noticed = true;
        return false;
      }
      return true;
    });
  }

  #tick(): void {
    this.#timer = undefined;
    this.#wakeAtMs = undefined;
    this.#immediate = false;
    if (!this.#running) return;
    this.#wakeUps++;
    this.#ticking = true;
    this.#pokedWhileTicking = false;
    try {
      this.#run();
    } finally {
      this.#ticking = false;
    }
  }

  /** One run of the loop: runs the core for at most a chunk, then arms the next wake-up. */
  #run(): void {
    const hv = this.hypervisor;
    const realtime = hv.clock.mode === "realtime";
    const start = this.#now();
    try {
      while (this.#now() - start < this.#chunkMs) {
        let span = this.#stepNs;
        if (realtime) {
          const behind = this.#wallNs() - hv.clock.now();
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
            if (this.#lagNs > 0 && this.#waiters.length === 0) {
              // A quiet batch (no poke, no wait since the sleep began): the core runs the due
              // ticks round after round itself, and hands back within the chunk, or as soon as
              // a vCPU stays runnable over two rounds (a guest got busy: it is stepped below).
              this.#catchUp(hv, behind, start);
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
        // Realtime and idle: the loop's head jumps to the next event that is due, or catches up
        // with the wall clock and stops (a lagging clock runs its due events in one wake-up).
      }
    } catch (e) {
      this.#error = e;
      void this.stop();
      return;
    }
    this.#checkWaiters();
    if (!this.#running) return;
    const sleepMs = realtime ? this.#realtimeSleepMs(this.#noticed) : this.#warpSleepMs();
    this.#noticed = false;
    if (this.#pokedWhileTicking) this.#schedule(0);
    else if (sleepMs !== undefined) this.#schedule(Math.min(this.#maxSleepMs, sleepMs));
  }

  /**
   * Runs up to `behind` virtual ns of idle guests' ticks in one call of the core (a tick is two
   * scheduling rounds: the timer fires, the vCPU runs its handler and halts again). Ends early
   * when the chunk that began at `start` is used up, or when a vCPU is still runnable after a
   * round that began with it runnable.
   */
  #catchUp(hv: Hypervisor, behind: number, start: number): void {
    let wasRunnable = false;
    hv.runFor(behind, () => {
      const runnable = hv.hasRunnable();
      const busy = runnable && wasRunnable;
      wasRunnable = runnable;
      return busy || this.#now() - start >= this.#chunkMs;
    });
  }

  /**
   * Realtime: how long to sleep after a tick (undefined: until poked). Idle with a timed event
   * pending, the sleep lasts until the event is due plus the allowed lag; the lag doubles after
   * each quiet wake-up (up to a tenth of the quiet spell, and the maximum) and drops to 0 after
   * one that anyone could notice.
   */
  #realtimeSleepMs(noticed: boolean): number | undefined {
    const hv = this.hypervisor;
    if (noticed || this.#waiters.length > 0) this.#quietSinceMs = this.#now();
    if (hv.hasRunnable()) {
      this.#lagNs = 0;
      const ahead = hv.clock.now() - this.#wallNs();
      // Behind (the chunk ran out): on at once. Caught up: sleep at least 1 ms, for the wall
      // clock to move on (a zero-delay timer would spin on microseconds).
      return ahead < 0 ? 0 : Math.max(1, Math.ceil(ahead / 1e6));
    }
    const nearest = this.#nearestNs();
    if (nearest === Infinity) {
      this.#lagNs = 0;
      return undefined;
    }
    if (noticed || this.#waiters.length > 0) this.#lagNs = 0;
    else {
      const quietNs = (this.#now() - this.#quietSinceMs) * 1e6;
      let cap = Math.min(this.#maxLagNs, Math.floor(quietNs / QUIET_PER_LAG));
      if (this.#watched()) cap = Math.min(cap, WATCHED_MAX_LAG_MS * 1e6);
      this.#lagNs = Math.min(cap, Math.max(FIRST_LAG_NS, 2 * this.#lagNs));
    }
    // Rounded up: a timer that fires before the event is due would be a wasted wake-up.
    return Math.max(0, Math.ceil((nearest + this.#lagNs - this.#wallNs()) / 1e6));
  }

  /** Warp: 0 (run on after the event loop's turn), or undefined when nothing is pending. */
  #warpSleepMs(): number | undefined {
    const hv = this.hypervisor;
    const idle = !hv.hasRunnable() && hv.nextEventNs() === undefined && this.#waiters.length === 0;
    return idle ? undefined : 0;
  }
}
