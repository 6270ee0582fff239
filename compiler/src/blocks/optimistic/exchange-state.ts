/**
 * What optimistic/exchange knows of its peers' stable states and its pending
 * pulls: optimistic/exchange declares these fields (its `Fields` extends
 * this); the pull helpers (optimistic/pull.ts), which exchange calls, and
 * optimistic/exchange-finish read them.
 */
export interface ExchangeState {
  /** Per peer k: the highest state (incarnation, ts) of k known stable at k. */
  optKnownInc: Uint32Array;
  optKnownTs: Uint32Array;
  /** Per peer: pulled since the last flush tick (one pull per peer per interval). */
  optPulled: Uint8Array;
  /** Protocol.finish calls waiting until every dependency is known stable (optimistic/exchange-finish). */
  optExFinWait: (() => void)[];
}
