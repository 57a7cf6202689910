/**
 * Replays the `transcript` examples of docs/protocol.md against a real bin/axvisor.ts over TCP,
 * so that the documentation cannot drift from the program.
 */
import assert from "node:assert/strict";
import { Axvisor, RawClient } from "./harness.ts";

const PROMPT = "axvisor:/$ ";
const DOC = new URL("../../docs/protocol.md", import.meta.url);

interface Step {
  send: string;
  expect: string[];
}

function transcripts(markdown: string): Step[][] {
  const blocks: Step[][] = [];
  const re = /```transcript\n([^]*?)```/g;
  for (const m of markdown.matchAll(re)) {
    const steps: Step[] = [];
    for (const line of m[1].split("\n")) {
      if (line.startsWith("> ")) steps.push({ send: line.slice(2), expect: [] });
      else if (line.startsWith("< ")) steps.at(-1)!.expect.push(line.slice(2));
      else if (line.trim() !== "") throw new Error(`bad transcript line in protocol.md: ${line}`);
    }
    blocks.push(steps);
  }
  return blocks;
}

/** True when `want` is contained in `got`: objects by key, arrays element-wise (same length). */
function subset(want: unknown, got: unknown): boolean {
  if (Array.isArray(want)) {
    return Array.isArray(got) && want.length === got.length &&
      want.every((w, i) => subset(w, got[i]));
  }
  if (typeof want === "object" && want !== null) {
    if (typeof got !== "object" || got === null) return false;
    return Object.entries(want).every(([k, v]) => subset(v, (got as Record<string, unknown>)[k]));
  }
  return want === got;
}

const squash = (s: string) => s.replace(/\s+/g, " ").trim();

Deno.test("docs/protocol.md transcripts replay against the real program", async () => {
  const blocks = transcripts(Deno.readTextFileSync(DOC));
  assert.ok(blocks.length >= 3, "the doc has transcripts");
  const ax = await Axvisor.start(["--listen", "127.0.0.1:0", "--clock", "warp"]);
  try {
    for (const [b, steps] of blocks.entries()) {
      const c = await RawClient.connect(ax.port);
      await c.readUntil(PROMPT);
      const json = steps[0].send.startsWith("{");
      const pendingEvents: Record<string, unknown>[] = [];
      const seenEvents: Record<string, unknown>[] = [];
      for (const step of steps) {
        await c.send(step.send + "\n");
        if (!json) {
          const out = squash(await c.readUntil(PROMPT));
          let at = 0;
          for (const want of step.expect) {
            const i = out.indexOf(squash(want), at);
            assert.ok(i >= 0, `block ${b + 1}: '${want}' not in output of '${step.send}': ${out}`);
            at = i;
          }
          continue;
        }
        const wants = step.expect.map((l) => JSON.parse(l) as Record<string, unknown>);
        pendingEvents.push(...wants.filter((w) => "event" in w));
        const wantReply = wants.find((w) => !("event" in w));
        let reply: Record<string, unknown> | undefined;
        while (!reply) {
          const line = await c.readLine();
          assert.ok(line !== null, `block ${b + 1}: connection closed`);
          if (!line.startsWith("{")) continue;
          const obj = JSON.parse(line);
          assert.equal(typeof obj.time_ns, "number", `no time_ns in ${line}`);
          if ("event" in obj) seenEvents.push(obj);
          else reply = obj;
        }
        if (wantReply) {
          assert.ok(
            subset(wantReply, reply),
            `block ${b + 1}: reply to ${step.send}\n  got  ${JSON.stringify(reply)}\n  want ${
              JSON.stringify(wantReply)
            }`,
          );
        }
      }
      for (const want of pendingEvents) {
        if (want.event === "console") {
          // Console writes are coalesced as timing allows: compare the VM's whole stream.
          const text = seenEvents.filter((e) => e.event === "console" && e.vm === want.vm)
            .map((e) => e.text).join("");
          assert.ok(text.includes(want.text as string), `block ${b + 1}: console ${text}`);
          continue;
        }
        assert.ok(
          seenEvents.some((e) => subset(want, e)),
          `block ${b + 1}: event ${JSON.stringify(want)} never came; got ${
            JSON.stringify(seenEvents)
          }`,
        );
      }
      c.close();
    }
  } finally {
    assert.equal(await ax.stop(), 0, ax.stderr);
  }
});
