/**
 * The finish phase under causal logging (Protocol.finish; causal/commit
 * onFinish). An output leaves only once the determinants it depends on are
 * held by f + 1 processes (pushes, f acknowledgements), so a write that the
 * app does not await may still be waiting when the app calls done(). The
 * launcher stops the ranks once every rank's finish resolved; before onFinish
 * the causal chain had none, finish resolved at once and such outputs were
 * lost (the last writes of this app never reached the sink).
 *
 * On the real runtime (runSimJob: RankHost, launcher kills), both causal
 * specs built three ways (inline, modular, composer), against the `none`
 * baseline's outputs (it releases every write at once): failure-free, with a
 * count kill mid-run, and with a kill during the finish phase (the rank
 * recovers, replays the write, commits it and finishes again).
 */
import { describe, expect, it } from "vitest";
import { discoverProtocols } from "../conformance/protocols.js";
import { hybrid, specFromText } from "./causal-spec.js";
import { expectFinishReleasesUnawaitedWrites, type SimFactory } from "./finish-check.js";
import { composeFromIR } from "../../compiler/src/dev/select-ir.js";

// The specs' own timers (FBL: 2 s checkpoints; Fig 3b: 100 ms flushes): the job is over long before
// a flush makes a determinant stable, so the last outputs wait for pushes when every rank is done.
const entries: { name: string; backend: string; load(): Promise<unknown> }[] = (
  await discoverProtocols({ backends: ["inline", "modular", "composer"], options: {} })
).protocols.filter((p) => p.name === "family-based-causal" || p.name === "fig3b-hybrid-causal");
// Fig 3b with f = 1 has nothing left to push at the end (the own determinant is flushed by the write,
// the piggybacked ones are held by their owner and here: 2 = f + 1); with f = 2 its last outputs wait too.
entries.push({ name: "fig3b-hybrid-causal f = 2", backend: "composer", load: () => Promise.resolve(composeFromIR(specFromText(hybrid(2)))) });

describe("causal finish: un-awaited writes before done() are released", () => {
  it("both causal specs are built by the three back ends", () => {
    expect(entries.map((e) => `${e.name}/${e.backend}`).sort()).toEqual([
      ...["family-based-causal", "fig3b-hybrid-causal"].flatMap((n) => ["composer", "inline", "modular"].map((b) => `${n}/${b}`)),
      "fig3b-hybrid-causal f = 2/composer",
    ].sort());
  });

  for (const e of entries) {
    it(`${e.name} (${e.backend}): failure-free, a kill mid-run, a kill in the finish phase`, async () => {
      await expectFinishReleasesUnawaitedWrites((await e.load()) as unknown as SimFactory);
    }, 60_000);
  }
});
