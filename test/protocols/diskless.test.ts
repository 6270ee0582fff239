/**
 * Diskless pessimistic logging (specs/pessimistic-diskless.egida: the
 * receive log *and* the checkpoints on `volatile memory of processes`) on the
 * real replicated log and replicated checkpoint store, wired by runSimJob.
 * Neither the log nor the checkpoints exist anywhere but in peers' memory, so
 * every recovery below restored a checkpoint fetched from a replica.
 *
 *  - f = 1: one rank down at a time; f = 2: an origin and its first replica
 *    together. Both must equal the failure-free run with no survivor rollback.
 *  - beyond f (f = 1, origin and its only replica together): unrecoverable,
 *    never a retraction or a silently wrong result.
 * The big numbers are in docs/protocols.md (campaign and real-process runs).
 */
import { describe, expect, it } from "vitest";
import { kernelOf } from "../../compiler/src/blocks/compose.js";
import type { KillSpec } from "../../runtime-core/src/launcher/options.js";
import { ReplicatedCheckpointStore } from "../../runtime-core/src/storage/replicated-checkpoints.js";
import { ReplicatedLog } from "../../runtime-core/src/storage/replicated.js";
import { tokenApp } from "./apps.js";
import { expectSameAsFailureFree } from "./check.js";
import { maxConcurrentDown, runRealJob, type RealJobResult } from "./realhost-job.js";
import { loadSpec } from "./spec.js";
import { findApp, loadConformanceApp } from "../conformance/apps.js";
import { runSimJob } from "../conformance/harness.js";
import { checkRun } from "../conformance/oracles.js";
import { CAMPAIGN_OPTIONS } from "../conformance/protocols.js";
import { noneProtocol } from "../../runtime-core/src/protocols/none.js";
import type { ProtocolFactory } from "../../runtime-core/src/spi.js";
import type { ProtocolIR } from "../../compiler/src/ir/types.js";
import { composeFromIR } from "../../compiler/src/dev/select-ir.js";

const ir = (f: number) => loadSpec("pessimistic-diskless.egida", { checkpointIntervalMs: 15, flushIntervalMs: 5, f });
const mesh = () => tokenApp({ tokens: 3, hops: 50 });
/** The same protocol with the receive log on local disk: only the checkpoints are diskless. */
const disklessCheckpointsOnly = (): ProtocolIR => {
  const base = ir(1);
  return { ...base, nonDeterministic: base.nonDeterministic.map((nd) => (nd.log === null ? nd : { ...nd, log: { ...nd.log, where: { ...nd.log.where, id: "local-disk" } } })) };
};

/** Kill `group` consecutive ranks (an origin and its first replicas) together, every `gap` virtual ms. */
function groupKills(seed: number, size: number, span: number, group: number, gap: number): KillSpec[] {
  const kills: KillSpec[] = [];
  let k = 0;
  for (let at = 5 + (seed % 7); at < span; at += gap, k++) {
    const first = (seed * 3 + k * 2) % size;
    for (let i = 0; i < group; i++) {
      const rank = (first + i) % size;
      kills.push({ rank, atMs: Math.round(at), text: `${rank}@${Math.round(at)}ms` });
    }
  }
  return kills;
}

/** Checkpoints restarted incarnations got back from their replicas; checks every store is the replicated one. */
function fromPeers<S>(run: RealJobResult<S>): number {
  let n = 0;
  for (const i of run.incarnations) {
    const k = kernelOf(i.protocol);
    expect(k.evLog).toBeInstanceOf(ReplicatedLog);
    if (k.ckptStore === null) continue; // killed before it opened its store
    expect(k.ckptStore).toBeInstanceOf(ReplicatedCheckpointStore);
    if (i.incarnation > 0 && i.live) n += (k.ckptStore as ReplicatedCheckpointStore).recovered;
  }
  return n;
}

