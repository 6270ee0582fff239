/**
 * In-test harness for protocol crash tests: the SimWorld network, the memory
 * storage provider (stable media survive a crash, unsynced tails do not), and
 * a minimal rank host (a local stand-in until runtime-core/src/host lands in a
 * stable form). Crashed incarnations are fenced: their leftover promise
 * chains can no longer touch storage, the app or the output sink.
 */
import { deserialize, serialize } from "node:v8";
import { SimWorld } from "../../runtime-core/src/sim/index.js";
import { createMemoryStorageProvider, MemoryLog, newMemoryLogState, type MemoryLogState, type MemoryStableMedia } from "../../runtime-core/src/storage/index.js";
import { probeStorage } from "../conformance/storage-probe.js";
import type {
  App,
  AppContext,
  Protocol,
  ProtocolFactory,
  ProtocolHost,
  StorageProvider,
  TraceEvent,
} from "@egida/runtime-core/spi";

const never = <T>(): Promise<T> => new Promise<T>(() => {});

/** Fence a storage provider: once `dead()` holds, every operation stalls forever (the process is gone). */
const fenced = (p: StorageProvider, dead: () => boolean): StorageProvider => probeStorage(p, dead, () => {}).provider;

export interface JobOptions<S> {
  readonly factory: ProtocolFactory;
  readonly app: App<S>;
  readonly size: number;
  readonly seed: number;
  /** Number of crashes to inject, at random times in `crashWindow` (virtual ms). */
  readonly crashes: number;
  readonly crashWindow?: readonly [number, number];
  /** Virtual ms between a crash and the restart. */
  readonly restartDelay?: number;
  /** At most this many ranks down at once. */
  readonly maxConcurrent?: number;
  /**
   * Count a restarted rank as failed until its recovery completes (start resolved), not only while
   * down: the failure window of causal logging (FBL's f concurrent failures). A failed rank may re-crash.
   */
  readonly failedUntilLive?: boolean;
  /** Explicit crashes (instead of `crashes` random ones): crash `rank` at virtual time `at`. */
  readonly schedule?: readonly { readonly at: number; readonly rank: number }[];
  readonly maxTime?: number;
  readonly f?: number;
  /** Per-frame one-way latency, uniform in [min, max) virtual ms (default 0.2..3). */
  readonly latency?: { readonly min: number; readonly max: number };
  /**
   * When the job is over, instead of every rank having called done(): done() is sticky per rank,
   * which is wrong once survivors roll back (checkpoint-only, optimistic). Gets the live states and protocols.
   */
  readonly finished?: (states: readonly (S | undefined)[], protocols: readonly (Protocol | undefined)[]) => boolean;
}

export interface JobResult<S> {
  /** `${rank}:${seq}` → output data (decoded), as the idempotent sink kept it. */
  readonly outputs: Map<string, unknown>;
  /** Same seq arriving with different data: retractions (protocol bugs). */
  readonly retractions: string[];
  readonly states: S[];
  readonly done: boolean[];
  /** Rollbacks of processes that were not restarting (restore after their start resolved). */
  readonly survivorRollbacks: number;
  readonly crashedRanks: number[];
  readonly errors: string[];
  readonly time: number;
  readonly trace: TraceEvent[];
  readonly recovered: number;
  /** The live protocol objects at the end (composed: inspect with kernelOf). */
  readonly protocols: Protocol[];
}

interface Rank<S> {
  inc: number;
  dead: boolean;
  started: boolean;
  done: boolean;
  state: S | undefined;
  protocol: Protocol | undefined;
}

