/**
 * Optimistic logging: CollectDeterminants after a crash (Damani–Garg
 * recovery), in two parts.
 *
 * onOpen (incarnation > 0; after optimistic/async-log opened the log, before
 * checkpoint/restore re-runs the application's onStart, whose reads may
 * replay):
 *  0. the latest checkpoint (optimistic/checkpoint: committed, so nothing in
 *     it is ever lost) is the base: its clock, FT incarnation and
 *     incarnation-end table, its delivery count and event timestamp; events
 *     up to that timestamp, and CUTs of incarnations it already covers, are
 *     skipped (the log is truncated at its capture only after it is durable);
 *     the stable-but-undelivered messages it holds are re-delivered;
 *  1. read the optimistic log: the incarnation-end table (END, CUT), the
 *     history's events (DELIV and READ records, truncated at every CUT), and
 *     the messages discarded by cuts that are not orphans (still to be
 *     delivered);
 *  2. cut the history before its first delivery of an orphan message (the
 *     persisted table already says it depends on a lost state);
 *  3. the surviving prefix, E events (r deliveries and the reads among
 *     them), is what reached the stable log: its deliveries become the replay
 *     plan (contents come from the log, nobody is asked), its reads the
 *     values the replay returns; every state after event E in the crashed
 *     incarnation c is lost (an unlogged read included);
 *  4. start incarnation c + 1: CUT [3, r, c + 1, E] synced (= END(self, c, E))
 *     before onStart runs, so a read onStart makes afresh is logged after it.
 * onRecover (after checkpoint/restore): fill the replay plan and hold-back,
 * then announce the table to everyone (token, flag 1: "send me yours",
 * because tokens sent to us while we were down or before our END records
 * were synced are lost) — `broadcast logical clock`; with `exchange vector
 * clock` nothing is announced: we pull what we depend on, peers pull from us
 * (optimistic/exchange).
 * core/recovery then announces the delivered vector, and the pump replays.
 */
import type { FrameKind } from "@egida/runtime-core/spi";
import { decodeState, type InMsg } from "@egida/runtime-core/protocol-lib";
import type { Kernel, StartEv } from "../hooks.js";
import type { Fields as OptAsyncLog, OptRead } from "./async-log.js";
import { KIND_CONTROL, TAG_OPT_COMMIT_REQ, TAG_OPT_TOKEN } from "../tags.js";
import { param } from "../params.js";
import { optTokenWords } from "./token.js";
import type { Fields as OptClock } from "./clock.js";
import type { CheckpointStoreState } from "../checkpoint/store-state.js";
import type { Fields as CoreReceive } from "../core/receive.js";
import type { Fields as CorePump } from "../core/pump.js";
import type { Fields as CoreRetransmit } from "../core/retransmit.js";
import type { Fields as OptGate } from "./gate.js";

type K = Kernel & Fields & OptClock & CheckpointStoreState & OptAsyncLog & CoreReceive & CorePump & CoreRetransmit & OptGate;

export interface Fields {
  /**
   * Commit requests and tokens that arrived before the log was open and the
   * table restored (peers' frames arrive from the moment a rank connects,
   * while it still opens its log, or recovers); judged after, in arrival
   * order. `tag` absent: a commit request.
   */
  optDeferred: { from: number; words: Uint32Array; tag?: number }[];
  /** Recovery: the surviving deliveries, and the non-orphan ones cuts discarded (onOpen → onRecover). */
  optRecHist: InMsg[];
  optRecDiscarded: InMsg[];
}

export function init(s: K): void {
  s.optDeferred = [];
  s.optRecHist = [];
  s.optRecDiscarded = [];
}

export async function onOpen(s: K, ev: StartEv): Promise<void> {
  if (ev.incarnation > 0) await recoverLog(s);
  // A first incarnation has no table to restore: ready once optimistic/async-log opened the log.
  else optReadyNow(s);
}

/** Ready: judge the deferred commit requests and tokens, then the parked messages, in arrival order. */
function optReadyNow(s: K): void {
  s.optReady = true;
  const dq = s.optDeferred;
  s.optDeferred = [];
  for (const d of dq) s.onControl({ from: d.from, fromIncarnation: 0, tag: d.tag ?? TAG_OPT_COMMIT_REQ, words: d.words, payload: new Uint8Array(0) });
  const q = s.optParked;
  s.optParked = [];
  for (const p of q) if (s.acceptReceive(p)) s.onReceive(p);
}

