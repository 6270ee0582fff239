/**
 * Optimistic logging: OrphanDetection, `broadcast logical clock` (Damani &
 * Garg, ICDCS 1996). A token carries the sender's whole incarnation-end table
 * (its own ends included); words:
 *   [flag, senderFtInc, n, then per process j: count_j, end_0 .. end_{count_j - 1}]
 * flag = 1: the sender just recovered from a crash and may have lost tokens:
 * answer with our table. Flags 2 and 3 answer a pull (optimistic/exchange);
 * 3: no acknowledgement wanted.
 *
 * A token that reaches a rank before its log is open and its table restored
 * waits for that (optDeferred, judged by optimistic/collect before the parked
 * messages). On a token, synchronously (before any later frame of the sender,
 * which the FIFO channel delivers after it):
 *  - new ends join the table and are appended to the log (END records);
 *  - held messages that depend on a lost state are discarded, and so is the
 *    rest of a replay plan from its first such message;
 *  - delivered messages (the history) that depend on a lost state make this
 *    process an orphan: stableIn drops below them (they are no longer stable
 *    here: their senders must keep and resend the regenerated versions) and a
 *    rollback is requested (optimistic/rollback), run between deliveries.
 * Then, once the END records are durable, the token is acknowledged with our
 * (corrected) stableIn for the sender: after that our stability claims about
 * its messages are fresh (optimistic/gate.ts). Senders whose messages were
 * discarded are asked to resend (TAG_RECOVER, reply = 1: their retransmission
 * buffer holds the regenerated versions).
 */
import type { FrameKind } from "@egida/runtime-core/spi";
import type { ControlEv, DeliverEv, Kernel, StartEv, TimerEv } from "../hooks.js";
import { KIND_CONTROL, MODE_STARTING, TAG_OPT_ACK, TAG_OPT_TOKEN } from "../tags.js";
import { recoverFrame } from "../core/recover-frame.js";
import { histFrom, histPb, histSsn, outDrop } from "@egida/runtime-core/protocol-lib";
import type { OutQueues } from "../core/out-log.js";
import { optTokenWords } from "./token.js";
import { param } from "../params.js";
import type { Fields as OptClock } from "./clock.js";
import type { Fields as OptGate } from "./gate.js";
import type { Fields as CoreRetransmit } from "../core/retransmit.js";
import type { Fields as OptCollect } from "./collect.js";
import type { Fields as OptAsyncLog } from "./async-log.js";
import type { Fields as CoreReceive } from "../core/receive.js";
import type { PumpState } from "../core/pump-state.js";
import type { Fields as CorePump } from "../core/pump.js";
import type { Fields as OptCommit } from "./commit.js";

type K = Kernel & Fields & OptClock & OptGate & CoreRetransmit & OutQueues & OptCollect & OptAsyncLog & CoreReceive & PumpState & CorePump & OptCommit;

export interface Fields {
  /** The pump is inside host.deliver (set before core/deliver, cleared after it by optimistic/rollback). */
  optInDelivery: boolean;
}

export function init(s: K): void {
  s.optInDelivery = false;
}

export async function onDeliver(s: K, _ev: DeliverEv): Promise<void> {
  s.optInDelivery = true;
}

