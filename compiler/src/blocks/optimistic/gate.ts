/**
 * Optimistic logging: the stability-claim gate, FIRST in the chain (its
 * onControl must run before core/retransmit's).
 *
 * After a rollback or a crash a process starts a new FT incarnation and
 * regenerates its sends, reusing send sequence numbers of discarded states.
 * A peer's stability claim about our ssn k (TAG_STABLE [k], or the stable
 * vector of its TAG_RECOVER) is only about the *current* versions of those
 * messages once the peer has processed our incarnation-end token (it then
 * purged the discarded versions and persisted the end). Until its
 * acknowledgement (TAG_OPT_ACK, optimistic/orphan.ts) arrives, its claims may
 * be stale and would garbage-collect a regenerated message nobody else holds:
 * consume them (tag 0 = nobody's tag) or zero the claim.
 */
import type { K } from "../kernel.js";
import type { ControlEv } from "../hooks.js";
import { TAG_RECOVER, TAG_STABLE } from "../tags.js";

export interface Fields {
  /** Per peer: 1 while its acknowledgement of our current incarnation's token is pending. */
  optAwait: Uint8Array;
}

export function init(s: K): void {
  s.optAwait = new Uint8Array(s.host.size);
}

export function onControl(s: K, ev: ControlEv): void {
  if (s.optAwait[ev.from] === 1) {
    if (ev.tag === TAG_STABLE) ev.tag = 0;
    else if (ev.tag === TAG_RECOVER) ev.words[2 + s.host.size + s.host.rank] = 0;
  }
}
