import assert from "node:assert/strict";
import {
  IER_RDI,
  IER_RLSI,
  IER_THRI,
  LSR_DR,
  LSR_OE,
  LSR_TEMT,
  LSR_THRE,
  MCR_LOOP,
  Ns16550a,
} from "../../../lib/hw/devices/ns16550a.ts";

const RBR = 0,
  THR = 0,
  DLL = 0,
  IER = 1,
  DLM = 1,
  IIR = 2,
  FCR = 2,
  LCR = 3,
  MCR = 4,
  LSR = 5,
  MSR = 6,
  SCR = 7;

/** A UART with its output captured and its interrupt line recorded. */
function rig(options: { inputCapacity?: number } = {}) {
  const out: number[] = [];
  const irq = { level: false, edges: 0 };
  const uart = new Ns16550a({
    inputCapacity: options.inputCapacity,
    onOutput: (b) => out.push(b),
    irq: {
      set(level) {
        irq.level = level;
        irq.edges++;
      },
    },
  });
  const rd = (off: number) => uart.read(off, 1);
  const wr = (off: number, v: number) => uart.write(off, 1, v);
  const text = () => new TextDecoder().decode(Uint8Array.from(out));
  return { uart, out, irq, rd, wr, text };
}

Deno.test("ns16550a: Linux 8250 autoconfig probes find a 16550A", () => {
  const { rd, wr } = rig();
  // Scratch register test.
  wr(SCR, 0xa5);
  assert.equal(rd(SCR), 0xa5);
  // IER test (autoconfig): write 0 then 0x0f; both must read back.
  const saved = rd(IER);
  wr(IER, 0);
  assert.equal(rd(IER) & 0x0f, 0);
  wr(IER, 0x0f);
  assert.equal(rd(IER) & 0x0f, 0x0f);
  wr(IER, saved);
  // Loopback test: MCR = LOOP | OUT2 | RTS must show DCD | CTS in MSR's high nibble.
  const savedMcr = rd(MCR);
  wr(MCR, MCR_LOOP | 0x0a);
  assert.equal(rd(MSR) & 0xf0, 0x90);
  wr(MCR, savedMcr);
  // FIFO detection: after enabling the FIFO, IIR bits 7:6 are 11 => 16550A.
  wr(FCR, 0x01);
  assert.equal(rd(IIR) >> 6, 3);
  // EFR probe (LCR = 0xBF): offset 2 reads non-zero on a 16550A (no EFR), as on QEMU.
  wr(LCR, 0xbf);
  assert.notEqual(rd(2), 0);
  wr(LCR, 0);
});

Deno.test("ns16550a: U-Boot ns16550 init, baud divisor and polled putc/getc", () => {
  const { uart, rd, wr, text } = rig();
  while (!(rd(LSR) & LSR_TEMT)) { /* NS16550_init waits for TEMT */ }
  wr(IER, 0);
  wr(MCR, 0x03); // DTR | RTS
  wr(FCR, 0x07); // enable, clear RX, clear TX
  wr(LCR, 0x03); // 8N1
  const divisor = Math.round(3686400 / (16 * 115200));
  wr(LCR, 0x80 | 0x03);
  wr(DLL, divisor & 0xff);
  wr(DLM, divisor >> 8);
  wr(LCR, 0x03);
  // Divisor latches read back with DLAB set, and do not disturb IER / RBR.
  wr(LCR, 0x83);
  assert.equal(rd(DLL), 2);
  assert.equal(rd(DLM), 0);
  wr(LCR, 0x03);
  assert.equal(rd(IER), 0);
  for (const ch of "U-Boot\n") {
    while (!(rd(LSR) & LSR_THRE)) { /* wait */ }
    wr(THR, ch.charCodeAt(0));
  }
  assert.equal(text(), "U-Boot\n");
  assert.equal(uart.transmitted, 7);
  assert.equal(rd(LSR) & LSR_DR, 0);
  uart.sendInput("ok");
  const got: number[] = [];
  while (rd(LSR) & LSR_DR) got.push(rd(RBR));
  assert.deepEqual(got, [0x6f, 0x6b]);
});