export function onControl(s: K, ev: ControlEv): void {
  const n = s.host.size;
  const me = s.host.rank;
  if (ev.tag === TAG_OPT_ACK) {
    // words = [our ftInc as the peer saw it, peer's stableIn for us]
    if (ev.words[0] === s.ftInc && s.optAwait[ev.from] === 1) {
      s.optAwait[ev.from] = 0;
      outDrop(s.outq[ev.from]!, ev.words[1]!);
    }
  } else if (ev.tag === TAG_OPT_TOKEN && !s.optReady) {
    // A rank gets tokens (a peer's recovery broadcast) while it still opens its log or restores
    // its table: judging one then appended to no log (TypeError on the real launcher,
    // scripts/real-campaign.ts) and acknowledged a stableIn not yet restored. After, in order.
    s.optDeferred.push({ from: ev.from, words: ev.words.slice(), tag: ev.tag });
  } else if (ev.tag === TAG_OPT_TOKEN) {
    const w = ev.words;
    const from = ev.from;
    const flag = w[0]!;
    const theirInc = w[1]!;
    let p = 3;
    let grew = false;
    const third: number[] = []; // exchange vector clock: processes other than `from` whose ends grew
    for (let j = 0; j < n; j++) {
      const cnt = w[p++]!;
      const e = s.optEnds[j]!;
      const had = e.length;
      for (let c = 0; c < cnt; c++) {
        const v = w[p++]!;
        if (j !== me && c === e.length) {
          e.push(v);
          grew = true;
          s.optLog!.append(new Uint8Array(new Uint32Array([2, j, c, v]).buffer));
        }
      }
      if (!param<boolean>("opt.broadcast") && j !== from && e.length > had) third.push(j);
    }
    const resend = new Uint8Array(n);
    if (grew) {
      // Held messages that depend on a lost state: discard.
      for (let j = 0; j < n; j++) {
        for (const [k, m] of s.held[j]!) {
          let lost = false;
          for (let x = 0; x < n; x++) {
            const c = m.pb[1 + x]!;
            const e = s.optEnds[x]!;
            if (c < e.length && m.pb[1 + n + x]! > e[c]!) lost = true;
          }
          if (lost) {
            s.held[j]!.delete(k);
            resend[j] = 1;
          }
        }
      }
      // A replay plan stops before its first discarded message (that state is not recoverable);
      // the steps after it will run live, so their logged reads are not replayed (plan entry i
      // is delivery optBaseRsn + i + 1: plans start from the rollback base).
      for (let i = s.planPos; i < s.planSrc.length; i++) {
        if (!s.held[s.planSrc[i]!]!.has(s.planSsn[i]!)) {
          s.planSrc.length = i;
          s.planSsn.length = i;
          for (const [ts, x] of s.optRdReplay) if (x.rsn > s.optBaseRsn + i) s.optRdReplay.delete(ts);
        }
      }
      // Delivered messages that depend on a lost state: this process is an orphan.
      const h = s.optHist;
      for (let i = 0; i < h.length; i++) {
        let lost = false;
        for (let x = 0; x < n; x++) {
          const c = histPb(h, i, 1 + x);
          const e = s.optEnds[x]!;
          if (c < e.length && histPb(h, i, 1 + n + x) > e[c]!) lost = true;
        }
        if (lost) {
          const mf = histFrom(h, i);
          const mssn = histSsn(h, i);
          s.optRbWanted = true;
          resend[mf] = 1;
          if (s.stableIn[mf]! >= mssn) s.stableIn[mf] = mssn - 1;
          if (s.notified[mf]! > s.stableIn[mf]!) s.notified[mf] = s.stableIn[mf]!;
        }
      }
    }
    void s.optLog!.sync().then(() => {
      // The ends are durable: acknowledge (our claims about `from`'s messages are fresh from now on).
      // Flag 3 (a pull's answer, optimistic/exchange): the sender's gate is open for us already.
      if (flag !== 3) {
        const ack = new Uint32Array([theirInc, s.stableIn[from]!]);
        s.host.transport.send(from, { kind: KIND_CONTROL as FrameKind, tag: TAG_OPT_ACK, piggyback: new Uint8Array(ack.buffer), payload: new Uint8Array(0) });
      }
      if (!param<boolean>("opt.broadcast")) {
        // Exchange vector clock: ends of a third process j learned from this token are acknowledged
        // to j too (it closed its gate to everyone and sent nothing; only we know that we purged its
        // discarded messages). In this callback, not a chain of its own: the order of these sends
        // and the deliveries the parked release below starts must not depend on microtask depth,
        // which differs between back ends (the differential oracle found it).
        for (const j of third) {
          const a3 = new Uint32Array([s.optEnds[j]!.length, s.stableIn[j]!]);
          s.host.transport.send(j, { kind: KIND_CONTROL as FrameKind, tag: TAG_OPT_ACK, piggyback: new Uint8Array(a3.buffer), payload: new Uint8Array(0) });
        }
      }
      if (flag === 1) {
        const t = optTokenWords(s, 0);
        s.host.transport.send(from, { kind: KIND_CONTROL as FrameKind, tag: TAG_OPT_TOKEN, piggyback: new Uint8Array(new Uint32Array(t).buffer), payload: new Uint8Array(0) });
      }
      // Ask for the regenerated versions of what we discarded (a rollback asks everyone itself).
      if (!s.optRbWanted && !s.optRbRunning && s.optReady) {
        for (let j = 0; j < n; j++) {
          if (resend[j] === 1 && j !== me) s.host.transport.send(j, recoverFrame(s, s.host.incarnation, 1));
        }
      }
      // An orphan rolls back between deliveries: now if the pump is idle, else after the
      // current delivery (optimistic/rollback). A delivery blocked in an output commit (which
      // may wait for a lost state) is released first, its write dropped (optimistic/commit).
      if (s.optRbWanted && !s.optRbRunning && s.mode !== MODE_STARTING) {
        // A handler blocked in an output commit ends first (its write dropped): the rollback
        // then runs after that delivery (optimistic/rollback) or from the flush timer.
        if (!releaseCommits(s) && !s.pumping) {
          s.pumping = true;
          void s.onRollback({ reason: `orphan of a lost state announced by ${from}` }).then(() => {
            s.pumping = false;
            void s.onPump({ reason: 6 });
          });
        }
      }
      if (grew && !s.optRbWanted && !s.optRbRunning && s.optReady) {
        const q = s.optParked;
        s.optParked = [];
        for (const pe of q) if (s.acceptReceive(pe)) s.onReceive(pe);
      }
    });
  }
}

