/**
 * The hart's capabilities, said once: the base ISA and every extension the hart implements.
 * `misa`, the device trees' `riscv,isa`, `riscv,isa-base` and `riscv,isa-extensions`, the boards'
 * default ISA and the docs all derive from this list.
 *
 * @module
 */

/** One extension the hart implements. */
export interface IsaExtension {
  /** Lower-case name as in an ISA string and `riscv,isa-extensions` (e.g. `m`, `zicsr`). */
  readonly name: string;
  /** What it adds, for docs and `--help`. */
  readonly description: string;
}

/** The base integer ISA (`riscv,isa-base`). */
export const ISA_BASE = "rv64i";

/**
 * Every extension the hart implements, in canonical ISA-string order: single letters in the
 * order I M A F D C, then multi-letter extensions (Z* by category, then S*).
 */
export const ISA_EXTENSIONS: readonly IsaExtension[] = [
  { name: "i", description: "base integer instructions" },
  { name: "m", description: "integer multiply and divide" },
  { name: "a", description: "atomics (LR/SC, AMOs)" },
  { name: "f", description: "single-precision floating point" },
  { name: "d", description: "double-precision floating point" },
  { name: "c", description: "compressed instructions" },
  { name: "zicntr", description: "cycle, time and instret counters" },
  { name: "zicond", description: "integer conditional zero (czero.eqz/nez)" },
  { name: "zicsr", description: "CSR instructions" },
  { name: "zifencei", description: "instruction-fetch fence" },
  { name: "zba", description: "address generation (sh1add, add.uw, ...)" },
  { name: "zbb", description: "basic bit manipulation" },
  { name: "zbs", description: "single-bit instructions" },
  { name: "sstc", description: "supervisor timer compare (stimecmp)" },
];

/** Names of the implemented extensions, for `riscv,isa-extensions`. */
export function isaExtensionNames(
  options: { sstc?: boolean } = {},
): string[] {
  return ISA_EXTENSIONS.filter((e) => options.sstc !== false || e.name !== "sstc").map((e) =>
    e.name
  );
}

/**
 * The ISA string (`riscv,isa`), e.g. `rv64imafdc_zicntr_..._sstc`: the base's `rv64`, the
 * single-letter extensions, then the multi-letter ones joined by `_`.
 */
export function isaString(options: { sstc?: boolean } = {}): string {
  const names = isaExtensionNames(options);
  const letters = names.filter((n) => n.length === 1).join("");
  const multi = names.filter((n) => n.length > 1);
  return ["rv64" + letters, ...multi].join("_");
}

/** `misa` low word: one bit per single-letter extension, plus S and U (privilege modes). */
export const MISA_EXTENSION_BITS: number = (() => {
  let bits = 0;
  for (const e of ISA_EXTENSIONS) {
    if (e.name.length === 1) bits |= 1 << (e.name.charCodeAt(0) - 97);
  }
  bits |= 1 << ("s".charCodeAt(0) - 97);
  bits |= 1 << ("u".charCodeAt(0) - 97);
  return bits;
})();
