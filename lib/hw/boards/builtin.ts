/**
 * The built-in boards: the same TOML texts as `examples/boards/*.toml` (a test keeps them equal),
 * embedded so that the boards work without any file.
 *
 * @module
 */

import { isaString } from "../riscv/isa.ts";
import { type BoardSpec, parseBoard } from "./spec.ts";

/** Name of the default board. */
export const DEFAULT_BOARD = "qemu-virt";

/** The ISA (the hart's own, from isa.ts) and MMU of every built-in board's harts. */
const CPU_FEATURES = `isa = "${isaString()}"
mmu_type = "riscv,sv39"`;

/** The `[chosen]` table of a board whose console is `uart0`. */
const CHOSEN_UART0 = `[chosen]
stdout = "uart0"`;

/** The QEMU virt device map the built-in boards share: type and base of each device, by name. */
const VIRT_DEVICES: Readonly<Record<string, { type: string; base: string }>> = {
  test: { type: "sifive-test", base: "0x0010_0000" },
  rtc: { type: "goldfish-rtc", base: "0x0010_1000" },
  clint: { type: "aclint", base: "0x0200_0000" },
  plic: { type: "plic", base: "0x0C00_0000" },
  uart0: { type: "ns16550a", base: "0x1000_0000" },
  uart1: { type: "ns16550a", base: "0x1000_1000" },
};

/** The `[[devices]]` table of a device of the virt map, then further `key = value` lines. */
function device(name: string, ...more: string[]): string {
  const { type, base } = VIRT_DEVICES[name];
  return [`[[devices]]`, `name = "${name}"`, `type = "${type}"`, `base = ${base}`, ...more].join(
    "\n",
  );
}

/** TOML text of each built-in board, by name. */
export const BUILTIN_BOARD_TEXTS: Readonly<Record<string, string>> = {
  "qemu-virt": `# The default board: QEMU's riscv64 virt machine memory map
# (qemu-system-riscv64 -M virt -smp 4 -m 8G).
name = "qemu-virt"
description = "QEMU riscv virt memory map: 4 harts, 8 GiB RAM, CLINT, PLIC, NS16550A, RTC, test finisher"
model = "riscv-virtio,qemu"
compatible = ["riscv-virtio"]
timebase_frequency = 10_000_000

[cpus]
hart_ids = [0, 1, 2, 3]
${CPU_FEATURES}
frequency = 100_000_000

[[memory]]
base = 0x8000_0000
size = 0x2_0000_0000 # 8 GiB

${device("test", "size = 0x1000")}

${device("clint", "size = 0x1_0000")}

${device("plic", "size = 0x60_0000", "sources = 96")}

${device("uart0", "size = 0x100", "irq = 10", "clock_frequency = 3_686_400")}

${device("rtc", "size = 0x1000", "irq = 11")}

${CHOSEN_UART0}
`,
  "server-64":
    `# A server-class board: 64 harts, 128 GiB of RAM in two banks, the QEMU virt device map.
name = "server-64"
description = "Server-class board: 64 harts, 128 GiB RAM in two banks, CLINT, PLIC, NS16550A, RTC, test finisher"
model = "axvisor,server-64"
compatible = ["axvisor,server-64", "riscv-virtio"]
timebase_frequency = 25_000_000

[cpus]
hart_ids = [
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
  16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
  32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47,
  48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63,
]
${CPU_FEATURES}
frequency = 250_000_000

[[memory]]
base = 0x8000_0000
size = 0x10_0000_0000 # 64 GiB

[[memory]]
base = 0x20_0000_0000
size = 0x10_0000_0000 # 64 GiB

${device("test")}

${device("clint", "size = 0x1_0000")}

${device("plic", "size = 0x400_0000", "sources = 127")}

${device("uart0", "irq = 10")}

${device("uart1", "irq = 11")}

${device("rtc", "irq = 12")}

${CHOSEN_UART0}
`,
  "compact-2": `# A small board: 2 harts, 1 GiB of RAM, a 1 MHz timebase, the QEMU virt device map.
name = "compact-2"
description = "Compact board: 2 harts, 1 GiB RAM, 1 MHz timebase, CLINT, PLIC, NS16550A, RTC, test finisher"
model = "axvisor,compact-2"
compatible = ["axvisor,compact-2"]
timebase_frequency = 1_000_000

[cpus]
hart_ids = [0, 1]
${CPU_FEATURES}
frequency = 50_000_000

[[memory]]
base = 0x8000_0000
size = 0x4000_0000 # 1 GiB

${device("test")}

${device("clint")}

${device("plic", "size = 0x40_0000", "sources = 32")}

${device("uart0", "irq = 10")}

${device("rtc", "irq = 11")}

${CHOSEN_UART0}
`,
};

/** The built-in boards, parsed once at load; keys are board names. */
export const builtinBoards: ReadonlyMap<string, BoardSpec> = new Map(
  Object.entries(BUILTIN_BOARD_TEXTS).map((
    [name, text],
  ) => [name, parseBoard(text, `builtin:${name}`)]),
);
