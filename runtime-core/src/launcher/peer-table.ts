/**
 * The launcher's table of where each rank listens. Ports are picked free,
 * but a rank binds its port only later (at start-up, and again after every
 * restart, --restart-delay ms after its previous incarnation died), and any
 * process may take it meanwhile. So a rank that finds its port taken binds
 * another (TcpTransport `onPortBusy: "any"`) and reports it; the table
 * records it, the live ranks are told over IPC (TcpTransport.setPeerAddress),
 * and ranks started later get the current table in their RankConfig. A
 * squatter on a port thus costs the job a re-dial, never the job.
 */
import type { PeerAddress } from "./ipc.js";

export class PeerTable {
  private readonly table: PeerAddress[];

  constructor(initial: readonly PeerAddress[]) {
    this.table = [...initial];
  }

  /** The current table (a copy: it goes into a RankConfig). */
  snapshot(): PeerAddress[] {
    return [...this.table];
  }

  /** Where rank `rank` listens. */
  address(rank: number): PeerAddress {
    return this.table[rank]!;
  }

  /** Rank `rank` listens on `port`: the address and the port it replaces when it moved, else undefined. */
  listening(rank: number, port: number): { address: PeerAddress; oldPort: number } | undefined {
    const old = this.table[rank]!;
    if (old.port === port) return undefined;
    const address = { host: old.host, port };
    this.table[rank] = address;
    return { address, oldPort: old.port };
  }
}
