/**
 * In-memory sockets for TcpTransport in the simulator (`wire: "tcp"`).
 *
 * Each connection is a pair of SimSockets; bytes written to one arrive at
 * the other as "data" events through the world's event queue, after a
 * seeded latency, in order (FIFO per direction), cut into chunks at seeded
 * points. Nothing else is simulated: the transport above runs its own
 * framing, CRC, handshake, write coalescing, failure detection and re-dial
 * with backoff, on the world's virtual clock.
 *
 * Close semantics (node's default, allowHalfOpen false):
 *  - `end()`: a FIN after the bytes in flight; the peer closes and answers
 *    with its own FIN, which closes this side.
 *  - `destroy()`: this side closes at once ("close" as a next event); the
 *    peer gets a FIN after the bytes in flight.
 *  - `crash(rank)`: the process is gone, its code never runs again, so its
 *    sockets emit nothing; the kernel closes them, so peers get a FIN after
 *    the bytes already written. The last bytes in flight may arrive cut
 *    (the process died mid-write) or with a flipped byte (`tail`).
 *  - `reset(a, b)`: the connection between two live ranks dies mid-stream:
 *    bytes in flight both ways are lost, except that the first chunk may
 *    arrive cut or corrupted (`how`), then both sides see ECONNRESET and
 *    "close". TcpTransport then re-dials.
 *  - `partition(a, b, ms)`: for `ms`, bytes and FINs between the two ranks
 *    vanish without any close, and dials between them fail (ETIMEDOUT):
 *    only TcpTransport's heartbeat timeout can notice.
 *
 * Every socket belongs to one rank incarnation (its generation): events for
 * a socket whose owner crashed are dropped, as the world drops its timers.
 */
import { EventEmitter } from "node:events";
import type { AddressInfo } from "node:net";
import type { NetLayer, WireServer, WireSocket } from "../transport/io.js";
import type { Prng } from "./prng.js";

/** What the sockets need from the world. */
export interface SimNetHost {
  readonly now: number;
  /** A world event at virtual time `time`; returns a cancel function. */
  at(time: number, fn: () => void): () => void;
  /** One seeded one-way latency, ms. */
  latency(): number;
}

export interface SimNetStats {
  /** Dials attempted, refused (nothing listening), and accepted. */
  dials: number;
  refused: number;
  accepted: number;
  /** Data chunks delivered. */
  chunks: number;
  /** Connections closed by `reset`, and bytes in flight they lost. */
  resets: number;
  lostBytes: number;
  /** Chunks cut or corrupted (at a crash or a reset). */
  cut: number;
  corrupted: number;
}

interface InFlight {
  bytes: Buffer;
  readonly cancel: () => void;
}

type Damage = "clean" | "cut" | "corrupt";

class SimSocket extends EventEmitter implements WireSocket {
  destroyed = false;
  peer: SimSocket | undefined;
  private corked = 0;
  private held: Buffer[] = [];
  private ending = false;
  /** Last delivery time scheduled towards the peer (FIFO). */
  lastAt = 0;
  /** Chunks scheduled towards the peer and not delivered yet, oldest first. */
  readonly inflight: InFlight[] = [];

  constructor(
    private readonly hub: SimNetHub,
    readonly owner: number,
    readonly gen: number,
    readonly remoteAddress: string,
    readonly remotePort: number,
  ) {
    super();
  }

  setNoDelay(): this {
    return this;
  }

