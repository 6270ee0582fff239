/**
 * A ShiViz log (https://bestchai.bitbucket.io/shiviz/): its first line is the
 * parsing regular expression, then an empty line (no multi-execution
 * delimiter), then two lines per event: a description, and the host with its
 * vector clock. Clocks come from the send/deliver pairs: a send ticks its
 * rank, a delivery ticks and merges the send's clock. A rank keeps one host
 * (and one clock) across its incarnations. Events are taken in an order that
 * puts every send before its deliveries, even where two processes' wall
 * clocks disagree by a few microseconds.
 */
import type { TraceRecord } from "../trace/records.js";
import type { RunTrace } from "../trace/read.js";

export const SHIVIZ_REGEX = String.raw`(?<event>.*)\n(?<host>\S*) (?<clock>{.*})`;

/** Frequent bookkeeping left out of the log (ShiViz draws every event). */
const SKIP = new Set(["log-flush", "read", "output-write", "live", "end"]);

function describe(r: TraceRecord): string {
  const { ts: _ts, vt: _vt, rank: _rank, inc, ev, ...rest } = r;
  void _ts;
  void _vt;
  void _rank;
  const extra = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");
  return `${ev} inc=${inc}${extra ? " " + extra : ""}`.replace(/\n/g, " ");
}

export function toShiViz(t: RunTrace): string {
  const size = t.header.size;
  const host = (k: number): string => `rank${k}`;
  const queues: number[][] = Array.from({ length: size }, () => []);
  const sendOf = new Map<string, number>();
  t.records.forEach((r, i) => {
    if (r.rank < 0 || SKIP.has(r.ev)) return;
    queues[r.rank]!.push(i);
    if (r.ev === "send") sendOf.set(r.id, i);
  });
  const clocks: number[][] = Array.from({ length: size }, () => new Array<number>(size).fill(0));
  const sentClock = new Map<number, number[]>();
  const heads = new Array<number>(size).fill(0);
  const out: string[] = [SHIVIZ_REGEX, ""];
  for (;;) {
    // The earliest head event whose send (if it is a delivery) is already placed.
    let pick = -1;
    let fallback = -1;
    for (let k = 0; k < size; k++) {
      const i = queues[k]![heads[k]!];
      if (i === undefined) continue;
      const r = t.records[i]!;
      if (fallback < 0 || r.ts < t.records[queues[fallback]![heads[fallback]!]!]!.ts) fallback = k;
      const s = r.ev === "deliver" && r.id !== null ? sendOf.get(r.id) : undefined;
      if (s !== undefined && !sentClock.has(s)) continue;
      if (pick < 0 || r.ts < t.records[queues[pick]![heads[pick]!]!]!.ts) pick = k;
    }
    if (fallback < 0) break;
    const k = pick >= 0 ? pick : fallback;
    const i = queues[k]![heads[k]!++]!;
    const r = t.records[i]!;
    const c = clocks[k]!;
    c[k]!++;
    if (r.ev === "deliver" && r.id !== null) {
      const sc = sentClock.get(sendOf.get(r.id) ?? -1);
      if (sc) for (let j = 0; j < size; j++) c[j] = Math.max(c[j]!, sc[j]!);
    }
    if (r.ev === "send") sentClock.set(i, c.slice());
    const vc: Record<string, number> = {};
    for (let j = 0; j < size; j++) if (c[j]! > 0) vc[host(j)] = c[j]!;
    out.push(describe(r), `${host(k)} ${JSON.stringify(vc)}`);
  }
  return out.join("\n") + "\n";
}