/** A rollback requested while recovery was still setting up runs once the process is live. */
export async function onLive(s: K, _ev: StartEv): Promise<void> {
  if (s.optRbWanted && !s.optRbRunning && !s.pumping) {
    s.pumping = true;
    await s.onRollback({ reason: "orphan detected during recovery" });
    s.pumping = false;
    void s.onPump({ reason: 6 });
  }
}

/**
 * Catch-all: a rollback still wanted (the token arrived while a delivery was
 * running that then blocked in an output commit, which an orphan must never
 * complete) takes over the pump here.
 */
export function onFlushTimer(s: K, _ev: TimerEv): void {
  if (s.optRbWanted && !s.optRbRunning && s.mode !== MODE_STARTING) {
    if (!releaseCommits(s) && !s.pumping) {
      s.pumping = true;
      void s.onRollback({ reason: "orphan (deferred)" }).then(() => {
        s.pumping = false;
        void s.onPump({ reason: 6 });
      });
    }
  }
}

/**
 * A rollback is wanted: release every commit still waiting (one may wait for a
 * lost state that never answers); their writes are dropped (optimistic/commit).
 * True if some handler was waiting, so the rollback must wait for it to end.
 */
function releaseCommits(s: K): boolean {
  if (s.optCommits.size === 0) return false;
  const q = [...s.optCommits.values()];
  s.optCommits.clear();
  for (const p of q) p.done();
  return true;
}

// ---- manifest (blocks/manifest.ts): declared last so edits above merge cleanly.
import type { BlockManifest } from "../manifest.js";

export const manifest: BlockManifest = {
  purpose: "On an incarnation-end token: discard orphan messages, detect being an orphan, acknowledge.",
  implements: [{ module: "OrphanDetection" }, { variable: "orphan-detection-proto", value: "broadcast-logical-clock" }, { variable: "orphan-detection-proto", value: "exchange-vector-clock" }],
  params: { "opt.broadcast": "boolean" },
  order: {
    // constructor order: fields and inits are laid out in one global chain order
    init: { after: ["optimistic/collect.ts"] },
    // forced checkpoints and determinant records before core/deliver hands the message over
    onDeliver: { after: ["optimistic/async-log.ts"], before: ["core/deliver.ts"] },
    // filters and stability claims before the blocks that act on them
    onControl: { after: ["core/retransmit.ts"] },
    // logs and trackers go live before the timers start and core/recovery switches to live mode
    onLive: { after: ["optimistic/async-log.ts"], before: ["core/recovery.ts"] },
    // syncs before the blocks that announce what they made stable
    onFlushTimer: { after: ["optimistic/async-log.ts"] },
  },
  owns: {
    tags: ["TAG_OPT_TOKEN", "TAG_OPT_ACK"],
  },
  // the blocks whose fields its K reads
  requires: ["core/pump.ts", "core/receive.ts", "core/retransmit.ts", "optimistic/async-log.ts", "optimistic/clock.ts", "optimistic/collect.ts", "optimistic/commit.ts", "optimistic/gate.ts"],
};
