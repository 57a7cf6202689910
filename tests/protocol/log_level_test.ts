import assert from "node:assert/strict";
import { AxvisorBackend } from "../../lib/protocol/axvisor_backend.ts";
import { ConsoleServer } from "../../lib/protocol/server.ts";
import { fixture } from "../shell/helpers.ts";
import { drain } from "./fake_backend.ts";

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("log debug / log trace change what a human session sees; log off hides messages", async () => {
  const f = fixture();
  const backend = new AxvisorBackend({ hypervisor: f.hv, shell: f.shell, description: "test" });
  const server = new ConsoleServer({ backend });
  const quiet = server.openSession({ kind: "tcp", peer: "q", banner: false, prompt: false });
  const debug = server.openSession({ kind: "tcp", peer: "d", banner: false, prompt: false });
  const trace = server.openSession({ kind: "tcp", peer: "t", banner: false, prompt: false });
  await debug.receive(enc("log debug\n"));
  await trace.receive(enc("log trace\n"));
  for (const s of [quiet, debug, trace]) drain(s.output);
  await quiet.receive(enc("vm create /guest/configs/spin.toml\nvm start 1\n"));
  f.hv.runFor(1e6);
  server.flushEvents();
  const q = drain(quiet.output), d = drain(debug.output), t = drain(trace.output);
  assert.doesNotMatch(q, /status:/);
  assert.match(d, /\[VM 1\] status: loaded -> running \(start\)/);
  assert.doesNotMatch(d, /vCPU 0 up/);
  assert.match(t, /\[VM 1\] status: loaded -> running/);
  assert.match(t, /\[VM 1\] vCPU 0 up on pCPU 0/);
  for (const s of [quiet, debug, trace]) s.close("done");
  server.dispose();
  f.shell.dispose();
});
