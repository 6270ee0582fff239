/**
 * CollectDeterminants from the process's own stable event log (the
 * pessimistic protocols, and `centralized` retrieval): after the checkpoint
 * is restored, every logged delivery with rsn above the checkpoint's becomes
 * the replay plan, in rsn order. When the log holds the contents too
 * (receiver-based logging) the messages are put back in hold-back, so replay
 * needs nobody; otherwise (sender-based) core/recovery asks the senders.
 * Each peer's answer to our TAG_RECOVER also makes us resend what it has not
 * delivered from our restored retransmission buffer (core/out-log outResend).
 */
import type { ControlEv, Kernel, SendEv, StartEv } from "../hooks.js";
import { outResend } from "../core/out-log.js";
import { MODE_LIVE, TAG_STABLE } from "../tags.js";
import type { PumpState } from "../core/pump-state.js";
import type { Fields as CorePump } from "../core/pump.js";
import type { Fields as CoreRecovery } from "../core/recovery.js";
import type { Fields as CoreSsn } from "../core/ssn.js";
import type { Fields as LogEventLog } from "../log/event-log.js";
import type { Fields as CoreReceive } from "../core/receive.js";
import type { Fields as CoreRetransmit } from "../core/retransmit.js";

type K = Kernel & Fields & PumpState & CorePump & CoreRecovery & CoreSsn & LogEventLog & CoreReceive & CoreRetransmit;

/** The check's state (peerSaw, regenSsn) lives in core/recovery's Fields, so every protocol initializes it. */
export interface Fields {}

/*
 * Lost-log check. With the log on stable storage nothing a peer has seen can
 * be lost: every send follows the logged determinants it depends on, so
 * restore + replay regenerates every message any peer delivered from us. A
 * peer that delivered more than recovery regenerated means the log lost
 * records (a file truncated or replaced between incarnations, or more
 * replicas down than f): going live would re-send those ssns with other
 * contents, which the peer drops as duplicates, silently. Peers report what
 * they delivered when answering our TAG_RECOVER (core/retransmit).
 */
export function init(_s: K): void {}

export function onSend(s: K, ev: SendEv): void {
  if (s.mode !== MODE_LIVE) s.regenSsn[ev.to] = ev.ssn;
}

export function onControl(s: K, ev: ControlEv): void {
  // words = [stable, delivered from us, our incarnation it answers] (core/retransmit).
  if (ev.tag === TAG_STABLE && ev.words.length >= 3 && s.host.incarnation > 0 && ev.words[2] === s.host.incarnation) {
    const j = ev.from;
    outResend(s, j, ev.words[1]!);
    if (ev.words[1]! > s.peerSaw[j]!) s.peerSaw[j] = ev.words[1]!;
    // Before going live the replay may still regenerate them: onLive checks then.
    if (s.mode === MODE_LIVE && s.peerSaw[j]! > s.regenSsn[j]!) {
      s.host.unrecoverable(
        `rank ${s.host.rank} incarnation ${s.host.incarnation}: recovery regenerated ${s.regenSsn[j]} messages to rank ${j}, ` +
          `which had delivered ${s.peerSaw[j]} from it: the event log lost records (storage truncated or replaced between incarnations?)`,
      );
    }
  }
}

export async function onLive(s: K, ev: StartEv): Promise<void> {
  for (let j = 0; j < s.host.size; j++) {
    if (ev.incarnation > 0 && s.peerSaw[j]! > s.regenSsn[j]!) {
      s.host.unrecoverable(
        `rank ${s.host.rank} incarnation ${s.host.incarnation}: recovery regenerated ${s.regenSsn[j]} messages to rank ${j}, ` +
          `which had delivered ${s.peerSaw[j]} from it: the event log lost records (storage truncated or replaced between incarnations?)`,
      );
    }
  }
}

export async function onRecover(s: K, _ev: StartEv): Promise<void> {
  s.regenSsn = s.ssn.slice(); // the checkpoint's (or a re-run onStart's) sends; replay adds to it
  const recs = await s.evLog!.readAll();
  let next = s.rsn + 1;
  for (const r of recs) {
    const dv = new DataView(r.data.buffer, r.data.byteOffset, r.data.byteLength);
    const source = dv.getUint32(0, true);
    const ssn = dv.getUint32(4, true);
    const rsn = dv.getUint32(12, true);
    const pbLen = dv.getUint32(16, true);
    if (rsn >= next) {
      if (rsn !== next) s.host.unrecoverable(`event log has a gap: expected rsn ${next}, found ${rsn}`);
      next++;
      s.planSrc.push(source);
      s.planSsn.push(ssn);
      if (pbLen > 0) {
        const pb = new Uint32Array(pbLen);
        for (let i = 0; i < pbLen; i++) pb[i] = dv.getUint32(20 + 4 * i, true);
        s.held[source]!.set(ssn, {
          from: source,
          ssn,
          fromIncarnation: 0,
          pb,
          payload: r.data.slice(20 + 4 * pbLen),
          arrival: 0,
        });
        if (ssn > s.stableIn[source]!) s.stableIn[source] = ssn;
      }
    }
  }
}

// ---- manifest (blocks/manifest.ts): declared last so edits above merge cleanly.
import type { BlockManifest } from "../manifest.js";

export const manifest: BlockManifest = {
  purpose: "Build the replay plan from the stable event log (centralized), or from the replicas the survivors hold (distributed).",
  implements: [{ module: "CollectDeterminants" }, { variable: "recovery-get-det-proto", value: "centralized" }, { variable: "recovery-get-det-proto", value: "distributed" }],
  params: {},
  order: {
    // constructor order: fields and inits are laid out in one global chain order
    init: { after: ["log/watermark.ts"] },
    // piggyback words are appended in chain order; core/ssn first, core/transmit (or log/send-log) last
    onSend: { after: ["log/watermark.ts"], before: ["core/transmit.ts"] },
    // filters and stability claims before the blocks that act on them
    onControl: { after: ["checkpoint/schedule.ts", "core/retransmit.ts"], before: ["core/recovery.ts"] },
    // logs and trackers go live before the timers start and core/recovery switches to live mode
    onLive: { after: ["log/read-log.ts"] },
    // restore the checkpoint, build the replay plan, then core/recovery replays
    onRecover: { after: ["checkpoint/restore.ts"], before: ["core/recovery.ts"] },
  },
  owns: {},
  // the blocks whose fields its K reads
  requires: ["core/pump.ts", "core/receive.ts", "core/recovery.ts", "core/retransmit.ts", "core/ssn.ts", "log/event-log.ts"],
};
