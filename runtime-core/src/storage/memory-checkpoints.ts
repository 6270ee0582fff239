/**
 * In-memory CheckpointStore for the simulation and tests. The simulator keeps
 * the object across a simulated crash, which is what makes it "stable".
 * Incremental writes count only the chunks that differ from the previous
 * checkpoint, so stats compare like the disk store's.
 */
import type { Checkpoint, CheckpointStore, StorageMedium } from "../spi.js";
import { DEFAULT_CHUNK_BYTES } from "./checkpoint-store.js";

export class MemoryCheckpointStore implements CheckpointStore {
  private readonly ckpts = new Map<number, Checkpoint>();
  private last: Uint8Array | null = null;
  private readonly st = { writes: 0, bytesWritten: 0 };

  constructor(
    readonly medium: StorageMedium = "volatile-memory-of-self",
    private readonly chunkBytes = DEFAULT_CHUNK_BYTES,
  ) {}

  get stats(): Readonly<{ writes: number; bytesWritten: number }> {
    return this.st;
  }

  write(ckpt: Checkpoint, opts: { readonly incremental: boolean }): Promise<void> {
    // Copies: the caller may reuse its buffers, and a "crash" must not see later mutations.
    const app = new Uint8Array(ckpt.app);
    const protocol = new Uint8Array(ckpt.protocol);
    const body = new Uint8Array(app.length + protocol.length);
    body.set(app, 0);
    body.set(protocol, app.length);
    this.st.bytesWritten += opts.incremental && this.last ? changedBytes(this.last, body, this.chunkBytes) : body.length;
    this.st.writes++;
    this.last = body;
    this.ckpts.set(ckpt.index, { index: ckpt.index, app, protocol });
    return Promise.resolve();
  }

  latest(): Promise<Checkpoint | null> {
    let best: Checkpoint | null = null;
    for (const c of this.ckpts.values()) if (!best || c.index > best.index) best = c;
    return Promise.resolve(best);
  }

  load(index: number): Promise<Checkpoint | null> {
    return Promise.resolve(this.ckpts.get(index) ?? null);
  }

  list(): Promise<number[]> {
    return Promise.resolve([...this.ckpts.keys()].sort((a, b) => a - b));
  }

  gc(keepFrom: number): Promise<void> {
    for (const i of [...this.ckpts.keys()]) if (i < keepFrom) this.ckpts.delete(i);
    return Promise.resolve();
  }
}

/** Bytes of `next` in chunks that differ from the same chunk of `prev`. */
function changedBytes(prev: Uint8Array, next: Uint8Array, chunk: number): number {
  let n = 0;
  for (let at = 0; at < next.length; at += chunk) {
    const end = Math.min(next.length, at + chunk);
    if (end > prev.length || !Buffer.from(prev.buffer, prev.byteOffset + at, end - at).equals(Buffer.from(next.buffer, next.byteOffset + at, end - at))) {
      n += end - at;
    }
  }
  return n;
}
