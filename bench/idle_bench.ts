/**
 * Idle CPU of the hypervisor: `bin/axvisor.ts` (realtime clock, console on stdio) started as a
 * child process, once with no VM running and once with a VM whose only vCPU sleeps in `wfi`
 * between 100 Hz timer interrupts (as an idle guest kernel does, examples/guests/idle.S), and for
 * reference a bare Deno process whose only work is a 100 ms timer (the floor of a process that
 * wakes 10 times a second, as the driver does for such a VM). After a 20 s warm-up, the child's
 * CPU time (user + system, every thread, from /proc/<pid>/task/<tid>/schedstat: nanoseconds, where
 * /proc/<pid>/stat counts 10 ms ticks, too coarse for a fraction of a percent) over 10 s of wall
 * time is reported as a percentage of one core. The goal (issue 15): well under 1%.
 *
 * `AXVISOR_BIN=/other/checkout/bin/axvisor.ts` measures another checkout's program with the same
 * method (run before and after a change alternately: other load on the machine moves the
 * figures).
 *
 * @module
 */

const BIN = Deno.env.get("AXVISOR_BIN") ?? new URL("../bin/axvisor.ts", import.meta.url).pathname;
/**
 * Long enough for V8 to finish tiering up the tick path: with ticks run in batches (about 10
 * wake-ups a second), its optimizing compiler keeps working for some 10-20 s, and a measure that
 * starts earlier counts that start-up cost as idle cost.
 */
const WARMUP_MS = 20_000;
const MEASURE_MS = 10_000;

const EXAMPLES = new URL("../examples/", import.meta.url);
/** The idle guest: wfi between 100 Hz SBI timer ticks (examples/guests/idle.S), and its VM. */
const IDLE_GUEST = Deno.readTextFileSync(new URL("guests/idle.S", EXAMPLES));
const IDLE_CONFIG = Deno.readTextFileSync(new URL("configs/idle.toml", EXAMPLES));

const RUN = ["run", "--allow-read", "--allow-write", "--allow-net", "--allow-env", BIN];

const results = new Map<string, number>();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** CPU nanoseconds (user + system) so far of each live thread of process `pid`, by thread id. */
function threadCpuNs(pid: number): Map<string, number> {
  const times = new Map<string, number>();
  for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
    try {
      // The first field is the time spent on a CPU, in nanoseconds.
      const stat = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/schedstat`);
      times.set(task.name, Number(stat.split(" ")[0]));
    } catch {
      // The thread ended meanwhile.
    }
  }
  return times;
}

/**
 * CPU seconds process `pid` uses over `ms` of wall time. Threads are sampled every 100 ms, so a
 * thread that ends meanwhile (Deno's blocking pool lets idle threads go) counts up to its last
 * sample, and never makes the figure negative.
 */
async function cpuSecondsOver(pid: number, ms: number): Promise<number> {
  const first = threadCpuNs(pid);
  const last = new Map(first);
  const end = performance.now() + ms;
  while (performance.now() < end) {
    await sleep(Math.min(100, Math.max(0, end - performance.now())));
    for (const [tid, ns] of threadCpuNs(pid)) last.set(tid, ns);
  }
  let ns = 0;
  for (const [tid, t] of last) ns += t - (first.get(tid) ?? 0);
  return ns / 1e9;
}

/** Runs `deno <args>` and measures its CPU after the warm-up. */
async function idleCpu(name: string, args: string[]): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    stdin: "piped",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await sleep(WARMUP_MS);
    const t0 = performance.now();
    const cpu = await cpuSecondsOver(child.pid, MEASURE_MS);
    results.set(name, (100 * cpu) / ((performance.now() - t0) / 1000));
  } finally {
    child.kill("SIGTERM");
    await child.stdin.close().catch(() => {});
    await child.status;
  }
}

const linux = Deno.build.os === "linux";

Deno.bench({
  name: "idle hypervisor, no VM running (realtime clock)",
  group: "idle CPU",
  ignore: !linux,
  n: 1,
  warmup: 0,
  fn: async () => {
    const root = await Deno.makeTempDir({ prefix: "axvisor-idle-" });
    try {
      await idleCpu("no VM", [...RUN, "--fs-root", root]);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.bench({
  name: "idle hypervisor, one VM in wfi with a 100 Hz timer (realtime clock)",
  group: "idle CPU",
  ignore: !linux,
  n: 1,
  warmup: 0,
  fn: async () => {
    const root = await Deno.makeTempDir({ prefix: "axvisor-idle-" });
    try {
      await Deno.mkdir(`${root}/guests`);
      await Deno.mkdir(`${root}/configs`);
      await Deno.writeTextFile(`${root}/guests/idle.S`, IDLE_GUEST);
      await Deno.writeTextFile(`${root}/configs/idle.toml`, IDLE_CONFIG);
      await idleCpu("VM in wfi, 100 Hz timer", [
        ...[...RUN, "--fs-root", root, "--vm", "/configs/idle.toml", "--autostart"],
      ]);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.bench({
  name: "reference: bare Deno, a 100 ms timer (what 10 wake-ups a second cost on this machine)",
  group: "idle CPU",
  ignore: !linux,
  n: 1,
  warmup: 0,
  fn: async () => {
    await idleCpu("reference: bare Deno, 10 wake-ups/s", [
      ...["eval", "const tick = () => setTimeout(tick, 100); tick();"],
    ]);
  },
});

globalThis.addEventListener("unload", () => {
  if (results.size === 0) return;
  console.log(`\nIdle CPU of ${BIN} over ${MEASURE_MS / 1000} s (percent of one core):`);
  for (const [name, pct] of results) console.log(`  ${name}: ${pct.toFixed(2)}%`);
});
