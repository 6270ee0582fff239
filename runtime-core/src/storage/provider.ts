/**
 * StorageProviders: map the spec's media to stores.
 *
 *   medium                         disk provider                     memory provider (simulation)
 *   volatile-memory-of-self        MemoryLog (gone with the process) fresh MemoryLog every incarnation
 *   local-disk                     <dir>/local/rank-<r>/             MemoryLogState kept in `stable`
 *   nfs-disk                       <sharedDir>/rank-<r>/ + rank lock  MemoryLogState kept in `stable`
 *   volatile-memory-of-processes   the `replicated` factory          the `replicated` factory
 *   a plugin medium (`media`)      its MediumStore, in               MemoryLogState kept in `stable` if the
 *                                  <dir>/media/<medium>/rank-<r>/    store is stable, else fresh each incarnation
 *
 * Checkpoints on volatile-memory-of-processes are the replicated log
 * CHECKPOINT_LOG of the same factory, one record per checkpoint
 * (replicated-checkpoints.ts).
 *
 * Each disk root (local, shared) holds a rank manifest (rank-manifest.ts)
 * listing the logs and checkpoint stores the rank created there: a restarted
 * rank whose storage was deleted fails with StorageMissingError rather than
 * starting from nothing.
 */
import { join } from "node:path";
import type { CheckpointStore, LogStore, MediumContext, MediumStore, StorageMedium, StorageProvider } from "../spi.js";
import { openCheckpointStore } from "./checkpoint-store.js";
import { openDiskLog } from "./disk-log.js";
import { watchCheckpoints, watchLog, type FaultListener } from "./fault-watch.js";
import { UnsupportedMediumError, type WarningHandler } from "./errors.js";
import { MemoryCheckpointStore } from "./memory-checkpoints.js";
import { MemoryLog, newMemoryLogState, type MemoryLogState } from "./memory-log.js";
import { CHECKPOINT_LOG, ReplicatedCheckpointStore } from "./replicated-checkpoints.js";
import { RankLock } from "./nfs-lock.js";
import { RankManifest } from "./rank-manifest.js";
import { checkName, openNfsLog, rankDir } from "./nfs-log.js";

/** Opens the replicated log (`volatile-memory-of-processes`) named `name`; written by the transport layer. */
export type ReplicatedLogFactory = (name: string) => Promise<LogStore>;

export interface StorageProviderWithClose extends StorageProvider {
  /** Closes every log opened through this provider and releases the NFS lock. */
  close(): Promise<void>;
  /**
   * Sync rounds that reached the medium (an fdatasync on disk, a replication round) over every log
   * opened through this provider, closed ones included: `LogStats.syncs` summed. A `sync` that found
   * nothing new, or joined a round in flight (group commit), does not count.
   */
  logSyncs(): number;
}

export interface DiskStorageOptions {
  /** Root for local-disk storage: logs and checkpoints go under `<dir>/local/rank-<r>/`. */
  readonly dir: string;
  /** Root shared between hosts for nfs-disk (`--storage-dir`). Default `<dir>/shared`. */
  readonly sharedDir?: string;
  readonly rank: number;
  readonly incarnation: number;
  readonly onWarning?: WarningHandler;
  readonly replicated?: ReplicatedLogFactory;
  readonly segmentBytes?: number;
  readonly chunkBytes?: number;
  /** How often NFS writes re-check the rank lock (ms). */
  readonly lockCheckMs?: number;
  /**
   * Called with every error a local-disk or nfs-disk store (or its opening)
   * fails with, before the caller sees it: the runtime names an environment
   * fault (disk full, read-only) even if the protocol reduces the error to text.
   */
  readonly onFault?: FaultListener;
  /**
   * An earlier incarnation of this rank opened its storage (egida-run passes
   * it when one went live): the first disk root each medium uses must exist
   * with its rank manifest. Default false: only what a manifest lists is
   * checked (a rank that died before opening its storage left none).
   */
  readonly expectStorage?: boolean;
  /** Plugin media (ProtocolFactory.media), by medium id. A built-in medium's name is never looked up here. */
  readonly media?: Readonly<Record<string, MediumStore>>;
}

