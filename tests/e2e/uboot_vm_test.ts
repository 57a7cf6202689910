/**
 * End to end over TCP: `bin/axvisor.ts --listen` as a subprocess boots Debian's U-Boot as a VM.
 * One JSON session drives the hypervisor (`vm create/start/send/wait/stats/stop`); one human
 * session attaches to the guest console with `vm console` and types as a person would. Every
 * read on the attached console is preceded by a `vm wait` in the JSON session that names what
 * must appear (with a virtual-time timeout), so a guest that goes silent fails the test instead
 * of hanging it. The fs root is a temp dir holding the example configs and a copy of
 * u-boot.bin at /images/u-boot.bin, as the example config documents.
 */
import assert from "node:assert/strict";
import { Axvisor, RawClient } from "./harness.ts";
import {
  AUTOBOOT,
  commandOutput,
  exampleConfig,
  NEEDS_UBOOT,
  PROMPT,
  testNeeding,
  UBOOT_BIN,
} from "../vmm/uboot_support.ts";

/** Makes an fs root with the two U-Boot configs and the image where they expect it. */
function makeUbootRoot(): string {
  const dir = Deno.makeTempDirSync({ prefix: "axvisor-uboot-" });
  Deno.mkdirSync(`${dir}/configs`);
  Deno.mkdirSync(`${dir}/images`);
  for (const f of ["uboot.toml", "uboot-smp.toml"]) {
    Deno.writeTextFileSync(`${dir}/configs/${f}`, exampleConfig(f));
  }
  Deno.copyFileSync(UBOOT_BIN, `${dir}/images/u-boot.bin`);
  // A symlink out of the root, as a user might try instead of copying: it must be refused.
  Deno.symlinkSync(UBOOT_BIN, `${dir}/images/linked-u-boot.bin`);
  Deno.writeTextFileSync(
    `${dir}/configs/uboot-linked.toml`,
    exampleConfig("uboot.toml").replace(/^id = 11$/m, "id = 13")
      .replace(/^name = "uboot"$/m, 'name = "uboot-linked"')
      .replace('kernel_path = "/images/u-boot.bin"', 'kernel_path = "/images/linked-u-boot.bin"'),
  );
  return dir;
}

/** A regular expression source matching `text` literally. */
const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The JSON control session: numbered requests, each reply checked. */
class Control {
  #next = 1;
  constructor(readonly client: RawClient) {}

  /** Sends a request; returns its reply and the events that came before it. */
  async call(argv: string[]): Promise<{
    reply: Record<string, unknown>;
    events: Record<string, unknown>[];
  }> {
    const id = this.#next++;
    await this.client.send(JSON.stringify({ id, argv }) + "\n");
    return await this.client.reply(id);
  }

  /** Sends a request that must succeed; returns its data. */
  async ok(argv: string[]): Promise<Record<string, unknown>> {
    const { reply } = await this.call(argv);
    assert.equal(reply.ok, true, `${argv.join(" ")} failed: ${JSON.stringify(reply.error)}`);
    return (reply.data ?? {}) as Record<string, unknown>;
  }

  /** `vm wait VM --console REGEX`: returns the matched text. */
  async console(vm: string, regex: string, timeout = "10s"): Promise<string> {
    const data = await this.ok(["vm", "wait", vm, "--console", regex, "--timeout", timeout]);
    return String(data.match);
  }
}

