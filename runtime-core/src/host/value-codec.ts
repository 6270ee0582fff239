/**
 * The byte encoding of application values: messages (ctx.send), outputs
 * (ctx.write), read values (ctx.read) and the application state in
 * checkpoints.
 *
 * The contract is structured clone, as v8.serialize gives it. But
 * v8.serialize builds a serializer object per call and costs 10-20 µs for a
 * two-field object, most of a small message's CPU on the TCP path. So plain
 * data (undefined, null, booleans, numbers, well-formed strings, dense plain
 * arrays, plain objects, typed arrays) is written by this module's own
 * encoder, in about a microsecond; anything else (Map, Set, Date, BigInt,
 * Buffer, class instances, cycles, a value reachable twice, sparse arrays,
 * arrays with named properties, lone surrogates) goes to v8.serialize whole.
 * A decoded value is what structured clone would give, either way.
 *
 * Two formats, told apart by the first byte: FAST (this encoder) or 0xFF
 * (v8.serialize's version tag), so bytes written by v8.serialize are still
 * read. The fast encoding is canonical: equal values give equal bytes (an
 * integral number in int32 range is always an int32, whatever V8 holds), so
 * a digest of the bytes identifies the value; v8.serialize's bytes are not
 * (see canonical.ts).
 */
import { deserialize, serialize } from "node:v8";

/** First byte of a fast encoding (v8.serialize's output starts with 0xFF). */
export const FAST = 0xe1;

const T_UNDEFINED = 0;
const T_NULL = 1;
const T_FALSE = 2;
const T_TRUE = 3;
const T_INT32 = 4;
const T_FLOAT64 = 5;
const T_STRING = 6;
const T_ARRAY = 7;
const T_OBJECT = 8;
const T_TYPED = 9;

/** Typed array kinds by index; only exact instances (not Buffer or subclasses) take the fast path. */
const TYPED: readonly (new (buffer: ArrayBuffer, byteOffset: number, length: number) => ArrayBufferView)[] = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
];
const TYPED_PROTO = new Map<object, number>(TYPED.map((c, i) => [c.prototype, i]));

/** The value leaves the fast path: encode all of it with v8.serialize. */
class Bail {}
const BAIL = new Bail();

/** Nesting deeper than this goes to v8.serialize (no stack overflow here on deep data). */
const MAX_DEPTH = 512;

// The encoder writes into one growing scratch buffer, copied out at the end.
let buf = Buffer.allocUnsafeSlow(4096);
let pos = 0;
/** Objects on the current encode: a second visit (a cycle or a shared value) bails out. */
const seen = new Set<object>();
/**
 * Set while encodeAppState runs. An application's state and its messages are
 * different data, and the element and property reads below learn the shapes
 * they see: read at the same sites, a state's arrays of objects (or nulls)
 * teach the message path's optimized code that arrays may hold anything, and
 * from then on V8 converts every array of doubles the application sends to
 * generic elements before reading it (a heap number per element, every
 * message; on jacobi after the first checkpoint, in every rank). So a state
 * is read at sites of its own.
 */
let forState = false;

function room(n: number): void {
  if (pos + n <= buf.length) return;
  let size = buf.length * 2;
  while (size < pos + n) size *= 2;
  const next = Buffer.allocUnsafeSlow(size);
  buf.copy(next, 0, 0, pos);
  buf = next;
}

