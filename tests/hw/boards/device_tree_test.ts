import assert from "node:assert/strict";
import {
  boardDevicePath,
  boardDeviceTree,
  boardDtb,
  BUILTIN_BOARD_TEXTS,
  builtinBoards,
  isaExtensions,
  parseBoard,
} from "../../../lib/hw/boards/mod.ts";
import { type FdtNode, readFdt } from "../../../lib/hw/fdt/mod.ts";
import { decodeDtb } from "../fdt/dtc.ts";

const COMPACT_2_DTS = `/dts-v1/;

/ {
	#address-cells = <0x02>;
	#size-cells = <0x02>;
	compatible = "axvisor,compact-2";
	model = "axvisor,compact-2";

	chosen {
		stdout-path = "/soc/serial@10000000";
	};

	memory@80000000 {
		device_type = "memory";
		reg = <0x00 0x80000000 0x00 0x40000000>;
	};

	cpus {
		#address-cells = <0x01>;
		#size-cells = <0x00>;
		timebase-frequency = <0xf4240>;

		cpu@0 {
			device_type = "cpu";
			reg = <0x00>;
			status = "okay";
			compatible = "riscv";
			riscv,isa = "rv64imafdc_zicntr_zicond_zicsr_zifencei_zba_zbb_zbs_sstc";
			riscv,isa-base = "rv64i";
			riscv,isa-extensions = "i\\0m\\0a\\0f\\0d\\0c\\0zicntr\\0zicond\\0zicsr\\0zifencei\\0zba\\0zbb\\0zbs\\0sstc";
			mmu-type = "riscv,sv39";
			phandle = <0x01>;

			interrupt-controller {
				#address-cells = <0x00>;
				#interrupt-cells = <0x01>;
				interrupt-controller;
				compatible = "riscv,cpu-intc";
				phandle = <0x02>;
			};
		};

		cpu@1 {
			device_type = "cpu";
			reg = <0x01>;
			status = "okay";
			compatible = "riscv";
			riscv,isa = "rv64imafdc_zicntr_zicond_zicsr_zifencei_zba_zbb_zbs_sstc";
			riscv,isa-base = "rv64i";
			riscv,isa-extensions = "i\\0m\\0a\\0f\\0d\\0c\\0zicntr\\0zicond\\0zicsr\\0zifencei\\0zba\\0zbb\\0zbs\\0sstc";
			mmu-type = "riscv,sv39";
			phandle = <0x03>;

			interrupt-controller {
				#address-cells = <0x00>;
				#interrupt-cells = <0x01>;
				interrupt-controller;
				compatible = "riscv,cpu-intc";
				phandle = <0x04>;
			};
		};

		cpu-map {

			cluster0 {

				core0 {
					cpu = <0x01>;
				};

				core1 {
					cpu = <0x03>;
				};
			};
		};
	};

	soc {
		#address-cells = <0x02>;
		#size-cells = <0x02>;
		compatible = "simple-bus";
		ranges;

		test@100000 {
			compatible = "sifive,test1\\0sifive,test0\\0syscon";
			reg = <0x00 0x100000 0x00 0x1000>;
			phandle = <0x06>;
		};

		clint@2000000 {
			compatible = "sifive,clint0\\0riscv,clint0";
			reg = <0x00 0x2000000 0x00 0x10000>;
			interrupts-extended = <0x02 0x03 0x02 0x07 0x04 0x03 0x04 0x07>;
		};

		plic@c000000 {
			compatible = "sifive,plic-1.0.0\\0riscv,plic0";
			reg = <0x00 0xc000000 0x00 0x400000>;
			#address-cells = <0x00>;
			#interrupt-cells = <0x01>;
			interrupt-controller;
			interrupts-extended = <0x02 0x0b 0x02 0x09 0x04 0x0b 0x04 0x09>;
			riscv,ndev = <0x20>;
			phandle = <0x05>;
		};

		serial@10000000 {
			compatible = "ns16550a";
			reg = <0x00 0x10000000 0x00 0x100>;
			clock-frequency = "\\08@";
			interrupts = <0x0a>;
			interrupt-parent = <0x05>;
		};

		rtc@101000 {
			compatible = "google,goldfish-rtc";
			reg = <0x00 0x101000 0x00 0x1000>;
			interrupts = <0x0b>;
			interrupt-parent = <0x05>;
		};
	};

	poweroff {
		compatible = "syscon-poweroff";
		regmap = <0x06>;
		offset = <0x00>;
		value = <0x5555>;
	};

	reboot {
		compatible = "syscon-reboot";
		regmap = <0x06>;
		offset = <0x00>;
		value = <0x7777>;
	};
};
`;

