/**
 * CollectDeterminants from the process's own stable event log (the
 * pessimistic protocols, and `centralized` retrieval): after the checkpoint
 * is restored, every logged delivery with rsn above the checkpoint's becomes
 * the replay plan, in rsn order. When the log holds the contents too
 * (receiver-based logging) the messages are put back in hold-back, so replay
 * needs nobody; otherwise (sender-based) core/recovery asks the senders.
 */
import type { K } from "../kernel.js";
import type { StartEv } from "../hooks.js";

export interface Fields {}

export function init(_s: K): void {}

export async function onRecover(s: K, _ev: StartEv): Promise<void> {
  const recs = await s.evLog!.readAll();
  let next = s.rsn + 1;
  for (const r of recs) {
    const dv = new DataView(r.data.buffer, r.data.byteOffset, r.data.byteLength);
    const source = dv.getUint32(0, true);
    const ssn = dv.getUint32(4, true);
    const rsn = dv.getUint32(12, true);
    const pbLen = dv.getUint32(16, true);
    if (rsn >= next) {
      if (rsn !== next) s.host.unrecoverable(`event log has a gap: expected rsn ${next}, found ${rsn}`);
      next++;
      s.planSrc.push(source);
      s.planSsn.push(ssn);
      if (pbLen > 0) {
        const pb = new Uint32Array(pbLen);
        for (let i = 0; i < pbLen; i++) pb[i] = dv.getUint32(20 + 4 * i, true);
        s.held[source]!.set(ssn, {
          from: source,
          ssn,
          fromIncarnation: 0,
          pb,
          payload: r.data.slice(20 + 4 * pbLen),
          arrival: 0,
        });
        if (ssn > s.stableIn[source]!) s.stableIn[source] = ssn;
      }
    }
  }
}
