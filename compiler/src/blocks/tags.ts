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

/** Pump modes (`s.mode`): no delivery yet / re-executing logged history / normal operation. */
export const MODE_STARTING = 0;
export const MODE_REPLAY = 1;
export const MODE_LIVE = 2;

/** FrameKind values of the SPI (a const enum there; literals here so generated code needs no enum import). */
export const KIND_APP = 1;
export const KIND_CONTROL = 2;
