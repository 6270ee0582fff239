/**
 * The environment egida-run gives its rank processes (runtime-core
 * launcher/rank-env.ts): glibc's MALLOC_TOP_PAD_, so a rank does not hand its
 * heap top back to the OS and fault it in again on every burst of buffers;
 * a value the user set is passed through unchanged.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { MALLOC_TOP_PAD_BYTES, rankEnv } from "../../runtime-core/src/launcher/rank-env.js";
import { runEgida } from "./lib/run.js";

const dir = mkdtempSync(join(tmpdir(), "egida-rank-env-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Each rank writes what its own process sees.
const app = join(dir, "env-app.mjs");
writeFileSync(
  app,
  `export default {
  init: ({ rank }) => ({ rank }),
  async onStart(s, ctx) {
    await ctx.write({ rank: s.rank, pad: process.env.MALLOC_TOP_PAD_ ?? null });
    ctx.done();
  },
  onMessage() {},
};
`,
);

describe("a rank process's environment", () => {
  it("rankEnv adds MALLOC_TOP_PAD_ (16 MiB) and keeps the rest, or the user's own value", () => {
    const env = rankEnv({ PATH: "/bin", EGIDA_X: "1" });
    expect(env).toEqual({ PATH: "/bin", EGIDA_X: "1", MALLOC_TOP_PAD_: String(MALLOC_TOP_PAD_BYTES) });
    expect(MALLOC_TOP_PAD_BYTES).toBe(16 * 1024 * 1024);
    expect(rankEnv({ MALLOC_TOP_PAD_: "4096" })).toEqual({ MALLOC_TOP_PAD_: "4096" });
  });

  it("egida-run's ranks start with it; a value set by the user reaches them unchanged", async () => {
    const plain = await runEgida({ size: 2, protocol: "none", app, env: { MALLOC_TOP_PAD_: "" } });
    // An empty value counts as set (the user's): passed through as it is.
    expect(plain.code).toBe(0);
    expect(plain.outputs).toEqual([[{ rank: 0, pad: "" }], [{ rank: 1, pad: "" }]]);
    const withDefault = await runEgida({ size: 2, protocol: "none", app, env: {} });
    expect(withDefault.code).toBe(0);
    // Unless the test runner itself has one, the launcher adds the default.
    const expected = process.env["MALLOC_TOP_PAD_"] ?? String(MALLOC_TOP_PAD_BYTES);
    expect(withDefault.outputs).toEqual([[{ rank: 0, pad: expected }], [{ rank: 1, pad: expected }]]);
    const own = await runEgida({ size: 2, protocol: "none", app, env: { MALLOC_TOP_PAD_: "1048576" } });
    expect(own.outputs).toEqual([[{ rank: 0, pad: "1048576" }], [{ rank: 1, pad: "1048576" }]]);
  }, 60_000);
});
