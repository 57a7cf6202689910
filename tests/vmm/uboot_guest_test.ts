/**
 * Debian's U-Boot (qemu-riscv64_smode) as a VM through the VMM API: it boots on the VMM's own
 * SBI to its `=>` prompt, answers version/help/bdinfo/printenv as under QEMU + OpenSBI, keeps
 * time, reboots through SBI SRST, powers off through it, stops on `vm stop`, and boots with 2 to
 * 4 vCPUs and other RAM sizes. Warp clock: every run gives the same output at the same virtual
 * time. Without u-boot-qemu (or QEMU for the differential test) the tests that need it fail
 * under CI=true and are skipped elsewhere.
 */
import assert from "node:assert/strict";
import { loadBoard } from "../../lib/hw/boards/load.ts";
import { parseVmConfig } from "../../lib/vmm/config.ts";
import type { StatusEvent } from "../../lib/vmm/events.ts";
import { Hypervisor } from "../../lib/vmm/hypervisor.ts";
import { ImageError } from "../../lib/vmm/image_loader.ts";
import { MemoryFileSystem } from "../../lib/vmm/memory_filesystem.ts";
import { HsmStatus } from "../../lib/vmm/sbi.ts";
import { VCpuState } from "../../lib/vmm/status.ts";
import {
  AUTOBOOT,
  commandOutput,
  exampleConfig,
  hostHas,
  makeUbootHypervisor,
  missingRequirements,
  NEEDS_QEMU,
  NEEDS_UBOOT,
  PROMPT,
  QemuUboot,
  testNeeding,
  UBOOT_CONFIG,
  UBOOT_FS_PATH,
  UbootConsole,
} from "./uboot_support.ts";

const MiB = 1 << 20;

Deno.test("uboot configs: the examples describe the VM the issue asks for", () => {
  for (
    const [file, cpus, id, name] of [["uboot.toml", 1, 11, "uboot"], [
      "uboot-smp.toml",
      4,
      12,
      "uboot-smp",
    ]] as const
  ) {
    const c = parseVmConfig(exampleConfig(file), file);
    assert.equal(c.base.id, id, file);
    assert.equal(c.base.name, name, file);
    assert.equal(c.base.cpuNum, cpus, file);
    assert.equal(c.kernel.entryPoint, 0x8020_0000, file);
    assert.equal(c.kernel.kernelLoadAddr, 0x8020_0000, file);
    assert.equal(c.kernel.kernelPath, UBOOT_FS_PATH, file);
    assert.deepEqual(
      c.kernel.memoryRegions.map((r) => [r.gpa, r.size, r.mapType]),
      [[0x8000_0000, 256 * MiB, 0]],
      file,
    );
    const uart = c.devices.emuDevices.find((d) => d.emuType === 2);
    const plic = c.devices.emuDevices.find((d) => d.emuType === 1);
    assert.deepEqual([uart?.baseGpa, uart?.irq], [0x1000_0000, 10], `${file}: NS16550A console`);
    assert.equal(plic?.baseGpa, 0x0c00_0000, `${file}: PLIC`);
    assert.equal(c.devices.interruptMode, "emulated", file);
  }
  // Their ids and names are free among the other example configs (they can all be created).
  const others = [...Deno.readDirSync(new URL("../../examples/configs/", import.meta.url))]
    .filter((e) => e.isFile && e.name.endsWith(".toml") && !e.name.startsWith("uboot"))
    .map((e) => parseVmConfig(exampleConfig(e.name), e.name).base);
  for (const b of others) {
    assert.ok(![11, 12].includes(b.id), `example VM id ${b.id} (${b.name}) clashes with U-Boot's`);
    assert.ok(!b.name.startsWith("uboot"), `example VM name ${b.name} clashes with U-Boot's`);
  }
});

Deno.test("uboot: without the image in the fs root, vm create names the missing file", () => {
  const fs = new MemoryFileSystem({ [UBOOT_CONFIG]: exampleConfig("uboot.toml") });
  const hv = new Hypervisor({ board: loadBoard("qemu-virt"), fs });
  assert.throws(
    () => hv.createVm({ path: UBOOT_CONFIG }),
    (e: unknown) =>
      e instanceof ImageError && e.path === UBOOT_FS_PATH &&
      /kernel\.kernel_path: \/images\/u-boot\.bin not found$/.test(e.message),
  );
  assert.equal(hv.vms().length, 0, "nothing is left behind");
  assert.deepEqual(hv.hostAllocations(), [], "its RAM is given back");
});

