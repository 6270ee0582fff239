/**
 * Core: recovery orchestration, last in the onRecover chain (after the
 * checkpoint is restored and a CollectDeterminants block has filled the
 * replay plan). The recovering process announces its restored delivered
 * vector (TAG_RECOVER); every peer resends what it has not delivered from its
 * retransmission buffer (Strom–Bacon–Yemini / Johnson–Zwaenepoel recovery).
 * Then it replays the plan and resolves when live again. Also the onLive
 * switch to live mode for a first incarnation.
 */
import type { ControlEv, Kernel, PeerIncarnationEv, StartEv } from "../hooks.js";
import { MODE_LIVE, MODE_REPLAY, MODE_STARTING, TAG_RECOVER } from "../tags.js";
import { recoverFrame } from "./recover-frame.js";
import type { PumpState } from "./pump-state.js";
import type { Fields as CorePump } from "./pump.js";
import type { Fields as CoreReceive } from "./receive.js";
import type { Fields as CoreRetransmit } from "./retransmit.js";

type K = Kernel & Fields & PumpState & CorePump & CoreReceive & CoreRetransmit;

export interface Fields {
  /** Deliveries replayed by the last recovery (for the trace). */
  replayed: number;
  /** Per peer: the most it said it delivered from us, answering this incarnation's TAG_RECOVER (collect/stable-log). */
  peerSaw: Uint32Array;
  /** Per peer: our ssn as restored and regenerated before going live (collect/stable-log). */
  regenSsn: Uint32Array;
}

export function init(s: K): void {
  s.replayed = 0;
  s.peerSaw = new Uint32Array(s.host.size);
  s.regenSsn = new Uint32Array(s.host.size);
}

export async function onRecover(s: K, ev: StartEv): Promise<void> {
  const done = new Promise<void>((resolve) => {
    s.replayDone = resolve;
  });
  s.replayed = s.planSrc.length;
  s.mode = MODE_REPLAY;
  for (let j = 0; j < s.host.size; j++) {
    if (j !== s.host.rank) s.host.transport.send(j, recoverFrame(s, ev.incarnation, 0));
  }
  void s.onPump({ reason: 2 });
  await done;
  s.host.trace({ type: "recover", rank: s.host.rank, incarnation: ev.incarnation, replayed: s.replayed });
}

export async function onLive(s: K, _ev: StartEv): Promise<void> {
  if (s.mode === MODE_STARTING) s.mode = MODE_LIVE;
  void s.onPump({ reason: 3 });
}

/**
 * A peer that recovers while we are still replaying may have lost our
 * request (it died before answering): ask it again, marked as a reply so two
 * replaying processes do not ping-pong.
 */
export function onControl(s: K, ev: ControlEv): void {
  if (ev.tag === TAG_RECOVER && ev.words[1] === 0 && s.mode === MODE_REPLAY) s.host.transport.send(ev.from, recoverFrame(s, s.host.incarnation, 1));
}

export function onPeerIncarnation(s: K, ev: PeerIncarnationEv): void {
  if (s.mode === MODE_REPLAY) s.host.transport.send(ev.rank, recoverFrame(s, s.host.incarnation, 1));
}

// ---- manifest (blocks/manifest.ts): declared last so edits above merge cleanly.
import type { BlockManifest } from "../manifest.js";

export const manifest: BlockManifest = {
  purpose: "Recovery's last step: announce the restored delivered vector, replay the plan, go live.",
  implements: [{ module: "EventHandler" }],
  params: {},
  order: {},
  owns: {
    tags: ["TAG_RECOVER"],
  },
  // the blocks whose fields its K reads
  requires: ["core/pump.ts", "core/receive.ts", "core/retransmit.ts"],
};
