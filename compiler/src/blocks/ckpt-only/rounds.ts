/**
 * Recovery and commit for the checkpoint-only protocols (no message logs, so
 * survivors roll back too). Rank 0 coordinates; a restarted rank 0 starts a
 * new round itself, so a coordinator crash only costs a round.
 *
 * Recovery round R (R = rank 0's incarnation · 2^16 + a counter: increasing):
 *  1. PREPARE(R): every process holds its pump (no delivery, no checkpoint),
 *     waits for in-flight checkpoint writes, REPORTs its durable history and,
 *     if it has its volatile state, its open interval (ckpt-only/line.ts).
 *  2. Rank 0 computes the recovery line and sends ROLLBACK(R, line, I).
 *     Each process restores its line checkpoint (application state and every
 *     block's protocol state: ssn, delivered vector, retransmission buffer,
 *     pending outputs, history), or starts from scratch, or keeps its state;
 *     drops every held message; enters epoch R; and writes a *recovery
 *     checkpoint* of that state (index I, new key) before it says ROLLED.
 *  3. RESUME(R) once all are ROLLED: the recovery checkpoints are a durable
 *     consistent line no later failure goes below, so everything older is
 *     garbage. Each process goes live and ANNOUNCEs its delivered vector;
 *     peers resend, re-stamped with epoch R, what it lacks from their
 *     retransmission buffers (the messages in transit across the line).
 * Until every recovery checkpoint is durable nobody delivers or sends in
 * epoch R, so a crash during a round leaves only real states of the one
 * execution on storage and the next round starts over from them.
 *
 * Commit: on its checkpoint timer rank 0 POLLs (coordinated: the poll is the
 * marker of snapshot k; a process answers once its checkpoint k is durable,
 * which is the ack), collects the durable histories (HIST) and COMMITs the
 * line below which no recovery can go: each process drops older
 * checkpoints, tells senders which messages are stable (TAG_STABLE, they trim
 * their retransmission buffers) and releases its outputs up to that line.
 *
 * Finish (Protocol.finish, every rank is done): outputs wait for a committed
 * line, and a job shorter than the checkpoint interval ends before the first
 * commit, so the finish phase commits until a *final* line: rank 0 polls on a
 * fast timer (FIN polls); on a FIN poll every process checkpoints its current
 * state (communication-induced: with an index above every index rank 0 has
 * seen, so the indices line up and the committed line is the latest
 * checkpoints; co-ordinated: the poll is a snapshot marker anyway), and the
 * COMMIT says whether the line is final (line.ts `finalLine`: everyone at its
 * latest checkpoint, nothing in transit). A final commit releases every
 * remaining output and resolves finish. A crash meanwhile starts a recovery
 * round as usual: the round's epoch has no final commit yet, so rank 0 polls
 * again once it resumes (a restarted rank 0 once the launcher calls its
 * finish), and the processes re-execute from the line until a final one.
 */
import { deserialize, serialize } from "node:v8";
import type { FrameKind } from "@egida/runtime-core/spi";
import type { CheckpointEv, ControlEv, Kernel, PeerIncarnationEv, RestoreEv, StartEv, TimerEv } from "../hooks.js";
import {
  KIND_APP,
  KIND_CONTROL,
  MODE_LIVE,
  TAG_CP_ANNOUNCE,
  TAG_CP_COMMIT,
  TAG_CP_HIST,
  TAG_CP_POLL,
  TAG_CP_PREPARE,
  TAG_CP_REPORT,
  TAG_CP_RESTART,
  TAG_CP_RESUME,
  TAG_CP_ROLLBACK,
  TAG_CP_ROLLED,
  TAG_STABLE,
} from "../tags.js";
import { committedLine, finalLine, recoveryLine, type Entry, type Report } from "./line.js";
import { param } from "../params.js";
import { type OutLog, type OutPack, newOutLog, outAt, outDrop, outPack, outUnpack, decodeState } from "@egida/runtime-core/protocol-lib";
import type { OutQueues } from "../core/out-log.js";
import type { Fields as CpPump } from "./pump.js";
import type { PumpState } from "../core/pump-state.js";
import type { CheckpointStoreState } from "../checkpoint/store-state.js";
import type { Fields as CpStore } from "./store.js";
import type { Fields as CpIndexPb } from "./index-pb.js";
import type { Fields as CpOutput } from "./output.js";
import type { Fields as CoreReceive } from "../core/receive.js";
import type { Fields as CoreSsn } from "../core/ssn.js";
import type { RoundPhase } from "./round-phase.js";

