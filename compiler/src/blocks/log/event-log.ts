/**
 * LogEventDeterminant (+ LogEventInfo, HowToLog, WhereToLog): the receiver's
 * log of delivery events, `receive: determinant : {source, sesn, dest, desn}
 * Log determinant[, message] <how> on <storage>`.
 *
 * A record is the determinant #m = <source, ssn, dest, rsn>, then the
 * message's piggyback and contents when `message` is logged (receiver-based
 * logging). Pessimistic (`Log ... synchronously`): the record is appended
 * before the onDeliver chain reaches core/deliver, without waiting for it to
 * be durable; log/watermark holds every send and output made after it until
 * a sync round covers it, so nothing that depends on the delivery leaves the
 * process before its determinant is stable (and, when the contents are logged
 * too, that round makes the message stable here: the sender may drop it).
 *
 * Record layout (little-endian u32 words, then bytes):
 *   [source, ssn, dest, rsn, pbLen, pb[0..pbLen-1]] payload?
 */
import type { LogStore } from "@egida/runtime-core/spi";
import type { CheckpointEv, DeliverEv, Kernel, StartEv } from "../hooks.js";
import { param } from "../params.js";
import type { Fields as CoreSsn } from "../core/ssn.js";

type K = Kernel & Fields & CoreSsn;

export interface Fields {
  /** The event log on its medium (opened in onOpen). */
  evLog: LogStore | null;
  /**
   * Scratch the records are encoded into (and its DataView), grown on demand:
   * `append` copies (LogStore contract), so no ArrayBuffer per record.
   */
  evBuf: Uint8Array;
  evDv: DataView;
}

export function init(s: K): void {
  s.evLog = null;
  s.evBuf = new Uint8Array(0);
  s.evDv = new DataView(new ArrayBuffer(0));
}

export async function onOpen(s: K, _ev: StartEv): Promise<void> {
  s.evLog = await s.host.storage.openLog(param<string>("log.medium"), "events");
}

export function onDeliver(s: K, ev: DeliverEv): Promise<void> | void {
  if (!ev.replay) {
    const m = ev.msg;
    const pbLen = param<boolean>("log.message") ? m.pb.length : 0;
    const head = 20 + pbLen * 4;
    const size = head + (param<boolean>("log.message") ? m.payload.length : 0);
    if (s.evBuf.length < size) {
      s.evBuf = new Uint8Array(size > 128 ? 2 * size : 256);
      s.evDv = new DataView(s.evBuf.buffer);
    }
    const buf = s.evBuf;
    const dv = s.evDv;
    dv.setUint32(0, m.from, true);
    dv.setUint32(4, m.ssn, true);
    dv.setUint32(8, s.host.rank, true);
    dv.setUint32(12, ev.rsn, true);
    dv.setUint32(16, pbLen, true);
    for (let i = 0; i < pbLen; i++) dv.setUint32(20 + 4 * i, m.pb[i]!, true);
    if (param<boolean>("log.message")) buf.set(m.payload, head);
    // Not awaited: log/watermark gates what depends on it.
    s.evLog!.append(buf.subarray(0, size));
    s.st.bytesLogged += size;
  }
}

export async function onCheckpoint(s: K, ev: CheckpointEv): Promise<void> {
  ev.state["log.lsn"] = s.evLog!.nextLsn;
}

export async function onCheckpointDurable(s: K, ev: CheckpointEv): Promise<void> {
  // Records before the checkpoint are covered by it (GarbageCollect).
  await s.evLog!.truncatePrefix(ev.state["log.lsn"] as number);
}

// ---- manifest (blocks/manifest.ts): declared last so edits above merge cleanly.
import type { BlockManifest } from "../manifest.js";

export const manifest: BlockManifest = {
  purpose: "Receive determinants (and optionally message contents) appended to a stable log before delivery (pessimistic logging).",
  implements: [{ module: "LogEventDeterminant" }, { variable: "event-info", value: "determinant" }, { variable: "event-info", value: "message" }, { variable: "how-to-log", value: "synchronously" }, { variable: "storage", value: "local-disk" }, { variable: "storage", value: "nfs-disk" }, { variable: "storage", value: "volatile-memory-of-processes" }],
  params: { "log.medium": "string", "log.message": "boolean" },
  order: {
    // constructor order: fields and inits are laid out in one global chain order
    init: { after: ["checkpoint/restore.ts", "checkpoint/schedule.ts"] },
    // stores are opened and read back before onStart may replay
    onOpen: { after: ["checkpoint/restore.ts"] },
    // forced checkpoints and determinant records before core/deliver hands the message over
    onDeliver: { after: ["checkpoint/schedule.ts"], before: ["core/deliver.ts"] },
    // every block adds its state before the store writes it (last)
    onCheckpoint: { after: ["checkpoint/schedule.ts", "core/output-seq.ts"] },
    // GC after the checkpoint is durable, in chain order
    onCheckpointDurable: { after: ["checkpoint/schedule.ts", "core/retransmit.ts"] },
  },
  owns: {
    records: [{ log: "events", layout: "[source, ssn, dest, rsn, pbLen, pb[0..pbLen-1]] payload?" }],
    state: ["log.lsn"],
  },
  // the blocks whose fields its K reads
  requires: ["core/ssn.ts"],
};
