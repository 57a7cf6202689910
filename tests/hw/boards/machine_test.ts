import assert from "node:assert/strict";
import { BUILTIN_BOARD_TEXTS, loadBoard, Machine, parseBoard } from "../../../lib/hw/boards/mod.ts";
import { readFdt } from "../../../lib/hw/fdt/mod.ts";
import { assemble } from "./asm.ts";

const RAM = 0x8000_0000;
const decode = (chunks: Uint8Array[]) =>
  new TextDecoder().decode(Uint8Array.from(chunks.flatMap((c) => [...c])));

/**
 * Routes PLIC source `irq` to hart 0's M-mode context (priority 1, threshold 0) and enables
 * machine external interrupts; leaves the PLIC base in s1 and the context's threshold register
 * (claim/complete at +4) in s2. Expects t0 = 1.
 */
const plicToHart0M = (irq: number) =>
  `  li s1, 0x0c000000
  sw t0, ${4 * irq}(s1)          # priority[${irq}] = 1
  li t0, 1 << ${irq}
  li t1, 0x0c002000
  sw t0, 0(t1)           # enable source ${irq} in context 0 (hart 0, M)
  li s2, 0x0c200000
  sw zero, 0(s2)         # threshold 0
  li t0, 0x800           # MEIE
  csrw mie, t0
  csrsi mstatus, 8`;

/** Secondary harts park in wfi with every interrupt disabled. */
const PARK = `
park:
  wfi
  j park
`;

Deno.test("machine: harts start at the entry in M-mode with a0 = hartid, a1 = DTB; UART out; finisher code", async () => {
  const image = await assemble(`
  .globl _start
_start:
  li t0, 0x80010000      # results: a0 and a1 of each hart
  slli t1, a0, 4
  add t0, t0, t1
  sd a0, 0(t0)
  sd a1, 8(t0)
  csrr t2, mhartid
  bne t2, a0, park
  bnez a0, park
  li t1, 0x10000000
  la t2, msg
1:lbu t3, 0(t2)
  beqz t3, 2f
3:lbu t4, 5(t1)        # poll LSR.THRE like every driver
  andi t4, t4, 0x20
  beqz t4, 3b
  sb t3, 0(t1)
  addi t2, t2, 1
  j 1b
2:li t1, 0x100000
  li t3, (7 << 16) | 0x3333
  sw t3, 0(t1)
  j 2b
${PARK}
msg: .asciz "hello from the board\\n"
`);
  // Short slices, so that every hart stores its registers before hart 0 ends the run.
  const machine = new Machine(loadBoard("qemu-virt"), { slice: 16 });
  const out: Uint8Array[] = [];
  const off = machine.onConsoleOutput((b) => out.push(b));
  machine.load(RAM, image);
  machine.boot(RAM);
  const stop = machine.run(100_000);
  assert.equal(stop.reason, "finished");
  assert.deepEqual(stop.finisher, { kind: "fail", code: 7 });
  assert.equal(decode(out), "hello from the board\n");
  const resultAt = RAM + 0x10000;
  for (let h = 0; h < 4; h++) {
    assert.equal(machine.bus.read64(resultAt + 16 * h), BigInt(h), `a0 of hart ${h}`);
    assert.equal(
      machine.bus.read64(resultAt + 16 * h + 8),
      BigInt(machine.dtbAddress),
      `a1 of hart ${h}`,
    );
  }
  assert.deepEqual(machine.bus.readBytes(machine.dtbAddress, machine.dtb.length), machine.dtb);
  assert.equal(
    machine.dtbAddress,
    0xbfe0_0000,
    "QEMU's rule: top of RAM below 3 GiB, 2 MiB aligned",
  );
  assert.equal(readFdt(machine.dtb).root.find("/cpus")?.getU32("timebase-frequency"), 10_000_000);
  assert.ok([1, 2, 3].every((h) => machine.isSleeping(h)), "secondaries sleep in wfi");
  assert.equal(
    machine.run(1000).reason,
    "finished",
    "a finished machine stays finished until boot",
  );
  off();
  machine.boot(RAM);
  assert.equal(machine.run(100_000).reason, "finished");
  assert.equal(out.length, 1, "unsubscribed listeners get nothing");
});

const TIMER_PROGRAM = `
  .globl _start
_start:
  bnez a0, park
  la t0, handler
  csrw mtvec, t0
  li t0, 0x200bff8       # mtime
  ld t1, 0(t0)
  li t2, 1000000         # 100 ms at 10 MHz
  add t1, t1, t2
  li t0, 0x2004000       # mtimecmp[0]
  sd t1, 0(t0)
  li t0, 0x80            # MTIE
  csrw mie, t0
  csrsi mstatus, 8       # MIE
1:wfi
  j 1b
  .align 2
handler:
  li t0, 0x100000
  li t1, 0x5555
  sw t1, 0(t0)
  j handler
${PARK}
`;