function writeLength(n: number): void {
  room(5);
  while (n >= 0x80) {
    buf[pos++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  buf[pos++] = n;
}

/** String.prototype.isWellFormed (Node 20, ES2024; the workspace's lib is older). */
const isWellFormed = (String.prototype as unknown as { isWellFormed: (this: string) => boolean }).isWellFormed;

function writeString(s: string): void {
  // A lone surrogate does not survive UTF-8; v8.serialize keeps it.
  if (!isWellFormed.call(s)) throw BAIL;
  // At most 3 bytes per UTF-16 unit.
  const max = s.length * 3;
  if (max < 0x80) {
    room(1 + max);
    const n = buf.write(s, pos + 1, max, "utf8");
    buf[pos] = n;
    pos += 1 + n;
    return;
  }
  const n = Buffer.byteLength(s, "utf8");
  writeLength(n);
  room(n);
  pos += buf.write(s, pos, n, "utf8");
}

function writeValue(v: unknown, depth: number): void {
  switch (typeof v) {
    case "number":
      if ((v | 0) === v && !Object.is(v, -0)) {
        room(5);
        buf[pos] = T_INT32;
        buf.writeInt32LE(v, pos + 1);
        pos += 5;
      } else {
        room(9);
        buf[pos] = T_FLOAT64;
        buf.writeDoubleLE(v, pos + 1);
        pos += 9;
      }
      return;
    case "string":
      room(1);
      buf[pos++] = T_STRING;
      writeString(v);
      return;
    case "boolean":
      room(1);
      buf[pos++] = v ? T_TRUE : T_FALSE;
      return;
    case "undefined":
      room(1);
      buf[pos++] = T_UNDEFINED;
      return;
    case "object":
      if (v === null) {
        room(1);
        buf[pos++] = T_NULL;
        return;
      }
      return writeObject(v, depth);
    default:
      // bigint, function, symbol: v8.serialize clones the first and refuses the others with its own error.
      throw BAIL;
  }
}

function writeObject(v: object, depth: number): void {
  if (depth > MAX_DEPTH || seen.has(v)) throw BAIL;
  seen.add(v);
  const proto = Object.getPrototypeOf(v) as object | null;
  if (proto === Array.prototype) {
    const a = v as unknown[];
    const n = a.length;
    // Holes or named properties: keys and length disagree (v8.serialize keeps both).
    if (Object.keys(a).length !== n) throw BAIL;
    room(1);
    buf[pos++] = T_ARRAY;
    writeLength(n);
    // Two loops, not one: their element reads keep apart what they learn (see forState).
    if (forState) for (let i = 0; i < n; i++) writeValue(a[i], depth + 1);
    else for (let i = 0; i < n; i++) writeValue(a[i], depth + 1);
    return;
  }
  if (proto === Object.prototype) {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    room(1);
    buf[pos++] = T_OBJECT;
    writeLength(keys.length);
    // As for arrays: a state's property reads at sites of their own.
    if (forState) {
      for (const k of keys) {
        writeString(k);
        writeValue(o[k], depth + 1);
      }
    } else {
      for (const k of keys) {
        writeString(k);
        writeValue(o[k], depth + 1);
      }
    }
    return;
  }
  const kind = proto === null ? undefined : TYPED_PROTO.get(proto);
  if (kind !== undefined) {
    const t = v as ArrayBufferView;
    if (t.buffer instanceof SharedArrayBuffer) throw BAIL;
    room(2);
    buf[pos++] = T_TYPED;
    buf[pos++] = kind;
    writeLength(t.byteLength);
    room(t.byteLength);
    buf.set(new Uint8Array(t.buffer, t.byteOffset, t.byteLength), pos);
    pos += t.byteLength;
    return;
  }
  throw BAIL;
}

/**
 * The bytes of `value` (the fast path; v8.serialize's own otherwise); throws
 * v8.serialize's error (a DOMException DataCloneError) for what structured
 * clone refuses. Each value gets memory of its own: slices of
 * Buffer.allocUnsafe's 8 KiB pool measured worse on the stream workload
 * (docs/performance.md, "What the profiles decided").
 */
export function encodeValue(value: unknown): Buffer {
  return writeAll(value, false) ? copyOut(Buffer.allocUnsafeSlow(pos)) : serialize(value);
}

/**
 * An application's state, for a checkpoint: the same encoding as encodeValue,
 * in a buffer from `alloc`, read at sites of its own (see forState) so that
 * taking a checkpoint does not slow the application's sends down.
 */
export function encodeAppState(state: unknown, alloc: (bytes: number) => Buffer = Buffer.allocUnsafeSlow): Buffer {
  // The allocator is called here, not in a function both share: a call site that meets a second
  // function, or runs for the first time after the message path made it hot, deoptimizes it.
  return writeAll(state, true) ? copyOut(alloc(pos)) : serialize(state);
}

/** Encodes into the scratch buffer (`pos` bytes); false: the value leaves the fast path. */
function writeAll(value: unknown, state: boolean): boolean {
  pos = 0;
  room(1);
  buf[pos++] = FAST;
  forState = state;
  try {
    writeValue(value, 0);
    return true;
  } catch (e) {
    if (e !== BAIL) throw e;
    return false;
  } finally {
    seen.clear();
    forState = false;
  }
}

/** The scratch buffer's `pos` bytes copied into `out`. */
function copyOut(out: Buffer): Buffer {
  buf.copy(out, 0, 0, pos);
  // A huge value must not keep a huge scratch buffer alive; up to 8 MiB it stays, so a rank that
  // checkpoints a state of a few MiB again and again does not regrow it (copies and fresh pages) each time.
  if (buf.length > 1 << 23) buf = Buffer.allocUnsafeSlow(4096);
  return out;
}

/** A corrupt or truncated encoding. */
export class ValueDecodeError extends Error {
  constructor(message: string) {
    super(`cannot decode a value: ${message}`);
    this.name = "ValueDecodeError";
  }
}

const NO_INPUT: Buffer = Buffer.alloc(0);
let rd: Buffer = NO_INPUT;
let at = 0;
let end = 0;

function need(n: number): void {
  if (at + n > end) throw new ValueDecodeError(`truncated at byte ${at} (needs ${n} more, ${end - at} left)`);
}

function readLength(): number {
  let n = 0;
  let shift = 0;
  for (;;) {
    need(1);
    const b = rd[at++]!;
    n += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return n;
    shift += 7;
    if (shift > 28) throw new ValueDecodeError(`length too long at byte ${at}`);
  }
}

function readString(): string {
  const n = readLength();
  need(n);
  const s = rd.toString("utf8", at, at + n);
  at += n;
  return s;
}

function readValue(depth: number): unknown {
  if (depth > MAX_DEPTH) throw new ValueDecodeError(`nested deeper than ${MAX_DEPTH} at byte ${at}`);
  need(1);
  const t = rd[at++];
  switch (t) {
    case T_UNDEFINED:
      return undefined;
    case T_NULL:
      return null;
    case T_FALSE:
      return false;
    case T_TRUE:
      return true;
    case T_INT32: {
      need(4);
      const v = rd.readInt32LE(at);
      at += 4;
      return v;
    }
    case T_FLOAT64: {
      need(8);
      const v = rd.readDoubleLE(at);
      at += 8;
      return v;
    }
    case T_STRING:
      return readString();
    case T_ARRAY: {
      const n = readLength();
      // Every element takes at least one byte: a corrupt length cannot allocate beyond the input.
      need(n);
      const a = new Array<unknown>(n);
      for (let i = 0; i < n; i++) a[i] = readValue(depth + 1);
      return a;
    }
    case T_OBJECT: {
      const n = readLength();
      need(2 * n);
      const o: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) {
        const k = readString();
        const v = readValue(depth + 1);
        // Structured clone makes "__proto__" an own property; assignment would set the prototype.
        if (k === "__proto__") Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
        else o[k] = v;
      }
      return o;
    }
    case T_TYPED: {
      need(1);
      const ctor = TYPED[rd[at++]!];
      if (ctor === undefined) throw new ValueDecodeError(`unknown typed array kind ${rd[at - 1]} at byte ${at - 1}`);
      const n = readLength();
      need(n);
      const per = (ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
      if (n % per !== 0) throw new ValueDecodeError(`typed array of ${n} bytes is not a multiple of ${per} at byte ${at}`);
      // A copy: the input may be a view into a transport buffer that is reused.
      const copy = new ArrayBuffer(n);
      new Uint8Array(copy).set(rd.subarray(at, at + n));
      at += n;
      return new ctor(copy, 0, n / per);
    }
    default:
      throw new ValueDecodeError(`unknown tag ${t} at byte ${at - 1}`);
  }
}

/** The value `bytes` encode (either format). Throws ValueDecodeError (or v8's error) on corrupt bytes. */
export function decodeValue(bytes: Uint8Array): unknown {
  if (bytes.length === 0 || bytes[0] !== FAST) return deserialize(bytes);
  // A Buffer already (a payload sliced from a received frame): no second view object per message.
  rd = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  at = 1;
  end = bytes.byteLength;
  try {
    const v = readValue(0);
    if (at !== end) throw new ValueDecodeError(`${end - at} bytes after the value`);
    return v;
  } finally {
    // Not kept: the input may be a transport buffer.
    rd = NO_INPUT;
  }
}
