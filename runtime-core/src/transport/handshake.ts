/**
 * Mutual authentication of two ranks over a per-job secret.
 *
 * The dialer (the higher rank) and the listener each prove knowledge of the
 * secret by MACing the other's fresh nonce, so neither side can be replayed
 * against and neither side reveals anything usable without the secret:
 *
 *   dialer  -> listener  Hello     {nonceD}                  (header: dialer rank, incarnation)
 *   listener -> dialer   Challenge {nonceL, MAC("listener"), received} (header: listener rank, incarnation)
 *   dialer  -> listener  Auth      {MAC("dialer"), received}
 *   listener -> dialer   Welcome   {}
 *
 * MAC(role) = HMAC-SHA256(secret, "egida/2 " + role + nonceD + nonceL +
 * dialerRank + dialerInc + listenerRank + listenerInc + size + received):
 * binding both ranks, incarnations and the job size stops a recorded exchange
 * from being reused for another pair or incarnation. Comparison is
 * constant-time. `received` (u64) is how many App/Control frames the sender
 * of the message has received from the other side in this pair of
 * incarnations; the other side resends from there (see tcp.ts).
 * The dialer sends frames only after Welcome, so a rejected dialer never
 * believes frames went through.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { COUNT_BYTES, writeCount } from "./frame.js";

export const NONCE_BYTES = 32;
export const MAC_BYTES = 32;

export interface HandshakeParties {
  readonly size: number;
  readonly dialerRank: number;
  readonly dialerIncarnation: number;
  readonly listenerRank: number;
  readonly listenerIncarnation: number;
  readonly dialerNonce: Uint8Array;
  readonly listenerNonce: Uint8Array;
}

export function newNonce(): Buffer {
  return randomBytes(NONCE_BYTES);
}

export function handshakeMac(secret: Uint8Array, role: "dialer" | "listener", p: HandshakeParties, received: number): Buffer {
  const ints = Buffer.allocUnsafe(20 + COUNT_BYTES);
  ints.writeUInt32BE(p.dialerRank, 0);
  ints.writeUInt32BE(p.dialerIncarnation, 4);
  ints.writeUInt32BE(p.listenerRank, 8);
  ints.writeUInt32BE(p.listenerIncarnation, 12);
  ints.writeUInt32BE(p.size, 16);
  writeCount(ints, 20, received);
  return createHmac("sha256", secret)
    .update(`egida/2 ${role}\0`)
    .update(p.dialerNonce)
    .update(p.listenerNonce)
    .update(ints)
    .digest();
}

export function verifyMac(secret: Uint8Array, role: "dialer" | "listener", p: HandshakeParties, received: number, mac: Uint8Array): boolean {
  const want = handshakeMac(secret, role, p, received);
  return mac.byteLength === want.byteLength && timingSafeEqual(want, mac);
}
