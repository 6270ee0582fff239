/**
 * The pumps' DeliverEv (not a block: imported by value by core/pump and
 * ckpt-only/pump, which declare the `dlvEv` field): one per process, refilled
 * per delivery instead of an object per message. Safe because the pump starts
 * a delivery only once the previous chain has ended (synchronously, or when
 * its promise settled), and no block keeps `ev` beyond its chain (a block
 * keeps `ev.msg`, the held message, never the event).
 */
import type { InMsg, K } from "../kernel.js";
import type { DeliverEv } from "../hooks.js";

export function newDeliverEv(): DeliverEv {
  return { msg: null as unknown as InMsg, replay: false, rsn: 0, pbPos: 0 };
}

export function deliverEv(s: K, m: InMsg, replay: boolean, pbPos: number): DeliverEv {
  const ev = s.dlvEv;
  ev.msg = m;
  ev.replay = replay;
  ev.rsn = s.rsn + 1;
  ev.pbPos = pbPos;
  return ev;
}
