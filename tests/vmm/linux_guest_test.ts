/**
 * Debian's riscv64 kernel with the busybox initramfs (`deno task images`) as a VM, through the
 * VMM API with the warp clock. To keep boots few, each test boots once and runs many checks in
 * the same VM: the one-vCPU VM answers the shell's commands, sleeps in guest time, does job
 * control, survives suspend/resume, reboots, and powers off; the four-vCPU VM shows its CPUs,
 * takes CPU 2 offline and back through SBI HSM, stops gracefully, restarts, and stops by force.
 * Each boot's log is checked line by line for warnings caused by our platform.
 *
 * Without the images, the tests fail under CI=true and are skipped elsewhere.
 */
import assert from "node:assert/strict";
import { isaExtensionNames } from "../../lib/hw/riscv/isa.ts";
import { HsmStatus } from "../../lib/vmm/sbi.ts";
import {
  BANNER,
  bootProblems,
  LINUX_CONFIG,
  LINUX_SMP_CONFIG,
  LinuxConsole,
  makeLinuxHypervisor,
  PORTABLE_COMMANDS,
  PROMPT_RE,
  testNeedingLinux,
} from "./linux_support.ts";

/** Checks /proc/cpuinfo: `cpus` processors, each with the hart's ISA. */
function checkCpuinfo(tty: LinuxConsole, cpus: number): void {
  const info = tty.command("cat /proc/cpuinfo");
  const processors = info.match(/^processor\s*: \d+$/gm) ?? [];
  assert.equal(processors.length, cpus, info);
  const isa = /^isa\s*: (\S+)$/m.exec(info)?.[1] ?? "";
  const names = isaExtensionNames();
  const letters = names.filter((n) => n.length === 1).join("");
  // Linux prints the base and single letters first (in canonical order), then Z*/S* names.
  assert.ok(isa.startsWith(`rv64${letters}`), `isa ${isa} starts with rv64${letters}`);
  for (const ext of names.filter((n) => n.length > 1)) {
    assert.ok(isa.split("_").includes(ext), `isa ${isa} lists ${ext}`);
  }
  assert.equal(tty.command("grep -c ^processor /proc/cpuinfo"), `${cpus}`);
  assert.equal(tty.command("nproc"), `${cpus}`);
}

testNeedingLinux(
  "linux VM, 1 vCPU: shell, commands, sleep, jobs, suspend/resume, reboot, poweroff",
  () => {
    const { hv } = makeLinuxHypervisor();
    const vm = hv.createVm({ path: LINUX_CONFIG });
    const tty = new LinuxConsole(hv, vm);
    assert.equal(hv.startVm(vm.id).ok, true);
    const boot = tty.boot();
    assert.match(boot, /Linux version 6\.\d+\.\d+\S*-riscv64/);
    assert.match(boot, /Machine model: axvisor\.ts guest linux/);
    assert.match(boot, /random: crng init done/, "the rng-seed initialises the random pool");
    assert.match(boot, /Run \/init as init process/);
    assert.match(boot, new RegExp(`${BANNER}: Linux 6\\.\\d+\\S*, 1 CPU\\(s\\)`));
    assert.deepEqual(bootProblems(boot), [], "no platform warnings in the boot log");

    checkCpuinfo(tty, 1);
    assert.match(
      tty.command("uname -a"),
      /^Linux axvisor 6\.\d+\.\d+\S* #1 SMP .* riscv64 GNU\/Linux$/,
    );
    for (const { command, expect } of PORTABLE_COMMANDS) {
      assert.match(tty.command(command), expect, command);
    }
    assert.match(tty.command("cat /proc/cmdline"), /^console=ttyS0 earlycon$/);
    // The passed-through Goldfish RTC sets the system clock at boot (the hypervisor's epoch,
    // 2026-01-01 by default), instead of 1970.
    assert.match(boot, /goldfish_rtc 101000\.rtc: setting system clock to 2026-01-01T00:00/);
    assert.match(tty.command("date -u +%Y-%m-%dT%H"), /^2026-01-01T00$/);

    // sleep 1 sleeps one second of guest time.
    const before = hv.clock.now();
    assert.equal(tty.command("sleep 1"), "");
    const slept = hv.clock.now() - before;
    assert.ok(slept >= 1e9 && slept < 1.5e9, `sleep 1 took ${slept / 1e9} s of virtual time`);

    // Job control: a background job and its listing, fg + Ctrl-C, kill %1.
    assert.equal(tty.command("sleep 1000 &"), "");
    assert.match(tty.command("jobs"), /^\[1\]\+ +Running +sleep 1000$/);
    tty.type("fg\n");
    tty.until("sleep 1000");
    hv.runFor(50e6);
    tty.type("\x03");
    tty.until(PROMPT_RE);
    assert.equal(tty.command("jobs"), "");
    assert.equal(tty.command("sleep 1000 &"), "");
    tty.command("kill %1");
    assert.match(tty.command("jobs"), /^(\[1\]\+ +Terminated +sleep 1000)?$/);
    assert.equal(tty.command("jobs"), "");

    // Suspend for 30 s: the guest's clock stands still, so it sees no jump (no lockup or stall).
    const uptime = () => Number(tty.command("cut -d' ' -f1 /proc/uptime").trim());
    const up1 = uptime();
    const mark = tty.transcript.length;
    assert.equal(hv.suspendVm(vm.id).ok, true);
    hv.runFor(30e9);
    assert.equal(tty.transcript.length, mark, "a suspended VM prints nothing");
    assert.equal(hv.resumeVm(vm.id).ok, true);
    const up2 = uptime();
    assert.ok(up2 - up1 < 1, `uptime moved ${up2 - up1} s across a 30 s suspension`);
    assert.equal(tty.command("sleep 1; echo slept"), "slept");
    assert.deepEqual(bootProblems(tty.command("dmesg")), [], "no warnings after resume");

    // reboot: SBI SRST restarts the VM and it boots again.
    tty.type("reboot\n");
    tty.until("reboot: Restarting system");
    const again = tty.boot();
    assert.equal(vm.status, "running");
    assert.equal(vm.boots, 2);
    assert.deepEqual(bootProblems(again), []);

    // poweroff: SBI SRST shutdown stops the VM.
    tty.type("poweroff\n");
    tty.until("reboot: Power down");
    assert.ok(hv.runUntil(() => vm.status === "stopped", 5e9), `status ${vm.status}`);
    assert.equal(vm.lastError, undefined);
    tty.close();
  },
);

