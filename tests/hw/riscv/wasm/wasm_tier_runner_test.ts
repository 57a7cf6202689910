/**
 * The wasm-tier runner of the benchmark (bench/wasm_tier_runner.ts) on the whole compute
 * workload (bench/workloads/integer.S, 4 rounds, assembled by our assembler): it must end with
 * "pass" (the workload checks its own checksum) after as many instructions as the interpreter and
 * JS tier retire.
 */
import assert from "node:assert/strict";
import { WasmTierRunner } from "../../../../bench/wasm_tier_runner.ts";
import { prepareRun, runMachine } from "../../../../lib/hw/bare_runner.ts";
import { assemble } from "../../../../lib/hw/riscv/assembler.ts";

const SOURCE = new URL("../../../../bench/workloads/integer.S", import.meta.url);

Deno.test("wasm tier runner: the integer workload passes its checksum, instruction for instruction", () => {
  const text = Deno.readTextFileSync(SOURCE);
  const program = assemble(text, { origin: 0x8000_0000, fileName: "integer.S" });
  const runner = new WasmTierRunner(0x8000_0000, 1 << 20, program.symbols.get("tohost")!);
  assert.ok(runner.writeBytes(program.origin, program.image));
  const result = runner.run(program.symbols.get("_start")!, 100_000_000);
  assert.equal(result.outcome, "pass", result.detail);
  assert.ok(result.regions > 1 && result.calls > 1);
  const reference = runMachine(
    prepareRun({ image: { name: "integer.S", bytes: new TextEncoder().encode(text) } }),
    { maxInsns: 100_000_000 },
  );
  assert.equal(reference.outcome, "pass");
  // The bare machine stops on the tohost write before it counts that store; the runner counts it.
  assert.equal(result.instret, reference.instret + 1);
});
