/**
 * Copies a frame the way the TCP transport hands it to a receiver: the
 * piggyback and the payload are `Buffer` views into one larger chunk that
 * also holds other bytes (here a fake header before and a trailer after),
 * starting at an offset that is not a multiple of 4.
 *
 * Why: a fresh `Uint8Array` (what `copyFrames` gives) hides two real-network
 * traps that the TCP decoder exposes: `Buffer#slice()` is a view, not a copy
 * (so `buf.slice().buffer` is the whole chunk), and a piggyback read as u32
 * words may be unaligned. A protocol that gets either wrong reads the chunk's
 * other bytes; with these views it does so in the simulation too.
 */
import type { Frame } from "../spi.js";

/** The TCP wire header magic, so a view that escapes its bounds reads what TCP would show. */
const JUNK = Buffer.from("EGDA\u0001\u0001\u0000\u0000", "latin1");

export function wireCopy(frame: Frame, n: number): Frame {
  // Offsets 1..3 (mod 4) after an 8-byte fake header: never u32-aligned.
  const lead = JUNK.length + 1 + (n % 3);
  const pb = frame.piggyback.byteLength;
  const pl = frame.payload.byteLength;
  const chunk = Buffer.alloc(lead + pb + pl + 4, 0xee);
  JUNK.copy(chunk, 0);
  chunk.set(frame.piggyback, lead);
  chunk.set(frame.payload, lead + pb);
  return {
    kind: frame.kind,
    tag: frame.tag,
    piggyback: chunk.subarray(lead, lead + pb),
    payload: chunk.subarray(lead + pb, lead + pb + pl),
  };
}
