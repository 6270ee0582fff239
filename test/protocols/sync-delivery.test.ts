/**
 * The synchronous delivery fast path (core/pump, ckpt-only/pump, core/deliver):
 * when the application's handler returns no promise, RankHost's `deliver`
 * returns `host.settled`, the onDeliver chain runs to its end without an
 * await and the pump goes on in the same call, with no promise or microtask
 * hop per delivery. The campaign takes this path through the all-to-all app
 * (its onMessage returns a promise only on the delivery that writes: the
 * first test below keeps it so); the other apps, and the local conformance
 * harness, which wraps every handler in an async probe, take the awaited
 * one. This file covers the synchronous path directly:
 *  - with a fake host, that a delivery whose handler settled happens inside
 *    `onFrame` (and drains held messages in the same call), and that a
 *    handler still pending holds the next delivery until it settles;
 *  - on the launcher's simulated job (RankHost, as `egida-run --sim`), a
 *    synchronous app under crashes recovers to the failure-free result with
 *    every back end, each delivery exactly once.
 */
import { serialize } from "node:v8";
import { decodeValue } from "../../runtime-core/src/host/value-codec.js";
import { describe, expect, it } from "vitest";
import type { App, AppContext, InboundFrame, Protocol, ProtocolFactory, ProtocolHost, Timers } from "../../runtime-core/src/spi.js";
import { runSimJob } from "../../runtime-core/src/launcher/sim-job.js";
import { createMemoryStorageProvider } from "../../runtime-core/src/storage/provider.js";
import { findApp, loadConformanceApp } from "../conformance/apps.js";
import { probeApp, RankHistory } from "../conformance/history.js";
import { CRASH_PROVEN, SLICE_ONLY, discoverProtocols } from "../conformance/protocols.js";

// ------------------------------------------------------------ fake host

const NO_TIMERS: Timers = { now: () => 0, every: () => () => {}, after: () => () => {} };

interface Fake {
  readonly host: ProtocolHost;
  /** Payload values delivered, in order. */
  readonly delivered: number[];
}

/**
 * A one-peer host (rank 1 of 2) whose `deliver` records the value and returns
 * `settled` (a synchronous handler), or, when `pending` is given, the promise
 * it returns for that delivery (a handler still running).
 */
function fakeHost(pending?: (n: number) => Promise<void>): Fake {
  const delivered: number[] = [];
  const settled = Promise.resolve();
  const host: ProtocolHost = {
    rank: 1,
    size: 2,
    incarnation: 0,
    f: 1,
    transport: { rank: 1, size: 2, send: () => {}, on: () => {}, close: () => Promise.resolve() },
    storage: createMemoryStorageProvider({ rank: 1, stable: new Map() }),
    timers: NO_TIMERS,
    trace: () => {},
    tracing: false,
    initApp: () => settled,
    deliver: (_from, payload) => {
      delivered.push(payload[0]!);
      return pending === undefined ? settled : pending(delivered.length);
    },
    settled,
    captureAppState: () => new Uint8Array(serialize({})),
    restoreAppState: () => {},
    emitOutput: () => settled,
    unrecoverable: (reason) => {
      throw new Error(reason);
    },
  };
  return { host, delivered };
}

