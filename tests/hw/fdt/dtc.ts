/**
 * The device-tree compiler (`dtc`, Debian's device-tree-compiler) as a test oracle: it decodes
 * the blobs our writer and boards produce, and compiles sources for our reader.
 *
 * @module
 */
import assert from "node:assert/strict";

/** Runs dtc with `args`, feeding `input`; returns stdout and stderr. Fails when dtc does. */
export async function dtc(
  args: string[],
  input: Uint8Array,
): Promise<{ out: Uint8Array; err: string }> {
  const child = new Deno.Command("dtc", { args, stdin: "piped", stdout: "piped", stderr: "piped" })
    .spawn();
  const writer = child.stdin.getWriter();
  await writer.write(input);
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const err = new TextDecoder().decode(stderr);
  assert.equal(code, 0, `dtc ${args.join(" ")} failed: ${err}`);
  return { out: stdout, err };
}

/** Decodes a blob with `dtc -I dtb -O dts`: the source text and dtc's warnings (stderr). */
export async function decodeDtb(dtb: Uint8Array): Promise<{ dts: string; warnings: string }> {
  const { out, err } = await dtc(["-I", "dtb", "-O", "dts", "-"], dtb);
  return { dts: new TextDecoder().decode(out), warnings: err };
}
