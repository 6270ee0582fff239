/**
 * Recovery lines of the checkpoint-only protocols (compiler/src/blocks/ckpt-only/line.ts)
 * on hand-built reports.
 *
 * Regression: the campaign's orphan in communication-induced-checkpointing ×
 * master-worker (seed 17, `[{"rank":0,"atDelivery":6},{"rank":1,"atStep":29}]`,
 * docs/campaign.md). Round A rolled every process back to its initial
 * checkpoint (key 1); ranks 0, 2, 3 wrote their recovery checkpoints, rank 1
 * crashed before writing its own. Its durable history still held checkpoint 2,
 * taken after it delivered two tasks from rank 0 that round A undid (rank 0
 * re-ran from its initial state and read new seeds). Round B, computed from the
 * reports alone, kept rank 1 at checkpoint 2 (line [-1, 2, -1, -1]): rank 1
 * delivered 2 messages from rank 0 whose line state had sent 1, an orphan.
 * The latest round anyone applied binds the others (`bindLastRound`): rank 1 is
 * cut at its round-A line (key 1). Without that the tests below fail.
 */
import { describe, expect, it } from "vitest";
import { committedLine, recoveryLine, type Entry, type Report } from "../../compiler/src/blocks/ckpt-only/line.js";

const N = 4;

function entry(key: number, idx: number, maxIn: number, deps: number[] = [-1, -1, -1, -1], dlv: number[] = [0, 0, 0, 0]): Entry {
  return { key, idx, maxIn, deps, dlv: Uint32Array.from(dlv), out: 0 };
}

/** A process that applied round A (line [1,1,1,1]) and resumed with nothing delivered since. */
function appliedA(rcKey: number, round: number): Report {
  return { live: true, hist: [entry(rcKey, 0, -1)], cur: { idx: 0, maxIn: -1, deps: [-1, -1, -1, -1] }, applied: [round, 1, 1, 1, 1] };
}

/**
 * Rank 1 crashed during round A: restarted, durable history = its initial checkpoint (key 1)
 * and checkpoint 2, taken after delivering 2 messages from rank 0 sent in rank 0's interval 1
 * (CIC: index 0 messages; its own timer made checkpoint 2 index 1).
 */
const rank1: Report = {
  live: false,
  hist: [entry(1, 0, -1), entry(2, 1, 0, [1, -1, -1, -1], [2, 0, 0, 0])],
  cur: null,
  applied: null,
};

function reportsAfterSupersededRound(): Report[] {
  const A = 65537;
  return [appliedA(9, A), rank1, appliedA(5, A), appliedA(6, A)];
}

describe("checkpoint-only recovery lines", () => {
  it.each(["communication-induced", "independent"])("%s: a superseded round binds the process that did not apply it (campaign seed 17)", (kind) => {
    const line = recoveryLine(kind, reportsAfterSupersededRound());
    expect(line).toEqual([-1, 1, -1, -1]);
  });

  it("coordinated: the latest snapshot every process has", () => {
    expect(recoveryLine("coordinated", reportsAfterSupersededRound())).toEqual([9, 1, 5, 6]);
  });

  it("without a superseded round the reports decide: rank 1 keeps checkpoint 2 when rank 0 did not undo its sends", () => {
    // Same rank 1, but rank 0 survived with its state (it never rolled back): checkpoint 2 is consistent.
    const reps: Report[] = [
      { live: true, hist: [entry(1, 0, -1)], cur: { idx: 0, maxIn: -1, deps: [-1, -1, -1, -1] }, applied: null },
      rank1,
      { live: true, hist: [entry(1, 0, -1)], cur: { idx: 0, maxIn: -1, deps: [-1, -1, -1, -1] }, applied: null },
      { live: true, hist: [entry(1, 0, -1)], cur: { idx: 0, maxIn: -1, deps: [-1, -1, -1, -1] }, applied: null },
    ];
    expect(recoveryLine("communication-induced", reps)).toEqual([-1, 2, -1, -1]);
    expect(recoveryLine("independent", reps)).toEqual([-1, 2, -1, -1]);
  });

  it("independent: rollback propagation undoes a delivery whose send interval the sender's line undoes", () => {
    // Rank 0 failed; its latest durable checkpoint is key 3 (interval 3 onwards is lost). Rank 1 (live)
    // delivered in its open interval a message from rank 0's interval 3: it must go back to its key 2.
    const reps: Report[] = [
      { live: false, hist: [entry(1, 0, -1), entry(3, 1, -1)], cur: null, applied: null },
      { live: true, hist: [entry(1, 0, -1), entry(2, 1, -1)], cur: { idx: 1, maxIn: 3, deps: [3, -1, -1, -1] }, applied: null },
      { live: true, hist: [entry(1, 0, -1)], cur: { idx: 0, maxIn: -1, deps: [-1, -1, -1, -1] }, applied: null },
      { live: true, hist: [entry(1, 0, -1)], cur: { idx: 0, maxIn: -1, deps: [-1, -1, -1, -1] }, applied: null },
    ];
    expect(recoveryLine("independent", reps)).toEqual([3, 2, -1, -1]);
  });

  it("the committed line is the line if every process failed at its latest durable checkpoint", () => {
    const hists = [[entry(1, 0, -1), entry(4, 1, -1)], [entry(1, 0, -1), entry(2, 1, 0)], [entry(1, 0, -1)], [entry(1, 0, -1)]];
    expect(committedLine("communication-induced", hists).length).toBe(N);
    // i = 0 (ranks 2 and 3 have only index 0): nobody may keep a delivery of an index-0 message.
    expect(committedLine("communication-induced", hists)).toEqual([4, 1, 1, 1]);
  });
});
