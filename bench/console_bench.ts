/**
 * Console output paths under a guest that floods its SBI debug console and its UART
 * (tests/shell/flood_guest.ts): one virtual millisecond of flooding, run through the VMM alone,
 * then with the console logs kept (capped and rotated, 1 MiB x 3 on an in-memory filesystem),
 * and with an escape scan of typed input. Compare the ratios, not the absolute times.
 *
 * @module
 */
import { loadBoard } from "../lib/hw/boards/load.ts";
import { Hypervisor } from "../lib/vmm/hypervisor.ts";
import { MemoryFileSystem } from "../lib/vmm/memory_filesystem.ts";
import { ShellSession } from "../lib/shell/session.ts";
import { Shell } from "../lib/shell/shell.ts";
import { EscapeScanner } from "../lib/protocol/attach_escape.ts";
import { floodConfig, floodGuest } from "../tests/shell/flood_guest.ts";

async function flooding(consoleLog: boolean): Promise<Hypervisor> {
  const fs = new MemoryFileSystem({
    "/guest/images/flood.S": floodGuest(true),
    "/guest/configs/flood.toml": floodConfig(1, "flood", "/guest/images/flood.S"),
  });
  const hv = new Hypervisor({ board: loadBoard("qemu-virt"), fs });
  const shell = new Shell({ hypervisor: hv, fs, consoleLog: consoleLog ? {} : false });
  const session = new ShellSession();
  await shell.execute("vm create /guest/configs/flood.toml", session);
  await shell.execute("vm start 1", session);
  return hv;
}

const plain = await flooding(false);
const logged = await flooding(true);

Deno.bench({
  name: "console flood: 0.2 ms virtual, no console log",
  group: "flood",
  baseline: true,
  fn: () => {
    plain.runFor(200_000);
  },
});

Deno.bench({
  name: "console flood: 0.2 ms virtual, console log (1 MiB x 3)",
  group: "flood",
  fn: () => {
    logged.runFor(200_000);
  },
});

const typed = new Uint8Array(64 * 1024).map((_, i) => (i % 97 === 0 ? 0x0d : 0x61 + (i % 26)));
Deno.bench({
  name: "attach input: escape scan of 64 KiB typed",
  group: "escape",
  fn: () => {
    new EscapeScanner().scan(typed);
  },
});