testNeedingLinux(
  "linux VM, 4 vCPUs: CPUs, hotplug through HSM, vm stop, restart, stop --force",
  () => {
    const { hv } = makeLinuxHypervisor();
    const vm = hv.createVm({ path: LINUX_SMP_CONFIG });
    const tty = new LinuxConsole(hv, vm);
    assert.equal(hv.startVm(vm.id).ok, true);
    const boot = tty.boot(400e9);
    assert.match(boot, /smp: Brought up 1 node, 4 CPUs/);
    assert.match(boot, new RegExp(`${BANNER}: Linux 6\\.\\d+\\S*, 4 CPU\\(s\\)`));
    assert.deepEqual(bootProblems(boot), [], "no platform warnings in the boot log");
    checkCpuinfo(tty, 4);

    // Work on every CPU: four md5sum jobs at once.
    // (Each command stays within the 80-column line the shell edits, so its echo is one line.)
    const jobs = "sh -c 'for i in 1 2 3 4; do head -c 262144 /dev/zero|md5sum>/tmp/$i& done;wait'";
    assert.equal(tty.command(jobs), "");
    assert.equal(tty.command("cat /tmp/[1-4] | sort -u"), "ec87a838931d4d5d2e94a04644788a55  -");

    // CPU hotplug: CPU 2 goes offline (SBI HSM hart_stop) and comes back (hart_start).
    assert.equal(tty.command("cat /sys/devices/system/cpu/online"), "0-3");
    tty.command("echo 0 > /sys/devices/system/cpu/cpu2/online");
    assert.equal(tty.command("cat /sys/devices/system/cpu/online"), "0-1,3");
    assert.equal(tty.command("grep -c ^processor /proc/cpuinfo"), "3");
    assert.equal(vm.vcpus[2].hsm, HsmStatus.Stopped);
    tty.command("echo 1 > /sys/devices/system/cpu/cpu2/online");
    assert.equal(tty.command("cat /sys/devices/system/cpu/online"), "0-3");
    assert.equal(tty.command("grep -c ^processor /proc/cpuinfo"), "4");
    assert.equal(tty.command("taskset -c 2 sh -c 'echo on-cpu-2'"), "on-cpu-2");
    assert.deepEqual(bootProblems(tty.command("dmesg")), [], "no warnings after hotplug");

    // vm stop (graceful) while Linux runs.
    tty.type("while true; do :; done\n");
    hv.runFor(100e6);
    assert.equal(hv.stopVm(vm.id).ok, true);
    assert.ok(hv.runUntil(() => vm.status === "stopped", 5e9), `status ${vm.status}`);

    // vm start again, then vm restart while it boots: it boots from the start once more.
    assert.equal(hv.startVm(vm.id).ok, true);
    tty.until("smp: Brought up 1 node, 4 CPUs", 60e9);
    const restarted = hv.restartVm(vm.id);
    assert.equal(restarted.ok, true, JSON.stringify(restarted));
    tty.until("Linux version", 10e9);
    tty.until("smp: Brought up 1 node, 4 CPUs", 60e9);
    assert.equal(vm.status, "running");

    // vm stop --force while Linux runs.
    assert.equal(hv.stopVm(vm.id, { force: true }).ok, true);
    assert.equal(vm.status, "stopped");
    tty.close();
  },
);
