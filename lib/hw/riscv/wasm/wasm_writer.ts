/**
 * A small WebAssembly binary writer: enough of the format to emit the translated code of a guest
 * (see `wasm_block.ts`) without a dependency. It writes a module with a type section (function
 * signatures, deduplicated), an imported memory, functions with their locals and bodies, and
 * function exports; bodies are built by {@linkcode FunctionBuilder}, which knows the opcodes the
 * translator needs (i32/i64 arithmetic, comparisons, shifts, conversions, loads and stores,
 * structured control flow, locals and calls) and resolves branch labels to relative depths.
 *
 * Everything here is pure byte building: validation and compilation are the engine's
 * (`WebAssembly.validate`, `new WebAssembly.Module`).
 *
 * @module
 */

/** Value types. */
export const ValType = {
  /** 32-bit integer. */
  i32: 0x7f,
  /** 64-bit integer. */
  i64: 0x7e,
  /** 32-bit float. */
  f32: 0x7d,
  /** 64-bit float. */
  f64: 0x7c,
} as const;

/** A value type byte ({@linkcode ValType}). */
export type ValueType = (typeof ValType)[keyof typeof ValType];

/** The block type of a block, loop or if that leaves no value. */
export const BLOCK_VOID = 0x40;

/**
 * The opcodes that take no immediate (or whose immediates {@linkcode FunctionBuilder} writes
 * itself: see its memory and control methods). Names follow the text format, `.` as `_`.
 */
export const Opcode = {
  unreachable: 0x00,
  nop: 0x01,
  return: 0x0f,
  drop: 0x1a,
  select: 0x1b,
  i32_eqz: 0x45,
  i32_eq: 0x46,
  i32_ne: 0x47,
  i32_lt_s: 0x48,
  i32_lt_u: 0x49,
  i32_gt_s: 0x4a,
  i32_gt_u: 0x4b,
  i32_le_s: 0x4c,
  i32_le_u: 0x4d,
  i32_ge_s: 0x4e,
  i32_ge_u: 0x4f,
  i64_eqz: 0x50,
  i64_eq: 0x51,
  i64_ne: 0x52,
  i64_lt_s: 0x53,
  i64_lt_u: 0x54,
  i64_gt_s: 0x55,
  i64_gt_u: 0x56,
  i64_le_s: 0x57,
  i64_le_u: 0x58,
  i64_ge_s: 0x59,
  i64_ge_u: 0x5a,
  i32_clz: 0x67,
  i32_ctz: 0x68,
  i32_popcnt: 0x69,
  i32_add: 0x6a,
  i32_sub: 0x6b,
  i32_mul: 0x6c,
  i32_div_s: 0x6d,
  i32_div_u: 0x6e,
  i32_rem_s: 0x6f,
  i32_rem_u: 0x70,
  i32_and: 0x71,
  i32_or: 0x72,
  i32_xor: 0x73,
  i32_shl: 0x74,
  i32_shr_s: 0x75,
  i32_shr_u: 0x76,
  i32_rotl: 0x77,
  i32_rotr: 0x78,
  i64_clz: 0x79,
  i64_ctz: 0x7a,
  i64_popcnt: 0x7b,
  i64_add: 0x7c,
  i64_sub: 0x7d,
  i64_mul: 0x7e,
  i64_div_s: 0x7f,
  i64_div_u: 0x80,
  i64_rem_s: 0x81,
  i64_rem_u: 0x82,
  i64_and: 0x83,
  i64_or: 0x84,
  i64_xor: 0x85,
  i64_shl: 0x86,
  i64_shr_s: 0x87,
  i64_shr_u: 0x88,
  i64_rotl: 0x89,
  i64_rotr: 0x8a,
  i32_wrap_i64: 0xa7,
  i64_extend_i32_s: 0xac,
  i64_extend_i32_u: 0xad,
  i32_extend8_s: 0xc0,
  i32_extend16_s: 0xc1,
  i64_extend8_s: 0xc2,
  i64_extend16_s: 0xc3,
  i64_extend32_s: 0xc4,
  f64_eq: 0x61,
  f64_ne: 0x62,
  f64_convert_i64_s: 0xb9,
  f64_sub: 0xa1,
  f64_add: 0xa0,
  f64_mul: 0xa2,
  f64_abs: 0x99,
  f64_lt: 0x63,
  f64_convert_i64_u: 0xba,
  f64_min: 0xa4,
  i32_trunc_f64_s: 0xaa,
  i64_trunc_f64_s: 0xb0,
} as const;

