/**
 * End-to-end harness: runs bin/axvisor.ts as a subprocess on a private copy of the examples
 * (so that parallel tests never share VM data folders) and talks to it over TCP and pipes.
 *
 * @module
 */

export { RawClient } from "../protocol/tcp_client.ts";
import { LINEAR_REGEXP_FLAG } from "../../lib/shell/user_regexp.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = `${ROOT}bin/axvisor.ts`;
/** Longest life of a test's axvisor process. */
const WATCHDOG_MS = 120_000;

/** Makes a temp fs root with the example guests, configs and default VMs. */
export function makeFsRoot(): string {
  const dir = Deno.makeTempDirSync({ prefix: "axvisor-e2e-" });
  for (const sub of ["guests", "configs", "guest/vm_default"]) {
    Deno.mkdirSync(`${dir}/${sub}`, { recursive: true });
    for (const e of Deno.readDirSync(`${ROOT}examples/${sub}`)) {
      if (e.isFile) {
        Deno.copyFileSync(`${ROOT}examples/${sub}/${e.name}`, `${dir}/${sub}/${e.name}`);
      }
    }
  }
  return dir;
}

/** A running axvisor process. */
export class Axvisor {
  /** The child process. */
  readonly child: Deno.ChildProcess;
  /** Its fs root (removed by {@linkcode Axvisor.stop}). */
  readonly fsRoot: string;
  /** The TCP port, when started with --listen. */
  port = 0;
  #stderr = "";
  #stdoutReader: ReadableStreamDefaultReader<Uint8Array>;
  #stderrDone: Promise<void>;
  #stdout = "";
  #decoder = new TextDecoder();
  #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #listenWaiters: (() => void)[] = [];
  #watchdog: ReturnType<typeof setTimeout>;

  private constructor(child: Deno.ChildProcess, fsRoot: string, watchdogMs = WATCHDOG_MS) {
    this.child = child;
    this.fsRoot = fsRoot;
    // A safety net, not a timing: a test that hangs fails (its reads end) instead of blocking
    // the suite forever.
    this.#watchdog = setTimeout(() => {
      this.#stderr += `\n[harness: killed after ${watchdogMs} ms]\n`;
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }, watchdogMs);
    this.#stdin = child.stdin.getWriter();
    this.#stdoutReader = child.stdout.getReader();
    this.#stderrDone = (async () => {
      const dec = new TextDecoder();
      for await (const chunk of child.stderr) {
        this.#stderr += dec.decode(chunk, { stream: true });
        const m = /listening on (?:\[[^\]]+\]|[^:\s]+):(\d+)/.exec(this.#stderr);
        if (m && this.port === 0) {
          this.port = Number(m[1]);
          for (const w of this.#listenWaiters.splice(0)) w();
        }
      }
      for (const w of this.#listenWaiters.splice(0)) w();
    })();
  }

  /**
   * Starts `bin/axvisor.ts` with `args` (plus `--fs-root` unless given). With `--listen`, waits
   * for the bound port. `watchdogMs` (default 120 s) bounds the whole run: a hung test fails.
   */
  static async start(
    args: string[],
    options: { env?: Record<string, string>; fsRoot?: string; watchdogMs?: number } = {},
  ): Promise<Axvisor> {
    const fsRoot = options.fsRoot ?? makeFsRoot();
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", LINEAR_REGEXP_FLAG, "--allow-all", BIN, "--fs-root", fsRoot, ...args],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: options.env,
      cwd: ROOT,
    }).spawn();
    const ax = new Axvisor(child, fsRoot, options.watchdogMs);
    if (args.includes("--listen")) {
      await new Promise<void>((resolve) => ax.#listenWaiters.push(resolve));
      if (ax.port === 0) {
        await ax.#stderrDone;
        throw new Error(`axvisor did not start listening; stderr:\n${ax.#stderr}`);
      }
    }
    return ax;
  }

  /** What the process wrote on stderr so far. */
  get stderr(): string {
    return this.#stderr;
  }

  /** Writes to the process's stdin. */
  async write(text: string | Uint8Array): Promise<void> {
    await this.#stdin.write(typeof text === "string" ? new TextEncoder().encode(text) : text);
  }

  /** Closes the process's stdin (end of input). */
  async closeStdin(): Promise<void> {
    try {
      await this.#stdin.close();
    } catch {
      // already closed
    }
  }

  /** Reads stdout until `pattern` appears; returns the text up to the end of the match. */
  async readStdoutUntil(pattern: string | RegExp): Promise<string> {
    while (true) {
      const m = typeof pattern === "string"
        ? (() => {
          const i = this.#stdout.indexOf(pattern);
          return i < 0 ? -1 : i + pattern.length;
        })()
        : (() => {
          const r = pattern.exec(this.#stdout);
          return r ? r.index + r[0].length : -1;
        })();
      if (m >= 0) {
        const out = this.#stdout.slice(0, m);
        this.#stdout = this.#stdout.slice(m);
        return out;
      }
      const { value, done } = await this.#stdoutReader.read();
      if (done) {
        throw new Error(
          `stdout ended before ${String(pattern)}; got ${
            JSON.stringify(this.#stdout.slice(-400))
          }` +
            `\nstderr: ${this.#stderr}`,
        );
      }
      this.#stdout += this.#decoder.decode(value, { stream: true });
    }
  }

  /** Reads the rest of stdout. */
  async readStdoutToEnd(): Promise<string> {
    while (true) {
      const { value, done } = await this.#stdoutReader.read();
      if (done) break;
      this.#stdout += this.#decoder.decode(value, { stream: true });
    }
    const out = this.#stdout;
    this.#stdout = "";
    return out;
  }

  /** Waits for the process to exit; returns its exit code. Cleans the fs root. */
  async wait(): Promise<number> {
    await this.closeStdin();
    const rest = this.readStdoutToEnd();
    const status = await this.child.status;
    clearTimeout(this.#watchdog);
    await rest;
    await this.#stderrDone;
    try {
      Deno.removeSync(this.fsRoot, { recursive: true });
    } catch {
      // already gone
    }
    return status.code;
  }

  /** Sends SIGTERM and waits for the exit code. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<number> {
    try {
      this.child.kill(signal);
    } catch {
      // already exited
    }
    return await this.wait();
  }
}

/** Runs axvisor to completion (batch mode); returns exit code, stdout and stderr. */
export async function runAxvisor(
  args: string[],
  options: { stdin?: string; env?: Record<string, string>; fsRoot?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const fsRoot = options.fsRoot ?? makeFsRoot();
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", LINEAR_REGEXP_FLAG, "--allow-all", BIN, "--fs-root", fsRoot, ...args],
      stdin: options.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
      env: options.env,
      cwd: ROOT,
    }).spawn();
    if (options.stdin !== undefined) {
      const w = child.stdin.getWriter();
      await w.write(new TextEncoder().encode(options.stdin));
      await w.close();
    }
    const out = await child.output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } finally {
    if (options.fsRoot === undefined) Deno.removeSync(fsRoot, { recursive: true });
  }
}
