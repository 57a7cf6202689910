import assert from "node:assert/strict";
import { AxvisorBackend } from "../../lib/protocol/axvisor_backend.ts";
import { ConsoleServer } from "../../lib/protocol/server.ts";
import { fixture } from "../shell/helpers.ts";
import { drain } from "./fake_backend.ts";

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("console attach is bound to the VM instance: delete + re-create detaches, input never reaches the new VM", async () => {
  const f = fixture();
  const backend = new AxvisorBackend({ hypervisor: f.hv, shell: f.shell, description: "test" });
  const server = new ConsoleServer({ backend });
  const a = server.openSession({ kind: "tcp", peer: "a", banner: false });
  const b = server.openSession({ kind: "tcp", peer: "b", banner: false });
  drain(a.output);
  await b.receive(enc("vm create /guest/configs/spin.toml\nvm start 1\n"));
  await a.receive(enc("vm console 1\n"));
  assert.equal(a.attachedVm, 1);
  const first = f.hv.vm(1)!;
  await a.receive(enc("one\n"));
  assert.equal(first.console.inputPending, 4);
  await b.receive(enc("vm delete --force 1\nvm create /guest/configs/spin.toml\n"));
  assert.match(drain(b.output), /deleted[^]*Created VM\[1\]|Successfully created/);
  const second = f.hv.vm(1)!;
  assert.notEqual(second, first);
  assert.notEqual(second.instance, first.instance);
  assert.equal(a.attachedVm, undefined, "A was detached when the VM was deleted");
  assert.match(drain(a.output), /detached from VM 1: the VM was deleted/);
  // Input bound to the old instance is refused even if a stale attach survived.
  assert.equal(backend.consoleInput(1, enc("x"), first.instance), false);
  assert.equal(backend.consoleInput(1, enc("x"), second.instance), true);
  a.close("done");
  b.close("done");
  server.dispose();
  f.shell.dispose();
});
