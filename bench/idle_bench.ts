/**
 * Idle CPU of the hypervisor: `bin/axvisor.ts` (realtime clock, console on stdio) started as a
 * child process, once with no VM running and once with a VM whose only vCPU sleeps in `wfi`
 * between 100 Hz timer interrupts (as an idle guest kernel does). After a warm-up, the child's
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
const WARMUP_MS = 4000;
const MEASURE_MS = 10_000;

const IDLE_GUEST = `
    .text
    .globl _start
_start:
    la sp, stack_top
    la t0, trap
    csrw stvec, t0
    li t0, 0x20
    csrs sie, t0            # STIE
    csrsi sstatus, 2        # SIE
    call arm
1:  wfi
    j 1b
arm:                        # next timer interrupt in 10 ms (10 MHz timebase)
    rdtime a0
    li t1, 100000
    add a0, a0, t1
    li a7, 0x54494D45       # SBI TIME set_timer
    li a6, 0
    ecall
    ret
    .balign 4
trap:
    addi sp, sp, -16
    sd ra, 0(sp)
    call arm
    ld ra, 0(sp)
    addi sp, sp, 16
    sret
    .bss
    .balign 16
    .space 4096
stack_top:
`;

const IDLE_CONFIG = `
[base]
id = 1
name = "idle"
vm_type = 1
cpu_num = 1

[kernel]
entry_point = 0x8020_0000
image_location = "fs"
kernel_path = "/guests/idle.S"
kernel_load_addr = 0x8020_0000
memory_regions = [[0x8000_0000, 0x80_0000, 0x7, 0]]

[devices]
emu_devices = []
passthrough_devices = []
`;

const results = new Map<string, number>();

/** CPU seconds (user + system) used so far by the threads of process `pid`. */
function cpuSeconds(pid: number): number {
  let ns = 0;
  for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
    try {
      // The first field is the time spent on a CPU, in nanoseconds.
      ns += Number(Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/schedstat`).split(" ")[0]);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return ns / 1e9;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function idleCpu(name: string, args: string[]): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", "--allow-net", "--allow-env", BIN, ...args],
    stdin: "piped",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await sleep(WARMUP_MS);
    const c0 = cpuSeconds(child.pid);
    const t0 = performance.now();
    await sleep(MEASURE_MS);
    const c1 = cpuSeconds(child.pid);
    results.set(name, (100 * (c1 - c0)) / ((performance.now() - t0) / 1000));
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
      await idleCpu("no VM", ["--fs-root", root]);
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
        ...["--fs-root", root, "--vm", "/configs/idle.toml", "--autostart"],
      ]);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

globalThis.addEventListener("unload", () => {
  if (results.size === 0) return;
  console.log(`\nIdle CPU of ${BIN} over ${MEASURE_MS / 1000} s (percent of one core):`);
  for (const [name, pct] of results) console.log(`  ${name}: ${pct.toFixed(2)}%`);
});
