/**
 * Optimistic logging with checkpoints (HowToCheckpoint, last in the
 * onCheckpoint chain: every block has added its state): only *committed*
 * checkpoints are written.
 *
 * Why committed: an optimistic process's state may depend on states of others
 * that a crash loses; a rollback must then go back to its latest state that
 * does not depend on them, so a checkpoint of an orphan state would be
 * useless, and the log behind it could not be truncated. A checkpoint whose
 * vector clock is stable everywhere (this process synced its log; every
 * process k of the clock acknowledged its entry `(c, t)` stable, the same
 * round as optimistic/commit's output commit) depends on no state that can be
 * lost, so it never becomes an orphan: "the latest non-orphan checkpoint" is
 * simply the latest one, rollbacks never cut below it, and the log before the
 * capture and the history in memory up to it can go.
 *
 * The capture is synchronous (the pump calls this between deliveries); the
 * round runs off the pump (`asynchronously`; `synchronously` makes the pump
 * wait for it and the write), because an orphan's round never completes and
 * its rollback needs the pump: a rollback wanted releases the round
 * (optimistic/orphan releaseCommits) and the checkpoint is abandoned, as it is
 * when a rollback started meanwhile (epoch moved). Skipped while a write is in
 * its output commit (its state would be in the checkpoint and its release
 * not: a crash before the release would lose the output); the next tick
 * retries.
 *
 * Kept in the checkpoint besides the core state: the clock (`opt.ts`,
 * `opt.vcInc`, `opt.vcTs`), the FT incarnation and the incarnation-end table
 * (the END and CUT records before the truncation point go away), and the
 * messages held here that we already declared stable to their senders but
 * have not delivered (re-deliveries after a rollback or a recovery: their
 * senders may have dropped them, and their DELIV records go away).
 * Once durable (and no rollback came in between): the checkpoint becomes the
 * rollback base in memory (`optCkpt`, `optBaseRsn`, `optBaseTs`), the history
 * and reads before it are dropped, onCheckpointDurable runs (stability
 * notices), the log is truncated at the capture's lsn and older checkpoints
 * are collected.
 */
import type { FrameKind } from "@egida/runtime-core/spi";
import type { CheckpointEv, Kernel } from "../hooks.js";
import { param } from "../params.js";
import { KIND_CONTROL, TAG_OPT_COMMIT_REQ } from "../tags.js";
import { histDropPrefix, type InMsg, encodeState } from "@egida/runtime-core/protocol-lib";
import type { Fields as CkptRestore } from "../checkpoint/restore.js";
import type { CheckpointStoreState } from "../checkpoint/store-state.js";
import type { Fields as OptCommit } from "./commit.js";
import type { Fields as OptClock } from "./clock.js";
import type { Fields as CoreReceive } from "../core/receive.js";
import type { Fields as CoreRetransmit } from "../core/retransmit.js";
import type { Fields as OptAsyncLog } from "./async-log.js";
import type { Fields as CoreSsn } from "../core/ssn.js";
import type { PumpState } from "../core/pump-state.js";

type K = Kernel & Fields & CkptRestore & CheckpointStoreState & OptCommit & OptClock & CoreReceive & CoreRetransmit & OptAsyncLog & CoreSsn & PumpState;

export interface Fields {
  /** A checkpoint was asked for while one was in flight (`On rollback: Take ... checkpoint`): take it after. */
  optCkptAgain: boolean;
}

export function init(s: K): void {
  s.optCkptAgain = false;
}

