import assert from "node:assert/strict";
import { guestVm } from "./helpers.ts";

const SECOND = 1e9;

/** Guest code that prints P when a0 == -3 (SBI_ERR_INVALID_PARAM) after an ecall, else F. */
const CHECK_INVALID = `
    li      t0, -3
    li      a7, 1
    li      t1, 'F'
    bne     a0, t0, 9f
    li      t1, 'P'
9:  mv      a0, t1
    ecall
`;

function runGuest(name: string, body: string) {
  const { hv, vm } = guestVm(name, body);
  assert.ok(hv.runUntil(() => vm.status === "stopped", SECOND), "the guest shuts down");
  return vm;
}

Deno.test("SBI DBCN console_write at an address >= 2^63 returns INVALID_PARAM, the VM runs on", () => {
  const vm = runGuest(
    "dbcnhigh",
    `
    li      a7, 0x4442434E
    li      a6, 0
    li      a0, 16
    li      a1, 0
    li      a2, 0x80000000
    ecall
    ${CHECK_INVALID}
    li      a7, 0x4442434E
    li      a6, 1
    li      a0, 16
    li      a1, 0
    li      a2, -1
    ecall
    ${CHECK_INVALID}
    li      a7, 0x4442434E
    li      a6, 0
    li      a0, 16
    li      a1, -8
    li      a2, 0
    ecall
    ${CHECK_INVALID}
  `,
  );
  assert.equal(vm.lastError, undefined);
  assert.equal(vm.console.text(), "PPP");
  assert.equal(vm.stats().exits.SystemDown, 1, "the guest reached its own shutdown");
});

Deno.test("SBI DBCN console_write honours a bounded length per call and returns the count", () => {
  // The attack of issue 14: a0 = 0x7fffffff bytes from the start of RAM, 64 calls in a loop.
  const vm = runGuest(
    "dbcnflood",
    `
    li      s0, 64
    li      s1, 0
1:  li      a7, 0x4442434E
    li      a6, 0
    li      a0, 0x7fffffff
    li      a1, 0x80000000
    li      a2, 0
    ecall
    bnez    a0, 8f
    add     s1, s1, a1
    addi    s0, s0, -1
    bnez    s0, 1b
8:  mv      s2, a0
  `,
  );
  const h = vm.vcpus[0].hart;
  assert.equal(h.getX(18), 0n, "every call succeeded");
  const total = Number(h.getX(9));
  assert.ok(total > 0 && total <= 64 * 4096, `written ${total}`);
  assert.equal(vm.console.totalWritten, total, "the count returned is the count written");
});

Deno.test("SBI HSM hart_start and hart_suspend refuse start addresses outside guest RAM", () => {
  const vm = runGuest(
    "hsmbad",
    `
    li      a7, 0x48534D
    li      a6, 0
    li      a0, -1
    li      a1, 0x80200000
    ecall
    ${CHECK_INVALID}
    li      a7, 0x48534D
    li      a6, 2
    li      a0, -1
    ecall
    ${CHECK_INVALID}
    li      a7, 0x48534D
    li      a6, 3
    li      a0, 0x80000000
    li      a1, -8
    ecall
    mv      s3, a0
  `,
  );
  assert.equal(vm.lastError, undefined);
  assert.equal(vm.console.text(), "PP");
  assert.equal(vm.vcpus[0].hart.getX(19), BigInt.asUintN(64, -5n), "INVALID_ADDRESS");
});

Deno.test("hypercalls with out-of-range addresses and ids fail with -1, the VM runs on", () => {
  const vm = runGuest(
    "hvcbad",
    `
    li      a7, 0x485643
    li      a6, 3
    li      a0, 1
    li      a1, -8
    li      a2, -16
    ecall
    mv      s4, a0
    li      a7, 0x485643
    li      a6, 4
    li      a0, -1
    li      a1, 1
    li      a2, 0x80001000
    li      a3, 0x80001008
    ecall
    mv      s5, a0
  `,
  );
  const h = vm.vcpus[0].hart;
  assert.equal(h.getX(20), BigInt.asUintN(64, -1n));
  assert.equal(h.getX(21), BigInt.asUintN(64, -1n));
  assert.match(vm.lastError ?? "", /VM id 0xffffffffffffffff is out of range/);
  assert.equal(vm.stats().exits.SystemDown, 1);
});
