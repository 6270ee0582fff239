/**
 * A TAG_RECOVER frame (not a block: imported by value by core/recovery,
 * optimistic/orphan and optimistic/rollback): [incarnation, reply, delivered
 * (n words), stableIn (n words)]. Reply 0 asks for an answer; 1 is one, or a
 * request that wants none. Fresh words per frame: an in-process transport
 * may hold a frame until it is delivered.
 */
import type { Frame, FrameKind } from "@egida/runtime-core/spi";
import type { Kernel } from "../hooks.js";
import { KIND_CONTROL, TAG_RECOVER } from "../tags.js";
import type { Fields as CoreReceive } from "./receive.js";
import type { Fields as CoreRetransmit } from "./retransmit.js";

type K = Kernel & CoreReceive & CoreRetransmit;

export function recoverFrame(s: K, incarnation: number, reply: number): Frame {
  const n = s.host.size;
  const w = new Uint32Array(2 + 2 * n);
  w[0] = incarnation;
  w[1] = reply;
  w.set(s.delivered, 2);
  w.set(s.stableIn, 2 + n);
  return { kind: KIND_CONTROL as FrameKind, tag: TAG_RECOVER, piggyback: new Uint8Array(w.buffer), payload: new Uint8Array(0) };
}
