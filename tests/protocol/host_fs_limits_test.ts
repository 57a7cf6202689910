import assert from "node:assert/strict";
import { HostFileSystem } from "../../lib/protocol/host_filesystem.ts";

Deno.test("host filesystem: mkdir -p 2,000 levels is refused at once; 64 levels work", () => {
  const tmp = Deno.makeTempDirSync({ prefix: "axvisor-hostfs-limits-" });
  try {
    const fs = new HostFileSystem(tmp);
    const t0 = performance.now();
    assert.throws(
      () => fs.mkdir("/" + Array(2000).fill("d").join("/"), { recursive: true }),
      /File name too long/,
    );
    assert.ok(performance.now() - t0 < 1000);
    assert.equal(fs.stat("/d"), undefined);
    fs.mkdir("/" + Array(64).fill("d").join("/"), { recursive: true });
    assert.throws(() => fs.stat("/" + Array(65).fill("d").join("/")), /65 levels deep/);
    fs.remove("/d", { recursive: true });
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});
