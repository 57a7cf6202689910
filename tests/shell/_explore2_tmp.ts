import { fixture } from "./helpers.ts";
const f = fixture();
for (const c of Deno.args) {
  const o = await f.run(c);
  console.log(`### ${c}  ok=${o.ok}\n${o.text.replace(/ +$/gm, m=>"·".repeat(m.length))}`);
  f.hv.runFor(2_000_000);
}