const noReplicated = (): never => {
  throw new UnsupportedMediumError(
    "volatile-memory-of-processes",
    "no replicated-log factory was given to the storage provider (pass `replicated`)",
  );
};

const CHECKPOINT_MEDIA_HINT = "checkpoints can be kept on local-disk, nfs-disk, volatile-memory-of-processes or volatile-memory-of-self";

/** The one line for a medium no store provides: a plugin medium the protocol package does not register. */
export const NO_STORE_HINT =
  "no store provides it: the protocol package's factory registers a plugin's media (`media`), so compile the spec with the plugin's egida.config.json and install the plugin next to the package";

/** A plugin medium's store, if `media` has one for this (non-built-in) medium. */
function pluginMedium(media: Readonly<Record<string, MediumStore>> | undefined, medium: string): MediumStore | undefined {
  return media !== undefined && Object.hasOwn(media, medium) ? media[medium] : undefined;
}

/** Diskless checkpoints: the replicated log CHECKPOINT_LOG, recovered from the replicas on a restart. */
async function replicatedCheckpoints(factory: ReplicatedLogFactory | undefined): Promise<CheckpointStore> {
  return ReplicatedCheckpointStore.open(await (factory ?? noReplicated)(CHECKPOINT_LOG));
}

export function createDiskStorageProvider(opts: DiskStorageOptions): StorageProviderWithClose {
  const localRoot = rankDir(join(opts.dir, "local"), opts.rank);
  const nfsRoot = rankDir(opts.sharedDir ?? join(opts.dir, "shared"), opts.rank);
  const logs = new Map<string, Promise<LogStore>>();
  const ckpts = new Map<string, Promise<CheckpointStore>>();
  let lock: Promise<RankLock> | null = null;
  const manifests = new Map<string, Promise<RankManifest>>();

  // One manifest per rank root, read (or created) on the root's first use.
  const manifestOf = (root: string, beforeWrite?: () => Promise<void>): Promise<RankManifest> => {
    let m = manifests.get(root);
    if (!m) {
      m = RankManifest.open(root, { rank: opts.rank, expectExisting: opts.expectStorage === true, beforeWrite });
      manifests.set(root, m);
      m.catch(() => manifests.delete(root));
    }
    return m;
  };

  /** Opens entry `entry` of `root` (a log or checkpoint directory), telling it whether it must exist, and lists it once open. */
  async function listed<T>(root: string, entry: string, openIt: (expectExisting: boolean) => Promise<T>, beforeWrite?: () => Promise<void>): Promise<T> {
    const m = await manifestOf(root, beforeWrite);
    const store = await openIt(m.lists(entry));
    await m.add(entry);
    return store;
  }

  /** Every log opened, for logSyncs (a closed log keeps its stats). */
  const opened: LogStore[] = [];

  // One lock per rank directory, taken on first use of nfs-disk and shared by its logs and checkpoints.
  const nfsLock = (): Promise<RankLock> => {
    lock ??= RankLock.acquire(nfsRoot, {
      incarnation: opts.incarnation,
      onWarning: opts.onWarning,
      checkMs: opts.lockCheckMs,
    });
    return lock;
  };

  const onFault = opts.onFault;
  const watchedLog = (p: Promise<LogStore>): Promise<LogStore> =>
    onFault ? p.then((l) => watchLog(l, onFault), (e: unknown) => (onFault(e), Promise.reject(e))) : p;

  const watchedCheckpoints = (p: Promise<CheckpointStore>): Promise<CheckpointStore> =>
    onFault ? p.then((c) => watchCheckpoints(c, onFault), (e: unknown) => (onFault(e), Promise.reject(e))) : p;

  const mediumContext = (medium: string): MediumContext => ({
    medium,
    rank: opts.rank,
    incarnation: opts.incarnation,
    dir: rankDir(join(opts.dir, "media", checkName(medium)), opts.rank),
    sharedDir: rankDir(join(opts.sharedDir ?? join(opts.dir, "shared"), "media", checkName(medium)), opts.rank),
    warn: (message) => opts.onWarning?.({ kind: "medium", file: medium, message }),
  });

  const open = (medium: StorageMedium, name: string, onClose: () => Promise<void>): Promise<LogStore> => {
    switch (medium) {
      case "volatile-memory-of-self":
        return Promise.resolve(new MemoryLog(medium));
      case "local-disk": {
        const entry = `log-${checkName(name)}`;
        return watchedLog(
          listed(localRoot, entry, (expectExisting) =>
            openDiskLog(join(localRoot, entry), { onWarning: opts.onWarning, segmentBytes: opts.segmentBytes, onClose, expectExisting }),
          ),
        );
      }
      case "nfs-disk":
        return watchedLog(
          nfsLock().then((l) =>
            listed(
              nfsRoot,
              `log-${checkName(name)}`,
              (expectExisting) => openNfsLog(nfsRoot, name, { lock: l, onWarning: opts.onWarning, segmentBytes: opts.segmentBytes, onClose, expectExisting }),
              () => l.verify(),
            ),
          ),
        );
      case "volatile-memory-of-processes":
        return (opts.replicated ?? noReplicated)(name);
      default: {
        const store = pluginMedium(opts.media, medium);
        if (store === undefined) throw new UnsupportedMediumError(medium, NO_STORE_HINT);
        return watchedLog(store.openLog(mediumContext(medium), checkName(name)));
      }
    }
  };

  return {
    openLog(medium, name) {
      const key = `${medium}/${name}`;
      let p = logs.get(key);
      if (!p) {
        // Two handles on one log directory would interleave writes: every caller shares one.
        // A closed log leaves the cache so the next open gets a fresh handle.
        const forget = async (): Promise<void> => {
          if (logs.get(key) === p) logs.delete(key);
        };
        p = (async () => open(medium, name, forget))();
        void p.then((l) => opened.push(l), () => {});
        logs.set(key, p);
        p.catch(() => logs.delete(key));
      }
      return p;
    },
    openCheckpoints(medium) {
      let p = ckpts.get(medium);
      if (!p) {
        p = (async (): Promise<CheckpointStore> => {
          switch (medium) {
            case "volatile-memory-of-self":
              return new MemoryCheckpointStore(medium, opts.chunkBytes);
            case "local-disk":
              return watchedCheckpoints(
                listed(localRoot, "checkpoints", (expectExisting) =>
                  openCheckpointStore(join(localRoot, "checkpoints"), { onWarning: opts.onWarning, chunkBytes: opts.chunkBytes, expectExisting }),
                ),
              );
            case "nfs-disk":
              return watchedCheckpoints(
                (async () => {
                  const l = await nfsLock();
                  await l.verify(true);
                  return listed(
                    nfsRoot,
                    "checkpoints",
                    (expectExisting) =>
                      openCheckpointStore(join(nfsRoot, "checkpoints"), {
                        medium,
                        onWarning: opts.onWarning,
                        chunkBytes: opts.chunkBytes,
                        beforeWrite: () => l.verify(),
                        expectExisting,
                      }),
                    () => l.verify(),
                  );
                })(),
              );
            case "volatile-memory-of-processes":
              return replicatedCheckpoints(opts.replicated);
            default: {
              const store = pluginMedium(opts.media, medium);
              if (store === undefined) throw new UnsupportedMediumError(medium, NO_STORE_HINT);
              if (store.openCheckpoints === undefined) throw new UnsupportedMediumError(medium, `its store keeps no checkpoints (${CHECKPOINT_MEDIA_HINT})`);
              return watchedCheckpoints(store.openCheckpoints(mediumContext(medium)));
            }
          }
        })();
        ckpts.set(medium, p);
        p.catch(() => ckpts.delete(medium));
      }
      return p;
    },
    logSyncs() {
      return opened.reduce((n, l) => n + l.stats.syncs, 0);
    },
    async close() {
      const all = await Promise.allSettled([...logs.values()]);
      logs.clear();
      ckpts.clear();
      manifests.clear();
      for (const r of all) if (r.status === "fulfilled") await r.value.close();
      if (lock) await (await lock).release();
      lock = null;
    },
  };
}

