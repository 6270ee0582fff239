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
import type { InboundFrame, ProtocolFactory } from "../../runtime-core/src/spi.js";
import { TAG_OPT_ACK, TAG_OPT_TOKEN } from "../../compiler/src/blocks/tags.js";
import { FrameKind } from "../../runtime-core/src/spi.js";
import { discoverProtocols } from "../conformance/protocols.js";
import { rankWithSlowStorage, words } from "./slow-open.js";

const builds = (await discoverProtocols({ backends: ["inline", "modular", "composer"] })).protocols.filter((p) => p.name === "fig3a-damani-garg");

async function scenario(factory: ProtocolFactory, incarnation: number): Promise<{ before: InboundFrame[]; after: InboundFrame[] }> {
  const { world, peer, got, open } = rankWithSlowStorage(factory, incarnation);
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