export async function onCheckpoint(s: K, ev: CheckpointEv): Promise<void> {
  if (s.ckptWriting) s.optCkptAgain = true;
  else if (s.optWriting === 0 && !s.optRbWanted && !s.optRbRunning) {
    const n = s.host.size;
    const me = s.host.rank;
    s.vcInc[me] = s.ftInc;
    s.vcTs[me] = s.optTs;
    const inc = s.vcInc.slice();
    const ts = s.vcTs.slice();
    ev.state["opt.ts"] = s.optTs;
    ev.state["opt.vcInc"] = inc;
    ev.state["opt.vcTs"] = ts;
    ev.state["opt.ftInc"] = s.ftInc;
    ev.state["opt.ends"] = s.optEnds.map((e) => e.slice());
    const held: InMsg[] = [];
    for (let j = 0; j < n; j++) {
      for (const m of s.held[j]!.values()) if (m.ssn > s.delivered[j]! && m.ssn <= s.stableIn[j]!) {
          // Copies: a received piggyback may be a view into a whole transport chunk.
          held.push({ from: m.from, ssn: m.ssn, fromIncarnation: m.fromIncarnation, pb: m.pb.slice(), payload: new Uint8Array(m.payload), arrival: m.arrival });
        }
    }
    ev.state["opt.held"] = held;
    const lsn = s.optLog!.nextLsn;
    const epoch = s.optEpoch;
    const baseTs = s.optTs;
    const incremental = param<boolean>("ckpt.incremental");
    s.ckptWriting = true;
    const run = (async () => {
      // Every event of the captured state is in the log before the round asks anyone.
      await s.optLog!.sync();
      const need = new Uint8Array(n);
      let left = 0;
      for (let k = 0; k < n; k++) {
        if (k !== me && ts[k]! > 0) {
          need[k] = 1;
          left++;
        }
      }
      if (left > 0 && s.optEpoch === epoch && !s.optRbWanted) {
        const id = ++s.optCommitSeq;
        await new Promise<void>((resolve) => {
          s.optCommits.set(id, { need, left, inc, ts, done: resolve });
          for (let k = 0; k < n; k++) {
            if (need[k] === 1) {
              const w = new Uint32Array([id, inc[k]!, ts[k]!]);
              s.host.transport.send(k, { kind: KIND_CONTROL as FrameKind, tag: TAG_OPT_COMMIT_REQ, piggyback: new Uint8Array(w.buffer), payload: new Uint8Array(0) });
            }
          }
        });
      }
      if (s.optEpoch !== epoch || s.optRbWanted) {
        // Released by a rollback (the captured state may be an orphan's): abandoned.
        optCkptEnd(s);
        return;
      }
      ev.index = ++s.ckptIndex;
      s.st.checkpoints++;
      s.host.trace({ type: "checkpoint", rank: me, index: ev.index });
      const store = s.ckptStore!;
      await store.write({ index: ev.index, app: ev.app, protocol: encodeState(ev.state) }, { incremental });
      // A rollback that began during the write restores the previous base: the history it cut
      // is numbered from there, so the base moves (and the log shrinks) only without one.
      if (s.optEpoch === epoch && !s.optRbWanted && !s.optRbRunning) {
        s.optCkpt = { app: ev.app, state: ev.state };
        s.optHist = histDropPrefix(s.optHist, ev.rsn - s.optBaseRsn);
        s.optReads = s.optReads.filter((x) => x.ts > baseTs);
        s.optBaseRsn = ev.rsn;
        s.optBaseTs = baseTs;
        await s.onCheckpointDurable(ev);
        await s.optLog!.truncatePrefix(lsn);
      }
      await store.gc(ev.index);
      optCkptEnd(s);
    })();
    if (param<boolean>("ckpt.sync")) await run;
  }
}

/** The checkpoint in flight is done or abandoned: one asked for meanwhile is taken at the next gap. */
function optCkptEnd(s: K): void {
  s.ckptWriting = false;
  if (s.optCkptAgain) {
    s.optCkptAgain = false;
    s.ckptWanted = true;
    void s.onPump({ reason: 4 });
  }
}

// ---- manifest (blocks/manifest.ts): declared last so edits above merge cleanly.
import type { BlockManifest } from "../manifest.js";

export const manifest: BlockManifest = {
  purpose: "Committed checkpoints: the capture's vector clock made stable everywhere, then written; log and history truncated.",
  implements: [{ module: "HowToCheckpoint" }, { variable: "how-to-ckpt", value: "synchronously" }, { variable: "how-to-ckpt", value: "asynchronously" }, { variable: "ckpt-impl", value: "full" }, { variable: "ckpt-impl", value: "incremental" }],
  params: { "ckpt.incremental": "boolean", "ckpt.sync": "boolean" },
  order: {
    // constructor order: fields and inits are laid out in one global chain order
    init: { after: ["core/read.ts"] },
    // every block adds its state before the store writes it (last)
    onCheckpoint: { after: ["core/output-seq.ts"] },
  },
  owns: {
    state: ["opt.ts", "opt.vcInc", "opt.vcTs", "opt.ftInc", "opt.ends", "opt.held"],
  },
  // the blocks whose fields its K reads
  requires: ["checkpoint/restore.ts", "core/receive.ts", "core/retransmit.ts", "core/ssn.ts", "optimistic/async-log.ts", "optimistic/clock.ts", "optimistic/commit.ts"],
};
