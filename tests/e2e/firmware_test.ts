/**
 * Real firmware that nobody here wrote, on our boards: Debian's OpenSBI (fw_jump, generic
 * platform) in M-mode, and U-Boot (qemu-riscv64_smode) in S-mode on top of it. The expected text
 * is what the same binaries print under `qemu-system-riscv64 -M virt -smp 4 -m 8G -bios
 * fw_jump.bin -kernel u-boot.bin`, minus what differs by design (ISA, PMP and counter details).
 */
import assert from "node:assert/strict";
import { loadBoard, Machine, type MachineStop } from "../../lib/hw/boards/mod.ts";
import { loadElf, loadRaw, parseElf } from "../../lib/hw/riscv/elf.ts";

const FW_JUMP = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf";
const UBOOT = "/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin";

function readPackageFile(path: string, pkg: string): Uint8Array {
  try {
    return Deno.readFileSync(path);
  } catch {
    throw new Error(`${path} is missing: install the Debian package ${pkg} (.ci/run does)`);
  }
}

/** A board with OpenSBI (and optionally U-Boot at 0x80200000) loaded and booted. */
function bootFirmware(board: string, withUboot: boolean) {
  const machine = new Machine(loadBoard(board));
  const elf = parseElf(readPackageFile(FW_JUMP, "opensbi"), FW_JUMP);
  loadElf(elf, machine.bus, FW_JUMP);
  if (withUboot) loadRaw(readPackageFile(UBOOT, "u-boot-qemu"), 0x8020_0000, machine.bus, UBOOT);
  machine.boot(elf.entry);
  let text = "";
  const decoder = new TextDecoder();
  machine.onConsoleOutput((bytes) => (text += decoder.decode(bytes, { stream: true })));
  /** Runs until `needle` appears on the console (or the budget runs out / the machine stops). */
  const runUntil = (needle: string, budget: number, from = 0): MachineStop | undefined => {
    let spent = 0;
    while (spent < budget) {
      if (text.indexOf(needle, from) >= 0) return undefined;
      const stop = machine.run(1_000_000);
      spent += stop.instructions;
      if (stop.reason !== "budget") return stop;
    }
    assert.fail(`"${needle}" did not appear within ${budget} instructions; console:\n${text}`);
  };
  return { machine, runUntil, text: () => text };
}

Deno.test("firmware: OpenSBI fw_jump boots in M-mode on qemu-virt and prints its banner", () => {
  const { machine, runUntil, text } = bootFirmware("qemu-virt", false);
  assert.equal(runUntil("Boot HART MEDELEG", 60_000_000), undefined);
  const out = text();
  for (
    const line of [
      "OpenSBI v1.",
      "Platform Name             : riscv-virtio,qemu",
      "Platform HART Count       : 4",
      "Platform IPI Device       : aclint-mswi",
      "Platform Timer Device     : aclint-mtimer @ 10000000Hz",
      "Platform Console Device   : uart8250",
      "Platform Reboot Device    : sifive_test",
      "Platform Shutdown Device  : sifive_test",
      "Domain0 HARTs             : 0*,1*,2*,3*",
      "Domain0 Next Address      : 0x0000000080200000",
      "Domain0 Next Mode         : S-mode",
      "Boot HART ID              : 0",
      "Boot HART Base ISA        : rv64imafdc",
    ]
  ) {
    assert.ok(out.includes(line), `missing "${line}" in:\n${out}`);
  }
  assert.ok(machine.time() > 0, "mtime advanced with the instructions");
});

Deno.test("firmware: OpenSBI reads each board's own device tree (compact-2: 2 harts, 1 MHz)", () => {
  const { runUntil, text } = bootFirmware("compact-2", false);
  assert.equal(runUntil("Boot HART MEDELEG", 60_000_000), undefined);
  const out = text();
  for (
    const line of [
      "Platform Name             : axvisor,compact-2",
      "Platform HART Count       : 2",
      "Platform Timer Device     : aclint-mtimer @ 1000000Hz",
      "Domain0 HARTs             : 0*,1*",
    ]
  ) {
    assert.ok(out.includes(line), `missing "${line}" in:\n${out}`);
  }
});

Deno.test("firmware: OpenSBI + U-Boot reach the => prompt, run a command and power off", () => {
  const { machine, runUntil, text } = bootFirmware("qemu-virt", true);
  assert.equal(runUntil("Hit any key to stop autoboot", 150_000_000), undefined);
  const out = text();
  for (
    const line of [
      "U-Boot 20",
      "CPU:   rv64imafdc_zicntr_zicond_zicsr_zifencei_zba_zbb_zbs_sstc",
      "Model: riscv-virtio,qemu",
      "DRAM:  8 GiB",
      "In:    serial@10000000",
    ]
  ) {
    assert.ok(out.includes(line), `missing "${line}" in:\n${out}`);
  }
  machine.sendConsoleInput(" ");
  assert.equal(runUntil("=> ", 40_000_000), undefined);
  const mark = text().length;
  machine.sendConsoleInput("echo hello from axvisor\n");
  assert.equal(runUntil("hello from axvisor\r\n=> ", 40_000_000, mark), undefined);
  machine.sendConsoleInput("poweroff\n");
  // U-Boot waits 100 ms of virtual time (10M instructions of hart 0, while the three others
  // spin in OpenSBI's HSM wait loop, as they do under QEMU) before calling SBI SRST.
  const stop = runUntil("never printed", 100_000_000);
  assert.deepEqual(
    stop?.finisher,
    { kind: "pass", code: 0 },
    "SBI SRST shutdown reached the test finisher",
  );
  assert.equal(stop?.reason, "finished");
});

Deno.test("firmware: bin/bare.ts --board qemu-virt boots OpenSBI and prints the banner on stdout", async () => {
  readPackageFile(FW_JUMP, "opensbi");
  const bare = new URL("../../bin/bare.ts", import.meta.url).pathname;
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", bare, "--board", "qemu-virt", "--max-insns", "25000000", FW_JUMP],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(stdout);
  const err = new TextDecoder().decode(stderr);
  assert.ok(
    out.includes("Platform Name             : riscv-virtio,qemu"),
    `stdout:\n${out}\nstderr:\n${err}`,
  );
  assert.ok(out.includes("Platform HART Count       : 4"), out);
  assert.ok(out.includes("Boot HART Base ISA        : rv64imafdc"), out);
  assert.equal(code, 2, `the budget ends the run (exit 2): ${err}`);
  assert.match(err, /instruction budget spent/);
});
