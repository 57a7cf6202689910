import assert from "node:assert/strict";
import { SparseMemory } from "../../lib/hw/memory.ts";
import { HostMemory, HostMemoryError } from "../../lib/vmm/host_memory.ts";
import { type IvcEndpoint, IvcError, IvcRegistry } from "../../lib/vmm/ivc.ts";

Deno.test("host memory: allocation, identical claims, no sharing, release by owner", () => {
  const host = new HostMemory([{ base: 0x8000_0000, size: 0x1000_0000 }]);
  const a = host.allocate(0x20_0000, "VM[1]", "memory_regions[0]");
  assert.equal(a.hpa, 0x8000_0000);
  assert.throws(
    () => host.claim(0x8010_0000, 0x1000, "VM[2]", "memory_regions[0]"),
    (e) =>
      e instanceof HostMemoryError && /already used by VM\[1\] memory_regions\[0\]/.test(e.message),
  );
  assert.throws(() => host.claim(0x1000, 0x1000, "VM[2]", "r"), /no board RAM covers/);
  const c = host.claim(0x8100_0000, 0x1000, "VM[2]", "memory_regions[0]");
  const b = host.allocate(0x20_0000, "VM[2]", "memory_regions[1]");
  assert.equal(b.hpa, 0x8020_0000);
  assert.equal(host.used, 0x40_1000);
  assert.throws(() => host.allocate(0x1000_0000, "VM[3]", "big"), /not enough board RAM/);
  assert.equal(host.freeOwner("VM[2]"), 2);
  assert.deepEqual(host.allocations().map((x) => x.owner), ["VM[1]"]);
  void c;
});

class FakeVm implements IvcEndpoint {
  maps = new Map<number, SparseMemory>();
  next = 0x9000_0000;
  constructor(readonly id: number) {}
  mapShared(memory: SparseMemory, size: number): number {
    const gpa = this.next;
    this.next += size;
    this.maps.set(gpa, memory);
    return gpa;
  }
  unmapShared(gpa: number): void {
    this.maps.delete(gpa);
  }
}

Deno.test("ivc: publish, subscribe shares memory, unpublish frees after the last subscriber", () => {
  const ivc = new IvcRegistry();
  const pub = new FakeVm(1), sub = new FakeVm(2);
  const p = ivc.publish(pub, 7n, 100);
  assert.equal(p.size, 4096);
  const mem = pub.maps.get(p.gpa)!;
  assert.equal(mem.read64(0), 1n);
  assert.equal(mem.read64(8), 7n);
  assert.throws(
    () => ivc.publish(pub, 7n, 100),
    (e) => e instanceof IvcError && /already published/.test(e.message),
  );
  assert.throws(
    () => ivc.subscribe(sub, 1, 8n),
    /no IVC channel published by VM\[1\] with key 0x8/,
  );
  const s = ivc.subscribe(sub, 1, 7n);
  assert.equal(sub.maps.get(s.gpa), mem, "the same memory is mapped in both VMs");
  ivc.unpublish(pub, 7n);
  assert.equal(pub.maps.size, 0);
  assert.equal(ivc.channels().length, 1, "kept while a subscriber remains");
  ivc.unsubscribe(sub, 1, 7n);
  assert.equal(ivc.channels().length, 0);
  assert.throws(() => ivc.unsubscribe(sub, 1, 7n), /not subscribed/);
  ivc.publish(pub, 1n, 10);
  ivc.subscribe(sub, 1, 1n);
  ivc.releaseVm(1);
  ivc.releaseVm(2);
  assert.equal(ivc.channels().length, 0);
  assert.equal(sub.maps.size, 0);
});
