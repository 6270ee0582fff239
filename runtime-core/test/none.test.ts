import { fileURLToPath } from "node:url";
import { decodeValue } from "../src/host/value-codec.js";
import { describe, expect, it } from "vitest";
import { loadApp } from "../src/host/load-app.js";
import { runSimJob } from "../src/launcher/sim-job.js";
import { noneProtocol } from "../src/protocols/none.js";
import type { App, TraceEvent } from "../src/spi.js";

const appPath = (name: string) => fileURLToPath(new URL(`../../examples/apps/${name}.mjs`, import.meta.url));

function byRank(outputs: readonly { rank: number; payload: Uint8Array }[]): Map<number, unknown[]> {
  const m = new Map<number, unknown[]>();
  for (const o of outputs) {
    const l = m.get(o.rank) ?? [];
    l.push(decodeValue(o.payload));
    m.set(o.rank, l);
  }
  return m;
}

describe("none protocol (on the simulated network)", () => {
  it("runs token-ring to completion with identical results for different seeds", async () => {
    const app = await loadApp(appPath("token-ring"));
    const a = await runSimJob({ size: 4, app, args: ["25"], protocol: noneProtocol, seed: 1 });
    const b = await runSimJob({ size: 4, app, args: ["25"], protocol: noneProtocol, seed: 99 });
    expect(a.failure).toBeNull();
    expect(b.failure).toBeNull();
    expect(byRank(a.outputs)).toEqual(byRank(b.outputs));
    expect(a.ranks.map((r) => r.deliveries)).toEqual([25, 25, 25, 25]);
    expect(a.ranks[0]!.stats).toEqual({ messages: 25, piggybackBytes: 0, bytesLogged: 0, checkpoints: 0, rollbacks: 0 });
  });

  it("delivers in arrival order, numbers outputs 0,1,2... and traces deliveries with digests", async () => {
    const app = await loadApp(appPath("writer"));
    const trace: TraceEvent[] = [];
    const res = await runSimJob({ size: 3, app, args: ["10"], protocol: noneProtocol, trace: (e) => trace.push(e) });
    expect(res.failure).toBeNull();
    for (let r = 0; r < 3; r++) {
      expect(res.outputs.filter((o) => o.rank === r).map((o) => o.seq)).toEqual([...Array(10).keys()]);
    }
    const deliveries = trace.filter((e) => e.type === "deliver");
    // The job stops as soon as every rank is done, so the last batons may be left undelivered.
    expect(deliveries.length).toBe(res.ranks.reduce((a, r) => a + r.deliveries, 0));
    expect(deliveries.length).toBeGreaterThanOrEqual(27);
    expect(deliveries.every((e) => e.type === "deliver" && e.replay === false && Number.isInteger(e.digest))).toBe(true);
  });

  it("on restart re-initializes the app and says the state was lost; outputs of the new incarnation never collide", async () => {
    // Rank 1 writes on every message and acks it; rank 0 sends the next on each ack.
    // Rank 1 is killed after 5 deliveries; the next message waits at rank 0's
    // transport for the new incarnation, which starts counting over.
    const app: App<{ n: number }> = {
      init: () => ({ n: 0 }),
      onStart(_s, ctx) {
        if (ctx.rank === 0) {
          ctx.send(1, 0);
          ctx.done();
        }
      },
      async onMessage(s, m, ctx) {
        if (ctx.rank === 0) {
          if ((m.data as number) < 40) ctx.send(1, (m.data as number) + 1);
          return;
        }
        await ctx.write(++s.n);
        ctx.send(0, m.data);
        if (s.n >= 10) ctx.done();
      },
    };
    const events: string[] = [];
    const res = await runSimJob({
      size: 2,
      app: app as App<unknown>,
      protocol: noneProtocol,
      kills: [{ rank: 1, atDeliveries: 5, text: "1@5msgs" }],
      onEvent: (m) => events.push(m),
      // none cannot re-send the reply lost with the kill's step; this test is about re-init and seqs.
      crashLosesUnflushed: false,
    });
    expect(events.join("\n")).toMatch(/killed rank 1/);
    expect(events.join("\n")).toMatch(/restarted rank 1 as incarnation 1/);
    expect(events.join("\n")).toMatch(/state lost/);
    expect(res.ranks[1]!.restarts).toBe(1);
    expect(res.failure).toBeNull();
    const seqs = res.outputs.filter((o) => o.rank === 1).map((o) => o.seq);
    expect(seqs).toEqual([0, 1, 2, 3, 4, ...[...Array(10).keys()].map((i) => 2 ** 32 + i)]);
    expect(res.outputs.filter((o) => o.rank === 1).map((o) => decodeValue(o.payload))).toEqual([1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it("a lost message under none ends as a clean deadlock report, not a hang", async () => {
    const app = await loadApp(appPath("token-ring"));
    const res = await runSimJob({
      size: 3,
      app,
      args: ["1000"],
      protocol: noneProtocol,
      kills: [{ rank: 1, atDeliveries: 100, text: "1@100msgs" }],
    });
    expect(res.ranks[1]!.restarts).toBe(1);
    expect(res.failure).toMatchObject({ kind: "timeout" });
    expect(res.failure?.kind === "timeout" && res.failure.message).toMatch(/idle with ranks .*1.* not done/);
  });

  it("an application error fails the job with the rank and stack", async () => {
    const app: App<unknown> = {
      init: () => ({}),
      onStart: (_s, ctx) => {
        if (ctx.rank === 0) ctx.send(2, "go");
      },
      onMessage: function failingStep() {
        throw new Error("division by zero, rank 2");
      },
    };
    const res = await runSimJob({ size: 3, app, protocol: noneProtocol });
    expect(res.failure).toMatchObject({ kind: "app-error", rank: 2, message: "division by zero, rank 2" });
    expect(res.failure?.kind === "app-error" && res.failure.stack).toMatch(/failingStep/);
  });

  it("delivers one message at a time, in order, whether onMessage settles at once or returns a promise", async () => {
    // Rank 0 sends a burst; rank 1 answers odd values after an await and even ones synchronously, so
    // the pump goes both ways: on at once after a settled delivery, and after the promise otherwise.
    interface S {
      seen: number[];
      busy: boolean;
    }
    const N = 60;
    const app: App<S> = {
      init: () => ({ seen: [], busy: false }),
      onStart: (_s, ctx) => {
        if (ctx.rank === 0) {
          for (let i = 0; i < N; i++) ctx.send(1, i);
          ctx.done();
        }
      },
      onMessage: (s, { data }, ctx) => {
        if (s.busy) throw new Error("a delivery started before the previous one settled");
        const i = data as number;
        const finish = async (): Promise<void> => {
          s.seen.push(i);
          if (s.seen.length === N) {
            await ctx.write(s.seen);
            ctx.done();
          }
        };
        if (i % 2 === 0 && s.seen.length < N - 1) {
          s.seen.push(i);
          return;
        }
        s.busy = true;
        return Promise.resolve().then(async () => {
          await finish();
          s.busy = false;
        });
      },
    };
    const res = await runSimJob({ size: 2, app, protocol: noneProtocol, seed: 7 });
    expect(res.failure).toBeNull();
    expect(res.ranks[1]!.deliveries).toBe(N);
    expect(byRank(res.outputs).get(1)).toEqual([[...Array(N).keys()]]);
  });
});
