/**
 * Where this process is in a checkpoint-only recovery round (ckpt-only/rounds
 * declares these fields; ckpt-only/index-pb reads them to filter messages of
 * an older epoch). Its own file because rounds also uses index-pb's fields.
 */
export interface RoundPhase {
  /** 0 running; 1 held for round cpRound (or restarted, not yet restored); 2 rolled back, recovery checkpoint durable, waiting for RESUME. */
  cpPhase: number;
  /** The process has its state (false: restarted, not yet restored by a round). */
  cpLive: boolean;
}
