/**
 * Resolving a board by name or file.
 *
 * @module
 */

import { BUILTIN_BOARD_TEXTS } from "./builtin.ts";
import { BoardError, type BoardSpec, parseBoard } from "./spec.ts";

/**
 * The board called `nameOrPath`: a built-in board by name (no file needed), else the TOML file
 * at that path, read with `readText` (injected, so that this stays pure; pass e.g.
 * `Deno.readTextFileSync`).
 *
 * @throws {BoardError} for an unknown name, an unreadable file or an invalid board
 */
export function loadBoard(nameOrPath: string, readText?: (path: string) => string): BoardSpec {
  const builtin = BUILTIN_BOARD_TEXTS[nameOrPath];
  if (builtin !== undefined) return parseBoard(builtin, `builtin:${nameOrPath}`);
  const known = Object.keys(BUILTIN_BOARD_TEXTS).join(", ");
  const looksLikePath = /[/\\]|\.toml$/i.test(nameOrPath);
  if (!readText) {
    throw new BoardError(
      nameOrPath,
      0,
      "",
      looksLikePath
        ? "board files cannot be read here (no file reader given)"
        : `unknown board (built-in boards: ${known})`,
    );
  }
  let text: string;
  try {
    text = readText(nameOrPath);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new BoardError(
      nameOrPath,
      0,
      "",
      looksLikePath
        ? `cannot read board file: ${why}`
        : `not a built-in board (${known}) nor a readable file: ${why}`,
    );
  }
  return parseBoard(text, nameOrPath);
}