type K = Kernel & Fields & CpPump & PumpState & CheckpointStoreState & CpStore & CpIndexPb & CpOutput & CoreReceive & CoreSsn;

export interface Fields extends OutQueues, RoundPhase {
  /** Retransmission buffer: per destination, sent messages not yet stable there (kept in checkpoints; packed: core/out-log). */
  outq: OutLog[];
  /** Highest recovery round joined. */
  cpRound: number;
  /** 0 running; 1 held for round cpRound (or restarted, not yet restored); 2 rolled back, recovery checkpoint durable, waiting for RESUME. */
  cpPhase: number;
  /** The process has its state (false: restarted, not yet restored by a round). */
  cpLive: boolean;
  /** Round work, in order; starts once storage is open and the first checkpoint is durable. */
  cpTask: Promise<void>;
  cpReady: (() => void) | null;
  /** Resolves a restarted process's onRecover at RESUME. */
  cpRecovered: (() => void) | null;
  /** Key of this process's recovery checkpoint in the current round. */
  cpRcKey: number;
  /** Announcements of a round this process has not resumed yet: [round, have] per peer. */
  cpAnn: (number[] | null)[];
  /** A poll to answer: [epoch, n, k]. */
  cpPoll: number[] | null;
  /** The last round applied, [round, line...]: written in the recovery checkpoint and every later one. */
  cpApplied: number[] | null;
  // ---- coordinator (rank 0)
  cpK: number;
  cpCoord: number;
  cpKnownInc: number[];
  cpReps: (Report | null)[];
  cpRolled: number;
  cpPollN: number;
  cpPollOpen: number;
  cpHists: (Entry[] | null)[];
  // ---- finish phase
  /** Protocol.finish was called on this incarnation. */
  cpFin: boolean;
  /** Epoch of the last final commit seen (-1: none): finish resolves once it is the current epoch. */
  cpFinal: number;
  /** Pending Protocol.finish calls, resolved by the final commit. */
  cpFinWait: (() => void)[];
  /** Rank 0: the fast FIN poll timer. */
  stopFinTimer: (() => void) | null;
  /** Rank 0: FIN ticks since the open poll was issued (a poll lost to a crash is reissued). */
  cpFinTicks: number;
  /** Rank 0: highest checkpoint index seen in the collected histories (the next FIN poll's target, communication-induced). */
  cpFinIdx: number;
  /** Rank 0: epoch whose final commit it has sent (-1: none). No FIN poll after it: its own COMMIT may still be on the way to it. */
  cpFinSent: number;
}

export function init(s: K): void {
  s.outq = [];
  for (let i = 0; i < s.host.size; i++) s.outq.push(newOutLog(i));
  s.cpRound = 0;
  // A restarted process is held (no delivery, checkpoint, poll answer or commit) until a round restores it.
  s.cpLive = s.host.incarnation === 0;
  s.cpPhase = s.cpLive ? 0 : 1;
  s.cpHold = !s.cpLive;
  s.cpReady = null;
  s.cpTask = new Promise<void>((resolve) => {
    s.cpReady = resolve;
  });
  s.cpRecovered = null;
  s.cpRcKey = 0;
  s.cpAnn = new Array<number[] | null>(s.host.size).fill(null);
  s.cpPoll = null;
  s.cpApplied = null;
  s.cpK = 0;
  s.cpCoord = 0;
  s.cpKnownInc = new Array<number>(s.host.size).fill(0);
  s.cpReps = [];
  s.cpRolled = 0;
  s.cpPollN = 0;
  s.cpPollOpen = 0;
  s.cpHists = [];
  s.cpFin = false;
  s.cpFinal = -1;
  s.cpFinWait = [];
  s.stopFinTimer = null;
  s.cpFinTicks = 0;
  s.cpFinIdx = 0;
  s.cpFinSent = -1;
}

