/**
 * The shell against the seed, text for text: every expected string here is copied from the
 * seed's Rust code (../shared/seed/guest-management-tools.md, chapter "AxVisor Shell 实现"),
 * with the seed's line numbers cited next to it.
 */

import assert from "node:assert/strict";
import { VCpuState } from "../../lib/vmm/status.ts";
import { fixture, spinVmIn, vmConfig } from "./helpers.ts";

/** Starts vCPU 1 with SBI HSM hart_start at `idle` (a wfi loop), then spins on vCPU 0. */
const BLOCKED_AND_RUNNING_GUEST = `
    .text
    .globl _start
_start:
    li      a7, 0x48534d
    li      a6, 0
    li      a0, 1
    la      a1, idle
    li      a2, 0
    ecall
1:  j       1b
idle:
    wfi
    j       idle
`;

/** A fixture with VM 5 (`mixed`, 2 vCPUs): vCPU 0 running, vCPU 1 blocked in wfi. */
async function mixedStates() {
  const f = fixture({
    "/guest/images/mixed.S": BLOCKED_AND_RUNNING_GUEST,
    "/guest/configs/mixed.toml": vmConfig(5, "mixed", "mixed", { cpus: 2, memory: 0x40_0000 }),
  });
  await f.text("vm create /guest/configs/mixed.toml");
  await f.text("vm start 5");
  f.hv.runFor(5_000_000);
  const states = f.hv.vm(5)!.vcpus.map((v) => v.state);
  assert.deepEqual(states, [VCpuState.Running, VCpuState.Blocked], "guest set-up");
  return f;
}

Deno.test("seed: a VM command without a VM prints the handler's own error and usage", async () => {
  const f = fixture();
  const cases: [string, string[]][] = [
    // Seed lines 1787-1788.
    ["vm create", [
      "Error: No VM configuration file specified",
      "Usage: vm create [CONFIG_FILE]",
    ]],
    // Seed lines 2097-2098.
    ["vm stop", ["Error: No VM specified", "Usage: vm stop [OPTIONS] <VM_ID>"]],
    ["vm stop --force", ["Error: No VM specified", "Usage: vm stop [OPTIONS] <VM_ID>"]],
    // Seed lines 2773-2774.
    ["vm delete", ["Error: No VM specified", "Usage: vm delete [OPTIONS] <VM_ID>"]],
    // Seed lines 3392-3399.
    ["vm show", [
      "Error: No VM specified",
      "Usage: vm show [OPTIONS] <VM_ID>",
      "",
      "Options:",
      "  -f, --full     Show full detailed information",
      "  -c, --config   Show configuration details",
      "  -s, --stats    Show statistics",
    ]],
    // No wrapper in the seed: the same shape with our usage.
    ["vm suspend", ["Error: No VM specified", "Usage: vm suspend <VM_ID...>"]],
    ["vm resume", ["Error: No VM specified", "Usage: vm resume <VM_ID...>"]],
    ["vm restart", ["Error: No VM specified", "Usage: vm restart [OPTIONS] <VM_ID...>"]],
  ];
  for (const [line, expected] of cases) {
    const out = await f.run(line);
    assert.equal(out.text, expected.join("\n"), line);
    assert.equal(out.ok, false, line);
    assert.equal(out.error?.code, "MISSING_ARGUMENT", line);
  }
});

Deno.test("seed: a word that is neither an id nor a VM name is an invalid VM ID", async () => {
  const f = fixture();
  await spinVmIn(f, "loaded");
  // Seed lines 1947, 2104, 2791, 3414: `Error: Invalid VM ID: {}`, and no announcement first.
  for (const verb of ["start", "stop", "suspend", "resume", "restart", "delete", "show"]) {
    const out = await f.run(`vm ${verb} zz`);
    assert.equal(out.text, "Error: Invalid VM ID: zz", verb);
    assert.equal(out.error?.code, "INVALID_ID", verb);
  }
  // A VM's name still works (our extension); an unknown number is `✗ VM[9] not found`.
  assert.match(await f.text("vm show spin"), /^VM Details: 1\n/);
  assert.equal((await f.run("vm show 9")).text, "✗ VM[9] not found"); // seed line 3523
  assert.equal((await f.run("vm show 9 --full")).text, "✗ VM[9] not found"); // seed line 3647
  assert.equal((await f.run("vm delete 9")).text, "✗ VM[9] not found"); // seed line 2751
});

