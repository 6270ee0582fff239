/**
 * Core: put an application message on the wire. Last in the onSend chain, so
 * the piggyback every block wrote is complete. The message (with its exact
 * piggyback) enters the retransmission buffer first: it is kept until the
 * receiver reports it stable (core/retransmit), which is the sender-based
 * message log of `send: Log message ... on volatile memory of self` and the
 * retransmission buffer every other logging protocol needs for messages lost
 * in transit to a crashing receiver (protocols.md, "Lost and in-transit").
 * Under pessimistic logging a send made while a determinant it may depend on
 * is not durable waits in log/watermark and enters the buffer when it leaves.
 */
import type { FrameKind } from "@egida/runtime-core/spi";
import type { Kernel, ReleaseEv, SendEv } from "../hooks.js";
import { KIND_APP } from "../tags.js";
import { outPush } from "@egida/runtime-core/protocol-lib";
import type { OutQueues } from "./out-log.js";
import type { Fields as CoreSsn } from "./ssn.js";

type K = Kernel & Fields & CoreSsn & OutQueues;

export interface Fields {
  /**
   * Wire piggybacks are carved out of this off-heap slab (4 KiB, u32-aligned)
   * instead of `new Uint8Array(words.buffer)`: reading `.buffer` of a small
   * (on-heap) typed array moves it off-heap, one ArrayBuffer per message, and
   * so does the receiver's `raw.buffer` in onFrame when a frame is handed over
   * by reference. A view into the slab is already off-heap: one ArrayBuffer
   * per ~4 KiB of piggybacks. The slab is never written again where a view was
   * handed out (a full slab is replaced, not reused). The retransmission
   * buffer keeps its own copy of the words (core/out-log).
   */
  pbSlab: Uint32Array;
  /** `pbSlab.buffer`, kept: the getter is a call into C++ per read. */
  pbSlabBuf: ArrayBufferLike;
  pbSlabPos: number;
}

export function init(s: K): void {
  s.pbSlab = new Uint32Array(0);
  s.pbSlabBuf = s.pbSlab.buffer;
  s.pbSlabPos = 0;
}

export function onSend(s: K, ev: SendEv): void {
  // Pessimistic logging: log/watermark (before this block) held the send while a record it may depend on is not durable.
  if (!ev.held) txSend(s, ev.to, ev.ssn, s.pbw, ev.pbLen, ev.payload);
}

/** A held send leaves (log/watermark). */
export function onRelease(s: K, ev: ReleaseEv): void {
  txSend(s, ev.to, ev.ssn, ev.pb, ev.pb.length, ev.payload);
}

/** Buffer and send: `len` piggyback words of `words`. */
function txSend(s: K, to: number, ssn: number, words: Uint32Array, len: number, payload: Uint8Array): void {
  outPush(s.outq[to]!, ssn, words, len, payload);
  if (s.pbSlabPos + len > s.pbSlab.length) {
    s.pbSlab = new Uint32Array(len > 1024 ? len : 1024);
    s.pbSlabBuf = s.pbSlab.buffer;
    s.pbSlabPos = 0;
  }
  const slab = s.pbSlab;
  const at = s.pbSlabPos;
  for (let i = 0; i < len; i++) slab[at + i] = words[i]!;
  s.pbSlabPos = at + len;
  s.host.transport.send(to, {
    kind: KIND_APP as FrameKind,
    tag: 0,
    piggyback: new Uint8Array(s.pbSlabBuf, at * 4, len * 4),
    payload,
  });
  s.st.messages++;
  s.st.piggybackBytes += len * 4;
  if (s.host.tracing !== false) s.host.trace({ type: "send", rank: s.host.rank, to, suppressed: false });
}

// ---- manifest (blocks/manifest.ts): declared last so edits above merge cleanly.
import type { BlockManifest } from "../manifest.js";

export const manifest: BlockManifest = {
  purpose: "Keep a sent message in the retransmission buffer and put it on the wire with its piggyback (last in onSend).",
  implements: [{ module: "EventHandler" }],
  params: {},
  order: {
    // constructor order: fields and inits are laid out in one global chain order
    init: { after: ["core/deliver.ts"] },
  },
  owns: {},
  // the blocks whose fields its K reads
  requires: ["core/ssn.ts"],
};
