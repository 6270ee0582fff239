/**
 * Optimistic logging: the fault-tolerant vector clock (Damani & Garg, ICDCS
 * 1996; Strom & Yemini 1985), `send: Piggyback vector clock`.
 *
 * One `(incarnation, timestamp)` entry per process; a process's timestamp is
 * its state-interval index `optTs` = the number of non-deterministic events
 * (deliveries and `ctx.read`s, paper §2) in its current history, its
 * incarnation (`ftInc`) grows on every crash-recovery and every rollback. A
 * read starts a state interval like a receive: a read whose value was not
 * logged when the process crashed is lost, and so is every state after it,
 * so the sends that followed it must carry a timestamp beyond the end the
 * recovery announces (optimistic/async-log.ts logs reads). Every message
 * piggybacks the whole clock right after the core header:
 *   words [1 .. n]     incarnations,  words [n+1 .. 2n] timestamps.
 * Delivery merges entry-wise by lexicographic max on (incarnation, ts) and
 * ticks the own entry (Damani–Garg FTVC).
 *
 * `optEnds[j][c]` is the incarnation-end table: states of incarnation c of j
 * with ts > optEnds[j][c] are lost (announced by j's token after it crashed
 * or rolled back). It is persistent (END / CUT records in the optimistic log).
 *
 * acceptReceive (Damani–Garg receive rule):
 *  - a message that depends on a lost state is an orphan message: discarded;
 *  - a message that depends on incarnation c of j before this process knows
 *    the ends of j's incarnations < c is postponed (merging would hide an
 *    older, possibly lost, dependency): parked until the token arrives;
 *  - while a rollback is pending or running, or before recovery has restored
 *    the incarnation-end table, every message is parked (its ssn may reuse
 *    one this process delivered in a state it is about to discard).
 */
import type { DeliverEv, Kernel, RecvEv, RestoreEv, SendEv } from "../hooks.js";
import type { Fields as CoreSsn } from "../core/ssn.js";

type K = Kernel & Fields & CoreSsn;

export interface Fields {
  /** This process's FT incarnation (persisted by CUT records). */
  ftInc: number;
  /** This process's state-interval index: deliveries + reads since the initial state. */
  optTs: number;
  vcInc: Uint32Array;
  vcTs: Uint32Array;
  /** Incarnation-end table: optEnds[j][c] = last surviving timestamp of incarnation c of j. */
  optEnds: number[][];
  /** Messages postponed by acceptReceive, re-filtered when the reason goes away. */
  optParked: RecvEv[];
  /**
   * The log is open and the incarnation-end table restored (a first
   * incarnation: once its log is open; a recovering one: once recovery
   * collected it); before that, park messages and defer control frames.
   */
  optReady: boolean;
  /** A rollback is requested / running (optimistic/orphan, optimistic/rollback). */
  optRbWanted: boolean;
  optRbRunning: boolean;
}

export function init(s: K): void {
  s.ftInc = 0;
  s.optTs = 0;
  s.vcInc = new Uint32Array(s.host.size);
  s.vcTs = new Uint32Array(s.host.size);
  s.optEnds = [];
  for (let j = 0; j < s.host.size; j++) s.optEnds.push([]);
  s.optParked = [];
  // Not even a first incarnation is ready at creation: peers' frames arrive while it opens its log.
  s.optReady = false;
  s.optRbWanted = false;
  s.optRbRunning = false;
}

export function onSend(s: K, ev: SendEv): void {
  const n = s.host.size;
  const me = s.host.rank;
  s.vcInc[me] = s.ftInc;
  s.vcTs[me] = s.optTs;
  s.pbw.set(s.vcInc, ev.pbLen);
  s.pbw.set(s.vcTs, ev.pbLen + n);
  ev.pbLen += 2 * n;
}

export function acceptReceive(s: K, ev: RecvEv): boolean {
  const n = s.host.size;
  let ok = true;
  if (s.optRbWanted || s.optRbRunning || !s.optReady) {
    s.optParked.push(ev);
    ok = false;
  } else {
    for (let k = 0; k < n && ok; k++) {
      const c = ev.pb[1 + k]!;
      const e = s.optEnds[k]!;
      if (c < e.length && ev.pb[1 + n + k]! > e[c]!) {
        ok = false; // depends on a lost state: an orphan message
        s.host.trace({ type: "protocol", rank: s.host.rank, what: `discard orphan message ${ev.from}:${ev.ssn}` });
      } else if (c > e.length) {
        ok = false; // ends of k's earlier incarnations unknown yet
        s.optParked.push(ev);
      }
    }
  }
  return ok;
}

export async function onDeliver(s: K, ev: DeliverEv): Promise<void> {
  const n = s.host.size;
  const me = s.host.rank;
  const pb = ev.msg.pb;
  const at = ev.pbPos;
  for (let k = 0; k < n; k++) {
    if (k === me) continue;
    const c = pb[at + k]!;
    const t = pb[at + n + k]!;
    if (c > s.vcInc[k]! || (c === s.vcInc[k]! && t > s.vcTs[k]!)) {
      s.vcInc[k] = c;
      s.vcTs[k] = t;
    }
  }
  s.vcInc[me] = s.ftInc;
  s.vcTs[me] = ++s.optTs;
  ev.pbPos = at + 2 * n;
}

/**
 * Recovery or rollback restores a checkpoint (its clock) or the initial state (the clock
 * restarts); either way the own entry carries the new incarnation.
 */
export function onRestore(s: K, ev: RestoreEv): void {
  const ts = ev.state["opt.ts"];
  if (typeof ts === "number") {
    s.optTs = ts;
    s.vcInc.set(ev.state["opt.vcInc"] as Uint32Array);
    s.vcTs.set(ev.state["opt.vcTs"] as Uint32Array);
  } else {
    s.optTs = 0;
    s.vcInc.fill(0);
    s.vcTs.fill(0);
  }
  s.vcInc[s.host.rank] = s.ftInc;
}

// ---- manifest (blocks/manifest.ts): declared last so edits above merge cleanly.
import type { BlockManifest } from "../manifest.js";

export const manifest: BlockManifest = {
  purpose: "Fault-tolerant vector clock (incarnation, timestamp) piggybacked on every message; orphan messages discarded.",
  implements: [{ module: "PiggybackLogging" }, { variable: "pb-value", value: "vector-clock" }],
  params: {},
  order: {
    // constructor order: fields and inits are laid out in one global chain order
    init: { after: ["checkpoint/restore.ts"] },
    // piggyback words are appended in chain order; core/ssn first, core/transmit (or log/send-log) last
    onSend: { after: ["core/ssn.ts"], before: ["core/transmit.ts"] },
    // filters run in chain order: pulls before the clock parks a message
    acceptReceive: { after: ["optimistic/exchange.ts"] },
    // state comes back in the order it was added
    onRestore: { after: ["core/output-seq.ts"] },
  },
  owns: {
    wire: ["piggyback after the ssn: the vector clock, (incarnation, timestamp) per process"],
  },
  // the blocks whose fields its K reads
  requires: ["core/ssn.ts"],
};
