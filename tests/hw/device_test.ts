import assert from "node:assert/strict";
import { mergeRegisterPart, readRegisterPart } from "../../lib/hw/device.ts";

Deno.test("device: narrow reads take the addressed bytes of a 32-bit register, unsigned", () => {
  const word = 0x89ab_cdef | 0; // negative as an int32: results must still be unsigned
  assert.equal(readRegisterPart(word, 0x10, 4), 0x89ab_cdef);
  assert.equal(readRegisterPart(word, 0x10, 2), 0xcdef);
  assert.equal(readRegisterPart(word, 0x12, 2), 0x89ab);
  assert.deepEqual(
    [0, 1, 2, 3].map((i) => readRegisterPart(word, 0x10 + i, 1)),
    [0xef, 0xcd, 0xab, 0x89],
  );
});

Deno.test("device: narrow writes replace only the addressed bytes of a 32-bit register", () => {
  const word = 0x1122_3344;
  assert.equal(mergeRegisterPart(word, 0x8, 4, -1), 0xffff_ffff);
  assert.equal(mergeRegisterPart(word, 0x8, 2, 0xabcd_ef01), 0x1122_ef01);
  assert.equal(mergeRegisterPart(word, 0xa, 2, 0xbeef), 0xbeef_3344);
  assert.equal(mergeRegisterPart(word, 0x9, 1, 0x1ff), 0x1122_ff44);
  assert.equal(mergeRegisterPart(word, 0xb, 1, 0x80), 0x8022_3344);
  assert.equal(mergeRegisterPart(0xffff_ffff, 0xb, 1, 0), 0x00ff_ffff);
});
