import assert from "node:assert/strict";
import { ConfigError, parseVmConfig } from "../../lib/vmm/config.ts";

const RISCV = `# Vm base info configs
[base]
id = 1
name = "arceos-qemu"
vm_type = 1
cpu_num = 2
phys_cpu_ids = [0, 1]
phys_cpu_sets = [1, 2]

[kernel]
entry_point = 0x8020_0000
image_location = "fs"
kernel_path = "/guest/images/arceos.bin"
kernel_load_addr = 0x8020_0000
dtb_load_addr = 0x8220_0000
cmdline = "console=ttyS0"
memory_regions = [
  [0x8000_0000, 0x800_0000, 0x7, 0], # System RAM MAP_ALLOC
]

[devices]
passthrough_devices = [
]
passthrough_addresses = [
    #[0x28041000, 0x100_0000]
]
excluded_devices = [
]
emu_devices = [
  ["console", 0x1000_0000, 0x100, 10, 0x2, []],
  ["plic", 0x0c00_0000, 0x40_0000, 0, 0x1, [96]],
]
interrupt_mode = "passthrough"
`;

// The shapes of AxVisor's AArch64 board configs: identical RAM, multi-line passthrough entries,
// GIC partial-passthrough emulated devices with config lists, name-only passthrough entries.
const AARCH64 = `[base]
id = 1
name = "linux"
vm_type = 1
cpu_num = 8
phys_cpu_sets = [1, 2, 4, 8, 16, 32, 64, 128]
phys_cpu_ids = [0x00, 0x100, 0x200, 0x300, 0x400, 0x500, 0x600, 0x700]

[kernel]
entry_point = 0x1008_0000
kernel_load_addr = 0x1008_0000
dtb_load_addr = 0x1000_0000
image_location = "memory"
kernel_path = "/path/to/kernel"
dtb_path = "/path/to/dtb"
memory_regions = [
    [0x940_0000, 0xd550_0000, 0x7, 1], # ram 3G MAP_IDENTICAL
    [0x920_0000, 0x2000, 0x7, 1]
]

[devices]
emu_devices = [
  ["gppt-gicd", 0x0800_0000, 0x1_0000, 0, 0x21, []],
  ["gppt-gicr", 0x080a_0000, 0x2_0000, 0, 0x20, [1, 0x2_0000, 0]],
  ["gppt-gits", 0x0808_0000, 0x2_0000, 0, 0x22, [0x0808_0000]],
]
interrupt_mode = "passthrough"
passthrough_devices = [
    [
        "uart8250 UART",
        0xfd00_0000,
        0xfd00_0000,
        0x200_0000,
        0x17,
    ],
    ["/"],
    ["/pl011@9000000", 0x900_0000],
]
excluded_devices = [
   ["/gic-v3"],
]
`;

Deno.test("config: a RISC-V AxVisor config parses with every field", () => {
  const c = parseVmConfig(RISCV, "/guest/arceos.toml");
  assert.equal(c.base.id, 1);
  assert.equal(c.base.name, "arceos-qemu");
  assert.equal(c.base.cpuNum, 2);
  assert.deepEqual(c.base.physCpuIds, [0, 1]);
  assert.deepEqual(c.base.physCpuSets, [1, 2]);
  assert.equal(c.kernel.entryPoint, 0x8020_0000);
  assert.equal(c.kernel.dtbLoadAddr, 0x8220_0000);
  assert.equal(c.kernel.cmdline, "console=ttyS0");
  assert.deepEqual(c.kernel.memoryRegions, [{
    gpa: 0x8000_0000,
    size: 0x800_0000,
    flags: 7,
    mapType: 0,
  }]);
  assert.equal(c.devices.emuDevices.length, 2);
  assert.deepEqual(c.devices.emuDevices[1], {
    name: "plic",
    baseGpa: 0x0c00_0000,
    length: 0x40_0000,
    irq: 0,
    emuType: 1,
    cfg: [96],
  });
  assert.equal(c.devices.interruptMode, "passthrough");
  assert.deepEqual(c.warnings, []);
});

Deno.test("config: AArch64 configs parse and keep their fields", () => {
  const c = parseVmConfig(AARCH64, "linux-aarch64-rk3588-smp8.toml");
  assert.equal(c.base.cpuNum, 8);
  assert.equal(c.base.physCpuIds![7], 0x700);
  assert.equal(c.kernel.imageLocation, "memory");
  assert.equal(c.kernel.memoryRegions[0].mapType, 1);
  assert.equal(c.kernel.memoryRegions[0].size, 0xd550_0000);
  assert.deepEqual(c.devices.emuDevices[1].cfg, [1, 0x2_0000, 0]);
  assert.equal(c.devices.emuDevices[2].emuType, 0x22);
  assert.deepEqual(c.devices.passthroughDevices[0], {
    name: "uart8250 UART",
    baseGpa: 0xfd00_0000,
    baseHpa: 0xfd00_0000,
    length: 0x200_0000,
    irq: 0x17,
  });
  assert.deepEqual(c.devices.passthroughDevices[1], {
    name: "/",
    baseGpa: 0,
    baseHpa: 0,
    length: 0,
    irq: 0,
  });
  assert.equal(c.devices.passthroughDevices[2].baseGpa, 0x900_0000);
  assert.deepEqual(c.devices.excludedDevices, [["/gic-v3"]]);
});

