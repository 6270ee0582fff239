import { describe, expect, it } from "vitest";
import type { Checkpoint, CheckpointStore } from "../src/spi.js";
import { SimWorld } from "../src/sim/index.js";
import { StateLostError } from "../src/storage/errors.js";
import { createMemoryStorageProvider } from "../src/storage/provider.js";
import { CHECKPOINT_LOG, ReplicatedCheckpointStore } from "../src/storage/replicated-checkpoints.js";
import type { ReplicationService } from "../src/storage/replicated.js";
import { wireReplication } from "./fixtures/replication-wire.js";

const ckpt = (index: number, fill = index): Checkpoint => ({
  index,
  app: new Uint8Array(100).fill(fill),
  protocol: Uint8Array.of(index, 0xee),
});

/** Rank `rank`'s checkpoint store through the simulation's storage provider, as a generated protocol opens it. */
function storeOf(s: ReplicationService): Promise<CheckpointStore> {
  return createMemoryStorageProvider({ rank: s.rank, stable: new Map(), replicated: (name) => s.openLog(name) }).openCheckpoints("volatile-memory-of-processes");
}

/** Opens the store of a restarted rank, running the world until the fetch from the replicas settled. */
async function recover(world: SimWorld, s: ReplicationService): Promise<CheckpointStore> {
  const opening = storeOf(s);
  opening.catch(() => {});
  await world.run();
  return opening;
}

async function write(world: SimWorld, store: CheckpointStore, c: Checkpoint): Promise<void> {
  await Promise.all([store.write(c, { incremental: true }), world.run()]);
}

const restart = (world: SimWorld, start: (r: number) => ReplicationService, r: number): ReplicationService => {
  world.restart(r);
  return start(r);
};