  write(chunk: Uint8Array): boolean {
    if (this.destroyed || this.ending) return false;
    const b = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.corked > 0) this.held.push(b);
    else this.hub.transmit(this, b);
    return true;
  }

  cork(): void {
    this.corked++;
  }

  uncork(): void {
    if (this.corked === 0 || --this.corked > 0 || this.held.length === 0) return;
    const held = this.held;
    this.held = [];
    this.hub.transmit(this, held.length === 1 ? held[0]! : Buffer.concat(held));
  }

  end(): this {
    if (this.destroyed || this.ending) return this;
    this.uncorkAll();
    this.ending = true;
    this.hub.fin(this);
    return this;
  }

  destroy(): this {
    if (this.destroyed) return this;
    this.uncorkAll();
    this.destroyed = true;
    if (!this.ending) this.hub.fin(this);
    // node emits "close" on a later tick.
    this.hub.host.at(this.hub.host.now, () => this.emit("close", false));
    return this;
  }

  /** Closed by the world: the owner crashed (`silent`), or a FIN or reset arrived. */
  closeNow(silent: boolean, error?: NodeJS.ErrnoException): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.held = [];
    if (silent) return;
    if (error !== undefined) this.emit("error", error);
    this.emit("close", error !== undefined);
  }

  private uncorkAll(): void {
    if (this.corked > 0) {
      this.corked = 1;
      this.uncork();
    }
  }
}

class SimServer extends EventEmitter implements WireServer {
  private bound: { host: string; port: number } | undefined;

  constructor(
    private readonly hub: SimNetHub,
    readonly owner: number,
    readonly gen: number,
    readonly onAccept: (s: WireSocket) => void,
  ) {
    super();
  }

  listen(opts: { host: string; port: number }): this {
    // Synchronous, so TcpTransport.open can bind without awaiting.
    const err = this.hub.bind(this, opts.host, opts.port);
    if (err !== undefined) this.emit("error", Object.assign(new Error(`listen ${err} ${opts.host}:${opts.port}`), { code: err }));
    else {
      this.bound = { host: opts.host, port: opts.port };
      this.emit("listening");
    }
    return this;
  }

  close(cb?: (err?: Error) => void): this {
    if (this.bound !== undefined) this.hub.unbind(this, this.bound.host, this.bound.port);
    this.bound = undefined;
    if (cb !== undefined) this.hub.host.at(this.hub.host.now, () => cb());
    return this;
  }

  address(): AddressInfo | null {
    return this.bound === undefined ? null : { address: this.bound.host, family: "IPv4", port: this.bound.port };
  }

  /** The owner crashed: the kernel frees the port. */
  drop(): void {
    if (this.bound !== undefined) this.hub.unbind(this, this.bound.host, this.bound.port);
    this.bound = undefined;
  }
}

export class SimNetHub {
  readonly stats: SimNetStats = { dials: 0, refused: 0, accepted: 0, chunks: 0, resets: 0, lostBytes: 0, cut: 0, corrupted: 0 };
  private readonly servers = new Map<string, SimServer>();
  /** Per rank: its sockets and servers of the current incarnation. */
  private readonly sockets: Set<SimSocket>[];
  private readonly ownedServers: Set<SimServer>[];
  private nextPort = 40000;
  /** Per unordered pair (a * size + b, a < b): partitioned until this virtual time. */
  private readonly cutOff = new Map<number, number>();
  private readonly size: number;

  constructor(
    readonly host: SimNetHost,
    size: number,
    /** Seeded choices of chunk cuts and damage: a stream of its own, so latencies stay those of the seed. */
    private readonly rng: Prng,
    /** Probabilities that a crash cuts or corrupts the last chunk each of the victim's sockets has in flight. */
    private readonly tail: { readonly cut: number; readonly corrupt: number } | undefined,
  ) {
    this.size = size;
    this.sockets = Array.from({ length: size }, () => new Set<SimSocket>());
    this.ownedServers = Array.from({ length: size }, () => new Set<SimServer>());
  }

  /** The sockets of one incarnation of `rank`. */
  layer(rank: number, gen: number): NetLayer {
    return {
      createServer: (onAccept) => {
        const s = new SimServer(this, rank, gen, onAccept);
        this.ownedServers[rank]!.add(s);
        return s;
      },
      connect: (to) => this.connect(rank, gen, to.host, to.port),
    };
  }

