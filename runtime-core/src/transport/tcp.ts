/**
 * TcpTransport: the `Transport` between OS processes, over `node:net`.
 *
 * Topology: every rank listens; rank i dials every rank j < i. Each pair thus
 * has exactly one connection, opened by its higher rank, and simultaneous
 * restarts need no tie-breaking: the higher rank keeps re-dialing (with
 * exponential backoff) until the lower one is back.
 *
 * Incarnations: the handshake carries both ranks' incarnations. A transport
 * remembers the highest incarnation it has seen per peer, starting at 0, and
 * emits `peerIncarnation(r, inc)` when r connects with a higher one. So the
 * first connection of an incarnation-0 peer is *not* reported, while a fresh
 * transport meeting a peer that restarted earlier (inc > 0) reports it. The
 * simulation follows the same rule. A peer showing up with an incarnation
 * below the last one seen is a zombie and is refused.
 *
 * Buffering: frames to a peer without an open connection are queued (bounded
 * by `maxBufferedBytes` per peer, unacknowledged frames included; `send`
 * throws beyond it) and flushed, in order, right after the next handshake.
 *
 * Resend (reliable channels between live processes): per direction and per
 * pair of incarnations (this one, the peer's), both ends count App/Control
 * frames; frames on a connection are in order, so no sequence field is
 * needed. The sender keeps every frame it has not seen acknowledged (a
 * reference per frame, in `PeerLink.unacked`); the receiver acknowledges
 * cumulatively with an Ack frame every ACK_EVERY_FRAMES frames or
 * ACK_EVERY_BYTES bytes, and at each heartbeat tick when something is
 * unacknowledged. When a connection resets and the same two incarnations
 * reconnect, each side's handshake message carries "frames received from
 * you so far"; the sender drops those and resends the rest before any new
 * frame, and the receiver skips any frame it already counted (frames it
 * received on the old connection after announcing its count), so each frame
 * is delivered exactly once, in order. When either side is a new incarnation
 * the pair is new: counters restart at 0, frames already written to the old
 * incarnation are dropped (lost, as the SPI allows: recovering them is the
 * protocols' job) and frames never written are sent to the new one.
 *
 * Failure detection: `peerDown(r)` when an open connection to r closes, or
 * (with `heartbeatMs`) when nothing has arrived from r for `timeoutMs`.
 *
 * Unauthenticated callers: anyone who reaches the port can connect. At most
 * `maxPendingHandshakes` accepted connections may be unauthenticated at once
 * (a new one evicts the oldest), each has `handshakeTimeoutMs` to finish, and
 * their refusals are logged through a LogLimiter, so a flood of idle
 * connections costs bounded memory, file descriptors and log lines.
 *
 * TLS (`tls`): the listener is a `node:tls` server that requests and
 * verifies the caller's certificate, and dials are `tls.connect` with this
 * rank's certificate; both sides trust only the given CA (mutual TLS). The
 * HMAC handshake then runs inside the TLS stream as it does over plain TCP,
 * so a certificate alone does not make a rank: it must know the job secret
 * too. Host names are not checked against the certificates: the CA is the
 * job's own and any certificate it signed is a member; which rank a caller
 * is, the handshake proves. Without `tls`, sockets are plain `node:net` ones
 * and nothing else changes (the choice is made once, at the server and at
 * each dial).
 *
 * I/O (`net`, `clock`; see io.ts): sockets come from `node:net` and timers
 * are the real ones unless other implementations are given; the simulator
 * gives in-memory sockets and its virtual clock to run this same code.
 */
import type { AddressInfo } from "node:net";
import { connect as tlsConnect, createServer as createTlsServer, type TLSSocket } from "node:tls";
import type { Frame, InboundFrame, Transport, TransportEvents } from "../spi.js";
import { Connection, type ConnectionOwner } from "./connection.js";
import { countBytes, DEFAULT_MAX_FRAME_BYTES, WireKind, wireSize, type WireFrame } from "./frame.js";
import { FrameQueue } from "./frame-queue.js";
import { nodeNet, realClock, type NetLayer, type TransportClock, type WireServer, type WireSocket } from "./io.js";
import { LogLimiter } from "./log-limiter.js";

/**
 * The receiver acknowledges after this many frames or bytes (whichever comes
 * first) since its last Ack, so a sender holds at most about this much
 * acknowledged-soon data per peer beyond what is in flight; an Ack (36 bytes)
 * per 256 frames keeps the hot path's cost a reference push and a counter.
 */
