/**
 * Test helper: assembles RISC-V source (RV64IMAC + Zicsr, compressing where it can, as GNU as
 * does with `-march=rv64imac`) with our assembler into a flat image linked at `base`.
 */
import { assemble as assembleSource } from "../../../lib/hw/riscv/assembler.ts";

/** Assembles `source` linked at `base`; returns the flat image. */
export function assemble(source: string, base = 0x8000_0000): Promise<Uint8Array> {
  return Promise.resolve(
    assembleSource(`.option rvc\n${source}`, { origin: base, fileName: "test.S" }).image,
  );
}
