/**
 * The host routes runtime control frames to the replicated log: a protocol
 * that logs to `volatile-memory-of-processes` finds its records again after a
 * simulated crash, and a rank that lost its replica in the same crash
 * (beyond f) stops the job as unrecoverable.
 */
import { describe, expect, it } from "vitest";
import { runSimJob } from "../src/launcher/sim-job.js";
import { FrameKind, type App, type InboundFrame, type LogStore, type Protocol, type ProtocolFactory, type ProtocolHost } from "../src/spi.js";

class LoggingProtocol implements Protocol {
  private log: LogStore | null = null;
  private chain: Promise<void> = Promise.resolve();
  constructor(private readonly host: ProtocolHost) {}
  async start(): Promise<void> {
    this.log = await this.host.storage.openLog("volatile-memory-of-processes", "deliveries");
    if (this.host.incarnation > 0) {
      const recs = await this.log.readAll();
      this.host.trace({ type: "protocol", rank: this.host.rank, what: `recovered ${recs.length} records` });
    }
    await this.host.initApp({ replay: false });
  }
  send(to: number, payload: Uint8Array): void {
    this.host.transport.send(to, { kind: FrameKind.App, tag: 0, piggyback: new Uint8Array(0), payload });
  }
  onFrame(f: InboundFrame): void {
    this.chain = this.chain.then(async () => {
      this.log!.append(f.payload);
      await this.log!.sync();
      await this.host.deliver(f.from, f.payload, { replay: false });
    });
  }
  read(p: () => Uint8Array): Promise<Uint8Array> {
    return Promise.resolve(p());
  }
  write(): Promise<void> {
    return Promise.resolve();
  }
  onPeerRestart(): void {}
  stats() {
    return { messages: 0, piggybackBytes: 0, bytesLogged: 0, checkpoints: 0, rollbacks: 0 };
  }
  async stop(): Promise<void> {}
}

const factory: ProtocolFactory = { protocolName: "log-to-peers", defaultF: 1, create: (h) => new LoggingProtocol(h) };

const ringApp: App<{ n: number }> = {
  init: () => ({ n: 0 }),
  onStart(_s, ctx) {
    if (ctx.rank === 0) ctx.send(1, 0);
  },
  onMessage(s, m, ctx) {
    s.n++;
    const v = m.data as number;
    if (v < 60) ctx.send((ctx.rank + 1) % ctx.size, v + 1);
  },
};

describe("RankHost + replicated log (sim)", () => {
  it("beyond f: a rank and its only replica killed together make the job unrecoverable, naming the lost replica", async () => {
    const events: string[] = [];
    const res = await runSimJob({
      size: 3,
      app: ringApp as App<unknown>,
      protocol: factory,
      kills: [
        { rank: 1, atMs: 20, text: "1@20ms" },
        { rank: 2, atMs: 20, text: "2@20ms" },
      ],
      restartDelayMs: 1,
      onEvent: (m) => events.push(m),
    });
    expect(res.failure, events.join("\n")).toMatchObject({ kind: "unrecoverable" });
    const reason = res.failure?.kind === "unrecoverable" ? res.failure.reason : "";
    expect(reason).toMatch(/^rank 1 cannot recover replicated log "deliveries": no replica holds a complete copy; rank 2 \(incarnation 1\) restarted/);
  });

  it("a restarted rank reads back what its replica held", async () => {
    const events: string[] = [];
    const res = await runSimJob({
      size: 3,
      app: ringApp as App<unknown>,
      protocol: factory,
      kills: [{ rank: 1, atDeliveries: 10, text: "1@10msgs" }],
      onEvent: (m) => events.push(m),
    });
    expect(events.join("\n")).toMatch(/rank 1: recovered 10 records/);
    expect(res.ranks[1]!.restarts).toBe(1);
  });
});
