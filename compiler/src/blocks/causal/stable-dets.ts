/**
 * Hybrid causal logging (Figure 3b): `receive: ... Log determinant, data
 * asynchronously on <stable storage>`. Every delivery's determinant (and the
 * message: piggyback and contents) is appended to a stable log without
 * waiting; a flush makes the tail durable. It runs on the flush timer, and
 * also as soon as `causal.flushAt` deliveries are unflushed: until flushed,
 * every message piggybacks every own unflushed determinant, so with the timer
 * alone a high message rate made each piggyback grow with the rate (quadratic
 * within a flush period). At most one flush is in flight. Once flushed the
 * determinants are stable (no longer piggybacked: causal/det-log learns the
 * flushed rsn, others through TAG_CAUSAL_STABLE) and the contents are stable
 * here (senders may drop them: stableIn).
 *
 * Recovery (`centralized`): read the log first; its records after the
 * checkpoint are the prefix of the replay plan and their messages go back to
 * hold-back, so only the unflushed tail is gathered from the survivors
 * (causal/gather) and resent by the senders. Replayed deliveries past the
 * log's end are appended again (the log must stay gap-free).
 *
 * Record layout (little-endian u32 words, then bytes), as log/event-log:
 *   [source, ssn, dest, rsn, pbLen, pb[0..pbLen-1]] payload
 */
import type { CheckpointEv, DeliverEv, Kernel, StartEv, TimerEv } from "../hooks.js";
import { param } from "../params.js";
import { causalAnnounce, type DetLogState, type GatherState } from "./stability.js";
import type { Fields as CausalDetLog } from "./det-log.js";
import type { Fields as CoreSsn } from "../core/ssn.js";
import type { Fields as CoreRetransmit } from "../core/retransmit.js";
import type { Fields as CoreReceive } from "../core/receive.js";
import type { Fields as CorePump } from "../core/pump.js";

type K = Kernel & Fields & DetLogState & CausalDetLog & CoreSsn & CoreRetransmit & CoreReceive & CorePump & GatherState;

export interface Fields {
  /** A flush is in flight. */
  sdFlushing: boolean;
  /**
   * Scratch the records are encoded into (and its DataView), grown on demand:
   * `append` copies (LogStore contract), so no ArrayBuffer per record (a
   * record holds the message, so a record of its own would be memory V8
   * allocates outside its heap and frees in a sweep, on every delivery).
   */
  sdBuf: Uint8Array;
  sdDv: DataView;
}

export function init(s: K): void {
  s.sdFlushing = false;
  s.sdBuf = new Uint8Array(0);
  s.sdDv = new DataView(new ArrayBuffer(0));
}

export async function onOpen(s: K, _ev: StartEv): Promise<void> {
  s.cdLog = await s.host.storage.openLog(param<string>("causal.logMedium"), "causal-dets");
}

export async function onDeliver(s: K, ev: DeliverEv): Promise<void> {
  if (ev.rsn > s.cdLogged) {
    const m = ev.msg;
    const head = 20 + m.pb.length * 4;
    const size = head + m.payload.length;
    if (s.sdBuf.length < size) {
      s.sdBuf = new Uint8Array(size > 128 ? 2 * size : 256);
      s.sdDv = new DataView(s.sdBuf.buffer);
    }
    const dv = s.sdDv;
    dv.setUint32(0, m.from, true);
    dv.setUint32(4, m.ssn, true);
    dv.setUint32(8, s.host.rank, true);
    dv.setUint32(12, ev.rsn, true);
    dv.setUint32(16, m.pb.length, true);
    for (let i = 0; i < m.pb.length; i++) dv.setUint32(20 + 4 * i, m.pb[i]!, true);
    s.sdBuf.set(m.payload, head);
    s.cdLog!.append(s.sdBuf.subarray(0, size));
    s.cdLogged = ev.rsn;
    if (m.ssn > s.cdLogSsn[m.from]!) s.cdLogSsn[m.from] = m.ssn;
    s.st.bytesLogged += size;
    // Size trigger; the peers learn the new flushed rsn right away, else they forward our determinants until their next timer tick.
    if (s.cdLogged - s.cdFlushed[s.host.rank]! >= param<number>("causal.flushAt")) sdFlush(s, true);
  }
}

/**
 * Make the log's tail durable (one flush at a time): its determinants become stable (no longer
 * piggybacked) and its messages stable here (senders may drop them). `announce`: then tell the peers.
 */
