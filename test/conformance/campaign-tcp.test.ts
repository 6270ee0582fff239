/**
 * The crash campaign over the real wire path: SimWorld `wire: "tcp"`, where
 * every rank runs TcpTransport itself (handshake, codec, CRC, write
 * coalescing, failure detection by connection close, re-dial with backoff,
 * incarnation reports) over simulated sockets on the virtual clock. A crash
 * may leave the last chunk each of the victim's connections has in flight
 * cut or corrupted (the reconnect fault): the survivor's decoder must drop
 * it and the next connection must start clean.
 *
 * One protocol per family that matters to the wire (pessimistic, causal,
 * checkpoint-only) × every conformance app × a few seeds; the full campaign
 * takes `--wire tcp` the same way (docs/campaign.md). A second slice resets
 * connections between live ranks (`resetsAtMs`): TcpTransport resends what
 * was in flight, so those runs must end like failure-free ones.
 */
import { describe, expect, it } from "vitest";
import { CONFORMANCE_APPS, findApp } from "./apps.js";
import { CampaignContext, describeCase, kindFor, runCase, scheduleFor } from "./campaign.js";
import { runSimJob, type JobResult } from "./harness.js";
import { loadConformanceApp } from "./apps.js";
import { discoverProtocols } from "./protocols.js";

const PROTOCOLS = ["receiver-based-pessimistic", "family-based-causal", "coordinated-checkpointing"];
/** Seeds per protocol × app: the first six schedule kinds (single .. near-flush). */
const SEEDS = 6;

const { protocols } = await discoverProtocols({ backends: ["inline"] });
const ctx = new CampaignContext();
/** Across the slice: chunks a crash left cut or corrupted on the victim's connections. */
let damagedTotal = 0;

describe("crash campaign slice over the real TcpTransport (wire tcp)", () => {
  describe.each(PROTOCOLS)("%s", (name) => {
    const e = protocols.find((p) => p.name === name)!;
    it.each(CONFORMANCE_APPS.map((a) => a.name))(`%s: ${SEEDS} seeded schedules, zero violations, zero stalls, real reconnects`, async (appName) => {
      expect(e).toBeDefined();
      const a = findApp(appName);
      const factory = await e.load();
      const failures: string[] = [];
      let crashes = 0;
      let damaged = 0;
      let dials = 0;
      for (let i = 0; i < SEEDS; i++) {
        const seed = 2000 + i;
        const kind = kindFor(i);
        const schedule = await scheduleFor(ctx, e, factory, a, seed, kind, "tcp");
        const c = await runCase(ctx, e, factory, a, seed, kind, schedule, { wire: "tcp", shrink: false });
        crashes += c.result.counts.crashes;
        damaged += c.result.net!.cut + c.result.net!.corrupted;
        dials += c.result.net!.dials;
        if (c.violations.length > 0 || c.result.hang !== null) failures.push(`${describeCase(c)}${c.result.hang === null ? "" : `\n  ${c.result.hang}`}`);
      }
      expect(failures).toEqual([]);
      // The faults really happened: crashes, connections re-dialed beyond the first ones, damaged tails.
      // (Some schedule kinds may land on no crash, e.g. near-checkpoint in a short run.)
      expect(crashes).toBeGreaterThanOrEqual(SEEDS / 2);
      expect(dials).toBeGreaterThan(SEEDS * ((a.size * (a.size - 1)) / 2));
      damagedTotal += damaged;
    });
  });

  it("the reconnect fault happened: crashes left chunks cut or corrupted in flight", () => {
    expect(damagedTotal).toBeGreaterThan(5);
  });
});

/** Live resets (cut or corrupt, on a busy connection when there is one) at these virtual times, no crash. */
const RESETS_AT_MS = [2, 4, 7, 11, 16, 24, 35];
const RESET_APPS = ["all-to-all", "jacobi", "master-worker"];
const RESET_SEEDS = 2;

