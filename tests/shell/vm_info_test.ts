import assert from "node:assert/strict";
import { LINEAR_REGEXP } from "../../lib/shell/user_regexp.ts";
import { fixture, spinVmIn, vmConfig } from "./helpers.ts";

Deno.test("vm list: empty, table, json, --state filter", async () => {
  const f = fixture();
  assert.equal(await f.text("vm list"), "No virtual machines found.");
  // Seed lines 3036-3039: the empty check comes before the format.
  assert.equal(await f.text("vm list --format json"), "No virtual machines found.");
  await f.text(
    "vm create /guest/configs/spin.toml /guest/configs/echo.toml /guest/configs/smp.toml",
  );
  await f.text("vm start 1 4");
  f.hv.runFor(1_000_000);
  await f.text("vm suspend 4");
  // Seed lines 3063-3070, 3117-3125: `{:<20}` pads the last column too.
  assert.equal(
    await f.text("vm list"),
    [
      "VM ID  NAME            STATUS       VCPU            MEMORY     VCPU STATE          ",
      "------ --------------- ------------ --------------- ---------- --------------------",
      "1      spin            Running      0               16MB       " +
      f.hv.vm(1)!.vcpuSummary().padEnd(20),
      "2      echo            Loaded       0               16MB       " +
      f.hv.vm(2)!.vcpuSummary().padEnd(20),
      "4      smp             Suspended    0,1             4MB        Blk:2               ",
    ].join("\n"),
  );
  const json = await f.run("vm list -f json");
  assert.equal(
    json.text,
    `{
  "vms": [
    {
      "id": 1,
      "name": "spin",
      "state": "Running",
      "vcpu": 1,
      "memory": "16MB"
    },
    {
      "id": 2,
      "name": "echo",
      "state": "Loaded",
      "vcpu": 1,
      "memory": "16MB"
    },
    {
      "id": 4,
      "name": "smp",
      "state": "Suspended",
      "vcpu": 2,
      "memory": "4MB"
    }
  ]
}`,
  );
  assert.deepEqual(JSON.parse(json.text).vms.map((v: { id: number }) => v.id), [1, 2, 4]);
  assert.match(await f.text("vm list --state running"), /\n1 +spin +Running[^\n]* *$/);
  assert.match(
    await f.text("vm list --state Suspended"),
    /\n4 +smp +Suspended +0,1 +4MB +Blk:2 +$/,
  );
  assert.equal(await f.text("vm list --state stopped"), "No virtual machines found.");
  const bad = await f.run("vm list --format xml");
  assert.equal(bad.error?.code, "INVALID_VALUE");
  assert.match(
    bad.text,
    /^Error: Invalid value 'xml' for option '--format': expected one of table, json\nUsage: vm list \[OPTIONS\]/,
  );
});

Deno.test("vm show: basic details and the hint of every state", async () => {
  const hints: Record<string, string | undefined> = {
    loaded: "  ℹ VM is ready. Use 'vm start 1' to boot.",
    running: undefined,
    suspended: "  ℹ VM is paused. Use 'vm resume 1' to continue.",
    stopping: undefined,
    stopped: "  ℹ VM is stopped. Use 'vm delete 1' to clean up.",
  };
  const icons: Record<string, string> = {
    loaded: "📦 loaded",
    running: "🚀 running",
    suspended: "🛑 suspended",
    stopping: "⏹️ stopping",
    stopped: "💤 stopped",
  };
  const summaries: Record<string, RegExp> = {
    loaded: /^ {2}(Created|Free): 1$/,
    running: /^ {2}(Running|Ready): 1$/,
    suspended: /^ {2}Blocked: 1$/,
    stopping: /^ {2}(Running|Ready): 1$/,
    stopped: /^ {2}Free: 1$/,
  };
  for (const state of Object.keys(hints) as (keyof typeof hints & string)[]) {
    const f = fixture();
    await spinVmIn(f, state as "loaded");
    const hint = hints[state];
    const shown = await f.text("vm show 1");
    const summary = shown.split("\n")[shown.split("\n").indexOf("VCPU Summary:") + 1];
    assert.match(summary, summaries[state], state);
    assert.equal(
      shown,
      [
        "VM Details: 1",
        "",
        "  VM ID:     1",
        "  Name:      spin",
        `  Status:    ${icons[state]}`,
        "  VCPUs:     1",
        "  Memory:    16MB",
        // Why a stopped VM stopped (issue 14, item 20): spinVmIn stops it with --force.
        ...(state === "stopped" ? ["  Stopped:   stopped by user"] : []),
        ...(hint ? ["", hint] : []),
        "",
        "VCPU Summary:",
        summary,
        "",
        "Memory Summary:",
        "  Total Regions: 1",
        "  Total Size:    16MB",
        "",
        "Use 'vm show 1 --full' for detailed information",
      ].join("\n"),
      state,
    );
  }
});

