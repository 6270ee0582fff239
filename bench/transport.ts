/**
 * Transport benchmarks: messages/s and round-trip latency for 64 B and 64 KiB
 * messages, in the simulation and over TCP loopback.
 *
 *   npx tsx bench/transport.ts            (add --quick for a short run; --loopback: only
 *                                         the batched TCP loopback of 64 B messages, one line)
 *
 * With the openssl CLI, TCP runs a second time over mutual TLS (a throwaway CA
 * made in a temp dir): the HMAC handshake inside TLS, as `--tls-*` sets up.
 *
 * TCP runs two TcpTransports in ONE process (rank 0 and rank 1 on 127.0.0.1),
 * so both ends share one event loop: a conservative number compared to two
 * processes, each with its own core.
 *
 * Throughput: rank 0 streams N frames to rank 1 with a window (4096 frames or
 * 16 MiB, whichever is smaller; rank 1 acks every window/4 frames with a Control frame), measured end to end.
 * Latency: ping-pong with one frame in flight; each round trip timed with
 * performance.now(). Simulation latency is wall-clock cost of a round trip
 * (its virtual latency is whatever the model says).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { makeCerts, opensslMissing } from "../runtime-core/test/fixtures/tls-certs.js";
import { FrameKind, type Frame, type Transport } from "../runtime-core/src/spi.js";
import { SimWorld } from "../runtime-core/src/sim/index.js";
import { TcpTransport, type TlsMaterial } from "../runtime-core/src/transport/index.js";
import { benchArgs } from "./args.js";

const flags = benchArgs("transport", "Usage: npx tsx bench/transport.ts [--quick] [--loopback]", { quick: { type: "boolean" }, loopback: { type: "boolean" } });
const quick = flags.quick === true;
/** Only the batched TCP loopback of 64 B messages, one line (bench/job.ts's reference for the stream workload). */
const loopbackOnly = flags.loopback === true;
const EMPTY = new Uint8Array(0);
/** Frames in flight: 4096 small ones, or 16 MiB worth of large ones (a 256 MiB window only measures memory pressure). */
const windowFor = (size: number): number => Math.max(64, Math.min(4096, Math.floor((16 << 20) / size)));

interface Pair {
  a: Transport;
  b: Transport;
  /** Drive the network until `done()` (the sim needs run(); TCP just waits). */
  pump(done: () => boolean): Promise<void>;
  close(): Promise<void>;
}

async function simPair(): Promise<Pair> {
  const world = new SimWorld({ size: 2, seed: 1 });
  return {
    a: world.transport(0),
    b: world.transport(1),
    pump: async (done) => {
      while (!done()) {
        const r = await world.run();
        if (r.reason === "idle" && !done()) throw new Error("sim went idle before the benchmark finished");
      }
    },
    close: async () => {},
  };
}

async function tcpPair(tls?: TlsMaterial): Promise<Pair> {
  const opts = { size: 2, incarnation: 0, secret: "bench", ...(tls ? { tls } : {}) } as const;
  const a = await TcpTransport.listen({ ...opts, rank: 0 });
  const b = await TcpTransport.listen({ ...opts, rank: 1 });
  const peers = [a.address, b.address];
  a.connect(peers);
  b.connect(peers);
  await Promise.all([a.waitForPeers(), b.waitForPeers()]);
  return {
    a,
    b,
    pump: async (done) => {
      while (!done()) await new Promise((r) => setImmediate(r));
    },
    close: async () => {
      await Promise.all([a.close(), b.close()]);
    },
  };
}

async function throughput(pair: Pair, size: number, n: number): Promise<number> {
  const payload = new Uint8Array(size).fill(7);
  const app: Frame = { kind: FrameKind.App, tag: 0, piggyback: EMPTY, payload };
  const ack: Frame = { kind: FrameKind.Control, tag: 1, piggyback: EMPTY, payload: EMPTY };
  const WINDOW = windowFor(size);
  let received = 0;
  let acked = 0;
  let sent = 0;
  const pumpSends = (): void => {
    while (sent < n && sent - acked < WINDOW) {
      pair.a.send(1, app);
      sent++;
    }
  };
  pair.b.on({
    frame: () => {
      received++;
      if (received % (WINDOW / 4) === 0 || received === n) pair.b.send(0, ack);
    },
    peerIncarnation: () => {},
  });
  pair.a.on({
    frame: () => {
      acked = received; // in one process the receiver's count is visible; the ack just paces the sender
      pumpSends();
    },
    peerIncarnation: () => {},
  });
  const t0 = performance.now();
  pumpSends();
  await pair.pump(() => received >= n);
  return (n / (performance.now() - t0)) * 1000;
}

