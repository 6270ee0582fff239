/**
 * Core: per-channel send sequence numbers (the paper's sesn) and the
 * piggyback header. Every application frame's piggyback starts with its ssn;
 * receivers use it for FIFO hold-back and duplicate suppression
 * (protocols.md, "Duplicate suppression"). First in the onSend chain.
 */
import type { CheckpointEv, Kernel, RestoreEv, SendEv } from "../hooks.js";

type K = Kernel & Fields;

export interface Fields {
  /** Last ssn sent to each destination. Part of every checkpoint. */
  ssn: Uint32Array;
  /** Piggyback scratch: blocks append u32 words at `ev.pbLen`; core/transmit copies them out. */
  pbw: Uint32Array;
  /** Protocol statistics (Protocol.stats); blocks add to them. */
  st: { messages: number; piggybackBytes: number; bytesLogged: number; checkpoints: number; rollbacks: number };
}

export function init(s: K): void {
  s.ssn = new Uint32Array(s.host.size);
  s.pbw = new Uint32Array(64 + 8 * s.host.size);
  s.st = { messages: 0, piggybackBytes: 0, bytesLogged: 0, checkpoints: 0, rollbacks: 0 };
}

export function onSend(s: K, ev: SendEv): void {
  ev.ssn = s.ssn[ev.to]! + 1;
  s.ssn[ev.to] = ev.ssn;
  s.pbw[0] = ev.ssn;
  ev.pbLen = 1;
}

export async function onCheckpoint(s: K, ev: CheckpointEv): Promise<void> {
  ev.state["core.ssn"] = s.ssn.slice();
}

export function onRestore(s: K, ev: RestoreEv): void {
  s.ssn = (ev.state["core.ssn"] as Uint32Array).slice();
}

// ---- manifest (blocks/manifest.ts): declared last so edits above merge cleanly.
import type { BlockManifest } from "../manifest.js";

export const manifest: BlockManifest = {
  purpose: "Per-channel send sequence numbers (the paper's sesn), the first piggyback word of every application frame.",
  implements: [{ module: "EventHandler" }],
  params: {},
  order: {},
  owns: {
    wire: ["piggyback word 0: the ssn"],
    state: ["core.ssn"],
  },
};