describe("pessimistic logging with diskless checkpoints (replicated checkpoint store)", () => {
  for (const [f, size, group, seeds] of [
    [1, 4, 1, [601, 602, 603]],
    [2, 5, 2, [611, 612]],
  ] as const) {
    it(`f = ${f}, ${size} ranks: ${group} rank(s) down together; checkpoints and log come back from the replicas`, async () => {
      const factory = composeFromIR(ir(f));
      let restored = 0;
      let kills = 0;
      for (const seed of seeds) {
        const ref = await runRealJob({ factory, app: mesh(), size, seed });
        expect(ref.errors).toEqual([]);
        const run = await runRealJob({ factory, app: mesh(), size, seed, kills: groupKills(seed, size, ref.time, group, 30), restartDelayMs: 2 + (seed % 10) });
        expect(maxConcurrentDown(run.downtimes)).toBeLessThanOrEqual(group);
        expectSameAsFailureFree(ref, run, { noSurvivorRollback: true });
        restored += fromPeers(run);
        kills += run.kills;
      }
      console.log(`diskless f=${f}: ${kills} kills, ${restored} checkpoints fetched back from replicas by restarted ranks`);
      expect(kills).toBeGreaterThan(seeds.length * group);
      expect(restored).toBeGreaterThan(0);
    });
  }

  it.each([
    ["log and checkpoints diskless", () => ir(1), "(checkpoints|events)"],
    // Here only the checkpoint store can notice: the log on disk survives, truncated below the lost checkpoint.
    ["only the checkpoints diskless", disklessCheckpointsOnly, "checkpoints"],
  ])("beyond f (f = 1, origin and its only replica together), %s: unrecoverable, never a retraction or a wrong result", async (what, spec, logName) => {
    const factory = composeFromIR(spec());
    let unrecoverable = 0;
    for (const seed of [621, 622, 623]) {
      const ref = await runRealJob({ factory, app: mesh(), size: 4, seed });
      const run = await runRealJob({ factory, app: mesh(), size: 4, seed, kills: groupKills(seed, 4, ref.time, 2, ref.time / 3), restartDelayMs: 5, settleMs: 300 });
      expect(run.retractions).toEqual([]);
      if (run.errors.length > 0) {
        expect(run.errors[0]).toMatch(new RegExp(`^unrecoverable: rank \\d+ cannot recover replicated log "${logName}": no replica holds a complete copy`));
        unrecoverable++;
      } else expectSameAsFailureFree(ref, run, { noSurvivorRollback: true });
    }
    console.log(`diskless beyond f, ${what}: ${unrecoverable}/3 runs unrecoverable, the rest matched the failure-free run`);
    expect(unrecoverable).toBeGreaterThan(0);
  });

  it("a sender that dies before answering a recovering receiver's retransmission request resends from its restored buffer (campaign seed 197)", async () => {
    // Rank 2 crashes (messages from rank 1 in flight are lost) and asks rank 1 to resend them;
    // rank 1 is blocked on its replica (rank 2) and dies before it answers. Before the fix in
    // collect/stable-log, rank 1's next incarnation held the lost messages in the buffer its
    // checkpoint restored and nobody asked for them again: the job hung.
    const a = findApp("jacobi");
    const app = await loadConformanceApp(a);
    // Rank 1's 12th delivery (not its 10th): under the durable watermark a delivery no longer waits
    // for its log sync, so rank 1 reaches its 10th before rank 2's crash; its 12th comes while rank 2
    // recovers, as the scenario needs.
    const schedule = [{ rank: 1, atDelivery: 12 }, { rank: 2, atStep: 157 }];
    // The composer's factory is typed against the published spi, the harness against the source (same objects).
    const protocol = composeFromIR(loadSpec("pessimistic-diskless.egida", CAMPAIGN_OPTIONS)) as unknown as ProtocolFactory;
    const r = await runSimJob({ protocol, app, size: a.size, seed: 197, schedule, args: a.args, realReplication: true });
    expect(r.crashes.length).toBe(2);
    const reference = await runSimJob({ protocol: noneProtocol, app, size: a.size, seed: 1, schedule: [], args: a.args });
    expect(await checkRun(r, { app, args: a.args, orderDeterministic: a.orderDeterministic, family: "pessimistic", reference, boundedStorage: false })).toEqual([]);
    expect(r.finished).toBe(true);
  });
});