Deno.test("vm show --config, --stats, --full", async () => {
  const f = fixture();
  await spinVmIn(f, "running");
  const both = await f.text("vm show -cs spin");
  const masked = both.replace(/(DTB Address: +)0x[0-9a-f]+/, "$1<dtb>");
  assert.ok(
    masked.endsWith([
      "",
      "Configuration:",
      "  BSP Entry:      0x80200000",
      "  AP Entry:       0x80200000",
      "  Interrupt Mode: NoIrq",
      "  DTB Address:    <dtb>",
      "",
      "Device Summary:",
      "  MMIO Devices:   0",
      "  SysReg Devices: 0",
      "",
      "Use 'vm show 1 --full' for detailed information",
    ].join("\n")),
    masked,
  );
  const full = (await f.text("vm show --full 1")).split("\n");
  assert.deepEqual(full.slice(0, 8), [
    "=== VM Details: 1 ===",
    "",
    "Basic Information:",
    "  VM ID:     1",
    "  Name:      spin",
    "  Status:    🚀 running",
    "  VCPUs:     1",
    "  Memory:    16MB",
  ]);
  assert.match(full[8], /^ {2}EPT Root: {2}0x[0-9a-f]+$/);
  assert.deepEqual(full.slice(9, 15), [
    "",
    "VCPU Details:",
    `  VCPU 0: ${f.hv.vm(1)!.vcpus[0].stateName} (No affinity)`,
    "",
    "Memory Regions: (1 region(s), 16MB total)",
    full[14],
  ]);
  const region = f.hv.vm(1)!.regions[0];
  assert.equal(
    full[14],
    `  Region 0: GPA=0x80000000 HVA=0x${region.hpa.toString(16)} Size=16MB Type=Allocated${
      region.hpa === region.gpa ? " [identical]" : ""
    }`,
  );
  const text = full.join("\n");
  assert.ok(
    text.replace(/(DTB Address: +)0x[0-9a-f]+/, "$1<dtb>").includes([
      "Configuration:",
      "  BSP Entry:      0x80200000",
      "  AP Entry:       0x80200000",
      "  Interrupt Mode: NoIrq",
      "  DTB Address:    <dtb>",
      "  Kernel GPA:     0x80200000",
    ].join("\n")),
    text,
  );
  assert.match(text, /\n {2}VCpu Affinity Details:\n {4}VCpu 0: No specific affinity, PCpu ID 0$/);
  const data = (await f.run("vm show 1")).data as {
    id: number;
    regions: unknown[];
    config: { bspEntry: number };
  };
  assert.equal(data.id, 1);
  assert.equal(data.regions.length, 1);
  assert.equal(data.config.bspEntry, 0x80200000);
});

