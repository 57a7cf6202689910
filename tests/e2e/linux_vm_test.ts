/**
 * End to end over TCP: `bin/axvisor.ts --listen --clock warp` boots Debian's kernel with the
 * busybox initramfs as a VM (examples/configs/linux.toml). A JSON session drives the hypervisor
 * (`vm create/start/wait/stats`); a human session attaches with `vm console linux` and types
 * into the shell as a person would. Every read on the attached console follows a `vm wait` that
 * names what must appear, so a silent guest fails the test instead of hanging it. `poweroff`
 * ends with the VM Stopped through SBI SRST.
 *
 * Without the images (`deno task images`), the test fails under CI=true and is skipped elsewhere.
 */
import assert from "node:assert/strict";
import { Axvisor, RawClient } from "./harness.ts";
import {
  BANNER,
  exampleConfig,
  LINUX_IMAGE,
  LINUX_INITRAMFS,
  shellOutput,
  testNeedingLinux,
} from "../vmm/linux_support.ts";

/** An fs root with the example config and the images where it expects them. */
function makeLinuxRoot(): string {
  const dir = Deno.makeTempDirSync({ prefix: "axvisor-linux-" });
  Deno.mkdirSync(`${dir}/configs`);
  Deno.mkdirSync(`${dir}/images/linux`, { recursive: true });
  Deno.writeTextFileSync(`${dir}/configs/linux.toml`, exampleConfig("linux.toml"));
  for (const [from, name] of [[LINUX_IMAGE, "Image"], [LINUX_INITRAMFS, "initramfs.cpio.gz"]]) {
    const to = `${dir}/images/linux/${name}`;
    try {
      Deno.linkSync(from, to); // no copy of 30 MB when on the same filesystem
    } catch {
      Deno.copyFileSync(from, to);
    }
  }
  return dir;
}

/** The shell prompt, as the console shows it after a command (busybox asks for the cursor). */
const PROMPT = /\r\n[~/][^\n]* # /;
const PROMPT_SRC = "\\r\\n[~/][^\\n]* # ";
const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

testNeedingLinux("e2e linux: a Linux VM over TCP, typed commands answered, poweroff", async () => {
  // A Linux boot takes minutes of wall time: the harness's watchdog (a last resort against a
  // hang; nothing is timed) gets 30 minutes.
  const ax = await Axvisor.start(["--listen", "127.0.0.1:0", "--clock", "warp"], {
    fsRoot: makeLinuxRoot(),
    watchdogMs: 1_800_000,
  });
  const ctlClient = await RawClient.connect(ax.port);
  const tty = await RawClient.connect(ax.port);
  let next = 1;
  const call = async (argv: string[]) => {
    const id = next++;
    await ctlClient.send(JSON.stringify({ id, argv }) + "\n");
    return await ctlClient.reply(id);
  };
  const ok = async (argv: string[]) => {
    const { reply } = await call(argv);
    assert.equal(reply.ok, true, `${argv.join(" ")} failed: ${JSON.stringify(reply.error)}`);
    return (reply.data ?? {}) as Record<string, unknown>;
  };
  const waitConsole = (regex: string, timeout = "60s") =>
    ok(["vm", "wait", "linux", "--console", regex, "--timeout", timeout]);
  /** Types a command on the attached console; returns what the shell printed for it. */
  const typed = async (command: string): Promise<string> => {
    await tty.send(`${command}\n`);
    await waitConsole(`${literal(command)}\\r?\\n[\\s\\S]*?${PROMPT_SRC}`);
    return shellOutput(command, await tty.readUntil(PROMPT));
  };
  try {
    const created = await ok(["vm", "create", "/configs/linux.toml"]);
    const [entry] = created.created as { path: string; vmId: number; name: string }[];
    assert.deepEqual([entry.path, entry.vmId, entry.name], ["/configs/linux.toml", 21, "linux"]);
    await tty.readUntil("axvisor:/$ ");
    await tty.send("vm console --force linux\n"); // attach before start: --force
    await tty.readUntil("Escape character is '^]'.");
    await ok(["vm", "start", "linux"]);
    await waitConsole(`${literal(BANNER)}[\\s\\S]*?${PROMPT_SRC}`, "400s");
    const boot = await tty.readUntil(BANNER);
    assert.match(boot, /Linux version 6\.\d+/);
    await tty.readUntil(PROMPT);

    assert.match(await typed("uname -a"), /^Linux axvisor 6\.\d+\.\d+\S* .*riscv64 GNU\/Linux$/);
    assert.equal(await typed("echo hello | md5sum"), "b1946ac92492d2347c6235b4d2611184  -");
    assert.equal(await typed("grep -c ^processor /proc/cpuinfo"), "1");
    assert.equal(await typed("cat /sys/devices/system/cpu/online"), "0");

    // vm send types too (no attach needed).
    await ok(["vm", "send", "linux", "echo sent-by-vm-send"]);
    await waitConsole("\\nsent-by-vm-send\\r?\\n");
    await tty.readUntil(PROMPT);

    await tty.send("poweroff\n");
    const { reply, events } = await call([
      "vm",
      "wait",
      "linux",
      "--state",
      "stopped",
      "--timeout",
      "30s",
    ]);
    assert.equal(reply.ok, true, JSON.stringify(reply.error));
    const changes = events.filter((e) => e.event === "status").map((e) =>
      `${e.from}->${e.to}${e.reason ? ` (${e.reason})` : ""}`
    );
    assert.ok(changes.includes("running->stopping (guest shutdown)"), JSON.stringify(changes));
    await tty.readUntil("reboot: Power down");
    const stats = await ok(["vm", "stats", "linux"]);
    assert.equal((stats.exits as Record<string, number>).SystemDown, 1, "one SRST exit");
  } finally {
    ctlClient.close();
    tty.close();
    await ax.stop(); // also removes the fs root
  }
});