Deno.test("ns16550a: OpenSBI uart8250 init sequence and getc returning -1 when empty", () => {
  const { uart, rd, wr, text } = rig();
  const inFreq = 3686400, baud = 115200;
  const bdiv = Math.floor((inFreq + 8 * baud) / (16 * baud));
  wr(IER, 0x00);
  wr(LCR, 0x80);
  wr(DLL, bdiv & 0xff);
  wr(DLM, (bdiv >> 8) & 0xff);
  wr(LCR, 0x03);
  wr(FCR, 0x01);
  wr(MCR, 0x00);
  rd(LSR);
  rd(RBR);
  wr(SCR, 0x00);
  assert.equal(uart.snapshot().divisor, 2);
  const getc = () => (rd(LSR) & LSR_DR) ? rd(RBR) : -1;
  assert.equal(getc(), -1);
  uart.sendInput(new Uint8Array([0x41]));
  assert.equal(getc(), 0x41);
  assert.equal(getc(), -1);
  const putc = (c: number) => {
    while ((rd(LSR) & LSR_THRE) === 0) { /* wait */ }
    wr(THR, c);
  };
  for (const c of new TextEncoder().encode("OpenSBI v1.5\n")) putc(c);
  assert.equal(text(), "OpenSBI v1.5\n");
});

Deno.test("ns16550a: receive interrupts: timeout below the trigger level, data at the level", () => {
  const { uart, irq, rd, wr } = rig();
  wr(FCR, 0x81); // FIFO on, trigger level 8
  wr(IER, IER_RDI | IER_RLSI);
  assert.equal(irq.level, false);
  assert.equal(rd(IIR), 0xc1);
  uart.sendInput("abc");
  assert.equal(irq.level, true);
  assert.equal(rd(IIR), 0xcc, "character timeout below the trigger level");
  uart.sendInput("defghij");
  assert.equal(rd(IIR), 0xc4, "received data available at the trigger level");
  let s = "";
  while (rd(LSR) & LSR_DR) s += String.fromCharCode(rd(RBR));
  assert.equal(s, "abcdefghij");
  assert.equal(irq.level, false);
  assert.equal(rd(IIR), 0xc1);
  // Disabling the interrupt drops the line even with data waiting.
  uart.sendInput("x");
  assert.equal(irq.level, true);
  wr(IER, 0);
  assert.equal(irq.level, false);
});

Deno.test("ns16550a: THR-empty interrupt is raised on enable and on each write, cleared by reading IIR", () => {
  const { irq, rd, wr, out } = rig();
  wr(FCR, 0x01);
  wr(IER, IER_THRI);
  assert.equal(
    irq.level,
    true,
    "enabling THRI with an empty THR raises it (8250 and QEMU behaviour)",
  );
  assert.equal(rd(IIR), 0xc2);
  assert.equal(irq.level, false, "reading IIR acknowledged it");
  assert.equal(rd(IIR), 0xc1);
  wr(THR, 0x21);
  assert.deepEqual(out, [0x21]);
  assert.equal(irq.level, true);
  assert.equal(rd(IIR) & 0x0f, 0x02);
  assert.equal(irq.level, false);
});

Deno.test("ns16550a: interrupt priority: line status > received data > THR empty > modem status", () => {
  const { uart, rd, wr } = rig();
  wr(FCR, 0x01);
  wr(IER, 0x0f);
  assert.equal(rd(IIR) & 0x0f, 0x02); // THR empty pending after enable; acknowledged now
  wr(MCR, MCR_LOOP | 0x02); // RTS -> CTS changes: modem status delta
  assert.equal(rd(IIR) & 0x0f, 0x00);
  for (let i = 0; i < 17; i++) wr(THR, i); // loopback: 17th byte overruns the FIFO
  assert.equal(rd(IIR) & 0x0f, 0x06, "overrun (line status) first");
  assert.equal(rd(LSR) & LSR_OE, LSR_OE);
  assert.equal(rd(LSR) & LSR_OE, 0, "reading LSR cleared OE");
  assert.equal(rd(IIR) & 0x0f, 0x04, "then received data (16 bytes, over the 1-byte trigger)");
  while (rd(LSR) & LSR_DR) rd(RBR);
  assert.equal(rd(IIR) & 0x0f, 0x02, "then THR empty (the loopback writes set it)");
  assert.equal(rd(IIR) & 0x0f, 0x00, "then modem status");
  rd(MSR);
  assert.equal(rd(IIR), 0xc1);
  assert.equal(uart.irqLevel, false);
});