async function latency(pair: Pair, size: number, rounds: number): Promise<{ p50: number; p99: number }> {
  const payload = new Uint8Array(size).fill(3);
  const frame: Frame = { kind: FrameKind.App, tag: 0, piggyback: EMPTY, payload };
  const samples: number[] = [];
  let t = 0;
  let done = 0;
  pair.b.on({ frame: () => pair.b.send(0, frame), peerIncarnation: () => {} });
  pair.a.on({
    frame: () => {
      samples.push(performance.now() - t);
      if (++done < rounds) {
        t = performance.now();
        pair.a.send(1, frame);
      }
    },
    peerIncarnation: () => {},
  });
  t = performance.now();
  pair.a.send(1, frame);
  await pair.pump(() => done >= rounds);
  samples.sort((x, y) => x - y);
  const q = (p: number): number => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))]! * 1000;
  return { p50: q(0.5), p99: q(0.99) };
}

interface Row {
  transport: string;
  size: string;
  msgsPerSec: number;
  mbPerSec: number;
  p50us: number;
  p99us: number;
}

const scale = quick ? 0.1 : 1;
const TCP_SIZES = [[64, 1_000_000, 20_000], [65536, 30_000, 3_000]] as const;
const plans: { name: string; make: () => Promise<Pair>; sizes: readonly (readonly [number, number, number])[] }[] = [
  { name: "sim", make: simPair, sizes: [[64, 1_000_000, 20_000], [65536, 100_000, 5_000]] },
  { name: "tcp loopback (1 process)", make: () => tcpPair(), sizes: TCP_SIZES },
];
const pki = !loopbackOnly && opensslMissing() === null ? mkdtempSync(join(tmpdir(), "egida-bench-tls-")) : null;
if (pki !== null) {
  const set = makeCerts(pki, ["bench"]);
  const tls: TlsMaterial = { cert: readFileSync(set.certs["bench"]!.cert), key: readFileSync(set.certs["bench"]!.key), ca: readFileSync(set.ca) };
  plans.push({ name: "tcp loopback + mutual TLS (1 process)", make: () => tcpPair(tls), sizes: TCP_SIZES });
} else if (!loopbackOnly) console.error(`no TLS rows: ${opensslMissing()}`);

if (loopbackOnly) {
  const [size, n] = TCP_SIZES[0];
  const warm = await tcpPair();
  await throughput(warm, size, Math.round(n * scale * 0.1));
  await warm.close();
  const p = await tcpPair();
  const rate = await throughput(p, size, Math.round(n * scale));
  await p.close();
  console.log(`loopback msgs/s ${Math.round(rate)}`);
  process.exit(0);
}

const rows: Row[] = [];
for (const plan of plans) {
  for (const [size, n, rounds] of plan.sizes) {
    const tp = await plan.make();
    await throughput(tp, size, Math.round(n * scale * 0.1)); // warm-up
    await tp.close();
    const p1 = await plan.make();
    const rate = await throughput(p1, size, Math.round(n * scale));
    await p1.close();
    const p2 = await plan.make();
    await latency(p2, size, Math.round(rounds * scale * 0.1)); // warm-up
    const lat = await latency(p2, size, Math.round(rounds * scale));
    await p2.close();
    rows.push({
      transport: plan.name,
      size: size >= 1024 ? `${size / 1024} KiB` : `${size} B`,
      msgsPerSec: Math.round(rate),
      mbPerSec: Math.round((rate * size) / 1e6),
      p50us: Math.round(lat.p50 * 10) / 10,
      p99us: Math.round(lat.p99 * 10) / 10,
    });
  }
}

if (pki !== null) rmSync(pki, { recursive: true, force: true });
const cpu = cpus();
console.log(`machine: ${cpu[0]?.model ?? "?"}, ${cpu.length} cores, node ${process.version}, ${process.platform}/${process.arch}`);
console.log("latency = round trip (ping-pong, one frame in flight), wall clock");
console.log("| transport | size | msgs/s | MB/s | RTT p50 (µs) | RTT p99 (µs) |");
console.log("|---|---|---:|---:|---:|---:|");
for (const r of rows) console.log(`| ${r.transport} | ${r.size} | ${r.msgsPerSec.toLocaleString("en-US")} | ${r.mbPerSec} | ${r.p50us} | ${r.p99us} |`);
