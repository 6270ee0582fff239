/**
 * Checkpoints on two directories: runtime-core's disk checkpoint store
 * (atomic, CRC- and hash-verified) once per copy. A write is durable on both
 * before it returns; `latest` is the newer checkpoint that verifies on either
 * copy, so a lost or corrupt copy costs nothing while the other holds.
 */
import { openCheckpointStore, type DiskCheckpointStore } from "@egida/runtime-core/storage";
import type { Checkpoint, CheckpointStore, StorageMedium } from "@egida/runtime-core/spi";

export interface MirroredCheckpointOptions {
  readonly medium?: StorageMedium;
  readonly warn?: (message: string) => void;
}

export class MirroredCheckpoints implements CheckpointStore {
  readonly medium: StorageMedium;
  private readonly warn: (message: string) => void;
  readonly stats = { writes: 0, bytesWritten: 0 };

  private constructor(
    private readonly copies: readonly [DiskCheckpointStore, DiskCheckpointStore],
    opts: MirroredCheckpointOptions,
  ) {
    this.medium = opts.medium ?? "mirrored-disk";
    this.warn = opts.warn ?? (() => {});
  }

  static async open(dirs: readonly [string, string], opts: MirroredCheckpointOptions = {}): Promise<MirroredCheckpoints> {
    const onWarning = (w: { message: string }): void => opts.warn?.(w.message);
    const copies = await Promise.all(dirs.map((d) => openCheckpointStore(d, { medium: opts.medium ?? "mirrored-disk", onWarning })));
    return new MirroredCheckpoints([copies[0]!, copies[1]!], opts);
  }

  async write(ckpt: Checkpoint, opts: { readonly incremental: boolean }): Promise<void> {
    // One copy after the other: a crash in between leaves one complete copy of the new checkpoint and the old one on the other.
    for (const c of this.copies) await c.write(ckpt, opts);
    this.stats.writes++;
    this.stats.bytesWritten = this.copies[0].stats.bytesWritten + this.copies[1].stats.bytesWritten;
  }

  async latest(): Promise<Checkpoint | null> {
    const failures: unknown[] = [];
    const found = await Promise.all(this.copies.map((c, i) => this.quietly(i, () => c.latest(), failures)));
    // Neither copy readable: starting from no checkpoint would silently lose the rank's state.
    if (failures.length === 2) throw failures[0];
    const [a, b] = found;
    if (a === null || a === undefined) return b ?? null;
    if (b === null || b === undefined) return a;
    return b.index > a.index ? b : a;
  }

  async load(index: number): Promise<Checkpoint | null> {
    for (const [i, c] of this.copies.entries()) {
      const ck = await this.quietly(i, () => c.load(index));
      if (ck) return ck;
    }
    return null;
  }

  async list(): Promise<number[]> {
    const lists = await Promise.all(this.copies.map((c, i) => this.quietly(i, () => c.list())));
    return [...new Set(lists.flatMap((l) => l ?? []))].sort((x, y) => x - y);
  }

  async gc(keepFrom: number): Promise<void> {
    for (const c of this.copies) await c.gc(keepFrom);
  }

  /** A copy that cannot be read is the other copy's job: warn and go on (a read, never a write). */
  private async quietly<T>(copy: number, read: () => Promise<T>, failures: unknown[] = []): Promise<T | null> {
    try {
      return await read();
    } catch (e) {
      failures.push(e);
      this.warn(`mirrored-disk: checkpoint copy ${copy === 0 ? "a" : "b"} unreadable, using the other: ${e instanceof Error ? e.message : String(e)}`);
      return null;
    }
  }
}