/** What survives a simulated crash: keyed by rank, medium and name. The simulator owns it. */
export type MemoryStableMedia = Map<string, MemoryLogState | MemoryCheckpointStore>;

export interface MemoryStorageOptions {
  readonly rank: number;
  /** Pass the same Map to every incarnation's provider; stable media live in it. */
  readonly stable: MemoryStableMedia;
  readonly replicated?: ReplicatedLogFactory;
  readonly chunkBytes?: number;
  /** Plugin media: simulated in memory by their durability (MediumStore.stable); their stores are not opened. */
  readonly media?: Readonly<Record<string, MediumStore>>;
}

const STABLE = new Set<StorageMedium>(["local-disk", "nfs-disk"]);

/**
 * The simulation's provider. Create one per incarnation: the first open of a
 * stable log in a provider sees the log as a crash left it (synced records
 * only); volatile-memory-of-self starts empty every incarnation.
 */
export function createMemoryStorageProvider(opts: MemoryStorageOptions): StorageProviderWithClose {
  const logs = new Map<string, Promise<LogStore>>();
  const volatileCkpts = new Map<string, MemoryCheckpointStore>();
  const replicatedCkpts = new Map<string, Promise<CheckpointStore>>();
  /** Every log opened, for logSyncs. */
  const opened: LogStore[] = [];
  // A plugin medium is simulated by what the checker knows of it: stable or not.
  const stable = (medium: string): boolean => STABLE.has(medium) || pluginMedium(opts.media, medium)?.stable === true;
  const volatilePlugin = (medium: string): boolean => pluginMedium(opts.media, medium)?.stable === false;
  return {
    openLog(medium, name) {
      const key = `${opts.rank}/${medium}/log/${name}`;
      const open = logs.get(key);
      if (open) return open;
      let p: Promise<LogStore>;
      if (medium === "volatile-memory-of-self" || volatilePlugin(medium)) p = Promise.resolve(new MemoryLog(medium));
      else if (medium === "volatile-memory-of-processes") p = (async () => (opts.replicated ?? noReplicated)(name))();
      else if (stable(medium)) {
        let state = opts.stable.get(key);
        if (!state || state instanceof MemoryCheckpointStore) {
          state = newMemoryLogState();
          opts.stable.set(key, state);
        }
        p = Promise.resolve(MemoryLog.reopenAfterCrash(medium, state));
      } else p = Promise.reject(new UnsupportedMediumError(medium, NO_STORE_HINT));
      void p.then((l) => opened.push(l), () => {});
      logs.set(key, p);
      return p;
    },
    openCheckpoints(medium) {
      const key = `${opts.rank}/${medium}/checkpoints`;
      if (medium === "volatile-memory-of-self") {
        let s = volatileCkpts.get(key);
        if (!s) volatileCkpts.set(key, (s = new MemoryCheckpointStore(medium, opts.chunkBytes)));
        return Promise.resolve(s);
      }
      if (medium === "volatile-memory-of-processes") {
        let s = replicatedCkpts.get(key);
        if (!s) {
          s = replicatedCheckpoints(opts.replicated);
          replicatedCkpts.set(key, s);
          s.catch(() => replicatedCkpts.delete(key));
        }
        return s;
      }
      const plugin = pluginMedium(opts.media, medium);
      if (plugin !== undefined && plugin.openCheckpoints === undefined) return Promise.reject(new UnsupportedMediumError(medium, `its store keeps no checkpoints (${CHECKPOINT_MEDIA_HINT})`));
      if (volatilePlugin(medium)) {
        let v = volatileCkpts.get(key);
        if (!v) volatileCkpts.set(key, (v = new MemoryCheckpointStore(medium, opts.chunkBytes)));
        return Promise.resolve(v);
      }
      if (!stable(medium)) return Promise.reject(new UnsupportedMediumError(medium, plugin === undefined ? NO_STORE_HINT : CHECKPOINT_MEDIA_HINT));
      let s = opts.stable.get(key);
      if (!(s instanceof MemoryCheckpointStore)) {
        s = new MemoryCheckpointStore(medium, opts.chunkBytes);
        opts.stable.set(key, s);
      }
      return Promise.resolve(s);
    },
    logSyncs() {
      return opened.reduce((n, l) => n + l.stats.syncs, 0);
    },
    async close() {
      const all = await Promise.allSettled([...logs.values()]);
      logs.clear();
      for (const r of all) if (r.status === "fulfilled") await r.value.close();
    },
  };
}