/** Memory access opcodes, with their natural alignment (log2 bytes). */
export const MemOp = {
  i32_load: [0x28, 2],
  i64_load: [0x29, 3],
  i32_load8_s: [0x2c, 0],
  i32_load8_u: [0x2d, 0],
  i32_load16_s: [0x2e, 1],
  i32_load16_u: [0x2f, 1],
  i64_load8_s: [0x30, 0],
  i64_load8_u: [0x31, 0],
  i64_load16_s: [0x32, 1],
  i64_load16_u: [0x33, 1],
  i64_load32_s: [0x34, 2],
  i64_load32_u: [0x35, 2],
  i32_store: [0x36, 2],
  i64_store: [0x37, 3],
  i32_store8: [0x3a, 0],
  i32_store16: [0x3b, 1],
  i64_store8: [0x3c, 0],
  i64_store16: [0x3d, 1],
  i64_store32: [0x3e, 2],
  f64_load: [0x2b, 3],
} as const satisfies Record<string, readonly [number, number]>;

/** A memory opcode and its natural alignment ({@linkcode MemOp}). */
export type MemoryOp = (typeof MemOp)[keyof typeof MemOp];

/** Appends the unsigned LEB128 encoding of `value` (an integer in 0..2^53) to `out`. */
export function writeU32(out: number[], value: number): void {
  let v = value;
  for (;;) {
    const byte = v % 128;
    v = Math.floor(v / 128);
    if (v === 0) {
      out.push(byte);
      return;
    }
    out.push(byte | 0x80);
  }
}

/**
 * Appends the signed LEB128 encoding of `value` to `out`: a number (a safe integer) or a bigint
 * (any value of 64 bits or fewer, e.g. an i64 constant outside the safe range).
 */
export function writeSigned(out: number[], value: number | bigint): void {
  if (typeof value === "bigint") {
    let v = value;
    for (;;) {
      const byte = Number(v & 0x7fn);
      v >>= 7n;
      if ((v === 0n && (byte & 0x40) === 0) || (v === -1n && (byte & 0x40) !== 0)) {
        out.push(byte);
        return;
      }
      out.push(byte | 0x80);
    }
  }
  let v = value;
  for (;;) {
    const byte = ((v % 128) + 128) % 128;
    v = Math.floor(v / 128);
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return;
    }
    out.push(byte | 0x80);
  }
}

/** A branch target made by {@linkcode FunctionBuilder.block}, `loop` or `if_`. */
export interface Label {
  /** The label's place on the control stack (0 is the outermost construct). */
  readonly level: number;
}

/**
 * The body of one function: locals and instructions. Parameters are locals 0.. in order; extra
 * locals are declared with {@linkcode FunctionBuilder.local}. Control constructs return a
 * {@linkcode Label} that `br`, `br_if` and `br_table` take, so callers never count depths.
 */
export class FunctionBuilder {
  /** The instruction bytes emitted so far. */
  readonly code: number[] = [];
  /** Types of the declared locals (after the parameters). */
  readonly locals: ValueType[] = [];
  private readonly paramCount: number;
  private depth = 0;

  /** Starts a body for a function with parameters of these types. */
  constructor(params: readonly ValueType[]) {
    this.paramCount = params.length;
  }

  /** Declares a local of `type`; returns its index. */
  local(type: ValueType): number {
    this.locals.push(type);
    return this.paramCount + this.locals.length - 1;
  }

  /** Emits opcodes that take no immediate ({@linkcode Opcode}). */
  op(...opcodes: number[]): this {
    for (const o of opcodes) this.code.push(o);
    return this;
  }

  /** `i32.const value` (a number, wrapped to 32 bits). */
  i32Const(value: number): this {
    this.code.push(0x41);
    writeSigned(this.code, value | 0);
    return this;
  }

  /** `i64.const value`: a safe integer number or a bigint (wrapped to 64 bits). */
  i64Const(value: number | bigint): this {
    this.code.push(0x42);
    writeSigned(this.code, typeof value === "bigint" ? BigInt.asIntN(64, value) : value);
    return this;
  }

  /** `f64.const value`. */
  f64Const(value: number): this {
    this.code.push(0x44);
    const bytes = new Uint8Array(new Float64Array([value]).buffer);
    for (const b of bytes) this.code.push(b);
    return this;
  }

