/**
 * The rank manifest `rank-<r>/rank.json`: which logs and checkpoint stores a
 * rank has created in one storage root (local or shared), so that a restarted
 * incarnation can tell "never written" from "deleted".
 *
 * Without it, a deleted rank directory or log directory reads as a fresh one:
 * the restarted rank recovers nothing, and under optimistic protocols every
 * rank rolls back to the initial state with no word said. Written atomically
 * when the root is first used and after each new entry was created (so a
 * crash between the two leaves an unlisted entry, which the next open lists;
 * never a listed entry that was never made).
 */
import { readFile, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { StorageError, StorageMissingError, ioError } from "./errors.js";
import { atomicWriteFile, fsyncDir, isErrno, mkdirs } from "./fs-util.js";

export const RANK_MANIFEST = "rank.json";
const FORMAT = 1;

interface Body {
  readonly format: number;
  readonly rank: number;
  /** Directory names inside the rank root: `log-<name>`, `checkpoints`. */
  readonly entries: readonly string[];
}

export interface RankManifestOptions {
  readonly rank: number;
  /**
   * An earlier incarnation of this rank ran and opened its storage (the
   * launcher saw it go live): the root and its manifest must exist.
   */
  readonly expectExisting: boolean;
  /** Runs before every write (NFS lock fencing). */
  readonly beforeWrite?: () => Promise<void>;
}

export class RankManifest {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly root: string,
    private readonly rank: number,
    private readonly entries: Set<string>,
    private readonly beforeWrite: (() => Promise<void>) | undefined,
  ) {}

  /** Reads `<root>/rank.json`, creating it (and `root`) on the first use of the root. */
  static async open(root: string, opts: RankManifestOptions): Promise<RankManifest> {
    try {
      return await RankManifest.read(root, opts);
    } catch (e) {
      // An errno error (no space, read-only, no permission) names the rank's directory; typed errors pass through.
      throw ioError(e, "open the rank manifest in", root);
    }
  }

  private static async read(root: string, opts: RankManifestOptions): Promise<RankManifest> {
    const file = join(root, RANK_MANIFEST);
    let text: string | null = null;
    try {
      text = await readFile(file, "utf8");
    } catch (e) {
      if (!isErrno(e, "ENOENT") && !isErrno(e, "ENOTDIR")) throw e;
    }
    if (text === null) {
      if (opts.expectExisting) {
        const there = await isDir(root);
        throw new StorageMissingError(
          there ? file : root,
          there
            ? `rank ${opts.rank}'s storage directory ${root} has no ${RANK_MANIFEST} (the directory was deleted or emptied), but an earlier incarnation of the rank wrote there`
            : `rank ${opts.rank}'s storage directory ${root} does not exist, but an earlier incarnation of the rank wrote there`,
        );
      }
      const m = new RankManifest(root, opts.rank, new Set(), opts.beforeWrite);
      await mkdirs(root);
      await fsyncDir(dirname(root));
      await m.persist();
      return m;
    }
    let body: Body;
    try {
      body = JSON.parse(text) as Body;
    } catch {
      throw new StorageError(`corrupt rank manifest ${file}: not JSON`, file);
    }
    if (body.format !== FORMAT || !Array.isArray(body.entries) || body.rank !== opts.rank) {
      throw new StorageError(`corrupt rank manifest ${file}: format ${String(body.format)}, rank ${String(body.rank)} (expected format ${FORMAT}, rank ${opts.rank})`, file);
    }
    return new RankManifest(root, opts.rank, new Set(body.entries), opts.beforeWrite);
  }

  /** Whether the rank created `entry` (a directory name in the root) before. */
  lists(entry: string): boolean {
    return this.entries.has(entry);
  }

  /** Records `entry`, once it exists on disk. */
  add(entry: string): Promise<void> {
    if (this.entries.has(entry)) return Promise.resolve();
    this.entries.add(entry);
    const p = this.queue.then(() => this.persist()).catch((e: unknown) => Promise.reject(ioError(e, "write the rank manifest in", this.root)));
    this.queue = p.catch(() => {});
    return p;
  }

  private async persist(): Promise<void> {
    await this.beforeWrite?.();
    const body: Body = { format: FORMAT, rank: this.rank, entries: [...this.entries].sort() };
    await atomicWriteFile(join(this.root, RANK_MANIFEST), this.root, Buffer.from(JSON.stringify(body) + "\n"));
  }
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
