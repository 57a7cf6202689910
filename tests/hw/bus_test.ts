import assert from "node:assert/strict";
import { Bus, BusMapError, BusOverlapError } from "../../lib/hw/bus.ts";
import type { AccessWidth, DeviceState, MmioDevice } from "../../lib/hw/device.ts";
import { SparseMemory } from "../../lib/hw/memory.ts";

/** A register file device that logs every access. */
class LogDevice implements MmioDevice {
  readonly kind = "log";
  log: string[] = [];
  regs = new Map<number, number>();
  constructor(readonly size: number) {}
  read(offset: number, width: AccessWidth): number {
    this.log.push(`r${width}@${offset}`);
    return this.regs.get(offset) ?? 0;
  }
  write(offset: number, width: AccessWidth, value: number): void {
    this.log.push(`w${width}@${offset}=${value.toString(16)}`);
    this.regs.set(offset, value);
  }
  reset(): void {
    this.regs.clear();
  }
  snapshot(): DeviceState {
    return {};
  }
  restore(_state: DeviceState): void {}
}

Deno.test("Bus: routes RAM accesses with a memory offset", () => {
  const mem = new SparseMemory(0x10000);
  const bus = new Bus();
  bus.mapRam(0x8000_0000, 0x8000, mem, 0x8000, "high");
  assert.equal(bus.write(0x8000_0010, 4, 0xcafef00d), true);
  assert.equal(mem.read32(0x8010), 0xcafef00d);
  assert.equal(bus.read(0x8000_0010, 4), 0xcafef00d);
  assert.equal(bus.read(0x8000_0012, 2), 0xcafe);
  assert.equal(bus.read(0x8000_0013, 1), 0xca);
  assert.equal(bus.write64(0x8000_0100, -1n), true);
  assert.equal(bus.read64(0x8000_0100), 0xffff_ffff_ffff_ffffn);
  assert.equal(bus.readPair(0x8000_0100), true);
  assert.equal(bus.pairLo, -1);
  assert.equal(bus.pairHi, -1);
});

Deno.test("Bus: unanswered accesses return undefined/false without throwing", () => {
  const bus = new Bus();
  bus.mapRam(0x1000, 0x1000, new SparseMemory(0x1000));
  assert.equal(bus.read(0x3000, 4), undefined);
  assert.equal(bus.write(0x3000, 1, 1), false);
  assert.equal(bus.read(0x1ffe, 4), undefined, "straddles the end of RAM");
  assert.equal(bus.read64(0x1ffc), undefined);
  assert.equal(bus.write64(0x0, 1n), false);
  assert.equal(bus.readBytes(0x1f00, 0x200), undefined);
  assert.equal(bus.writeBytes(0x1f00, new Uint8Array(0x200).fill(7)), false);
  assert.equal(bus.read(0x1f00, 1), 0, "a failed writeBytes writes nothing");
});

Deno.test("Bus: overlapping mappings are rejected naming both regions", () => {
  const bus = new Bus();
  bus.mapRam(0x8000_0000, 0x10_0000, new SparseMemory(0x10_0000), 0, "ram");
  const uart = new LogDevice(0x100);
  assert.throws(
    () => bus.mapDevice(0x800f_ff00, uart, "uart0"),
    (e: unknown) =>
      e instanceof BusOverlapError && /"uart0" \[0x800fff00, 0x80100000\)/.test(e.message) &&
      /"ram" \[0x80000000, 0x80100000\)/.test(e.message) && e.existing.name === "ram",
  );
  bus.mapDevice(0x8010_0000, uart, "uart0");
  assert.throws(() => bus.mapDevice(0x8010_00ff, new LogDevice(4), "x"), BusOverlapError);
  assert.throws(() => bus.mapRam(0x1001, 0x1000, new SparseMemory(0x1000)), BusMapError);
  assert.throws(() => bus.mapRam(0, 0x2000, new SparseMemory(0x1000)), /exceed/);
  assert.deepEqual(bus.regions().map((r) => [r.name, r.kind]), [["ram", "ram"], [
    "uart0",
    "device",
  ]]);
  const g = bus.generation;
  bus.unmap(0x8010_0000);
  assert.equal(bus.generation, g + 1);
  assert.equal(bus.find(0x8010_0000), undefined);
  assert.throws(() => bus.unmap(0x8010_0000), /cannot unmap 0x80100000/);
});

Deno.test("Bus: devices see offsets; 8-byte accesses split low word first", () => {
  const bus = new Bus();
  const dev = new LogDevice(0x20);
  bus.mapDevice(0x1000_0000, dev, "dev");
  assert.equal(bus.write(0x1000_0004, 2, 0x12345), true);
  assert.equal(bus.write64(0x1000_0008, 0x1111_2222_3333_4444n), true);
  assert.equal(bus.read64(0x1000_0008), 0x1111_2222_3333_4444n);
  assert.equal(bus.read(0x1000_0004, 2), 0x2345);
  assert.deepEqual(dev.log, [
    "w2@4=2345",
    "w4@8=33334444",
    "w4@12=11112222",
    "r4@8",
    "r4@12",
    "r2@4",
  ]);
  assert.equal(bus.read(0x1000_001e, 4), undefined, "access past the window end");
  assert.equal(bus.find(0x1000_001f)?.name, "dev");
});

Deno.test("Bus: byte copies span adjacent RAM and device regions", () => {
  const bus = new Bus();
  const mem = new SparseMemory(0x1000);
  const dev = new LogDevice(0x10);
  bus.mapRam(0x0, 0x1000, mem);
  bus.mapDevice(0x1000, dev, "dev");
  assert.equal(bus.writeBytes(0xffe, new Uint8Array([1, 2, 3, 4])), true);
  assert.equal(mem.read16(0xffe), 0x0201);
  assert.deepEqual(dev.log, ["w1@0=3", "w1@1=4"]);
  assert.deepEqual([...bus.readBytes(0xffe, 4)!], [1, 2, 3, 4]);
});
