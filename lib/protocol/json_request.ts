/**
 * JSON-mode requests and replies.
 *
 * A request is one JSON object on one line: `{"id": 1, "cmd": "vm list"}` or
 * `{"id": "a", "argv": ["vm", "list"]}`. `id` is optional (a string, a number or null) and is
 * echoed in the reply. Unknown keys are rejected before anything runs, as QMP does, so a typo
 * never silently changes a command's meaning.
 *
 * A reply is `{"id", "ok": true, "data", "time_ns"}` or
 * `{"id", "ok": false, "error": {"code", "message"}, "time_ns"}`; `time_ns` is the hypervisor's
 * virtual time in nanoseconds when the reply was made.
 *
 * @module
 */

import { ProtocolError, ProtocolErrorCode } from "./errors.ts";

/** The id of a JSON request, echoed in its reply. */
export type RequestId = string | number | null;

/** A well-formed JSON request: either a command line or an argument vector. */
export type JsonRequest =
  | { id: RequestId; cmd: string; argv?: undefined }
  | { id: RequestId; argv: string[]; cmd?: undefined };

/** The result of parsing one JSON-mode line. */
export type ParsedJsonRequest =
  | { ok: true; request: JsonRequest }
  | { ok: false; id: RequestId; error: ProtocolError };

const ALLOWED_KEYS = new Set(["id", "cmd", "argv", "console.input"]);

/** Most bytes one `console.input` request may carry. */
export const MAX_CONSOLE_INPUT_BYTES = 2048;

/**
 * Turns `{"console.input": {"vm": 1, "data": "<base64>"}}` into the `vm send -e -n` command that
 * types exactly those bytes (every byte as `\xHH`), so that it obeys the same rules as `vm send`
 * (the VM must be running or suspended; read-only sessions may not).
 */
function consoleInputArgv(value: unknown): string[] | string {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return `"console.input" must be an object such as {"vm": 1, "data": "AAMb/w=="}, got ${
      describe(value)
    }`;
  }
  const o = value as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (key !== "vm" && key !== "data") {
      return `unknown key ${JSON.stringify(key)} in "console.input" (allowed: "vm", "data")`;
    }
  }
  const vm = o.vm;
  if (!(typeof vm === "string" && vm !== "") && !(typeof vm === "number" && Number.isInteger(vm))) {
    return `"console.input".vm must be a VM id or name, got ${describe(vm)}`;
  }
  if (typeof o.data !== "string") {
    return `"console.input".data must be a base64 string, got ${describe(o.data)}`;
  }
  let bytes: string;
  try {
    bytes = atob(o.data);
  } catch {
    return `"console.input".data is not valid base64`;
  }
  if (bytes.length === 0) return `"console.input".data is empty`;
  if (bytes.length > MAX_CONSOLE_INPUT_BYTES) {
    return `"console.input".data has ${bytes.length} bytes; at most ${MAX_CONSOLE_INPUT_BYTES} ` +
      `per request`;
  }
  let text = "";
  for (let i = 0; i < bytes.length; i++) {
    text += "\\x" + bytes.charCodeAt(i).toString(16).padStart(2, "0");
  }
  return ["vm", "send", "-e", "-n", String(vm), text];
}

