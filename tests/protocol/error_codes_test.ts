import assert from "node:assert/strict";
import { walkSync } from "./walk.ts";
import {
  ERROR_CODES,
  INTERNAL_ERROR_CODES,
  isErrorCode,
  wireErrorCode,
} from "../../lib/protocol/error_codes.ts";
import { ProtocolErrorCode } from "../../lib/protocol/errors.ts";
import { encodeJsonLine } from "../../lib/protocol/json_request.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** The ways lib/ spells an error code (string literals in these positions). */
const CODE_SITES = [
  /\bcode\s*[:=]\s*"([A-Za-z][A-Za-z0-9_]*)"/g, // { code: "X" }, readonly code = "X"
  /\b(?:failure|fail|refuse|#refuse|report\.fail)\(\s*(?:[^,()]*,\s*){0,2}"([A-Z][A-Z0-9_]*)"/g,
  /\bnew \w*Error\(\s*"([A-Z][A-Z0-9_]*)"/g, // new FsError("ENOENT", ...), new ParseError(...)
  /\?\?\s*"([A-Z][A-Z0-9_]*)"/g, // error.code ?? "INTERNAL"
  /^\s*\|\s*"([A-Z][A-Z0-9_]*)"/gm, // union members of a code type
  /^\s*"([A-Z][A-Z0-9_]{3,})",?\s*$/gm, // a code alone on a line (a call's argument)
];

/** Words that these patterns catch but that are not error codes (table headers...). */
const NOT_CODES = new Set(["VCPU", "INSTRET", "EXITS", "PREEMPT", "STATE", "PCPU", "AFFINITY"]);

function codesUsedInLib(): Map<string, string> {
  const found = new Map<string, string>();
  for (const path of walkSync(`${ROOT}lib`)) {
    if (!path.endsWith(".ts") || path.endsWith("error_codes.ts")) continue;
    const text = Deno.readTextFileSync(path);
    for (const re of CODE_SITES) {
      for (const m of text.matchAll(re)) {
        const code = m[1];
        // Single letters are ISA extensions (`| "I"`), not codes.
        if (!/^[A-Z][A-Z0-9_]{2,}$/.test(code) || NOT_CODES.has(code)) continue;
        if (!found.has(code)) found.set(code, path.slice(ROOT.length));
      }
    }
  }
  return found;
}

Deno.test("error codes: one style, one table; every code lib/ uses is in it (or translated)", () => {
  for (const code of Object.keys(ERROR_CODES)) {
    assert.match(code, /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/, `${code} is UPPER_SNAKE`);
    assert.ok(!(code in INTERNAL_ERROR_CODES), `${code} is a wire code, not an internal one`);
  }
  for (const [internal, wire] of Object.entries(INTERNAL_ERROR_CODES)) {
    assert.ok(isErrorCode(wire), `${internal} translates to a listed code`);
  }
  for (const code of Object.values(ProtocolErrorCode)) {
    assert.ok(isErrorCode(code), `ProtocolErrorCode ${code} is listed`);
  }
  const used = codesUsedInLib();
  assert.ok(used.size > 30, `the scan finds the codes (${used.size})`);
  const missing = [...used].filter(([code]) => !isErrorCode(wireErrorCode(code)));
  assert.deepEqual(missing, [], "codes used in lib/ but not in ERROR_CODES");
});

Deno.test("error codes: docs/protocol.md lists every code with its meaning", () => {
  const doc = Deno.readTextFileSync(`${ROOT}docs/protocol.md`);
  for (const [code, meaning] of Object.entries(ERROR_CODES)) {
    const row = new RegExp("^\\|\\s*`" + code + "`\\s*\\|\\s*(.*?)\\s*\\|\\s*$", "m").exec(doc);
    assert.ok(row, `docs/protocol.md has a row for ${code}`);
    assert.equal(row[1], meaning, `the doc's meaning of ${code}`);
  }
});

Deno.test("error codes: internal codes are translated on the wire, also inside data", () => {
  assert.equal(wireErrorCode("ENOENT"), "FILE_NOT_FOUND");
  assert.equal(wireErrorCode("NOT_FOUND"), "NOT_FOUND");
  const line = encodeJsonLine({
    id: 1,
    ok: true,
    data: { results: [{ vm: 3, ok: false, error: { code: "ECREATE", message: "m" } }] },
  });
  assert.match(line, /"error":\{"code":"CREATE_FAILED","message":"m"\}/);
});
