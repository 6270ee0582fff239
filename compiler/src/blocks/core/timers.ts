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
