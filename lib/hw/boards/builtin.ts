/**
 * The built-in boards: the same TOML texts as `examples/boards/*.toml` (a test keeps them equal),
 * embedded so that the boards work without any file.
 *
 * @module
 */

import { type BoardSpec, parseBoard } from "./spec.ts";

/** Name of the default board. */
export const DEFAULT_BOARD = "qemu-virt";

/** TOML text of each built-in board, by name. */
export const BUILTIN_BOARD_TEXTS: Readonly<Record<string, string>> = {
  "qemu-virt": `# The default board: QEMU's riscv64 virt machine memory map
# (qemu-system-riscv64 -M virt -smp 4 -m 8G).
name = "qemu-virt"
description = "QEMU riscv virt memory map: 4 harts, 8 GiB RAM, CLINT, PLIC, NS16550A, test finisher"
model = "riscv-virtio,qemu"
compatible = ["riscv-virtio"]
timebase_frequency = 10_000_000

[cpus]
hart_ids = [0, 1, 2, 3]
isa = "rv64imac_zicsr_zifencei"
mmu_type = "riscv,sv39"
frequency = 100_000_000

[[memory]]
base = 0x8000_0000
size = 0x2_0000_0000 # 8 GiB

[[devices]]
name = "test"
type = "sifive-test"
base = 0x0010_0000
size = 0x1000

[[devices]]
name = "clint"
type = "aclint"
base = 0x0200_0000
size = 0x1_0000

[[devices]]
name = "plic"
type = "plic"
base = 0x0C00_0000
size = 0x60_0000
sources = 96

[[devices]]
name = "uart0"
type = "ns16550a"
base = 0x1000_0000
size = 0x100
irq = 10
clock_frequency = 3_686_400

[chosen]
stdout = "uart0"
`,
  "server-64":
    `# A server-class board: 64 harts, 128 GiB of RAM in two banks, the QEMU virt device map.
name = "server-64"
description = "Server-class board: 64 harts, 128 GiB RAM in two banks, CLINT, PLIC, NS16550A, test finisher"
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
isa = "rv64imac_zicsr_zifencei"
mmu_type = "riscv,sv39"
frequency = 250_000_000

[[memory]]
base = 0x8000_0000
size = 0x10_0000_0000 # 64 GiB

[[memory]]
base = 0x20_0000_0000
size = 0x10_0000_0000 # 64 GiB

[[devices]]
name = "test"
type = "sifive-test"
base = 0x0010_0000

[[devices]]
name = "clint"
type = "aclint"
base = 0x0200_0000
size = 0x1_0000

[[devices]]
name = "plic"
type = "plic"
base = 0x0C00_0000
size = 0x400_0000
sources = 127

[[devices]]
name = "uart0"
type = "ns16550a"
base = 0x1000_0000
irq = 10

[[devices]]
name = "uart1"
type = "ns16550a"
base = 0x1000_1000
irq = 11

[chosen]
stdout = "uart0"
`,
  "compact-2": `# A small board: 2 harts, 1 GiB of RAM, a 1 MHz timebase, the QEMU virt device map.
name = "compact-2"
description = "Compact board: 2 harts, 1 GiB RAM, 1 MHz timebase, CLINT, PLIC, NS16550A, test finisher"
model = "axvisor,compact-2"
compatible = ["axvisor,compact-2"]
timebase_frequency = 1_000_000

[cpus]
hart_ids = [0, 1]
isa = "rv64imac_zicsr_zifencei"
mmu_type = "riscv,sv39"
frequency = 50_000_000

[[memory]]
base = 0x8000_0000
size = 0x4000_0000 # 1 GiB

[[devices]]
name = "test"
type = "sifive-test"
base = 0x0010_0000

[[devices]]
name = "clint"
type = "aclint"
base = 0x0200_0000

[[devices]]
name = "plic"
type = "plic"
base = 0x0C00_0000
size = 0x40_0000
sources = 32

[[devices]]
name = "uart0"
type = "ns16550a"
base = 0x1000_0000
irq = 10

[chosen]
stdout = "uart0"
`,
};

/** The built-in boards, parsed once at load; keys are board names. */
export const builtinBoards: ReadonlyMap<string, BoardSpec> = new Map(
  Object.entries(BUILTIN_BOARD_TEXTS).map((
    [name, text],
  ) => [name, parseBoard(text, `builtin:${name}`)]),
);
