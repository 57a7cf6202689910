import assert from "node:assert/strict";
import { readFdt } from "../../lib/hw/fdt/mod.ts";
import { ConfigError } from "../../lib/vmm/config.ts";
import { VmCreateError } from "../../lib/vmm/hypervisor.ts";
import { ImageError } from "../../lib/vmm/image_loader.ts";
import { makeHypervisor, patchToml } from "./helpers.ts";
import { isaString } from "../../lib/hw/riscv/isa.ts";

const HELLO = Deno.readTextFileSync(new URL("../../examples/configs/hello.toml", import.meta.url));
const UART = Deno.readTextFileSync(new URL("../../examples/configs/uart.toml", import.meta.url));

function rejects(
  text: string,
  pattern: RegExp,
  kind: new (...a: never[]) => Error = VmCreateError,
): void {
  const { hv } = makeHypervisor();
  assert.throws(() => hv.createVm({ text, origin: "/configs/t.toml" }), (e) => {
    assert.ok(
      e instanceof kind,
      `expected ${kind.name}, got ${(e as Error).name}: ${(e as Error).message}`,
    );
    assert.match((e as Error).message, pattern);
    return true;
  });
  assert.deepEqual(hv.vms(), [], "nothing created");
  assert.deepEqual(hv.hostAllocations(), [], "nothing allocated");
}

Deno.test("create: validation against the board names file, key and what is wrong", () => {
  rejects(
    HELLO.replace("cpu_num = 1", "cpu_num = 1\nphys_cpu_sets = [0x10]"),
    /\/configs\/t\.toml: base\.phys_cpu_sets\[0\]: mask 0x10 names pCPUs the board qemu-virt does not have \(it has 4: mask 0xf\)/,
  );
  rejects(
    HELLO.replace("cpu_num = 1", "cpu_num = 1\nphys_cpu_ids = [7]"),
    /base\.phys_cpu_ids\[0\]: CPU id 7 does not exist on board qemu-virt \(hart ids 0, 1, 2, 3\)/,
  );
  rejects(
    HELLO.replace("[0x8000_0000, 0x800_0000, 0x7, 0]", "[0x4000_0000, 0x1000, 0x7, 1]"),
    /kernel\.memory_regions\[0\]: VM\[1\] memory_regions\[0\]: no board RAM covers \[0x40000000, 0x40001000\) for an identical mapping/,
  );
  rejects(
    HELLO.replace("[0x8000_0000, 0x800_0000, 0x7, 0]", "[0x8000_0000, 0x4_0000_0000, 0x7, 0]"),
    /not enough board RAM for VM\[1\] memory_regions\[0\]: 0x400000000 bytes requested, 0x200000000 of 0x200000000 free/,
  );
  rejects(
    HELLO.replace(
      "[0x8000_0000, 0x800_0000, 0x7, 0],",
      "[0x8000_0000, 0x800_0000, 0x7, 0], [0x5000_0000, 0x1000, 0x7, 2],",
    ),
    /memory_regions\[1\]: reserved region \[0x50000000, 0x50001000\) is neither board RAM nor a board device/,
  );
  rejects(
    HELLO.replace(
      "passthrough_devices = []",
      'passthrough_devices = [["gpu", 0x3000_0000, 0x3000_0000, 0x1000, 1]]',
    ),
    /devices\.passthrough_devices\[0\] \(gpu\): no board device at HPA 0x30000000 on qemu-virt/,
  );
  rejects(
    HELLO.replace("passthrough_devices = []", 'passthrough_devices = [["/"]]'),
    /passthrough_devices\[0\] \(\/\): name-only \(device-tree path\) passthrough entries/,
  );
  rejects(
    HELLO.replace(
      "emu_devices = []",
      'emu_devices = [["gppt-gicd", 0x0800_0000, 0x1_0000, 0, 0x21, []]]',
    ),
    /emu_devices\[0\] \(gppt-gicd\): emulated device type 0x21 \(GPPTDistributor\) is not available on RISC-V board qemu-virt/,
  );
  rejects(
    HELLO.replace(
      "passthrough_devices = []",
      'passthrough_devices = [["clint", 0x200_0000, 0x200_0000, 0x1000, 0]]',
    ),
    /board device clint \(aclint\) cannot be passed through to a guest/,
  );
  rejects(
    UART.replace(
      '["plic", 0x0c00_0000, 0x40_0000, 0, 0x1, [96]]',
      '["plic", 0x0c00_0000, 0x1000, 0, 0x1, [96]]',
    ),
    /a PLIC for 1 vCPU\(s\) needs a window of at least 0x201000 bytes, the config gives 0x1000/,
  );
  rejects(
    HELLO.replace('"/guests/hello.S"', '"/guests/missing.bin"'),
    /^\/configs\/t\.toml:\d+: kernel\.kernel_path: \/guests\/missing\.bin not found$/,
    ImageError,
  );
  rejects(
    HELLO.replace(/kernel_load_addr = .*/, "kernel_load_addr = 0x9000_0000").replace(
      /entry_point = .*/,
      "entry_point = 0x9000_0000",
    ),
    /\/guests\/hello\.S: image range \[0x90000000, 0x90000089\) is not inside the VM's memory regions/,
    ImageError,
  );
  rejects(HELLO.replace("[base]", "[base"), /\/configs\/t\.toml:2: TOML syntax error/, ConfigError);
  rejects(
    HELLO.replace("[0x8000_0000, 0x800_0000, 0x7, 0],", ""),
    /\/configs\/t\.toml: kernel\.memory_regions: the VM has no memory region/,
  );
});

