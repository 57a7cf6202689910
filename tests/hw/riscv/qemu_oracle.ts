/**
 * QEMU as an oracle: builds a bare-metal program with GNU binutils and runs it under
 * `qemu-system-riscv64 -M virt -bios none` (one hart, M-mode at 0x8000_0000), collecting what it
 * prints on the UART until it writes the SiFive test finisher. On request QEMU also logs the
 * architectural state before every instruction (`-d cpu,nochain -singlestep`), which the
 * differential test uses to find the first instruction where our hart goes another way.
 *
 * The CPU is QEMU's `rv64` with the extensions our hart has (F, D, Zba, Zbb, Zbs) on and those it
 * lacks (H, V, Zbc) off, so that the same encodings are illegal on both sides. (QEMU 7.2 has no
 * Zicond: the random programs leave it out.)
 *
 * @module
 */

/** The QEMU binary used. */
export const QEMU = "qemu-system-riscv64";
/** The CPU model: RV64GC + Zba/Zbb/Zbs, as our hart. */
export const QEMU_CPU =
  "rv64,priv_spec=v1.12.0,f=true,d=true,h=false,v=false,zba=true,zbb=true,zbc=false,zbs=true";
/** GNU tools (Debian `binutils-riscv64-unknown-elf`). */
const AS = "riscv64-unknown-elf-as";
const LD = "riscv64-unknown-elf-ld";
const OBJCOPY = "riscv64-unknown-elf-objcopy";
const OBJDUMP = "riscv64-unknown-elf-objdump";
const NM = "riscv64-unknown-elf-nm";

/** A program built for both sides. */
export interface BuiltProgram {
  /** The flat image, loaded at `origin`. */
  image: Uint8Array;
  /** Load address (and entry point). */
  origin: number;
  /** `objdump -d` of the program, for failure reports. */
  disassembly: () => Promise<string>;
  /** Addresses of the program's symbols (from `nm`). */
  symbols: Map<string, number>;
}

/** The outcome of one QEMU run. */
export interface QemuRun {
  /** Everything the program printed on the UART. */
  output: string;
  /** Whether the run was cut by the time limit instead of the finisher. */
  timedOut: boolean;
  /** QEMU's exit code (the finisher's 0x5555 exits with 0). */
  code: number;
  /** QEMU's own messages on stderr. */
  stderr: string;
}

/** The architectural state QEMU logged before one instruction. */
export interface QemuState {
  /** Program counter. */
  pc: bigint;
  /** x0..x31. */
  x: bigint[];
  /** CSRs QEMU prints (mstatus, mepc, mcause, mtval, mscratch, satp, ...), by name. */
  csrs: Record<string, bigint>;
}

/** Raised when a tool is missing or fails; names the tool and the Debian package. */
export class OracleError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "OracleError";
  }
}

const decoder = new TextDecoder();

async function tool(cmd: string, args: string[], cwd: string, pkg: string): Promise<string> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" }).output();
  } catch (e) {
    throw new OracleError(`${cmd} could not be started (install the Debian package ${pkg}): ${e}`);
  }
  if (!out.success) {
    throw new OracleError(`${cmd} ${args.join(" ")} failed:\n${decoder.decode(out.stderr)}`);
  }
  return decoder.decode(out.stdout);
}

