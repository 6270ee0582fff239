/**
 * Regression test for the Fig 3a real-process crash found by
 * scripts/real-campaign.ts (exit 6, `TypeError: Cannot read properties of
 * null (reading 'append')` in onControl): a rank still opening its log (a
 * first incarnation starting slowly on a loaded machine, or a restarted one)
 * received a peer's incarnation-end token (the peer's recovery broadcast) and
 * judged it at once: the new end was appended to a log not yet open, and the
 * acknowledgement would have carried a stableIn not yet restored. Over TCP a
 * rank is dialled while its onOpen still awaits the storage; in the
 * simulation memory storage opens within the same event, so the window never
 * opened there.
 *
 * Here a RankHost runs each Fig 3a build with storage whose open waits for a
 * gate; while it waits, rank 1 (incarnation 1, just recovered) sends it a
 * token asking for its table. Nothing may fail; once the gate opens the token
 * is judged: the ACK and our table come back. Incarnation 0 and 1.
 */
import { describe, expect, it } from "vitest";
import type { App, InboundFrame, ProtocolFactory, StorageProvider } from "../../runtime-core/src/spi.js";
import { TAG_OPT_ACK, TAG_OPT_TOKEN } from "../../compiler/src/blocks/tags.js";
import { RankHost } from "../../runtime-core/src/host/rank-host.js";
import { MemoryOutputSink } from "../../runtime-core/src/host/output-sink.js";
import { SimWorld } from "../../runtime-core/src/sim/world.js";
import { createMemoryStorageProvider, type MemoryStableMedia } from "../../runtime-core/src/storage/provider.js";
import { FrameKind } from "../../runtime-core/src/spi.js";
import { discoverProtocols } from "../conformance/protocols.js";

const idle: App<unknown> = { init: () => ({}), onStart() {}, onMessage() {} };

const builds = (await discoverProtocols({ backends: ["inline", "modular", "composer"] })).protocols.filter((p) => p.name === "fig3a-damani-garg");

function words(...w: number[]): Uint8Array {
  return new Uint8Array(new Uint32Array(w).buffer);
}

async function scenario(factory: ProtocolFactory, incarnation: number): Promise<{ before: InboundFrame[]; after: InboundFrame[] }> {
  const world = new SimWorld({ size: 2, seed: 1, wireFrames: true });
  if (incarnation > 0) world.restart(0, incarnation);
  const got: InboundFrame[] = [];
  const peer = world.transport(1);
  peer.on({ frame: (f) => got.push(f), peerIncarnation: () => {}, peerDown: () => {} });
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const inner = createMemoryStorageProvider({ rank: 0, stable: new Map() as MemoryStableMedia });
  // Storage that opens only when the test says so (a slow disk at process start).
  const storage: StorageProvider = {
    openLog: async (m, n) => (await gate, inner.openLog(m, n)),
    openCheckpoints: async (m) => (await gate, inner.openCheckpoints(m)),
  };
  const host = new RankHost({
    rank: 0,
    size: 2,
    incarnation,
    f: 1,
    app: idle,
    protocol: factory,
    transport: world.transport(0),
    storage,
    timers: world.timers(0),
    sink: new MemoryOutputSink(),
    events: { fatal: (f) => expect.fail(JSON.stringify(f)) },
  });
  void host.start();
  // Rank 1's recovery broadcast: flag 1 (answer with your table), its FT incarnation 1,
  // n = 2, ends: rank 0 none, rank 1's incarnation 0 ended at timestamp 0.
  peer.send(0, { kind: FrameKind.Control, tag: TAG_OPT_TOKEN, piggyback: words(1, 1, 2, 0, 1, 0), payload: new Uint8Array(0) });
  await world.run({ until: 5 });
  const before = got.splice(0);
  open();
  await world.run({ until: 50 });
  return { before: before.filter((f) => f.tag === TAG_OPT_ACK), after: got };
}

describe("Fig 3a: a token that arrives while the rank still opens its log", () => {
  it("finds the Fig 3a builds", () => {
    expect(builds.map((b) => b.backend).sort()).toEqual(["composer", "inline", "modular"]);
  });
  for (const b of builds) {
    for (const incarnation of [0, 1]) {
      it(`${b.name} (${b.backend}), incarnation ${incarnation}: waits for the log, then acknowledges and answers with its table`, async () => {
        const r = await scenario(await b.load(), incarnation);
        // Nothing judged before the log is open.
        expect(r.before).toEqual([]);
        const ack = r.after.find((f) => f.tag === TAG_OPT_ACK);
        expect(ack, JSON.stringify(r.after.map((f) => f.tag))).toBeDefined();
        // [the token's FT incarnation, our stableIn for rank 1]
        expect([...new Uint32Array(new Uint8Array(ack!.piggyback).buffer)]).toEqual([1, 0]);
        // Flag 1: our table comes back (flag 0), holding rank 1's end we just learnt.
        const reply = r.after.find((f) => f.tag === TAG_OPT_TOKEN && new Uint32Array(new Uint8Array(f.piggyback).buffer)[0] === 0);
        expect(reply).toBeDefined();
        const w = [...new Uint32Array(new Uint8Array(reply!.piggyback).buffer)];
        // [0, our FT incarnation, n, rank 0's ends..., 1, 0]: rank 1's incarnation 0 ended at 0.
        expect(w.slice(-2)).toEqual([1, 0]);
      });
    }
  }
});
