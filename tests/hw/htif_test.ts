/**
 * Tests of the HTIF `tohost`/`fromhost` watcher: exit codes, console output, proxy-kernel system
 * calls, console input, and requests it cannot serve.
 */

import assert from "node:assert/strict";
import { Bus } from "../../lib/hw/bus.ts";
import { SparseMemory } from "../../lib/hw/memory.ts";
import { Htif, HTIF_SYS_EXIT, HTIF_SYS_WRITE } from "../../lib/hw/htif.ts";

const TOHOST = 0x8000_1000;
const FROMHOST = 0x8000_1040;
const MAGIC = 0x8000_2000;

function setup(withFromhost = true) {
  const memory = new SparseMemory(0x10000);
  const bus = new Bus();
  bus.mapRam(0x8000_0000, memory.size, memory);
  const htif = new Htif(bus, { tohost: TOHOST, fromhost: withFromhost ? FROMHOST : undefined });
  return { bus, htif };
}

const cmd = (device: number, command: number, payload: bigint) =>
  (BigInt(device) << 56n) | (BigInt(command) << 48n) | payload;

Deno.test("htif: nothing pending while tohost is zero", () => {
  const { htif } = setup();
  assert.equal(htif.poll(), undefined);
  assert.equal(htif.tohost, TOHOST);
  assert.equal(htif.fromhost, FROMHOST);
});

Deno.test("htif: 1 means pass, another odd value the failing test number", () => {
  const { bus, htif } = setup();
  bus.write64(TOHOST, 1n);
  assert.deepEqual(htif.poll(), { kind: "exit", code: 0, value: 1n });
  assert.equal(bus.read64(TOHOST), 0n, "the host consumes the request");
  bus.write(TOHOST, 4, (21 << 1) | 1); // riscv-tests: sw TESTNUM<<1|1; sw zero, 4
  bus.write(TOHOST + 4, 4, 0);
  assert.deepEqual(htif.poll(), { kind: "exit", code: 21, value: 43n });
  bus.write64(TOHOST, (0x7fff_ffffn << 1n) | 1n);
  assert.equal((htif.poll() as { code: number }).code, 0x7fff_ffff);
});

Deno.test("htif: console putchar (device 1, command 1) outputs a byte and answers", () => {
  const { bus, htif } = setup();
  bus.write64(TOHOST, cmd(1, 1, 0x41n));
  const event = htif.poll();
  assert.equal(event?.kind, "output");
  assert.deepEqual([...(event as { bytes: Uint8Array }).bytes], [0x41]);
  assert.equal(bus.read64(FROMHOST), cmd(1, 1, 0x141n));
  assert.equal(bus.read64(TOHOST), 0n);
});

Deno.test("htif: console getchar (device 1, command 0) is answered when input arrives", () => {
  const { bus, htif } = setup();
  bus.write64(TOHOST, cmd(1, 0, 0n));
  assert.equal(htif.poll(), undefined);
  assert.equal(bus.read64(FROMHOST), 0n, "no input yet");
  htif.pushInput([0x7a, 0x0a]);
  assert.equal(htif.poll(), undefined);
  assert.equal(bus.read64(FROMHOST), cmd(1, 0, 0x7an));
  // The guest consumes the answer and asks again.
  bus.write64(FROMHOST, 0n);
  bus.write64(TOHOST, cmd(1, 0, 0n));
  htif.poll();
  assert.equal(bus.read64(FROMHOST), cmd(1, 0, 0x0an));
});

Deno.test("htif: proxy-kernel write(1, buf, len) and exit(status) through magic_mem", () => {
  const { bus, htif } = setup();
  const text = new TextEncoder().encode("hello\n");
  bus.writeBytes(0x8000_3000, text);
  bus.write64(MAGIC, BigInt(HTIF_SYS_WRITE));
  bus.write64(MAGIC + 8, 1n);
  bus.write64(MAGIC + 16, 0x8000_3000n);
  bus.write64(MAGIC + 24, BigInt(text.length));
  bus.write64(TOHOST, BigInt(MAGIC));
  const event = htif.poll();
  assert.equal(event?.kind, "output");
  assert.equal(new TextDecoder().decode((event as { bytes: Uint8Array }).bytes), "hello\n");
  assert.equal(bus.read64(MAGIC), BigInt(text.length), "the result goes to magic_mem[0]");
  assert.equal(bus.read64(FROMHOST), 1n);

  bus.write64(MAGIC, BigInt(HTIF_SYS_EXIT));
  bus.write64(MAGIC + 8, 3n);
  bus.write64(TOHOST, BigInt(MAGIC));
  assert.deepEqual(htif.poll(), { kind: "exit", code: 3, value: BigInt(MAGIC) });
});

Deno.test("htif: unsupported requests and unbacked addresses are errors naming them", () => {
  const { bus, htif } = setup();
  bus.write64(TOHOST, cmd(2, 3, 4n));
  const unknown = htif.poll();
  assert.equal(unknown?.kind, "error");
  assert.match(
    (unknown as { message: string }).message,
    /unsupported request 0x203000000000004 \(device 2, command 3\)/,
  );

  bus.write64(MAGIC, 999n);
  bus.write64(TOHOST, BigInt(MAGIC));
  assert.match((htif.poll() as { message: string }).message, /unsupported system call 999/);

  bus.write64(TOHOST, 0x10n); // a syscall block where there is no memory
  assert.match(
    (htif.poll() as { message: string }).message,
    /block at 0x10 is not backed by memory/,
  );

  bus.write64(MAGIC, BigInt(HTIF_SYS_WRITE));
  bus.write64(MAGIC + 8, 1n);
  bus.write64(MAGIC + 16, 0x10n);
  bus.write64(MAGIC + 24, 4n);
  bus.write64(TOHOST, BigInt(MAGIC));
  assert.match((htif.poll() as { message: string }).message, /write\(1, 0x10, 4\): the buffer/);

  const lost = new Htif(bus, { tohost: 0x20 });
  assert.match((lost.poll() as { message: string }).message, /tohost at 0x20 is not backed/);
});

Deno.test("htif: without fromhost, requests are still served (no answers written)", () => {
  const { bus, htif } = setup(false);
  bus.write64(TOHOST, cmd(1, 1, 0x42n));
  assert.equal(htif.poll()?.kind, "output");
  assert.equal(bus.read64(FROMHOST), 0n);
});
