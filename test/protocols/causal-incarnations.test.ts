/**
 * Frames that outlive the incarnation that sent them (real processes: the
 * old and the new incarnation's frames travel on different TCP connections,
 * and frames queued for a dead rank are flushed to its successor):
 *
 * - an output-commit acknowledgement of a dead incarnation's push reaches
 *   its successor, whose push ids start over: it must not count (before:
 *   ACK [id] was counted for the successor's push with the same id, so an
 *   output could leave with fewer than f + 1 holders of its determinants);
 * - an application message of a crashed incarnation arrives after its
 *   successor is known (so possibly after this process answered the
 *   successor's gather round without that message's piggyback): it is
 *   dropped, and the successor's copy (same ssn) is delivered once.
 *
 * One RankHost (rank 0) per causal build; the test plays rank 1 on a 2-rank
 * SimWorld.
 */
import { serialize } from "node:v8";
import { describe, expect, it } from "vitest";
import type { App, InboundFrame, ProtocolFactory } from "../../runtime-core/src/spi.js";
import { TAG_CAUSAL_ACK, TAG_CAUSAL_DETS, TAG_CAUSAL_GATHER, TAG_CAUSAL_PUSH } from "../../compiler/src/blocks/tags.js";
import { RankHost } from "../../runtime-core/src/host/rank-host.js";
import { MemoryOutputSink } from "../../runtime-core/src/host/output-sink.js";
import { SimWorld } from "../../runtime-core/src/sim/world.js";
import { createMemoryStorageProvider, type MemoryStableMedia } from "../../runtime-core/src/storage/provider.js";
import { FrameKind, type Transport } from "../../runtime-core/src/spi.js";
import { discoverProtocols } from "../conformance/protocols.js";
import { familyBased, hybrid, specFromText } from "./causal-spec.js";
import { composeFromIR } from "../../compiler/src/dev/select-ir.js";

interface Build {
  readonly name: string;
  /** Piggyback words between the ssn and the determinant count (the dependency matrix: its row count, 0 when no row changed). */
  readonly dmWords: number;
  load(): Promise<unknown>;
}

const found = (await discoverProtocols({ backends: ["inline", "modular"] })).protocols.filter(
  (p) => p.name === "family-based-causal" || p.name === "fig3b-hybrid-causal",
);
const builds: Build[] = [
  ...found.map((p) => ({ name: `${p.name} (${p.backend})`, dmWords: p.name === "family-based-causal" ? 1 : 0, load: () => p.load() })),
  { name: "family-based-causal (composer)", dmWords: 1, load: () => Promise.resolve(composeFromIR(specFromText(familyBased(2)))) },
  { name: "fig3b-hybrid-causal f = 2 (composer)", dmWords: 0, load: () => Promise.resolve(composeFromIR(specFromText(hybrid(2)))) },
];

function words(...w: number[]): Uint8Array {
  return new Uint8Array(new Uint32Array(w).buffer);
}

function u32(b: Uint8Array): Uint32Array {
  return new Uint32Array(new Uint8Array(b).buffer);
}

/** An app message from rank 1 with an empty causal piggyback: [ssn, DM?, 0 determinants, 0 reads]. */
function appFrame(b: Build, ssn: number, data: unknown): { kind: FrameKind; tag: number; piggyback: Uint8Array; payload: Uint8Array } {
  return { kind: FrameKind.App, tag: 0, piggyback: words(ssn, ...new Array<number>(b.dmWords).fill(0), 0, 0), payload: new Uint8Array(serialize(data)) };
}

interface Rank0 {
  readonly world: SimWorld;
  readonly host: RankHost;
  /** Frames rank 0 sent to rank 1 (the test plays rank 1). */
  readonly got: InboundFrame[];
  readonly delivered: unknown[];
  readonly written: unknown[];
  started: boolean;
  peer(): Transport;
}

