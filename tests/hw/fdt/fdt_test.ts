import assert from "node:assert/strict";
import { FdtError, FdtNode, readFdt, writeFdt } from "../../../lib/hw/fdt/mod.ts";
import { decodeDtb, dtc } from "./dtc.ts";

function sampleTree(): FdtNode {
  const root = new FdtNode()
    .set("#address-cells", 2)
    .set("#size-cells", 2)
    .set("compatible", ["acme,board", "acme,soc"])
    .set("model", "Acme Board");
  root.add("chosen").set("stdout-path", "/soc/serial@10000000").set("bootargs", "console=ttyS0");
  root.add("memory@80000000").set("device_type", "memory").set("reg", [
    0,
    0x8000_0000,
    0,
    0x4000_0000,
  ]);
  const intc = new FdtNode("interrupt-controller")
    .set("#address-cells", 0)
    .set("#interrupt-cells", 1)
    .set("interrupt-controller", true)
    .set("compatible", "riscv,cpu-intc")
    .set("phandle", 1);
  const cpus = root.add("cpus").set("#address-cells", 1).set("#size-cells", 0).set(
    "timebase-frequency",
    10_000_000,
  );
  cpus.add("cpu@0").set("device_type", "cpu").set("reg", 0).add(intc);
  const soc = root.add("soc").set("#address-cells", 2).set("#size-cells", 2).set("ranges", null);
  soc.add("serial@10000000")
    .set("compatible", "ns16550a")
    .set("reg", [0, 0x1000_0000, 0, 0x100])
    .set("interrupts-extended", [1, 9])
    .set("big", 0x1_2345_6789n)
    .set("raw", new Uint8Array([0xde, 0xad, 0xbe]));
  return root;
}

const EXPECTED_DTS = `/dts-v1/;

/memreserve/	0x0000000080000000 0x0000000000020000;
/ {
	#address-cells = <0x02>;
	#size-cells = <0x02>;
	compatible = "acme,board\\0acme,soc";
	model = "Acme Board";

	chosen {
		stdout-path = "/soc/serial@10000000";
		bootargs = "console=ttyS0";
	};

	memory@80000000 {
		device_type = "memory";
		reg = <0x00 0x80000000 0x00 0x40000000>;
	};

	cpus {
		#address-cells = <0x01>;
		#size-cells = <0x00>;
		timebase-frequency = <0x989680>;

		cpu@0 {
			device_type = "cpu";
			reg = <0x00>;

			interrupt-controller {
				#address-cells = <0x00>;
				#interrupt-cells = <0x01>;
				interrupt-controller;
				compatible = "riscv,cpu-intc";
				phandle = <0x01>;
			};
		};
	};

	soc {
		#address-cells = <0x02>;
		#size-cells = <0x02>;
		ranges;

		serial@10000000 {
			compatible = "ns16550a";
			reg = <0x00 0x10000000 0x00 0x100>;
			interrupts-extended = <0x01 0x09>;
			big = <0x01 0x23456789>;
			raw = [de ad be];
		};
	};
};
`;

Deno.test("fdt: dtc -I dtb -O dts decodes the writer's blob to the expected source", async () => {
  const dtb = writeFdt(sampleTree(), {
    reservations: [{ address: 0x8000_0000n, size: 0x2_0000n }],
  });
  const { dts, warnings } = await decodeDtb(dtb);
  assert.equal(dts, EXPECTED_DTS);
  assert.equal(warnings, "", "dtc reports no warnings");
});

Deno.test("fdt: header fields, block layout and deduplicated strings", () => {
  const dtb = writeFdt(sampleTree(), { bootCpuId: 3, padding: 64 });
  const view = new DataView(dtb.buffer);
  assert.equal(view.getUint32(0), 0xd00dfeed);
  assert.equal(view.getUint32(4), dtb.length);
  assert.equal(view.getUint32(20), 17);
  assert.equal(view.getUint32(24), 16);
  assert.equal(view.getUint32(28), 3);
  assert.equal(view.getUint32(16), 40, "reservation block right after the header");
  assert.equal(view.getUint32(8), 56, "structure block after the (empty) reservation block");
  const stringsOff = view.getUint32(12), stringsSize = view.getUint32(32);
  assert.equal(view.getUint32(8) + view.getUint32(36), stringsOff);
  assert.equal(stringsOff + stringsSize + 64, dtb.length);
  const names = new TextDecoder().decode(dtb.subarray(stringsOff, stringsOff + stringsSize)).split(
    "\0",
  );
  assert.equal(names.filter((n) => n === "#address-cells").length, 1, "each name stored once");
  assert.equal(names.filter((n) => n === "reg").length, 1);
  // "#interrupt-cells" also serves "interrupt-cells"-like suffixes; no empty duplicates either.
  assert.equal(new Set(names.slice(0, -1)).size, names.length - 1);
});