describe("live connection resets over the real TcpTransport: resent, not lost", () => {
  describe.each(PROTOCOLS)("%s", (name) => {
    const e = protocols.find((p) => p.name === name)!;
    it.each(RESET_APPS)(`%s: ${RESET_SEEDS} seeds with ${RESETS_AT_MS.length} resets each, zero violations, zero stalls`, async (appName) => {
      const a = findApp(appName);
      const factory = await e.load();
      const failures: string[] = [];
      let resets = 0;
      let lost = 0;
      for (let i = 0; i < RESET_SEEDS; i++) {
        const seed = 3000 + i;
        const c = await runCase(ctx, e, factory, a, seed, "given", [], { wire: "tcp", shrink: false, resetsAtMs: RESETS_AT_MS });
        resets += c.result.net!.resets;
        lost += c.result.net!.lostBytes + c.result.net!.cut + c.result.net!.corrupted;
        if (c.violations.length > 0 || c.result.hang !== null) failures.push(`${describeCase(c)}${c.result.hang === null ? "" : `\n  ${c.result.hang}`}`);
      }
      expect(failures).toEqual([]);
      // The fault happened: connections reset with bytes in flight.
      expect(resets).toBeGreaterThanOrEqual(RESET_SEEDS * 3);
      expect(lost).toBeGreaterThan(0);
    });
  });
});

describe("wire tcp: controls", () => {
  const pessimistic = (): NonNullable<ReturnType<typeof protocols.find>> => protocols.find((p) => p.name === "receiver-based-pessimistic")!;
  const job = async (o: { seed: number; crashTail?: { cut: number; corrupt: number }; resetsAtMs?: number[]; wire?: "frames" | "tcp" }): Promise<JobResult> =>
    runSimJob({
      protocol: await pessimistic().load(),
      app: await loadConformanceApp(findApp("all-to-all")),
      size: 4,
      seed: o.seed,
      args: findApp("all-to-all").args,
      schedule: o.resetsAtMs === undefined ? [{ rank: 1, atDelivery: 4 }, { rank: 2, atDelivery: 9 }] : [],
      wire: o.wire ?? "tcp",
      ...(o.crashTail === undefined ? {} : { crashTail: o.crashTail }),
      ...(o.resetsAtMs === undefined ? {} : { resetsAtMs: o.resetsAtMs }),
      maxTimeMs: 2000,
    });

  it("the faults happen: crashes close connections, peers re-dial, tails arrive damaged and are refused by the decoder", async () => {
    const r = await job({ seed: 11, crashTail: { cut: 0.5, corrupt: 0.5 } });
    expect(r.finished).toBe(true);
    expect(r.counts.crashes).toBe(2);
    const net = r.net!;
    expect(net.dials).toBeGreaterThan(6 + 2); // the 6 first connections, then re-dials of the restarted ranks
    expect(net.cut + net.corrupted).toBeGreaterThan(0);
    // Every tail corrupted: the survivors' TcpTransports close those connections for a bad frame (a logged warning).
    const corrupt = await job({ seed: 11, crashTail: { cut: 0, corrupt: 1 } });
    expect(corrupt.finished).toBe(true);
    expect(corrupt.net!.corrupted).toBeGreaterThan(0);
    expect(corrupt.netWarnings).toBeGreaterThan(0);
    // Without the tail fault, the same run damages nothing.
    const clean = await job({ seed: 11, crashTail: { cut: 0, corrupt: 0 } });
    expect(clean.net!.cut + clean.net!.corrupted).toBe(0);
    expect(clean.finished).toBe(true);
  });

  it("is deterministic: the same seed gives the same run", async () => {
    const a = await job({ seed: 5 });
    const b = await job({ seed: 5 });
    const sig = (r: JobResult): string =>
      JSON.stringify({ steps: r.steps, ms: r.virtualMs, net: r.net, warn: r.netWarnings, crashes: r.crashes.map((c) => [c.rank, c.step, c.time]), h: r.histories.map((h) => h.snapshot()) });
    expect(sig(b)).toBe(sig(a));
    expect(a.finished).toBe(true);
  });

  it("a reset between live ranks loses nothing (TcpTransport resends): no stall, same result as without resets", async () => {
    const r = await job({ seed: 3, resetsAtMs: [3, 6, 10, 15, 25] });
    expect(r.net!.resets).toBeGreaterThan(0);
    expect(r.net!.lostBytes + r.net!.cut + r.net!.corrupted).toBeGreaterThan(0); // frames were in flight at a reset
    expect(r.hang).toBeNull();
    expect(r.finished).toBe(true);
    expect(r.counts.crashes).toBe(0);
  });
});
