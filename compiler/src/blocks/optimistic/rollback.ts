/**
 * Optimistic logging: rollback of an orphan (Damani & Garg, ICDCS 1996),
 * after core/deliver in the chain, so it runs strictly between deliveries.
 *
 * onDeliver: after the delivery, a pending rollback runs here (the pump waits).
 * onRollback (after any `On rollback` action saved the non-orphan work):
 *  1. cut = the delivery count of the latest state that does not depend on a
 *     lost state (the history before its first orphan message); its event
 *     timestamp cutTs counts the reads before that message too (the reads of
 *     step `cut` depend on nothing lost: they are kept);
 *  2. CUT [3, cut, ftInc + 1, cutTs] is logged and synced before the new
 *     incarnation says anything (= END(self, ftInc, cutTs), so a later crash
 *     cannot revive discarded states);
 *  3. restore the rollback base: the latest durable (committed) checkpoint,
 *     or the initial state without one (the onRestore chain resets ssn,
 *     delivered, rsn, the retransmission buffer, the output seq and the
 *     clock; stableIn stays as it is now), put the
 *     surviving prefix back as the replay plan and its reads as the values the
 *     replay returns, and the non-orphan messages delivered after the cut back
 *     into hold-back: they came from non-orphan states and are delivered again
 *     (exactly once in the new history; reads in those steps produce afresh:
 *     only discarded states saw the old values);
 *  4. announce the new incarnation's table (token; not with `exchange vector
 *     clock`, whose peers pull it) and ask every peer to resend what it has for us (TAG_RECOVER, reply = 1), trace the rollback,
 *     restore the checkpoint's application state (or re-run the application's
 *     init); the pump replays the prefix.
 * The history holds the deliveries after the base only (optimistic/checkpoint
 * drops the rest): `cut` counts from there, CUT records from the initial state.
 */
import type { FrameKind } from "@egida/runtime-core/spi";
import type { DeliverEv, Kernel, RollbackEv } from "../hooks.js";
import { KIND_CONTROL, MODE_REPLAY, TAG_OPT_TOKEN } from "../tags.js";
import { recoverFrame } from "../core/recover-frame.js";
import { param } from "../params.js";
import { histAt, histFrom, histPb, histSsn, histTs, newOptHist, type InMsg } from "@egida/runtime-core/protocol-lib";
import { optTokenWords } from "./token.js";
import type { Fields as OptOrphan } from "./orphan.js";
import type { Fields as OptClock } from "./clock.js";
import type { PumpState } from "../core/pump-state.js";
import type { Fields as CorePump } from "../core/pump.js";
import type { Fields as OptAsyncLog } from "./async-log.js";
import type { Fields as CoreRetransmit } from "../core/retransmit.js";
import type { Fields as OptCommit } from "./commit.js";
import type { Fields as CoreReceive } from "../core/receive.js";
import type { Fields as OptGate } from "./gate.js";
import type { Fields as CoreSsn } from "../core/ssn.js";

type K = Kernel & Fields & OptOrphan & OptClock & PumpState & CorePump & OptAsyncLog & CoreRetransmit & OptCommit & CoreReceive & OptGate & CoreSsn;

export interface Fields {}

export function init(_s: K): void {}

export async function onDeliver(s: K, _ev: DeliverEv): Promise<void> {
  s.optInDelivery = false;
  if (s.optRbWanted && !s.optRbRunning) {
    // core/deliver said the chain ended without an await; this await makes the pump wait after all.
    s.dlvSync = false;
    await s.onRollback({ reason: "orphan" });
  }
}