Deno.test("fdt: read(write(tree)) gives the tree back, with typed getters and lookups", () => {
  const doc = readFdt(
    writeFdt(sampleTree(), { reservations: [{ address: 1n, size: 2n }], bootCpuId: 1 }),
  );
  assert.deepEqual(doc.reservations, [{ address: 1n, size: 2n }]);
  assert.equal(doc.bootCpuId, 1);
  assert.equal(doc.version, 17);
  const root = doc.root;
  assert.deepEqual(root.getStrings("compatible"), ["acme,board", "acme,soc"]);
  assert.equal(root.getString("model"), "Acme Board");
  assert.equal(root.find("/cpus")?.getU32("timebase-frequency"), 10_000_000);
  const serial = root.find("/soc/serial@10000000")!;
  assert.deepEqual(serial.getCells("reg"), [0, 0x1000_0000, 0, 0x100]);
  assert.equal(serial.getU64("big"), 0x1_2345_6789n);
  assert.deepEqual(serial.get("raw"), new Uint8Array([0xde, 0xad, 0xbe]));
  assert.equal(root.find("soc/serial")?.name, "serial@10000000", "lookup without the unit address");
  assert.equal(root.find("/soc")?.get("ranges")?.length, 0);
  assert.equal(root.findByPhandle(1)?.name, "interrupt-controller");
  assert.equal(root.maxPhandle(), 1);
  assert.deepEqual([...root.walk()].map(([p]) => p), [
    "/",
    "/chosen",
    "/memory@80000000",
    "/cpus",
    "/cpus/cpu@0",
    "/cpus/cpu@0/interrupt-controller",
    "/soc",
    "/soc/serial@10000000",
  ]);
  assert.deepEqual(
    writeFdt(root),
    writeFdt(sampleTree()),
    "writing the read tree is byte-identical",
  );
});

Deno.test("fdt: reads blobs compiled by dtc (labels, phandle references, NOPs-free v17)", async () => {
  const source = `/dts-v1/;
/memreserve/ 0x90000000 0x1000;
/ {
  #address-cells = <2>; #size-cells = <2>;
  intc: interrupt-controller { interrupt-controller; #interrupt-cells = <1>; };
  dev@1000 { reg = <0 0x1000 0 0x10>; interrupt-parent = <&intc>; interrupts = <5>; names = "a", "bc"; };
};
`;
  const { out } = await dtc(["-I", "dts", "-O", "dtb", "-"], new TextEncoder().encode(source));
  const doc = readFdt(out);
  assert.deepEqual(doc.reservations, [{ address: 0x9000_0000n, size: 0x1000n }]);
  const dev = doc.root.find("/dev@1000")!;
  assert.deepEqual(dev.getStrings("names"), ["a", "bc"]);
  const parent = doc.root.findByPhandle(dev.getU32("interrupt-parent")!);
  assert.equal(parent?.name, "interrupt-controller");
});

Deno.test("fdt: malformed blobs and bad values are rejected with named errors", () => {
  const good = writeFdt(sampleTree());
  const code = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      assert.ok(e instanceof FdtError, String(e));
      return (e as FdtError).code;
    }
    assert.fail("no error");
  };
  assert.equal(code(() => readFdt(new Uint8Array(8))), "FDT_TRUNCATED");
  const badMagic = good.slice();
  badMagic[0] = 0;
  assert.equal(code(() => readFdt(badMagic)), "FDT_BAD_MAGIC");
  assert.equal(code(() => readFdt(good.subarray(0, good.length - 10))), "FDT_TRUNCATED");
  const badToken = good.slice();
  new DataView(badToken.buffer).setUint32(new DataView(good.buffer).getUint32(8), 7);
  assert.equal(code(() => readFdt(badToken)), "FDT_BAD_STRUCTURE");
  const badVersion = good.slice();
  new DataView(badVersion.buffer).setUint32(20, 15);
  assert.equal(code(() => readFdt(badVersion)), "FDT_BAD_VERSION");
  assert.equal(code(() => new FdtNode().set("x", [1, -1])), "FDT_BAD_PROPERTY");
  assert.equal(code(() => new FdtNode().set("x", "a\0b")), "FDT_BAD_PROPERTY");
  assert.equal(code(() => writeFdt(new FdtNode("oops"))), "FDT_BAD_NAME");
  const bad = new FdtNode();
  bad.add("has space");
  assert.equal(code(() => writeFdt(bad)), "FDT_BAD_NAME");
  assert.equal(code(() => new FdtNode().add("a") && bad.add("has space")), "FDT_DUPLICATE_NODE");
  assert.equal(code(() => new FdtNode().set("x", "ab").getU32("x")), "FDT_BAD_PROPERTY");
});
