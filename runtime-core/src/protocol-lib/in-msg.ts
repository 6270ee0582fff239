/**
 * The message the block library's hooks carry from receipt to delivery
 * (`RecvEv.msg`, the hold-back store, the optimistic history), here because
 * the history's storage (hist.ts) builds it.
 */

/** A received, not yet delivered, application message (held back in `s.held`). */
export interface InMsg {
  readonly from: number;
  readonly ssn: number;
  readonly fromIncarnation: number;
  /** The full piggyback (word 0 = ssn). */
  readonly pb: Uint32Array;
  readonly payload: Uint8Array;
  /** Arrival stamp: live delivery follows arrival order across channels. */
  readonly arrival: number;
}
