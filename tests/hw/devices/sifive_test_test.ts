import assert from "node:assert/strict";
import { type FinisherEvent, SifiveTest } from "../../../lib/hw/devices/sifive_test.ts";

Deno.test("sifive-test: pass, fail with code, reset; other values and widths are ignored", () => {
  const events: FinisherEvent[] = [];
  const dev = new SifiveTest({ onFinish: (e) => events.push(e) });
  dev.write(0, 4, 0x1234);
  dev.write(0, 2, 0x5555);
  dev.write(4, 4, 0x5555);
  assert.deepEqual(events, []);
  dev.write(0, 4, 0x5555);
  dev.write(0, 4, (42 << 16) | 0x3333);
  dev.write(0, 4, 0x7777);
  dev.write(0, 4, 0xffff_3333);
  assert.deepEqual(events, [
    { kind: "pass", code: 0 },
    { kind: "fail", code: 42 },
    { kind: "reset", code: 0 },
    { kind: "fail", code: 0xffff },
  ]);
  assert.equal(dev.read(0, 4), 0);
  const state = dev.snapshot();
  const other = new SifiveTest();
  other.restore(JSON.parse(JSON.stringify(state)));
  assert.deepEqual(other.last, { kind: "fail", code: 0xffff });
  assert.throws(() => other.restore({ last: { kind: "boom", code: 1 } }), /bad last event/);
  other.reset();
  assert.equal(other.last, null);
});
