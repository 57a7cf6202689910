/**
 * Precise stops and live counters: {@linkcode Hart.requestStop} from device handlers and write
 * watches, {@linkcode Hart.watchWrites}, {@linkcode Hart.instretNow} and the live count the
 * `time` callback receives.
 */
import assert from "node:assert/strict";
import { Bus } from "../../../lib/hw/bus.ts";
import type { AccessWidth, DeviceState, MmioDevice } from "../../../lib/hw/device.ts";
import { type Hart, STOP_REASON_NAMES, StopReason } from "../../../lib/hw/riscv/hart.ts";
import { rig } from "./hart_rig_test.ts";

const DEV = 0x1000_0000;

/** A device whose accesses at offset 0 stop the hart's run; it logs the live instret it saw. */
class StopDevice implements MmioDevice {
  readonly kind = "stop-test";
  readonly size = 0x1000;
  hart: Hart | undefined;
  seen: number[] = [];
  read(offset: number, _width: AccessWidth): number {
    if (offset === 0) this.#stop();
    return 7;
  }
  write(offset: number, _width: AccessWidth, _value: number): void {
    if (offset === 0) this.#stop();
  }
  reset(): void {}
  snapshot(): DeviceState {
    return {};
  }
  restore(_state: DeviceState): void {}
  #stop(): void {
    this.seen.push(this.hart!.instretNow());
    this.hart!.requestStop();
  }
}

function deviceRig(source: string, jitThreshold?: number) {
  const bus = new Bus();
  const dev = new StopDevice();
  bus.mapDevice(DEV, dev, "stop");
  const r = rig(source, { bus, jitThreshold });
  dev.hart = r.hart;
  return { ...r, dev };
}

for (const access of ["sw t1, 0(t0)", "sd t1, 0(t0)", "sb t1, 0(t0)", "lw a1, 0(t0)"]) {
  Deno.test(`requestStop: a device handler ends the run right after \`${access}\``, () => {
    const r = deviceRig(`
_start:
  li t0, ${DEV}
  li t1, 1
  addi a0, zero, 1
  ${access}
after:
  addi a0, a0, 1
done:
  j done
`);
    const before = r.hart.instret;
    assert.equal(r.hart.run(1000), StopReason.Requested);
    assert.equal(r.hart.pc, r.sym("after"), "pc is after the access");
    assert.equal(r.x("a0"), 1n, "the next instruction did not run");
    assert.equal(r.hart.lastRunInstructions, 4, "li (a lui) + li + addi + the access");
    assert.equal(r.hart.instret - before, 4);
    assert.deepEqual(r.dev.seen, [3], "instretNow in the handler counts what retired before");
    assert.equal(r.hart.instretNow(), r.hart.instret, "outside a run the live count is instret");
    // The next run continues normally.
    assert.equal(r.hart.run(2), StopReason.Budget);
    assert.equal(r.x("a0"), 2n);
  });
}

Deno.test("requestStop: works in a hot loop compiled by the second tier; outside run it is ignored", () => {
  const r = deviceRig(
    `
_start:
  li t0, ${DEV + 8}
  li t2, ${DEV}
  li a0, 0
  li a1, 300
loop:
  addi a0, a0, 1
  sw a0, 0(t0)          # device, no stop
  bne a0, a1, loop
  sw a0, 0(t2)          # stops
after:
  j after
done:
  j done
`,
    1,
  );
  r.hart.requestStop(); // not running: no effect on the next run
  assert.equal(r.hart.run(100_000), StopReason.Requested);
  assert.equal(r.hart.pc, r.sym("after"));
  assert.equal(r.x("a0"), 300n);
  assert.equal(r.hart.instret, 1 + 2 + 1 + 1 + 300 * 3 + 1);
  assert.equal(STOP_REASON_NAMES[StopReason.Requested], "requested");
});

Deno.test("watchWrites: every store into the range calls back after the write; requestStop ends the run", () => {
  const r = rig(
    `
_start:
  la t0, mailbox
  li t1, 0x55
  li a0, 0
  li a1, 200
loop:
  addi a0, a0, 1
  sd a0, 8(t0)          # same page, outside the watch
  bne a0, a1, loop
  sb t1, 3(t0)          # into the watch
  amoadd.d zero, t1, (t0)
  sd t1, 0(t0)
after:
  addi a2, a2, 1
done:
  j done
  .data
  .balign 4096
mailbox: .dword 0
         .dword 0
`,
    { jitThreshold: 1 },
  );
  const hart = r.hart;
  const mailbox = r.sym("mailbox");
  const hits: [number, number, number][] = [];
  let stopAt = 3;
  const unwatch = hart.watchWrites(mailbox, 8, (pa, width) => {
    hits.push([pa - mailbox, width, hart.instretNow()]);
    if (hits.length === stopAt) hart.requestStop();
  });
  assert.equal(hart.run(100_000), StopReason.Requested);
  assert.equal(hart.pc, r.sym("after"));
  assert.equal(r.x("a2"), 0n);
  const loopEnd = 2 + 1 + 1 + 1 + 200 * 3;
  assert.deepEqual(hits, [[3, 1, loopEnd], [0, 8, loopEnd + 1], [0, 8, loopEnd + 2]]);
  assert.equal(hart.instret, loopEnd + 3);
  assert.equal(r.mem64("mailbox"), 0x55n, "the watched store took effect");
  assert.equal(r.mem64("mailbox", 8), 200n, "stores next to the watch work");
  unwatch();
  stopAt = -1;
  hits.length = 0;
  hart.reset(r.sym("_start"), 3);
  r.runToDone();
  assert.deepEqual(hits, [], "no calls after unwatch");
  assert.throws(() => hart.watchWrites(mailbox, 0, () => {}), /bad range/);
});

Deno.test("watchWrites: a misaligned store across the page end fires for the watched bytes", () => {
  const r = rig(`
_start:
  la t0, page_end
  li t1, -1
  sd t1, -4(t0)         # 4 bytes before the boundary, 4 after
done:
  j done
  .data
  .balign 4096
  .space 4096
page_end:
  .dword 0
`);
  const hits: number[] = [];
  r.hart.watchWrites(r.sym("page_end"), 8, (pa, width) => {
    assert.equal(width, 1);
    hits.push(pa - r.sym("page_end"));
  });
  r.runToDone();
  assert.deepEqual(hits, [0, 1, 2, 3]);
});

Deno.test("live counters: the time CSR advances inside one long run", () => {
  const r = rig(
    `
_start:
  la t0, samples
  li t1, 0
  li t2, 50
loop:
  rdtime a0
  sd a0, 0(t0)
  addi t0, t0, 8
  addi t1, t1, 1
  bne t1, t2, loop
done:
  j done
  .data
  .balign 8
samples: .space 400
`,
    { readTime: (instret) => instret * 10 },
  );
  const stop = r.hart.run(4 + 50 * 5); // the whole program in one run
  assert.equal(stop, StopReason.Budget);
  assert.equal(r.hart.pc, r.sym("done"));
  for (let i = 0; i < 50; i++) {
    // la (2) + li + li, then 5 instructions per iteration: rdtime sees what retired before it.
    assert.equal(r.mem64("samples", 8 * i), BigInt((4 + 5 * i) * 10), `sample ${i}`);
  }
});