Deno.test("machine: sleeping harts jump ahead to the next timer deadline", async () => {
  // Short slices: the hart that writes the finisher runs on to the end of its slice.
  const machine = new Machine(loadBoard("qemu-virt"), { slice: 64 });
  machine.load(RAM, await assemble(TIMER_PROGRAM));
  machine.boot(RAM);
  const stop = machine.run(10_000_000);
  assert.equal(stop.reason, "finished");
  assert.deepEqual(stop.finisher, { kind: "pass", code: 0 });
  assert.ok(
    stop.instructions < 200,
    `only the program's own instructions ran (${stop.instructions})`,
  );
  assert.ok(machine.time() >= 1_000_000, `mtime reached the deadline (${machine.time()})`);
  assert.ok(
    machine.elapsedNs() >= 100_000_000 && machine.elapsedNs() < 100_100_000,
    `${machine.elapsedNs()} ns`,
  );
  // Determinism: the same run again gives the same numbers.
  const again = new Machine(loadBoard("qemu-virt"), { slice: 64 });
  again.load(RAM, await assemble(TIMER_PROGRAM));
  again.boot(RAM);
  assert.deepEqual(again.run(10_000_000), stop);
  assert.equal(again.time(), machine.time());
});

Deno.test("machine: idle until console input; UART RX interrupt through the PLIC to MEIP", async () => {
  const machine = new Machine(loadBoard("qemu-virt"));
  machine.load(
    RAM,
    await assemble(`
  .globl _start
_start:
  bnez a0, park
  la t0, handler
  csrw mtvec, t0
  li s0, 0x10000000
  li t0, 1
  sb t0, 1(s0)           # IER = RDI
${plicToHart0M(10)}
1:wfi
  j 1b
  .align 2
handler:
  lw t0, 4(s2)           # claim
2:lbu t1, 5(s0)
  andi t1, t1, 1
  beqz t1, 3f
  lbu t2, 0(s0)
  sb t2, 0(s0)           # echo
  li t3, 'q'
  bne t2, t3, 2b
  li t4, 0x100000
  li t5, (3 << 16) | 0x3333
  sw t5, 0(t4)
3:sw t0, 4(s2)           # complete
  mret
${PARK}
`),
  );
  const out: Uint8Array[] = [];
  machine.onConsoleOutput((b) => out.push(b));
  machine.boot(RAM);
  const idle = machine.run(1_000_000);
  assert.equal(idle.reason, "idle", "every hart waits and no timer is armed");
  assert.ok(idle.instructions < 100);
  assert.equal(machine.sendConsoleInput("abc"), 3);
  assert.equal(machine.run(1_000_000).reason, "idle");
  assert.equal(decode(out), "abc");
  machine.sendConsoleInput("xyq");
  const stop = machine.run(1_000_000);
  assert.deepEqual(stop.finisher, { kind: "fail", code: 3 });
  assert.equal(decode(out), "abcxyq");
});

Deno.test("machine: physical hart ids; an IPI through msip wakes the right hart", async () => {
  const text = BUILTIN_BOARD_TEXTS["compact-2"].replace("hart_ids = [0, 1]", "hart_ids = [4, 9]");
  const machine = new Machine(parseBoard(text, "ids.toml"));
  assert.equal(machine.hartIndex(9), 1);
  assert.equal(machine.hartIndex(5), -1);
  machine.load(
    RAM,
    await assemble(`
  .globl _start
_start:
  li t0, 9
  beq a0, t0, second
  li t0, 0x2000004       # msip of hart index 1
  li t1, 1
  sw t1, 0(t0)
  j park
second:
  la t0, handler
  csrw mtvec, t0
  li t0, 8               # MSIE
  csrw mie, t0
  csrsi mstatus, 8
1:wfi
  j 1b
  .align 2
handler:
  csrr t0, mhartid
  slli t0, t0, 16
  li t1, 0x3333
  or t0, t0, t1          # fail code = mhartid
  li t1, 0x100000
  sw t0, 0(t1)
  j handler
${PARK}
`),
  );
  machine.boot(RAM);
  const stop = machine.run(1_000_000);
  assert.deepEqual(stop.finisher, { kind: "fail", code: 9 });
  assert.ok(machine.aclint?.msip(1));
});

