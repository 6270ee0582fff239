import { describe, expect, it } from "vitest";
import { RUNTIME_TAG_BASE, type LogRecord } from "../src/spi.js";
import { SimWorld } from "../src/sim/index.js";
import { StateLostError } from "../src/storage/errors.js";
import { ReplicationTag, type ReplicationService } from "../src/storage/replicated.js";
import { wireReplication } from "./fixtures/replication-wire.js";

const wire = wireReplication;

const bytes = (n: number) => Uint8Array.of(n, n + 1, n + 2);
const lsns = (recs: LogRecord[]) => recs.map((r) => r.lsn);

describe("replicated log (volatile memory of processes)", () => {
  it("uses runtime tags only", () => {
    for (const tag of Object.values(ReplicationTag)) expect(tag).toBeGreaterThanOrEqual(RUNTIME_TAG_BASE);
  });

  for (const f of [1, 2]) {
    it(`f=${f}: sync resolves only after all ${f} replicas acknowledged`, async () => {
      const world = new SimWorld({ size: 4, seed: f, latency: { min: 1, max: 1 } });
      const { services } = wire(world, f);
      const log = await services[0]!.openLog("dets");
      expect(log.medium).toBe("volatile-memory-of-processes");
      for (let i = 0; i < 5; i++) expect(log.append(bytes(i))).toBe(i);
      let synced = false;
      const p = log.sync().then(() => (synced = true));
      await world.run({ until: 1.5 }); // appends arrived at t=1, acks not yet back
      expect(synced).toBe(false);
      expect(services[1]!.heldStats().records).toBe(5);
      await world.run();
      await p;
      expect(synced).toBe(true);
      const holders = services.map((s) => s.heldStats().records);
      expect(holders).toEqual(f === 1 ? [0, 5, 0, 0] : [0, 5, 5, 0]);
      expect(log.stats).toMatchObject({ records: 5, syncs: 1 });
      // a sync with nothing new resolves at once
      await log.sync();
    });
  }

  it("sync waits for a crashed replica to come back, and refills it", async () => {
    const world = new SimWorld({ size: 3, seed: 3 });
    const { services, start } = wire(world, 2);
    const log = await services[0]!.openLog("dets");
    log.append(bytes(1));
    await Promise.all([log.sync(), world.run()]);
    world.crash(2);
    log.append(bytes(2));
    let synced = false;
    const p = log.sync().then(() => (synced = true));
    await world.run({ until: world.now + 50 });
    expect(synced).toBe(false);
    world.restart(2);
    const s2 = start(2);
    await world.run();
    await p;
    expect(synced).toBe(true);
    expect(s2.heldStats().records).toBe(2); // the old record was re-sent to the new incarnation
  });

  for (const f of [1, 2]) {
    it(`f=${f}: a crashed origin recovers its records from the replicas, with truncation and fresh lsns`, async () => {
      const world = new SimWorld({ size: 4, seed: 10 + f });
      const { services, start } = wire(world, f);
      const log = await services[1]!.openLog("dets");
      for (let i = 0; i < 10; i++) log.append(bytes(i));
      await Promise.all([log.sync(), world.run()]);
      await log.truncatePrefix(3);
      log.append(bytes(10)); // appended, never synced: may or may not survive
      await world.run();
      world.crash(1);
      if (f === 2) world.crash(2); // a concurrent replica failure: replica 3 still holds everything
      world.restart(1);
      if (f === 2) {
        world.restart(2);
        start(2);
      }
      const s1 = start(1);
      const opening = s1.openLog("dets");
      await world.run();
      const recovered = await opening;
      const recs = await recovered.readAll();
      expect(lsns(recs)).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
      expect([...recs[0]!.data]).toEqual([...bytes(3)]);
      expect(recovered.nextLsn).toBe(11);
      expect(recovered.append(bytes(11))).toBe(11);
      await Promise.all([recovered.sync(), world.run()]);
      // the replicas dropped the truncated prefix
      expect(services[2]!.heldStats().records + (f === 2 ? services[3]!.heldStats().records : 0)).toBe(9 * f);
    });
  }

  describe("beyond f: a fetch with no complete copy", () => {
    /** Origin 1 logs 5 synced records to its replicas (f of them). */
    async function logged(size: number, f: number) {
      const world = new SimWorld({ size, seed: 40 + f });
      const w = wire(world, f);
      const log = await w.services[1]!.openLog("dets");
      for (let i = 0; i < 5; i++) log.append(bytes(i));
      await Promise.all([log.sync(), world.run()]);
      return { world, ...w, log };
    }
    const recover = async (world: SimWorld, s: ReplicationService) => {
      const opening = s.openLog("dets");
      opening.catch(() => {});
      await world.run();
      return opening;
    };

    it("f=1: the origin and its only replica die together: the fetch rejects naming the lost replica", async () => {
      const { world, start } = await logged(3, 1);
      world.crash(1);
      world.crash(2);
      world.restart(2);
      start(2);
      world.restart(1);
      const err = await recover(world, start(1)).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(StateLostError);
      expect((err as StateLostError).replicas).toEqual([{ rank: 2, incarnation: 1 }]);
      expect((err as Error).message).toMatch(/rank 1 cannot recover replicated log "dets": no replica holds a complete copy; rank 2 \(incarnation 1\) restarted/);
    });

    it("f=1: a restarted replica that only saw new appends is not complete", async () => {
      const { world, start, log } = await logged(3, 1);
      world.crash(2);
      world.restart(2);
      start(2);
      log.append(bytes(5));
      await Promise.resolve(); // the append is on the wire
      // the origin dies before it hears of the restart (the notice is an event at `now`): no refill,
      // and the new incarnation of 2 only ever sees lsn 5
      world.crash(1);
      world.restart(1);
      await expect(recover(world, start(1))).rejects.toBeInstanceOf(StateLostError);
    });

    it("f=1: a replica refilled after its restart is complete again", async () => {
      const { world, start, services } = await logged(3, 1);
      world.crash(2);
      world.restart(2);
      start(2);
      services[1]!.onPeerRestart(2); // the host's report; the transport's reconnect may also refill (idempotent)
      await world.run();
      world.crash(1);
      world.restart(1);
      const recs = await (await recover(world, start(1))).readAll();
      expect(lsns(recs)).toEqual([0, 1, 2, 3, 4]);
    });

    it("f=1: a log opened after its replica restarted is complete from its first record", async () => {
      const world = new SimWorld({ size: 3, seed: 44 });
      const { services, start } = wire(world, 1);
      world.crash(2);
      world.restart(2);
      start(2);
      await world.run();
      const log = await services[1]!.openLog("dets");
      log.append(bytes(0));
      await Promise.all([log.sync(), world.run()]);
      world.crash(1);
      world.restart(1);
      expect(lsns(await (await recover(world, start(1))).readAll())).toEqual([0]);
    });

    it("f=2: one complete reply is enough, and the recovery refills the other replica", async () => {
      const { world, start } = await logged(4, 2);
      // origin and its first replica die together; replica 3 (incarnation 0) still holds everything
      world.crash(1);
      world.crash(2);
      world.restart(2);
      start(2);
      world.restart(1);
      const recovered = await recover(world, start(1));
      expect(lsns(await recovered.readAll())).toEqual([0, 1, 2, 3, 4]);
      // now replica 3 dies as well: replica 2 got the recovery's full refill, so the next recovery works
      world.crash(1);
      world.crash(3);
      world.restart(3);
      start(3);
      world.restart(1);
      expect(lsns(await (await recover(world, start(1))).readAll())).toEqual([0, 1, 2, 3, 4]);
    });

    it("f=2: the origin and both replicas die together: the error names both", async () => {
      const { world, start } = await logged(4, 2);
      for (const r of [1, 2, 3]) world.crash(r);
      for (const r of [2, 3]) {
        world.restart(r);
        start(r);
      }
      world.restart(1);
      const err = (await recover(world, start(1)).then(
        () => null,
        (e: unknown) => e,
      )) as StateLostError;
      expect(err).toBeInstanceOf(StateLostError);
      expect([...err.replicas].sort((a, b) => a.rank - b.rank)).toEqual([
        { rank: 2, incarnation: 1 },
        { rank: 3, incarnation: 1 },
      ]);
    });
  });

  it("close rejects pending syncs", async () => {
    const world = new SimWorld({ size: 2, seed: 1 });
    const { services } = wire(world, 1);
    const log = await services[0]!.openLog("x");
    log.append(bytes(0));
    const p = log.sync();
    await log.close();
    await expect(p).rejects.toThrow(/closed/);
    expect(() => log.append(bytes(1))).toThrow(/closed/);
  });
});
