import assert from "node:assert/strict";
import { ConfigError, parseVmConfig } from "../../lib/vmm/config.ts";
import {
  isValidVmName,
  VM_NAME_MAX,
  vmDataPath,
  VmNameError,
  vmNameProblem,
} from "../../lib/vmm/vm_name.ts";
import { safeFolderName } from "../../lib/shell/vm_data.ts";
import { makeHypervisor, patchToml } from "./helpers.ts";

const HELLO = Deno.readTextFileSync(new URL("../../examples/configs/hello.toml", import.meta.url));
const withName = (name: string) => patchToml(HELLO, { name: JSON.stringify(name) });

Deno.test("vm name: letters, digits, '-', '_' and '.' up to 64 characters are valid", () => {
  for (
    const name of ["hello", "vm1", "linux-6.1_rc2", "A.b-C_d", "x".repeat(VM_NAME_MAX), ".hidden"]
  ) {
    assert.equal(vmNameProblem(name), undefined, name);
    assert.ok(isValidVmName(name));
    // The shell's data folder of a valid name is the name itself: both layers agree.
    assert.equal(safeFolderName(name), name);
    assert.equal(vmDataPath(name, "vm.log"), `/guest/vms/${name}/vm.log`);
  }
  assert.equal(vmDataPath("hello"), "/guest/vms/hello");
});

Deno.test("vm name: path separators, dot names, empty, too long and other characters are refused", () => {
  const cases: [string, RegExp][] = [
    ["../../x", /contains "\/"/],
    ["a/b", /contains "\/"/],
    ["a\\b", /contains "\\\\"/],
    [".", /not allowed/],
    ["..", /not allowed/],
    ["", /cannot be empty/],
    ["x".repeat(VM_NAME_MAX + 1), /65 characters long \(at most 64\)/],
    ["has space", /contains " "/],
    ["tab\there", /contains "\\t"/],
    ["café", /contains "é"/],
  ];
  for (const [name, re] of cases) {
    const problem = vmNameProblem(name);
    assert.ok(problem, `${JSON.stringify(name)} should be refused`);
    assert.match(problem, re);
    assert.equal(isValidVmName(name), false);
  }
});

Deno.test("vm name: parseVmConfig names the file, line and key base.name", () => {
  for (const name of ["../../x", "a/b", "..", ""]) {
    assert.throws(
      () => parseVmConfig(withName(name), "/configs/evil.toml"),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.equal(e.file, "/configs/evil.toml");
        assert.equal(e.key, "base.name");
        assert.equal(e.line, 4);
        assert.match(e.message, /^\/configs\/evil\.toml:4: base\.name: /);
        return true;
      },
    );
  }
  // The default name vm<id> is valid.
  const noName = HELLO.replace(/^name = .*$/m, "");
  assert.equal(parseVmConfig(noName, "x.toml").base.name, "vm1");
});

Deno.test("vm name: create refuses a config built in code with an unsafe name, holding nothing", () => {
  const { hv } = makeHypervisor();
  const config = parseVmConfig(HELLO, "/configs/hello.toml");
  config.base.name = "../../etc";
  assert.throws(
    () => hv.createVmFromConfig(config),
    (e: unknown) =>
      e instanceof ConfigError && e.key === "base.name" && e.line === 4 &&
      /hello\.toml:4: base\.name: VM name "\.\.\/\.\.\/etc" contains "\/"/.test(e.message),
  );
  assert.equal(hv.vms().length, 0);
  assert.deepEqual(hv.references(1), []);
  assert.deepEqual(hv.hostAllocations(), []);
});

Deno.test("vm name: vmDataPath refuses names and file names that would leave the folder", () => {
  for (const name of ["../x", "a/b", "..", "."]) {
    assert.throws(() => vmDataPath(name, "vm.log"), VmNameError);
  }
  for (const file of ["../config.toml", "a/b", "..", "."]) {
    assert.throws(
      () => vmDataPath("hello", file),
      (e: unknown) => e instanceof VmNameError && /not a plain file name/.test(e.message),
    );
  }
});

Deno.test("vm name: delete removes the data files of its own folder only", () => {
  const { hv, fs } = makeHypervisor({
    "/guest/vms/hello/vm.log": "log",
    "/guest/vms/hello/config.toml": "cfg",
    "/guest/vms/hello/notes.txt": "kept: not a data file",
    "/guest/vms/other/vm.log": "another VM's log",
    "/guest/vm.log": "outside the data folders",
  });
  const vm = hv.createVm({ path: "/configs/hello.toml" });
  assert.ok(hv.stopVm(vm.id, { force: true }).ok);
  const r = hv.deleteVm(vm.id);
  assert.ok(r.ok, r.error?.message);
  assert.deepEqual(r.removedFiles.sort(), [
    "/guest/vms/hello/config.toml",
    "/guest/vms/hello/vm.log",
  ]);
  assert.equal(fs.stat("/guest/vms/hello/notes.txt")?.kind, "file");
  assert.equal(fs.stat("/guest/vms/other/vm.log")?.kind, "file");
  assert.equal(fs.stat("/guest/vm.log")?.kind, "file");
});

Deno.test("vm name: all-digit names are refused (they read as ids); duplicates are refused", () => {
  assert.match(vmNameProblem("8") ?? "", /all digits: it would read as a VM id/);
  assert.equal(vmNameProblem("8a"), undefined);
  assert.throws(() => parseVmConfig(withName("8"), "/c/eight.toml"), /all digits/);
  const { hv } = makeHypervisor();
  const a = hv.createVm({ text: HELLO, origin: "/c/a.toml" });
  assert.throws(
    () => hv.createVm({ text: patchToml(HELLO, { id: "2" }), origin: "/c/b.toml" }),
    /\/c\/b\.toml:4: base\.name: VM name "hello" is already used by VM\[1\]/,
  );
  assert.equal(hv.vms().length, 1);
  // Once the first is deleted, the name is free again.
  assert.ok(hv.deleteVm(a.id, { force: true }).ok);
  hv.createVm({ text: patchToml(HELLO, { id: "2" }), origin: "/c/b.toml" });
});