// ------------------------------------------------------------------ helpers

/** A control frame; to self it is handled asynchronously, like a frame. */
function ctl(s: K, to: number, tag: number, word: number, body: unknown): void {
  const words = new Uint32Array([word]);
  const payload = new Uint8Array(serialize(body));
  if (to === s.host.rank) {
    const ev = { from: to, fromIncarnation: s.host.incarnation, tag, words, payload };
    void Promise.resolve().then(() => s.onControl(ev));
  } else {
    s.host.transport.send(to, { kind: KIND_CONTROL as FrameKind, tag, piggyback: new Uint8Array(words.buffer), payload });
  }
}

function bcast(s: K, tag: number, word: number, body: unknown): void {
  for (let j = 0; j < s.host.size; j++) ctl(s, j, tag, word, body);
}

/** Wait until no delivery or checkpoint capture is in progress (the pump is held) and every write is durable. */
async function quiet(s: K): Promise<void> {
  await new Promise<void>((resolve) => {
    s.cpIdle = resolve;
    void s.onPump({ reason: 5 });
  });
  await s.cpWrite;
}

function durableHist(s: K): Entry[] {
  return s.cpHist.filter((e) => e.key <= s.cpDurable);
}

/** Resend to `to` what it has not delivered, stamped with the current epoch (the messages are valid in it). */
function resend(s: K, to: number, have: number): void {
  const q = s.outq[to]!;
  for (let i = 0; i < q.length; i++) {
    const m = outAt(q, i);
    if (m.ssn <= have) continue;
    const pb = m.pb; // outAt's own copy
    pb[1] = s.cpEpoch;
    s.host.transport.send(to, { kind: KIND_APP as FrameKind, tag: 0, piggyback: new Uint8Array(pb.buffer), payload: m.payload });
  }
}

/** Checkpoint `key` is on a committed line: drop what precedes it, notify senders, release outputs. */
async function commitAt(s: K, key: number): Promise<void> {
  const e = s.cpHist.find((x) => x.key === key);
  if (e !== undefined) {
    s.cpHist = s.cpHist.filter((x) => x.key >= key);
    for (let j = 0; j < s.host.size; j++) {
      if (j !== s.host.rank && e.dlv[j]! > 0) {
        const w = new Uint32Array([e.dlv[j]!]);
        s.host.transport.send(j, { kind: KIND_CONTROL as FrameKind, tag: TAG_STABLE, piggyback: new Uint8Array(w.buffer), payload: new Uint8Array(0) });
      }
    }
    const keep: { seq: number; payload: Uint8Array }[] = [];
    for (const o of s.cpOut) {
      if (o.seq <= e.out) {
        s.host.trace({ type: "output", rank: s.host.rank, seq: o.seq });
        void s.host.emitOutput(o.seq, o.payload);
        if (o.seq > s.cpReleased) s.cpReleased = o.seq;
      } else keep.push(o);
    }
    s.cpOut = keep;
    await s.ckptStore!.gc(key);
  }
}

function startRound(s: K): void {
  s.cpK++;
  s.cpCoord = s.host.incarnation * 65536 + s.cpK;
  s.cpReps = new Array<Report | null>(s.host.size).fill(null);
  s.cpRolled = 0;
  s.cpPollOpen = 0;
  s.host.trace({ type: "protocol", rank: s.host.rank, what: `cp-round ${s.cpCoord}` });
  bcast(s, TAG_CP_PREPARE, s.cpCoord, null);
}

function maybeAnswer(s: K): void {
  const p = s.cpPoll;
  if (p !== null && p[0] === s.cpEpoch && s.cpPhase === 0) {
    const hist = durableHist(s);
    // p[3]: the key of the checkpoint a FIN poll made this process take (0: none); the answer waits for it.
    if (p[3]! > 0 ? s.cpDurable >= p[3]! : p[2]! < 0 || hist.some((e) => e.idx >= p[2]!)) {
      s.cpPoll = null;
      ctl(s, 0, TAG_CP_HIST, p[0]!, { n: p[1], hist });
    }
  }
}

