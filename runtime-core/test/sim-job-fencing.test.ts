/**
 * runSimJob fences a killed incarnation's storage: its leftover async code
 * (what a protocol does once the k-th delivery settled) must not log
 * anything the next incarnation reads, as a SIGKILL right after delivery k
 * would not let it. The probe protocol logs each message *after* delivering
 * it, so a kill after delivery 10 must leave 9 records, not 10.
 */
import { describe, expect, it } from "vitest";
import { runSimJob } from "../src/launcher/sim-job.js";
import { FrameKind, type App, type InboundFrame, type LogStore, type Protocol, type ProtocolFactory, type ProtocolHost } from "../src/spi.js";

/** Delivers each frame, then logs it durably on local disk; a recovering incarnation says how many it found. */
class DeliverThenLog implements Protocol {
  private log: LogStore | null = null;
  private chain: Promise<void> = Promise.resolve();
  constructor(private readonly host: ProtocolHost) {}
  async start(): Promise<void> {
    this.log = await this.host.storage.openLog("local-disk", "deliveries");
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
      await this.host.deliver(f.from, f.payload, { replay: false });
      // Runs after the kill when the kill came right after this delivery: fenced, it never reaches the log.
      this.log!.append(f.payload);
      await this.log!.sync();
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

const factory: ProtocolFactory = { protocolName: "deliver-then-log", defaultF: 0, create: (h) => new DeliverThenLog(h) };

/** Ranks 0 and 2 each send 20 messages to rank 1. */
const burst: App<{ n: number }> = {
  init: () => ({ n: 0 }),
  onStart(_s, ctx) {
    if (ctx.rank !== 1) for (let i = 0; i < 20; i++) ctx.send(1, i);
    else ctx.done();
  },
  onMessage(s) {
    s.n++;
  },
};

describe("runSimJob storage fencing", () => {
  it("a kill after delivery 10 leaves the 9 records logged before it (the dead incarnation logs nothing after the kill)", async () => {
    const events: string[] = [];
    await runSimJob({
      size: 3,
      app: burst as App<unknown>,
      protocol: factory,
      kills: [{ rank: 1, atDeliveries: 10, text: "1@10msgs" }],
      timeoutMs: 500,
      onEvent: (m) => events.push(m),
    });
    const recovered = events.filter((e) => e.includes("recovered"));
    expect(recovered, events.join("\n")).toEqual(["rank 1: recovered 9 records"]);
  });
});