describe("replicated checkpoint store (checkpoints on volatile memory of processes)", () => {
  for (const f of [1, 2]) {
    it(`f=${f}: a write is durable only once all ${f} replicas acknowledged; the restarted owner restores the latest`, async () => {
      const world = new SimWorld({ size: 4, seed: 70 + f, latency: { min: 1, max: 1 } });
      const { services, start } = wireReplication(world, f);
      const store = await storeOf(services[1]!);
      expect(store.medium).toBe("volatile-memory-of-processes");
      await write(world, store, ckpt(1));
      let durable = false;
      const p = store.write(ckpt(2), { incremental: false }).then(() => (durable = true));
      await world.run({ until: world.now + 1.5 }); // the record reached the replicas, their acks are on the way
      expect(durable).toBe(false);
      expect((await store.latest())?.index).toBe(1);
      await world.run();
      await p;
      expect((await store.latest())?.index).toBe(2);
      expect(services.map((s) => s.heldStats().records)).toEqual(f === 1 ? [0, 0, 2, 0] : [0, 0, 2, 2]);
      await store.gc(2);
      await world.run();
      expect(await store.list()).toEqual([2]);
      expect(services[2]!.heldStats().records).toBe(1); // the replicas dropped checkpoint 1 too

      world.crash(1);
      const back = await recover(world, restart(world, start, 1));
      const c = await back.latest();
      expect(c?.index).toBe(2);
      expect([...c!.app]).toEqual([...ckpt(2).app]);
      expect([...c!.protocol]).toEqual([2, 0xee]);
      expect(await back.list()).toEqual([2]);
      // it goes on writing after the recovered record
      await write(world, back, ckpt(3));
      expect((await back.latest())?.index).toBe(3);
    });
  }

  it("a write waits for a crashed replica's restart (the owner refills it), then completes", async () => {
    const world = new SimWorld({ size: 3, seed: 5 });
    const { services, start } = wireReplication(world, 1);
    const store = await storeOf(services[0]!);
    await write(world, store, ckpt(1));
    world.crash(1);
    let durable = false;
    const p = store.write(ckpt(2), { incremental: true }).then(() => (durable = true));
    await world.run({ until: world.now + 50 });
    expect(durable).toBe(false);
    expect((await store.latest())?.index).toBe(1); // not durable: never what a restore would see
    const s1 = restart(world, start, 1);
    await world.run();
    await p;
    expect(s1.heldStats().records).toBe(2); // checkpoint 1 re-sent to the new incarnation, with 2
  });

  it("f=1: the replica restarts (refilled by the owner), then the owner fails: it still recovers its latest checkpoint", async () => {
    const world = new SimWorld({ size: 3, seed: 8 });
    const { services, start } = wireReplication(world, 1);
    const store = await storeOf(services[1]!);
    await write(world, store, ckpt(1));
    await write(world, store, ckpt(2));
    await store.gc(2);
    world.crash(2);
    restart(world, start, 2); // the world tells rank 1, which re-replicates checkpoint 2
    await world.run();
    expect(services[2]!.heldStats().records).toBe(1);
    world.crash(1);
    const back = await recover(world, restart(world, start, 1));
    expect((await back.latest())?.index).toBe(2);
  });

  it("f=2: the owner and one replica fail together: the other replica's copy is restored and re-replicated", async () => {
    const world = new SimWorld({ size: 4, seed: 9 });
    const { services, start } = wireReplication(world, 2);
    const store = await storeOf(services[1]!);
    await write(world, store, ckpt(1));
    await write(world, store, ckpt(2));
    world.crash(1);
    world.crash(2);
    restart(world, start, 2);
    const back = await recover(world, restart(world, start, 1));
    expect((await back.latest())?.index).toBe(2);
    // replica 3 now fails with the owner: replica 2 got the recovery's refill, so the next recovery works
    world.crash(1);
    world.crash(3);
    restart(world, start, 3);
    const again = await recover(world, restart(world, start, 1));
    expect((await again.latest())?.index).toBe(2);
  });

  for (const f of [1, 2]) {
    it(`f=${f}: ${f + 1} concurrent failures (the owner and every replica) end in StateLostError, never an older or empty checkpoint`, async () => {
      const world = new SimWorld({ size: 4, seed: 90 + f });
      const { services, start } = wireReplication(world, f);
      const store = await storeOf(services[1]!);
      await write(world, store, ckpt(1));
      const replicas = services[1]!.replicas;
      for (const r of [1, ...replicas]) world.crash(r);
      for (const r of replicas) restart(world, start, r);
      const err = await recover(world, restart(world, start, 1)).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(StateLostError);
      expect((err as StateLostError).log).toBe(CHECKPOINT_LOG);
      expect((err as StateLostError).replicas.map((r) => r.rank).sort()).toEqual([...replicas].sort());
    });
  }

  it("a restarted replica that only saw a newer checkpoint cannot vouch for the owner's history", async () => {
    // Checkpoint 2 reaches the new incarnation of replica 2, but the owner dies before the restart
    // notice refills it; recovery must not trust the partial copy (it may lack an acknowledged record).
    const world = new SimWorld({ size: 3, seed: 12 });
    const { services, start } = wireReplication(world, 1);
    const store = await storeOf(services[1]!);
    await write(world, store, ckpt(1));
    world.crash(2);
    restart(world, start, 2);
    void store.write(ckpt(2), { incremental: false });
    await Promise.resolve();
    await Promise.resolve();
    world.crash(1);
    await expect(recover(world, restart(world, start, 1))).rejects.toBeInstanceOf(StateLostError);
    expect(services[2]!.heldStats().records).toBe(1); // it did hold checkpoint 2, and only that
  });

  it("records that do not decode are refused as a corrupt checkpoint", async () => {
    const world = new SimWorld({ size: 2, seed: 1 });
    const { services } = wireReplication(world, 1);
    const log = await services[0]!.openLog(CHECKPOINT_LOG);
    log.append(Uint8Array.of(1, 2, 3));
    await expect(ReplicatedCheckpointStore.open(log)).rejects.toThrow(/corrupt checkpoint replicated:checkpoints .*shorter than its header/);
  });
});
