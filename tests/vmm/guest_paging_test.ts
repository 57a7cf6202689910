import assert from "node:assert/strict";
import { Bus } from "../../lib/hw/bus.ts";
import { SparseMemory } from "../../lib/hw/memory.ts";
import { readGuestVirtual, translateGuestVa } from "../../lib/vmm/guest_paging.ts";
import { makeHypervisor } from "./helpers.ts";

const RAM = 0x8000_0000;
const SV39 = 8n << 60n;
/** V R W X A D. */
const LEAF = 0xcfn;

function pte(pa: number, flags: bigint): bigint {
  return (BigInt(pa) >> 12n << 10n) | flags;
}

/** RAM at 0x8000_0000 with a root table at +0x1000, a level-1 table at +0x2000, a level-0 at +0x3000. */
function pagedBus(): { bus: Bus; satp: bigint } {
  const bus = new Bus();
  bus.mapRam(RAM, 0x10_0000, new SparseMemory(0x10_0000));
  const root = RAM + 0x1000, l1 = RAM + 0x2000, l0 = RAM + 0x3000;
  // VA 0x4000_0000.. (VPN2 = 1) -> level-1 table; VA 0x4000_0000 (VPN1 = 0) -> level-0 table.
  bus.write64(root + 8, pte(l1, 1n));
  bus.write64(l1, pte(l0, 1n));
  // VA 0x4000_0000 -> PA RAM+0x5000 and VA 0x4000_1000 -> PA RAM+0x9000 (not contiguous).
  bus.write64(l0, pte(RAM + 0x5000, LEAF));
  bus.write64(l0 + 8, pte(RAM + 0x9000, LEAF));
  // VA 0x4000_2000: a user page, read-only.
  bus.write64(l0 + 16, pte(RAM + 0xa000, 0x53n)); // V R U A
  // VA 0xC000_0000 (VPN2 = 3): a 1 GiB superpage onto RAM.
  bus.write64(root + 24, pte(RAM, LEAF));
  return { bus, satp: SV39 | BigInt(root / 4096) };
}

Deno.test("translateGuestVa: Sv39 pages, superpages, bare mode and refusals", () => {
  const { bus, satp } = pagedBus();
  const s = { satp, priv: 1, sstatus: 0n };
  assert.deepEqual(translateGuestVa(bus, s, 0x4000_0123n, "read"), {
    ok: true,
    gpa: RAM + 0x5123,
  });
  assert.deepEqual(translateGuestVa(bus, s, 0x4000_1008n, "write"), {
    ok: true,
    gpa: RAM + 0x9008,
  });
  assert.deepEqual(translateGuestVa(bus, s, 0xc012_3456n, "execute"), {
    ok: true,
    gpa: RAM + 0x12_3456,
  });
  // Paging off: the address is guest-physical already.
  assert.deepEqual(translateGuestVa(bus, { ...s, satp: 0n }, 0x4000_0123n, "read"), {
    ok: true,
    gpa: 0x4000_0123,
  });
  const refused = (va: bigint, access: "read" | "write" | "execute", mmu = s) => {
    const r = translateGuestVa(bus, mmu, va, access);
    assert.equal(r.ok, false);
    return r.ok ? "" : r.reason;
  };
  assert.match(refused(0x4000_3000n, "read"), /page fault: no read mapping for 0x40003000/);
  assert.match(refused(0x8000_0000n, "read"), /page fault/);
  // A user page from S-mode needs SUM; with SUM it reads but never writes (read-only).
  assert.match(refused(0x4000_2000n, "read"), /page fault/);
  assert.deepEqual(translateGuestVa(bus, { ...s, sstatus: 1n << 18n }, 0x4000_2000n, "read"), {
    ok: true,
    gpa: RAM + 0xa000,
  });
  assert.match(refused(0x4000_2000n, "write", { ...s, sstatus: 1n << 18n }), /page fault/);
  assert.match(refused(0x80_0000_0000n, "read"), /not canonical for Sv39/);
  assert.match(refused(0n, "read", { ...s, satp: 9n << 60n }), /satp mode 9 is not supported/);
  // A root table outside guest memory.
  assert.match(
    refused(0x1000n, "read", { ...s, satp: SV39 | 0x10n }),
    /page-table entry at 0x10000 for 0x1000 is not in guest memory/,
  );
});

