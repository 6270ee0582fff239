/**
 * What the launcher shows: committed outputs (stdout, and JSON lines in
 * --output FILE), its own events (stderr, prefixed "egida-run:"), the summary.
 */
import { decodeValue } from "../host/value-codec.js";
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname, resolve } from "node:path";
import pc from "picocolors";
import { EnvironmentError, environmentFault } from "../host/env-fault.js";
import { toJsonValue, type JsonValue } from "../host/output-encoding.js";
import type { ProtocolStats } from "../spi.js";

const RANK_COLOURS = [pc.cyan, pc.magenta, pc.yellow, pc.green, pc.blue, pc.red] as const;

export interface ReportOptions {
  readonly output?: string;
  readonly quiet: boolean;
  /** Append to --output instead of truncating it (single-rank mode: a restarted rank continues its file). */
  readonly append?: boolean;
  /** Colour rank prefixes (default: when stdout is a TTY and colour is not disabled). */
  readonly colour?: boolean;
}

/** Decode a committed output (encoded by ctx.write, host/value-codec.ts) to its JSON form. */
export function decodeOutput(payload: Uint8Array): JsonValue {
  try {
    return toJsonValue(decodeValue(payload));
  } catch {
    return { $undecodable: Buffer.from(payload).toString("base64") };
  }
}

/** A full or forbidden --output file is the user's to fix: an EnvironmentError naming it; anything else unchanged. */
function outputFault(e: unknown, op: string, file: string): unknown {
  const env = environmentFault(e, "output file");
  return env ? new EnvironmentError({ area: "output file", op, file: resolve(file), code: env.code }, e) : e;
}

export class Reporter {
  private fd: number | null = null;
  private readonly colour: boolean;

  constructor(private readonly o: ReportOptions) {
    this.colour = o.colour ?? (process.stdout.isTTY === true && pc.isColorSupported);
    if (o.output) {
      try {
        mkdirSync(dirname(o.output), { recursive: true });
        this.fd = openSync(o.output, o.append ? "a" : "w");
      } catch (e) {
        throw outputFault(e, "open output file", o.output);
      }
    }
  }

  /** One committed output, released by the idempotent sink (so never a duplicate). */
  output(rank: number, payload: Uint8Array, extra?: { readonly seq: number }): void {
    this.outputJson(rank, decodeOutput(payload), extra);
  }

  outputJson(rank: number, data: JsonValue, extra?: { readonly seq: number }): void {
    const line = JSON.stringify(extra ? { rank, seq: extra.seq, data } : { rank, data });
    // Synchronous writes keep each rank's lines in release order and are on disk before we exit.
    if (this.fd !== null) {
      try {
        writeSync(this.fd, line + "\n");
      } catch (e) {
        throw outputFault(e, "append to", this.o.output!);
      }
    }
    if (!this.o.quiet) {
      const prefix = `[rank ${rank}]`;
      const col = RANK_COLOURS[rank % RANK_COLOURS.length]!;
      process.stdout.write(`${this.colour ? col(prefix) : prefix} ${JSON.stringify(data)}\n`);
    }
  }

  event(message: string): void {
    process.stderr.write(`egida-run: ${message}\n`);
  }

  error(message: string): void {
    process.stderr.write(`egida-run: ${this.colour ? pc.red("error:") : "error:"} ${message}\n`);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

export interface RankSummary {
  readonly rank: number;
  readonly deliveries: number;
  readonly restarts: number;
  readonly outputs: number;
  readonly stats: ProtocolStats | null;
  /** Log sync rounds that reached the medium (fdatasyncs on disk) in the rank's last incarnation. */
  readonly logSyncs?: number;
}

export function formatSummary(protocol: string, ranks: readonly RankSummary[], elapsedMs: number, unit = "ms"): string {
  const sum = (f: (s: ProtocolStats) => number): number => ranks.reduce((a, r) => a + (r.stats ? f(r.stats) : 0), 0);
  const lines = [
    `job summary (protocol ${protocol}, ${ranks.length} ranks, ${Math.round(elapsedMs)} ${unit}):`,
    `  messages ${sum((s) => s.messages)}, deliveries ${ranks.reduce((a, r) => a + r.deliveries, 0)}, ` +
      `outputs ${ranks.reduce((a, r) => a + r.outputs, 0)}, restarts ${ranks.reduce((a, r) => a + r.restarts, 0)}`,
    `  piggyback bytes ${sum((s) => s.piggybackBytes)}, bytes logged ${sum((s) => s.bytesLogged)}, ` +
      `checkpoints ${sum((s) => s.checkpoints)}, rollbacks ${sum((s) => s.rollbacks)}`,
  ];
  if (ranks.some((r) => r.logSyncs !== undefined)) {
    const syncs = ranks.reduce((a, r) => a + (r.logSyncs ?? 0), 0);
    const deliveries = ranks.reduce((a, r) => a + r.deliveries, 0);
    // Counted per incarnation: a killed incarnation's syncs are not reported (its deliveries are).
    lines.push(`  log syncs ${syncs} (last incarnations), ${deliveries > 0 ? (syncs / deliveries).toFixed(3) : "0"} per delivery`);
  }
  for (const r of ranks) {
    const s = r.stats;
    lines.push(
      `  rank ${r.rank}: deliveries ${r.deliveries}, outputs ${r.outputs}, restarts ${r.restarts}` +
        (s ? `, messages ${s.messages}, logged ${s.bytesLogged} B, checkpoints ${s.checkpoints}, rollbacks ${s.rollbacks}` : ", stats n/a") +
        (r.logSyncs !== undefined ? `, log syncs ${r.logSyncs}` : ""),
    );
  }
  return lines.join("\n");
}