  /** The process of `rank` died: its sockets go silent and its peers get a FIN after what it already wrote. */
  crash(rank: number): void {
    for (const srv of this.ownedServers[rank]!) srv.drop();
    this.ownedServers[rank]!.clear();
    const tail = this.tail;
    for (const s of this.sockets[rank]!) {
      if (s.destroyed) continue;
      if (tail !== undefined && s.inflight.length > 0) {
        const x = this.rng.next();
        const last = s.inflight[s.inflight.length - 1]!;
        if (x < tail.cut) this.damage(last, "cut");
        else if (x < tail.cut + tail.corrupt) this.damage(last, "corrupt");
      }
      s.closeNow(true);
      this.fin(s);
    }
    this.sockets[rank]!.clear();
  }

  /**
   * Reset the open connection(s) between live ranks `a` and `b` mid-stream:
   * bytes in flight are lost, but the first chunk each way may arrive first,
   * cut or corrupted (`how`); then both sides see ECONNRESET. Returns the
   * number of connections reset.
   */
  reset(a: number, b: number, how: Damage): number {
    let n = 0;
    for (const s of [...this.sockets[a]!]) {
      const p = s.peer;
      if (s.destroyed || p === undefined || p.destroyed || p.owner !== b) continue;
      n++;
      this.stats.resets++;
      const now = this.host.now;
      for (const side of [s, p]) {
        const head = side.inflight.shift();
        for (const c of side.inflight) {
          c.cancel();
          this.stats.lostBytes += c.bytes.length;
        }
        side.inflight.length = 0;
        if (head !== undefined) {
          if (how === "clean") {
            head.cancel();
            this.stats.lostBytes += head.bytes.length;
          } else {
            this.damage(head, how);
            side.inflight.push(head);
          }
        }
      }
      // The RST lands after whatever is still delivered, on both sides.
      const rst = (x: SimSocket): void => {
        const at = Math.max(now + this.host.latency(), x.peer!.lastAt);
        x.peer!.lastAt = at;
        const err: NodeJS.ErrnoException = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
        this.host.at(at, () => x.closeNow(false, err));
      };
      rst(s);
      rst(p);
    }
    return n;
  }

  /** Cut ranks `a` and `b` off from each other for `ms` (see the file comment). */
  partition(a: number, b: number, ms: number): void {
    this.cutOff.set(this.pairKey(a, b), this.host.now + ms);
  }

  private pairKey(a: number, b: number): number {
    return Math.min(a, b) * this.size + Math.max(a, b);
  }

  private partitioned(a: number, b: number): boolean {
    const until = this.cutOff.get(this.pairKey(a, b));
    return until !== undefined && this.host.now < until;
  }

  /** Pairs [a, b] (a < b) of live ranks with an open connection that has bytes in flight, in a stable order. */
  busy(): [number, number][] {
    const out: [number, number][] = [];
    const seen = new Set<number>();
    this.sockets.forEach((set, r) => {
      for (const s of set) {
        const p = s.peer;
        if (s.destroyed || p === undefined || p.destroyed || (s.inflight.length === 0 && p.inflight.length === 0)) continue;
        const a = Math.min(r, p.owner);
        const b = Math.max(r, p.owner);
        if (seen.has(a * 65536 + b)) continue;
        seen.add(a * 65536 + b);
        out.push([a, b]);
      }
    });
    return out;
  }

  // ---------------------------------------------------------------- for SimSocket / SimServer

  bind(srv: SimServer, host: string, port: number): string | undefined {
    if (port === 0) port = this.nextPort++;
    const key = `${host}:${port}`;
    if (this.servers.has(key)) return "EADDRINUSE";
    this.servers.set(key, srv);
    return undefined;
  }

  unbind(srv: SimServer, host: string, port: number): void {
    const key = `${host}:${port}`;
    if (this.servers.get(key) === srv) this.servers.delete(key);
  }

