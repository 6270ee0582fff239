/**
 * Reading a run trace back (egida-view). Checks the shape the viewer relies
 * on, line by line, and names the file and line of the first problem.
 */
import { readFileSync } from "node:fs";
import { TRACE_SCHEMA, TRACE_VERSION, type TraceHeader, type TraceRecord } from "./records.js";

export class TraceReadError extends Error {
  override readonly name = "TraceReadError";
}

export interface RunTrace {
  readonly header: TraceHeader;
  readonly records: readonly TraceRecord[];
}

export function readTrace(file: string): RunTrace {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new TraceReadError(`${file}: cannot read the trace (${code ?? String(e)})`);
  }
  return parseTrace(text, file);
}

export function parseTrace(text: string, file = "trace"): RunTrace {
  const lines = text.split("\n");
  let header: TraceHeader | null = null;
  const records: TraceRecord[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "") continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      // A torn last line (a launcher killed while writing) is tolerated; elsewhere it is damage.
      if (i >= lines.length - 2) continue;
      throw new TraceReadError(`${file}:${i + 1}: not a JSON line (is this an egida-run --trace file?)`);
    }
    if (header === null) {
      header = checkHeader(v, `${file}:${i + 1}`);
      continue;
    }
    records.push(checkRecord(v, header, `${file}:${i + 1}`));
  }
  if (header === null) throw new TraceReadError(`${file}: empty (no header line; write one with egida-run --trace FILE)`);
  return { header, records };
}

/**
 * Several traces of one job (single-rank mode writes one file per rank) as
 * one: the first header without its `rank`, every record ordered by wall clock.
 */
export function mergeTraces(traces: readonly { readonly file: string; readonly trace: RunTrace }[]): RunTrace {
  const first = traces[0]!;
  for (const t of traces.slice(1)) {
    if (t.trace.header.size !== first.trace.header.size) {
      throw new TraceReadError(`${t.file}: a job of ${t.trace.header.size} ranks, ${first.file} one of ${first.trace.header.size}: not the same job`);
    }
  }
  const { rank: _rank, ...header } = first.trace.header;
  void _rank;
  const startedAt = Math.min(...traces.map((t) => t.trace.header.startedAt));
  const records = traces.flatMap((t) => t.trace.records).sort((a, b) => a.ts - b.ts);
  return { header: { ...header, startedAt }, records };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function checkHeader(v: unknown, where: string): TraceHeader {
  if (!isObject(v) || v["schema"] !== TRACE_SCHEMA) {
    throw new TraceReadError(`${where}: the first line is not an egida trace header (expected "schema": "${TRACE_SCHEMA}"; write one with egida-run --trace FILE)`);
  }
  if (v["version"] !== TRACE_VERSION) {
    throw new TraceReadError(`${where}: trace schema version ${String(v["version"])}, this egida-view reads version ${TRACE_VERSION}`);
  }
  if (!Number.isInteger(v["size"]) || (v["size"] as number) < 1) throw new TraceReadError(`${where}: header "size" must be a positive integer`);
  return v as unknown as TraceHeader;
}

function checkRecord(v: unknown, h: TraceHeader, where: string): TraceRecord {
  if (!isObject(v) || typeof v["ev"] !== "string" || typeof v["ts"] !== "number" || !Number.isInteger(v["rank"]) || !Number.isInteger(v["inc"])) {
    throw new TraceReadError(`${where}: not a trace record (needs "ev", "ts", "rank", "inc")`);
  }
  const rank = v["rank"] as number;
  if (rank < -1 || rank >= h.size) throw new TraceReadError(`${where}: rank ${rank} is outside the job's ${h.size} ranks`);
  return v as unknown as TraceRecord;
}
