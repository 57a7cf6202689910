import assert from "node:assert/strict";
import { DuplicateVmIdError, VmList } from "../../lib/vmm/vm_list.ts";

Deno.test("vm list: ordered by id, range queries, removal", () => {
  const list = new VmList<string>();
  for (const id of [5, 1, 3, 10, 0]) list.push(id, `vm${id}`);
  assert.deepEqual(list.ids(), [0, 1, 3, 5, 10]);
  assert.deepEqual(list.list(), ["vm0", "vm1", "vm3", "vm5", "vm10"]);
  assert.deepEqual(list.range(1, 5), ["vm1", "vm3", "vm5"]);
  assert.equal(list.get(3), "vm3");
  assert.equal(list.get(4), undefined);
  assert.equal(list.remove(3), "vm3");
  assert.equal(list.remove(3), undefined);
  assert.deepEqual(list.ids(), [0, 1, 5, 10]);
  assert.equal(list.size, 4);
  assert.equal(list.nextFreeId(0), 2);
});

Deno.test("vm list: a duplicate id is an error, never a silent success", () => {
  const list = new VmList<string>();
  list.push(1, "a");
  assert.throws(
    () => list.push(1, "b"),
    (e) => e instanceof DuplicateVmIdError && /VM with id 1 already exists/.test(e.message),
  );
  assert.equal(list.get(1), "a");
  assert.equal(list.size, 1);
});