Deno.test("readGuestVirtual: a buffer crossing a page boundary is read page by page", () => {
  const { bus, satp } = pagedBus();
  bus.writeBytes(RAM + 0x5ffc, Uint8Array.of(1, 2, 3, 4));
  bus.writeBytes(RAM + 0x9000, Uint8Array.of(5, 6, 7, 8));
  const r = readGuestVirtual(bus, { satp, priv: 1, sstatus: 0n }, 0x4000_0ffcn, 8);
  assert.ok(r.ok);
  assert.deepEqual([...r.data], [1, 2, 3, 4, 5, 6, 7, 8]);
  const bad = readGuestVirtual(bus, { satp, priv: 1, sstatus: 0n }, 0x4000_2ffcn, 8);
  assert.equal(bad.ok, false);
});

/**
 * Turns Sv39 on with two 1 GiB superpages onto RAM (VA 0x8000_0000 identity, VA 0xC000_0000
 * an alias), calls legacy send_ipi with the alias of its hart mask, then with paging off.
 * Prints P (send_ipi returned 0), I (the IPI is pending), E (paging off: -5, invalid address).
 */
const LEGACY_IPI_GUEST = `
    .text
    .globl _start
_start:
    la   t0, root
    li   t1, 0x200000cf
    sd   t1, 16(t0)
    sd   t1, 24(t0)
    srli t2, t0, 12
    li   t3, 8
    slli t3, t3, 60
    or   t2, t2, t3
    csrw satp, t2
    sfence.vma
    la   a0, mask
    li   t1, 0x40000000
    add  a0, a0, t1
    li   a7, 4
    ecall
    bnez a0, 1f
    li   a0, 'P'
    li   a7, 1
    ecall
1:  csrr t0, sip
    andi t0, t0, 2
    beqz t0, 2f
    li   a0, 'I'
    li   a7, 1
    ecall
2:  li   a7, 3
    ecall
    csrw satp, zero
    sfence.vma
    la   a0, mask
    li   t1, 0x40000000
    add  a0, a0, t1
    li   a7, 4
    ecall
    li   t0, -5
    bne  a0, t0, 3f
    li   a0, 'E'
    li   a7, 1
    ecall
3:  li   a7, 8
    ecall

    .data
    .align 3
mask: .dword 1
    .align 12
root: .zero 4096
`;

Deno.test("legacy send_ipi: the hart-mask pointer is translated through the caller's satp", () => {
  const cfg = Deno.readTextFileSync(new URL("../../examples/configs/hello.toml", import.meta.url))
    .replace("/guests/hello.S", "/guests/legacy_ipi.S");
  const { hv } = makeHypervisor({ "/guests/legacy_ipi.S": LEGACY_IPI_GUEST });
  const logs: string[] = [];
  hv.on((e) => {
    if (e.type === "log") logs.push(e.message);
  });
  const vm = hv.createVm({ text: cfg, origin: "legacy_ipi.toml" });
  hv.startVm(vm.id);
  assert.ok(hv.runUntil(() => vm.status === "stopped", 1e9));
  assert.equal(vm.lastError, undefined);
  assert.equal(vm.console.text(), "PIE");
  assert.equal(vm.stats().exits.SendIPI, 1, "the refused call is no SendIPI exit");
  assert.equal(logs.length, 1);
  assert.match(
    logs[0],
    /^VM\[1\] VCpu\[0\] legacy send_ipi: hart mask pointer: guest-physical address 0xc0[0-9a-f]+ \(virtual 0xc0[0-9a-f]+\) is not memory$/,
  );
});
