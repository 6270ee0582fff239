/**
 * Core: the flush timer (`flush every <interval>`): asynchronous logs flush
 * on it, and stability notices go out on it.
 */
import type { Kernel, StartEv } from "../hooks.js";
import { param } from "../params.js";

type K = Kernel & Fields;

export interface Fields {
  stopFlushTimer: (() => void) | null;
}

export function init(s: K): void {
  s.stopFlushTimer = null;
}

export async function onLive(s: K, _ev: StartEv): Promise<void> {
  s.stopFlushTimer = s.host.timers.every(param<number>("flush.intervalMs"), () => {
    s.onFlushTimer({ now: s.host.timers.now() });
  });
}

export async function onStop(s: K, _ev: StartEv): Promise<void> {
  if (s.stopFlushTimer !== null) s.stopFlushTimer();
}

// ---- manifest (blocks/manifest.ts): declared last so edits above merge cleanly.
import type { BlockManifest } from "../manifest.js";

export const manifest: BlockManifest = {
  purpose: "The flush timer: starts the onFlushTimer chain every flush interval once live.",
  implements: [{ module: "EventHandler" }],
  params: { "flush.intervalMs": "number" },
  order: {
    // constructor order: fields and inits are laid out in one global chain order
    init: { after: ["core/output-seq.ts"] },
  },
  owns: {},
};