const ACK_EVERY_FRAMES = 256;
const ACK_EVERY_BYTES = 1024 * 1024;
const EMPTY = new Uint8Array(0);

/** How long a rank keeps retrying a listening port that is busy. */
const LISTEN_RETRY_MS = 10_000;

export interface PeerAddress {
  readonly host: string;
  readonly port: number;
}

export type TcpLogLevel = "info" | "warn" | "error";

/** PEM contents of this rank's certificate and key and of the CA every rank's certificate is signed by. */
export interface TlsMaterial {
  readonly cert: string | Uint8Array;
  readonly key: string | Uint8Array;
  readonly ca: string | Uint8Array;
}

export interface TcpTransportOptions {
  readonly rank: number;
  readonly size: number;
  /** This process's incarnation: 0 on first start, then 1, 2, ... (u32). */
  readonly incarnation: number;
  /** The per-job secret both sides of every connection must know. */
  readonly secret: Uint8Array | string;
  /** Address of every rank, indexed by rank. When given, `listen` also starts dialing. */
  readonly peers?: readonly PeerAddress[];
  /** Interface to bind (default "127.0.0.1"). */
  readonly host?: string;
  /** Port to bind (default `peers[rank].port`, else 0 = any; read the result from `address`). */
  readonly port?: number;
  /**
   * The port is in use by another process: "retry" it for 10 s, then fail
   * (default; the address is all the peers know), or bind "any" free port at
   * once (the caller then tells the peers the new `address`, e.g. the launcher
   * over IPC, so a process squatting the port cannot keep this rank away).
   */
  readonly onPortBusy?: "retry" | "any";
  /** Largest frame on the wire, header and CRC included, in either direction (default 64 MiB). */
  readonly maxFrameBytes?: number;
  /** Encoded bytes buffered per peer while it is unreachable before `send` throws (default 64 MiB). */
  readonly maxBufferedBytes?: number;
  /** Send a heartbeat on idle connections this often (default 0 = off). */
  readonly heartbeatMs?: number;
  /** Declare a peer down after this long without bytes from it (default 3 × heartbeatMs). */
  readonly timeoutMs?: number;
  /** Drop a connection that has not authenticated within this time (default 5000 ms). */
  readonly handshakeTimeoutMs?: number;
  /** Accepted connections that may be unauthenticated at once; a new one evicts the oldest (default max(8, 2 × size)). */
  readonly maxPendingHandshakes?: number;
  /** Re-dial backoff: first delay and cap, ms (default 20 and 1000). */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  /** Where rejections and connection events go (default: warn/error to console.error, info dropped). */
  readonly log?: (level: TcpLogLevel, msg: string) => void;
  /** Mutual TLS under the HMAC handshake (see the file comment); undefined = plain TCP. */
  readonly tls?: TlsMaterial;
  /** Sockets (default node:net; the simulator passes in-memory ones). Not with `tls`. */
  readonly net?: NetLayer;
  /** Time and timers (default the real ones; the simulator passes its virtual clock). */
  readonly clock?: TransportClock;
}

export interface TcpTransportStats {
  framesSent: number;
  framesReceived: number;
  bytesSent: number;
  bytesReceived: number;
  /** Connections closed for a bad frame, failed authentication, a handshake timeout or a protocol violation. */
  rejected: number;
  /** Unauthenticated connections evicted because `maxPendingHandshakes` were already waiting. */
  dropped: number;
  /** Frames written again after a connection between the same incarnations reset. */
  resent: number;
  /** Frames received twice (on a new connection, already counted on the old one) and discarded. */
  duplicates: number;
}

/** Per peer: the connection (if open), the outbound queue, and dialing state. */
class PeerLink {
  conn: Connection | undefined;
  queue = new FrameQueue();
  flushScheduled = false;
  lastSeenIncarnation = 0;
  address: PeerAddress | undefined;
  dialing: WireSocket | undefined;
  /** Cancels the pending re-dial. */
  dialTimer: (() => void) | undefined;
  backoffMs = 0;
  sentSinceBeat = false;
  /** The peer incarnation the counters below belong to (undefined: no connection yet). */
  pairIncarnation: number | undefined = undefined;
  // Sending side. Frame numbers count from 0 per pair of incarnations.
  /** Frames not yet acknowledged, oldest first, from index `head`; `unacked[head]` is frame number `acked`. */
  unacked: WireFrame[] = [];
  head = 0;
  acked = 0;
  /** Frames numbered below this have been written to a socket. */
  written = 0;
  /** Encoded bytes of the unacknowledged frames. */
  unackedBytes = 0;
  // Receiving side.
  received = 0;
  /** `received` when the last Ack was sent (or announced in a handshake). */
  ackSent = 0;
  bytesSinceAck = 0;
  /** Frames still to discard on the current connection: counted already on an old one. */
  skip = 0;
  constructor(readonly rank: number) {}

