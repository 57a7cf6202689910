import assert from "node:assert/strict";
import {
  DEFAULT_MAX_LAG_MS,
  type DriverTimers,
  HypervisorDriver,
  MAX_TIMER_MS,
  QUIET_PER_LAG,
  WATCHED_MAX_LAG_MS,
} from "../../lib/vmm/driver.ts";
import { guestConfig, makeHypervisor } from "./helpers.ts";

/**
 * Timers on a wall clock that only the test moves: `fireNext` jumps the clock to the earliest
 * timer and runs it, so a driver's wake-ups can be counted over seconds of wall time, instantly.
 */
class ManualTimers implements DriverTimers {
  /** The wall clock (ms) the driver reads. */
  wallMs = 0;
  #queue: { at: number; seq: number; callback: () => void }[] = [];
  #seq = 0;

  set(callback: () => void, ms: number): unknown {
    const timer = { at: this.wallMs + Math.max(0, ms), seq: this.#seq++, callback };
    this.#queue.push(timer);
    this.#queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
    return timer;
  }

  clear(handle: unknown): void {
    this.#queue = this.#queue.filter((t) => t !== handle);
  }

  /** Timers armed and not fired. */
  get pending(): number {
    return this.#queue.length;
  }

  /** Moves the clock to the earliest timer (never backwards) and fires it; false: none armed. */
  fireNext(): boolean {
    const t = this.#queue.shift();
    if (!t) return false;
    this.wallMs = Math.max(this.wallMs, t.at);
    t.callback();
    return true;
  }

  /** Fires timers until the wall clock reaches `ms` (the clock ends at `ms`). */
  runUntil(ms: number): void {
    while (this.#queue.length > 0 && this.#queue[0].at <= ms) this.fireNext();
    this.wallMs = ms;
  }
}

Deno.test("driver (realtime): an idle hypervisor sleeps instead of spinning a chunk per tick", async () => {
  const { hv } = makeHypervisor({}, { clock: "realtime" });
  hv.createVm({ path: "/configs/timer.toml" }); // created, not started: nothing to run
  // A wall clock that moves 5 µs each time it is read, as a real one does while code runs.
  let wallMs = 0;
  let reads = 0;
  const now = () => {
    reads++;
    return (wallMs += 0.005);
  };
  const driver = new HypervisorDriver(hv, { now, chunkMs: 8, maxSleepMs: 50 });
  driver.start();
  // One tick: the driver's first timer is due at once.
  await new Promise((resolve) => setTimeout(resolve, 0));
  await driver.stop();
  // Before the fix the tick ran the idle core in 5 µs slices for its whole 8 ms budget.
  assert.ok(reads < 20, `the idle tick read the clock ${reads} times`);
  assert.ok(Math.abs(hv.clock.now() - wallMs * 1e6) < 1e5, "virtual time still follows the wall");
});

for (const clock of ["realtime", "warp"] as const) {
  Deno.test(`driver (${clock}): with nothing pending it arms no timer; a poke wakes it once`, async () => {
    const { hv } = makeHypervisor({}, { clock });
    hv.createVm({ path: "/configs/idle.toml" }); // created, not started
    const timers = new ManualTimers();
    const driver = new HypervisorDriver(hv, { now: () => timers.wallMs, timers });
    driver.start();
    assert.equal(timers.pending, 1, "the first tick");
    timers.fireNext();
    assert.equal(timers.pending, 0, "no timer (it used to poll 4 times a second)");
    assert.equal(driver.nextWakeMs, undefined);
    driver.poke();
    driver.poke(); // a second poke before the tick arms nothing more
    assert.equal(timers.pending, 1);
    timers.runUntil(10_000);
    assert.equal(driver.wakeUps, 2, "10 s of wall time: the start and the poke");
    await driver.stop();
  });
}

/** The idle guest (wfi between 100 Hz ticks) running under a driver on manual timers. */
function idleGuest(maxLagMs?: number, watched?: () => boolean) {
  const { hv } = makeHypervisor({}, { clock: "realtime" });
  const vm = hv.createVm({ path: "/configs/idle.toml" });
  assert.equal(hv.startVm(vm.id).ok, true);
  const timers = new ManualTimers();
  const driver = new HypervisorDriver(hv, { now: () => timers.wallMs, timers, maxLagMs, watched });
  const ticks = () => vm.vcpus[0].exits.get("Halt"); // one wfi per tick (and one at boot)
  return { hv, vm, timers, driver, ticks };
}

Deno.test("driver (realtime): an idle guest's silent 100 Hz ticks wake the host about once a second", async () => {
  const { hv, timers, driver, ticks } = idleGuest();
  driver.start();
  let wakesAt20s = 0;
  while (timers.wallMs < 60_000) {
    if (wakesAt20s === 0 && timers.wallMs >= 20_000) wakesAt20s = driver.wakeUps;
    // How far virtual time is behind when the next wake-up comes: at most the lag allowed (a
    // tenth of the quiet spell, here the whole run, and at most the maximum) plus one tick.
    const wakeMs = driver.nextWakeMs!;
    const behindMs = wakeMs - hv.clock.now() / 1e6;
    const allowedMs = Math.min(DEFAULT_MAX_LAG_MS, wakeMs / QUIET_PER_LAG);
    assert.ok(behindMs <= allowedMs + 10 + 1, `${behindMs} ms behind at ${wakeMs} ms`);
    timers.fireNext();
    assert.ok(hv.clock.now() <= timers.wallMs * 1e6, "virtual time never runs ahead of the wall");
  }
  // Exact timing wakes the host at every tick: 4000 wake-ups for the last 40 s; the 100 ms
  // lag of old, 10 a second (400).
  const wakes = driver.wakeUps - wakesAt20s;
  assert.ok(wakes <= 44, `${wakes} host wake-ups for 40 s of an idle guest, quiet for 20 s`);
  assert.ok(driver.wakeUps <= 110, `${driver.wakeUps} wake-ups in all for 60 s`);
  assert.ok(ticks() >= 5890, `every tick ran (${ticks()} of ~6000)`);
  assert.equal(driver.lagMs, DEFAULT_MAX_LAG_MS);
  await driver.stop();
});

Deno.test("driver (realtime): maxLagMs 0 runs every tick at its wall time", async () => {
  const { timers, driver, ticks } = idleGuest(0);
  driver.start();
  timers.runUntil(1000);
  assert.ok(driver.wakeUps >= 100, `${driver.wakeUps} wake-ups: one per tick`);
  assert.ok(ticks() >= 100);
  await driver.stop();
});

Deno.test("driver (realtime): a poke, a wait or output make the driver exact again", async () => {
  const { hv, vm, timers, driver } = idleGuest();
  driver.start();
  timers.runUntil(2000);
  assert.ok(driver.lagMs > 100 && driver.lagMs <= 200, "quiet for 2 s: the ticks run in batches");
  driver.poke(); // a command ran, or console input arrived
  assert.equal(driver.lagMs, 0);
  timers.fireNext();
  assert.equal(hv.clock.now(), timers.wallMs * 1e6, "the poke caught virtual time up at once");
  assert.equal(driver.lagMs, 0, "the wake-up after a poke sleeps exactly");
  timers.fireNext();
  assert.ok(driver.lagMs > 0 && driver.lagMs <= 1, "quiet again: the lag grows back, slowly");
  // A pending wait keeps the driver exact: its predicate is checked at every tick.
  const target = hv.clock.now() + 500e6;
  const waiting = driver.waitFor(() => hv.clock.now() >= target, 1e9);
  const wakesBefore = driver.wakeUps;
  while (timers.wallMs * 1e6 < target) timers.fireNext();
  assert.equal(await waiting, true);
  assert.ok(driver.wakeUps - wakesBefore >= 50, "a 10 ms tick per wake-up while waiting");
  assert.equal(driver.lagMs, 0);
  // Output and status changes seen by clients make the next sleep exact too: a timed event of
  // the core starts a second VM, which prints 5 ticks and shuts down, all inside one wake-up.
  timers.runUntil(timers.wallMs + 1000);
  assert.ok(driver.lagMs > 50 && driver.lagMs <= 100, `quiet for 1 s: lag ${driver.lagMs} ms`);
  const other = hv.createVm({ path: "/configs/timer.toml" });
  hv.clock.schedule(hv.clock.now() + 20e6, () => hv.startVm(other.id), "test");
  const events: string[] = [];
  const off = hv.on((e) => events.push(e.type));
  const wakes = driver.wakeUps;
  while (events.length === 0) timers.fireNext();
  assert.equal(driver.wakeUps, wakes + 1);
  assert.equal(driver.lagMs, 0);
  timers.runUntil(timers.wallMs + 1000);
  assert.equal(other.status, "stopped");
  assert.match(other.console.text(), /5 ticks/);
  assert.ok(driver.lagMs > 0 && driver.lagMs <= 100, "quiet again");
  assert.equal(vm.status, "running");
  off();
  await driver.stop();
});

Deno.test("driver (realtime): an event decades away arms a timer that does not overflow", async () => {
  const { hv } = makeHypervisor({}, { clock: "realtime" });
  const timers = new ManualTimers();
  const driver = new HypervisorDriver(hv, { now: () => timers.wallMs, timers });
  hv.clock.schedule(2 ** 62, () => {}, "test: far away");
  driver.start();
  timers.fireNext();
  // setTimeout fires at once when given more than 2^31 - 1 ms: the driver would spin.
  assert.equal(driver.nextWakeMs, MAX_TIMER_MS);
  timers.fireNext();
  assert.equal(driver.nextWakeMs, 2 * MAX_TIMER_MS);
  assert.equal(driver.wakeUps, 2);
  await driver.stop();
});

Deno.test("driver: a poke during a run of the loop arms one timer, not a second chain", async () => {
  const { hv, timers, driver } = idleGuest();
  driver.start();
  timers.runUntil(1000);
  const other = hv.createVm({ path: "/configs/timer.toml" });
  hv.clock.schedule(hv.clock.now() + 5e6, () => hv.startVm(other.id), "test");
  const off = hv.on(() => driver.poke()); // e.g. a listener that wakes the driver
  const wakes = driver.wakeUps;
  while (driver.wakeUps === wakes || other.status === "loaded") timers.fireNext();
  off();
  assert.equal(timers.pending, 1, "one timer: the run's own, due at once");
  assert.equal(driver.nextWakeMs, timers.wallMs);
  timers.runUntil(timers.wallMs + 1000);
  assert.equal(timers.pending, 1);
  await driver.stop();
  assert.equal(timers.pending, 0);
});

Deno.test("driver (realtime): aborting a wait's signal wakes the sleeping driver at once", async () => {
  const { hv } = makeHypervisor({}, { clock: "realtime" });
  const timers = new ManualTimers();
  const driver = new HypervisorDriver(hv, { now: () => timers.wallMs, timers });
  driver.start();
  const cancel = new AbortController();
  // An hour-long wait with nothing running: the driver sleeps until its deadline.
  const done = driver.waitFor(() => cancel.signal.aborted, 3600e9, cancel.signal);
  while (timers.pending > 0 && driver.nextWakeMs !== undefined && driver.nextWakeMs < 1000) {
    timers.fireNext();
  }
  const wakeUps = driver.wakeUps;
  cancel.abort(); // a cancelled command (Ctrl-C) or a closed session
  assert.ok(timers.pending > 0, "the abort armed a wake-up");
  timers.fireNext();
  assert.equal(await done, true, "the wait saw the abort");
  assert.ok(timers.wallMs < 1000, `noticed at ${timers.wallMs} ms, not at the wait's deadline`);
  assert.equal(driver.wakeUps, wakeUps + 1);
  await driver.stop();
});

/**
 * Starts a second VM `quietMs` into each of several quiet spells (a timed event of the core: its
 * status change is what a client sees first) and checks how late it is seen against `allowedMs`.
 */
async function lateAfterQuiet(
  watched: () => boolean,
  allowedMs: (spellMs: number, quietMs: number) => number,
): Promise<void> {
  const { hv, timers, driver } = idleGuest(undefined, watched);
  driver.start();
  for (const quietMs of [500, 2000, 5000, 30_000]) {
    driver.poke(); // a command: the quiet spell starts at the next wake-up
    timers.fireNext();
    const spellStartMs = timers.wallMs;
    const other = hv.createVm({ path: "/configs/timer.toml" });
    const dueNs = hv.clock.now() + quietMs * 1e6;
    hv.clock.schedule(dueNs, () => hv.startVm(other.id), "test");
    let seenAtMs: number | undefined;
    const off = hv.on(() => seenAtMs ??= timers.wallMs);
    while (seenAtMs === undefined) timers.fireNext();
    off();
    const lateMs = seenAtMs - dueNs / 1e6;
    const spellMs = seenAtMs - spellStartMs;
    assert.ok(
      lateMs <= allowedMs(spellMs, quietMs) + 1,
      `seen ${lateMs} ms late after ${spellMs} ms of quiet`,
    );
    timers.runUntil(timers.wallMs + 1000); // the VM prints its ticks and stops
    assert.equal(other.status, "stopped");
    hv.deleteVm(other.id);
  }
  await driver.stop();
}

Deno.test("driver (realtime): output after a quiet spell comes at most a tenth of the spell late", async () => {
  await lateAfterQuiet(
    () => false,
    (spellMs) => Math.min(DEFAULT_MAX_LAG_MS, spellMs / QUIET_PER_LAG),
  );
});

Deno.test("driver (realtime): while a console is watched, output after any quiet spell is prompt", async () => {
  await lateAfterQuiet(() => true, () => WATCHED_MAX_LAG_MS);
});

Deno.test("driver (realtime): a guest that turns busy inside a quiet batch still yields within the chunk", async () => {
  const { hv } = makeHypervisor({
    "/guests/spin.S": "    .globl _start\n_start:\n1:  j 1b\n",
    "/configs/spin.toml": guestConfig("spin", 41),
  }, { clock: "realtime" });
  const idle = hv.createVm({ path: "/configs/idle.toml" });
  assert.equal(hv.startVm(idle.id).ok, true);
  const spin = hv.createVm({ path: "/configs/spin.toml" });
  const timers = new ManualTimers();
  // A wall clock that the emulator's work moves, as a real one: 100,000 instructions a ms.
  const instret = () => idle.vcpus[0].instret + (spin.vcpus[0]?.instret ?? 0);
  let instretAtWake = instret();
  const workMs = () => (instret() - instretAtWake) / 100_000;
  const now = () => timers.wallMs + workMs();
  const driver = new HypervisorDriver(hv, { now, timers, chunkMs: 8 });
  /** Fires the next wake-up; returns the wall time it took. */
  const wake = () => {
    instretAtWake = instret();
    timers.fireNext();
    const took = workMs();
    timers.wallMs += took;
    return took;
  };
  driver.start();
  while (timers.wallMs < 20_000) wake();
  assert.ok(driver.lagMs >= 500, `quiet for 20 s: lag ${driver.lagMs} ms`);
  hv.clock.schedule(hv.clock.now() + 50e6, () => hv.startVm(spin.id), "test");
  let longestMs = 0;
  while (timers.wallMs < 21_000) {
    longestMs = Math.max(longestMs, wake());
    assert.ok(hv.clock.now() <= timers.wallMs * 1e6, "virtual time never runs ahead of the wall");
  }
  assert.equal(spin.status, "running");
  assert.ok(spin.vcpus[0].instret > 100_000, `the busy guest ran (${spin.vcpus[0].instret})`);
  // One chunk (8 ms) and the scheduling round that ends it (10,000 instructions: 0.1 ms).
  assert.ok(longestMs <= 8.5, `a wake-up held the event loop for ${longestMs} ms`);
  await driver.stop();
});