  /** `global.get index`. */
  globalGet(index: number): this {
    this.code.push(0x23);
    writeU32(this.code, index);
    return this;
  }

  /** `local.get index`. */
  get(index: number): this {
    this.code.push(0x20);
    writeU32(this.code, index);
    return this;
  }

  /** `local.set index`. */
  set(index: number): this {
    this.code.push(0x21);
    writeU32(this.code, index);
    return this;
  }

  /** `local.tee index`. */
  tee(index: number): this {
    this.code.push(0x22);
    writeU32(this.code, index);
    return this;
  }

  /** `call function` (by function index: imported functions first, then defined ones). */
  call(functionIndex: number): this {
    this.code.push(0x10);
    writeU32(this.code, functionIndex);
    return this;
  }

  /**
   * `return_call_indirect type 0` (tail calls): returns what the function of table 0 at the
   * index on the stack, of signature `type`, returns for the arguments below the index.
   */
  returnCallIndirect(type: number): this {
    this.code.push(0x13);
    writeU32(this.code, type);
    writeU32(this.code, 0);
    return this;
  }

  /** `return_call function` (tail call by function index). */
  returnCall(functionIndex: number): this {
    this.code.push(0x12);
    writeU32(this.code, functionIndex);
    return this;
  }

  /** A load or store of memory 0 at the address on the stack plus `offset`. */
  mem(op: MemoryOp, offset = 0): this {
    this.code.push(op[0]);
    writeU32(this.code, op[1]);
    writeU32(this.code, offset);
    return this;
  }

  /** `block`: a forward branch to its label goes to its `end`. */
  block(type: number = BLOCK_VOID): Label {
    this.code.push(0x02, type);
    return { level: this.depth++ };
  }

  /** `loop`: a branch to its label goes back to its start. */
  loop(type: number = BLOCK_VOID): Label {
    this.code.push(0x03, type);
    return { level: this.depth++ };
  }

  /** `if` on the i32 on the stack. */
  if_(type: number = BLOCK_VOID): Label {
    this.code.push(0x04, type);
    return { level: this.depth++ };
  }

  /** `else` of the innermost `if`. */
  else_(): this {
    this.code.push(0x05);
    return this;
  }

  /** `end` of the innermost construct (or of the function, when none is open). */
  end(): this {
    this.code.push(0x0b);
    this.depth--;
    return this;
  }

  /** The relative depth of `label` from the innermost open construct. */
  private relative(label: Label): number {
    const d = this.depth - 1 - label.level;
    if (d < 0) throw new Error("wasm_writer: branch to a label that is not open");
    return d;
  }

  /** `br label`. */
  br(label: Label): this {
    this.code.push(0x0c);
    writeU32(this.code, this.relative(label));
    return this;
  }

  /** `br_if label` on the i32 on the stack. */
  brIf(label: Label): this {
    this.code.push(0x0d);
    writeU32(this.code, this.relative(label));
    return this;
  }

  /** `br_table labels... fallback` on the i32 on the stack. */
  brTable(labels: readonly Label[], fallback: Label): this {
    this.code.push(0x0e);
    writeU32(this.code, labels.length);
    for (const l of labels) writeU32(this.code, this.relative(l));
    writeU32(this.code, this.relative(fallback));
    return this;
  }