  get sent(): number {
    return this.acked + this.unacked.length - this.head;
  }

  /** Forget frames numbered below `count`. */
  dropAcked(count: number): void {
    while (this.acked < count) {
      const f = this.unacked[this.head]!;
      this.unacked[this.head++] = undefined as unknown as WireFrame;
      this.unackedBytes -= wireSize(f.piggyback.byteLength, f.payload.byteLength);
      this.acked++;
    }
    // Compact now and then rather than shift per frame.
    if (this.head >= 1024 && this.head * 2 >= this.unacked.length) {
      this.unacked = this.unacked.slice(this.head);
      this.head = 0;
    }
  }
}

type Pending = (h: TransportEvents) => void;

export class TcpTransport implements Transport, ConnectionOwner {
  readonly rank: number;
  readonly size: number;
  readonly incarnation: number;
  readonly secret: Uint8Array;
  readonly maxFrameBytes: number;
  readonly stats: TcpTransportStats = { framesSent: 0, framesReceived: 0, bytesSent: 0, bytesReceived: 0, rejected: 0, dropped: 0, resent: 0, duplicates: 0 };
  private readonly opts: TcpTransportOptions;
  private readonly links: PeerLink[] = [];
  readonly clock: TransportClock;
  private readonly net: NetLayer;
  private readonly server: WireServer;
  private readonly sockets = new Set<WireSocket>();
  /** Accepted connections not yet authenticated, oldest first (Set keeps insertion order). */
  private readonly pending = new Set<Connection>();
  private readonly maxPending: number;
  /** Refusals of unauthenticated connections: a few lines per 10 s, then a count. */
  private readonly refusals: LogLimiter;
  private handlers: TransportEvents | undefined;
  private inbox: Pending[] = [];
  private closing = false;
  private stopHeartbeat: (() => void) | undefined;
  private readonly logFn: (level: TcpLogLevel, msg: string) => void;
  private readonly maxBuffered: number;
  private readonly backoffInit: number;
  private readonly backoffMax: number;
  private waiters: (() => void)[] = [];

  /** Bind the listening socket (and start dialing when `peers` is given). */
  static async listen(opts: TcpTransportOptions): Promise<TcpTransport> {
    const t = new TcpTransport(opts);
    const host = opts.host ?? "127.0.0.1";
    const port = opts.port ?? opts.peers?.[opts.rank]?.port ?? 0;
    // The port was free when it was picked; until this process binds it, something else may hold it
    // (another job's probe, a closing socket, a squatter).
    for (let waited = 0; ; ) {
      const code = await bindOnce(t.server, host, port);
      if (code === undefined) break;
      if (code === "EADDRINUSE" && port !== 0 && opts.onPortBusy === "any") {
        t.log("warn", `rank ${t.rank}: ${host}:${port} is in use by another process; listening on a free port instead`);
        const again = await bindOnce(t.server, host, 0);
        if (again !== undefined) throw new Error(`rank ${t.rank}: cannot listen on ${host} (any port): ${again}`);
        break;
      }
      if (code !== "EADDRINUSE" || port === 0 || waited >= LISTEN_RETRY_MS) {
        const hint = code === "EADDRINUSE" ? ` (in use by another process for ${LISTEN_RETRY_MS / 1000} s: free it or pick another port)` : "";
        throw new Error(`rank ${t.rank}: cannot listen on ${host}:${port}: ${code}${hint}`);
      }
      if (waited === 0) t.log("warn", `rank ${t.rank}: ${host}:${port} is busy, retrying for up to ${LISTEN_RETRY_MS / 1000} s`);
      const pause = Math.min(500, 50 + waited);
      await new Promise<void>((r) => t.clock.after(pause, r));
      waited += pause;
    }
    t.bound(opts);
    return t;
  }

