/**
 * A small recursive directory walk for tests (no std library here).
 *
 * @module
 */

/** Every file path under `dir`, depth first. */
export function* walkSync(dir: string): Generator<string> {
  for (const entry of Deno.readDirSync(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* walkSync(path);
    else if (entry.isFile) yield path;
  }
}
