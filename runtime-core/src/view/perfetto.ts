/**
 * Chrome Trace Event JSON (loads in Perfetto and chrome://tracing): a process
 * per rank, a thread per incarnation; incarnations, down time, recoveries and
 * rolled-back intervals as complete events, everything else as instants, and
 * each message as a flow from its send to its delivery.
 */
import type { TraceRecord } from "../trace/records.js";
import type { RunTrace } from "../trace/read.js";
import { buildModel } from "./model.js";

interface ChromeEvent {
  readonly name: string;
  readonly ph: string;
  readonly pid: number;
  readonly tid: number;
  readonly ts?: number;
  readonly dur?: number;
  readonly s?: string;
  readonly id?: number;
  readonly bp?: string;
  readonly cat?: string;
  readonly args?: Record<string, unknown>;
}

/** Microseconds since the run began (the Trace Event format's unit). */
function us(t: RunTrace, r: TraceRecord | undefined, fallback: number): number {
  return r === undefined ? fallback : Math.round((r.ts - t.header.startedAt) * 1000);
}

function label(r: TraceRecord): string {
  switch (r.ev) {
    case "send":
      return `send ${r.id} → ${r.to}`;
    case "deliver":
      return `${r.replay ? "replay" : "deliver"} ${r.id ?? "?"} ← ${r.from}`;
    case "output-release":
      return `output ${r.seq} released`;
    case "checkpoint-begin":
    case "checkpoint-commit":
      return `${r.ev} ${r.index}`;
    case "recovery":
      return `recovery ${r.phase}${r.text !== undefined ? `: ${r.text}` : ""}`;
    default:
      return r.ev;
  }
}

export function toChromeTrace(t: RunTrace): { traceEvents: ChromeEvent[]; displayTimeUnit: string; metadata: Record<string, unknown> } {
  const recs = t.records;
  const end = recs.length > 0 ? us(t, recs[recs.length - 1], 0) : 0;
  const ev: ChromeEvent[] = [];
  for (let k = 0; k < t.header.size; k++) ev.push({ name: "process_name", ph: "M", pid: k, tid: 0, args: { name: `rank ${k}` } });
  const incs = new Set<string>();
  for (const r of recs) {
    if (r.rank < 0) continue;
    const key = `${r.rank}/${r.inc}`;
    if (!incs.has(key)) {
      incs.add(key);
      ev.push({ name: "thread_name", ph: "M", pid: r.rank, tid: r.inc, args: { name: `incarnation ${r.inc}` } });
    }
  }
  const m = buildModel(t);
  for (const [kind, rank, a, b, inc] of m.spans) {
    const from = a < 0 ? 0 : us(t, recs[a], 0);
    const to = b < 0 ? end : us(t, recs[b], end);
    ev.push({ name: kind, cat: "span", ph: "X", pid: rank, tid: kind === "down" ? inc - 1 : inc, ts: from, dur: Math.max(0, to - from) });
  }
  recs.forEach((r, i) => {
    const { ts: _ts, rank, inc, ...args } = r;
    void _ts;
    ev.push({ name: label(r), cat: r.ev, ph: "i", s: "t", pid: Math.max(0, rank), tid: inc, ts: us(t, r, 0), args: { ...args, index: i } });
  });
  let flow = 0;
  for (const [s, d] of m.messages) {
    if (s < 0 || d < 0) continue;
    const rs = recs[s]!;
    const rd = recs[d]!;
    flow++;
    ev.push({ name: "message", cat: "message", ph: "s", id: flow, pid: rs.rank, tid: rs.inc, ts: us(t, rs, 0) });
    ev.push({ name: "message", cat: "message", ph: "f", bp: "e", id: flow, pid: rd.rank, tid: rd.inc, ts: us(t, rd, 0) });
  }
  return { traceEvents: ev, displayTimeUnit: "ms", metadata: { ...t.header } };
}
