/**
 * LogEventDeterminant for `read` events: the value a `ctx.read(produce)`
 * returned is non-deterministic input, so it is part of a determinant
 * (language.md: "a read determinant also records the value read") logged
 * like a receive determinant. Pessimistic: appended before the read
 * returns, not awaited; log/watermark holds every send and output made after
 * it until a sync round covers it, so nothing that depends on the value
 * leaves the process without the record (`read.wait`: causal logging with a
 * synchronous read log and no watermark waits for the sync instead).
 *
 * Selected for `read: determinant : {...} Log determinant synchronously on
 * <medium>`, or (no read statement) folded onto the receive-determinant
 * log's medium: a piecewise-deterministic process cannot be replayed without
 * its read values (see select.ts).
 *
 * The determinant is <self, rsn, idx>: `rsn` is the delivery during which the
 * read ran (0 = the app's onStart), `idx` its position among that step's
 * reads. Replay re-executes every step after the restored checkpoint in the
 * same order, so the same (rsn, idx) asks again and gets the logged value
 * without calling `produce`. A read with no record (the crash came before
 * its sync) was seen by nothing outside the process (no send or output left
 * before the record was durable): it is produced and logged afresh.
 *
 * Own log (`reads`) on the medium, so the receive log's record format and
 * its collector stay unchanged. Records are loaded in onOpen because, with no
 * checkpoint, checkpoint/restore re-runs onStart (and its reads) before the
 * rest of the onRecover chain.
 *
 * Asynchronous (`read.async`, causal logging only: `read: ... Log determinant
 * asynchronously on <local | NFS disk>`): the record is appended without
 * waiting and synced on the flush timer. Until then causal/det-log piggybacks
 * the value like a receive determinant (it also chooses the value during
 * recovery: a value some process holds, else this log's, else a fresh one;
 * this block then appends whatever it did not log). `rdFlushed` = every read
 * of a step before it is durable: the step the process was in when a sync
 * started (reads are awaited inside their step, so earlier steps' reads were
 * all appended); det-log announces it and stops carrying those reads.
 *
 * Record layout (little-endian u32 words, then bytes): [dest, rsn, idx] value
 */
import type { LogStore } from "@egida/runtime-core/spi";
import type { CheckpointEv, Kernel, ReadEv, RestoreEv, StartEv, TimerEv } from "../hooks.js";
import { param } from "../params.js";
import type { Fields as CoreReceive } from "../core/receive.js";
import type { Fields as CoreSsn } from "../core/ssn.js";

type K = Kernel & Fields & CoreReceive & CoreSsn;

export interface Fields {
  rdLog: LogStore | null;
  /** The step (rsn) the last read ran in, and the next read's index within it. */
  rdStep: number;
  rdIdx: number;
  /** Logged values not yet re-read, by `${rsn}.${idx}` (recovery only). */
  rdReplay: Map<string, Uint8Array>;
  /** Scratch the records are encoded into, grown on demand (`append` copies: LogStore contract). */
  rdBuf: Uint8Array;
  rdDv: DataView;
  /** Asynchronous: reads of every step before this are durable; a sync is in flight; records appended since the last sync started. */
  rdFlushed: number;
  rdSyncing: boolean;
  rdDirty: boolean;
}

export function init(s: K): void {
  s.rdLog = null;
  s.rdStep = -1;
  s.rdIdx = 0;
  s.rdReplay = new Map();
  s.rdBuf = new Uint8Array(0);
  s.rdDv = new DataView(new ArrayBuffer(0));
  s.rdFlushed = 0;
  s.rdSyncing = false;
  s.rdDirty = false;
}

export async function onOpen(s: K, ev: StartEv): Promise<void> {
  s.rdLog = await s.host.storage.openLog(param<string>("read.medium"), "reads");
  if (ev.incarnation > 0) {
    for (const r of await s.rdLog.readAll()) {
      const dv = new DataView(r.data.buffer, r.data.byteOffset, r.data.byteLength);
      s.rdReplay.set(`${dv.getUint32(4, true)}.${dv.getUint32(8, true)}`, r.data.slice(12));
    }
  }
}

export function onRestore(s: K, ev: RestoreEv): void {
  // Reads up to the checkpoint's rsn are inside it (checkpoints are taken between steps).
  const upTo = ev.state["core.rsn"] as number;
  for (const key of [...s.rdReplay.keys()]) if (Number(key.split(".")[0]) <= upTo) s.rdReplay.delete(key);
}

