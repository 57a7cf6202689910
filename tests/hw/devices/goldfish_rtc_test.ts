import assert from "node:assert/strict";
import {
  DEFAULT_RTC_EPOCH_NS,
  GoldfishRtc,
  parseRtcStart,
} from "../../../lib/hw/devices/goldfish_rtc.ts";
import { isTimedDevice } from "../../../lib/hw/device.ts";

/** An RTC on a clock the test moves by hand, with its interrupt line and deadline calls seen. */
function rig(epochNs?: number) {
  const t = { now: 0, irq: false, deadlines: 0 };
  const rtc = new GoldfishRtc({
    clockNs: () => t.now,
    epochNs,
    irq: { set: (level) => t.irq = level },
    onDeadline: () => t.deadlines++,
  });
  const time = () => {
    const lo = rtc.read(0x00, 4);
    const hi = rtc.read(0x04, 4);
    return BigInt(hi) * 2n ** 32n + BigInt(lo);
  };
  const setAlarm = (ns: bigint) => {
    rtc.write(0x0c, 4, Number(ns >> 32n));
    rtc.write(0x08, 4, Number(ns & 0xffffffffn));
  };
  return { t, rtc, time, setAlarm };
}

Deno.test("goldfish-rtc: reads the epoch plus virtual time; TIME_LOW latches TIME_HIGH", () => {
  const { t, rtc, time } = rig();
  assert.equal(time(), BigInt(DEFAULT_RTC_EPOCH_NS));
  t.now = 1_500_000_123;
  assert.equal(time(), BigInt(DEFAULT_RTC_EPOCH_NS) + 1_500_000_123n);
  // The high word read is the one latched by the last TIME_LOW read, even if time moved on.
  const lo = rtc.read(0x00, 4);
  const hi = rtc.read(0x04, 4);
  t.now += 2 ** 40;
  assert.equal(rtc.read(0x04, 4), hi);
  assert.equal(BigInt(hi) * 2n ** 32n + BigInt(lo) - BigInt(DEFAULT_RTC_EPOCH_NS), 1_500_000_123n);
  // Narrow reads see bytes of the register.
  assert.equal(rtc.read(0x01, 1), (rtc.read(0x00, 4) >>> 8) & 0xff);
  assert.ok(isTimedDevice(rtc));
});

Deno.test("goldfish-rtc: the guest sets the time with TIME_HIGH then TIME_LOW", () => {
  const { t, rtc, time } = rig(0);
  t.now = 5_000;
  const target = 1_800_000_000_000_000_123n; // beyond 2^53: kept exactly
  rtc.write(0x04, 4, Number(target >> 32n));
  rtc.write(0x00, 4, Number(target & 0xffffffffn));
  assert.equal(time(), target);
  t.now += 1_000;
  assert.equal(time(), target + 1_000n);
  rtc.reset();
  assert.equal(time(), BigInt(t.now), "reset goes back to the epoch");
});

Deno.test("goldfish-rtc: an alarm fires at its time, interrupts when enabled, and clears", () => {
  const { t, rtc, setAlarm } = rig(1_000_000);
  assert.equal(rtc.deadlineNs(), undefined);
  rtc.write(0x10, 4, 1); // IRQ_ENABLED
  setAlarm(1_000_000n + 50_000n);
  assert.equal(rtc.read(0x18, 4), 1, "ALARM_STATUS: armed");
  assert.equal(rtc.deadlineNs(), 50_000, "deadline in the owner's virtual time");
  assert.ok(t.deadlines > 0, "the owner was told");
  t.now = 49_999;
  rtc.update();
  assert.equal(t.irq, false, "not before its time");
  t.now = 50_000;
  rtc.update();
  assert.equal(t.irq, true);
  assert.equal(rtc.read(0x18, 4), 0, "no longer armed");
  assert.equal(rtc.deadlineNs(), undefined);
  rtc.write(0x1c, 4, 1); // CLEAR_INTERRUPT
  assert.equal(t.irq, false);

  // An alarm in the past fires at once; with the interrupt disabled it stays pending but quiet.
  rtc.write(0x10, 4, 0);
  setAlarm(0n);
  assert.equal(rtc.read(0x18, 4), 0);
  assert.equal(t.irq, false);
  rtc.write(0x10, 4, 1);
  assert.equal(t.irq, true, "enabling shows the pending interrupt");
  rtc.write(0x1c, 4, 1);

  // CLEAR_ALARM disarms.
  setAlarm(1_000_000n + 90_000n);
  rtc.write(0x14, 4, 1);
  assert.equal(rtc.deadlineNs(), undefined);
  t.now = 100_000;
  rtc.update();
  assert.equal(t.irq, false);
  assert.equal(rtc.read(0x0c, 4), 0);
  assert.equal(rtc.read(0x08, 4), 1_090_000);
});

Deno.test("goldfish-rtc: snapshot and restore; bad states are refused", () => {
  const a = rig(7);
  a.rtc.write(0x04, 4, 0x1234);
  a.rtc.write(0x00, 4, 0x5678);
  a.rtc.write(0x10, 4, 1);
  a.setAlarm(0x1234_0000_9000n);
  const state = a.rtc.snapshot();
  assert.deepEqual(JSON.parse(JSON.stringify(state)), state, "plain data");
  const b = rig(99);
  b.rtc.restore(state);
  assert.deepEqual(b.rtc.snapshot(), state);
  assert.equal(b.time(), a.time());
  assert.equal(b.rtc.deadlineNs(), a.rtc.deadlineNs());
  assert.throws(() => b.rtc.restore({ ...state, offsetNs: 12 }), /offsetNs is not a decimal/);
  assert.throws(() => b.rtc.restore({ ...state, irqPending: 1 }), /irqPending is not a boolean/);
  assert.throws(() => b.rtc.restore({ ...state, timeHigh: -1 }), /timeHigh/);
  assert.throws(
    () => new GoldfishRtc({ clockNs: () => 0, size: 4 }),
    /size must be at least 0x20/,
  );
});

Deno.test("goldfish-rtc: start times from a user's choice", () => {
  assert.equal(parseRtcStart("fixed", 5), DEFAULT_RTC_EPOCH_NS);
  assert.equal(parseRtcStart("host", 1_700_000_000_000), 1_700_000_000_000 * 1e6);
  assert.equal(parseRtcStart("2030-06-01T12:00:00Z", 0), Date.UTC(2030, 5, 1, 12) * 1e6);
  assert.throws(
    () => parseRtcStart("yesterday", 0),
    /"yesterday" is not an RTC start: expected host, fixed/,
  );
  assert.throws(() => parseRtcStart("1960-01-01", 0), /after 1970/);
});
