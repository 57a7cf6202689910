import { fixture, spinVmIn } from "./helpers.ts";
const states = ["loaded","running","suspended","stopping","stopped","loading"] as const;
const cmds = Deno.args;
for (const st of states) {
  for (const c of cmds) {
    const f = fixture();
    await spinVmIn(f, st);
    const o = await f.run(c);
    console.log(`### [${st}] ${c}  ok=${o.ok}\n${o.text.replace(/ +$/gm, m=>"·".repeat(m.length))}`);
    f.shell.dispose?.();
  }
}
