/**
 * The CSR table: one entry per implemented CSR, named as the ISA table names it, read-only
 * numbers without a write function, and every CSR the hart's constants name present.
 */
import assert from "node:assert/strict";
import { Csr } from "../../../lib/hw/riscv/csr.ts";
import { CSR_SPECS, csrMinPriv, csrReadOnly } from "../../../lib/hw/riscv/csr_table.ts";
import { standardCsrName } from "../../../lib/hw/riscv/isa_table.ts";
import { Hart } from "../../../lib/hw/riscv/hart.ts";
import { Bus } from "../../../lib/hw/bus.ts";

Deno.test("CSR table: entries sit at their number, with the ISA table's names", () => {
  let count = 0;
  CSR_SPECS.forEach((spec, num) => {
    if (spec === undefined) return;
    count++;
    assert.equal(spec.num, num);
    const standard = standardCsrName(num);
    if (standard !== undefined) assert.equal(spec.name, standard, `0x${num.toString(16)}`);
    if (csrReadOnly(num)) assert.equal(spec.write, undefined, `${spec.name} is read-only`);
  });
  // 45 named CSRs, 3 x 29 performance counters/events, 8 pmpcfg and 64 pmpaddr registers.
  assert.equal(count, 45 + 3 * 29 + 8 + 64);
  for (const [name, num] of Object.entries(Csr)) {
    if (name === "pmpcfg15") continue; // the end of the range; odd pmpcfg do not exist on RV64
    assert.notEqual(CSR_SPECS[num], undefined, `${name} has an entry`);
  }
  assert.equal(CSR_SPECS[Csr.pmpcfg0 + 1], undefined, "RV64 has no odd pmpcfg");
  assert.equal(csrMinPriv(Csr.sstatus), 1);
  assert.equal(csrMinPriv(Csr.mstatus), 3);
});

Deno.test("CSR table: debug accesses obey existence and writability", () => {
  const hart = new Hart({ bus: new Bus(), hartId: 7, sstc: false });
  assert.equal(hart.readCsr(Csr.mhartid), 7n);
  assert.throws(() => hart.readCsr(Csr.stimecmp), /does not exist/, "no Sstc: no stimecmp");
  assert.throws(() => hart.writeCsr(Csr.mhartid, 1n), /read-only/);
  assert.throws(() => hart.readCsr(0x7ff), /does not exist/);
  hart.writeCsr(Csr.misa, 0n); // WARL: accepted, ignored
  assert.notEqual(hart.readCsr(Csr.misa), 0n);
  hart.writeCsr(Csr.pmpcfg0, 0x0202n); // W without R is reserved: W cleared
  assert.equal(hart.readCsr(Csr.pmpcfg0), 0n);
});