Deno.test("seed: batch forms report each id in the order given", async () => {
  const f = fixture();
  await f.text("vm create /guest/configs/spin.toml /guest/configs/echo.toml");
  // Seed lines 1944-1949: one `start_vm_by_id` per argument, in order.
  const start = await f.run("vm start 9 1 zz 2");
  assert.equal(
    start.text,
    [
      "✗ VM[9] not found",
      "✓ VM[1] started successfully",
      "Error: Invalid VM ID: zz",
      "✓ VM[2] started successfully",
    ].join("\n"),
  );
  assert.equal(start.ok, false);
  f.hv.runFor(1_000_000);
  // Seed lines 2101-2106 and 2109-2159.
  const stop = await f.run("vm stop 2 zz 9 1");
  assert.equal(
    stop.text,
    [
      "Gracefully stopping VM[2]...",
      "✓ VM[2] stop signal sent successfully",
      "  Note: VCpu threads will exit gracefully, VM status will transition to Stopped",
      "Error: Invalid VM ID: zz",
      "✗ VM[9] not found",
      "Gracefully stopping VM[1]...",
      "✓ VM[1] stop signal sent successfully",
      "  Note: VCpu threads will exit gracefully, VM status will transition to Stopped",
    ].join("\n"),
  );
});

Deno.test("seed: a start refused by can_start_vm prints the reason with {:?}", async () => {
  const f = fixture();
  await spinVmIn(f, "running");
  // Seed line 1962 (`✗ VM[{}] failed to start: {:?}` of a &str) and line 1636.
  assert.equal(
    await f.text("vm start 1", false),
    '✗ VM[1] failed to start: "VM is already running"',
  );
});

Deno.test("seed: vm list --format json on no VM says so (the check precedes the format)", async () => {
  const f = fixture();
  // Seed lines 3036-3039.
  assert.equal(await f.text("vm list --format json"), "No virtual machines found.");
  assert.equal(await f.text("vm list"), "No virtual machines found.");
});

Deno.test("seed: vm list pads every cell, the last one too", async () => {
  const f = fixture();
  await spinVmIn(f, "loaded");
  // Seed lines 3063-3070 (`{:<6} {:<15} {:<12} {:<15} {:<10} {:<20}`) and 3117-3125.
  assert.equal(
    await f.text("vm list"),
    [
      "VM ID  NAME            STATUS       VCPU            MEMORY     VCPU STATE          ",
      "------ --------------- ------------ --------------- ---------- --------------------",
      "1      spin            Loaded       0               16MB       Free:1              ",
    ].join("\n"),
  );
});

Deno.test("seed: vCPU state counts follow the BTreeMap order of their names", async () => {
  const f = await mixedStates();
  // Seed lines 3088-3107: BTreeMap<&str, _> over "Run" and "Blk", so "Blk" comes first.
  assert.equal(
    (await f.text("vm list")).split("\n")[2],
    "5      mixed           Running      0,1             4MB        Blk:1,Run:1         ",
  );
  // Seed lines 3469-3488: the same map over the full names in `vm show`.
  const show = await f.text("vm show 5");
  assert.match(show, /\nVCPU Summary:\n {2}Blocked: 1\n {2}Running: 1\n\nMemory Summary:\n/);
  // Seed lines 3571-3588: `vm show --full` lists the vCPUs by id, not by state.
  assert.match(
    await f.text("vm show 5 --full"),
    /\nVCPU Details:\n {2}VCPU 0: Running \(No affinity\)\n {2}VCPU 1: Blocked \(No affinity\)\n/,
  );
  const json = JSON.parse(await f.text("vm list --format json"));
  assert.deepEqual(json.vms[0], { id: 5, name: "mixed", state: "Running", vcpu: 2, memory: "4MB" });
});

