/**
 * The one place the launcher builds a TCP transport, so the rank process and
 * single-rank mode wire it identically.
 */
import { createTcpTransport, type TcpTransport, type TlsMaterial } from "../transport/tcp.js";
import type { PeerAddress } from "./ipc.js";

export interface TransportParams {
  readonly rank: number;
  readonly size: number;
  readonly incarnation: number;
  readonly peers: readonly PeerAddress[];
  readonly secret: Uint8Array;
  /** Interface to bind (default: this rank's host in `peers`). */
  readonly bindHost?: string;
  /** Mutual TLS under the HMAC handshake; undefined = plain TCP. */
  readonly tls?: TlsMaterial;
  /**
   * Heartbeats for failure detection across hosts (single-rank mode). Under
   * the launcher, a dead child is seen at once, so they stay off.
   */
  readonly heartbeatMs?: number;
  /** This rank's port is taken: retry it (default; the peers know no other), or bind any ("any": the caller tells the peers). */
  readonly onPortBusy?: "retry" | "any";
  readonly log?: (level: "info" | "warn" | "error", msg: string) => void;
}

export async function openTcpTransport(p: TransportParams): Promise<TcpTransport> {
  return createTcpTransport({
    rank: p.rank,
    size: p.size,
    incarnation: p.incarnation,
    secret: p.secret,
    peers: p.peers,
    host: p.bindHost ?? p.peers[p.rank]!.host,
    ...(p.tls ? { tls: p.tls } : {}),
    heartbeatMs: p.heartbeatMs ?? 0,
    onPortBusy: p.onPortBusy,
    log: p.log,
  });
}