  /** The encoded body (locals and code, closed with the function's `end`), without its size. */
  encode(): number[] {
    if (this.depth !== 0) throw new Error(`wasm_writer: ${this.depth} constructs left open`);
    const out: number[] = [];
    // Runs of equal types, as the format groups them.
    const groups: [number, ValueType][] = [];
    for (const t of this.locals) {
      const last = groups[groups.length - 1];
      if (last !== undefined && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    writeU32(out, groups.length);
    for (const [n, t] of groups) {
      writeU32(out, n);
      out.push(t);
    }
    for (const b of this.code) out.push(b);
    out.push(0x0b);
    return out;
  }
}

/** Where a module's memory comes from. */
export interface MemoryImport {
  /** Import module name. */
  readonly module: string;
  /** Import field name. */
  readonly name: string;
  /** Minimum size in 64 KiB pages. */
  readonly minPages: number;
  /** Maximum size in 64 KiB pages, if any. */
  readonly maxPages?: number;
  /** A shared memory (needs `maxPages`). */
  readonly shared?: boolean;
}

interface FunctionEntry {
  readonly type: number;
  readonly body: FunctionBuilder;
}

/**
 * A module under construction: signatures, an optional imported memory, functions and exports.
 * {@linkcode ModuleBuilder.encode} gives the binary.
 */
export class ModuleBuilder {
  private readonly types: string[] = [];
  private readonly typeBytes: number[][] = [];
  private readonly functions: FunctionEntry[] = [];
  private readonly exports: [string, number][] = [];
  private memory?: MemoryImport;

  /** The index of the signature `params -> results` (added on first use). */
  type(params: readonly ValueType[], results: readonly ValueType[]): number {
    const key = `${params.join(",")}>${results.join(",")}`;
    const known = this.types.indexOf(key);
    if (known >= 0) return known;
    const bytes = [0x60];
    writeU32(bytes, params.length);
    bytes.push(...params);
    writeU32(bytes, results.length);
    bytes.push(...results);
    this.types.push(key);
    this.typeBytes.push(bytes);
    return this.types.length - 1;
  }

  /** Imports memory 0. */
  importMemory(memory: MemoryImport): this {
    this.memory = memory;
    return this;
  }

  /** Imports an immutable i32 global as `module.name`; returns its global index. */
  importGlobalI32(module: string, name: string): number {
    this.globals.push([module, name]);
    return this.globals.length - 1;
  }

  private readonly globals: [string, string][] = [];
  private table?: [string, string];

  /** Imports table 0, of `funcref`s (for `call_indirect`), as `module.name`. */
  importTable(module: string, name: string): this {
    this.table = [module, name];
    return this;
  }

  /**
   * Adds a function of signature `type` with `body`; returns its function index (for `call`).
   * With `exportName`, also exports it.
   */
  addFunction(type: number, body: FunctionBuilder, exportName?: string): number {
    this.functions.push({ type, body });
    const index = this.functions.length - 1;
    if (exportName !== undefined) this.exports.push([exportName, index]);
    return index;
  }

  /** The index the next {@linkcode ModuleBuilder.addFunction} will return. */
  get nextFunctionIndex(): number {
    return this.functions.length;
  }

  /** The module's binary. */
  encode(): Uint8Array<ArrayBuffer> {
    const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    const section = (id: number, content: number[]) => {
      out.push(id);
      writeU32(out, content.length);
      for (const b of content) out.push(b);
    };
    const name = (into: number[], s: string) => {
      const bytes = new TextEncoder().encode(s);
      writeU32(into, bytes.length);
      for (const b of bytes) into.push(b);
    };
    if (this.typeBytes.length > 0) {
      const c: number[] = [];
      writeU32(c, this.typeBytes.length);
      for (const t of this.typeBytes) c.push(...t);
      section(1, c);
    }
    if (this.memory !== undefined || this.globals.length > 0 || this.table !== undefined) {
      const m = this.memory;
      const c: number[] = [];
      const tables = this.table === undefined ? 0 : 1;
      writeU32(c, (m === undefined ? 0 : 1) + this.globals.length + tables);
      if (this.table !== undefined) {
        name(c, this.table[0]);
        name(c, this.table[1]);
        c.push(0x01, 0x70, 0x00, 0x00); // funcref, at least 0 elements
      }
      if (m !== undefined) {
        name(c, m.module);
        name(c, m.name);
        c.push(0x02, m.maxPages === undefined ? 0x00 : m.shared === true ? 0x03 : 0x01);
        writeU32(c, m.minPages);
        if (m.maxPages !== undefined) writeU32(c, m.maxPages);
      }
      for (const [mod, field] of this.globals) {
        name(c, mod);
        name(c, field);
        c.push(0x03, 0x7f, 0x00);
      }
      section(2, c);
    }
    if (this.functions.length > 0) {
      const c: number[] = [];
      writeU32(c, this.functions.length);
      for (const f of this.functions) writeU32(c, f.type);
      section(3, c);
    }
    if (this.exports.length > 0) {
      const c: number[] = [];
      writeU32(c, this.exports.length);
      for (const [n, index] of this.exports) {
        name(c, n);
        c.push(0x00);
        writeU32(c, index);
      }
      section(7, c);
    }
    if (this.functions.length > 0) {
      const c: number[] = [];
      writeU32(c, this.functions.length);
      for (const f of this.functions) {
        const body = f.body.encode();
        writeU32(c, body.length);
        for (const b of body) c.push(b);
      }
      section(10, c);
    }
    return new Uint8Array(out);
  }
}
