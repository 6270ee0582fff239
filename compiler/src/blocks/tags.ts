/**
 * Control-frame tags: the one table. Generated packages copy this file
 * verbatim (it has no imports); block files may import it by value.
 * Tags stay below RUNTIME_TAG_BASE (0xf000), which the runtime owns.
 */

/**
 * A restarted process announces itself: words = [incarnation, reply, delivered[0..size-1], stable[0..size-1]].
 * Peers drop what is stable there and resend what it has not delivered. reply = 1 marks a
 * replaying process's answer to another's announcement (no answer to an answer).
 */
export const TAG_RECOVER = 1;
/** Receiver → sender: words = [k]: every message from you with ssn ≤ k is stable here (logged or checkpointed). */
export const TAG_STABLE = 2;

/** Causal logging (blocks/causal/): a recovering process asks for its determinants: words = [incarnation, from rsn]. */
export const TAG_CAUSAL_GATHER = 20;
/** Answer: words = [incarnation, highest rsn of the requester the sender depends on, count, (rsn, src, ssn) × count]. */
export const TAG_CAUSAL_DETS = 21;
/** Output commit: make determinants stable: words = [id, count, (src, ssn, dest, rsn) × count]. */
export const TAG_CAUSAL_PUSH = 22;
/** words = [id, pusher's incarnation]: the pushed determinants are held here (an acknowledgement of an older incarnation's push is void). */
export const TAG_CAUSAL_ACK = 23;
/** words = [checkpoint rsn, flushed rsn, reads flushed] of the sender: its determinants up to them are GC-able / on stable storage; its reads of steps before `reads flushed` are on its read log (asynchronous read log, else 0). */
export const TAG_CAUSAL_STABLE = 24;
/** Co-ordinated output commit (hybrid): make your deliveries up to rsn stable on your log: words = [rsn]; answered with TAG_CAUSAL_STABLE once flushed. */
export const TAG_CAUSAL_FLUSH = 25;

/**
 * Checkpoint-only protocols (blocks/ckpt-only/): recovery rounds run by rank 0. Payloads are
 * v8-serialized objects; words = [round or epoch].
 *   PREPARE → every process pauses and REPORTs its checkpoint history; ROLLBACK carries the
 *   line; each restores, writes a recovery checkpoint and says ROLLED; RESUME: all are durable,
 *   each ANNOUNCEs its delivered vector and peers resend what it lacks.
 *   POLL / HIST / COMMIT: rank 0 collects durable histories (coordinated: after snapshot k)
 *   and commits the line no future recovery goes below (GC, stability, output release).
 *   RESTART: a restarted process asks rank 0 for a round.
 */
export const TAG_CP_PREPARE = 40;
export const TAG_CP_REPORT = 41;
export const TAG_CP_ROLLBACK = 42;
export const TAG_CP_ROLLED = 43;
export const TAG_CP_RESUME = 44;
export const TAG_CP_ANNOUNCE = 45;
export const TAG_CP_POLL = 46;
export const TAG_CP_HIST = 47;
export const TAG_CP_COMMIT = 48;
export const TAG_CP_RESTART = 49;
/**
 * Receiver → sender (co-ordinated, blocks/ckpt-only/dlv-ack.ts): words = [epoch, index, ssn]: your
 * messages up to ssn were delivered here while my snapshot index was at most index.
 */
export const TAG_CP_DLV = 50;

/**
 * Co-ordinated checkpoints of the logging protocols (blocks/checkpoint/schedule.ts): rank 0 →
 * every process: words = [k]: round k's checkpoint is durable at rank 0; checkpoint with index k.
 */
export const TAG_CKPT_ROUND = 60;

/** Optimistic logging (blocks/optimistic/): incarnation-end token: words = [flag, senderFtInc, n, (count_j, ends_j...) × n]; flag 1 = "send me your table". */
export const TAG_OPT_TOKEN = 30;
/** Token acknowledged (ends durable here): words = [token's senderFtInc, receiver's stableIn for the sender]. */
export const TAG_OPT_ACK = 31;
/** Coordinated output commit: make state (inc, ts) of yours stable: words = [id, inc, ts]. */
export const TAG_OPT_COMMIT_REQ = 32;
/** words = [id]: that state is stable (logged) here. */
export const TAG_OPT_COMMIT_ACK = 33;
/**
 * `exchange vector clock`: is state (inc, ts) of yours stable? words = [inc, ts]. The answer is a
 * TAG_OPT_TOKEN with flag 2 (acknowledge it) or 3 (no acknowledgement wanted) and [inc, ts' ≥ ts]
 * after the table: states of inc up to ts' are stable there; or flag 0: the table says it is lost.
 */
export const TAG_OPT_PULL = 34;

/** Pump modes (`s.mode`): no delivery yet / re-executing logged history / normal operation. */
export const MODE_STARTING = 0;
export const MODE_REPLAY = 1;
export const MODE_LIVE = 2;

/** FrameKind values of the SPI (a const enum there; literals here so generated code needs no enum import). */
export const KIND_APP = 1;
export const KIND_CONTROL = 2;
