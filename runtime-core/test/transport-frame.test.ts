import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { encodeFrame, FrameDecoder, FrameError, WireKind, type WireFrame } from "../src/transport/index.js";
import { FrameQueue } from "../src/transport/frame-queue.js";

const frameArb = fc.record({
  kind: fc.constantFrom(WireKind.App, WireKind.Control),
  tag: fc.integer({ min: 0, max: 0xffff }),
  from: fc.integer({ min: 0, max: 0xffffffff }),
  fromIncarnation: fc.integer({ min: 0, max: 0xffffffff }),
  piggyback: fc.uint8Array({ maxLength: 40 }),
  // Some payloads above the queue's 16 KiB inline limit, generated cheaply (a random byte array that size is slow to shrink).
  payload: fc.oneof(
    { weight: 4, arbitrary: fc.uint8Array({ maxLength: 300 }) },
    { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 16_500, max: 20_000 }), fc.nat(255)).map(([n, s]) => new Uint8Array(n).map((_, i) => (i * 31 + s) & 0xff)) },
  ),
});

function decodeAll(dec: FrameDecoder, chunks: Buffer[]): WireFrame[] {
  const out: WireFrame[] = [];
  for (const c of chunks) dec.push(c, (f) => out.push(f));
  return out;
}

function norm(f: WireFrame) {
  return { ...f, piggyback: [...f.piggyback], payload: Buffer.from(f.payload).toString("hex") };
}

/** Split `buf` at the given (sorted, deduplicated) cut points. */
function split(buf: Buffer, cuts: number[]): Buffer[] {
  const pts = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of [...pts, buf.length]) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  return out;
}

describe("frame codec", () => {
  it("decodes any stream of frames however it is chunked", () => {
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 30 }), (frames, cuts) => {
        const stream = Buffer.concat(frames.map((f) => encodeFrame(f)));
        const got = decodeAll(new FrameDecoder(1 << 20), split(stream, cuts));
        expect(got.map(norm)).toEqual(frames.map(norm));
      }),
      { numRuns: 300 },
    );
  });

  it("the batching queue produces the same bytes as encoding one by one", () => {
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 12 }), (frames) => {
        const q = new FrameQueue();
        for (const f of frames) q.push(f);
        expect(Buffer.concat(q.drain()).equals(Buffer.concat(frames.map((f) => encodeFrame(f))))).toBe(true);
        expect(q.bytes).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it("a large frame with an empty payload carries the CRC of its header and piggyback (zlib.crc32 restarts on an empty ArrayBuffer)", () => {
    // The shape of a causal recovery reply: a piggyback past the 16 KiB inline limit and no payload.
    const f: WireFrame = { kind: WireKind.Control, tag: 21, from: 1, fromIncarnation: 0, piggyback: new Uint8Array(16_660).map((_, i) => i & 0xff), payload: new Uint8Array(0) };
    const q = new FrameQueue();
    q.push(f);
    const wire = Buffer.concat(q.drain());
    expect(wire.equals(encodeFrame(f))).toBe(true);
    expect(decodeAll(new FrameDecoder(1 << 20), [wire]).map(norm)).toEqual([norm(f)]);
  });

  it("rejects any single corrupted byte (magic, header, body or CRC) and emits the frames before it", () => {
    fc.assert(
      fc.property(frameArb, frameArb, fc.nat(), fc.integer({ min: 1, max: 255 }), (a, b, pos, flip) => {
        const first = encodeFrame(a);
        const second = Buffer.from(encodeFrame(b));
        const i = pos % second.length;
        second[i]! ^= flip;
        const got: WireFrame[] = [];
        let err: unknown;
        try {
          new FrameDecoder(1 << 20).push(Buffer.concat([first, second]), (f) => got.push(f));
        } catch (e) {
          err = e;
        }
        expect(got.map(norm)[0]).toEqual(norm(a));
        // A corrupted length field may just leave the decoder waiting for more bytes; anything else is an error.
        const inLength = i >= 16 && i < 24;
        if (!inLength) expect(err).toBeInstanceOf(FrameError);
        else if (err === undefined) expect(got).toHaveLength(1);
      }),
      { numRuns: 300 },
    );
  });

  it("enforces the maximum frame size from the header alone", () => {
    const big = encodeFrame({ kind: WireKind.App, tag: 0, from: 0, fromIncarnation: 0, piggyback: new Uint8Array(0), payload: new Uint8Array(5000) });
    const dec = new FrameDecoder(4096);
    expect(() => dec.push(big.subarray(0, 24), () => {})).toThrow(/exceeds the limit of 4096/);
    expect(() => dec.push(big.subarray(24), () => {})).toThrow(/after an error/);
  });

  it("copies small frames out of big chunks, and hands out large ones zero-copy", () => {
    const small = encodeFrame({ kind: WireKind.App, tag: 1, from: 0, fromIncarnation: 0, piggyback: new Uint8Array(0), payload: new Uint8Array(10) });
    const large = encodeFrame({ kind: WireKind.App, tag: 2, from: 0, fromIncarnation: 0, piggyback: new Uint8Array(0), payload: new Uint8Array(60_000) });
    const chunk = Buffer.concat([small, large]);
    const got: WireFrame[] = [];
    new FrameDecoder(1 << 20).push(chunk, (f) => got.push(f));
    expect(got[0]!.payload.buffer).not.toBe(chunk.buffer);
    expect(got[1]!.payload.buffer).toBe(chunk.buffer);
  });
});
