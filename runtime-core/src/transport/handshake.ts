/**
 * Mutual authentication of two ranks over a per-job secret.
 *
 * The dialer (the higher rank) and the listener each prove knowledge of the
 * secret by MACing the other's fresh nonce, so neither side can be replayed
 * against and neither side reveals anything usable without the secret:
 *
 *   dialer  -> listener  Hello     {nonceD}                  (header: dialer rank, incarnation)
 *   listener -> dialer   Challenge {nonceL, MAC("listener")} (header: listener rank, incarnation)
 *   dialer  -> listener  Auth      {MAC("dialer")}
 *   listener -> dialer   Welcome   {}
 *
 * MAC(role) = HMAC-SHA256(secret, "egida/1 " + role + nonceD + nonceL +
 * dialerRank + dialerInc + listenerRank + listenerInc + size): binding both
 * ranks, incarnations and the job size stops a recorded exchange from being
 * reused for another pair or incarnation. Comparison is constant-time.
 * The dialer sends frames only after Welcome, so a rejected dialer never
 * believes frames went through.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

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

export function handshakeMac(secret: Uint8Array, role: "dialer" | "listener", p: HandshakeParties): Buffer {
  const ints = Buffer.allocUnsafe(20);
  ints.writeUInt32BE(p.dialerRank, 0);
  ints.writeUInt32BE(p.dialerIncarnation, 4);
  ints.writeUInt32BE(p.listenerRank, 8);
  ints.writeUInt32BE(p.listenerIncarnation, 12);
  ints.writeUInt32BE(p.size, 16);
  return createHmac("sha256", secret)
    .update(`egida/1 ${role}\0`)
    .update(p.dialerNonce)
    .update(p.listenerNonce)
    .update(ints)
    .digest();
}

export function verifyMac(secret: Uint8Array, role: "dialer" | "listener", p: HandshakeParties, mac: Uint8Array): boolean {
  const want = handshakeMac(secret, role, p);
  return mac.byteLength === want.byteLength && timingSafeEqual(want, mac);
}