// ------------------------------------------------------------------ participant

function onPrepare(s: K, r: number): void {
  if (r > s.cpRound) {
    s.cpRound = r;
    s.cpPhase = 1;
    s.cpHold = true;
    s.cpPoll = null;
    s.cpTask = s.cpTask.then(async () => {
      await quiet(s);
      if (s.cpRound === r) {
        const rep: Report = { live: s.cpLive, hist: durableHist(s), cur: s.cpLive ? { idx: s.cpIdx, maxIn: s.cpMaxIn, deps: s.cpDeps.slice() } : null, applied: s.cpApplied };
        ctl(s, 0, TAG_CP_REPORT, r, rep);
      }
    });
  }
}

function onRollback(s: K, r: number, line: number[], common: number): void {
  if (r === s.cpRound && s.cpPhase === 1) {
    s.cpTask = s.cpTask.then(async () => {
      if (s.cpRound !== r) return;
      const L = line[s.host.rank]!;
      for (const q of s.held) q.clear();
      if (L > 0) {
        const c = await s.ckptStore!.load(L);
        if (c === null) s.host.unrecoverable(`recovery line checkpoint ${L} is missing`);
        s.host.restoreAppState(c.app);
        s.onRestore({ index: L, state: decodeState(c.protocol) as Record<string, unknown> });
      } else if (L === 0) {
        if (s.cpLive) s.host.unrecoverable("a live process cannot restart from scratch");
        s.cpEpoch = r;
        await s.host.initApp({ replay: false });
      }
      if (L >= 0) {
        s.st.rollbacks++;
        s.host.trace({ type: "rollback", rank: s.host.rank, reason: `round ${r}: ${L > 0 ? `restore checkpoint ${L}` : "restart from the initial state"}` });
      }
      s.cpEpoch = r;
      s.host.trace({
        type: "protocol",
        rank: s.host.rank,
        what: `cp-line ${JSON.stringify({ round: r, key: L, sent: Array.from(s.ssn), dlv: Array.from(s.delivered) })}`,
      });
      // The recovery checkpoint: this line state, durable, with the round's common index and line.
      s.cpApplied = [r, ...line];
      s.cpWantIdx = common;
      await s.onCheckpoint({ index: 0, app: s.host.captureAppState(), state: {}, delivered: s.delivered.slice(), rsn: s.rsn });
      await s.cpWrite;
      if (s.cpRound === r) {
        s.cpRcKey = s.cpKey;
        s.cpLive = true;
        s.cpPhase = 2;
        ctl(s, 0, TAG_CP_ROLLED, r, null);
      }
    });
  }
}

function onResume(s: K, r: number): void {
  s.cpTask = s.cpTask.then(async () => {
    if (s.cpRound !== r || s.cpPhase !== 2) return;
    s.cpPhase = 0;
    await commitAt(s, s.cpRcKey);
    s.cpHold = false;
    s.mode = MODE_LIVE;
    const dlv = Array.from(s.delivered);
    for (let j = 0; j < s.host.size; j++) {
      if (j === s.host.rank) continue;
      ctl(s, j, TAG_CP_ANNOUNCE, r, dlv);
      const a = s.cpAnn[j]!;
      if (a !== null && a[0] === r) resend(s, j, a[1]!);
      s.cpAnn[j] = null;
    }
    const rec = s.cpRecovered;
    s.cpRecovered = null;
    if (rec !== null) rec();
    void s.onPump({ reason: 6 });
  });
}

function onPoll(s: K, epoch: number, n: number, k: number, fin: boolean): void {
  s.cpTask = s.cpTask.then(async () => {
    if (epoch !== s.cpEpoch || s.cpPhase !== 0) return;
    const p = [epoch, n, k, 0];
    s.cpPoll = p;
    // A target index: checkpoint k unless already there (co-ordinated marker; a FIN poll's target,
    // communication-induced). No target on a FIN poll (independent): checkpoint the current state.
    const take = (): boolean => (k >= 0 ? s.cpIdx < k : fin);
    if (take()) {
      // At the next gap between deliveries.
      s.cpHold = true;
      await quiet(s);
      if (take() && s.cpPhase === 0) {
        s.cpWantIdx = k;
        await s.onCheckpoint({ index: 0, app: s.host.captureAppState(), state: {}, delivered: s.delivered.slice(), rsn: s.rsn });
        if (fin) p[3] = s.cpKey;
      }
      if (s.cpPhase === 0) {
        s.cpHold = false;
        void s.onPump({ reason: 7 });
      }
    }
    maybeAnswer(s);
  });
}

