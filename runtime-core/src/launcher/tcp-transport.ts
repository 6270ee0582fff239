/**
 * The one place the launcher builds a TCP transport, so the rank process and
 * single-rank mode wire it identically.
 */
import type { Transport } from "../spi.js";
import type { PeerAddress } from "./ipc.js";

export interface TransportParams {
  readonly rank: number;
  readonly size: number;
  readonly incarnation: number;
  readonly peers: readonly PeerAddress[];
  readonly secret: Uint8Array;
  readonly log?: (level: "info" | "warn" | "error", msg: string) => void;
}

export async function openTcpTransport(p: TransportParams): Promise<Transport> {
  void p;
  throw new Error("the TCP transport (runtime-core/src/transport/tcp.ts) has not landed yet");
}