/** A seeded PRNG (mulberry32) for the crash tests' schedules: same seed, same schedule. */
export function mulberry(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function runJob<S>(o: JobOptions<S>): Promise<JobResult<S>> {
  const world = new SimWorld({ size: o.size, seed: o.seed, latency: o.latency ?? { min: 0.2, max: 3 } });
  const media: MemoryStableMedia = new Map();
  const replicated = new Map<string, MemoryLogState>();
  const outputs = new Map<string, unknown>();
  const outBytes = new Map<string, string>();
  const retractions: string[] = [];
  const errors: string[] = [];
  const trace: TraceEvent[] = [];
  let survivorRollbacks = 0;
  let recovered = 0;
  const ranks: Rank<S>[] = [];
  const crashed = new Set<number>();

  const boot = (r: number, inc: number): void => {
    // done() is sticky per rank: a recovery from a checkpoint taken after done() does not call it again.
    const me: Rank<S> = { inc, dead: false, started: false, done: ranks[r]?.done ?? false, state: undefined, protocol: undefined };
    ranks[r] = me;
    const transport = inc === 0 ? world.transport(r) : world.restart(r, inc);
    const dead = (): boolean => me.dead;
    // The sim and storage are imported from source, the protocol SPI from the package: same shapes, distinct const-enum declarations.
    const storage = fenced(
      createMemoryStorageProvider({
        rank: r,
        stable: media,
        // Stand-in for the f-replicated log of `volatile memory of processes`: it survives the crash of its owner.
        replicated: (name) => {
          const key = `${r}/${name}`;
          let st = replicated.get(key);
          if (!st) replicated.set(key, (st = newMemoryLogState()));
          return Promise.resolve(MemoryLog.reopenAfterCrash("volatile-memory-of-processes", st));
        },
      }) as unknown as StorageProvider,
      dead,
    );
    const ctx: AppContext = {
      rank: r,
      size: o.size,
      send: (to, data) => {
        if (!me.dead) me.protocol!.send(to, new Uint8Array(serialize(data)));
      },
      // As the rank host's: the value at once for a synchronous produce, a promise for an async one.
      read: (<T>(produce: () => T | Promise<T>): T | Promise<T> => {
        const r = me.protocol!.read(() => {
          const v = produce();
          return v instanceof Promise ? v.then((x) => new Uint8Array(serialize(x))) : new Uint8Array(serialize(v));
        });
        return r instanceof Uint8Array ? (deserialize(r) as T) : r.then((b) => deserialize(b) as T);
      }) as AppContext["read"],
      write: (data) => (me.dead ? never() : me.protocol!.write(new Uint8Array(serialize(data)))),
      done: () => {
        me.done = true;
      },
    };
    const host: ProtocolHost = {
      rank: r,
      size: o.size,
      incarnation: inc,
      f: o.f ?? o.factory.defaultF,
      transport: transport as unknown as ProtocolHost["transport"],
      storage,
      timers: world.timers(r),
      trace: (e) => {
        if (!me.dead) {
          trace.push(e);
          if (e.type === "recover") recovered++;
        }
      },
      initApp: async () => {
        if (me.dead) return never();
        if (me.started) survivorRollbacks++;
        me.state = o.app.init({ rank: r, size: o.size, args: [] });
        await o.app.onStart?.(me.state, ctx);
      },
      deliver: async (from, payload) => {
        if (me.dead) return never();
        await o.app.onMessage(me.state as S, { from, data: deserialize(payload) }, ctx);
        if (me.dead) return never();
      },
      captureAppState: () => new Uint8Array(serialize(me.state)),
      restoreAppState: (b) => {
        if (me.started) survivorRollbacks++;
        me.state = deserialize(b) as S;
      },
      emitOutput: async (seq, payload) => {
        if (me.dead) return never();
        const key = `${r}:${seq}`;
        // Compared by value, not bytes: v8.serialize writes the same integer as int32 or double
        // depending on JIT state (a state restored from a checkpoint may hold it as a double),
        // so a replayed output can differ in bytes and not in value (test/conformance/canon.ts).
        const hex = JSON.stringify(deserialize(payload));
        const had = outBytes.get(key);
        if (had === undefined) {
          outBytes.set(key, hex);
          outputs.set(key, deserialize(payload));
        } else if (had !== hex) retractions.push(`${key}: ${JSON.stringify(outputs.get(key))} then ${JSON.stringify(deserialize(payload))}`);
      },
      unrecoverable: (reason) => {
        errors.push(`rank ${r}: unrecoverable: ${reason}`);
        throw new Error(reason);
      },
    };
    const p = o.factory.create(host);
    me.protocol = p;
    transport.on({
      frame: (f) => {
        if (!me.dead) p.onFrame(f as unknown as Parameters<Protocol["onFrame"]>[0]);
      },
      peerIncarnation: (rank, i) => {
        if (!me.dead) p.onPeerRestart(rank, i);
      },
    });
    p.start().then(
      () => {
        me.started = true;
      },
      (e: unknown) => {
        if (!me.dead) errors.push(`rank ${r} start: ${e instanceof Error ? e.stack : String(e)}`);
      },
    );
  };

  for (let r = 0; r < o.size; r++) boot(r, 0);

  // Seeded crash schedule.
  const rnd = mulberry(o.seed * 7919 + 17);
  const [t0, t1] = o.crashWindow ?? [5, 200];
  const delay = o.restartDelay ?? 15;
  const maxConc = o.maxConcurrent ?? 1;
  let pendingRestarts = 0;
  const inWindow = (i: number): boolean => ranks[i]!.dead || (o.failedUntilLive === true && ranks[i]!.inc > 0 && !ranks[i]!.started);
  const plan: { at: number; rank: number }[] = [];
  for (let c = 0; c < o.crashes; c++) {
    const at = t0 + rnd() * (t1 - t0);
    plan.push({ at, rank: Math.floor(rnd() * o.size) });
  }
  for (const { at, rank: victim } of o.schedule ?? plan) {
    world.at(at, () => {
      const rk = ranks[victim]!;
      if (rk.dead) return;
      if (o.failedUntilLive === true ? !inWindow(victim) && ranks.filter((_, i) => inWindow(i)).length >= maxConc : pendingRestarts >= maxConc) return;
      rk.dead = true;
      crashed.add(victim);
      world.crash(victim);
      pendingRestarts++;
      world.at(world.now + delay, () => {
        pendingRestarts--;
        boot(victim, rk.inc + 1);
      });
    });
  }

  const maxTime = o.maxTime ?? 20_000;
  while (world.now < maxTime) {
    await world.run({ until: world.now + 25 });
    if (errors.length > 0) break;
    if (world.now > t1 + delay && pendingRestarts === 0 && ranks.every((k) => k.started && (o.finished !== undefined || k.done))) {
      if (o.finished === undefined || o.finished(ranks.map((k) => k.state), ranks.map((k) => k.protocol))) break;
    }
  }
  // Let stragglers (stability notices, in-flight duplicates) settle a little.
  await world.run({ until: world.now + 50 });
  for (const k of ranks) if (!k.dead) await Promise.race([k.protocol!.stop(), new Promise((r) => setTimeout(r, 50))]);
  return {
    outputs,
    retractions,
    states: ranks.map((k) => k.state as S),
    done: ranks.map((k) => k.done),
    survivorRollbacks,
    crashedRanks: [...crashed],
    errors,
    time: world.now,
    trace,
    recovered,
    protocols: ranks.map((k) => k.protocol!),
  };
}