Deno.test("seed: vm delete with a leftover reference warns with the Arc count", async () => {
  const f = fixture();
  await spinVmIn(f, "stopped");
  const deleteVm = f.hv.deleteVm.bind(f.hv);
  f.hv.deleteVm = (id, options) => ({
    ...deleteVm(id, options),
    leakedReferences: ["timer: VM[1] tick"],
  });
  // Seed lines 2819-2860: the count includes delete_vm_by_id's own reference.
  assert.equal(
    await f.text("vm delete 1"),
    [
      "Deleting stopped VM[1]...",
      "✓ VM[1] removed from VM list",
      "  Waiting for VCpu threads to exit...",
      "✓ VM[1] deleted completely",
      "  ⚠ Warning: Unexpected Arc count 2, possible leak!",
      "✓ VM[1] deletion completed",
    ].join("\n"),
  );
});

Deno.test("seed: a config that init_guest_vm refuses is a configuration error", async () => {
  const f = fixture({ "/guest/configs/bad.toml": "[base]\nid = 3\n" });
  // Seed lines 1810-1813 and 1829: `Configuration error` (we add what and where).
  const out = await f.run("vm create /guest/configs/bad.toml");
  const lines = out.text.split("\n");
  assert.equal(lines[0], "Creating VM from config: /guest/configs/bad.toml");
  assert.match(
    lines[1],
    /^✗ Failed to create VM from \/guest\/configs\/bad\.toml: Configuration error: /,
  );
  assert.equal(lines[2], "No VMs were created.");
  assert.equal(lines.length, 3);
});

Deno.test("seed: parse errors name the unknown word and the option without dashes", async () => {
  const f = fixture();
  // Seed line 821: `UnknownCommand(tokens[depth])`; reference/axvisor.md's messages.
  assert.match((await f.run("vm frobnicate")).text, /^Error: Unknown command 'frobnicate'\n/);
  assert.match((await f.run("frobnicate")).text, /^Error: Unknown command 'frobnicate'\n/);
  // Seed lines 930-946: the key is stored without its dashes.
  assert.match((await f.run("vm start --bogus 1")).text, /^Error: Unknown option 'bogus'\n/);
  assert.match(
    (await f.run("vm list --format")).text,
    /^Error: Option 'format' is missing a value\n/,
  );
});

Deno.test("seed: vm restart's wait ends in a timeout, an unexpected state or a vanished VM", async () => {
  const start = [
    "Restarting VM[1]...",
    "Stopping VM[1]...",
    "Gracefully stopping VM[1]...",
    "✓ VM[1] stop signal sent successfully",
    "  Note: VCpu threads will exit gracefully, VM status will transition to Stopped",
    "Waiting for VM[1] to stop completely...",
  ];
  // Seed lines 2515-2545, with the wait replaced by what each case needs.
  const cases: [string, (f: Awaited<ReturnType<typeof fixture>>) => boolean, string, string][] = [
    ["timeout", () => false, "⚠ VM[1] stop timeout", "TIMEOUT"],
    [
      "unexpected",
      (f) => {
        f.hv.vm(1)!.status = "running";
        return true;
      },
      "⚠ VM[1] in unexpected state: Running",
      "INVALID_STATE",
    ],
    [
      "vanished",
      (f) => {
        f.hv.deleteVm(1, { force: true });
        return true;
      },
      "✗ VM[1] no longer exists",
      "NOT_FOUND",
    ],
  ];
  for (const [name, wait, last, code] of cases) {
    const f = fixture();
    await spinVmIn(f, "running");
    f.hv.setWaitHook(() => Promise.resolve(wait(f)));
    const out = await f.run("vm restart 1");
    assert.equal(out.text, [...start, last].join("\n"), name);
    assert.equal(out.ok, false, name);
    assert.equal(out.error?.code, code, name);
  }
});