/** The onOpen part of recovery (see the header): read the log, cut, start the new incarnation. */
async function recoverLog(s: K): Promise<void> {
  const n = s.host.size;
  const me = s.host.rank;
  const hist: InMsg[] = [];
  const histTs: number[] = [];
  let reads: OptRead[] = [];
  const discarded: InMsg[] = [];
  let events = 0;
  let lastInc = 0;
  let baseRsn = 0;
  const ck = await s.ckptStore!.latest();
  if (ck !== null) {
    const st = decodeState(ck.protocol) as Record<string, unknown>;
    baseRsn = st["core.rsn"] as number;
    events = st["opt.ts"] as number;
    lastInc = st["opt.ftInc"] as number;
    const ends = st["opt.ends"] as number[][];
    for (let j = 0; j < n; j++) s.optEnds[j] = ends[j]!.slice();
    for (const m of st["opt.held"] as InMsg[]) discarded.push(m);
    s.optCkpt = { app: ck.app, state: st };
    s.optBaseRsn = baseRsn;
    s.optBaseTs = events;
    s.optStableUpTo = baseRsn;
  }
  const baseTs = events;
  const baseInc = lastInc;
  const recs = await s.optLog!.readAll();
  for (const r of recs) {
    const dv = new DataView(r.data.buffer, r.data.byteOffset, r.data.byteLength);
    const type = dv.getUint32(0, true);
    if (type === 1 || type === 4) {
      // An event record: it replaces every logged event from its timestamp on (a replay
      // plan that a token cut short went live from there, not from the previous CUT).
      const ts = dv.getUint32(type === 1 ? 16 : 4, true);
      if (ts <= baseTs) continue; // in the checkpoint
      if (ts > events + 1) s.host.unrecoverable(`optimistic log: event ${ts} follows event ${events}`);
      while (histTs.length > 0 && histTs[histTs.length - 1]! >= ts) {
        histTs.pop();
        hist.pop();
      }
      while (reads.length > 0 && reads[reads.length - 1]!.ts >= ts) reads.pop();
      events = ts;
      if (type === 1) {
        const pbLen = dv.getUint32(20, true);
        const pb = new Uint32Array(pbLen);
        for (let i = 0; i < pbLen; i++) pb[i] = dv.getUint32(24 + 4 * i, true);
        hist.push({ from: dv.getUint32(4, true), ssn: dv.getUint32(8, true), fromIncarnation: 0, pb, payload: r.data.slice(24 + 4 * pbLen), arrival: 0 });
        histTs.push(ts);
      } else {
        reads.push({ ts, rsn: dv.getUint32(8, true), idx: dv.getUint32(12, true), value: r.data.slice(16) });
      }
    } else if (type === 2) {
      const j = dv.getUint32(4, true);
      const c = dv.getUint32(8, true);
      if (j !== me && s.optEnds[j]!.length === c) s.optEnds[j]!.push(dv.getUint32(12, true));
    } else if (type === 3 && dv.getUint32(8, true) > baseInc) {
      // Counted from the initial state; never below the checkpoint (a committed state is never cut).
      const cut = dv.getUint32(4, true) - baseRsn;
      if (cut < 0) s.host.unrecoverable(`optimistic log: a cut at delivery ${cut + baseRsn} below the checkpoint at ${baseRsn}`);
      const cutTs = dv.getUint32(12, true);
      for (const m of hist.splice(cut)) discarded.push(m);
      histTs.length = cut;
      reads = reads.filter((x) => x.ts <= cutTs);
      events = cutTs;
      lastInc = dv.getUint32(8, true);
      s.optEnds[me]!.length = lastInc - 1;
      s.optEnds[me]!.push(cutTs);
    } else if (type === 3) {
      // A cut the checkpoint already covers (its rollback came before the capture) still voids
      // the records logged before it above its cutTs: they are the discarded states' events,
      // numbered on from a ts the checkpoint may not reach (a crash before the log is truncated
      // at the capture). Kept, the replay plan re-delivered a message the checkpoint's delivered
      // vector already holds (their re-deliveries are in the checkpoint or logged after it).
      const cutTs = dv.getUint32(12, true);
      while (histTs.length > 0 && histTs[histTs.length - 1]! > cutTs) {
        histTs.pop();
        hist.pop();
      }
      reads = reads.filter((x) => x.ts <= cutTs);
      events = histTs.length > 0 ? histTs[histTs.length - 1]! : baseTs;
    }
  }
  // Cut before the first delivery that the persisted table already shows to be an orphan.
  let cut = hist.length;
  for (let i = 0; i < hist.length && cut === hist.length; i++) {
    const pb = hist[i]!.pb;
    for (let k = 0; k < n; k++) {
      const c = pb[1 + k]!;
      const e = s.optEnds[k]!;
      if (c < e.length && pb[1 + n + k]! > e[c]!) cut = i;
    }
  }
  if (cut < hist.length) events = histTs[cut]! - 1;
  for (const m of hist.splice(cut)) discarded.push(m);
  // New incarnation: the crashed one (lastInc) ended after the stable prefix's last event.
  s.ftInc = lastInc + 1;
  s.optEnds[me]!.length = lastInc;
  s.optEnds[me]!.push(events);
  const rec = new Uint32Array([3, baseRsn + hist.length, s.ftInc, events]);
  s.optLog!.append(new Uint8Array(rec.buffer));
  await s.optLog!.sync();
  s.vcInc[me] = s.ftInc;
  for (const x of reads) if (x.ts <= events) s.optRdReplay.set(x.ts, x);
  s.optRecHist = hist;
  s.optRecDiscarded = discarded;
}

