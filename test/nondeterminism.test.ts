/**
 * Non-determinism detection (runtime-core/src/host/divergence.ts): a
 * recovering rank that re-sends a message with other contents than before
 * its crash fails the job with exit 8 and a report naming the ranks, the
 * message and the likely cause; the same application with its input in
 * ctx.read recovers. On the simulator and on real processes (egida-run --kill).
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { serialize } from "node:v8";
import { describe, expect, it } from "vitest";
import { describeFailure, exitCodeOf, simulate, type App } from "@egida/runtime-core";
import { DeliveredRing, RING, likelyCause } from "../runtime-core/src/host/divergence.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const BIN = join(ROOT, "runtime-core/bin/egida-run.js");
const APP = join(ROOT, "examples/apps/nondet.mjs");
const PROTOCOLS = ["receiver-based-pessimistic", "family-based-causal", "fig3b-hybrid-causal"];

const nondet = (await import(APP)).default as App;

describe("DeliveredRing", () => {
  it("accepts an equal duplicate, also in other v8 bytes (int32 vs double)", () => {
    const ring = new DeliveredRing(2);
    // 1 as v8 writes a double ('N' + IEEE 754) and as it writes a Smi ('I' + zigzag varint).
    const before = Buffer.from("ff0f4e000000000000f03f", "hex");
    const after = Buffer.from("ff0f4902", "hex");
    expect(Buffer.compare(before, after)).not.toBe(0);
    ring.note(1, 3, before);
    expect(ring.compare(1, 3, before)).toBeUndefined();
    expect(ring.compare(1, 3, after)).toBeUndefined();
  });

  it("reports a different value with its path and cause", () => {
    const ring = new DeliveredRing(2);
    ring.note(0, 5, serialize({ round: 2, value: 0.25 }));
    const d = ring.compare(0, 5, serialize({ round: 2, value: 0.75 }));
    expect(d).toEqual({ path: "data.value", before: "0.25", after: "0.75", cause: "Math.random() outside ctx.read" });
    // Another channel or another ssn is not compared with it.
    expect(ring.compare(1, 5, serialize({ round: 2, value: 0.75 }))).toBeUndefined();
    expect(ring.compare(0, 4, serialize({ round: 2, value: 0.75 }))).toBeUndefined();
  });

  it("forgets a message once RING newer ones from its sender were delivered", () => {
    const ring = new DeliveredRing(1);
    for (let ssn = 1; ssn <= RING + 1; ssn++) ring.note(0, ssn, serialize(ssn));
    expect(ring.compare(0, 1, serialize(-1))).toBeUndefined();
    expect(ring.compare(0, 2, serialize(-1))?.path).toBe("data");
  });

  it("guesses the cause from the values", () => {
    expect(likelyCause(1765090000000, 1765090000123)).toMatch(/^Date\.now\(\)/);
    expect(likelyCause(new Date(0), new Date(1))).toMatch(/^Date\.now\(\)/);
    expect(likelyCause(0.1, 0.2)).toMatch(/^Math\.random\(\)/);
    expect(likelyCause("a", "b")).toMatch(/I\/O/);
  });
});

describe("on the simulator", () => {
  for (const p of PROTOCOLS) {
    it(`${p}: Math.random outside ctx.read is reported (exit 8); inside ctx.read the job recovers`, async () => {
      const protocol = join(ROOT, "generated", p);
      const bad = await simulate({ app: nondet, protocol, size: 3, args: ["30"], kills: ["1@10msgs"] });
      expect(bad.ok).toBe(false);
      expect(bad.failure).toMatchObject({ kind: "nondeterminism", rank: 1, to: 2, path: "data.value", cause: "Math.random() outside ctx.read" });
      expect(exitCodeOf(bad.failure!)).toBe(8);
      expect(describeFailure(bad.failure!)).toMatch(/^non-determinism on rank 1: recovering from a crash, it re-sent message \d+ to rank 2 with other contents/);
      const good = await simulate({ app: nondet, protocol, size: 3, args: ["30", "read"], kills: ["1@10msgs"] });
      expect(good.failure).toBeNull();
      expect(good.restarts).toBe(1);
      expect(good.outputs.map((o) => o.length)).toEqual([1, 1, 1]);
    });
  }

  it("an optimistic protocol rolls the orphans back instead: no report", async () => {
    const res = await simulate({ app: nondet, protocol: join(ROOT, "generated/optimistic-exchange-vc"), size: 3, args: ["30"], kills: ["1@10msgs"] });
    expect(res.failure?.kind).not.toBe("nondeterminism");
  });
});

function run(args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [BIN, ...args], { cwd: ROOT });
    let stderr = "";
    c.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      c.kill("SIGKILL");
      reject(new Error(`egida-run ${args.join(" ")} timed out\n${stderr}`));
    }, 60_000);
    c.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe("on real processes (egida-run --kill)", () => {
  it("Math.random outside ctx.read: exit 8 and the report, no stack", async () => {
    const r = await run(["-n", "3", "--protocol", "generated/receiver-based-pessimistic", "--kill", "1@10msgs", "-q", APP, "--", "30"]);
    expect(r.code, r.stderr).toBe(8);
    expect(r.stderr).toMatch(/egida-run: error: non-determinism on rank 1: recovering from a crash, it re-sent message \d+ to rank 2 with other contents than before the crash \(data\.value was [\d.]+, now [\d.]+\)\. Likely cause: Math\.random\(\) outside ctx\.read\. Hint: wrap the input in ctx\.read/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  }, 90_000);

  it("the same app with ctx.read recovers and exits 0", async () => {
    const r = await run(["-n", "3", "--protocol", "generated/receiver-based-pessimistic", "--kill", "1@10msgs", "-q", APP, "--", "30", "read"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/rank 1: recovered/);
  }, 90_000);
});

describe("--strict", () => {
  const clock: App<{ t: number }> = {
    init: () => ({ t: 0 }),
    async onStart(s, ctx) {
      if (ctx.rank === 0) ctx.send(1, "go");
      else return;
      ctx.done();
    },
    async onMessage(s, _m, ctx) {
      s.t = Date.now();
      await ctx.write(s.t > 0);
      ctx.done();
    },
  };

  it("simulate({ strict }): Math.random() in a handler is an application error naming the fix", async () => {
    const res = await simulate({ app: nondet, protocol: "none", size: 2, args: ["3"], strict: true });
    expect(res.failure).toMatchObject({ kind: "app-error", rank: 1 });
    expect(describeFailure(res.failure!)).toMatch(
      /^application error on rank 1: StrictModeError: Math\.random\(\) called in a handler of rank 1 under --strict: .* const r = ctx\.read\(\(\) => Math\.random\(\)\)\n\s+at .*nondet\.mjs:\d+:\d+\)$/,
    );
  });

  it("Date.now() after an await in a handler throws too; without strict it works", async () => {
    const res = await simulate({ app: clock, protocol: "none", size: 2, strict: true });
    expect(res.failure?.kind).toBe("app-error");
    expect(describeFailure(res.failure!)).toMatch(/Date\.now\(\) called in a handler of rank 1 under --strict: .*ctx\.read\(\(\) => Date\.now\(\)\)/);
    expect((await simulate({ app: clock, protocol: "none", size: 2 })).ok).toBe(true);
    // Outside handlers the globals are untouched.
    expect(typeof Date.now()).toBe("number");
    expect(Math.random()).toBeLessThan(1);
  });

  it("inside ctx.read they work, under every protocol family with kills", async () => {
    for (const p of ["generated/receiver-based-pessimistic", "generated/family-based-causal", "generated/coordinated-checkpointing"]) {
      const res = await simulate({ app: nondet, protocol: join(ROOT, p), size: 3, args: ["20", "read"], kills: ["2@7msgs"], strict: true });
      expect(res.failure, p).toBeNull();
    }
  });

  it("egida-run --strict: exit 1, one line and the app's call site", async () => {
    const r = await run(["--sim", "--strict", "-n", "3", "--protocol", "none", "-q", APP, "--", "5"]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/StrictModeError: Math\.random\(\) called in a handler of rank \d under --strict/);
    expect(r.stderr.split("\n").filter((l) => /^\s+at /.test(l))).toHaveLength(1);
    const ok = await run(["--strict", "-n", "3", "--protocol", "none", "-q", APP, "--", "5", "read"]);
    expect(ok.code, ok.stderr).toBe(0);
  }, 60_000);
});