Deno.test("vm show --full: affinity, passthrough and identical regions", async () => {
  const config = vmConfig(5, "pinned", "spin", {
    cpus: 2,
    base: "phys_cpu_sets = [0x1, 0x2]\nphys_cpu_ids = [0, 1]",
  }).replace(
    "passthrough_devices = []",
    'passthrough_devices = [["uart0", 0x1000_0000, 0x1000_0000, 0x1000, 10]]',
  );
  const f = fixture({ "/guest/configs/pinned.toml": config });
  await f.text("vm create /guest/configs/pinned.toml");
  const text = await f.text("vm show 5 --full");
  assert.match(
    text,
    /\n {2}VCPU 0: (Created|Free) \(Affinity: 0x1\)\n {2}VCPU 1: (Created|Free) \(Affinity: 0x2\)\n/,
  );
  assert.match(
    text,
    /\n {2}Passthrough Devices: \(1 device\(s\)\)\n {4}- uart0: GPA\[0x10000000~0x10001000\] -> HPA\[0x10000000~0x10001000\] \(4KB\)\n/,
  );
  assert.match(
    text,
    /\n {4}VCpu 0: Physical CPU mask 0x1, PCpu ID 0\n {4}VCpu 1: Physical CPU mask 0x2, PCpu ID 1$/,
  );
});

Deno.test("vm stats: exits per reason and per vCPU, instructions, virtual time", async () => {
  const f = fixture();
  await spinVmIn(f, "running");
  const out = await f.run("vm stats 1");
  assert.ok(out.ok);
  const lines = out.text.split("\n");
  assert.equal(lines[0], "VM[1] spin: Running");
  assert.match(lines[1], /^ {2}Virtual time: {9}1ms \(up 1ms\)$/);
  assert.equal(lines[2], "  Boots:                1");
  assert.equal(lines[4], "  COUNTER                THIS BOOT        ALL BOOTS");
  assert.match(lines[6], /^ {2}Instructions retired +[1-9]\d* +[1-9]\d*$/);
  assert.equal(lines[7], "  Console output         5 byte(s)        5 byte(s)");
  assert.equal(lines[8], "  VM exits               5                5");
  assert.equal(lines[11], "  EXIT REASON        ALL BOOTS  THIS BOOT  VCPU 0");
  assert.equal(lines[12], "  Nothing            5          5          5");
  const data = out.data as {
    exits: Record<string, number>;
    instret: number;
    virtualTimeNs: number;
  };
  assert.equal(data.exits.Nothing, 5);
  assert.equal(data.virtualTimeNs, 1_000_000);
  assert.ok(data.instret > 0);
});

