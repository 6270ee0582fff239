/**
 * A checkpoint's protocol state as bytes (the `protocol` half of every
 * checkpoint a generated package writes), and back.
 *
 * Why not `v8.serialize` alone: the state's bulk is a few large typed arrays
 * (the packed retransmission buffer, the optimistic history, determinant
 * tables), and v8's serializer writes each through a JS host-object callback
 * into a buffer it grows by reallocation, which the caller then copied once
 * more into a Uint8Array. Every one of those copies lands on freshly
 * allocated memory, and on a VM a first touch costs a page fault per 4 KiB:
 * measured at 6-8 ms per MiB of state (bench/job.ts jacobi, 1-3 MiB per
 * checkpoint on a sender), more than the disk write.
 *
 * Here the typed arrays of at least OOB_MIN bytes go out of band: the
 * serializer writes a small skeleton (the object graph, small arrays inline,
 * a reference per large one), and one exactly sized buffer receives the
 * skeleton and then each large array's bytes, 8-byte aligned, each copied
 * once.
 *
 *   "EGS" 0x01 | u32 LE skeleton length | skeleton | pad to 8 | arrays, each padded to 8
 *
 * A plain `v8.serialize` buffer (it starts with 0xFF, never "E") still
 * decodes, so checkpoints written before this format restore. Decoding copies
 * every array: a checkpoint kept in memory (diskless stores) may be restored
 * twice, and a restored block may mutate what it gets.
 */
import { DefaultDeserializer, DefaultSerializer, deserialize } from "node:v8";
import { releaseWarm, takeWarm } from "./warm.js";

const MAGIC = [0x45, 0x47, 0x53, 0x01] as const;
const HEADER = 8;
/** Smaller typed arrays stay in the skeleton: one copy of a few hundred bytes costs less than the bookkeeping. */
const OOB_MIN = 512;

type ViewCtor = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => ArrayBufferView;

/** Type codes: the index in this list (Buffer last: decoded as a Buffer, as v8.deserialize does). */
const VIEWS: readonly [string, ViewCtor, number][] = [
  ["Int8Array", Int8Array, 1],
  ["Uint8Array", Uint8Array, 1],
  ["Uint8ClampedArray", Uint8ClampedArray, 1],
  ["Int16Array", Int16Array, 2],
  ["Uint16Array", Uint16Array, 2],
  ["Int32Array", Int32Array, 4],
  ["Uint32Array", Uint32Array, 4],
  ["Float32Array", Float32Array, 4],
  ["Float64Array", Float64Array, 8],
  ["BigInt64Array", BigInt64Array, 8],
  ["BigUint64Array", BigUint64Array, 8],
  ["DataView", DataView as unknown as ViewCtor, 1],
];
const BUFFER_CODE = VIEWS.length;

function codeOf(v: ArrayBufferView): number {
  if (Buffer.isBuffer(v)) return BUFFER_CODE;
  const name = Object.prototype.toString.call(v).slice(8, -1);
  const i = VIEWS.findIndex((t) => t[0] === name);
  if (i < 0) throw new TypeError(`state codec: unsupported typed array ${name}`);
  return i;
}

const align8 = (n: number): number => (n + 7) & ~7;

class Writer extends DefaultSerializer {
  readonly oob: Uint8Array[] = [];
  oobBytes = 0;

  // v8 calls these for host objects (typed arrays, here): not in @types/node's declarations, hence no `override`.
  _writeHostObject(o: object): void {
    if (!ArrayBuffer.isView(o)) throw new TypeError("state codec: a host object that is not a typed array");
    const bytes = new Uint8Array(o.buffer, o.byteOffset, o.byteLength);
    this.writeUint32(codeOf(o));
    this.writeUint32(o.byteLength);
    if (o.byteLength >= OOB_MIN) {
      this.writeUint32(1);
      this.oob.push(bytes);
      this.oobBytes += align8(o.byteLength);
    } else {
      this.writeUint32(0);
      this.writeRawBytes(bytes);
    }
  }
}

class Reader extends DefaultDeserializer {
  constructor(
    skeleton: Uint8Array,
    private readonly all: Uint8Array,
    private at: number,
  ) {
    super(skeleton);
  }

  _readHostObject(): unknown {
    const code = this.readUint32();
    const byteLength = this.readUint32();
    const oob = this.readUint32() === 1;
    // A fresh, aligned copy (see the header: decoded state is never a view into the checkpoint).
    const copy = new Uint8Array(byteLength);
    if (oob) {
      if (this.at + byteLength > this.all.length) throw new RangeError("state codec: an array runs past the end of the state");
      copy.set(this.all.subarray(this.at, this.at + byteLength));
      this.at += align8(byteLength);
    } else {
      copy.set(this.readRawBytes(byteLength) as Uint8Array);
    }
    if (code === BUFFER_CODE) return Buffer.from(copy.buffer, 0, byteLength);
    const t = VIEWS[code];
    if (t === undefined) throw new RangeError(`state codec: unknown array type ${code}`);
    return new t[1](copy.buffer, 0, byteLength / t[2]);
  }
}

/**
 * The state as checkpoint bytes (see the header for the layout), in warm
 * memory (warm.ts) the caller owns. With `consume`, the caller hands over the
 * state: nothing reads it afterwards, so every warm buffer its large arrays
 * are over (outPack's) is given back once copied.
 */
export function encodeState(state: unknown, opts?: { readonly consume?: boolean }): Uint8Array {
  const w = new Writer();
  w.writeHeader();
  w.writeValue(state);
  const skeleton = w.releaseBuffer();
  const start = align8(HEADER + skeleton.length);
  const out = takeWarm(start + w.oobBytes);
  for (let i = 0; i < MAGIC.length; i++) out[i] = MAGIC[i]!;
  out.writeUInt32LE(skeleton.length, 4);
  out.set(skeleton, HEADER);
  out.fill(0, HEADER + skeleton.length, start);
  let at = start;
  for (const a of w.oob) {
    out.set(a, at);
    const end = at + a.byteLength;
    at = align8(end);
    out.fill(0, end, at);
  }
  if (opts?.consume === true) for (const a of w.oob) releaseWarm(a);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** The state encodeState wrote (or a plain v8.serialize buffer). */
export function decodeState(bytes: Uint8Array): unknown {
  if (!(bytes.length >= HEADER && MAGIC.every((b, i) => bytes[i] === b))) return deserialize(bytes);
  const len = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true);
  if (HEADER + len > bytes.length) throw new RangeError("state codec: the skeleton runs past the end of the state");
  const r = new Reader(bytes.subarray(HEADER, HEADER + len), bytes, align8(HEADER + len));
  r.readHeader();
  return r.readValue();
}
