/**
 * A received piggyback as u32 words, for generated protocols (the block
 * library's kernel.ts onFrame imports it from `@egida/runtime-core/protocol-lib`).
 *
 * Piggybacks up to 1 024 words are copied, not viewed: a view needs
 * `raw.buffer`, a call into C++ per frame (on TCP the whole socket chunk), an
 * aligned offset, and it keeps the sender's piggyback slab (in-process
 * transports) or the socket chunk alive while the message is held or logged.
 * The copy is cheaper per frame than the view (docs/performance.md).
 *
 * Where the copy goes: V8 keeps a typed array's memory in its heap only up to
 * 64 bytes; a larger one gets a backing store of its own, malloc'd, tracked
 * and freed by V8's array-buffer sweeper. A causal protocol's piggyback is
 * larger than that on every message (family-based causal logging on 4 ranks:
 * its dependency matrix alone is 25 words), so copies up to 16 words (every
 * checkpoint-only and pessimistic protocol's: 1-3 words) get an array of their
 * own, and longer ones a range of a receive slab, as the sending side carves
 * its piggybacks from a slab (core/transmit). A held piggyback keeps its
 * slab (64 KiB) alive, as a view would keep the socket chunk. Piggybacks
 * longer than a sixteenth of the slab (causal logging's whole-log ones during
 * a recovery) are viewed when aligned: the copy would grow with them.
 *
 * Word order: the sender writes its words through a Uint32Array (native
 * order); the copy reads little-endian, so on a big-endian host it takes the
 * view/realign path, which reads native order like the sender.
 */

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** At most this many words get an array of their own (64 bytes: V8 keeps it in the heap). */
const OWN_WORDS = 16;
/** The receive slab's size, in words (64 KiB). */
const SLAB_WORDS = 16 * 1024;
/** At most this many words are copied (into the slab); longer aligned piggybacks are viewed. */
const COPY_WORDS = SLAB_WORDS / 16;

/** The receive slab and its next free word (full at first: the first long piggyback allocates it). */
let slab = new ArrayBuffer(0);
let slabAt = SLAB_WORDS;

export function wordsOf(raw: Uint8Array): Uint32Array {
  const n = raw.byteLength >>> 2;
  if (LITTLE_ENDIAN && n <= COPY_WORDS) {
    let w: Uint32Array;
    if (n <= OWN_WORDS) w = new Uint32Array(n);
    else {
      // A fresh slab when this one is full: the old one lives on while a piggyback in it is held.
      if (slabAt + n > SLAB_WORDS) {
        slab = new ArrayBuffer(4 * SLAB_WORDS);
        slabAt = 0;
      }
      w = new Uint32Array(slab, 4 * slabAt, n);
      slabAt += n;
    }
    for (let i = 0, b = 0; i < n; i++, b += 4) w[i] = raw[b]! | (raw[b + 1]! << 8) | (raw[b + 2]! << 16) | (raw[b + 3]! << 24);
    return w;
  }
  // Copy with `new Uint8Array(raw)`, not `raw.slice()`: TCP hands a Buffer, whose slice() is a
  // view on the whole socket chunk, so `.buffer` at offset 0 would read the chunk's first frame
  // header instead of this piggyback.
  return raw.byteOffset % 4 === 0 ? new Uint32Array(raw.buffer, raw.byteOffset, n) : new Uint32Array(new Uint8Array(raw).buffer, 0, n);
}
