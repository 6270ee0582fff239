import type { Frame, InboundFrame, Transport, TransportEvents } from "../spi.js";

/** What a rank's transport needs from the world. */
export interface SimNetwork {
  sendFrame(from: SimTransport, to: number, frame: Frame): void;
  /** The transport got its handlers while frames were waiting: deliver them as an event at the current time. */
  scheduleDrain(t: SimTransport): void;
}

type Pending = (h: TransportEvents) => void;

/**
 * One incarnation's view of the simulated network. The world delivers into it;
 * until `on` is called, deliveries wait in an inbox (a host may build the
 * runtime for a new incarnation a little after `world.restart`).
 */
export class SimTransport implements Transport {
  private handlers: TransportEvents | undefined;
  private inbox: Pending[] = [];
  /** Set by the world when this incarnation crashes, or by `close`. */
  stopped = false;

  constructor(
    private readonly net: SimNetwork,
    readonly rank: number,
    readonly size: number,
    readonly incarnation: number,
    /** The world's generation counter for this rank when this transport was made. */
    readonly generation: number,
  ) {}

  send(to: number, frame: Frame): void {
    // The world drops (and counts) sends of a stopped incarnation: a crashed
    // process's leftover async code may still run in-process.
    this.net.sendFrame(this, to, frame);
  }

  on(events: TransportEvents): void {
    this.handlers = events;
    if (this.inbox.length > 0) this.net.scheduleDrain(this);
  }

  close(): Promise<void> {
    this.stopped = true;
    this.inbox = [];
    return Promise.resolve();
  }

  // ---- called by the world

  deliverFrame(f: InboundFrame): void {
    const h = this.handlers;
    if (h !== undefined && this.inbox.length === 0) h.frame(f);
    else this.inbox.push((hh) => hh.frame(f));
  }

  deliverPeerIncarnation(rank: number, incarnation: number): void {
    const h = this.handlers;
    if (h !== undefined && this.inbox.length === 0) h.peerIncarnation(rank, incarnation);
    else this.inbox.push((hh) => hh.peerIncarnation(rank, incarnation));
  }

  deliverPeerDown(rank: number): void {
    const h = this.handlers;
    if (h !== undefined && this.inbox.length === 0) h.peerDown?.(rank);
    else this.inbox.push((hh) => hh.peerDown?.(rank));
  }

  drainInbox(): void {
    const h = this.handlers;
    if (h === undefined) return;
    // Deliveries only happen from world events, never synchronously inside a
    // handler, so nothing is appended to the inbox while we drain it.
    const items = this.inbox;
    this.inbox = [];
    for (const item of items) {
      if (this.stopped) return;
      item(h);
    }
  }
}