Deno.test("machine: budget stops, loads outside RAM are refused, every board builds", async () => {
  const machine = new Machine(loadBoard("compact-2"), { slice: 100 });
  machine.load(RAM, await assemble(`_start: j _start`));
  machine.boot(RAM);
  const stop = machine.run(12_345);
  assert.deepEqual(stop, { reason: "budget", instructions: 12_345 });
  assert.throws(
    () => machine.load(0x1000, new Uint8Array(4)),
    /0x1000 is not RAM on board compact-2/,
  );
  assert.throws(
    () => machine.load(RAM + 0x4000_0000 - 2, new Uint8Array(4)),
    /0xc0000000 is not RAM/,
  );
  assert.throws(
    () => new Machine(loadBoard("compact-2"), { slice: 0 }),
    /slice must be a positive integer/,
  );
  const server = new Machine(loadBoard("server-64"));
  assert.equal(server.harts.length, 64);
  assert.equal(server.memories.length, 2);
  assert.deepEqual(server.bus.regions().map((r) => r.name), [
    "test",
    "rtc",
    "clint",
    "plic",
    "uart0",
    "uart1",
    "ram0",
    "ram1",
  ]);
  assert.ok(
    server.memories.every((m) => m.residentBytes() <= 64 * 1024),
    "128 GiB of RAM costs almost nothing",
  );
  assert.equal(server.dtbAddress, 0xbfe0_0000);
  assert.equal(
    readFdt(server.dtb).root.find("/cpus")?.children.length,
    65,
    "64 cpus and the cpu-map",
  );
});

Deno.test("machine: a halted hart stops the run, which names it", async () => {
  const machine = new Machine(loadBoard("compact-2"), { slice: 100 });
  machine.load(RAM, await assemble(`_start: j _start`));
  machine.boot(RAM);
  machine.harts[1].halted = true;
  const stop = machine.run(10_000);
  assert.equal(stop.reason, "halted");
  assert.equal(stop.hart, 1);
  assert.ok(stop.instructions > 100 && stop.instructions < 10_000, String(stop.instructions));
});

Deno.test("machine: a finisher write ends the run right after it; the writing hart retires no more", async () => {
  const image = await assemble(`
_start:
  bnez a0, park
  li t0, 0x100000
  li t1, 0x5555
  sw t1, 0(t0)
1:j 1b
${PARK}
`);
  // A slice far longer than the program: the finisher, not the slice end, stops hart 0.
  const machine = new Machine(loadBoard("qemu-virt"), { slice: 100_000 });
  machine.load(RAM, image);
  machine.boot(RAM);
  const stop = machine.run(10_000_000);
  assert.equal(stop.reason, "finished");
  assert.deepEqual(stop.finisher, { kind: "pass", code: 0 });
  // bnez, li (lui), li (lui + addi), sw = 5 instructions.
  assert.equal(machine.harts[0].instret, 5);
  assert.equal(stop.instructions, 5, "hart 0 runs first and ends the run");
});

Deno.test("machine: the RTC reads the epoch; its alarm wakes a sleeping hart through the PLIC", async () => {
  const epochNs = Date.UTC(2030, 5, 1) * 1e6;
  const machine = new Machine(loadBoard("qemu-virt"), { rtcEpochNs: epochNs });
  machine.load(
    RAM,
    await assemble(`
  .globl _start
_start:
  bnez a0, park
  la t0, handler
  csrw mtvec, t0
  li s0, 0x101000        # RTC
  lwu t0, 0(s0)          # TIME_LOW (latches TIME_HIGH)
  lwu t1, 4(s0)
  slli t1, t1, 32
  or s3, t0, t1          # s3 = time now (ns since the epoch)
  li t0, 0x80020000
  sd s3, 0(t0)
  li t0, 1
${plicToHart0M(11)}
  li t0, 1
  sw t0, 0x10(s0)        # IRQ_ENABLED
  li t0, 250000000       # alarm 250 ms from now
  add t0, s3, t0
  srli t1, t0, 32
  sw t1, 0x0c(s0)        # ALARM_HIGH
  sw t0, 0x08(s0)        # ALARM_LOW: armed
1:wfi
  j 1b
  .align 2
handler:
  lw t0, 4(s2)           # claim
  sw zero, 0x1c(s0)      # CLEAR_INTERRUPT
  sw t0, 4(s2)           # complete
  lwu t0, 0(s0)
  lwu t1, 4(s0)
  slli t1, t1, 32
  or t0, t0, t1
  li t2, 0x80020000
  sd t0, 8(t2)           # time at the alarm
  li t4, 0x100000
  li t5, 0x5555
  sw t5, 0(t4)
${PARK}
`),
  );
  machine.boot(RAM);
  const stop = machine.run(10_000_000);
  assert.deepEqual(stop.finisher, { kind: "pass", code: 0 });
  const words = new DataView(new ArrayBuffer(16));
  for (let i = 0; i < 16; i++) words.setUint8(i, machine.bus.read(0x8002_0000 + i, 1)!);
  const start = words.getBigUint64(0, true);
  const fired = words.getBigUint64(8, true);
  assert.ok(start - BigInt(epochNs) < 1_000_000n, `the RTC starts at the epoch (${start})`);
  const waited = fired - start;
  assert.ok(
    waited >= 250_000_000n && waited < 251_000_000n,
    `the alarm fired after ${waited} ns`,
  );
  assert.ok(stop.instructions < 1000, "the hart slept through the wait (time jumped)");
});