Deno.test("uboot support: missing host files are named with their packages", () => {
  assert.equal(missingRequirements([]), undefined);
  assert.equal(hostHas({ path: "sh", pkg: "dash" }), true, "programs are found in PATH");
  assert.equal(
    missingRequirements([
      { path: "/nonexistent/u-boot.bin", pkg: "u-boot-qemu" },
      { path: "sh", pkg: "dash" },
      { path: "no-such-program-axvisor", pkg: "qemu-system-misc" },
    ]),
    "/nonexistent/u-boot.bin and no-such-program-axvisor are missing: install the Debian " +
      "package(s) u-boot-qemu qemu-system-misc (.ci/run does)",
  );
});

Deno.test("uboot support: a command's output is cut from the echo to the next prompt", () => {
  assert.equal(
    commandOutput("version", "version\r\nU-Boot 2023.01\r\n\r\ngcc\r\n=> "),
    "U-Boot 2023.01\n\ngcc",
  );
  assert.equal(commandOutput("setenv a b", "setenv a b\r\n=> "), "");
  assert.throws(() => commandOutput("help", "hello\r\n=> "), /did not echo "help"/);
});

testNeeding(
  [NEEDS_UBOOT],
  "uboot: one VM's life: prompt, commands, timer, reset, stop, poweroff",
  async (t) => {
    const { hv } = makeUbootHypervisor();
    const statuses: StatusEvent[] = [];
    const faults: string[] = [];
    hv.on((e) => {
      if (e.type === "status") statuses.push(e);
      if (e.type === "fault") faults.push(e.message);
    });
    const vm = hv.createVm({ path: UBOOT_CONFIG });
    const u = new UbootConsole(hv, vm);
    let firstBanner = "";
    try {
      await t.step("boots to the => prompt on the VMM's own SBI", () => {
        assert.ok(hv.startVm(vm.id).ok);
        const boot = u.until(AUTOBOOT, 5e9);
        firstBanner = boot.slice(boot.indexOf("U-Boot 20"));
        for (
          const line of [
            /\nU-Boot 2\d\d\d\.\d\d[^\n]*\r\n/,
            /\nCPU: +rv64imafdc[_a-z]*\r\n/,
            /\nModel: axvisor\.ts guest uboot\r\n/,
            /\nDRAM: +256 MiB\r\n/,
            /\nIn: +serial@10000000\r\n/,
            /\nOut: +serial@10000000\r\n/,
            /\nErr: +serial@10000000\r\n/,
          ]
        ) {
          assert.match(boot, line);
        }
        u.type(" "); // a key, as a person would, during the countdown
        u.until(PROMPT, 1e9);
        assert.equal(vm.status, "running");
        assert.equal(vm.vcpus[0].hart.priv, 1, "U-Boot runs in S-mode");
        assert.ok(hv.clock.now() < 1e9, `prompt after ${hv.clock.now()} ns of virtual time`);
        assert.ok(vm.stats().exits.MmioWrite > 0, "console output went through the emulated UART");
      });

      await t.step("version", () => {
        const out = u.command("version");
        assert.equal(out.split("\n")[0], firstBanner.split("\r\n")[0], "the banner's version line");
        assert.match(out, /\nriscv64-linux-gnu-gcc [^\n]+\nGNU ld [^\n]+$/);
      });

      await t.step("help lists the commands", () => {
        const out = u.command("help");
        for (const cmd of ["bdinfo", "printenv", "reset", "version", "setenv", "sbi", "cpu"]) {
          assert.match(out, new RegExp(`^${cmd} +- `, "m"), `help lists ${cmd}`);
        }
        assert.ok(out.split("\n").length > 50, "the whole list");
      });

      await t.step("bdinfo: DRAM is the config's 256 MiB at 0x80000000", () => {
        const out = u.command("bdinfo");
        assert.match(out, /^-> start += 0x0000000080000000$/m);
        assert.match(out, /^-> size += 0x0000000010000000$/m);
        assert.match(out, /^ memory\[0\]\t\[0x80000000-0x8fffffff\], 0x10000000 bytes/m);
        assert.match(out, /^Build += 64-bit$/m);
      });

      await t.step("printenv, and setenv keeps state", () => {
        const out = u.command("printenv");
        for (
          const line of [
            "arch=riscv",
            "board=qemu-riscv",
            "bootdelay=2",
            "stdin=serial@10000000",
            "stdout=serial@10000000",
            "stderr=serial@10000000",
          ]
        ) {
          assert.ok(out.split("\n").includes(line), `printenv shows ${line}`);
        }
        assert.match(out, /\nEnvironment size: \d+\/\d+ bytes$/);
        assert.equal(u.command("setenv greeting hello from axvisor.ts"), "");
        assert.equal(u.command("printenv greeting"), "greeting=hello from axvisor.ts");
      });

      await t.step(
        "sleep takes its time in virtual time (the guest's time CSR and timebase)",
        () => {
          const before = hv.clock.now();
          assert.equal(u.command("sleep 0.1"), "");
          const took = hv.clock.now() - before;
          // U-Boot counts whole milliseconds from a truncated start: it may end up to 1 ms early.
          assert.ok(took >= 99e6 && took < 105e6, `sleep 0.1 took ${took} ns of virtual time`);
        },
      );

      await t.step("sbi: U-Boot probes the VMM's SBI extensions", () => {
        const out = u.command("sbi");
        // (U-Boot 2023.01 prints the spec version where it means an unknown implementation id.)
        assert.match(out, /^SBI 2\.0/);
        for (
          const ext of [
            "Timer Extension",
            "IPI Extension",
            "RFENCE Extension",
            "Hart State Management Extension",
            "System Reset Extension",
          ]
        ) {
          assert.ok(out.split("\n").includes(`  ${ext}`), `sbi lists ${ext}:\n${out}`);
        }
      });

      await t.step("guest memory: mw writes, md reads back", () => {
        assert.equal(u.command("mw.l 0x84000000 0x12345678 2"), "");
        assert.equal(
          u.command("md.l 0x84000000 3"),
          "84000000: 12345678 12345678 00000000           xV4.xV4.....",
        );
        assert.equal(vm.bus.read(0x8400_0004, 4), 0x12345678, "the VM's RAM holds it");
      });

      await t.step("Ctrl-C interrupts a long sleep at once", () => {
        u.type("sleep 100\n");
        u.until("sleep 100\r\n", 1e9);
        hv.runFor(5e6);
        const before = hv.clock.now();
        u.type("\x03");
        assert.equal(u.until("=> ", 1e9), "=> ");
        const took = hv.clock.now() - before;
        assert.ok(took < 1e6, `the prompt came back after ${took} ns`);
      });

      await t.step("suspend holds U-Boot (input waits); resume continues", () => {
        assert.ok(hv.suspendVm(vm.id).ok);
        const instret = vm.stats().instret;
        u.type("version\n");
        hv.runFor(100e6);
        assert.equal(u.transcript.slice(u.cursor), "", "no output while suspended");
        assert.equal(vm.stats().instret, instret, "no instruction while suspended");
        assert.ok(hv.resumeVm(vm.id).ok);
        assert.match(u.until(PROMPT, 1e9), /^version\r\nU-Boot 2/);
      });

      await t.step("reset restarts the VM through SBI SRST and it boots again", () => {
        const systemDowns = vm.exitCounters().toRecord().SystemDown;
        statuses.length = 0;
        u.type("reset\n");
        u.until("resetting ...", 1e9);
        const boot = u.until(AUTOBOOT, 5e9);
        assert.equal(vm.boots, 2);
        assert.deepEqual(
          statuses.map((s) => [s.from, s.to, s.reason]),
          [
            ["running", "stopping", "guest reboot"],
            ["stopping", "stopped", "last vCPU exited"],
            ["stopped", "running", "start"],
          ],
        );
        assert.equal(vm.exitCounters().toRecord().SystemDown, systemDowns + 1, "one SRST exit");
        assert.equal(
          boot.slice(boot.indexOf("U-Boot 20")),
          firstBanner,
          "the same boot, byte for byte",
        );
        u.type("\r");
        u.until(PROMPT, 1e9);
        assert.equal(
          u.command("printenv greeting"),
          '## Error: "greeting" not defined',
          "a reboot starts from fresh RAM",
        );
      });

      await t.step("vm stop stops it; vm start boots it again", () => {
        const r = hv.stopVm(vm.id);
        assert.ok(r.ok, r.error?.message);
        assert.ok(hv.runUntil(() => vm.status === "stopped", 1e9), `status ${vm.status}`);
        assert.ok(vm.vcpus.every((v) => v.state === VCpuState.Free));
        assert.ok(hv.startVm(vm.id).ok);
        u.stopAutoboot();
        assert.equal(vm.boots, 3);
      });

      await t.step("poweroff shuts the VM down through SBI SRST", () => {
        statuses.length = 0;
        u.type("poweroff\n");
        assert.ok(hv.runUntil(() => vm.status === "stopped", 1e9), `status ${vm.status}`);
        assert.equal(statuses[0].reason, "guest shutdown");
        assert.match(u.transcript.slice(u.cursor), /^poweroff\r\npoweroff \.\.\.\r\n/);
      });
      assert.deepEqual(faults, [], "no guest fault");
      assert.equal(vm.lastError, undefined);
    } finally {
      u.close();
      hv.deleteVm(vm.id, { force: true });
    }
  },
);

