/**
 * Checkpoints on a local or NFS disk, full or incremental.
 *
 * A checkpoint's bytes (app ++ protocol) are cut into fixed chunks named by
 * their SHA-256. A write appends the chunks it must store to one new pack
 * file (one fdatasync for all of them, instead of one per chunk file) and
 * then publishes a manifest listing every chunk's hash and location:
 *   pack-<index>-<rand>.bin      new chunks, back to back
 *   ckpt-<index>.manifest        JSON body, "\n", sha256(body) hex, "\n"
 * Full mode stores every chunk; incremental mode stores only chunks whose hash
 * no live manifest already references (what changed since the last one).
 *
 * Atomicity: pack written and fdatasynced, directory fsynced, then the
 * manifest goes through temp file, fdatasync, rename, directory fsync. A
 * checkpoint exists iff its manifest does; a crash leaves a pack nobody
 * references, removed on the next open.
 *
 * `latest.json` records the newest index written (after its manifest), so a
 * deleted newest checkpoint, or a deleted directory the rank manifest lists,
 * is reported (StorageMissingError) instead of recovering from an older one.
 */
import { createHash, randomBytes } from "node:crypto";
import { open, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Checkpoint, CheckpointStore, StorageMedium } from "../spi.js";
import { CorruptCheckpointError, StorageMissingError, ioError, type WarningHandler } from "./errors.js";
import { atomicWriteFile, exists, fsyncDir, isErrno, mkdirs, readTextIfExists, unlinkIfExists, writeFully } from "./fs-util.js";

export const DEFAULT_CHUNK_BYTES = 64 * 1024;
const FORMAT = 1;
export const LATEST_FILE = "latest.json";

export interface CheckpointStoreOptions {
  readonly medium?: StorageMedium;
  readonly chunkBytes?: number;
  readonly onWarning?: WarningHandler;
  /** Runs before every write (NFS lock fencing). */
  readonly beforeWrite?: () => Promise<void>;
  /**
   * The store was created before (the rank manifest lists it): its directory
   * and latest.json must be there, else StorageMissingError.
   */
  readonly expectExisting?: boolean;
}

export interface CheckpointStoreStats {
  writes: number;
  /** Pack and manifest bytes written. */
  bytesWritten: number;
  chunksWritten: number;
  chunksReused: number;
}

interface ChunkRef {
  /** sha256 hex of the chunk. */
  readonly h: string;
  /** Pack file name. */
  readonly p: string;
  /** Offset in the pack. */
  readonly o: number;
}

interface Manifest {
  readonly format: number;
  readonly index: number;
  readonly appLength: number;
  readonly protocolLength: number;
  readonly chunkBytes: number;
  readonly chunks: readonly ChunkRef[];
}

const manifestName = (index: number): string => `ckpt-${String(index).padStart(12, "0")}.manifest`;

function parseManifestName(name: string): number | null {
  const m = /^ckpt-(\d{1,16})\.manifest$/.exec(name);
  return m ? Number(m[1]) : null;
}

const sha256 = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

export class DiskCheckpointStore implements CheckpointStore {
  readonly medium: StorageMedium;
  private readonly st: CheckpointStoreStats = { writes: 0, bytesWritten: 0, chunksWritten: 0, chunksReused: 0 };
  private readonly chunkBytes: number;
  /** Chunks that live manifests reference: what an incremental write may reuse. */
  private known = new Map<string, ChunkRef>();
  private queue: Promise<unknown> = Promise.resolve();
  /** The newest index latest.json records; -1 when no checkpoint was written. */
  private newest = -1;

  private constructor(
    readonly dir: string,
    private readonly opts: CheckpointStoreOptions,
  ) {
    this.medium = opts.medium ?? "local-disk";
    this.chunkBytes = opts.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  }

  static async open(dir: string, opts: CheckpointStoreOptions = {}): Promise<DiskCheckpointStore> {
    try {
      return await DiskCheckpointStore.openIn(dir, opts);
    } catch (e) {
      // An errno error (no space, read-only, no permission) names the store's directory and the operation;
      // typed errors (StorageMissingError, CorruptCheckpointError) pass through unchanged.
      throw ioError(e, "open the checkpoint store in", dir);
    }
  }