export async function onRecover(s: K, _ev: StartEv): Promise<void> {
  const n = s.host.size;
  const me = s.host.rank;
  const hist = s.optRecHist;
  const discarded = s.optRecDiscarded;
  s.optRecHist = [];
  s.optRecDiscarded = [];
  // Replay plan and hold-back: the history, then non-orphan discarded messages (latest version of each).
  // Counted from the restored checkpoint's delivered vector (zero without one).
  const delivered = s.delivered.slice();
  for (const m of hist) {
    s.planSrc.push(m.from);
    s.planSsn.push(m.ssn);
    s.held[m.from]!.set(m.ssn, m);
    delivered[m.from] = m.ssn;
  }
  for (const m of discarded) {
    let lost = false;
    for (let k = 0; k < n; k++) {
      const c = m.pb[1 + k]!;
      const e = s.optEnds[k]!;
      if (c < e.length && m.pb[1 + n + k]! > e[c]!) lost = true;
    }
    if (!lost && m.ssn > delivered[m.from]!) s.held[m.from]!.set(m.ssn, m);
  }
  // Stable here: what the log holds, contiguous per channel.
  for (let j = 0; j < n; j++) {
    let k = delivered[j]!;
    while (s.held[j]!.has(k + 1)) k++;
    s.stableIn[j] = k;
    s.notified[j] = k;
  }
  // Stability claims are gated until acknowledged. `broadcast logical clock`: announce the table
  // (our END included) to everyone now; `exchange vector clock` (optimistic/exchange): peers
  // pull it when they depend on us or hear from this incarnation, and acknowledge it then.
  for (let j = 0; j < n; j++) if (j !== me) s.optAwait[j] = 1;
  if (param<boolean>("opt.broadcast")) {
    const w = optTokenWords(s, 1);
    for (let j = 0; j < n; j++) {
      if (j !== me) s.host.transport.send(j, { kind: KIND_CONTROL as FrameKind, tag: TAG_OPT_TOKEN, piggyback: new Uint8Array(new Uint32Array(w).buffer), payload: new Uint8Array(0) });
    }
  }
  optReadyNow(s);
}

// ---- manifest (blocks/manifest.ts): declared last so edits above merge cleanly.
import type { BlockManifest } from "../manifest.js";

export const manifest: BlockManifest = {
  purpose: "Optimistic recovery: replay what reached the stable log, start a new incarnation, announce its end.",
  implements: [{ module: "CollectDeterminants" }, { variable: "recovery-get-det-proto", value: "centralized" }],
  params: { "opt.broadcast": "boolean" },
  order: {
    // constructor order: fields and inits are laid out in one global chain order
    init: { after: ["optimistic/async-log.ts"] },
    // stores are opened and read back before onStart may replay
    onOpen: { after: ["optimistic/async-log.ts"] },
    // restore the checkpoint, build the replay plan, then core/recovery replays
    onRecover: { after: ["checkpoint/restore.ts"], before: ["core/recovery.ts"] },
  },
  owns: {},
  // the blocks whose fields its K reads
  requires: ["core/pump.ts", "core/receive.ts", "core/retransmit.ts", "optimistic/async-log.ts", "optimistic/clock.ts", "optimistic/gate.ts"],
};
