/**
 * Large buffers reused from one checkpoint to the next, per process: the
 * application state a checkpoint captures, the packed retransmission buffer
 * it saves, and the encoded protocol state.
 *
 * Why: each of these is a few MiB, made once per checkpoint and dropped when
 * the checkpoint is on disk. Fresh memory costs a page fault per 4 KiB first
 * touched, ~2.7 ms per MiB on this project's VM, against ~0.05 ms per MiB to
 * copy into memory already faulted in. A 2.2 MB checkpoint state was 6 ms of
 * page faults per copy and was copied twice (bench/job.ts jacobi).
 *
 * Ownership is explicit: whoever takes a buffer either keeps it (it is then
 * ordinary memory, collected as usual) or, once nothing refers to it, gives
 * it back with `releaseWarm`. Giving back a buffer that something still
 * reads is a bug: the next `takeWarm` overwrites it. The checkpoint stores'
 * blocks give back what they wrote once `CheckpointStore.write` settles (a
 * store keeps no reference to the bytes it was given), and a state they
 * encode with `consume` (nothing reads it after encoding).
 */

/** Requests below this size are not pooled: small allocations come from V8's own pools, already warm. */
export const WARM_MIN = 64 * 1024;
/** Free buffers kept per process, in bytes: a few checkpoints' worth, so a state of a few MiB is never re-faulted. */
const POOL_MAX_BYTES = 32 * 1024 * 1024;

/** Free buffers by capacity (a power of two, at least WARM_MIN). */
const free = new Map<number, ArrayBuffer[]>();
let freeBytes = 0;
/** Every buffer this pool handed out and not yet given back (so a buffer is pooled once, and only ours are). */
const out = new WeakSet<ArrayBuffer>();

function capacityFor(bytes: number): number {
  let c = WARM_MIN;
  while (c < bytes) c *= 2;
  return c;
}

/**
 * A Buffer of exactly `bytes` bytes (contents undefined). At least WARM_MIN
 * bytes: over a pooled ArrayBuffer (a free one of that size class if there is
 * one), which its owner may give back with releaseWarm.
 */
export function takeWarm(bytes: number): Buffer {
  if (bytes < WARM_MIN) return Buffer.allocUnsafeSlow(bytes);
  const cap = capacityFor(bytes);
  // Its own size class, else the next two up: a checkpoint's sizes drift from one to the next (the
  // retransmission buffer grows and shrinks), and any buffer already faulted in beats a fresh one.
  let ab: ArrayBuffer | undefined;
  for (let c = cap; ab === undefined && c <= 4 * cap; c *= 2) ab = free.get(c)?.pop();
  if (ab !== undefined) freeBytes -= ab.byteLength;
  else ab = new ArrayBuffer(cap);
  out.add(ab);
  return Buffer.from(ab, 0, bytes);
}

/**
 * Gives back the memory under `view` (from takeWarm; anything else is
 * ignored, and so is a second release). Nothing may read `view`, or another
 * view of its memory, afterwards.
 */
export function releaseWarm(view: ArrayBufferView): void {
  const ab = view.buffer;
  if (!(ab instanceof ArrayBuffer) || !out.has(ab)) return;
  out.delete(ab);
  const cap = ab.byteLength;
  if (freeBytes + cap > POOL_MAX_BYTES) return;
  let list = free.get(cap);
  if (list === undefined) free.set(cap, (list = []));
  list.push(ab);
  freeBytes += cap;
}

/** Bytes held free for reuse (tests and benches). */
export function warmFreeBytes(): number {
  return freeBytes;
}
