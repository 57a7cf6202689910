/**
 * The hypervisor's single virtual clock and its timer queue.
 *
 * Virtual time is counted in nanoseconds and advanced only by the scheduler: by executed guest
 * instructions, or by jumping over idle time. In `warp` mode idle time is skipped at once; in
 * `realtime` mode the driver (driver.ts) never lets virtual time run ahead of the
 * wall clock. The clock itself never reads the wall clock, so the core stays deterministic.
 *
 * @module
 */

/** How virtual time relates to the wall clock. */
export type ClockMode = "warp" | "realtime";

/** A scheduled callback; pass it to {@linkcode VirtualClock.cancel}. */
export interface TimerHandle {
  /** Virtual time (ns) at which the callback fires. */
  readonly at: number;
  /** A label of who scheduled it (e.g. `VM[1] boot delay`), for diagnostics and leak checks. */
  readonly owner: string;
}

/**
 * A timer event as plain data (what fires, for whom): timers of VMs are data, so that they can
 * be saved with a snapshot and scheduled again on restore. The clock hands due events to the
 * handler set with {@linkcode VirtualClock.setEventHandler}.
 */
export interface TimerEvent {
  /** What happens, e.g. `boot-delay` (the primary vCPU's boot delay ends). */
  kind: string;
  /** VM id. */
  vmId: number;
  /** vCPU id. */
  vcpuId: number;
}

interface Timer extends TimerHandle {
  seq: number;
  callback?: () => void;
  event?: TimerEvent;
  cancelled: boolean;
}

/** One clock for the whole hypervisor, with a deterministic timer queue. */
export class VirtualClock {
  /** `warp` (as fast as possible) or `realtime` (never ahead of the wall clock). */
  mode: ClockMode;
  #now = 0;
  #seq = 0;
  #timers: Timer[] = [];
  #onEvent?: (event: TimerEvent, handle: TimerHandle) => void;

  /** Creates a clock at virtual time 0. */
  constructor(mode: ClockMode = "warp") {
    this.mode = mode;
  }

  /** Current virtual time in nanoseconds. */
  now(): number {
    return this.#now;
  }

  /**
   * Moves time forward to `t` (never backwards). Used by the scheduler only. Fractional
   * nanoseconds (e.g. wall time x 1e6 in floating point) are floored: the clock only ever holds
   * whole nanoseconds.
   */
  advanceTo(t: number): void {
    const whole = Math.floor(t);
    if (whole > this.#now) this.#now = whole;
  }

  /** Calls `callback` once virtual time reaches `atNs` (timers at equal times fire in order). */
  schedule(atNs: number, callback: () => void, owner = "anonymous"): TimerHandle {
    return this.#insert({
      at: Math.ceil(atNs),
      owner,
      seq: this.#seq++,
      callback,
      cancelled: false,
    });
  }

  /**
   * Schedules a timer event (plain data) for `atNs`; the event handler receives it when due.
   * Prefer this to {@linkcode VirtualClock.schedule}: events can be listed and saved.
   */
  scheduleEvent(atNs: number, event: TimerEvent, owner = "anonymous"): TimerHandle {
    return this.#insert({
      at: Math.ceil(atNs),
      owner,
      seq: this.#seq++,
      event: { ...event },
      cancelled: false,
    });
  }

  /** Sets who handles due timer events (see {@linkcode VirtualClock.scheduleEvent}). */
  setEventHandler(handler: (event: TimerEvent, handle: TimerHandle) => void): void {
    this.#onEvent = handler;
  }

  /** Pending timer events (data), earliest first. */
  pendingEvents(): { at: number; event: TimerEvent; handle: TimerHandle }[] {
    return this.#timers.filter((t) => t.event !== undefined).map((t) => ({
      at: t.at,
      event: { ...t.event! },
      handle: t,
    }));
  }

  #insert(timer: Timer): TimerHandle {
    // Deadlines are whole nanoseconds too (rounded up: a timer never fires early).
    const atNs = timer.at;
    let i = this.#timers.length;
    while (i > 0 && this.#timers[i - 1].at > atNs) i--;
    this.#timers.splice(i, 0, timer);
    return timer;
  }

  /** Cancels a timer; cancelling twice or after it fired does nothing. */
  cancel(handle: TimerHandle): void {
    const t = handle as Timer;
    if (t.cancelled) return;
    t.cancelled = true;
    const i = this.#timers.indexOf(t);
    if (i >= 0) this.#timers.splice(i, 1);
  }

  /** Virtual time of the earliest pending timer, if any. */
  nextDeadline(): number | undefined {
    return this.#timers[0]?.at;
  }

  /** Fires every timer due at or before now, in time order. Returns how many fired. */
  runDue(): number {
    let n = 0;
    while (this.#timers.length > 0 && this.#timers[0].at <= this.#now) {
      const t = this.#timers.shift()!;
      t.cancelled = true;
      if (t.event !== undefined) this.#onEvent?.(t.event, t);
      else t.callback?.();
      n++;
    }
    return n;
  }

  /** Pending timers (time and owner), earliest first. */
  pending(): TimerHandle[] {
    return this.#timers.map((t) => ({ at: t.at, owner: t.owner }));
  }
}