// ------------------------------------------------------------------ hooks

export async function onRecover(s: K, ev: StartEv): Promise<void> {
  const done = new Promise<void>((resolve) => {
    s.cpRecovered = resolve;
  });
  const c = await s.ckptStore!.latest();
  if (c !== null) s.cpApplied = ((decodeState(c.protocol) as Record<string, unknown>)["cp.applied"] as number[] | null | undefined) ?? null;
  s.cpReady!();
  if (s.host.rank === 0) startRound(s);
  else ctl(s, 0, TAG_CP_RESTART, ev.incarnation, null);
  await done;
  s.host.trace({ type: "recover", rank: s.host.rank, incarnation: ev.incarnation, replayed: 0 });
}

export async function onLive(s: K, ev: StartEv): Promise<void> {
  if (ev.incarnation === 0) {
    // The initial checkpoint (index 0): no delivery precedes it, so no line ever goes below it.
    s.cpWantIdx = 0;
    await s.onCheckpoint({ index: 0, app: s.host.captureAppState(), state: {}, delivered: s.delivered.slice(), rsn: s.rsn });
    await s.cpWrite;
    s.mode = MODE_LIVE;
    s.cpReady!();
  }
  void s.onPump({ reason: 3 });
}

export function onControl(s: K, ev: ControlEv): void {
  const w = ev.words[0]!;
  if (ev.tag === TAG_STABLE) {
    outDrop(s.outq[ev.from]!, w);
  } else if (ev.tag === TAG_CP_PREPARE) onPrepare(s, w);
  else if (ev.tag === TAG_CP_ROLLBACK) {
    const b = deserialize(ev.payload) as { line: number[]; common: number };
    onRollback(s, w, b.line, b.common);
  } else if (ev.tag === TAG_CP_RESUME) onResume(s, w);
  else if (ev.tag === TAG_CP_ANNOUNCE) {
    const have = (deserialize(ev.payload) as number[])[s.host.rank]!;
    if (w === s.cpEpoch && s.cpPhase === 0) resend(s, ev.from, have);
    // Not resumed in that round yet (or not even rolled back): answer at RESUME.
    else if (w >= s.cpEpoch) s.cpAnn[ev.from] = [w, have];
  } else if (ev.tag === TAG_CP_POLL) {
    const b = deserialize(ev.payload) as { n: number; k: number; fin: boolean };
    onPoll(s, w, b.n, b.k, b.fin);
  } else if (ev.tag === TAG_CP_COMMIT) {
    const b = deserialize(ev.payload) as { line: number[]; fin: boolean };
    const key = b.line[s.host.rank]!;
    s.cpTask = s.cpTask.then(async () => {
      if (w === s.cpEpoch && s.cpPhase === 0 && key > 0) {
        await commitAt(s, key);
        if (b.fin) {
          // Final: every output this process will ever write was covered, and is released.
          s.cpFinal = w;
          const waiting = s.cpFinWait;
          s.cpFinWait = [];
          for (const resolve of waiting) resolve();
        }
      }
    });
  } else if (s.host.rank === 0) {
    // ---- coordinator
    const kind = param<string>("cp.kind");
    if (ev.tag === TAG_CP_RESTART) {
      if (w > s.cpKnownInc[ev.from]!) {
        s.cpKnownInc[ev.from] = w;
        startRound(s);
      }
    } else if (ev.tag === TAG_CP_REPORT && w === s.cpCoord && s.cpReps[ev.from] === null) {
      s.cpReps[ev.from] = deserialize(ev.payload) as Report;
      if (s.cpReps.every((x) => x !== null)) {
        const reps = s.cpReps as Report[];
        const line = recoveryLine(kind, reps);
        // Common index of the recovery checkpoints: at least every line state's index.
        let common = 0;
        line.forEach((key, j) => {
          const r = reps[j]!;
          const idx = key === -1 ? r.cur!.idx : key === 0 ? 0 : r.hist.find((e) => e.key === key)!.idx;
          if (idx > common) common = idx;
        });
        s.host.trace({ type: "protocol", rank: 0, what: `cp-decide ${JSON.stringify({ round: w, line, common })}` });
        bcast(s, TAG_CP_ROLLBACK, w, { line, common });
      }
    } else if (ev.tag === TAG_CP_ROLLED && w === s.cpCoord) {
      s.cpRolled++;
      if (s.cpRolled === s.host.size) bcast(s, TAG_CP_RESUME, w, null);
    } else if (ev.tag === TAG_CP_HIST && w === s.cpEpoch && s.cpPollOpen > 0) {
      const b = deserialize(ev.payload) as { n: number; hist: Entry[] };
      if (b.n === s.cpPollN) {
        s.cpHists[ev.from] = b.hist;
        for (const e of b.hist) if (e.idx > s.cpFinIdx) s.cpFinIdx = e.idx;
        if (s.cpHists.every((x) => x !== null)) {
          s.cpPollOpen = 0;
          const hists = s.cpHists as Entry[][];
          const line = committedLine(kind, hists);
          const fin = finalLine(line, hists);
          if (fin) s.cpFinSent = w;
          bcast(s, TAG_CP_COMMIT, w, { line, fin });
        }
      }
    }
  }
}