testNeeding(
  [NEEDS_UBOOT],
  "uboot: three VMs at once (2, 3 and 4 vCPUs; 128, 512 and 256 MiB) reach their prompts",
  () => {
    const { hv } = makeUbootHypervisor();
    const variants = [
      { id: 21, cpus: 2, mib: 128, size: "0x800_0000" },
      { id: 22, cpus: 3, mib: 512, size: "0x2000_0000" },
      { id: 23, cpus: 4, mib: 256, size: "0x1000_0000" },
    ];
    const consoles = variants.map(({ id, cpus, size }) => {
      const text = exampleConfig("uboot-smp.toml")
        .replace(/^id = 12$/m, `id = ${id}`)
        .replace(/^name = "uboot-smp"$/m, `name = "uboot${id}"`)
        .replace(/^cpu_num = 4$/m, `cpu_num = ${cpus}`)
        .replace("[0x8000_0000, 0x1000_0000, 0x7, 0]", `[0x8000_0000, ${size}, 0x7, 0]`);
      const vm = hv.createVm({ text, origin: `uboot${id}.toml` });
      assert.equal(vm.vcpus.length, cpus);
      return new UbootConsole(hv, vm);
    });
    try {
      for (const u of consoles) assert.ok(hv.startVm(u.vm.id).ok);
      // They run side by side on the board's four pCPUs while we wait for each in turn.
      const boots = consoles.map((u) => u.stopAutoboot(10e9));
      variants.forEach(({ cpus, mib, size }, i) => {
        const u = consoles[i];
        assert.match(boots[i], new RegExp(`\\nDRAM: +${mib} MiB\\r\\n`));
        assert.match(
          boots[i],
          new RegExp(`\\nModel: axvisor\\.ts guest uboot${variants[i].id}\\r`),
        );
        const list = u.command("cpu list").split("\n");
        assert.deepEqual(
          list.map((l) => l.replace(/\s+rv64\S+$/, "").trim()),
          Array.from({ length: cpus }, (_, h) => `${h}: cpu@${h}`),
        );
        const bd = u.command("bdinfo");
        assert.match(
          bd,
          new RegExp(
            `^-> size += 0x${BigInt(size.replace(/_/g, "")).toString(16).padStart(16, "0")}$`,
            "m",
          ),
        );
        // U-Boot runs on its boot hart; the others stay stopped in SBI HSM, as under OpenSBI.
        assert.equal(u.vm.vcpus[0].hsm, HsmStatus.Started);
        for (const v of u.vm.vcpus.slice(1)) {
          assert.equal(v.hsm, HsmStatus.Stopped, `vCPU ${v.id} of ${u.vm.name}`);
        }
        assert.equal(u.vm.status, "running");
      });
    } finally {
      for (const u of consoles) {
        u.close();
        hv.deleteVm(u.vm.id, { force: true });
      }
    }
  },
);