  /**
   * Bind and start at once, for a `net` whose `listen` completes synchronously
   * (the simulator's). Throws if the listener is not bound on return.
   */
  static open(opts: TcpTransportOptions & { readonly net: NetLayer }): TcpTransport {
    const t = new TcpTransport(opts);
    const host = opts.host ?? "127.0.0.1";
    const port = opts.port ?? opts.peers?.[opts.rank]?.port ?? 0;
    let failed: string | undefined;
    const onError = (e: NodeJS.ErrnoException): void => {
      failed = e.code ?? e.message;
    };
    t.server.once("error", onError);
    t.server.listen({ host, port });
    t.server.off("error", onError);
    if (failed !== undefined || t.server.address() === null) throw new Error(`rank ${t.rank}: cannot listen on ${host}:${port}: ${failed ?? "not bound synchronously"}`);
    t.bound(opts);
    return t;
  }

  private bound(opts: TcpTransportOptions): void {
    this.server.on("error", (e) => this.log("error", `rank ${this.rank}: listener error: ${e.message}`));
    this.log("info", `rank ${this.rank}: listening on ${this.address.host}:${this.address.port}`);
    if (opts.peers !== undefined) this.connect(opts.peers);
  }

  private constructor(opts: TcpTransportOptions) {
    const { rank, size, incarnation } = opts;
    if (!(Number.isInteger(size) && size >= 1)) throw new RangeError(`size must be a positive integer, got ${size}`);
    if (!(Number.isInteger(rank) && rank >= 0 && rank < size)) throw new RangeError(`rank ${rank} out of range for size ${size}`);
    if (!(Number.isInteger(incarnation) && incarnation >= 0 && incarnation <= 0xffffffff)) throw new RangeError(`bad incarnation ${incarnation}`);
    const secret = typeof opts.secret === "string" ? Buffer.from(opts.secret, "utf8") : opts.secret;
    if (secret.byteLength === 0) throw new RangeError("the job secret must not be empty");
    this.opts = opts;
    this.rank = rank;
    this.size = size;
    this.incarnation = incarnation;
    this.secret = secret;
    this.maxFrameBytes = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.maxBuffered = opts.maxBufferedBytes ?? 64 * 1024 * 1024;
    this.backoffInit = opts.backoff?.initialMs ?? 20;
    this.backoffMax = opts.backoff?.maxMs ?? 1000;
    this.logFn = opts.log ?? ((level, msg) => level !== "info" && console.error(`[egida tcp] ${msg}`));
    this.maxPending = opts.maxPendingHandshakes ?? Math.max(8, 2 * size);
    if (!(Number.isInteger(this.maxPending) && this.maxPending >= 1)) throw new RangeError(`maxPendingHandshakes must be a positive integer, got ${this.maxPending}`);
    if (opts.tls !== undefined && opts.net !== undefined) throw new RangeError("tls and net cannot be combined: TLS runs over node:net sockets");
    this.net = opts.net ?? nodeNet;
    this.clock = opts.clock ?? realClock;
    this.refusals = new LogLimiter((msg) => this.log("warn", msg), `unauthenticated connections refused by rank ${rank}`);
    for (let r = 0; r < size; r++) this.links.push(new PeerLink(r));
    const tls = opts.tls;
    if (tls === undefined) {
      this.server = this.net.createServer((socket) => this.onAccept(socket));
    } else {
      const server = createTlsServer(
        {
          cert: toPem(tls.cert),
          key: toPem(tls.key),
          ca: toPem(tls.ca),
          requestCert: true,
          rejectUnauthorized: true,
          minVersion: "TLSv1.2",
          // An unauthenticated caller gets as long for the TLS handshake as for egida's.
          handshakeTimeout: opts.handshakeTimeoutMs ?? 5000,
        },
        (socket: TLSSocket) => this.onAccept(socket),
      );
      // A caller without a certificate from the CA, or not speaking TLS: refused like a failed HMAC handshake.
      server.on("tlsClientError", (e: Error, socket: TLSSocket) => {
        this.stats.rejected++;
        this.refusals.line(`rank ${rank}: TLS handshake from ${socket.remoteAddress ?? "?"}:${socket.remotePort ?? "?"} failed: ${e.message}`);
      });
      this.server = server;
    }
    const hb = opts.heartbeatMs ?? 0;
    if (hb > 0) {
      const timeout = opts.timeoutMs ?? 3 * hb;
      this.stopHeartbeat = this.clock.every(hb, () => this.heartbeat(timeout), true);
    }
  }

  /** The bound listening address (the port is the real one when 0 was asked for). */
  get address(): PeerAddress {
    const a = this.server.address() as AddressInfo | null;
    if (a === null) throw new Error("the transport is not listening");
    return { host: a.address, port: a.port };
  }