Deno.test("ns16550a: 16-byte FIFO fed from a bigger host buffer; capacity limits accepted bytes", () => {
  const { uart, rd, wr } = rig({ inputCapacity: 40 });
  wr(FCR, 0x01);
  const accepted = uart.sendInput(new Uint8Array(50).map((_, i) => i));
  assert.equal(accepted, 40);
  assert.equal(uart.pendingInput(), 40);
  assert.equal(uart.snapshot().rx.length, 16);
  const got: number[] = [];
  while (rd(LSR) & LSR_DR) got.push(rd(RBR));
  assert.deepEqual(got, Array.from({ length: 40 }, (_, i) => i));
  assert.equal(uart.sendInput("more"), 4);
});

Deno.test("ns16550a: without the FIFO the receiver holds one byte; FCR changes flush it", () => {
  const { uart, rd, wr } = rig();
  uart.sendInput("xyz");
  assert.equal(uart.snapshot().rx.length, 1);
  assert.equal(rd(RBR), 0x78);
  assert.equal(rd(RBR), 0x79);
  wr(FCR, 0x01); // enabling the FIFO flushes the receiver, then the host buffer refills it
  assert.equal(uart.snapshot().rx.length, 0);
  assert.equal(uart.pendingInput(), 0);
  uart.sendInput("ab");
  wr(FCR, 0x03); // clear RX
  assert.equal(rd(LSR) & LSR_DR, 0);
});

Deno.test("ns16550a: loopback sends THR to the receiver instead of the host", () => {
  const { uart, rd, wr, out } = rig();
  wr(FCR, 0x01);
  wr(MCR, MCR_LOOP);
  wr(THR, 0x55);
  assert.deepEqual(out, []);
  assert.equal(rd(LSR) & LSR_DR, LSR_DR);
  assert.equal(rd(RBR), 0x55);
  // Host input waits while in loopback, and arrives when loopback ends.
  uart.sendInput("h");
  assert.equal(rd(LSR) & LSR_DR, 0);
  wr(MCR, 0);
  assert.equal(rd(RBR), 0x68);
  assert.equal(uart.transmitted, 0);
});

Deno.test("ns16550a: modem status deltas are reported and cleared by reading MSR", () => {
  const { rd, wr } = rig();
  wr(MCR, MCR_LOOP | 0x01); // DTR -> DSR
  const msr = rd(MSR);
  assert.equal(msr & 0x20, 0x20);
  assert.ok(msr & 0x0f, "deltas set");
  assert.equal(rd(MSR) & 0x0f, 0, "deltas cleared on read");
  wr(MCR, 0);
  assert.equal(rd(MSR) & 0xf0, 0xb0, "outside loopback: DCD, DSR, CTS as on QEMU");
});

Deno.test("ns16550a: snapshot and restore bring back registers, FIFO and host input", () => {
  const a = rig({ inputCapacity: 64 });
  a.wr(FCR, 0xc1);
  a.wr(LCR, 0x83);
  a.wr(DLL, 12);
  a.wr(LCR, 0x03);
  a.wr(IER, IER_RDI);
  a.wr(SCR, 0x5a);
  a.uart.sendInput("0123456789abcdefXYZ");
  const state = a.uart.snapshot();
  const copy = JSON.parse(JSON.stringify(state));
  const b = rig({ inputCapacity: 64 });
  b.uart.restore(copy);
  assert.deepEqual(b.uart.snapshot(), state);
  assert.equal(b.irq.level, true, "restored pending data raises the line");
  let s = "";
  while (b.rd(LSR) & LSR_DR) s += String.fromCharCode(b.rd(RBR));
  assert.equal(s, "0123456789abcdefXYZ");
  assert.throws(() => b.uart.restore({ ...copy, lcr: 300 }), /lcr must be a byte/);
  assert.throws(
    () => b.uart.restore({ ...copy, rx: new Array(17).fill(0) }),
    /rx must be an array of at most 16/,
  );
  b.uart.reset();
  assert.equal(b.uart.pendingInput(), 0);
  assert.equal(b.rd(LCR), 0);
  assert.equal(b.irq.level, false);
});

Deno.test("ns16550a: wider accesses reach the byte register; unknown offsets read 0", () => {
  const { uart } = rig();
  uart.write(7, 4, 0x1234_56ab);
  assert.equal(uart.read(7, 4), 0xab);
  assert.equal(uart.read(0x40, 1), 0);
  uart.write(0x40, 1, 0xff); // ignored
  assert.equal(uart.read(5, 1), LSR_THRE | LSR_TEMT);
  assert.throws(() => new Ns16550a({ inputCapacity: 0 }), /inputCapacity/);
});