export async function onRollback(s: K, ev: RollbackEv): Promise<void> {
  const n = s.host.size;
  const me = s.host.rank;
  s.optRbRunning = true;
  // From here to the reset nothing awaits: the cut reflects the table as it is now.
  s.optRbWanted = false;
  const old = s.optHist;
  let cut = old.length;
  const lost = new Uint8Array(old.length);
  for (let i = 0; i < old.length; i++) {
    for (let k = 0; k < n; k++) {
      const c = histPb(old, i, 1 + k);
      const e = s.optEnds[k]!;
      if (c < e.length && histPb(old, i, 1 + n + k) > e[c]!) lost[i] = 1;
    }
    if (lost[i] === 1 && i < cut) cut = i;
  }
  const keep: InMsg[] = [];
  for (let i = 0; i < cut; i++) keep.push(histAt(old, i));
  const again: InMsg[] = [];
  for (let i = cut; i < old.length; i++) {
    if (lost[i] === 0) again.push(histAt(old, i));
    else {
      const from = histFrom(old, i);
      const ssn = histSsn(old, i);
      if (s.stableIn[from]! >= ssn) s.stableIn[from] = ssn - 1;
      if (s.notified[from]! > s.stableIn[from]!) s.notified[from] = s.stableIn[from]!;
    }
  }
  const cutTs = cut < old.length ? histTs(old, cut) - 1 : s.optTs;
  const oldInc = s.ftInc;
  const base = s.optBaseRsn;
  s.optLog!.append(new Uint8Array(new Uint32Array([3, base + cut, oldInc + 1, cutTs]).buffer));
  s.optEnds[me]!.push(cutTs);
  s.ftInc = oldInc + 1;
  s.optEpoch++;
  s.optHist = newOptHist();
  s.optRdReplay = new Map();
  for (const x of s.optReads) if (x.ts <= cutTs) s.optRdReplay.set(x.ts, x);
  s.optReads = [];
  s.optRdStep = -1;
  s.optRdIdx = 0;
  s.optStableUpTo = base;
  // Commits still waiting (a write the application did not await) end now, dropped: the epoch
  // moved on (optimistic/commit). Clearing them unresolved would leave their writes pending forever.
  const waiting = [...s.optCommits.values()];
  s.optCommits.clear();
  for (const p of waiting) p.done();
  const ck = s.optCkpt;
  s.onRestore({
    index: 0,
    state:
      ck !== null
        ? { ...ck.state, "core.stableIn": s.stableIn.slice() }
        : {
            "core.ssn": new Uint32Array(n),
            "core.delivered": new Uint32Array(n),
            "core.rsn": 0,
            "core.outq": [],
            "core.stableIn": s.stableIn.slice(),
            "core.outSeq": 0,
          },
  });
  for (const m of keep) s.held[m.from]!.set(m.ssn, m);
  for (const m of again) s.held[m.from]!.set(m.ssn, m);
  s.planSrc = keep.map((m) => m.from);
  s.planSsn = keep.map((m) => m.ssn);
  s.planPos = 0;
  s.mode = MODE_REPLAY;
  await s.optLog!.sync();
  // The new incarnation speaks: token first (FIFO: before any regenerated message); with
  // `exchange vector clock` no token: receivers of this incarnation's messages pull it
  // (optimistic/exchange), the gate stays closed until they acknowledge it.
  const t: number[] = param<boolean>("opt.broadcast") ? optTokenWords(s, 0) : [];
  for (let j = 0; j < n; j++) {
    if (j === me) continue;
    s.optAwait[j] = 1;
    if (param<boolean>("opt.broadcast")) s.host.transport.send(j, { kind: KIND_CONTROL as FrameKind, tag: TAG_OPT_TOKEN, piggyback: new Uint8Array(new Uint32Array(t).buffer), payload: new Uint8Array(0) });
    s.host.transport.send(j, recoverFrame(s, s.host.incarnation, 1));
  }
  s.st.rollbacks++;
  s.host.trace({ type: "rollback", rank: me, reason: `${ev.reason}: kept ${base + cut} of ${base + old.length} deliveries (${again.length} re-delivered; ${ck !== null ? `from the checkpoint at delivery ${base}` : "from the initial state"}), incarnation ${oldInc} -> ${s.ftInc}` });
  if (ck !== null) s.host.restoreAppState(ck.app);
  else await s.host.initApp({ replay: true });
  s.optRbRunning = false;
  const q = s.optParked;
  s.optParked = [];
  for (const p of q) if (s.acceptReceive(p)) s.onReceive(p);
}

// ---- manifest (blocks/manifest.ts): declared last so edits above merge cleanly.
import type { BlockManifest } from "../manifest.js";

export const manifest: BlockManifest = {
  purpose: "An orphan rolls back to its latest non-orphan state between deliveries.",
  implements: [{ module: "OrphanDetection" }, { variable: "orphan-detection-proto", value: "broadcast-logical-clock" }, { variable: "orphan-detection-proto", value: "exchange-vector-clock" }],
  params: { "opt.broadcast": "boolean" },
  order: {
    // constructor order: fields and inits are laid out in one global chain order
    init: { after: ["core/deliver.ts"], before: ["core/transmit.ts"] },
    // after core/deliver: the delivery is through, so an orphan rolls back between deliveries
    onDeliver: { after: ["core/deliver.ts"] },
    // the On rollback action first, then the rollback
    onRollback: { after: ["optimistic/on-rollback-ckpt.ts", "optimistic/on-rollback-log.ts"] },
  },
  owns: {},
  // the blocks whose fields its K reads
  requires: ["core/pump.ts", "core/receive.ts", "core/retransmit.ts", "core/ssn.ts", "optimistic/async-log.ts", "optimistic/clock.ts", "optimistic/commit.ts", "optimistic/gate.ts", "optimistic/orphan.ts"],
};
