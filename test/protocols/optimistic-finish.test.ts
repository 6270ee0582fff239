/**
 * The finish phase under optimistic logging (Protocol.finish;
 * optimistic/finish). An output leaves only once every state it depends on
 * is stable (co-ordinated output commit: the writer flushes, every process in
 * its vector clock flushes and acknowledges), so a write that the app does
 * not await may still be committing when the app calls done(). The launcher
 * stops the ranks once every rank's finish resolved; before onFinish Fig 3a
 * had none, finish resolved at once and such outputs were lost.
 *
 * On the real runtime (runSimJob: RankHost, launcher kills), Fig 3a built
 * three ways (inline, modular, composer), with the spec's 100 ms flush,
 * against the `none` baseline's outputs (it releases every write at once):
 * failure-free, with a count kill mid-run, and with a kill of the last
 * writer at the start of the finish phase (it recovers, replays the write,
 * commits it and finishes again; its peers may roll back meanwhile).
 */
import { describe, expect, it } from "vitest";
import { discoverProtocols } from "../conformance/protocols.js";
import { expectFinishReleasesUnawaitedWrites, type SimFactory } from "./finish-check.js";

const entries = (await discoverProtocols({ backends: ["inline", "modular", "composer"], options: {} })).protocols.filter((p) => p.name === "fig3a-damani-garg");

describe("optimistic finish: un-awaited writes before done() are released", () => {
  it("Fig 3a is built by the three back ends", () => {
    expect(entries.map((e) => e.backend).sort()).toEqual(["composer", "inline", "modular"]);
  });

  for (const e of entries) {
    it(`fig3a-damani-garg (${e.backend}): failure-free, a kill mid-run, a kill in the finish phase`, async () => {
      await expectFinishReleasesUnawaitedWrites((await e.load()) as unknown as SimFactory);
    }, 60_000);
  }
});