/** Whether `qemu-system-riscv64` can be started; returns its version line or undefined. */
export async function qemuVersion(): Promise<string | undefined> {
  try {
    const out = await new Deno.Command(QEMU, {
      args: ["--version"],
      stdout: "piped",
      stderr: "null",
    }).output();
    return out.success ? decoder.decode(out.stdout).split("\n")[0] : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Assembles and links `source` at `origin` with GNU binutils in a temporary directory and
 * returns the flat image (`options.march` overrides the ISA, RV64GC with Zba/Zbb/Zbs by default). The temporary
 * directory is removed before returning; the disassembly is produced on demand from a kept copy
 * of the ELF bytes.
 */
export async function buildProgram(
  source: string,
  origin = 0x8000_0000,
  options: { march?: string } = {},
): Promise<BuiltProgram> {
  const march = options.march ?? "rv64imafdc_zicsr_zifencei_zba_zbb_zbs";
  const dir = await Deno.makeTempDir({ prefix: "axvisor-qemu-diff-" });
  const pkg = "binutils-riscv64-unknown-elf";
  try {
    await Deno.writeTextFile(`${dir}/p.S`, source);
    await tool(AS, [`-march=${march}`, "-mno-relax", "-o", "p.o", "p.S"], dir, pkg);
    await tool(LD, [`-Ttext=0x${origin.toString(16)}`, "-o", "p.elf", "p.o"], dir, pkg);
    await tool(OBJCOPY, ["-O", "binary", "p.elf", "p.bin"], dir, pkg);
    const image = await Deno.readFile(`${dir}/p.bin`);
    const elf = await Deno.readFile(`${dir}/p.elf`);
    const symbols = new Map<string, number>();
    for (const line of (await tool(NM, ["p.elf"], dir, pkg)).split("\n")) {
      const [addr, , name] = line.split(" ");
      if (name) symbols.set(name, parseInt(addr, 16));
    }
    return {
      image,
      origin,
      symbols,
      disassembly: async () => {
        const d = await Deno.makeTempDir({ prefix: "axvisor-qemu-diff-" });
        try {
          await Deno.writeFile(`${d}/p.elf`, elf);
          return await tool(OBJDUMP, ["-d", "-M", "no-aliases", "p.elf"], d, pkg);
        } finally {
          await Deno.remove(d, { recursive: true });
        }
      },
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Options of {@linkcode runOnQemu}. */
export interface QemuRunOptions {
  /** Wall-clock limit in seconds (default 20), enforced by coreutils `timeout`. */
  timeoutSeconds?: number;
  /** Log the state before every instruction; see {@linkcode QemuRunWithTrace}. */
  trace?: boolean;
  /** The `-cpu` model (default {@linkcode QEMU_CPU}). */
  cpu?: string;
}

/** A QEMU run with its instruction trace. */
export interface QemuRunWithTrace extends QemuRun {
  /** The states before each instruction from the program's entry on (reset vector dropped). */
  trace: QemuState[];
}

/** Runs `program` under QEMU (one hart, `-bios none`) until the finisher or the time limit. */
export async function runOnQemu(
  program: BuiltProgram,
  options?: { timeoutSeconds?: number; cpu?: string },
): Promise<QemuRun>;
/** Runs `program` under QEMU and logs the state before every instruction. */
export async function runOnQemu(
  program: BuiltProgram,
  options: { timeoutSeconds?: number; cpu?: string; trace: true },
): Promise<QemuRunWithTrace>;
export async function runOnQemu(
  program: BuiltProgram,
  options: QemuRunOptions = {},
): Promise<QemuRun | QemuRunWithTrace> {
  const dir = await Deno.makeTempDir({ prefix: "axvisor-qemu-diff-" });
  try {
    await Deno.writeFile(`${dir}/p.bin`, program.image);
    const seconds = options.timeoutSeconds ?? 20;
    const args = [
      "-k",
      "2",
      String(seconds),
      QEMU,
      "-M",
      "virt",
      "-cpu",
      options.cpu ?? QEMU_CPU,
      "-smp",
      "1",
      // As much RAM as our qemu-virt board (8 GiB, allocated lazily on both sides): an access
      // at a random address is then RAM, or a fault, on both.
      "-m",
      "8G",
      "-bios",
      "none",
      "-display",
      "none",
      "-monitor",
      "none",
      "-serial",
      "stdio",
      "-device",
      `loader,file=p.bin,addr=0x${program.origin.toString(16)}`,
    ];
    if (options.trace) args.push("-d", "cpu,nochain", "-singlestep", "-D", "trace.log");
    let out: Deno.CommandOutput;
    try {
      out = await new Deno.Command("timeout", {
        args,
        cwd: dir,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
    } catch (e) {
      throw new OracleError(`could not start ${QEMU} through coreutils timeout: ${e}`);
    }
    const run: QemuRun = {
      output: decoder.decode(out.stdout),
      timedOut: out.code === 124 || out.code === 137,
      code: out.code,
      stderr: decoder.decode(out.stderr),
    };
    if (out.code === 127 || (!run.timedOut && out.code !== 0 && run.output === "")) {
      throw new OracleError(
        `${QEMU} failed (exit ${out.code}; install the Debian package qemu-system-misc):\n${run.stderr}`,
      );
    }
    if (!options.trace) return run;
    const log = await Deno.readTextFile(`${dir}/trace.log`);
    const states = parseCpuLog(log);
    // drop QEMU's reset vector (0x1000..) before the program's entry
    const entry = states.findIndex((e) => e.pc === BigInt(program.origin));
    const trace = entry < 0 ? [] : states.slice(entry);
    return { ...run, trace };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Parses QEMU's `-d cpu` log of a RISC-V hart: one state per logged instruction, each a block of
 * ` name value` lines (pc, CSRs) and ` xN/abi value` register rows.
 */
export function parseCpuLog(text: string): QemuState[] {
  const states: QemuState[] = [];
  let cur: QemuState | undefined;
  for (const line of text.split("\n")) {
    const t = line.trim();
    if (t === "") continue;
    if (t.startsWith("pc ")) {
      cur = { pc: BigInt("0x" + t.slice(3).trim()), x: new Array(32).fill(0n), csrs: {} };
      states.push(cur);
      continue;
    }
    if (!cur) continue;
    if (t.startsWith("x")) {
      const parts = t.split(/\s+/);
      for (let i = 0; i + 1 < parts.length; i += 2) {
        const m = /^x(\d+)\//.exec(parts[i]);
        if (m) cur.x[Number(m[1])] = BigInt("0x" + parts[i + 1]);
      }
      continue;
    }
    const m = /^([a-z0-9]+)\s+([0-9a-f]+)$/.exec(t);
    if (m) cur.csrs[m[1]] = BigInt("0x" + m[2]);
  }
  return states;
}