export function onPeerIncarnation(s: K, ev: PeerIncarnationEv): void {
  if (s.host.rank === 0 && ev.incarnation > s.cpKnownInc[ev.rank]!) {
    s.cpKnownInc[ev.rank] = ev.incarnation;
    startRound(s);
  }
}

/** Rank 0 issues poll n+1: for the committed line (coordinated: start snapshot k, the poll is its marker). */
function issuePoll(s: K, fin: boolean, kind: string): void {
  s.cpPollN++;
  s.cpPollOpen = 1;
  s.cpFinTicks = 0;
  s.cpHists = new Array<Entry[] | null>(s.host.size).fill(null);
  // A FIN poll (communication-induced) asks for one index above all seen, so the latest checkpoints form the line.
  const k = kind === "coordinated" ? s.cpIdx + 1 : fin && kind === "communication-induced" ? Math.max(s.cpIdx, s.cpFinIdx) + 1 : -1;
  bcast(s, TAG_CP_POLL, s.cpEpoch, { n: s.cpPollN, k, fin });
}

/** Rank 0 can poll: live, not in a round, and in the epoch of its own last round. */
function canPoll(s: K): boolean {
  return s.host.rank === 0 && s.cpPhase === 0 && s.cpLive && s.cpCoord === s.cpEpoch;
}

/**
 * Finishing and this epoch has no final commit yet (a round since the last one restarts the search).
 * Rank 0 counts the final commit it sent: it applies its own COMMIT only after the checkpoint garbage
 * collection before it, and a FIN tick in between would poll again, costing every process one more
 * checkpoint as the job ends.
 */
function finPending(s: K): boolean {
  return s.cpFin && s.cpFinal !== s.cpEpoch && s.cpFinSent !== s.cpEpoch;
}

export function onCheckpointTimer(s: K, _ev: TimerEv): void {
  // Once finishing, only the FIN timer polls: this chain also runs the local checkpoint timer
  // (communication-induced, independent) in the same event, and a FIN poll's checkpoint racing
  // it would depend on the back end's await depth (the differential test compares traces). After
  // the final commit no checkpoint is needed: every output is released and no rank sends again.
  if (canPoll(s) && !s.cpFin) {
    // A poll unanswered for a few ticks (a reply lost to a crash) is reissued.
    if (s.cpPollOpen === 0 || ++s.cpPollOpen > 4) issuePoll(s, false, param<string>("cp.kind"));
  }
}