Deno.test("vm console, send and log", async () => {
  const f = fixture();
  await f.text("vm create /guest/configs/echo.toml");
  const early = await f.run("vm send 2 hi");
  assert.equal(early.ok, false);
  assert.equal(early.text, "✗ VM[2] is Loaded: its console takes no input");
  await f.text("vm start echo");
  f.hv.runFor(100_000);
  assert.equal(await f.text("vm send echo hello world"), "✓ Sent 12 byte(s) to VM[2] console");
  assert.equal(await f.text("vm send -n echo 'no newline'"), "✓ Sent 10 byte(s) to VM[2] console");
  f.hv.runFor(1_000_000);
  assert.equal(await f.text("vm log 2"), "> hello world\nno newline");
  assert.equal(await f.text("vm log 2 --tail 1"), "no newline");
  assert.equal(await f.text("vm log 2 --tail 5"), "> hello world\nno newline");
  assert.equal(await f.text("vm log 2 --tail 0"), "");
  assert.equal((await f.run("vm log 2 --tail x")).error?.code, "INVALID_VALUE");
  const vm = f.hv.vm(2)!;
  const queued: number[] = [];
  const take = () => {
    queued.length = 0;
    for (let b = vm.console.readInput(); b >= 0; b = vm.console.readInput()) queued.push(b);
    return queued;
  };
  take();
  assert.equal(
    await f.text(String.raw`vm send -e -n 2 'a\tb\x03\xff\\é'`),
    "✓ Sent 8 byte(s) to VM[2] console",
  );
  assert.deepEqual(take(), [0x61, 0x09, 0x62, 0x03, 0xff, 0x5c, 0xc3, 0xa9]);
  assert.equal(await f.text(String.raw`vm send 2 'a\tb'`), "✓ Sent 5 byte(s) to VM[2] console");
  assert.deepEqual(take(), [0x61, 0x5c, 0x74, 0x62, 0x0a], "without -e backslashes are literal");
  const badEscape = await f.run(String.raw`vm send -e 2 'x\q'`);
  assert.equal(
    badEscape.text,
    String.raw`Error: Invalid escape '\q' at position 2: use \n \r \t \0 \\ or \xHH`,
  );
  assert.equal((await f.run(String.raw`vm send -e 2 '\x4'`)).error?.code, "INVALID_VALUE");
  const attach = await f.run("vm console echo");
  assert.equal(attach.text, "Connected to VM[2] (echo) console. Escape character is '^]'.");
  assert.deepEqual(attach.action, { type: "attach", vmId: 2, instance: f.hv.vm(2)!.instance });
  const keyed = await f.run("vm console --escape ^A --line-escape none echo");
  assert.equal(keyed.text, "Connected to VM[2] (echo) console. Escape character is '^A'.");
  assert.deepEqual(keyed.action, {
    type: "attach",
    vmId: 2,
    instance: f.hv.vm(2)!.instance,
    escape: { control: 0x01, line: null },
  });
  const badKey = await f.run("vm console --escape ^1 echo");
  assert.equal(badKey.error?.code, "INVALID_VALUE");
  assert.match(badKey.text, /'--escape': expected \^X/);
  const follow = await f.run("vm log --follow echo");
  assert.deepEqual(follow.action, { type: "follow", vmId: 2, instance: f.hv.vm(2)!.instance });
  assert.equal(follow.text, "> hello world\nno newline");
  assert.equal((await f.run("vm console 8")).text, "✗ VM[8] not found");
});

Deno.test("vm wait: state, console (from the start or new output), timeouts in virtual time", async () => {
  const f = fixture();
  await f.text("vm create /guest/configs/bye.toml /guest/configs/spin.toml");
  await f.text("vm start 3 1");
  const stopped = await f.run("vm wait bye --state stopped --timeout 1s");
  assert.ok(stopped.ok, stopped.text);
  assert.match(stopped.text, /^✓ VM\[3\] reached state Stopped after \d+(ns|us|ms) \(virtual\)$/);
  assert.match(f.fs.readTextFile("/guest/vms/bye/vm.log"), /^\[axvisor\] -----[^\n]*-----\nbye\n$/);
  const seen = await f.run("vm wait 3 --console '^b.e$'");
  assert.ok(seen.ok);
  assert.equal((seen.data as { match: string }).match, "bye");
  const before = f.hv.clock.now();
  const timeout = await f.run("vm wait spin --state stopped --timeout 20ms");
  assert.equal(timeout.ok, false);
  assert.equal(timeout.error?.code, "TIMEOUT");
  assert.equal(
    timeout.text,
    "✗ Timed out after 20ms (virtual) waiting for VM[1] to reach state Stopped; it is Running",
  );
  assert.equal(f.hv.clock.now() - before, 20_000_000, "the timeout is virtual time");
  const fresh = await f.run("vm wait 1 --console boot --new --timeout 10ms");
  assert.equal(fresh.error?.code, "TIMEOUT", "--new ignores output written before");
  assert.ok((await f.run("vm wait 1 --console boot -t 10ms")).ok);
  assert.ok((await f.run("vm wait 1 --state running --console boot")).ok);
  assert.equal((await f.run("vm wait 1")).error?.code, "MISSING_ARGUMENT");
  assert.equal((await f.run("vm wait 1 --state up")).error?.code, "INVALID_VALUE");
  assert.equal((await f.run("vm wait 1 --console '(' ")).error?.code, "INVALID_VALUE");
  // A pattern that would backtrack for hours never stalls the event loop: linear matching, or
  // (without V8's linear engine) a refusal that says why.
  const evil = await f.run("vm wait 1 --console '(.+)+x$' -t 10ms");
  if (LINEAR_REGEXP) assert.equal(evil.error?.code, "TIMEOUT", evil.text);
  else assert.match(evil.text, /Refused regular expression '\(\.\+\)\+x\$': it repeats a group/);
  const backref = await f.run("vm wait 1 --console '(b)\\1' -t 10ms");
  assert.equal(backref.error?.code, "INVALID_VALUE");
  assert.match(backref.text, /Refused regular expression/);
  const badTimeout = await f.run("vm wait 1 --state stopped --timeout soon");
  assert.equal(badTimeout.error?.code, "INVALID_VALUE");
  assert.match(badTimeout.text, /expected a duration such as 10s, 500ms, 250us/);
});

