/**
 * Optimistic logging: OrphanDetection, `exchange vector clock` (after Strom &
 * Yemini's dependency vectors and Sistla & Welch's exchange of log
 * progress). Instead of a failed or rolled-back process pushing its
 * incarnation-end table to everyone (`broadcast logical clock`), a process
 * pulls the ends it needs from the processes it depends on. FIRST in the
 * chain (before optimistic/gate): its acceptReceive must see a message before
 * optimistic/clock parks it, and its onControl must see a commit
 * acknowledgement before optimistic/commit forgets the commit.
 *
 * Knowledge: `optKnownInc/Ts[k]` = the highest state (c, t) of k known to be
 * stable at k (from pull answers and commit acknowledgements). Stability is
 * prefix-closed within an incarnation, and a state of an ended incarnation is
 * stable or lost as k's table says (a crash's surviving prefix came from the
 * log; a rollback's kept prefix is synced with its CUT), so clock entry (c, t)
 * of k needs asking only while c is k's latest incarnation we know of and
 * (c, t) is above what we know stable.
 *
 * Pulls (TAG_OPT_PULL [c, t], one per peer per flush interval at most):
 *  - on the flush timer, to every k whose clock entry needs asking: the FT
 *    vector clock names every process a state transitively depends on, so a
 *    lost dependency is found within a flush interval of the asker's next
 *    tick, from the process that lost it (a state lost by a rollback depends
 *    on a state lost by a crash, whose process is in the clock too);
 *  - when a message depends on an incarnation of k whose predecessors' ends
 *    we do not know (optimistic/clock parks it), at once, to k; and on every
 *    tick while such a message is parked (k may have been down).
 * k answers after syncing its log with its token (the whole table; flag 2
 * or 3 and [c, t'] after it: k's states of incarnation c up to t' ≥ t are
 * stable, 3 = k's gate is open for us, no acknowledgement wanted; flag 0:
 * the table says (c, t) is lost, or k moved to a new incarnation meanwhile). The token is then handled exactly as a broadcast one
 * (optimistic/orphan: END records, purge of held messages and replay plans,
 * orphan detection and rollback, acknowledgement, which opens k's stale-claim
 * gate for us). Nobody sends a token unasked: optimistic/collect and
 * optimistic/rollback only close their gates (param `opt.broadcast`), and
 * optimistic/orphan also acknowledges ends learned second-hand to their owner.
 *
 * Job end (optimistic/exchange-finish): an orphan that hears from nobody
 * would otherwise finish with a lost dependency (the broadcast reaches every
 * process; pulls only find what someone asks for), so finish also waits until
 * every clock entry is known stable.
 */
import type { FrameKind } from "@egida/runtime-core/spi";
import type { ControlEv, Kernel, RecvEv, TimerEv } from "../hooks.js";
import { KIND_CONTROL, TAG_OPT_COMMIT_ACK, TAG_OPT_PULL, TAG_OPT_TOKEN } from "../tags.js";
import { optExchangeCheck, optKnow, optPull, optPullAll } from "./pull.js";
import type { ExchangeState } from "./exchange-state.js";
import { optTokenWords } from "./token.js";
import type { Fields as OptClock } from "./clock.js";
import type { Fields as OptCollect } from "./collect.js";
import type { Fields as OptAsyncLog } from "./async-log.js";
import type { Fields as OptGate } from "./gate.js";
import type { Fields as OptCommit } from "./commit.js";
import type { PumpState } from "../core/pump-state.js";

type K = Kernel & Fields & OptClock & OptCollect & OptAsyncLog & OptGate & OptCommit & PumpState;

export interface Fields extends ExchangeState {
  /** Per peer k: the highest state (incarnation, ts) of k known stable at k. */
  optKnownInc: Uint32Array;
  optKnownTs: Uint32Array;
  /** Per peer: pulled since the last flush tick (one pull per peer per interval). */
  optPulled: Uint8Array;
  /** Protocol.finish calls waiting until every dependency is known stable (optimistic/exchange-finish). */
  optExFinWait: (() => void)[];
}

