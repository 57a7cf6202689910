/**
 * `vcpu dump` shows the FP registers and fcsr once the guest has turned F/D on (sstatus.FS not
 * Off), compactly (within 90 columns), and the JSON output carries them.
 */
import assert from "node:assert/strict";
import { Hart } from "../../lib/hw/riscv/hart.ts";
import { fixture, spinVmIn } from "./helpers.ts";

Deno.test("vcpu dump: FP registers and fcsr when sstatus.FS is on", async () => {
  const f = fixture();
  const vm = await spinVmIn(f, "loaded");
  const hart = vm.vcpus[0].hart as Hart;
  hart.writeCsr(0x100, hart.readCsr(0x100) | (1n << 13n)); // sstatus.FS = Initial
  hart.writeCsr(0x003, (1n << 5n) | 0x11n); // frm rtz, fflags NV NX
  hart.fp.words[10 * 2] = 0;
  hart.fp.words[10 * 2 + 1] = 0x3ff80000; // fa0 = 1.5
  const dump = await f.text("vcpu dump 1 0");
  assert.match(
    dump,
    /\nFP registers: fcsr 0x31 \(frm rtz, fflags NV - - - NX\), sstatus\.FS Dirty\n/,
  );
  assert.match(dump, /\n {2}f9 {2}fs1 {2}0x0000000000000000 {2}f10 fa0 {2}0x3ff8000000000000 /);
  assert.match(dump, /\n {2}f30 ft10 0x0000000000000000 {2}f31 ft11 0x0000000000000000\n/);
  for (const line of dump.split("\n")) assert.ok(line.length <= 90, `${line.length}: ${line}`);
  const json = (await f.run("vcpu dump 1 0")).data as {
    fp?: { fcsr: number; registers: string[] };
  };
  assert.equal(json.fp?.fcsr, 0x31);
  assert.equal(json.fp?.registers[10], "0x3ff8000000000000");
});