testNeeding(
  [NEEDS_UBOOT],
  "e2e uboot: a U-Boot VM over TCP, from vm create to vm stop",
  async (t) => {
    const ax = await Axvisor.start(["--listen", "127.0.0.1:0"], { fsRoot: makeUbootRoot() });
    // A last resort against a hang (nothing is timed): killing the server ends every read.
    const watchdog = setTimeout(() => ax.child.kill("SIGKILL"), 600_000);
    const ctlClient = await RawClient.connect(ax.port);
    const tty = await RawClient.connect(ax.port);
    const ctl = new Control(ctlClient);
    /** Types a command on the attached console; returns what U-Boot printed for it. */
    const typed = async (command: string): Promise<string> => {
      await tty.send(`${command}\n`);
      await ctl.console("uboot", `=> ${literal(command)}\\r?\\n[\\s\\S]*?\\n=> `);
      return commandOutput(command, await tty.readUntil(PROMPT));
    };
    try {
      await t.step("an image reached through a symlink out of the fs root is refused", async () => {
        const { reply } = await ctl.call(["vm", "create", "/configs/uboot-linked.toml"]);
        assert.equal(reply.ok, false);
        const message = JSON.stringify(reply.error);
        assert.match(message, /\/images\/linked-u-boot\.bin/);
        assert.match(message, /outside the filesystem root/);
        const list = await ctl.ok(["vm", "list"]);
        assert.deepEqual(list.vms, [], "no VM was created");
      });

      await t.step("vm create + vm start reach the => prompt on the attached console", async () => {
        const created = await ctl.ok(["vm", "create", "/configs/uboot.toml"]);
        assert.deepEqual(created.created, [{
          path: "/configs/uboot.toml",
          vmId: 11,
          name: "uboot",
        }]);
        await tty.readUntil("axvisor:/$ ");
        await tty.send("vm console --force uboot\n");
        await tty.readUntil("Escape character is '^]'.");
        await ctl.ok(["vm", "start", "uboot"]);
        await ctl.console("uboot", AUTOBOOT, "30s");
        const boot = await tty.readUntil(AUTOBOOT);
        assert.match(boot, /\nU-Boot 2\d\d\d\.\d\d/);
        assert.match(boot, /\nDRAM: +256 MiB\r\n/);
        assert.match(boot, /\nIn: +serial@10000000\r\n/);
        await tty.send(" ");
        await ctl.console("uboot", "\\n=> ");
        await tty.readUntil(PROMPT);
      });

      await t.step("version, help and bdinfo typed on the console", async () => {
        assert.match(
          await typed("version"),
          /^U-Boot 2\d\d\d\.\d\d[^\n]*\n\nriscv64-linux-gnu-gcc /,
        );
        const help = await typed("help");
        for (const cmd of ["bdinfo", "printenv", "reset", "version"]) {
          assert.match(help, new RegExp(`^${cmd} +- `, "m"), `help lists ${cmd}`);
        }
        const bdinfo = await typed("bdinfo");
        assert.match(bdinfo, /^-> start += 0x0000000080000000$/m);
        assert.match(bdinfo, /^-> size += 0x0000000010000000$/m, "the config's 256 MiB");
      });

      await t.step("printenv through vm send, seen by both sessions", async () => {
        const sent = await ctl.ok(["vm", "send", "uboot", "printenv"]);
        assert.equal(sent.bytes, 9);
        const match = await ctl.console(
          "uboot",
          "=> printenv\\r?\\n[\\s\\S]*?Environment size: \\d+/\\d+ bytes\\r?\\n=> ",
        );
        assert.match(match, /\nboard=qemu-riscv\r\n/);
        const env = commandOutput("printenv", await tty.readUntil(PROMPT));
        assert.ok(env.split("\n").includes("stdout=serial@10000000"), env);
      });

      await t.step("reset restarts the VM through SBI SRST and it boots again", async () => {
        await tty.send("reset\n");
        const { reply, events } = await ctl.call(
          ["vm", "wait", "uboot", "--console", `resetting[\\s\\S]*${AUTOBOOT}`],
        );
        assert.equal(reply.ok, true, JSON.stringify(reply.error));
        const changes = events.filter((e) => e.event === "status").map((e) =>
          `${e.from}->${e.to}${e.reason ? ` (${e.reason})` : ""}`
        );
        assert.deepEqual(changes, [
          "running->stopping (guest reboot)",
          "stopping->stopped (last vCPU exited)",
          "stopped->running (start)",
        ]);
        const boot = await tty.readUntil(AUTOBOOT);
        assert.match(boot, /resetting \.\.\.\r\n[\s\S]*\nU-Boot 2\d\d\d\.\d\d/);
        await tty.send("\r");
        await ctl.console("uboot", `${AUTOBOOT}[\\s\\S]*${AUTOBOOT}[^\\n]*\\n=> `);
        await tty.readUntil(PROMPT);
        const stats = await ctl.ok(["vm", "stats", "uboot"]);
        assert.equal(stats.boots, 2);
        assert.equal((stats.exits as Record<string, number>).SystemDown, 1, "one SRST exit");
        assert.equal(await typed("printenv bootdelay"), "bootdelay=2", "the new boot answers");
      });

      await t.step("detach, then vm stop stops it", async () => {
        await tty.send("\x1d");
        await tty.readUntil("axvisor:/$ ");
        await ctl.ok(["vm", "stop", "uboot"]);
        const waited = await ctl.ok([
          "vm",
          "wait",
          "uboot",
          "--state",
          "stopped",
          "--timeout",
          "5s",
        ]);
        assert.equal(waited.status, "stopped");
      });

      await t.step(
        "uboot-smp: four vCPUs reach the prompt too (vm send and vm wait only)",
        async () => {
          await ctl.ok(["vm", "create", "/configs/uboot-smp.toml"]);
          await ctl.ok(["vm", "start", "uboot-smp"]);
          await ctl.console("uboot-smp", AUTOBOOT, "30s");
          await ctl.ok(["vm", "send", "-n", "uboot-smp", "x"]);
          await ctl.console("uboot-smp", "\\n=> ");
          await ctl.ok(["vm", "send", "uboot-smp", "cpu", "list"]);
          const list = await ctl.console(
            "uboot-smp",
            "=> cpu list\\r?\\n( +\\d: cpu@\\d +\\S+\\r?\\n){4}=> ",
          );
          assert.match(list, / {2}3: cpu@3 +rv64imafdc/);
          await ctl.ok(["vm", "stop", "uboot-smp"]);
          await ctl.ok(["vm", "wait", "uboot-smp", "--state", "stopped", "--timeout", "5s"]);
          await ctl.ok(["vm", "delete", "uboot-smp"]);
        },
      );
    } finally {
      clearTimeout(watchdog);
      tty.close();
      ctlClient.close();
      const code = await ax.stop();
      assert.equal(code, 0, `axvisor exit code; stderr:\n${ax.stderr}`);
    }
  },
);