Deno.test("vcpu list, dump and pin", async () => {
  const f = fixture();
  await f.text("vm create /guest/configs/smp.toml /guest/configs/spin.toml");
  await f.text("vm start 1");
  f.hv.runFor(1_000_000);
  const list = (await f.text("vcpu list")).split("\n");
  assert.equal(list[0], "VM    VCPU  STATE     PCPU  AFFINITY  HART  PC                  INSTRET");
  assert.match(
    list[2],
    /^1 {5}0 {5}(Running|Ready) +0 {5}any {7}0 {5}0x00000000802000[0-9a-f]{2} {2}\d+$/,
  );
  assert.match(list[3], /^4 {5}0 {5}(Created|Free) +- {5}any {7}0 /);
  assert.match(list[4], /^4 {5}1 {5}(Created|Free) +- {5}any {7}1 /);
  assert.equal((await f.text("vcpu list smp")).split("\n").length, 4);
  const dump = await f.text("vcpu dump spin 0");
  assert.match(
    dump,
    /^VM\[1\] VCpu\[0\] \(VM\[1\]-VCpu\[0\]\): (Running|Ready), pCPU 0, hart 0\n {2}pc {3}0x00000000802000[0-9a-f]{2} {3}privilege S {3}instret \d+\n/,
  );
  assert.match(dump, /\n {2}x0 {2}zero 0x0000000000000000 {2}x1 {2}ra {3}0x0000000000000000 /);
  assert.match(dump, /\nCSRs:\n {2}sstatus {2}0x[0-9a-f]{16}/);
  assert.match(dump, /\nFP: off \(sstatus\.FS = Off/, "a guest that never used F/D");
  for (const line of dump.split("\n")) {
    assert.ok(line.length <= 90, `${line.length} columns: ${line}`);
  }
  assert.match(dump, /\nCode at pc:\n=> 802000[0-9a-f]{2}: {2}[0-9a-f]{8} {2}\S+/);
  // The spin loop is `addi s1,s1,1` at 0x80200020 and `jal zero,80200020` after it.
  assert.match(
    dump,
    /\n=> 80200020: {2}00148493 {2}addi s1,s1,1\n|\n=> 80200024: {2}ffdff06f {2}jal zero,80200020\n/,
  );
  assert.equal((await f.run("vcpu dump 1 3")).text, "✗ VM[1] has no VCpu 3 (it has 1: 0..0)");
  assert.equal(
    await f.text("vcpu pin 1 0 0x2"),
    "✓ VM[1] VCpu 0 pinned to pCPU mask 0x2\n  Moved from pCPU 0 to pCPU 1",
  );
  f.hv.runFor(1_000_000);
  assert.equal(f.hv.vm(1)!.vcpus[0].pcpu, 1);
  assert.ok(f.hv.pcpus()[1].tasks.includes(f.hv.vm(1)!.vcpus[0]));
  const instret = f.hv.vm(1)!.vcpus[0].instret;
  f.hv.runFor(1_000_000);
  assert.ok(
    f.hv.vm(1)!.vcpus[0].instret > instret,
    "the pinned vCPU keeps running on its new pCPU",
  );
  assert.equal(
    await f.text("vcpu pin 1 0 3"),
    "✓ VM[1] VCpu 0 pinned to pCPU mask 0x3\n  Stays on pCPU 1",
  );
  assert.equal(
    await f.text("vcpu pin smp 1 0x8"),
    "✓ VM[4] VCpu 1 pinned to pCPU mask 0x8\n  Takes effect when the VM starts",
  );
  await f.text("vm start 4");
  assert.equal(f.hv.vm(4)!.vcpus[1].physCpuSet, 8);
  const bad = await f.run("vcpu pin 1 0 0x10");
  assert.equal(
    bad.text,
    "✗ Invalid pCPU mask '0x10': the board has 4 pCPU(s), so the mask must be between 0x1 and 0xf",
  );
  assert.equal((await f.run("vcpu pin 1 0 0")).error?.code, "INVALID_VALUE");
});

Deno.test("config check: errors fail, warnings do not", async () => {
  const f = fixture({
    "/guest/configs/bad.toml": "[base]\nid = 7\n[kernel]\nentry_point = 0x8020_0000\n",
    "/guest/configs/noimage.toml": vmConfig(8, "noimage", "missing"),
    "/guest/configs/cpus.toml": vmConfig(9, "cpus", "spin", { base: "phys_cpu_ids = [5]" }),
  });
  // A missing kernel image is an error (vm create would fail), naming config line and key.
  const noImage = await f.run(
    "config check /guest/configs/spin.toml /guest/configs/noimage.toml",
  );
  assert.equal(noImage.ok, false, noImage.text);
  assert.equal(
    noImage.text,
    [
      "Checking /guest/configs/spin.toml",
      "  ✓ VM[1] 'spin': 1 vCPU(s), 16MB, entry 0x80200000",
      "Checking /guest/configs/noimage.toml",
      "  ✗ error: /guest/configs/noimage.toml:9: kernel.kernel_path: /guest/images/missing.S not found",
      "Checked 2 config file(s): 1 valid, 1 invalid, 0 warning(s)",
    ].join("\n"),
  );
  const bad = await f.run("config check /guest/configs/bad.toml /guest/configs/cpus.toml");
  assert.equal(bad.ok, false);
  assert.equal(bad.error?.code, "ECONFIG");
  assert.match(
    bad.text,
    /^Checking \/guest\/configs\/bad\.toml\n {2}✗ error: \/guest\/configs\/bad\.toml:\d+: kernel/,
  );
  assert.match(
    bad.text,
    /✗ error: \/guest\/configs\/cpus\.toml: base\.phys_cpu_ids\[0\]: CPU id 5 does not exist on board qemu-virt/,
  );
  assert.match(bad.text, /Checked 2 config file\(s\): 0 valid, 2 invalid, 0 warning\(s\)$/);
  assert.equal(f.hv.vms().length, 0, "config check creates nothing");
  await f.text("vm create /guest/configs/spin.toml");
  assert.match(
    await f.text("config check /guest/configs/spin.toml /guest/configs/spin.toml"),
    /VM id 1 is already used by VM\[1\] 'spin'.*\n.*\n.*\n.*VM id 1 is already used by VM\[1\]/s,
  );
});

Deno.test("help for every command; read-only sessions; completion of VM names", async () => {
  const f = fixture();
  await f.text("vm create /guest/configs/spin.toml");
  for (const { path, node } of f.shell.tree.walk()) {
    const help = await f.run(`help ${path.join(" ")}`);
    const flag = await f.run(`${path.join(" ")} --help`);
    assert.ok(help.ok && flag.ok, path.join(" "));
    assert.equal(help.text, flag.text);
    assert.ok(help.text.includes(`Description: ${node.description}`));
    for (const flagDef of node.flags) {
      assert.ok(help.text.includes(`--${flagDef.name}`), `${path} --${flagDef.name}`);
    }
    for (const option of node.options) {
      assert.ok(help.text.includes(`--${option.name}`), `${path} --${option.name}`);
    }
  }
  assert.match(
    (await f.run("vm")).text,
    /^Command: vm\nDescription: Virtual machine management\nUsage: vm <COMMAND> \[OPTIONS\] \[ARGS\]\n\nSubcommands:\n {2}config|^Command: vm\n[\s\S]*\n {2}console {17}Attach to a VM's console\n/,
  );
  const unknown = await f.run("vm frobnicate");
  assert.equal(
    unknown.text,
    "Error: Unknown command 'frobnicate'\nType 'help vm' to see available commands",
  );
  assert.match((await f.run("vm strat 1")).text, /Did you mean 'start' or 'stats'\?/);

  const { ShellSession } = await import("../../lib/shell/session.ts");
  const ro = new ShellSession({ readOnly: true });
  for (
    const line of [
      "vm list",
      "vm show 1",
      "vm log 1",
      "vm stats 1",
      "vcpu list",
      "vcpu dump 1 0",
      "config check /guest/configs/spin.toml",
      "vm wait 1 --state loaded",
      "help vm",
    ]
  ) {
    assert.ok((await f.run(line, ro)).ok, line);
  }
  for (
    const line of [
      "vm start 1",
      "vm stop 1",
      "vm create /guest/configs/echo.toml",
      "vm delete --force 1",
      "vm send 1 x",
      "vcpu pin 1 0 1",
      "vm suspend 1",
      "vm resume 1",
      "vm restart 1",
    ]
  ) {
    const r = await f.run(line, ro);
    assert.equal(r.error?.code, "READ_ONLY", line);
  }
  assert.equal(f.hv.vm(1)?.status, "loaded", "read-only sessions changed nothing");
  const notRunning = await f.run("vm console 1", ro);
  assert.equal(notRunning.error?.code, "INVALID_STATE");
  assert.match(notRunning.text, /VM\[1\] is Loaded, not running: start it first .*--force/);
  assert.deepEqual((await f.run("vm console --force 1", ro)).action, {
    type: "attach",
    vmId: 1,
    readOnly: true,
    instance: f.hv.vm(1)!.instance,
    waiting: true,
  });

  assert.deepEqual(f.shell.complete("vm start ", f.session), ["1", "spin"]);
  assert.deepEqual(f.shell.complete("vm sh", f.session), ["show"]);
  assert.deepEqual(f.shell.complete("vm wait 1 --state s", f.session), [
    "stopped",
    "stopping",
    "suspended",
  ]);
  assert.deepEqual(f.shell.complete("vm create /guest/configs/s", f.session), [
    "/guest/configs/smp.toml",
    "/guest/configs/spin.toml",
  ]);
  assert.deepEqual(f.shell.complete("vcpu ", f.session), ["dump", "list", "pin"]);
});

Deno.test("bootDefaultVms creates (and optionally starts) /guest/vm_default/*.toml", async () => {
  const f = fixture({
    "/guest/vm_default/b.toml": vmConfig(2, "echo", "echo"),
    "/guest/vm_default/a.toml": vmConfig(1, "spin", "spin"),
    "/guest/vm_default/notes.txt": "not a config",
  });
  const out = await f.shell.bootDefaultVms();
  assert.ok(out.ok);
  assert.equal(
    out.text,
    [
      "Creating VM from config: /guest/vm_default/a.toml",
      "✓ Successfully created VM[1] from config: /guest/vm_default/a.toml",
      "Creating VM from config: /guest/vm_default/b.toml",
      "✓ Successfully created VM[2] from config: /guest/vm_default/b.toml",
      "Successfully created 2 VM(s)",
      "Use 'vm start <VM_ID>' to start the created VMs.",
    ].join("\n"),
  );
  const g = fixture({ "/guest/vm_default/a.toml": vmConfig(1, "spin", "spin") });
  const started = await g.shell.bootDefaultVms({ start: true });
  assert.ok(started.ok);
  assert.match(started.text, /✓ VM\[1\] started successfully$/);
  assert.equal(g.hv.vm(1)?.status, "running");
  const empty = fixture();
  assert.equal(
    (await empty.shell.bootDefaultVms()).text,
    "No default VMs: /guest/vm_default does not exist",
  );
});