  private static async openIn(dir: string, opts: CheckpointStoreOptions): Promise<DiskCheckpointStore> {
    if (opts.expectExisting && !(await exists(dir))) {
      throw new StorageMissingError(dir, `checkpoint directory ${dir} does not exist, but an earlier incarnation of the rank wrote it`);
    }
    await mkdirs(dir);
    const store = new DiskCheckpointStore(dir, opts);
    for (const n of await readdir(dir)) {
      // Leftovers of a write a crash interrupted: never published, so never needed.
      if (n.endsWith(".tmp")) await unlinkIfExists(join(dir, n));
    }
    const indices = await store.list();
    const recorded = await readLatest(dir);
    if (recorded === null) {
      if (opts.expectExisting) throw new StorageMissingError(join(dir, LATEST_FILE), `checkpoint directory ${dir} lost its ${LATEST_FILE}, but an earlier incarnation of the rank wrote it`);
      // First open (or a directory from before latest.json existed).
      store.newest = indices.length > 0 ? indices[indices.length - 1]! : -1;
      await writeLatest(dir, store.newest);
    } else {
      store.newest = recorded;
      // Indices only grow and gc deletes older ones: a manifest at or above the recorded one must remain.
      if (recorded >= 0 && !indices.some((i) => i >= recorded)) {
        throw new StorageMissingError(
          join(dir, manifestName(recorded)),
          `checkpoint ${recorded} (${join(dir, manifestName(recorded))}) is missing, and no newer one is there` +
            (indices.length > 0 ? ` (the newest left is ${indices[indices.length - 1]})` : ""),
        );
      }
    }
    await store.rescan(true);
    return store;
  }

  get stats(): Readonly<CheckpointStoreStats> {
    return this.st;
  }

  write(ckpt: Checkpoint, opts: { readonly incremental: boolean }): Promise<void> {
    // A raw write error carries no path: name the store's directory.
    return this.serial(() => this.doWrite(ckpt, opts.incremental).catch((e: unknown) => Promise.reject(ioError(e, "write a checkpoint in", this.dir))));
  }

  async latest(): Promise<Checkpoint | null> {
    const indices = await this.list();
    for (let i = indices.length - 1; i >= 0; i--) {
      try {
        const c = await this.load(indices[i]!);
        if (c) return c;
      } catch (e) {
        if (!(e instanceof CorruptCheckpointError)) throw e;
        this.opts.onWarning?.({
          kind: "corrupt-checkpoint",
          file: e.file,
          offset: e.offset,
          message: `${e.message}; falling back to an older checkpoint`,
        });
      }
    }
    return null;
  }

  /** The checkpoint `index`, verified chunk by chunk; null if there is none; CorruptCheckpointError if it does not verify. */
  async load(index: number): Promise<Checkpoint | null> {
    const file = join(this.dir, manifestName(index));
    const m = await this.readManifest(file);
    if (m === null) return null;
    const total = m.appLength + m.protocolLength;
    const out = Buffer.allocUnsafe(total);
    const packs = new Map<string, Awaited<ReturnType<typeof open>>>();
    try {
      for (let i = 0; i < m.chunks.length; i++) {
        const ref = m.chunks[i]!;
        const start = i * m.chunkBytes;
        const len = Math.min(m.chunkBytes, total - start);
        const packFile = join(this.dir, ref.p);
        let fh = packs.get(ref.p);
        if (!fh) {
          try {
            fh = await open(packFile, "r");
          } catch (e) {
            if (isErrno(e, "ENOENT")) throw new CorruptCheckpointError(packFile, ref.o, "pack file missing", i);
            throw e;
          }
          packs.set(ref.p, fh);
        }
        const { bytesRead } = await fh.read(out, start, len, ref.o);
        if (bytesRead !== len) throw new CorruptCheckpointError(packFile, ref.o, `short chunk (${bytesRead} of ${len} bytes)`, i);
        if (sha256(out.subarray(start, start + len)) !== ref.h) {
          throw new CorruptCheckpointError(packFile, ref.o, "chunk hash mismatch", i);
        }
      }
    } finally {
      for (const fh of packs.values()) await fh.close();
    }
    return { index: m.index, app: out.subarray(0, m.appLength), protocol: out.subarray(m.appLength) };
  }

