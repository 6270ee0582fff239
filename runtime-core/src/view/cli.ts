/**
 * egida-view TRACE... [--out FILE] [--format html|perfetto|shiviz]: turn a
 * run trace (egida-run --trace FILE) into a space-time diagram (one HTML
 * file), a Chrome Trace Event file for Perfetto, or a ShiViz log.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { describeEnvFault, environmentFault } from "../host/env-fault.js";
import { mergeTraces, readTrace, TraceReadError, type RunTrace } from "../trace/read.js";
import { renderHtml } from "./html.js";
import { toChromeTrace } from "./perfetto.js";
import { toShiViz } from "./shiviz.js";

const FORMATS = ["html", "perfetto", "shiviz"] as const;
type Format = (typeof FORMATS)[number];

const HELP = `usage: egida-view TRACE... [--out FILE] [--format html|perfetto|shiviz] [--title TEXT]

Draws a run trace written by egida-run --trace TRACE. Several TRACE files of
one job (single-rank mode writes one per rank) are drawn as one run.

  --out FILE      where to write (default: TRACE with .html, .perfetto.json or .shiviz.log)
  --format F      html (default): one self-contained page, a lane per rank, messages as
                  arrows, crashes, restarts, checkpoints, recoveries, rollbacks and outputs
                  marked; zoom with the wheel, pan by dragging, click for details.
                  perfetto: Chrome Trace Event JSON (ui.perfetto.dev, chrome://tracing).
                  shiviz: a ShiViz log with vector clocks (its first line is the regex).
  --title TEXT    the HTML page's title
  -h, --help      this help
  --version       the version
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

function defaultOut(trace: string, f: Format): string {
  const base = trace.replace(/\.jsonl?$/, "");
  return f === "html" ? `${base}.html` : f === "perfetto" ? `${base}.perfetto.json` : `${base}.shiviz.log`;
}

export function render(t: RunTrace, f: Format, title?: string): string {
  if (f === "html") return renderHtml(t, title);
  if (f === "perfetto") return JSON.stringify(toChromeTrace(t));
  return toShiViz(t);
}

export function main(argv: readonly string[]): number {
  const err = (s: string): void => void process.stderr.write(`egida-view: ${s}\n`);
  let v;
  try {
    v = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        out: { type: "string", short: "o" },
        format: { type: "string", short: "f", default: "html" },
        title: { type: "string" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "V" },
      },
    });
  } catch (e) {
    err(`${e instanceof Error ? e.message : String(e)}\nRun egida-view --help for usage.`);
    return 2;
  }
  if (v.values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (v.values.version) {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const format = v.values.format as Format;
  if (!FORMATS.includes(format)) {
    err(`--format ${String(v.values.format)}: expected one of ${FORMATS.join(", ")}`);
    return 2;
  }
  if (v.positionals.length === 0) {
    err("missing the TRACE file (write one with egida-run --trace FILE)\nRun egida-view --help for usage.");
    return 2;
  }
  const file = v.positionals[0]!;
  let trace: RunTrace;
  try {
    const all = v.positionals.map((f) => ({ file: f, trace: readTrace(f) }));
    trace = all.length === 1 ? all[0]!.trace : mergeTraces(all);
  } catch (e) {
    if (e instanceof TraceReadError) {
      err(e.message);
      return 2;
    }
    throw e;
  }
  const out = v.values.out ?? defaultOut(file, format);
  try {
    writeFileSync(out, render(trace, format, v.values.title));
  } catch (e) {
    const env = environmentFault(e, "output file");
    if (env === undefined) throw e;
    err(describeEnvFault(env, -1));
    return 7;
  }
  process.stdout.write(`${out}\n`);
  return 0;
}
