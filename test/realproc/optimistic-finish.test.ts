/**
 * Optimistic logging's finish phase over TCP (egida-run, one process per
 * rank): an app that writes at every hop of a ring without awaiting the
 * write and calls done() right after its last one. Its last outputs are
 * still in Fig 3a's co-ordinated output commit (waiting for peers to flush
 * and acknowledge) when every rank is done; the launcher stops the ranks
 * only once every rank's Protocol.finish resolved (optimistic/finish), so
 * every output reaches the output file. Without the finish hook the job
 * exits 0 with the last outputs missing. Failure-free and with a SIGKILL
 * mid-run; compared with the `none` baseline (every write released at once).
 * The simulated counterpart, per back end and with a kill in the finish
 * phase, is test/protocols/optimistic-finish.test.ts.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { builtProtocol } from "./lib/protocols.js";
import { referenceRun, runEgida } from "./lib/run.js";

const APP = `// A ring of 41 hops from rank 0: every hop writes without awaiting the write; a rank says done after its last write.
const HOPS = 41;
const lastHop = (rank, size) => { let h = HOPS; while (h % size !== rank) h--; return h; };
function hop(s, h, ctx) {
  void ctx.write({ rank: s.rank, hop: h });
  if (h < HOPS) ctx.send((s.rank + 1) % s.size, h + 1);
  if (h === s.last) ctx.done();
}
export default {
  init: ({ rank, size }) => ({ rank, size, last: lastHop(rank, size) }),
  onStart(s, ctx) { if (s.rank === 0) hop(s, 0, ctx); },
  onMessage(s, msg, ctx) { hop(s, msg.data, ctx); },
};
`;

const sorted = (per: readonly (readonly unknown[])[]): string[][] => per.map((l) => l.map((v) => JSON.stringify(v)).sort());

describe("optimistic finish over TCP: un-awaited writes before done() reach the output file", () => {
  const dir = mkdtempSync(join(tmpdir(), "egida-opt-finish-"));
  const app = join(dir, "fire-and-forget.mjs");
  writeFileSync(app, APP);

  for (const kill of [null, "2@5msgs"]) {
    it(`fig3a-damani-garg${kill ? ` --kill ${kill}` : ""}`, async () => {
      const ref = await referenceRun(app, [], 4);
      expect(ref.outputs.flat()).toHaveLength(42);
      const res = await runEgida({ size: 4, protocol: builtProtocol("fig3a-damani-garg"), app, kills: kill ? [kill] : [], timeoutMs: 60_000 });
      expect(res.code, `${res.command}\n${res.stderr}`).toBe(0);
      if (kill) expect(res.kills.length, res.stderr).toBe(1);
      // Per rank, as multisets: commits of un-awaited writes complete independently, so the
      // release order may differ from the seq order (the sink keys outputs by rank and seq).
      expect(sorted(res.outputs), res.command).toEqual(sorted(ref.outputs));
    }, 90_000);
  }
});