  /** Learn every rank's address and start dialing the lower ranks. Call once, after every rank's port is known. */
  connect(peers: readonly PeerAddress[]): void {
    if (peers.length !== this.size) throw new RangeError(`peers has ${peers.length} entries, size is ${this.size}`);
    peers.forEach((p, r) => this.setPeerAddress(r, p));
  }

  /**
   * Set or change one peer's address, or say it listens there again (a
   * restarted peer, on a new port or its old one); dials it if it is a lower
   * rank. A dial still in progress (on a changed address it may be held by
   * another process that never answers) and a re-dial waiting out its backoff
   * are abandoned: the address is dialed at once. Without this notice a rank
   * that re-dials a restarted peer waits for its backoff, up to `backoff.maxMs`,
   * after the peer is back (the launcher sends it when a restarted rank listens).
   */
  setPeerAddress(rank: number, addr: PeerAddress): void {
    this.checkPeer(rank, true);
    const link = this.links[rank]!;
    const known = link.address !== undefined;
    link.address = addr;
    if (rank >= this.rank || link.conn !== undefined) return;
    if (known) {
      link.dialTimer?.();
      link.dialTimer = undefined;
      const stale = link.dialing;
      link.dialing = undefined;
      stale?.destroy();
      link.backoffMs = 0;
    }
    if (link.dialing === undefined && link.dialTimer === undefined) this.dial(link);
  }

  /** Accepted connections that have not authenticated yet. */
  get pendingHandshakes(): number {
    return this.pending.size;
  }

  /** Ranks with an open connection. */
  connectedPeers(): number[] {
    return this.links.filter((l) => l.conn !== undefined).map((l) => l.rank);
  }

  /** Frames sent to `rank` and not acknowledged yet (queued, in flight, or held for a resend). */
  unacknowledged(rank: number): number {
    this.checkPeer(rank, false);
    const link = this.links[rank]!;
    return link.unacked.length - link.head;
  }