function sdFlush(s: K, announce: boolean): void {
  const me = s.host.rank;
  if (!s.sdFlushing && s.cdLog !== null && s.cdLogged > s.cdFlushed[me]!) {
    s.sdFlushing = true;
    const upto = s.cdLogged;
    const ssns = s.cdLogSsn.slice();
    void s.cdLog.sync().then(() => {
      s.sdFlushing = false;
      if (upto > s.cdFlushed[me]!) s.cdFlushed[me] = upto;
      for (let j = 0; j < s.host.size; j++) if (ssns[j]! > s.stableIn[j]!) s.stableIn[j] = ssns[j]!;
      if (announce) causalAnnounce(s);
    });
  }
}

export function onFlushTimer(s: K, _ev: TimerEv): void {
  // causal/det-log's timer hook announces what earlier flushes made stable.
  sdFlush(s, false);
}

export async function onRecover(s: K, _ev: StartEv): Promise<void> {
  const me = s.host.rank;
  const recs = await s.cdLog!.readAll();
  let next = s.rsn + 1;
  for (const r of recs) {
    const dv = new DataView(r.data.buffer, r.data.byteOffset, r.data.byteLength);
    const source = dv.getUint32(0, true);
    const ssn = dv.getUint32(4, true);
    const rsn = dv.getUint32(12, true);
    const pbLen = dv.getUint32(16, true);
    if (rsn === next) {
      next++;
      s.planSrc.push(source);
      s.planSsn.push(ssn);
      const pb = new Uint32Array(pbLen);
      for (let i = 0; i < pbLen; i++) pb[i] = dv.getUint32(20 + 4 * i, true);
      s.held[source]!.set(ssn, { from: source, ssn, fromIncarnation: 0, pb, payload: r.data.slice(20 + 4 * pbLen), arrival: 0 });
      if (ssn > s.stableIn[source]!) s.stableIn[source] = ssn;
      if (ssn > s.cdLogSsn[source]!) s.cdLogSsn[source] = ssn;
    } else if (rsn > next) {
      s.host.unrecoverable(`rank ${me}: stable determinant log has a gap: expected rsn ${next}, found ${rsn}`);
    }
  }
  s.cdLogged = next - 1;
  if (s.cdLogged > s.cdFlushed[me]!) s.cdFlushed[me] = s.cdLogged;
}

export async function onCheckpoint(s: K, ev: CheckpointEv): Promise<void> {
  ev.state["causal.lsn"] = s.cdLog!.nextLsn;
}

export async function onCheckpointDurable(s: K, ev: CheckpointEv): Promise<void> {
  await s.cdLog!.truncatePrefix(ev.state["causal.lsn"] as number);
}

// ---- manifest (blocks/manifest.ts): declared last so edits above merge cleanly.
import type { BlockManifest } from "../manifest.js";

export const manifest: BlockManifest = {
  purpose: "Hybrid causal: receive determinants and messages logged asynchronously on disk; recovery reads them first.",
  implements: [{ module: "LogEventDeterminant" }, { variable: "event-info", value: "determinant" }, { variable: "event-info", value: "message" }, { variable: "how-to-log", value: "asynchronously" }, { variable: "storage", value: "local-disk" }, { variable: "storage", value: "nfs-disk" }],
  params: { "causal.logMedium": "string", "causal.flushAt": "number" },
  order: {
    // constructor order: fields and inits are laid out in one global chain order
    init: { after: ["checkpoint/restore.ts"] },
    // stores are opened and read back before onStart may replay
    onOpen: { after: ["checkpoint/restore.ts"] },
    // syncs before the blocks that announce what they made stable
    onFlushTimer: { after: ["core/retransmit.ts"] },
    // restore the checkpoint, build the replay plan, then core/recovery replays
    onRecover: { after: ["checkpoint/restore.ts"] },
    // every block adds its state before the store writes it (last)
    onCheckpoint: { after: ["core/output-seq.ts"] },
    // GC after the checkpoint is durable, in chain order
    onCheckpointDurable: { after: ["core/retransmit.ts"] },
  },
  owns: {
    records: [{ log: "causal-dets", layout: "[source, ssn, dest, rsn, pbLen, pb[0..pbLen-1]] payload" }],
    state: ["causal.lsn"],
  },
  // the blocks whose fields its K reads (DetLogState and GatherState are causal/det-log's and causal/gather's)
  requires: ["causal/det-log.ts", "causal/gather.ts", "core/pump.ts", "core/receive.ts", "core/retransmit.ts", "core/ssn.ts"],
};
