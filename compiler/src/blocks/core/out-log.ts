/**
 * What the blocks add to the retransmission buffer's storage (not a block:
 * imported by value by optimistic/gate, collect/stable-log and causal/gather;
 * copied into generated code): the state interface its owners declare, and
 * the resend to a recovered peer, which frames with the control tags of this
 * library. The storage itself (`OutLog`, `outPush`, `outAt`, ...) depends on
 * no parameter and lives in `@egida/runtime-core/protocol-lib`, which
 * generated packages import.
 */
import type { FrameKind } from "@egida/runtime-core/spi";
import { outAt, type OutLog } from "@egida/runtime-core/protocol-lib";
import type { Kernel } from "../hooks.js";
import { KIND_APP } from "../tags.js";

type K = Kernel & OutQueues;

/**
 * The retransmission buffer, declared by the block that keeps it
 * (core/retransmit, or ckpt-only/rounds in the checkpoint-only family; their
 * `Fields` extend this) and read by the blocks that append to it or resend.
 * Here rather than in a state file: outResend below reads it.
 */
export interface OutQueues {
  /** Per destination, sent messages not yet known stable there, in ssn order. */
  outq: OutLog[];
}

/**
 * A peer answered our TAG_RECOVER (its TAG_STABLE carries what it delivered
 * from us, `have`): resend what it has not delivered from the retransmission
 * buffer our checkpoint restored. The peer may have asked our previous
 * incarnation for those messages (its own recovery: they were lost in transit
 * to its crash) and lost the request with that incarnation; once live it never
 * asks again, and nothing else would resend them (collect/stable-log,
 * causal/gather). Duplicates (ssn at or below what it delivered) are dropped by
 * its core/receive.
 */
export function outResend(s: K, j: number, have: number): void {
  const q = s.outq[j]!;
  for (let i = 0; i < q.length; i++) {
    const m = outAt(q, i);
    if (m.ssn <= have) continue;
    s.host.transport.send(j, { kind: KIND_APP as FrameKind, tag: 0, piggyback: new Uint8Array(m.pb.buffer, m.pb.byteOffset, m.pb.byteLength), payload: m.payload });
  }
}
