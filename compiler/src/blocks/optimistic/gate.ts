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
 *
 * A peer's answer to our recovery's TAG_RECOVER is such a claim too, but it
 * also says what the peer delivered from us: what it lacks is resent from
 * our restored retransmission buffer first (core/out-log outResend).
 */
import type { ControlEv, Kernel } from "../hooks.js";
import { TAG_RECOVER, TAG_STABLE } from "../tags.js";
import { outResend, type OutQueues } from "../core/out-log.js";

type K = Kernel & Fields & OutQueues;

export interface Fields {
  /** Per peer: 1 while its acknowledgement of our current incarnation's token is pending. */
  optAwait: Uint8Array;
}

export function init(s: K): void {
  s.optAwait = new Uint8Array(s.host.size);
}

export function onControl(s: K, ev: ControlEv): void {
  // A peer's answer to our TAG_RECOVER (core/retransmit's TAG_STABLE [stable, delivered from us,
  // our incarnation]): resend what it has not delivered from the retransmission buffer we
  // restored (as collect/stable-log and causal/gather). Its word 1 is no stability claim, so it
  // is used even while the claim is consumed below. The peer may have asked our previous
  // incarnation for those messages and lost the request with it (we died with it in flight, or
  // got it before our buffer was restored); live by then, it never asks again. Without this,
  // all-to-all deadlocked: every rank waited for one message in its sender's buffer
  // (test/protocols/optimistic-resend.test.ts).
  if (ev.tag === TAG_STABLE && ev.words.length >= 3 && s.host.incarnation > 0 && ev.words[2] === s.host.incarnation) {
    outResend(s, ev.from, ev.words[1]!);
  }
  if (s.optAwait[ev.from] === 1) {
    if (ev.tag === TAG_STABLE) ev.tag = 0;
    else if (ev.tag === TAG_RECOVER) ev.words[2 + s.host.size + s.host.rank] = 0;
  }
}

// ---- manifest (blocks/manifest.ts): declared last so edits above merge cleanly.
import type { BlockManifest } from "../manifest.js";

export const manifest: BlockManifest = {
  purpose: "Ignore a peer's stability claims until it has acknowledged this incarnation's end token.",
  implements: [{ module: "OrphanDetection" }, { variable: "orphan-detection-proto", value: "broadcast-logical-clock" }, { variable: "orphan-detection-proto", value: "exchange-vector-clock" }],
  params: {},
  order: {
    // constructor order: fields and inits are laid out in one global chain order
    init: { after: ["optimistic/exchange.ts"], before: ["core/ssn.ts"] },
    // filters and stability claims before the blocks that act on them
    onControl: { after: ["optimistic/exchange.ts"], before: ["core/retransmit.ts"] },
  },
  owns: {},
};
