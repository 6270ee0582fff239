/**
 * The environment's end of output commit: an idempotent sink keyed by
 * (rank, seq).
 *
 * A recovering rank may release an output again (replay re-runs the write, and
 * the protocol cannot always know the first release got out). An exact
 * duplicate is dropped, as in Flink's exactly-once sinks. The same seq with
 * different bytes is a retraction, which output commit exists to prevent: it
 * is reported, never silently accepted.
 *
 * Only a SHA-256 of each released output is kept, so memory grows by ~40
 * bytes per output instead of by the output's size.
 *
 * "Different" means a different value, not different bytes: v8 serializes the
 * same number as an int32 or as a double depending on the writing process's
 * hidden classes (an object shape that once held a large number keeps double
 * fields), so a recovering process, with a fresh heap, can write the same
 * output in other bytes. The digest is over the value's canonical JSON form
 * (the one `--output` prints).
 */
import { decodeValue } from "./value-codec.js";
import { createHash } from "node:crypto";
import { RetractionError } from "./errors.js";
import { toJsonValue } from "./output-encoding.js";

/** Where a RankHost sends committed outputs. */
export interface OutputSink {
  /** Resolves when the output has been handed to the environment. Rejects with RetractionError on a retraction. */
  emit(rank: number, seq: number, payload: Uint8Array): Promise<void>;
}

export type SinkVerdict = "new" | "duplicate";

export interface ReleasedOutput {
  readonly rank: number;
  readonly seq: number;
  readonly payload: Uint8Array;
}

export class IdempotentSink {
  private readonly seen = new Map<number, Map<number, string>>();
  private dups = 0;
  private released = 0;

  /**
   * Judge one release. Returns "new" (pass it on), "duplicate" (drop it);
   * throws RetractionError when `seq` was released before with other data.
   */
  accept(rank: number, seq: number, payload: Uint8Array): SinkVerdict {
    let perRank = this.seen.get(rank);
    if (!perRank) this.seen.set(rank, (perRank = new Map()));
    const digest = IdempotentSink.digest(payload);
    const prev = perRank.get(seq);
    if (prev === undefined) {
      perRank.set(seq, digest);
      this.released++;
      return "new";
    }
    if (prev === digest) {
      this.dups++;
      return "duplicate";
    }
    throw new RetractionError(rank, seq);
  }

  /** Seed the sink with outputs released by an earlier process (single-rank mode reloads its output file). */
  remember(rank: number, seq: number, digest: string): void {
    let perRank = this.seen.get(rank);
    if (!perRank) this.seen.set(rank, (perRank = new Map()));
    perRank.set(seq, digest);
  }

  static digest(payload: Uint8Array): string {
    let canonical: string;
    try {
      canonical = `v:${JSON.stringify(toJsonValue(decodeValue(payload)))}`;
    } catch {
      canonical = `b:${Buffer.from(payload).toString("base64")}`; // not a v8 value: compare the bytes
    }
    return createHash("sha256").update(canonical).digest("base64");
  }

  get stats(): { readonly released: number; readonly duplicatesDropped: number } {
    return { released: this.released, duplicatesDropped: this.dups };
  }
}

/**
 * An in-process OutputSink (simulation, tests): judges each release with an
 * IdempotentSink and hands new ones to `onOutput`.
 */
export class MemoryOutputSink implements OutputSink {
  readonly judge = new IdempotentSink();
  readonly outputs: ReleasedOutput[] = [];

  constructor(private readonly onOutput?: (o: ReleasedOutput) => void) {}

  emit(rank: number, seq: number, payload: Uint8Array): Promise<void> {
    try {
      if (this.judge.accept(rank, seq, payload) === "new") {
        const o = { rank, seq, payload: new Uint8Array(payload) };
        this.outputs.push(o);
        this.onOutput?.(o);
      }
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }
}