/** Rank 0's FIN timer: the next FIN poll as soon as the last one is committed (one in flight at a time). */
function finTick(s: K, kind: string): void {
  if (canPoll(s) && finPending(s)) {
    // Reissue only after ~1 s: a FIN poll costs every process a durable checkpoint.
    if (s.cpPollOpen === 0 || ++s.cpFinTicks > 100) issuePoll(s, true, kind);
  }
}

/**
 * Protocol.finish: resolves at the final commit of the current epoch. Rank 0
 * runs the FIN timer from now on (it only polls while no final commit covers
 * the current epoch).
 */
export async function onFinish(s: K, _ev: StartEv): Promise<void> {
  s.cpFin = true;
  const kind = param<string>("cp.kind");
  if (s.host.rank === 0 && s.stopFinTimer === null) {
    // 10 ms: a FIN round costs a checkpoint per process; this only paces them. The first poll waits
    // for the first tick too: polling from here would start it at whatever await depth the caller's
    // finish() runs (different per back end), not at a timer event like every other poll.
    s.stopFinTimer = s.host.timers.every(10, () => finTick(s, kind));
  }
  if (s.cpFinal !== s.cpEpoch || s.cpPhase !== 0) {
    await new Promise<void>((resolve) => {
      s.cpFinWait.push(resolve);
    });
  }
}

export async function onStop(s: K, _ev: StartEv): Promise<void> {
  if (s.stopFinTimer !== null) s.stopFinTimer();
  s.stopFinTimer = null;
}

export async function onCheckpoint(s: K, ev: CheckpointEv): Promise<void> {
  ev.state["cp.outq"] = outPack(s.outq);
  ev.state["cp.applied"] = s.cpApplied;
}

export function onRestore(s: K, ev: RestoreEv): void {
  s.outq = outUnpack(s.host.size, ev.state["cp.outq"] as OutPack[]);
  s.cpApplied = (ev.state["cp.applied"] as number[] | null | undefined) ?? null;
}

export async function onCheckpointDurable(s: K, _ev: CheckpointEv): Promise<void> {
  maybeAnswer(s);
}

// ---- manifest (blocks/manifest.ts): declared last so edits above merge cleanly.
import type { BlockManifest } from "../manifest.js";

export const manifest: BlockManifest = {
  purpose: "Checkpoint-only recovery rounds run by rank 0: recovery line, rollback, resend, commit.",
  implements: [{ module: "Checkpoint" }, { variable: "ckpt-proto", value: "coordinated" }, { variable: "ckpt-proto", value: "communication-induced" }, { variable: "ckpt-proto", value: "independent" }],
  params: { "cp.kind": "string" },
  order: {
    // constructor order: fields and inits are laid out in one global chain order
    init: { after: ["checkpoint/independent.ts", "ckpt-only/snapshot.ts"], before: ["core/deliver.ts"] },
    // logs and trackers go live before the timers start and core/recovery switches to live mode
    onLive: { after: ["checkpoint/independent.ts", "ckpt-only/snapshot.ts"] },
    // the timer's block before the blocks that react to it
    onCheckpointTimer: { after: ["checkpoint/independent.ts"] },
    // timers stopped in chain order
    onStop: { after: ["checkpoint/independent.ts", "ckpt-only/snapshot.ts"] },
    // every block adds its state before the store writes it (last)
    onCheckpoint: { after: ["ckpt-only/output.ts"] },
    // state comes back in the order it was added
    onRestore: { after: ["ckpt-only/output.ts"] },
  },
  owns: {
    tags: ["TAG_CP_PREPARE", "TAG_CP_REPORT", "TAG_CP_ROLLBACK", "TAG_CP_ROLLED", "TAG_CP_RESUME", "TAG_CP_ANNOUNCE", "TAG_CP_POLL", "TAG_CP_HIST", "TAG_CP_COMMIT", "TAG_CP_RESTART"],
    state: ["cp.outq", "cp.applied"],
  },
  // the blocks whose fields its K reads
  requires: ["ckpt-only/index-pb.ts", "ckpt-only/output.ts", "ckpt-only/pump.ts", "ckpt-only/store.ts", "core/receive.ts", "core/ssn.ts"],
};
