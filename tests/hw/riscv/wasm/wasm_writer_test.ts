/**
 * The WebAssembly writer: LEB128 encodings against known bytes, and modules that validate and
 * compute the right results (i64 arithmetic, loops with branches, br_table, memory loads and
 * stores through an imported memory, calls, if/else with a result).
 */
import assert from "node:assert/strict";
import {
  FunctionBuilder,
  MemOp,
  ModuleBuilder,
  Opcode as O,
  ValType,
  writeSigned,
  writeU32,
} from "../../../../lib/hw/riscv/wasm/wasm_writer.ts";

const bytes = (f: (out: number[]) => void): number[] => {
  const out: number[] = [];
  f(out);
  return out;
};

Deno.test("wasm_writer: LEB128 encodings", () => {
  assert.deepEqual(bytes((o) => writeU32(o, 0)), [0]);
  assert.deepEqual(bytes((o) => writeU32(o, 127)), [127]);
  assert.deepEqual(bytes((o) => writeU32(o, 128)), [0x80, 1]);
  assert.deepEqual(bytes((o) => writeU32(o, 624485)), [0xe5, 0x8e, 0x26]);
  assert.deepEqual(bytes((o) => writeSigned(o, -1)), [0x7f]);
  assert.deepEqual(bytes((o) => writeSigned(o, 63)), [0x3f]);
  assert.deepEqual(bytes((o) => writeSigned(o, 64)), [0xc0, 0]);
  assert.deepEqual(bytes((o) => writeSigned(o, -64)), [0x40]);
  assert.deepEqual(bytes((o) => writeSigned(o, -65)), [0xbf, 0x7f]);
  assert.deepEqual(bytes((o) => writeSigned(o, -123456)), [0xc0, 0xbb, 0x78]);
  for (const v of [0, 1, -1, 2 ** 31, -(2 ** 31), 2 ** 40 + 3, -(2 ** 52), 2 ** 53 - 1]) {
    assert.deepEqual(
      bytes((o) => writeSigned(o, v)),
      bytes((o) => writeSigned(o, BigInt(v))),
      `${v}`,
    );
  }
});

/** Instantiates a module of one exported function `f`. */
function single(
  params: (typeof ValType)[keyof typeof ValType][],
  results: (typeof ValType)[keyof typeof ValType][],
  build: (f: FunctionBuilder) => void,
  memory?: WebAssembly.Memory,
  // deno-lint-ignore no-explicit-any
): any {
  const m = new ModuleBuilder();
  if (memory) m.importMemory({ module: "env", name: "mem", minPages: 1 });
  const f = new FunctionBuilder(params);
  build(f);
  m.addFunction(m.type(params, results), f, "f");
  const binary = m.encode();
  assert.ok(WebAssembly.validate(binary), "the module validates");
  return new WebAssembly.Instance(
    new WebAssembly.Module(binary),
    memory ? { env: { mem: memory } } : {},
  )
    .exports.f;
}

Deno.test("wasm_writer: i64 arithmetic and constants", () => {
  const { i64 } = ValType;
  const f = single([i64, i64], [i64], (b) => {
    b.get(0).get(1).op(O.i64_mul).i64Const(-0x8000_0000_0000_0000n).op(O.i64_xor);
    b.i64Const(2 ** 40 + 5).op(O.i64_add);
  });
  const ref = (a: bigint, c: bigint) =>
    BigInt.asIntN(64, ((a * c) ^ -0x8000_0000_0000_0000n) + BigInt(2 ** 40 + 5));
  for (
    const [a, c] of [[3n, 5n], [-1n, 7n], [0x1234_5678_9abcn, 0xfedc_ba98n], [-(2n ** 63n), -1n]]
  ) {
    assert.equal(f(a, c), ref(a, c));
  }
});

Deno.test("wasm_writer: a loop with br_if sums 1..n; if/else with a result", () => {
  const { i32 } = ValType;
  const sum = single([i32], [i32], (b) => {
    const acc = b.local(i32);
    const out = b.block();
    const top = b.loop();
    b.get(0).op(O.i32_eqz).brIf(out);
    b.get(acc).get(0).op(O.i32_add).set(acc);
    b.get(0).i32Const(1).op(O.i32_sub).set(0);
    b.br(top);
    b.end();
    b.end();
    b.get(acc);
  });
  assert.equal(sum(100), 5050);
  assert.equal(sum(0), 0);
  const abs = single([i32], [i32], (b) => {
    b.get(0).i32Const(0).op(O.i32_lt_s);
    b.if_(i32);
    b.i32Const(0).get(0).op(O.i32_sub);
    b.else_();
    b.get(0);
    b.end();
  });
  assert.equal(abs(-7), 7);
  assert.equal(abs(9), 9);
});

Deno.test("wasm_writer: br_table dispatches to nested blocks", () => {
  const { i32 } = ValType;
  const pick = single([i32], [i32], (b) => {
    const out = b.block();
    const c2 = b.block();
    const c1 = b.block();
    const c0 = b.block();
    b.get(0).brTable([c0, c1, c2], out);
    b.end();
    b.i32Const(10).op(O.return);
    b.end();
    b.i32Const(11).op(O.return);
    b.end();
    b.i32Const(12).op(O.return);
    b.end();
    b.i32Const(-1);
  });
  assert.deepEqual([0, 1, 2, 3, 99].map(pick), [10, 11, 12, -1, -1]);
});

Deno.test("wasm_writer: loads and stores through an imported memory; calls", () => {
  const { i32, i64 } = ValType;
  const memory = new WebAssembly.Memory({ initial: 1 });
  const m = new ModuleBuilder().importMemory({ module: "env", name: "mem", minPages: 1 });
  const helper = new FunctionBuilder([i64]);
  helper.get(0).i64Const(1).op(O.i64_shl);
  const twice = m.addFunction(m.type([i64], [i64]), helper);
  const f = new FunctionBuilder([i32]);
  // mem[a + 8] = twice(sign-extended byte at a) ; return 32-bit load at a + 8
  f.get(0).get(0).mem(MemOp.i64_load8_s).call(twice).mem(MemOp.i64_store, 8);
  f.get(0).mem(MemOp.i32_load, 8);
  m.addFunction(m.type([i32], [i32]), f, "f");
  const binary = m.encode();
  assert.ok(WebAssembly.validate(binary));
  const inst = new WebAssembly.Instance(new WebAssembly.Module(binary), { env: { mem: memory } });
  new Uint8Array(memory.buffer)[100] = 0xfd; // -3
  assert.equal((inst.exports.f as (a: number) => number)(100), -6);
  assert.equal(new DataView(memory.buffer).getBigInt64(108, true), -6n);
});

Deno.test("wasm_writer: an unbalanced body or a closed label is refused", () => {
  const f = new FunctionBuilder([]);
  const l = f.block();
  assert.throws(() => f.encode(), /left open/);
  f.end();
  assert.throws(() => f.br(l), /not open/);
});