Deno.test("config: defaults and interrupt_mode aliases", () => {
  const c = parseVmConfig(
    `[base]\nid = 3\n[kernel]\nentry_point = 0x80200000\nkernel_path = "k"\nkernel_load_addr = 0x80200000\nmemory_regions = [[0x80000000, 0x100000, 7, 0]]\n[devices]\ninterrupt_mode = "pt"\nfoo = 1\n`,
    "x.toml",
  );
  assert.equal(c.base.name, "vm3");
  assert.equal(c.base.vmType, 1);
  assert.equal(c.base.cpuNum, 1);
  assert.equal(c.kernel.imageLocation, "fs");
  assert.equal(c.devices.interruptMode, "passthrough");
  assert.deepEqual(c.devices.emuDevices, []);
  assert.deepEqual(c.warnings, ["x.toml:10: unknown key 'devices.foo' ignored"]);
});

function configError(text: string, file = "bad.toml"): ConfigError {
  try {
    parseVmConfig(text, file);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
    return e;
  }
  throw new Error("expected the config to be rejected");
}

Deno.test("config: errors name the file, the line and the key", () => {
  const syntax = configError("[base]\nid = 1\nname = \n");
  assert.equal(syntax.line, 3);
  assert.match(syntax.message, /^bad\.toml:3: TOML syntax error/);

  const noBase = configError("[kernel]\n");
  assert.match(noBase.message, /bad\.toml: base: missing table \[base\]/);

  const badRegion = RISCV.replace(
    "[0x8000_0000, 0x800_0000, 0x7, 0]",
    "[0x8000_0000, 0x800_0000, 0x7, 5]",
  );
  const e1 = configError(badRegion);
  assert.equal(e1.line, 17);
  assert.equal(e1.key, "kernel.memory_regions[0]");
  assert.match(e1.message, /bad\.toml:17: kernel\.memory_regions\[0\]: map_type 5 is not 0/);

  const badType = RISCV.replace('name = "arceos-qemu"', "name = 5");
  const e2 = configError(badType);
  assert.equal(e2.message, "bad.toml:4: base.name: expected a string, found number 5");

  const badIds = RISCV.replace("phys_cpu_ids = [0, 1]", "phys_cpu_ids = [0]");
  assert.match(
    configError(badIds).message,
    /bad\.toml:7: base\.phys_cpu_ids: has 1 entries but cpu_num is 2/,
  );

  const missing = RISCV.replace('kernel_path = "/guest/images/arceos.bin"\n', "");
  assert.match(
    configError(missing).message,
    /bad\.toml:10: kernel: missing required key 'kernel_path'/,
  );

  const overlap = RISCV.replace(
    "[0x8000_0000, 0x800_0000, 0x7, 0], # System RAM MAP_ALLOC",
    "[0x8000_0000, 0x800_0000, 0x7, 0], [0x8400_0000, 0x1000, 7, 0],",
  );
  assert.match(configError(overlap).message, /memory_regions\[1\]: overlaps memory_regions\[0\]/);

  const emu = RISCV.replace("0x2, []]", "0x99, []]");
  assert.match(configError(emu).message, /emu_devices\[0\]\[4\]: unknown emu_type 153/);

  const mode = RISCV.replace('interrupt_mode = "passthrough"', 'interrupt_mode = "sometimes"');
  assert.match(
    configError(mode).message,
    /bad\.toml:33: devices\.interrupt_mode: unknown mode "sometimes"/,
  );

  const huge = RISCV.replace("entry_point = 0x8020_0000", "entry_point = 0xffff_ffff_ffff_ffff");
  assert.match(
    configError(huge).message,
    /kernel\.entry_point: integer 18446744073709551615 is too large/,
  );
});

Deno.test("config: commented-out memory regions parse (AxVisor ships such configs)", () => {
  const text = `[base]
id = 1
name = "linux-qemu"
cpu_num = 1
phys_cpu_sets = [1]
[kernel]
entry_point = 0x8008_0000
image_location = "memory"
kernel_path = "linux.bin"
kernel_load_addr = 0x8008_0000
dtb_path = "linux-qemu.dtb"
dtb_load_addr = 0x8000_0000
memory_regions = [
    # [0x8000_0000, 0x4000_0000, 0x7, 1], # System RAM 1G MAP_IDENTICAL
]
[devices]
passthrough_devices = [
    # ["pl011@9000000", 0x900_0000, 0x900_0000, 0x1000, 0x1],
]
emu_devices = [
    ["ivc-channel", 0xd000_0000, 0x1000_0000, 0x0, 0x1, []],
]
`;
  const c = parseVmConfig(text, "linux-qemu-aarch64.toml");
  assert.deepEqual(c.kernel.memoryRegions, []);
  assert.equal(c.kernel.dtbPath, "linux-qemu.dtb");
  assert.equal(c.devices.interruptMode, "no_irq");
});
