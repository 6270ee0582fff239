/**
 * Core: put an application message on the wire. Last in the onSend chain, so
 * the piggyback every block wrote is complete. The message (with its exact
 * piggyback) enters the retransmission buffer first: it is kept until the
 * receiver reports it stable (core/retransmit), which is the sender-based
 * message log of `send: Log message ... on volatile memory of self` and the
 * retransmission buffer every other logging protocol needs for messages lost
 * in transit to a crashing receiver (protocols.md, "Lost and in-transit").
 */
import type { FrameKind } from "@egida/runtime-core/spi";
import type { K } from "../kernel.js";
import type { SendEv } from "../hooks.js";
import { KIND_APP } from "../tags.js";

export interface Fields {}

export function init(_s: K): void {}

export function onSend(s: K, ev: SendEv): void {
  const words = s.pbw.slice(0, ev.pbLen);
  s.outq[ev.to]!.push({ to: ev.to, ssn: ev.ssn, pb: words, payload: ev.payload });
  s.host.transport.send(ev.to, {
    kind: KIND_APP as FrameKind,
    tag: 0,
    piggyback: new Uint8Array(words.buffer, words.byteOffset, words.byteLength),
    payload: ev.payload,
  });
  s.st.messages++;
  s.st.piggybackBytes += words.byteLength;
  s.host.trace({ type: "send", rank: s.host.rank, to: ev.to, suppressed: false });
}