  /** Bytes written to `s`: to its peer, in seeded chunks, FIFO. */
  transmit(s: SimSocket, bytes: Buffer): void {
    const p = s.peer;
    if (p === undefined || bytes.length === 0) return;
    if (this.partitioned(s.owner, p.owner)) {
      this.stats.lostBytes += bytes.length;
      return;
    }
    for (const piece of this.chunks(bytes)) {
      const at = Math.max(this.host.now + this.host.latency(), s.lastAt);
      s.lastAt = at;
      const item: InFlight = {
        bytes: piece,
        cancel: this.host.at(at, () => {
          const i = s.inflight.indexOf(item);
          if (i >= 0) s.inflight.splice(i, 1);
          if (p.destroyed || item.bytes.length === 0) return;
          this.stats.chunks++;
          p.emit("data", item.bytes);
        }),
      };
      s.inflight.push(item);
    }
  }

  /** A FIN from `s` to its peer after the bytes in flight; the peer closes and answers with its own. */
  fin(s: SimSocket): void {
    const p = s.peer;
    if (p === undefined || this.partitioned(s.owner, p.owner)) return;
    const at = Math.max(this.host.now + this.host.latency(), s.lastAt);
    s.lastAt = at;
    this.host.at(at, () => {
      if (p.destroyed) return;
      p.closeNow(false);
      this.fin(p);
    });
  }

  private connect(rank: number, gen: number, host: string, port: number): WireSocket {
    this.stats.dials++;
    const d = new SimSocket(this, rank, gen, host, port);
    this.sockets[rank]!.add(d);
    this.host.at(this.host.now + this.host.latency(), () => {
      if (d.destroyed) return;
      const srv = this.servers.get(`${host}:${port}`);
      if (srv !== undefined && this.partitioned(rank, srv.owner)) {
        this.stats.refused++;
        this.sockets[rank]!.delete(d);
        d.closeNow(false, Object.assign(new Error(`connect ETIMEDOUT ${host}:${port}`), { code: "ETIMEDOUT" }));
        return;
      }
      if (srv === undefined) {
        this.stats.refused++;
        this.sockets[rank]!.delete(d);
        d.closeNow(false, Object.assign(new Error(`connect ECONNREFUSED ${host}:${port}`), { code: "ECONNREFUSED" }));
        return;
      }
      this.stats.accepted++;
      const l = new SimSocket(this, srv.owner, srv.gen, `rank${rank}`, 50000 + this.stats.dials);
      l.peer = d;
      d.peer = l;
      this.sockets[srv.owner]!.add(l);
      l.on("close", () => this.sockets[srv.owner]?.delete(l));
      d.on("close", () => this.sockets[rank]?.delete(d));
      d.emit("connect");
      srv.onAccept(l);
    });
    return d;
  }

  /** Up to three chunks at seeded cut points: TcpTransport's decoder must not care where TCP splits. */
  private chunks(bytes: Buffer): Buffer[] {
    const rng = this.rng;
    if (bytes.length < 2 || rng.next() < 0.5) return [bytes];
    const a = 1 + Math.floor(rng.next() * (bytes.length - 1));
    if (rng.next() < 0.5) return [bytes.subarray(0, a), bytes.subarray(a)];
    const b = a + Math.floor(rng.next() * (bytes.length - a));
    return b === a ? [bytes.subarray(0, a), bytes.subarray(a)] : [bytes.subarray(0, a), bytes.subarray(a, b), bytes.subarray(b)];
  }

  private damage(item: InFlight, how: "cut" | "corrupt"): void {
    if (how === "cut") {
      item.bytes = item.bytes.subarray(0, Math.floor(this.rng.next() * item.bytes.length));
      this.stats.cut++;
    } else {
      const copy = Buffer.from(item.bytes);
      const at = Math.floor(this.rng.next() * copy.length);
      copy[at] = copy[at]! ^ (1 + Math.floor(this.rng.next() * 255));
      item.bytes = copy;
      this.stats.corrupted++;
    }
  }
}