/** Rank 0 of 2 at `incarnation`; rank 1 answers gather requests (nothing to report). The app writes each message (awaited). */
function rank0(factory: ProtocolFactory, incarnation: number): Rank0 {
  const world = new SimWorld({ size: 2, seed: 1, wireFrames: true });
  if (incarnation > 0) world.restart(0, incarnation);
  const got: InboundFrame[] = [];
  const delivered: unknown[] = [];
  const written: unknown[] = [];
  const listen = (t: Transport): void =>
    t.on({
      frame: (f) => {
        got.push(f);
        if (f.tag === TAG_CAUSAL_GATHER) {
          // [requester incarnation, maxDep 0, 0 determinants, 0 reads]
          t.send(0, { kind: FrameKind.Control, tag: TAG_CAUSAL_DETS, piggyback: words(u32(f.piggyback)[0]!, 0, 0, 0), payload: new Uint8Array(0) });
        }
      },
      peerIncarnation: () => {},
      peerDown: () => {},
    });
  listen(world.transport(1));
  const app: App<unknown> = {
    init: () => ({}),
    async onMessage(_s, msg, ctx) {
      delivered.push(msg.data);
      await ctx.write(msg.data);
      written.push(msg.data);
    },
  };
  const host = new RankHost({
    rank: 0,
    size: 2,
    incarnation,
    f: 1,
    app,
    protocol: factory,
    transport: world.transport(0),
    storage: createMemoryStorageProvider({ rank: 0, stable: new Map() as MemoryStableMedia }),
    timers: world.timers(0),
    sink: new MemoryOutputSink(),
    events: { fatal: (f) => expect.fail(JSON.stringify(f)) },
  });
  const r: Rank0 = {
    world,
    host,
    got,
    delivered,
    written,
    started: false,
    peer: () => world.transport(1),
  };
  void host.start().then(() => (r.started = true));
  return r;
}

describe("causal: frames of a dead incarnation", () => {
  it("covers both causal specs × inline, modular, composer", () => {
    expect(builds).toHaveLength(6);
  });

  for (const b of builds.filter((x) => x.dmWords > 0)) {
    it(`${b.name}: an acknowledgement of the previous incarnation's push does not commit this one's output`, async () => {
      const r = rank0((await b.load()) as ProtocolFactory, 1);
      await r.world.run({ until: 5 });
      expect(r.started).toBe(true);
      r.peer().send(0, appFrame(b, 1, "m1"));
      await r.world.run({ until: 10 });
      expect(r.delivered).toEqual(["m1"]);
      // Its own determinant #(0, 1) is held by rank 0 alone: f = 1 needs one acknowledgement.
      const push = r.got.find((f) => f.tag === TAG_CAUSAL_PUSH);
      expect(push).toBeDefined();
      const id = u32(push!.piggyback)[0]!;
      // The same id acknowledged for incarnation 0's push (queued for rank 0 while it was down).
      r.peer().send(0, { kind: FrameKind.Control, tag: TAG_CAUSAL_ACK, piggyback: words(id, 0), payload: new Uint8Array(0) });
      await r.world.run({ until: 20 });
      expect(r.written).toEqual([]);
      r.peer().send(0, { kind: FrameKind.Control, tag: TAG_CAUSAL_ACK, piggyback: words(id, 1), payload: new Uint8Array(0) });
      await r.world.run({ until: 30 });
      expect(r.written).toEqual(["m1"]);
      await r.host.stop();
    });
  }

  for (const b of builds) {
    it(`${b.name}: a message of a crashed incarnation arriving after its successor is known is dropped`, async () => {
      const r = rank0((await b.load()) as ProtocolFactory, 0);
      await r.world.run({ until: 5 });
      expect(r.started).toBe(true);
      r.peer().send(0, appFrame(b, 1, "old-1"));
      await r.world.run({ until: 10 });
      // Acknowledge whatever rank 0's writes push (f = 1).
      const ackAll = (): void => {
        for (const f of r.got.splice(0)) {
          if (f.tag === TAG_CAUSAL_PUSH) r.peer().send(0, { kind: FrameKind.Control, tag: TAG_CAUSAL_ACK, piggyback: words(u32(f.piggyback)[0]!, f.fromIncarnation), payload: new Uint8Array(0) });
        }
      };
      ackAll();
      await r.world.run({ until: 15 });
      expect(r.delivered).toEqual(["old-1"]);
      // Rank 1 crashes and restarts: rank 0 learns of incarnation 1.
      r.world.restart(1, 1);
      r.peer().on({ frame: (f) => r.got.push(f), peerIncarnation: () => {}, peerDown: () => {} });
      await r.world.run({ until: 20 });
      // A frame incarnation 0 sent before it died, arriving now (another connection than the new one's).
      r.host.protocol!.onFrame({ ...appFrame(b, 2, "old-2"), from: 1, fromIncarnation: 0 });
      await r.world.run({ until: 30 });
      ackAll();
      await r.world.run({ until: 35 });
      expect(r.delivered).toEqual(["old-1"]);
      // The successor's message with that ssn is delivered.
      r.peer().send(0, appFrame(b, 2, "new-2"));
      await r.world.run({ until: 40 });
      ackAll();
      await r.world.run({ until: 50 });
      expect(r.delivered).toEqual(["old-1", "new-2"]);
      await r.host.stop();
    });
  }
});
