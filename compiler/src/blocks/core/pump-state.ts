/**
 * The pump's state that other blocks read or set: core/pump and
 * ckpt-only/pump (one of them is selected) both declare these fields, and
 * their `Fields` extend this interface so the two cannot diverge. A block that
 * requests a checkpoint, waits for the pump or checks the replay mode uses
 * this, not a pump block.
 */
export interface PumpState {
  mode: number;
  pumping: boolean;
  /** A checkpoint was requested (timer, forced, marker); taken at the next gap between deliveries. */
  ckptWanted: boolean;
  /** Set by the onDeliver chain's end (core/deliver) when it ran without an await: the pump skips awaiting it. */
  dlvSync: boolean;
}
