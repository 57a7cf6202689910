/**
 * The same kernel and initramfs (`deno task images`) under Debian's OpenSBI (fw_jump) on QEMU
 * (`qemu-system-riscv64 -M virt -bios fw_jump.elf -kernel Image -initrd ... -append ...`) and on
 * our bare board (`deno task bare --board qemu-virt ... --initrd ... --append ...`): both reach
 * the busybox shell and print the same answers to the same commands. The bare board's boot log
 * also shows no warning caused by our platform (e.g. "rdtime lacks granularity").
 *
 * Without the images, QEMU or OpenSBI, the test fails under CI=true and is skipped elsewhere.
 */
import assert from "node:assert/strict";
import {
  bootProblems,
  onBareBoard,
  onQemu,
  PORTABLE_COMMANDS,
  testNeedingLinux,
} from "../vmm/linux_support.ts";

testNeedingLinux(
  "linux on QEMU and on the bare board: same kernel, same initramfs, same answers",
  async () => {
    const qemu = await onQemu(PORTABLE_COMMANDS.map((c) => c.command));
    const bare = await onBareBoard(PORTABLE_COMMANDS.map((c) => c.command));
    PORTABLE_COMMANDS.forEach(({ command, expect }, i) => {
      assert.match(qemu.answers[i], expect, `QEMU: ${command}`);
      assert.equal(bare.answers[i], qemu.answers[i], `bare board vs QEMU: ${command}`);
    });
    assert.match(bare.boot, /cpu0: Ratio of byte access time to unaligned word access/);
    assert.deepEqual(bootProblems(bare.boot), [], "no platform warnings on the bare board");
    assert.ok(bare.instret > 0);
  },
  { qemu: true },
);