  async list(): Promise<number[]> {
    const out: number[] = [];
    for (const n of await readdir(this.dir)) {
      const i = parseManifestName(n);
      if (i !== null) out.push(i);
    }
    return out.sort((a, b) => a - b);
  }

  gc(keepFrom: number): Promise<void> {
    // A raw errno error (latest.json cannot be rewritten on a full disk) names the store's directory.
    return this.serial(() => this.doGc(keepFrom).catch((e: unknown) => Promise.reject(ioError(e, "remove old checkpoints in", this.dir))));
  }

  private async doGc(keepFrom: number): Promise<void> {
    const indices = await this.list();
    if (this.newest >= 0 && this.newest < keepFrom) {
      // The recorded newest goes too: record what remains first, so its deletion is not taken for a loss.
      const left = indices.filter((i) => i >= keepFrom);
      this.newest = left.length > 0 ? left[left.length - 1]! : -1;
      await writeLatest(this.dir, this.newest);
    }
    for (const i of indices) if (i < keepFrom) await unlinkIfExists(join(this.dir, manifestName(i)));
    await this.rescan(true);
    await fsyncDir(this.dir);
  }

  private async doWrite(ckpt: Checkpoint, incremental: boolean): Promise<void> {
    await this.opts.beforeWrite?.();
    // The body is app ++ protocol, cut into chunks without concatenating the two (a state of a few MiB
    // was copied once more per checkpoint): only a chunk that straddles them is assembled.
    const { app, protocol } = ckpt;
    const total = app.length + protocol.length;
    const piece = (start: number, end: number): Uint8Array =>
      end <= app.length ? app.subarray(start, end) : start >= app.length ? protocol.subarray(start - app.length, end - app.length) : Buffer.concat([app.subarray(start), protocol.subarray(0, end - app.length)]);
    const pack = `pack-${String(ckpt.index).padStart(12, "0")}-${randomBytes(4).toString("hex")}.bin`;
    const fresh: Uint8Array[] = [];
    const added = new Map<string, ChunkRef>();
    const chunks: ChunkRef[] = [];
    let packBytes = 0;
    for (let start = 0; start < total; start += this.chunkBytes) {
      const chunk = piece(start, Math.min(total, start + this.chunkBytes));
      const h = sha256(chunk);
      // Identical chunks within one checkpoint (zero pages) are stored once even in full mode.
      let ref = added.get(h) ?? (incremental ? this.known.get(h) : undefined);
      if (ref) {
        this.st.chunksReused++;
      } else {
        ref = { h, p: pack, o: packBytes };
        added.set(h, ref);
        fresh.push(chunk);
        packBytes += chunk.length;
        this.st.chunksWritten++;
      }
      chunks.push(ref);
    }

    if (fresh.length > 0) {
      // The pack goes straight to its final name: it is invisible until a manifest references it.
      const packFile = join(this.dir, pack);
      const fh = await open(packFile, "wx");
      try {
        // Every chunk fresh (a full checkpoint without repeated chunks): the pack is app ++ protocol, written as is.
        const parts = packBytes === total ? [app, protocol] : [Buffer.concat(fresh, packBytes)];
        let at = 0;
        for (const part of parts) {
          await writeFully(fh, part, at);
          at += part.length;
        }
        await fh.datasync();
      } finally {
        await fh.close();
      }
      // The pack's directory entry must be durable before the manifest that names it.
      await fsyncDir(this.dir);
    }
    const m: Manifest = {
      format: FORMAT,
      index: ckpt.index,
      appLength: ckpt.app.length,
      protocolLength: ckpt.protocol.length,
      chunkBytes: this.chunkBytes,
      chunks,
    };
    const text = JSON.stringify(m);
    const manifest = Buffer.from(`${text}\n${sha256(Buffer.from(text))}\n`);
    await atomicWriteFile(join(this.dir, manifestName(ckpt.index)), this.dir, manifest);
    if (ckpt.index > this.newest) {
      // After the manifest: a crash between the two leaves latest.json naming an older (still present) checkpoint.
      await writeLatest(this.dir, ckpt.index);
      this.newest = ckpt.index;
    }
    for (const [h, ref] of added) this.known.set(h, ref);
    this.st.writes++;
    this.st.bytesWritten += packBytes + manifest.length;
  }

