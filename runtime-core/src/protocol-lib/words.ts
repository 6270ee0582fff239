/**
 * A received piggyback as u32 words, for generated protocols (the block
 * library's kernel.ts onFrame imports it from `@egida/runtime-core/protocol-lib`).
 *
 * Small piggybacks (every checkpoint-only and pessimistic protocol's: 1-3
 * words) are copied into a fresh array instead of viewed: a view needs
 * `raw.buffer`, a call into C++ per frame (on TCP the whole socket chunk), an
 * aligned offset, and it keeps the sender's piggyback slab (in-process
 * transports) or the socket chunk alive while the message is held or logged.
 * The copy is cheaper per frame than the view (docs/performance.md). Large
 * ones (causal protocols' determinant lists) are viewed when aligned: the
 * copy would grow with them.
 *
 * Word order: the sender writes its words through a Uint32Array (native
 * order); the copy reads little-endian, so on a big-endian host it takes the
 * view/realign path, which reads native order like the sender.
 */

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** At most this many words are copied; longer aligned piggybacks are viewed. */
const COPY_WORDS = 32;

export function wordsOf(raw: Uint8Array): Uint32Array {
  const n = raw.byteLength >>> 2;
  if (LITTLE_ENDIAN && n <= COPY_WORDS) {
    const w = new Uint32Array(n);
    for (let i = 0, b = 0; i < n; i++, b += 4) w[i] = raw[b]! | (raw[b + 1]! << 8) | (raw[b + 2]! << 16) | (raw[b + 3]! << 24);
    return w;
  }
  // Copy with `new Uint8Array(raw)`, not `raw.slice()`: TCP hands a Buffer, whose slice() is a
  // view on the whole socket chunk, so `.buffer` at offset 0 would read the chunk's first frame
  // header instead of this piggyback.
  return raw.byteOffset % 4 === 0 ? new Uint32Array(raw.buffer, raw.byteOffset, n) : new Uint32Array(new Uint8Array(raw).buffer, 0, n);
}