Deno.test("create: assembly errors name the guest file and line", () => {
  const { hv } = makeHypervisor({ "/guests/bad.S": "_start:\n  nop\n  frobnicate a0\n" });
  assert.throws(
    () =>
      hv.createVm({ text: HELLO.replace("/guests/hello.S", "/guests/bad.S"), origin: "x.toml" }),
    (e) =>
      e instanceof ImageError &&
      /^x\.toml:\d+: kernel\.kernel_path: \/guests\/bad\.S: assembly failed: .*3/.test(e.message),
  );
});

Deno.test("create: duplicate ids are errors; identical RAM is never shared between VMs", () => {
  const { hv } = makeHypervisor();
  const ident = (id: number) =>
    patchToml(HELLO, { id: String(id), name: `"hello${id}"` }).replace(
      "[0x8000_0000, 0x800_0000, 0x7, 0]",
      "[0x8000_0000, 0x800_0000, 0x7, 1]",
    );
  const a = hv.createVm({ text: ident(1), origin: "a.toml" });
  assert.throws(
    () => hv.createVm({ text: ident(1), origin: "b.toml" }),
    /b\.toml: base\.id: VM with id 1 already exists/,
  );
  assert.throws(
    () => hv.createVm({ text: ident(2), origin: "c.toml" }),
    /already used by VM\[1\] memory_regions\[0\]/,
  );
  assert.equal(a.regions[0].hpa, 0x8000_0000);
  assert.equal(hv.deleteVm(a.id).error?.message, "VM is in Loaded state");
  assert.ok(hv.deleteVm(a.id, { force: true }).ok);
  const c = hv.createVm({ text: ident(2), origin: "c.toml" });
  hv.startVm(c.id);
  assert.ok(hv.runUntil(() => c.status === "stopped", 1e9));
  assert.equal(c.console.text(), "Hello from axvisor.ts!\nGoodbye.\n");
});

Deno.test("create: what vm show needs: EPT root, host addresses, devices, device tree", () => {
  const { hv } = makeHypervisor();
  const vm = hv.createVm({ path: "/configs/uart.toml" });
  const other = hv.createVm({ path: "/configs/hello.toml" });
  assert.ok(vm.eptRoot >= 0x8000_0000 && vm.eptRoot % 4096 === 0);
  assert.notEqual(vm.eptRoot, other.eptRoot);
  assert.equal(vm.regions.length, 1);
  const r = vm.regions[0];
  assert.equal(r.gpa, 0x8000_0000);
  assert.ok(r.hpa >= 0x8000_0000);
  assert.notEqual(r.hpa, other.regions[0].hpa, "allocated regions get distinct board RAM");
  assert.equal(r.needsDealloc, true);
  assert.equal(vm.memorySize, 0x400_0000);
  assert.deepEqual(vm.devices.map((d) => [d.name, d.model, d.gpa]), [
    ["plic", "plic", 0x0c00_0000],
    ["uart0", "ns16550a", 0x1000_0000],
  ]);
  hv.startVm(vm.id);
  const dtbAddr = Number(vm.vcpus[0].hart.getX(11));
  assert.equal(dtbAddr, vm.dtbGpa);
  const dtb = vm.bus.readBytes(dtbAddr, vm.dtbSize)!;
  const doc = readFdt(dtb);
  assert.equal(doc.root.find("/cpus")!.getU32("timebase-frequency"), 10_000_000);
  assert.equal(
    doc.root.find("/cpus/cpu@0")!.getString("riscv,isa"),
    isaString(),
  );
  assert.ok(doc.root.find("/memory@80000000"));
  assert.equal(doc.root.find("/chosen")!.getString("stdout-path"), "/soc/serial@10000000");
  assert.equal(doc.root.find("/soc/serial@10000000")!.getU32("interrupts"), 10);
  assert.ok(doc.root.find("/soc/plic@c000000")!.has("interrupt-controller"));
  assert.equal(vm.vcpuAffinities()[0].pcpu, 0);
});

Deno.test("create: a passthrough board UART is shared with the board console", () => {
  const guest = `
    .text
_start:
    li t0, 0x10000000
    la t1, msg
1:  lbu t2, 0(t1)
    beqz t2, 2f
    sb t2, 0(t0)
    addi t1, t1, 1
    j 1b
2:  li a7, 8
    ecall
msg: .asciz "via the board UART\\n"
`;
  const cfg = HELLO.replace("/guests/hello.S", "/guests/pt.S").replace(
    "passthrough_devices = []",
    'passthrough_devices = [["uart0", 0x1000_0000, 0x1000_0000, 0x100, 10]]',
  );
  const { hv } = makeHypervisor({ "/guests/pt.S": guest });
  const vm = hv.createVm({ text: cfg, origin: "pt.toml" });
  assert.deepEqual(vm.devices.map((d) => [d.kind, d.model, d.hpa]), [[
    "passthrough",
    "ns16550a",
    0x1000_0000,
  ]]);
  hv.startVm(vm.id);
  assert.ok(hv.runUntil(() => vm.status === "stopped", 1e9));
  assert.equal(hv.boardConsole.text(), "via the board UART\n");
  assert.equal(vm.stats().exits.MmioWrite, 19);
});
