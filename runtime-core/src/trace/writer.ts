/**
 * Writing a run trace. Every event is one synchronous write of one line, so
 * a SIGKILLed rank loses at most the line being written (a torn last line,
 * which the merge skips). In real mode each rank process appends to its own
 * part file next to the trace; the launcher merges the parts into FILE at
 * the end of the job, ordered by wall clock.
 */
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { wallMs, type TraceBody, type TraceEmit, type TraceHeader, type TraceRecord } from "./records.js";

/** Appends JSON lines to one file. */
export class JsonlFile {
  private fd: number | null;
  constructor(readonly path: string, mode: "w" | "a") {
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, mode);
  }
  line(value: unknown): void {
    if (this.fd !== null) writeSync(this.fd, JSON.stringify(value) + "\n");
  }
  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/** A rank's emitter: stamps the wall clock (and virtual time), rank and incarnation. */
export function rankEmitter(out: JsonlFile, rank: number, inc: number, virtualNow?: () => number): TraceEmit {
  if (virtualNow) return (b: TraceBody) => out.line({ ts: wallMs(), vt: virtualNow(), rank, inc, ...b });
  return (b: TraceBody) => out.line({ ts: wallMs(), rank, inc, ...b });
}

/** The directory of per-process parts of trace FILE (real mode). */
export function partsDir(file: string): string {
  return `${file}.parts`;
}

export function rankPartFile(file: string, rank: number): string {
  return join(partsDir(file), `rank-${rank}.jsonl`);
}

/** Start a real-mode trace: a fresh parts directory, with the header and the launcher's own events in launcher.jsonl. */
export function openLauncherPart(file: string, header: TraceHeader): JsonlFile {
  rmSync(partsDir(file), { recursive: true, force: true });
  const out = new JsonlFile(join(partsDir(file), "launcher.jsonl"), "w");
  out.line(header);
  return out;
}

/**
 * Merge the parts into FILE: the header, then every event ordered by wall
 * clock (stable: a process's own order is kept on ties). A torn last line of
 * a killed rank is dropped. The parts directory is removed.
 */
export function mergeParts(file: string): void {
  const dir = partsDir(file);
  const names = readdirSync(dir).sort();
  let header: unknown = null;
  const events: TraceRecord[] = [];
  for (const name of names) {
    const lines = readFileSync(join(dir, name), "utf8").split("\n");
    for (const line of lines) {
      if (line === "") continue;
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch {
        continue; // the line a SIGKILL cut short
      }
      if (name === "launcher.jsonl" && header === null) header = v;
      else events.push(v as TraceRecord);
    }
  }
  events.sort((a, b) => a.ts - b.ts);
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, [header, ...events].map((x) => JSON.stringify(x)).join("\n") + "\n");
  renameSync(tmp, file);
  rmSync(dir, { recursive: true, force: true });
}