export function onRead(s: K, ev: ReadEv): void {
  // Position is taken synchronously, so concurrent reads of one step get distinct indexes in call order.
  if (s.rsn !== s.rdStep) {
    s.rdStep = s.rsn;
    s.rdIdx = 0;
  }
  const rsn = s.rdStep;
  const idx = s.rdIdx++;
  const key = `${rsn}.${idx}`;
  const logged = s.rdReplay.get(key);
  s.rdReplay.delete(key);
  // Asynchronous: causal/det-log chose the value (a held one overrides a stale record, appended again).
  const given = ev.value;
  if (logged !== undefined && (!param<boolean>("read.async") || given === null)) {
    ev.value = logged;
  } else {
    // Appended once the value is at hand: at once for a synchronous produce, when its promise resolves otherwise.
    const append = (value: Uint8Array): Uint8Array | Promise<Uint8Array> => {
      // det-log chose the logged record itself: it is in the log already.
      if (param<boolean>("read.async") && value === logged) return value;
      const size = 12 + value.length;
      if (s.rdBuf.length < size) {
        s.rdBuf = new Uint8Array(size > 128 ? 2 * size : 256);
        s.rdDv = new DataView(s.rdBuf.buffer);
      }
      const dv = s.rdDv;
      dv.setUint32(0, s.host.rank, true);
      dv.setUint32(4, rsn, true);
      dv.setUint32(8, idx, true);
      s.rdBuf.set(value, 12);
      s.rdLog!.append(s.rdBuf.subarray(0, size));
      s.st.bytesLogged += size;
      if (param<boolean>("read.async")) s.rdDirty = true;
      // No log/watermark (causal, synchronous read log): the value waits for its record.
      if (param<boolean>("read.wait")) return s.rdLog!.sync().then(() => value);
      return value;
    };
    const v = param<boolean>("read.async") && given !== null ? given : ev.produce();
    ev.value = v instanceof Uint8Array ? append(v) : v.then(append);
  }
}

export function onFlushTimer(s: K, _ev: TimerEv): void {
  if (param<boolean>("read.async") && !s.rdSyncing) {
    // Every read of an earlier step was appended before now (reads resolve inside their step).
    const upto = s.rsn;
    if (!s.rdDirty) {
      // Only while the last read's step is not covered yet: the watermark is announced to every peer
      // when it moves, and a process that stopped reading need not tell them on every tick.
      if (s.rdStep >= s.rdFlushed && upto > s.rdFlushed) s.rdFlushed = upto;
    } else {
      s.rdDirty = false;
      s.rdSyncing = true;
      void s.rdLog!.sync().then(() => {
        s.rdSyncing = false;
        if (upto > s.rdFlushed) s.rdFlushed = upto;
      });
    }
  }
}

export async function onLive(s: K, ev: StartEv): Promise<void> {
  if (param<boolean>("read.lostTail")) {
    // Causal logging, and pessimistic logging by the watermark (the read log and the event log are synced
    // separately, so a read's record may be durable while its delivery's is not): a crash loses the determinants of the last deliveries nobody came to depend
    // on, and recovery replays up to the one before; the reads of those lost steps were seen by no
    // surviving state. Forgotten here, so a live step with the same (rsn, idx) produces afresh (its
    // record is appended after the stale one, and readAll keeps the later).
    for (const key of [...s.rdReplay.keys()]) if (Number(key.split(".")[0]) > s.rsn) s.rdReplay.delete(key);
  }
  // Replay re-ran every logged step; a logged value nobody asked for again means the app
  // is not piecewise deterministic (its reads depend on something outside the log).
  if (ev.incarnation > 0 && s.rdReplay.size > 0) {
    s.host.unrecoverable(`replay diverged: ${s.rdReplay.size} logged read value(s) were not read again (first: rsn.idx ${[...s.rdReplay.keys()][0]})`);
  }
}

export async function onCheckpoint(s: K, ev: CheckpointEv): Promise<void> {
  ev.state["read.lsn"] = s.rdLog!.nextLsn;
}

export async function onCheckpointDurable(s: K, ev: CheckpointEv): Promise<void> {
  // Reads before the checkpoint are covered by it.
  await s.rdLog!.truncatePrefix(ev.state["read.lsn"] as number);
}

// ---- manifest (blocks/manifest.ts): declared last so edits above merge cleanly.
import type { BlockManifest } from "../manifest.js";

export const manifest: BlockManifest = {
  purpose: "Read determinants (<self, rsn, idx> + value) on a stable log; replay returns the logged value.",
  implements: [{ module: "LogEventDeterminant" }, { variable: "event-info", value: "determinant" }, { variable: "how-to-log", value: "synchronously" }, { variable: "how-to-log", value: "asynchronously" }, { variable: "storage", value: "local-disk" }, { variable: "storage", value: "nfs-disk" }, { variable: "storage", value: "volatile-memory-of-processes" }],
  params: { "read.medium": "string", "read.async": "boolean", "read.wait": "boolean", "read.lostTail": "boolean" },
  order: {
    // constructor order: fields and inits are laid out in one global chain order
    init: { after: ["causal/gather.ts", "log/event-log.ts"] },
    // stores are opened and read back before onStart may replay
    onOpen: { after: ["causal/det-log.ts", "log/event-log.ts"] },
    // state comes back in the order it was added
    onRestore: { after: ["causal/det-log.ts", "checkpoint/schedule.ts", "core/output-seq.ts"] },
    // logged or replayed value before core/read produces one
    onRead: { after: ["causal/det-log.ts"], before: ["core/read.ts"] },
    // syncs before the blocks that announce what they made stable
    onFlushTimer: { after: ["causal/det-log.ts", "core/retransmit.ts"] },
    // logs and trackers go live before the timers start and core/recovery switches to live mode
    onLive: { after: ["causal/det-log.ts", "core/timers.ts"] },
    // every block adds its state before the store writes it (last)
    onCheckpoint: { after: ["causal/det-log.ts", "log/event-log.ts"] },
    // GC after the checkpoint is durable, in chain order
    onCheckpointDurable: { after: ["causal/det-log.ts", "log/event-log.ts"] },
  },
  owns: {
    records: [{ log: "reads", layout: "[dest, rsn, idx] value" }],
    state: ["read.lsn"],
  },
  // the blocks whose fields its K reads
  requires: ["core/receive.ts", "core/ssn.ts"],
};
