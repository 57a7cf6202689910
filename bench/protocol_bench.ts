/**
 * Benchmarks of the serial-console protocol (`deno task bench`):
 * - command round trip over loopback TCP (target: median under 1 ms), JSON and human;
 * - guest console throughput to a TCP client;
 * - the cost of 100 idle sessions to the emulator (an SMP guest run with and without them).
 */
import { loadBoard } from "../lib/hw/boards/mod.ts";
import { Hypervisor } from "../lib/vmm/mod.ts";
import { Shell } from "../lib/shell/mod.ts";
import {
  AxvisorBackend,
  ConsoleServer,
  HostFileSystem,
  type ProtocolBackend,
  type ProtocolEvent,
  serveTcp,
} from "../lib/protocol/mod.ts";
import { RawClient } from "../tests/protocol/tcp_client.ts";

const EXAMPLES = new URL("../examples/", import.meta.url).pathname;

/** The servers' filesystem roots, removed when the bench process ends. */
const roots: string[] = [];
globalThis.addEventListener("unload", () => {
  for (const r of roots) Deno.removeSync(r, { recursive: true });
});

function makeServer() {
  const fsRoot = Deno.makeTempDirSync({ prefix: "axvisor-bench-" });
  roots.push(fsRoot);
  // The examples with their subdirectories (guests/fp/), by the hypervisor's own bounded copy.
  const host = new HostFileSystem("/");
  for (const sub of ["guests", "configs"]) {
    host.copy(`${EXAMPLES}${sub}`, `${fsRoot}/${sub}`, { recursive: true });
  }
  const fs = new HostFileSystem(fsRoot);
  const hypervisor = new Hypervisor({ board: loadBoard("qemu-virt"), fs, clock: "warp" });
  const shell = new Shell({ hypervisor, fs });
  const backend = new AxvisorBackend({ hypervisor, shell, description: "bench" });
  const server = new ConsoleServer({ backend });
  const tcp = serveTcp(server, { hostname: "127.0.0.1", port: 0 });
  return { hypervisor, shell, server, tcp, fs };
}

// ── command round trip ──────────────────────────────────────────────────────
const rt = makeServer();
rt.hypervisor.createVm({ path: "/configs/hello.toml" });
const jsonClient = await RawClient.connect(rt.tcp.addr.port);
await jsonClient.readUntil("$ ");
await jsonClient.request(0, "uname -s");
const humanClient = await RawClient.connect(rt.tcp.addr.port);
await humanClient.readUntil("$ ");
let nextId = 1;

Deno.bench("round trip: JSON `uname -s` over loopback TCP", { group: "round trip" }, async () => {
  await jsonClient.request(nextId++, "uname -s");
});

Deno.bench("round trip: JSON `vm list` over loopback TCP", { group: "round trip" }, async () => {
  await jsonClient.request(nextId++, ["vm", "list", "--format", "json"]);
});

Deno.bench("round trip: human `uname -s` over loopback TCP", { group: "round trip" }, async () => {
  await humanClient.send("uname -s\n");
  await humanClient.readUntil("$ ");
});

// ── console throughput ──────────────────────────────────────────────────────
/** A backend whose only job is to emit console output on demand. */
class ConsoleSource implements ProtocolBackend {
  #listeners = new Set<(e: ProtocolEvent) => void>();
  now() {
    return 0;
  }
  execute() {
    return Promise.resolve({ ok: true, text: "" });
  }
  complete() {
    return [];
  }
  createShellSession() {
    return {};
  }
  subscribe(l: (e: ProtocolEvent) => void) {
    this.#listeners.add(l);
    return () => this.#listeners.delete(l);
  }
  consoleInput() {
    return true;
  }
  vmLabel() {
    return "VM 1";
  }
  describe() {
    return "bench";
  }
  emit(data: Uint8Array) {
    for (const l of this.#listeners) l({ event: "console", vm: 1, data });
  }
}
const source = new ConsoleSource();
const tpServer = new ConsoleServer({ backend: source });
const tpTcp = serveTcp(tpServer, { hostname: "127.0.0.1", port: 0 });
const reader = await RawClient.connect(tpTcp.addr.port);
await reader.readUntil("> ");
const LINE = new TextEncoder().encode("x".repeat(79) + "\n");
const MIB_LINES = (1 << 20) / LINE.length;

Deno.bench("console throughput: 1 MiB of guest lines to a human TCP client", {
  group: "console",
}, async () => {
  // Emit in 64 KiB bursts and read as we go, as a guest and a reader would.
  let sent = 0;
  for (let burst = 0; burst < 16; burst++) {
    for (let i = 0; i < MIB_LINES / 16; i++) source.emit(LINE);
    sent++;
    tpServer.flushEvents();
    await reader.readUntil(`x\n`);
  }
  source.emit(new TextEncoder().encode(`end ${sent}\n`));
  tpServer.flushEvents();
  await reader.readUntil(`end ${sent}\n`);
});

// ── idle sessions ───────────────────────────────────────────────────────────
function runSmp(h: Hypervisor) {
  const vm = h.vm("smp") ?? h.createVm({ path: "/configs/smp.toml" });
  h.startVm(vm.id);
  h.runUntil(() => vm.status === "stopped", 1e9);
}

async function connectIdle(port: number, events: boolean): Promise<RawClient[]> {
  const clients = await Promise.all(Array.from({ length: 100 }, () => RawClient.connect(port)));
  await Promise.all(clients.map((c) => c.readUntil("$ ")));
  await Promise.all(clients.map(async (c, i) => {
    if (!events) {
      await c.send("events off\n");
      await c.readUntil("$ ");
    } else if (i < 50) {
      await c.request(i, "uname"); // JSON mode, events on
    }
  }));
  return clients;
}

const bare = makeServer();
const muted = makeServer();
const listening = makeServer();
await connectIdle(muted.tcp.addr.port, false);
await connectIdle(listening.tcp.addr.port, true);
const yieldToIo = () => new Promise((r) => setTimeout(r, 0));

Deno.bench("emulator: SMP guest run, no sessions", { group: "idle", baseline: true }, async () => {
  runSmp(bare.hypervisor);
  await yieldToIo();
});

Deno.bench(
  "emulator: SMP guest run, 100 idle sessions, events off",
  { group: "idle" },
  async () => {
    runSmp(muted.hypervisor);
    await yieldToIo();
  },
);

Deno.bench(
  "emulator: SMP guest run, 100 idle sessions receiving its output (50 JSON, 50 human)",
  { group: "idle" },
  async () => {
    runSmp(listening.hypervisor);
    // Let the fan-out reach the sockets, so its cost is counted.
    await yieldToIo();
  },
);
