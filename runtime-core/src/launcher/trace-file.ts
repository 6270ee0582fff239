/** `--trace DIR`: one JSONL file per rank (rank-R.jsonl), appended across incarnations, for oracles. */
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { TraceEvent } from "../spi.js";

export interface TraceWriter {
  write(e: TraceEvent): void;
  close(): void;
}

export function traceFile(dir: string, rank: number): string {
  return join(dir, `rank-${rank}.jsonl`);
}

/** Writers for ranks 0..size-1 (the simulation), or just `only` (a rank process). */
export function openTraceWriter(dir: string, size: number, only?: number): TraceWriter {
  mkdirSync(dir, { recursive: true });
  const fds = new Map<number, number>();
  for (let r = 0; r < size; r++) if (only === undefined || only === r) fds.set(r, openSync(traceFile(dir, r), "a"));
  return {
    write(e) {
      const fd = fds.get(e.rank);
      // Synchronous so a SIGKILL loses at most the event being written.
      if (fd !== undefined) writeSync(fd, JSON.stringify(e) + "\n");
    },
    close() {
      for (const fd of fds.values()) closeSync(fd);
      fds.clear();
    },
  };
}
