/**
 * `exchange vector clock` helpers (not a block: imported by value by
 * optimistic/exchange and optimistic/exchange-finish): what to pull, the
 * pull itself, what is known stable, and the finish check.
 */
import type { FrameKind } from "@egida/runtime-core/spi";
import type { Kernel } from "../hooks.js";
import { KIND_CONTROL, TAG_OPT_PULL } from "../tags.js";
import { optQuiet } from "./quiet.js";
import type { Fields as OptClock } from "./clock.js";
import type { Fields as OptCommit } from "./commit.js";
import type { ExchangeState } from "./exchange-state.js";
import type { PumpState } from "../core/pump-state.js";

type K = Kernel & OptClock & ExchangeState & OptCommit & PumpState;

/** Pull every dependency not known stable, and every incarnation a parked message waits for. */
export function optPullAll(s: K): void {
  if (!s.optReady) return;
  const n = s.host.size;
  for (let k = 0; k < n; k++) if (optNeedsPull(s, k)) optPull(s, k, s.vcInc[k]!, s.vcTs[k]!);
  for (const m of s.optParked) {
    for (let k = 0; k < n; k++) {
      const c = m.pb[1 + k]!;
      if (c > s.optEnds[k]!.length) optPull(s, k, c, m.pb[1 + n + k]!);
    }
  }
}

/** Clock entry k is a dependency whose stability we do not know yet. */
export function optNeedsPull(s: K, k: number): boolean {
  const t = s.vcTs[k]!;
  if (k === s.host.rank || t === 0) return false;
  const c = s.vcInc[k]!;
  // An ended incarnation's states are stable or lost, as the table says.
  if (c < s.optEnds[k]!.length) return false;
  return c > s.optKnownInc[k]! || (c === s.optKnownInc[k]! && t > s.optKnownTs[k]!);
}

export function optPull(s: K, k: number, c: number, t: number): void {
  if (k === s.host.rank || s.optPulled[k] === 1) return;
  s.optPulled[k] = 1;
  s.host.transport.send(k, { kind: KIND_CONTROL as FrameKind, tag: TAG_OPT_PULL, piggyback: new Uint8Array(new Uint32Array([c, t]).buffer), payload: new Uint8Array(0) });
}

export function optKnow(s: K, k: number, c: number, t: number): void {
  if (c > s.optKnownInc[k]! || (c === s.optKnownInc[k]! && t > s.optKnownTs[k]!)) {
    s.optKnownInc[k] = c;
    s.optKnownTs[k] = t;
  }
}

/** Release the finish calls once this process is quiet and every clock entry is known stable. */
export function optExchangeCheck(s: K): void {
  if (s.optExFinWait.length === 0 || !optQuiet(s)) return;
  for (let k = 0; k < s.host.size; k++) if (optNeedsPull(s, k)) return;
  const q = s.optExFinWait;
  s.optExFinWait = [];
  for (const done of q) done();
}