  /** Resolves once every other rank is connected (or rejects after `timeoutMs`). */
  waitForPeers(timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => this.connectedPeers().length === this.size - 1;
      if (check()) return resolve();
      const cancel = this.clock.after(timeoutMs, () => reject(new Error(`rank ${this.rank}: peers not connected after ${timeoutMs} ms: have [${this.connectedPeers().join(",")}]`)));
      const w = (): void => {
        if (!check()) return;
        cancel();
        this.waiters = this.waiters.filter((x) => x !== w);
        resolve();
      };
      this.waiters.push(w);
    });
  }

  // ---------------------------------------------------------------- Transport

  send(to: number, frame: Frame): void {
    if (this.closing) return;
    this.checkPeer(to, false);
    const kind: number = frame.kind;
    if (kind !== WireKind.App && kind !== WireKind.Control) throw new RangeError(`send: bad frame kind ${frame.kind}`);
    if (!(Number.isInteger(frame.tag) && frame.tag >= 0 && frame.tag <= 0xffff)) throw new RangeError(`send: tag ${frame.tag} is not a u16`);
    const size = wireSize(frame.piggyback.byteLength, frame.payload.byteLength);
    if (size > this.maxFrameBytes) throw new RangeError(`send: frame of ${size} bytes exceeds maxFrameBytes ${this.maxFrameBytes}`);
    const link = this.links[to]!;
    if (link.conn === undefined && link.unackedBytes + size > this.maxBuffered) {
      throw new Error(
        `send: rank ${to} is unreachable and ${link.unackedBytes} bytes are already buffered for it; ` +
          `this frame (${size} bytes) would exceed maxBufferedBytes ${this.maxBuffered}`,
      );
    }
    const wf: WireFrame = { kind: frame.kind, tag: frame.tag, from: this.rank, fromIncarnation: this.incarnation, piggyback: frame.piggyback, payload: frame.payload };
    link.queue.push(wf);
    link.unacked.push(wf);
    link.unackedBytes += size;
    this.stats.framesSent++;
    this.stats.bytesSent += size;
    link.sentSinceBeat = true;
    if (link.conn !== undefined) this.scheduleFlush(link);
  }

  on(events: TransportEvents): void {
    this.handlers = events;
    if (this.inbox.length > 0) {
      // Deliver what arrived before `on`, but not synchronously inside it.
      const items = this.inbox;
      this.inbox = [];
      queueMicrotask(() => {
        for (const item of items) item(events);
      });
    }
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.stopHeartbeat?.();
    this.refusals.flush();
    for (const link of this.links) {
      link.dialTimer?.();
      link.dialTimer = undefined;
      if (link.conn !== undefined) this.flush(link);
    }
    const serverClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const socketsClosed = [...this.sockets].map(
      (s) =>
        new Promise<void>((resolve) => {
          if (s.destroyed) return resolve();
          s.once("close", () => resolve());
          s.end();
          // A peer that does not close its side must not hold us up.
          this.clock.after(500, () => s.destroy(), true);
        }),
    );
    await Promise.all([serverClosed, ...socketsClosed]);
  }

  // ---------------------------------------------------------------- ConnectionOwner

  admit(rank: number, incarnation: number): string | undefined {
    if (this.closing) return "transport is closing";
    if (!(Number.isInteger(rank) && rank >= 0 && rank < this.size)) return `unknown rank ${rank} (size ${this.size})`;
    if (rank <= this.rank) return `rank ${rank} must not dial rank ${this.rank} (the higher rank dials)`;
    const link = this.links[rank]!;
    if (incarnation < link.lastSeenIncarnation) return `rank ${rank} incarnation ${incarnation} is older than ${link.lastSeenIncarnation}`;
    return undefined;
  }

  receivedFrom(rank: number, incarnation: number): number {
    const link = this.links[rank];
    return link !== undefined && link.pairIncarnation === incarnation ? link.received : 0;
  }

  ack(conn: Connection, count: number): void {
    const link = this.links[conn.peerRank]!;
    if (link.conn !== conn) return;
    if (count > link.written) {
      conn.reject(`Ack of ${count} frames, but only ${link.written} were sent`);
      return;
    }
    link.dropAcked(count);
  }

  established(conn: Connection): void {
    this.pending.delete(conn);
    const link = this.links[conn.peerRank]!;
    if (conn.peerIncarnation < link.lastSeenIncarnation) {
      conn.reject(`rank ${conn.peerRank} incarnation ${conn.peerIncarnation} is older than ${link.lastSeenIncarnation}`);
      return;
    }
    const old = link.conn;
    if (old !== undefined && old !== conn) {
      // The peer reconnected before we noticed the old connection die (e.g. a fast restart): the new one wins.
      old.superseded = true;
      old.socket.destroy();
    }
    if (!this.resume(link, conn)) return;
    link.conn = conn;
    if (link.dialing === conn.socket) link.dialing = undefined;
    link.backoffMs = 0;
    this.log("info", `rank ${this.rank}: connected ${conn.describe()} (peer incarnation ${conn.peerIncarnation})`);
    if (conn.peerIncarnation > link.lastSeenIncarnation) {
      link.lastSeenIncarnation = conn.peerIncarnation;
      const inc = conn.peerIncarnation;
      this.emit((h) => h.peerIncarnation(link.rank, inc));
    }
    if (link.queue.frames > 0) this.flush(link);
    for (const w of [...this.waiters]) w();
  }

  frame(conn: Connection, f: WireFrame): void {
    const link = this.links[conn.peerRank]!;
    // Only the current connection's frames count (a superseded one is being torn down).
    if (link.conn !== conn) return;
    if (link.skip > 0) {
      link.skip--;
      this.stats.duplicates++;
      return;
    }
    const bytes = wireSize(f.piggyback.byteLength, f.payload.byteLength);
    this.stats.framesReceived++;
    this.stats.bytesReceived += bytes;
    link.received++;
    link.bytesSinceAck += bytes;
    if (link.received - link.ackSent >= ACK_EVERY_FRAMES || link.bytesSinceAck >= ACK_EVERY_BYTES) this.sendAck(link);
    // `kind` was validated by the connection (App or Control), so it is a FrameKind.
    const inbound = f as InboundFrame;
    const h = this.handlers;
    if (h !== undefined && this.inbox.length === 0) h.frame(inbound);
    else this.inbox.push((hh) => hh.frame(inbound));
  }

  closed(conn: Connection): void {
    this.sockets.delete(conn.socket);
    this.pending.delete(conn);
    const link = this.links[conn.peerRank];
    if (link === undefined || link.conn !== conn) {
      if (!conn.isOpen && conn.role === "dialer" && link !== undefined && link.dialing === conn.socket) {
        link.dialing = undefined;
        this.redial(link);
      }
      return;
    }
    link.conn = undefined;
    if (this.closing) return;
    this.log("info", `rank ${this.rank}: connection ${conn.describe()} closed`);
    this.emit((h) => h.peerDown?.(link.rank));
    if (link.rank < this.rank) {
      link.dialing = undefined;
      this.redial(link);
    }
  }

  rejected(conn: Connection, reason: string): void {
    this.stats.rejected++;
    const msg = `rank ${this.rank}: closing connection ${conn.describe()}: ${reason}`;
    // Anyone can make an unauthenticated connection fail; only an authenticated peer's rejection is always worth a line.
    if (conn.authenticated) this.log("warn", msg);
    else this.refusals.line(msg);
  }

  log(level: TcpLogLevel, msg: string): void {
    this.logFn(level, msg);
  }

  // ---------------------------------------------------------------- internals

  private emit(fn: Pending): void {
    const h = this.handlers;
    if (h !== undefined && this.inbox.length === 0) fn(h);
    else this.inbox.push(fn);
  }

  private handshakeTimeout(): number {
    return this.opts.handshakeTimeoutMs ?? 5000;
  }

  private onAccept(socket: WireSocket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    if (this.pending.size >= this.maxPending) {
      // Evict the oldest rather than refuse the newest: a caller that opens connections and
      // sits on them cannot lock legitimate ranks out, it can only race their (short) handshakes.
      const oldest = this.pending.values().next().value!;
      this.pending.delete(oldest);
      this.stats.dropped++;
      this.refusals.line(`rank ${this.rank}: dropping unauthenticated connection ${oldest.describe()}: ${this.maxPending} connections are waiting to authenticate (the limit)`);
      oldest.drop();
    }
    this.sockets.add(socket);
    // The peer's rank is unknown until its Hello; -1 until then.
    this.pending.add(new Connection(this, socket, "listener", -1, this.handshakeTimeout()));
  }

  private dial(link: PeerLink): void {
    if (this.closing || link.address === undefined) return;
    link.dialTimer = undefined;
    const tls = this.opts.tls;
    const socket: WireSocket =
      tls === undefined
        ? this.net.connect({ host: link.address.host, port: link.address.port })
        : tlsConnect({
            host: link.address.host,
            port: link.address.port,
            cert: toPem(tls.cert),
            key: toPem(tls.key),
            ca: toPem(tls.ca),
            minVersion: "TLSv1.2",
            // The chain is checked against the job's CA; the rank is proved by the HMAC handshake (file comment).
            checkServerIdentity: () => undefined,
          });
    link.dialing = socket;
    this.sockets.add(socket);
    let connected = false;
    socket.once(tls === undefined ? "connect" : "secureConnect", () => {
      connected = true;
      new Connection(this, socket, "dialer", link.rank, this.handshakeTimeout());
    });
    socket.once("close", () => {
      if (connected) return; // the Connection reports it
      this.sockets.delete(socket);
      if (link.dialing === socket) link.dialing = undefined;
      this.redial(link);
    });
    socket.once("error", (e: NodeJS.ErrnoException) => {
      if (connected) return;
      // A refused certificate repeats at every re-dial: worth a (rate-limited) warning; a peer not up yet is routine.
      if (tls !== undefined && isTlsFailure(e)) this.refusals.line(`rank ${this.rank}: TLS handshake with rank ${link.rank} failed: ${e.message}`);
      else this.log("info", `rank ${this.rank}: dial ${link.rank} failed: ${e.message}`);
    });
  }

  private redial(link: PeerLink): void {
    if (this.closing || link.conn !== undefined || link.dialing !== undefined || link.dialTimer !== undefined) return;
    const delay = link.backoffMs;
    link.backoffMs = Math.min(this.backoffMax, Math.max(this.backoffInit, link.backoffMs * 2));
    link.dialTimer = this.clock.after(delay, () => this.dial(link));
  }

  /**
   * Line up the counters of a new connection (see "Resend" in the file comment): a new pair of
   * incarnations starts from 0; the same pair resumes where the peer's handshake says it is.
   * Rebuilds the outbound queue from the unacknowledged frames. False if the connection was rejected.
   */
  private resume(link: PeerLink, conn: Connection): boolean {
    if (link.pairIncarnation !== conn.peerIncarnation) {
      // Frames written to the old incarnation are gone with it; those never written go to the new one.
      link.dropAcked(link.written);
      link.acked = link.written = 0;
      link.received = link.ackSent = link.bytesSinceAck = 0;
      link.pairIncarnation = conn.peerIncarnation;
    }
    if (conn.announced > link.received) {
      // The pair changed between this connection's handshake and now (another incarnation won): redo it.
      conn.reject(`resume mismatch: announced ${conn.announced} frames from rank ${link.rank}, the pair now has ${link.received}`);
      return false;
    }
    let r = conn.peerReceived;
    if (r > link.written) {
      // Only if this incarnation number was used before by another process (a manual restart that reused it):
      // the peer counts on from there. Refusing would re-dial into the same answer forever; continue numbered from r.
      this.log("warn", `rank ${this.rank}: rank ${link.rank} says it received ${r} frames from incarnation ${this.incarnation}, which wrote ${link.written}; was incarnation ${this.incarnation} started twice?`);
      link.dropAcked(link.written);
      link.acked = link.written = r;
    }
    r = Math.max(r, link.acked);
    link.dropAcked(r);
    link.skip = link.received - conn.announced;
    link.ackSent = conn.announced;
    link.bytesSinceAck = 0;
    // Everything unacknowledged goes out again, in order, before any new frame.
    const resend = link.written - link.acked;
    this.stats.resent += resend;
    link.written = link.acked;
    const queue = new FrameQueue();
    for (let i = link.head; i < link.unacked.length; i++) queue.push(link.unacked[i]!);
    link.queue = queue;
    return true;
  }

  private sendAck(link: PeerLink): void {
    link.ackSent = link.received;
    link.bytesSinceAck = 0;
    link.queue.push({ kind: WireKind.Ack, tag: 0, from: this.rank, fromIncarnation: this.incarnation, piggyback: EMPTY, payload: countBytes(link.received) });
    this.scheduleFlush(link);
  }

  private scheduleFlush(link: PeerLink): void {
    if (link.flushScheduled) return;
    link.flushScheduled = true;
    // Coalesce every send of this tick into one writev.
    this.clock.soon(() => {
      link.flushScheduled = false;
      this.flush(link);
    });
  }

  private flush(link: PeerLink): void {
    const conn = link.conn;
    if (conn === undefined || link.queue.frames === 0) return;
    const chunks = link.queue.drain();
    link.written = link.sent;
    const s = conn.socket;
    s.cork();
    for (const c of chunks) s.write(c);
    s.uncork();
  }

  private heartbeat(timeoutMs: number): void {
    const now = this.clock.now();
    for (const link of this.links) {
      const conn = link.conn;
      if (conn === undefined) continue;
      if (now - conn.lastHeard > timeoutMs) {
        conn.reject(`no bytes from rank ${link.rank} for ${Math.round(now - conn.lastHeard)} ms (timeout ${timeoutMs} ms)`);
        continue;
      }
      if (link.received > link.ackSent) {
        // An Ack also tells the peer we are alive.
        this.sendAck(link);
      } else if (!link.sentSinceBeat) {
        link.queue.push({ kind: WireKind.Heartbeat, tag: 0, from: this.rank, fromIncarnation: this.incarnation, piggyback: EMPTY, payload: EMPTY });
        this.flush(link);
      }
      link.sentSinceBeat = false;
    }
  }

  private checkPeer(rank: number, selfOk: boolean): void {
    if (!(Number.isInteger(rank) && rank >= 0 && rank < this.size)) throw new RangeError(`no rank ${rank} (size ${this.size})`);
    if (!selfOk && rank === this.rank) throw new RangeError(`rank ${rank} cannot send to itself`);
  }
}

/** Listen on `peers[rank]` (or `port`) and dial the lower ranks: the usual one-call setup. */
export function createTcpTransport(opts: TcpTransportOptions & { readonly peers: readonly PeerAddress[] }): Promise<TcpTransport> {
  return TcpTransport.listen(opts);
}

function toPem(v: string | Uint8Array): string | Buffer {
  return typeof v === "string" ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

/** The error is TLS's (a certificate refused, a protocol mismatch), not the network's. */
function isTlsFailure(e: NodeJS.ErrnoException): boolean {
  const code = e.code ?? "";
  return /SSL|TLS|CERT|UNABLE_TO|SELF_SIGNED|DEPTH_ZERO/.test(code);
}

/** One `listen` attempt; resolves to the error code, or undefined once bound. */
function bindOnce(server: WireServer, host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    // Both listeners go away whichever fires: a `listen(cb)` per retry left one 'listening'
    // listener behind each time (MaxListenersExceededWarning after ten retries).
    const onError = (e: NodeJS.ErrnoException): void => {
      server.off("listening", onListening);
      resolve(e.code ?? e.message);
    };
    const onListening = (): void => {
      server.off("error", onError);
      resolve(undefined);
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen({ host, port });
  });
}