/** Lines that differ by design between the VMM and QEMU's virt machine (no flash, no OpenSBI in RAM, where U-Boot relocates the device tree). */
const DIFFERS_BY_DESIGN =
  /^(fdt_addr|fdtaddr|fdtcontroladdr)=|^(flashstart|flashsize|fdt_blob|new_fdt|fdt_size) |^ reserved/;

testNeeding(
  [NEEDS_UBOOT, ...NEEDS_QEMU],
  "uboot: the same answers as under QEMU + OpenSBI (differential)",
  async () => {
    const commands = ["version", "help", "printenv", "bdinfo", "coninfo", "sleep 0.01"];
    const qemu = QemuUboot.start({ smp: 1, memoryMiB: 256 });
    const expected: string[] = [];
    try {
      await qemu.stopAutoboot();
      for (const c of commands) expected.push(await qemu.command(c));
    } finally {
      await qemu.close();
    }
    const { hv } = makeUbootHypervisor();
    const vm = hv.createVm({ path: UBOOT_CONFIG });
    const u = new UbootConsole(hv, vm);
    try {
      hv.startVm(vm.id);
      u.stopAutoboot();
      const keep = (text: string) =>
        text.split("\n").filter((l) => !DIFFERS_BY_DESIGN.test(l)).join("\n");
      commands.forEach((c, i) => {
        assert.equal(keep(u.command(c)), keep(expected[i]), `output of ${c}`);
      });
    } finally {
      u.close();
      hv.deleteVm(vm.id, { force: true });
    }
  },
);
