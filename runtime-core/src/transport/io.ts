/**
 * What TcpTransport needs from the outside world, as two small interfaces:
 * the sockets (`NetLayer`: a listening server, outgoing connections, and the
 * socket calls and events the transport uses) and the clock (`TransportClock`:
 * now, timers, "soon"). The defaults are `node:net` and the real timers, so a
 * TcpTransport without these options is the production one, unchanged.
 *
 * The simulator passes its own (sim/sim-net.ts, sim/world.ts `wire: "tcp"`):
 * in-memory socket pairs whose bytes cross the world's event queue, and
 * timers on its virtual clock. The transport, connection, handshake, codec
 * and re-dial code then run as they do between processes, with only the I/O
 * simulated (FoundationDB's approach).
 *
 * A node:net `Socket` and `Server` satisfy these interfaces as they are: the
 * transport calls them directly, with no wrapper on the per-frame path.
 */
import { connect as netConnect, createServer as netCreateServer, type AddressInfo } from "node:net";

/** The part of a `node:net` Socket the transport uses. */
export interface WireSocket {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  readonly destroyed: boolean;
  setNoDelay(noDelay?: boolean): unknown;
  write(chunk: Uint8Array): boolean;
  cork(): void;
  uncork(): void;
  end(): unknown;
  destroy(): unknown;
  on(event: "data", fn: (chunk: Buffer) => void): unknown;
  on(event: "close", fn: () => void): unknown;
  on(event: "error", fn: (e: Error) => void): unknown;
  once(event: "connect" | "secureConnect" | "close", fn: () => void): unknown;
  once(event: "error", fn: (e: NodeJS.ErrnoException) => void): unknown;
}

/** The part of a `node:net` Server the transport uses. */
export interface WireServer {
  listen(opts: { host: string; port: number }): unknown;
  close(cb?: (err?: Error) => void): unknown;
  address(): AddressInfo | string | null;
  on(event: "error", fn: (e: Error) => void): unknown;
  once(event: "error", fn: (e: NodeJS.ErrnoException) => void): unknown;
  once(event: "listening", fn: () => void): unknown;
  off(event: "error", fn: (e: NodeJS.ErrnoException) => void): unknown;
  off(event: "listening", fn: () => void): unknown;
}

export interface NetLayer {
  /** A server calling `onAccept` with each accepted socket (not listening yet). */
  createServer(onAccept: (socket: WireSocket) => void): WireServer;
  /** Dial; the socket emits "connect", or "error" then "close". */
  connect(to: { host: string; port: number }): WireSocket;
}

export interface TransportClock {
  /** Milliseconds (performance.now() for real; virtual in the simulator). */
  now(): number;
  /** Run `fn` once after `ms`; `weak` timers do not keep the process alive (unref). Returns a cancel function. */
  after(ms: number, fn: () => void, weak?: boolean): () => void;
  /** Run `fn` every `ms` (weak as for `after`). Returns a cancel function. */
  every(ms: number, fn: () => void, weak?: boolean): () => void;
  /** Run `fn` after the current synchronous work (process.nextTick for real): used to coalesce writes. */
  soon(fn: () => void): void;
}

export const nodeNet: NetLayer = {
  createServer: (onAccept) => netCreateServer((socket) => onAccept(socket)),
  connect: (to) => netConnect({ host: to.host, port: to.port }),
};

export const realClock: TransportClock = {
  now: () => performance.now(),
  after(ms, fn, weak = false) {
    const t = setTimeout(fn, ms);
    if (weak) t.unref();
    return () => clearTimeout(t);
  },
  every(ms, fn, weak = false) {
    const t = setInterval(fn, ms);
    if (weak) t.unref();
    return () => clearInterval(t);
  },
  soon: (fn) => process.nextTick(fn),
};
