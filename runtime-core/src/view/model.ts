/**
 * What the viewer and the exports draw from a run trace: messages (a send and
 * its deliveries, paired by message id) and spans (incarnations, the time a
 * rank was down, recoveries, rolled-back intervals). Records are referred to
 * by their index in the trace, so a time base (wall or virtual) is chosen late.
 */
import type { TraceRecord } from "../trace/records.js";
import type { RunTrace } from "../trace/read.js";

/** A message: the send's record index (-1 if the send is not in the trace) and the delivery's (-1 if never delivered). */
export type Message = readonly [send: number, deliver: number];

export type SpanKind = "incarnation" | "down" | "recovery" | "rolled-back";

/** [kind, rank, from record index (-1: the job's start), to record index (-1: the job's end), incarnation]. */
export type Span = readonly [kind: SpanKind, rank: number, from: number, to: number, inc: number];

export interface ViewModel {
  readonly messages: readonly Message[];
  readonly spans: readonly Span[];
}

export function buildModel(t: RunTrace): ViewModel {
  const recs = t.records;
  const sends = new Map<string, number>();
  const delivered = new Set<number>();
  const messages: Message[] = [];
  const spans: Span[] = [];
  const size = t.header.size;
  /** Per rank: the current incarnation, the index it began at, its last committed checkpoint, its kill. */
  const inc = new Array<number>(size).fill(0);
  const incFrom = new Array<number>(size).fill(-1);
  const lastCommit = new Array<number>(size).fill(-1);
  const killedAt = new Array<number>(size).fill(-1);
  const recoveryFrom = new Array<number>(size).fill(-1);
  recs.forEach((r: TraceRecord, i) => {
    if (r.rank < 0) return;
    const k = r.rank;
    // A record of a new incarnation closes the previous one (its kill, or its last record).
    if (r.inc > inc[k]!) {
      const end = killedAt[k]! >= 0 ? killedAt[k]! : i;
      spans.push(["incarnation", k, incFrom[k]!, end, inc[k]!]);
      spans.push(["down", k, end, i, r.inc]);
      inc[k] = r.inc;
      incFrom[k] = i;
      killedAt[k] = -1;
    }
    switch (r.ev) {
      case "send":
        sends.set(r.id, i);
        break;
      case "deliver": {
        const s = r.id === null ? undefined : sends.get(r.id);
        messages.push([s ?? -1, i]);
        if (s !== undefined) delivered.add(s);
        break;
      }
      case "kill":
        if (r.inc === inc[k]) killedAt[k] = i;
        break;
      case "checkpoint-commit":
        lastCommit[k] = i;
        break;
      case "recovery":
        if (r.phase === "begin") recoveryFrom[k] = i;
        if (r.phase === "end" && recoveryFrom[k]! >= 0) {
          spans.push(["recovery", k, recoveryFrom[k]!, i, r.inc]);
          recoveryFrom[k] = -1;
        }
        break;
      case "rollback": {
        // Undone since the state it went back to: at best the last committed checkpoint, else the incarnation's start.
        const from = Math.max(lastCommit[k]!, incFrom[k]!);
        spans.push(["rolled-back", k, from, i, r.inc]);
        break;
      }
      default:
        break;
    }
  });
  for (let k = 0; k < size; k++) {
    spans.push(["incarnation", k, incFrom[k]!, killedAt[k]! >= 0 ? killedAt[k]! : -1, inc[k]!]);
    if (recoveryFrom[k]! >= 0) spans.push(["recovery", k, recoveryFrom[k]!, -1, inc[k]!]);
  }
  // Sends never delivered (lost with a crash, suppressed during a replay, or still in flight at the end).
  for (const i of sends.values()) if (!delivered.has(i)) messages.push([i, -1]);
  return { messages, spans };
}