/** An App frame from rank 0 as independent-checkpointing sends it: piggyback [ssn, epoch 0, checkpoint key 0]. */
function appFrame(ssn: number): InboundFrame {
  return {
    kind: 1 as InboundFrame["kind"],
    tag: 0,
    from: 0,
    fromIncarnation: 0,
    piggyback: new Uint8Array(new Uint32Array([ssn, 0, 0]).buffer),
    // The fake host does not deserialize: the payload's one byte is the value it records.
    payload: new Uint8Array([ssn]),
  };
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

const found = await discoverProtocols({ backends: ["inline", "modular", "composer"] });
const entry = (name: string, backend: string) => found.protocols.find((p) => p.name === name && p.backend === backend)!;

describe("synchronous delivery fast path", () => {
  it("inline: a settled delivery happens inside onFrame, held messages drain in the same call", async () => {
    const { host, delivered } = fakeHost();
    const p: Protocol = (await entry("independent-checkpointing", "inline").load()).create(host);
    await p.start();
    p.onFrame(appFrame(1));
    expect(delivered).toEqual([1]);
    p.onFrame(appFrame(3)); // out of order: held
    expect(delivered).toEqual([1]);
    p.onFrame(appFrame(2));
    expect(delivered).toEqual([1, 2, 3]);
    await flush();
    expect(delivered).toEqual([1, 2, 3]);
  });

  it.each(["inline", "modular", "composer"])("%s: a pending handler holds the next delivery until it settles", async (backend) => {
    const release: Array<() => void> = [];
    const { host, delivered } = fakeHost(() => new Promise<void>((resolve) => release.push(resolve)));
    const p: Protocol = (await entry("independent-checkpointing", backend).load()).create(host);
    await p.start();
    p.onFrame(appFrame(1));
    p.onFrame(appFrame(2));
    await flush();
    expect(delivered).toEqual([1]);
    release[0]!();
    await flush();
    expect(delivered).toEqual([1, 2]);
    release[1]!();
    await flush();
    expect(delivered).toEqual([1, 2]);
  });
});

// ------------------------------------------------------------ crashes, synchronous app

interface TokState {
  rank: number;
  count: number;
  expected: number;
  digest: number;
  seen: Record<string, true>;
  dups: number;
}

const TOKENS = 2;
const HOPS = 24;
const SIZE = 4;

function route(at: number, origin: number, id: number, hops: number): number {
  return (at + 1 + ((origin * 7 + id * 3 + hops) % (SIZE - 1))) % SIZE;
}

function expectedAt(rank: number): number {
  let n = 0;
  for (let o = 0; o < SIZE; o++) {
    for (let id = 0; id < TOKENS; id++) {
      let at = o;
      for (let h = 1; h <= HOPS; h++) {
        at = route(at, o, id, h - 1);
        if (at === rank) n++;
      }
    }
  }
  return n;
}

/**
 * Tokens hop between ranks along fixed routes; onMessage is synchronous (returns
 * nothing): every delivery takes the fast path where the protocol allows it.
 * The last delivery writes { count, digest, dups } (not awaited) and is done.
 */
const syncTokens: App<TokState> = {
  init: ({ rank }) => ({ rank, count: 0, expected: expectedAt(rank), digest: 0, seen: {}, dups: 0 }),
  onStart(s, ctx) {
    for (let id = 0; id < TOKENS; id++) ctx.send(route(s.rank, s.rank, id, 0), { origin: s.rank, id, hops: 1 });
  },
  onMessage(s, msg, ctx: AppContext) {
    const t = msg.data as { origin: number; id: number; hops: number };
    const key = `${t.origin}.${t.id}.${t.hops}`;
    if (s.seen[key]) s.dups++;
    s.seen[key] = true;
    s.count++;
    s.digest = (s.digest + Math.imul(t.origin * 1000 + t.id + 1, t.hops * 2654435761)) >>> 0;
    if (t.hops < HOPS) ctx.send(route(s.rank, t.origin, t.id, t.hops), { ...t, hops: t.hops + 1 });
    if (s.count === s.expected) {
      ctx.write({ rank: s.rank, count: s.count, digest: s.digest, dups: s.dups }).catch(() => {});
      ctx.done();
    }
  },
};

/** Each rank's final output, as the failure-free run of the app computes it. */
function expectedOutputs(): Array<{ rank: number; count: number; digest: number; dups: number }> {
  const digest = new Array<number>(SIZE).fill(0);
  const count = new Array<number>(SIZE).fill(0);
  for (let o = 0; o < SIZE; o++) {
    for (let id = 0; id < TOKENS; id++) {
      let at = o;
      for (let h = 1; h <= HOPS; h++) {
        at = route(at, o, id, h - 1);
        count[at]!++;
        digest[at] = (digest[at]! + Math.imul(o * 1000 + id + 1, h * 2654435761)) >>> 0;
      }
    }
  }
  return digest.map((d, rank) => ({ rank, count: count[rank]!, digest: d, dups: 0 }));
}

describe("the campaign's all-to-all app", () => {
  it("settles synchronously on every delivery but the one that writes", async () => {
    const app = await loadConformanceApp(findApp("all-to-all"));
    const writes: unknown[] = [];
    let done = 0;
    const ctx = {
      rank: 0,
      size: 2,
      send: () => {},
      write: (v: unknown) => (writes.push(v), Promise.resolve()),
      done: () => void done++,
      read: () => Promise.resolve(0),
    } as unknown as AppContext;
    const s = app.init({ rank: 0, size: 2, args: ["2"] });
    await app.onStart!(s, ctx);
    expect(app.onMessage(s, { from: 1, data: { round: 0, value: 7 } }, ctx)).toBeUndefined();
    const last = app.onMessage(s, { from: 1, data: { round: 1, value: 9 } }, ctx);
    expect(last).toBeInstanceOf(Promise);
    await last;
    expect([writes.length, done]).toEqual([1, 1]);
  });

  it("stays synchronous through the campaign's history probe", async () => {
    const history = new RankHistory(0);
    const probed = probeApp(await loadConformanceApp(findApp("all-to-all")), {
      incarnation: 0,
      history,
      dead: () => false,
      live: () => true,
      takeDelivery: () => ({ replay: false, digest: 0 }),
      onDeliver: () => {},
      beforeWrite: () => {},
    });
    const ctx = { rank: 0, size: 2, send: () => {}, write: () => Promise.resolve(), done: () => {}, read: () => Promise.resolve(0) } as unknown as AppContext;
    const w = probed.init({ rank: 0, size: 2, args: ["2"] });
    await probed.onStart!(w, ctx);
    expect(probed.onMessage(w, { from: 1, data: { round: 0, value: 7 } }, ctx)).toBeUndefined();
    await probed.onMessage(w, { from: 1, data: { round: 1, value: 9 } }, ctx);
    // Both steps recorded complete, the synchronous one at once.
    expect(history.steps.map((st) => st.complete)).toEqual([true, true, true]);
  });
});

describe("synchronous app under crashes (launcher sim, RankHost)", () => {
  const names = [...new Set(found.protocols.map((p) => p.name))].filter((n) => CRASH_PROVEN.includes(n) && SLICE_ONLY[n] === undefined);
  it("has the crash-proven protocols", () => {
    expect(names.length).toBeGreaterThan(5);
  });
  describe.each(names)("%s", (name) => {
    it.each(["inline", "modular", "composer"])("%s: recovers to the failure-free outputs", async (backend) => {
      const factory: ProtocolFactory = await entry(name, backend).load();
      const res = await runSimJob({
        size: SIZE,
        seed: 5,
        app: syncTokens as App<unknown>,
        protocol: factory,
        kills: [
          { rank: 1, atDeliveries: 9, text: "1@9" },
          { rank: 2, atDeliveries: 17, text: "2@17" },
        ],
      });
      expect(res.failure).toBeNull();
      expect(res.ranks.reduce((a, r) => a + r.restarts, 0)).toBe(2);
      const last = new Map<number, unknown>();
      for (const o of res.outputs) last.set(o.rank, decodeValue(o.payload));
      expect([...last.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1])).toEqual(expectedOutputs());
    });
  });
});