  /** Reads and verifies a manifest; null if absent. */
  private async readManifest(file: string): Promise<Manifest | null> {
    let buf: Buffer;
    try {
      buf = await readFile(file);
    } catch (e) {
      if (isErrno(e, "ENOENT")) return null;
      throw e;
    }
    const text = buf.toString("utf8");
    const nl = text.indexOf("\n");
    const body = nl === -1 ? text : text.slice(0, nl);
    const sum = nl === -1 ? "" : text.slice(nl + 1).trim();
    if (sha256(Buffer.from(body)) !== sum) throw new CorruptCheckpointError(file, 0, "manifest checksum mismatch");
    let m: Manifest;
    try {
      m = JSON.parse(body) as Manifest;
    } catch {
      throw new CorruptCheckpointError(file, 0, "manifest is not JSON");
    }
    if (m.format !== FORMAT || !Array.isArray(m.chunks) || !(m.chunkBytes > 0)) throw new CorruptCheckpointError(file, 0, `unknown manifest format ${String(m.format)}`);
    const need = Math.ceil((m.appLength + m.protocolLength) / m.chunkBytes);
    if (m.chunks.length !== need) throw new CorruptCheckpointError(file, 0, `manifest lists ${m.chunks.length} chunks, ${need} expected`);
    return m;
  }

  /**
   * Rebuilds the reusable-chunk index from the manifests and, when every
   * manifest is readable, deletes packs none of them references.
   */
  private async rescan(deleteUnreferenced: boolean): Promise<void> {
    const known = new Map<string, ChunkRef>();
    const packs = new Set<string>();
    let allReadable = true;
    for (const i of await this.list()) {
      try {
        const m = await this.readManifest(join(this.dir, manifestName(i)));
        for (const ref of m?.chunks ?? []) {
          known.set(ref.h, ref);
          packs.add(ref.p);
        }
      } catch (e) {
        if (!(e instanceof CorruptCheckpointError)) throw e;
        // Its references are unknown, so no pack may be deleted; latest() reports it.
        allReadable = false;
      }
    }
    this.known = known;
    if (!deleteUnreferenced || !allReadable) return;
    for (const n of await readdir(this.dir)) {
      if (n.startsWith("pack-") && n.endsWith(".bin") && !packs.has(n)) await unlinkIfExists(join(this.dir, n));
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn);
    this.queue = p.catch(() => {});
    return p;
  }
}

async function readLatest(dir: string): Promise<number | null> {
  const file = join(dir, LATEST_FILE);
  const text = await readTextIfExists(file);
  if (text === null) return null;
  let v: { newest?: unknown };
  try {
    v = JSON.parse(text) as { newest?: unknown };
  } catch {
    throw new CorruptCheckpointError(file, 0, `${LATEST_FILE} is not JSON`);
  }
  if (typeof v.newest !== "number" || !Number.isSafeInteger(v.newest) || v.newest < -1) throw new CorruptCheckpointError(file, 0, `bad ${LATEST_FILE}`);
  return v.newest;
}

function writeLatest(dir: string, newest: number): Promise<void> {
  return atomicWriteFile(join(dir, LATEST_FILE), dir, Buffer.from(JSON.stringify({ newest }) + "\n"));
}

export function openCheckpointStore(dir: string, opts: CheckpointStoreOptions = {}): Promise<DiskCheckpointStore> {
  return DiskCheckpointStore.open(dir, opts);
}