Deno.test("board dtb: compact-2 decodes with dtc to exactly the expected source", async () => {
  const { dts, warnings } = await decodeDtb(boardDtb(builtinBoards.get("compact-2")!));
  assert.equal(warnings, "");
  assert.equal(dts, COMPACT_2_DTS);
});

Deno.test("board dtb: every built-in board decodes with dtc without warnings", async () => {
  for (const [name, spec] of builtinBoards) {
    const { warnings } = await decodeDtb(boardDtb(spec));
    assert.equal(warnings, "", `${name}: ${warnings}`);
  }
});

const cells = (node: FdtNode | undefined, prop: string) => node?.getCells(prop) ?? [];

Deno.test("board dtb: interrupt wiring follows the board's hart order (M then S contexts)", () => {
  const spec = builtinBoards.get("server-64")!;
  const doc = readFdt(boardDtb(spec));
  const root = doc.root;
  assert.equal(doc.bootCpuId, 0);
  const intc = spec.cpus.hartIds.map((id) =>
    root.find(`/cpus/cpu@${id.toString(16)}/interrupt-controller`)!.getU32("phandle")!
  );
  assert.equal(new Set(intc).size, 64, "one phandle per hart");
  const plic = root.find("/soc/plic@c000000")!;
  assert.deepEqual(cells(plic, "interrupts-extended"), intc.flatMap((p) => [p, 11, p, 9]));
  assert.equal(plic.getU32("riscv,ndev"), 127);
  const clint = root.find("/soc/clint@2000000")!;
  assert.deepEqual(cells(clint, "interrupts-extended"), intc.flatMap((p) => [p, 3, p, 7]));
  for (const [path, irq] of [["/soc/serial@10000000", 10], ["/soc/serial@10001000", 11]] as const) {
    const uart = root.find(path)!;
    assert.equal(uart.getU32("interrupts"), irq);
    assert.equal(root.findByPhandle(uart.getU32("interrupt-parent")!), plic);
    assert.equal(uart.getU32("clock-frequency"), 3_686_400);
  }
  assert.deepEqual(
    root.children.filter((c) => c.name.startsWith("memory@")).map((m) => cells(m, "reg")),
    [[0, 0x8000_0000, 0x10, 0], [0x20, 0, 0x10, 0]],
  );
  assert.equal(root.find("/chosen")?.getString("stdout-path"), "/soc/serial@10000000");
  assert.equal(root.find("/cpus")?.getU32("timebase-frequency"), 25_000_000);
  const test = root.find("/soc/test@100000")!;
  assert.equal(root.find("/poweroff")?.getU32("regmap"), test.getU32("phandle"));
  assert.equal(root.find("/reboot")?.getU32("value"), 0x7777);
  assert.equal(
    root.find("/cpus/cpu-map/cluster0/core63")?.getU32("cpu"),
    root.find("/cpus/cpu@3f")?.getU32("phandle"),
  );
});

Deno.test("board dtb: physical hart ids, bootargs and the ISA string", () => {
  const text = BUILTIN_BOARD_TEXTS["compact-2"]
    .replace("hart_ids = [0, 1]", "hart_ids = [16, 3]")
    .replace(/isa = "[^"]*"/, 'isa = "rv64gc_zicsr_zifencei_zicntr"')
    .replace('stdout = "uart0"', 'stdout = "uart0"\nbootargs = "console=ttyS0 earlycon"');
  const spec = parseBoard(text, "custom.toml");
  const tree = boardDeviceTree(spec);
  assert.deepEqual(tree.find("/cpus")!.children.map((c) => c.name), ["cpu@10", "cpu@3", "cpu-map"]);
  assert.equal(tree.find("/cpus/cpu@10")?.getU32("reg"), 16);
  assert.equal(tree.find("/chosen")?.getString("bootargs"), "console=ttyS0 earlycon");
  assert.deepEqual(tree.find("/cpus/cpu@3")?.getStrings("riscv,isa-extensions"), [
    "i",
    "m",
    "a",
    "f",
    "d",
    "c",
    "zicsr",
    "zifencei",
    "zicntr",
  ]);
  assert.equal(readFdt(boardDtb(spec)).bootCpuId, 16);
  assert.deepEqual(isaExtensions("rv64imac"), { base: "rv64i", extensions: ["i", "m", "a", "c"] });
  assert.throws(() => isaExtensions("x86"), /not a RISC-V ISA string/);
  assert.equal(boardDevicePath(spec, "plic"), "/soc/plic@c000000");
  assert.equal(boardDevicePath(spec, "nope"), undefined);
});
