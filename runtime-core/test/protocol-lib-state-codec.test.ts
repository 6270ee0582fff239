import { serialize } from "node:v8";
import { describe, expect, it } from "vitest";
import { newOutLog, outPack, outPush, outUnpack, outAt } from "../src/protocol-lib/out-log.js";
import { decodeState, encodeState } from "../src/protocol-lib/state-codec.js";

/** A state shaped like a generated protocol's: scalars, vectors, a retransmission buffer, maps, outputs. */
function sampleState(bulk: number): Record<string, unknown> {
  const qs = [newOutLog(0), newOutLog(1), newOutLog(2)];
  const pb = new Uint32Array([1, 2, 3]);
  for (let i = 1; i <= bulk; i++) {
    const payload = new Uint8Array(100 + (i % 700));
    payload.fill(i & 0xff);
    outPush(qs[i % 3]!, i, pb, 1 + (i % 3), payload);
  }
  return {
    "core.ssn": new Uint32Array([0, 7, 9]),
    "core.rsn": 12,
    "core.outq": outPack(qs),
    "cp.hist": [{ key: 1, idx: 2, deps: [1, -1], dlv: new Uint32Array(3), sent: new Uint32Array([4, 5, 6]) }],
    "cp.out": [{ seq: 3, payload: Buffer.from("an output line\n") }],
    floats: new Float64Array([1.5, -0, Number.NaN, 1e300]),
    wide: new Float64Array(300).map((_, i) => i / 7),
    big: new BigInt64Array([1n, -2n]),
    odd: new Uint8Array(513).fill(5).subarray(1),
    nested: new Map<number, unknown>([[1, new Int16Array(400).fill(-3)], [2, { s: "x", n: null, u: undefined }]]),
  };
}

describe("checkpoint state codec (protocol-lib state-codec)", () => {
  it("round-trips a protocol state: values, typed array kinds, Buffers and the retransmission buffer", () => {
    const st = sampleState(400);
    const back = decodeState(encodeState(st)) as Record<string, unknown>;
    expect(back).toStrictEqual(st);
    expect((back["floats"] as Float64Array).constructor).toBe(Float64Array);
    expect(Object.is((back["floats"] as Float64Array)[1], -0)).toBe(true);
    expect(Buffer.isBuffer((back["cp.out"] as { payload: unknown }[])[0]!.payload)).toBe(true);
    expect(back["big"]).toBeInstanceOf(BigInt64Array);
    const qs = outUnpack(3, back["core.outq"] as ReturnType<typeof outPack>);
    const orig = outUnpack(3, st["core.outq"] as ReturnType<typeof outPack>);
    for (let d = 0; d < 3; d++) {
      expect(qs[d]!.length).toBe(orig[d]!.length);
      for (let i = 0; i < qs[d]!.length; i += 97) expect(outAt(qs[d]!, i)).toEqual(outAt(orig[d]!, i));
    }
  });

  it("writes each large array's bytes once, after a small skeleton (no second copy inside the serializer's output)", () => {
    const st = sampleState(3000);
    const plain = serialize(st).length;
    const enc = encodeState(st);
    // Same content, so about the same size: alignment padding and the per-array header words only.
    expect(Math.abs(enc.length - plain)).toBeLessThan(512);
    const skeleton = new DataView(enc.buffer, enc.byteOffset).getUint32(4, true);
    expect(skeleton).toBeLessThan(3000);
    expect(String.fromCharCode(enc[0]!, enc[1]!, enc[2]!)).toBe("EGS");
  });

  it("gives fresh arrays at every decode: a checkpoint kept in memory restores twice unchanged", () => {
    const enc = encodeState(sampleState(50));
    const a = decodeState(enc) as Record<string, Uint32Array | Float64Array>;
    a["core.ssn"]![0] = 99;
    a["wide"]![0] = 99;
    const b = decodeState(enc) as Record<string, Uint32Array | Float64Array>;
    expect(b["core.ssn"]![0]).toBe(0);
    expect(b["wide"]![0]).toBe(0);
  });

  it("decodes a state written by v8.serialize (checkpoints from before this format)", () => {
    const st = sampleState(100);
    expect(decodeState(new Uint8Array(serialize(st)))).toStrictEqual(st);
  });

  it("refuses a truncated state with a RangeError instead of reading past its end", () => {
    const enc = encodeState(sampleState(500));
    expect(() => decodeState(enc.subarray(0, enc.length - 600))).toThrow(RangeError);
    expect(() => decodeState(enc.subarray(0, 12))).toThrow(RangeError);
  });
});