export function init(s: K): void {
  s.optKnownInc = new Uint32Array(s.host.size);
  s.optKnownTs = new Uint32Array(s.host.size);
  s.optPulled = new Uint8Array(s.host.size);
  s.optExFinWait = [];
}

export function acceptReceive(s: K, ev: RecvEv): boolean {
  // optimistic/clock parks a message that depends on an incarnation of k whose predecessors'
  // ends we lack: ask k now, or the message waits for our next flush tick.
  if (s.optReady) {
    const n = s.host.size;
    for (let k = 0; k < n; k++) {
      const c = ev.pb[1 + k]!;
      if (c > s.optEnds[k]!.length) optPull(s, k, c, ev.pb[1 + n + k]!);
    }
  }
  return true;
}

export function onControl(s: K, ev: ControlEv): void {
  const me = s.host.rank;
  const w = ev.words;
  if (ev.tag === TAG_OPT_PULL) {
    const c = w[0]!;
    const t = w[1]!;
    const from = ev.from;
    // Before our table is restored, judged later (optimistic/collect replays deferred frames).
    if (!s.optReady) s.optDeferred.push({ from, words: w.slice(), tag: TAG_OPT_PULL });
    else {
      // Every event up to optTs has its record appended (the clock ticks and the log appends in
      // one synchronous stretch, before the application runs): after this sync they are durable.
      const inc = s.ftInc;
      const upTo = s.optTs;
      void s.optLog!.sync().then(() => {
        const e = s.optEnds[me]!;
        // The asked state was sent, so it is at most (inc, upTo): stable now, unless the table says lost.
        const lost = (c < e.length && t > e[c]!) || c > e.length || s.ftInc !== inc;
        const tok = optTokenWords(s, lost ? 0 : s.optAwait[from] === 1 ? 2 : 3);
        // What we know stable: the asked state if it is of an ended incarnation, else all of ours up to upTo.
        if (!lost) tok.push(c, c === inc ? upTo : t);
        s.host.transport.send(from, { kind: KIND_CONTROL as FrameKind, tag: TAG_OPT_TOKEN, piggyback: new Uint8Array(new Uint32Array(tok).buffer), payload: new Uint8Array(0) });
      });
    }
  }
  if (ev.tag === TAG_OPT_TOKEN && (w[0] === 2 || w[0] === 3)) {
    // An answer to our pull: the asked state is stable at the sender (optimistic/orphan merges the table).
    let p = 3;
    for (let j = 0; j < w[2]!; j++) p += 1 + w[p]!;
    // No finish check here: optimistic/orphan has not merged the table yet (it may make us an
    // orphan); the next flush tick checks.
    optKnow(s, ev.from, w[p]!, w[p + 1]!);
  } else if (ev.tag === TAG_OPT_COMMIT_ACK) {
    // optimistic/commit (or a checkpoint's commit round) asked the sender to make this state stable.
    const pc = s.optCommits.get(w[0]!);
    if (pc !== undefined && pc.need[ev.from] === 1) optKnow(s, ev.from, pc.inc[ev.from]!, pc.ts[ev.from]!);
  }
}

export function onFlushTimer(s: K, _ev: TimerEv): void {
  s.optPulled.fill(0);
  optPullAll(s);
  optExchangeCheck(s);
}

// ---- manifest (blocks/manifest.ts): declared last so edits above merge cleanly.
import type { BlockManifest } from "../manifest.js";

export const manifest: BlockManifest = {
  purpose: "Exchange vector clock: pull incarnation ends from the processes the clock depends on; answer pulls.",
  implements: [{ module: "OrphanDetection" }, { variable: "orphan-detection-proto", value: "exchange-vector-clock" }],
  params: {},
  order: {
    // syncs before the blocks that announce what they made stable
    onFlushTimer: { before: ["core/retransmit.ts"] },
  },
  owns: {
    tags: ["TAG_OPT_PULL"],
  },
  // the blocks whose fields its K reads
  requires: ["optimistic/async-log.ts", "optimistic/clock.ts", "optimistic/collect.ts", "optimistic/commit.ts", "optimistic/gate.ts"],
};
