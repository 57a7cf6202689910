/**
 * Test helpers for the shell: a hypervisor on qemu-virt (warp clock) over a MemoryFileSystem
 * holding small guests written here (assembled by the VMM at load time) and their configs.
 *
 * @module
 */

import { loadBoard } from "../../lib/hw/boards/load.ts";
import type { Hypervisor, Vm } from "../../lib/vmm/mod.ts";
import { Hypervisor as HypervisorClass } from "../../lib/vmm/hypervisor.ts";
import { MemoryFileSystem } from "../../lib/vmm/memory_filesystem.ts";
import type { VmStatus } from "../../lib/vmm/status.ts";
import type { CommandOutcome } from "../../lib/shell/outcome.ts";
import { ShellSession } from "../../lib/shell/session.ts";
import { Shell } from "../../lib/shell/shell.ts";

/** Prints `boot\n`, then spins forever (the VM stays Running). */
export const SPIN_GUEST = `
    .text
    .globl _start
_start:
    la      s0, msg
1:  lbu     a0, 0(s0)
    beqz    a0, 2f
    li      a7, 1
    ecall
    addi    s0, s0, 1
    j       1b
2:  addi    s1, s1, 1
    j       2b
    .section .rodata
msg:
    .asciz  "boot\\n"
`;

/** Echoes console input back, byte by byte, prefixed by `> ` once at boot. */
export const ECHO_GUEST = `
    .text
    .globl _start
_start:
    li      a0, 0x3e
    li      a7, 1
    ecall
    li      a0, 0x20
    li      a7, 1
    ecall
1:  li      a7, 2
    ecall
    bltz    a0, 1b
    li      a7, 1
    ecall
    j       1b
`;

/** Prints `bye\n` and shuts the VM down with the legacy SBI shutdown. */
export const SHUTDOWN_GUEST = `
    .text
    .globl _start
_start:
    li      a0, 0x62
    li      a7, 1
    ecall
    li      a0, 0x79
    ecall
    li      a0, 0x65
    ecall
    li      a0, 0x0a
    ecall
    li      a7, 8
    ecall
1:  j       1b
`;

/** A VM config for `kernel` at `/guest/images/<kernel>.S`. */
export function vmConfig(
  id: number,
  name: string,
  kernel: string,
  extra: { cpus?: number; memory?: number; base?: string } = {},
): string {
  const memory = extra.memory ?? 0x100_0000;
  return `[base]
id = ${id}
name = "${name}"
vm_type = 1
cpu_num = ${extra.cpus ?? 1}
${extra.base ?? ""}
[kernel]
entry_point = 0x8020_0000
kernel_path = "/guest/images/${kernel}.S"
kernel_load_addr = 0x8020_0000
memory_regions = [[0x8000_0000, 0x${memory.toString(16)}, 0x7, 0]]

[devices]
emu_devices = []
passthrough_devices = []
interrupt_mode = "no_irq"
`;
}

/** Files of the standard test root: guests, three configs (spin, echo, bye). */
export function testFiles(): Record<string, string> {
  return {
    "/guest/images/spin.S": SPIN_GUEST,
    "/guest/images/echo.S": ECHO_GUEST,
    "/guest/images/bye.S": SHUTDOWN_GUEST,
    "/guest/configs/spin.toml": vmConfig(1, "spin", "spin"),
    "/guest/configs/echo.toml": vmConfig(2, "echo", "echo"),
    "/guest/configs/bye.toml": vmConfig(3, "bye", "bye"),
    "/guest/configs/smp.toml": vmConfig(4, "smp", "spin", { cpus: 2, memory: 0x40_0000 }),
  };
}

/** A shell over a fresh hypervisor and filesystem. */
export interface Fixture {
  /** The hypervisor (warp clock). */
  hv: Hypervisor;
  /** Its filesystem. */
  fs: MemoryFileSystem;
  /** The shell. */
  shell: Shell;
  /** A read-write session. */
  session: ShellSession;
  /** Runs a line in `session` (or another session). */
  run(line: string, session?: ShellSession): Promise<CommandOutcome>;
  /** Runs a line and returns its text, failing the test if the outcome's ok differs. */
  text(line: string, ok?: boolean): Promise<string>;
}

/** Builds a fixture; `extra` files are added to {@linkcode testFiles}. */
export function fixture(extra: Record<string, string> = {}): Fixture {
  const fs = new MemoryFileSystem({ ...testFiles(), ...extra });
  const hv = new HypervisorClass({ board: loadBoard("qemu-virt"), fs });
  const shell = new Shell({ hypervisor: hv, fs });
  const session = new ShellSession();
  const run = (line: string, s = session) => shell.execute(line, s);
  const text = async (line: string, ok = true) => {
    const outcome = await run(line);
    if (outcome.ok !== ok) {
      throw new Error(`'${line}' gave ok=${outcome.ok}, expected ${ok}:\n${outcome.text}`);
    }
    return outcome.text;
  };
  return { hv, fs, shell, session, run, text };
}

/** Creates VM 1 (spin) and brings it to `status` through the real lifecycle. */
export async function spinVmIn(f: Fixture, status: VmStatus): Promise<Vm> {
  await f.text("vm create /guest/configs/spin.toml");
  const vm = f.hv.vm(1)!;
  switch (status) {
    case "loaded":
      break;
    case "loading":
      // Not reachable through the API (create ends Loaded); set to check the messages.
      vm.status = "loading";
      break;
    case "running":
      await f.text("vm start 1");
      f.hv.runFor(1_000_000);
      break;
    case "suspended":
      await f.text("vm start 1");
      f.hv.runFor(1_000_000);
      await f.text("vm suspend 1");
      break;
    case "stopping":
      await f.text("vm start 1");
      f.hv.runFor(1_000_000);
      await f.text("vm stop 1");
      break;
    case "stopped":
      await f.text("vm start 1");
      f.hv.runFor(1_000_000);
      await f.text("vm stop --force 1");
      break;
  }
  if (vm.status !== status) throw new Error(`spin VM is ${vm.status}, wanted ${status}`);
  return vm;
}