/** Parses one JSON-mode line into a request, or an error that names what is wrong. */
export function parseJsonRequest(line: string): ParsedJsonRequest {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    return fail(
      null,
      ProtocolErrorCode.InvalidJson,
      `invalid JSON: ${(e as Error).message}`,
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return fail(
      null,
      ProtocolErrorCode.InvalidRequest,
      `a request must be a JSON object such as {"id": 1, "cmd": "vm list"}, got ${
        Array.isArray(value) ? "an array" : value === null ? "null" : typeof value
      }`,
    );
  }
  const obj = value as Record<string, unknown>;
  const rawId = obj.id;
  const idOk = rawId === undefined || rawId === null || typeof rawId === "string" ||
    (typeof rawId === "number" && Number.isFinite(rawId));
  const id: RequestId = idOk ? (rawId as RequestId) ?? null : null;
  if (!idOk) {
    return fail(
      null,
      ProtocolErrorCode.InvalidRequest,
      `"id" must be a string, a number or null, got ${describe(rawId)}`,
    );
  }
  for (const key of Object.keys(obj)) {
    if (!ALLOWED_KEYS.has(key)) {
      return fail(
        id,
        ProtocolErrorCode.InvalidRequest,
        `unknown key ${JSON.stringify(key)} in request (allowed: "id", "cmd", "argv", ` +
          `"console.input")`,
      );
    }
  }
  const hasCmd = obj.cmd !== undefined;
  const hasArgv = obj.argv !== undefined;
  const hasInput = obj["console.input"] !== undefined;
  if (Number(hasCmd) + Number(hasArgv) + Number(hasInput) > 1) {
    return fail(
      id,
      ProtocolErrorCode.InvalidRequest,
      `give one of "cmd", "argv" or "console.input", not several`,
    );
  }
  if (hasInput) {
    const argv = consoleInputArgv(obj["console.input"]);
    if (typeof argv === "string") return fail(id, ProtocolErrorCode.InvalidRequest, argv);
    return { ok: true, request: { id, argv } };
  }
  if (hasCmd) {
    if (typeof obj.cmd !== "string") {
      return fail(
        id,
        ProtocolErrorCode.InvalidRequest,
        `"cmd" must be a string, got ${describe(obj.cmd)}`,
      );
    }
    return { ok: true, request: { id, cmd: obj.cmd } };
  }
  if (hasArgv) {
    const argv = obj.argv;
    if (!Array.isArray(argv) || argv.length === 0) {
      return fail(
        id,
        ProtocolErrorCode.InvalidRequest,
        `"argv" must be a non-empty array of strings, got ${describe(argv)}`,
      );
    }
    for (let i = 0; i < argv.length; i++) {
      if (typeof argv[i] !== "string") {
        return fail(
          id,
          ProtocolErrorCode.InvalidRequest,
          `"argv"[${i}] must be a string, got ${describe(argv[i])}`,
        );
      }
    }
    return { ok: true, request: { id, argv: argv as string[] } };
  }
  return fail(
    id,
    ProtocolErrorCode.InvalidRequest,
    `a request needs "cmd", "argv" or "console.input"`,
  );
}

/** A successful reply. */
export interface OkReply {
  /** The request's id. */
  id: RequestId;
  /** Always true. */
  ok: true;
  /** The command's structured result (`null` when it has none). */
  data: unknown;
  /** Virtual time in nanoseconds when the reply was made. */
  time_ns: number;
}

/** A failed reply. */
export interface ErrorReply {
  /** The request's id. */
  id: RequestId;
  /** Always false. */
  ok: false;
  /** What went wrong. */
  error: { code: string; message: string };
  /** Virtual time in nanoseconds when the reply was made. */
  time_ns: number;
}

/** A reply to one JSON request. */
export type JsonReply = OkReply | ErrorReply;

/**
 * Encodes a reply as one JSON line (with its LF). `bigint` values become decimal strings, and
 * nanosecond fields (`time_ns` and any key ending in `_ns` or `Ns`) are whole numbers: the
 * realtime clock can yield fractions such as `2827065006.9999995`, which clients must not see.
 */
export function encodeJsonLine(value: unknown): string {
  return JSON.stringify(value, jsonReplacer) + "\n";
}

/** Keys whose values are nanoseconds (rounded to whole numbers by {@linkcode jsonReplacer}). */
const NANOSECOND_KEY = /(?:_ns|Ns)$/;

/** A `JSON.stringify` replacer that makes bigints, Uint8Arrays, Maps and Sets serialisable. */
export function jsonReplacer(key: string, value: unknown): unknown {
  if (typeof value === "number" && !Number.isInteger(value) && NANOSECOND_KEY.test(key)) {
    return Number.isFinite(value) ? Math.round(value) : value;
  }
  if (typeof value === "bigint") {
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  }
  if (value instanceof Uint8Array) return Array.from(value);
  if (value instanceof Map) return Object.fromEntries(value);
  if (value instanceof Set) return [...value];
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}

function fail(id: RequestId, code: string, message: string): ParsedJsonRequest {
  return { ok: false, id, error: new ProtocolError(code, message) };
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return `the string ${JSON.stringify(v)}`;
  return `${typeof v === "object" ? "an object" : `the ${typeof v} ${String(v)}`}`;
}
