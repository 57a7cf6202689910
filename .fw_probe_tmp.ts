import { loadBoard, Machine } from "./lib/hw/boards/mod.ts";
import { loadElf, parseElf } from "./lib/hw/riscv/elf.ts";
const FW = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf";
const machine = new Machine(loadBoard("qemu-virt"));
const elf = parseElf(Deno.readFileSync(FW), FW);
loadElf(elf, machine.bus, FW);
machine.boot(elf.entry);
let text = "";
const dec = new TextDecoder();
machine.onConsoleOutput((b) => (text += dec.decode(b, { stream: true })));
const t0 = performance.now();
let total = 0;
for (let i = 0; i < 80; i++) {
  const stop = machine.run(1_000_000);
  total += stop.instructions;
  if (stop.reason !== "budget") { console.log("stop", stop); break; }
  if (text.includes("Boot HART MEDELEG")) break;
}
console.log(`${total} instrs in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
console.log(text.slice(-1500));
const h = (machine as unknown as { harts: { pc: number; priv: number; waiting: boolean; readCsr(n: number): bigint }[] }).harts;
for (const x of h) console.log(x.pc.toString(16), x.priv, x.waiting, x.readCsr(0x342), x.readCsr(0x341).toString(16));
