/**
 * Non-determinism detection on the receive side.
 *
 * Under a protocol that never rolls back a process that did not fail
 * (pessimistic and causal logging), a recovering rank regenerates the
 * messages it sent before its crash, and every one its receivers already
 * delivered must come back equal: they were computed from logged deliveries
 * and logged reads. The receivers drop these as duplicates (ssn at or below
 * what they delivered); before dropping one, the protocol hands it to
 * `ProtocolHost.duplicate`, and the host compares it with the message it
 * delivered under that ssn. A difference means the application computed
 * something that recovery could not replay: `Math.random()`, `Date.now()`,
 * or I/O in a handler outside `ctx.read`.
 *
 * Cost when nothing fails: one number and one reference stored per delivery
 * into preallocated arrays (no allocation). The ring keeps the last `RING`
 * messages delivered from each peer, so a divergence is caught when it
 * touches one of a sender's last `RING` messages before its crash (the older
 * ones regenerated from an older checkpoint are dropped unchecked). The
 * comparison runs only on a duplicate, that is, during someone's recovery:
 * equal bytes pass at once; otherwise both are compared as values (v8 writes
 * an equal number as an int32 or a double depending on how V8 held it, so a
 * recovered rank may send an equal message in other bytes, see canonical.ts).
 */
import { decodeValue } from "./value-codec.js";
import { canonicalText } from "./canonical.js";

/** Messages remembered per sender (a power of two: the slot is `ssn & (RING - 1)`). */
export const RING = 16;

/** How two renderings of one message differ, for the report. */
export interface Divergence {
  /** Where the values first differ: `data`, `data.x`, `data[3]`. */
  readonly path: string;
  readonly before: string;
  readonly after: string;
  /** The likely cause, from the values at `path`. */
  readonly cause: string;
}

export class DeliveredRing {
  private readonly ssns: Uint32Array;
  private readonly payloads: (Uint8Array | undefined)[];

  constructor(size: number) {
    this.ssns = new Uint32Array(size * RING);
    this.payloads = new Array<Uint8Array | undefined>(size * RING).fill(undefined);
  }

  /** A message from `from` with channel sequence number `ssn` was delivered. */
  note(from: number, ssn: number, payload: Uint8Array): void {
    const i = from * RING + (ssn & (RING - 1));
    this.ssns[i] = ssn;
    this.payloads[i] = payload;
  }

  /**
   * A duplicate of `(from, ssn)` arrived: undefined when it equals the
   * delivered message (or that message is no longer remembered), otherwise
   * how they differ.
   */
  compare(from: number, ssn: number, payload: Uint8Array): Divergence | undefined {
    const i = from * RING + (ssn & (RING - 1));
    const had = this.payloads[i];
    if (had === undefined || this.ssns[i] !== ssn) return undefined;
    if (Buffer.compare(had, payload) === 0) return undefined;
    let before: unknown;
    let after: unknown;
    try {
      before = decodeValue(had);
      after = decodeValue(payload);
    } catch {
      return undefined; // not an application payload the host can read: nothing to judge
    }
    return diverge(before, after, "data");
  }
}

/** The first place two deserialized values differ, or undefined when they are equal as values. */
export function diverge(a: unknown, b: unknown, path: string): Divergence | undefined {
  if (canonicalText(a) === canonicalText(b)) return undefined;
  if (isPlainRecord(a) && isPlainRecord(b)) {
    const keys = Object.keys(a);
    if (keys.length === Object.keys(b).length && keys.every((k, j) => Object.keys(b)[j] === k)) {
      for (const k of keys) {
        const d = diverge(a[k], b[k], `${path}.${k}`);
        if (d) return d;
      }
    }
  } else if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    for (let j = 0; j < a.length; j++) {
      const d = diverge(a[j], b[j], `${path}[${j}]`);
      if (d) return d;
    }
  }
  return { path, before: short(canonicalText(a)), after: short(canonicalText(b)), cause: likelyCause(a, b) };
}

/** Epoch milliseconds between 2001 and 2286: a `Date.now()` reading. */
function isEpochMs(v: unknown): boolean {
  return typeof v === "number" && Number.isInteger(v) && v > 1e12 && v < 1e13;
}

function isFraction(v: unknown): boolean {
  return typeof v === "number" && Number.isFinite(v) && !Number.isInteger(v);
}

/** Guess the input the handler read outside ctx.read from the two values that differ. */
export function likelyCause(a: unknown, b: unknown): string {
  if (a instanceof Date || b instanceof Date || isEpochMs(a) || isEpochMs(b)) return "Date.now() (or new Date()) outside ctx.read";
  if (isFraction(a) || isFraction(b)) return "Math.random() outside ctx.read";
  return "Math.random(), Date.now() or I/O (a file, the network, the environment) outside ctx.read";
}

function isPlainRecord(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function short(s: string): string {
  return s.length <= 60 ? s : `${s.slice(0, 57)}...`;
}
