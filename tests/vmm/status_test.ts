import assert from "node:assert/strict";
import {
  canDeleteVm,
  canResumeVm,
  canStartVm,
  canStopVm,
  canSuspendVm,
  summarizeVcpuStates,
  VCpuState,
  VM_STATUSES,
  vmStatusWithIcon,
} from "../../lib/vmm/status.ts";

Deno.test("status: the seed's state matrix with its exact messages", () => {
  const expected: Record<string, (string | undefined)[]> = {
    // loading, loaded, running, suspended, stopping, stopped
    start: [
      "VM is still loading",
      undefined,
      "VM is already running",
      "VM is suspended, use 'vm resume' instead",
      "VM is stopping, wait for it to fully stop",
      undefined,
    ],
    stop: [
      "VM is Loading and was never started, use '--force' to stop it anyway",
      "VM is Loaded and was never started, use '--force' to stop it anyway",
      undefined,
      undefined,
      "VM is already stopping",
      "VM is already stopped",
    ],
    forceStop: [undefined, undefined, undefined, undefined, undefined, "VM is already stopped"],
    suspend: [
      "VM is loading, cannot suspend",
      "VM is not running, cannot suspend",
      undefined,
      "VM is already suspended",
      "VM is stopping, cannot suspend",
      "VM is stopped, cannot suspend",
    ],
    resume: [
      "VM is loading, cannot resume",
      "VM is not started yet, use 'vm start' instead",
      "VM is already running",
      undefined,
      "VM is stopping, cannot resume",
      "VM is stopped, use 'vm start' instead",
    ],
  };
  VM_STATUSES.forEach((s, i) => {
    assert.equal(canStartVm(s), expected.start[i], `start in ${s}`);
    assert.equal(canStopVm(s, false), expected.stop[i], `stop in ${s}`);
    assert.equal(canStopVm(s, true), expected.forceStop[i], `force stop in ${s}`);
    assert.equal(canSuspendVm(s), expected.suspend[i], `suspend in ${s}`);
    assert.equal(canResumeVm(s), expected.resume[i], `resume in ${s}`);
  });
  assert.equal(canDeleteVm("stopped", false), undefined);
  assert.equal(canDeleteVm("running", false), "VM is currently running");
  assert.equal(canDeleteVm("stopping", false), "VM is currently stopping");
  assert.equal(canDeleteVm("loaded", false), "VM is in Loaded state");
  assert.equal(canDeleteVm("running", true), undefined);
});

Deno.test("status: vCPU summaries are ordered by state value and icons match AxVisor", () => {
  const { Running, Blocked, Free } = VCpuState;
  assert.equal(summarizeVcpuStates([Blocked, Running, Running]), "Blk:1,Run:2");
  assert.equal(summarizeVcpuStates([Blocked, Free, Running, Free]), "Blk:1,Free:2,Run:1");
  assert.equal(summarizeVcpuStates([]), "");
  assert.equal(vmStatusWithIcon("running"), "🚀 running");
  assert.equal(vmStatusWithIcon("stopped"), "💤 stopped");
});
