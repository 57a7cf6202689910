/**
 * The bare runner's Linux options (`--initrd`, `--append`, `--dtb`): the initrd lands where QEMU
 * puts one and `/chosen` names it with the command line, a given DTB replaces the board's (its
 * `/chosen` updated the same way), and the options are refused without a board.
 */
import assert from "node:assert/strict";
import { initrdAddressFor, LoadError, prepareRun } from "../../lib/hw/bare_runner.ts";
import { loadBoard } from "../../lib/hw/boards/load.ts";
import type { Machine } from "../../lib/hw/boards/machine.ts";
import { FdtNode } from "../../lib/hw/fdt/node.ts";
import { readFdt } from "../../lib/hw/fdt/reader.ts";
import { writeFdt } from "../../lib/hw/fdt/writer.ts";

const image = { name: "loop.bin", bytes: new Uint8Array([0x6f, 0, 0, 0]) }; // j .
const initrd = { name: "initrd.gz", bytes: new Uint8Array(5000).map((_, i) => i & 0xff) };

function chosenOf(machine: Machine) {
  const dtb = machine.bus.readBytes(machine.dtbAddress, machine.dtb.length)!;
  return readFdt(dtb).root.child("chosen")!;
}
const u64 = (b: Uint8Array) => Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0));
const str = (b: Uint8Array) => new TextDecoder().decode(b).replace(/\0$/, "");

Deno.test("bare runner: --initrd and --append fill /chosen; the initrd is where QEMU puts it", () => {
  const board = loadBoard("qemu-virt");
  const at = initrdAddressFor(board);
  assert.equal(at, 0x8820_0000, "2 MiB + 128 MiB into RAM, as QEMU's virt machine");
  const run = prepareRun({ image, board, initrd, append: "console=ttyS0 mem=256M" });
  const machine = run.target as Machine;
  const chosen = chosenOf(machine);
  assert.equal(str(chosen.get("bootargs")!), "console=ttyS0 mem=256M");
  assert.equal(u64(chosen.get("linux,initrd-start")!), at);
  assert.equal(u64(chosen.get("linux,initrd-end")!), at + initrd.bytes.length);
  assert.equal(str(chosen.get("stdout-path")!), "/soc/serial@10000000", "the board's chosen kept");
  for (const i of [0, 1, 4999]) assert.equal(machine.bus.read(at + i, 1), initrd.bytes[i]);
  assert.equal(machine.harts[0].getX(11), BigInt(machine.dtbAddress), "a1 = the DTB");
});

Deno.test("bare runner: --dtb replaces the board's tree, with /chosen updated", () => {
  const root = new FdtNode().set("#address-cells", 2).set("#size-cells", 2).set("model", "mine");
  root.add("chosen").set("bootargs", "old");
  const dtb = { name: "my.dtb", bytes: writeFdt(root) };
  const machine = prepareRun({ image, board: loadBoard("qemu-virt"), dtb, append: "new" })
    .target as Machine;
  const tree = readFdt(machine.dtb).root;
  assert.equal(str(tree.get("model")!), "mine");
  assert.equal(str(tree.child("chosen")!.get("bootargs")!), "new");
  assert.throws(
    () =>
      prepareRun({
        image,
        board: loadBoard("qemu-virt"),
        dtb: { name: "bad.dtb", bytes: new Uint8Array(64) },
      }),
    /bad\.dtb: .*magic/,
  );
});

Deno.test("bare runner: Linux options need a board", () => {
  assert.throws(() => prepareRun({ image, initrd }), LoadError);
  assert.throws(() => prepareRun({ image, append: "x" }), /needs a board/);
});
