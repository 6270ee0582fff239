/**
 * The self-contained HTML page: the trace, the model, the stylesheet and the
 * viewer script (runtime-core/assets) inlined. No network, no server.
 */
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import type { RunTrace } from "../trace/read.js";
import { buildModel } from "./model.js";

const ASSETS = new URL("../../assets/", import.meta.url);

function asset(name: string): string {
  return readFileSync(fileURLToPath(new URL(name, ASSETS)), "utf8");
}

/** JSON inside a <script> element: nothing in it may close the element or start a comment. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => (c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : "&quot;"));
}

export function renderHtml(t: RunTrace, title?: string): string {
  const m = buildModel(t);
  const h = t.header;
  const kills = h.kills && h.kills.length > 0 ? `, --kill ${h.kills.join(" --kill ")}` : "";
  const meta = `${h.protocol}, ${h.size} ranks, ${h.mode === "sim" ? `simulated (seed ${h.seed ?? "?"})` : h.mode === "tcp" ? "processes over TCP" : "one rank"}${kills}`;
  const name = title ?? `egida run: ${basename(h.app)}`;
  const counts = new Map<string, number>();
  for (const r of t.records) counts.set(r.ev, (counts.get(r.ev) ?? 0) + 1);
  const foot = `${t.records.length} events · ${counts.get("send") ?? 0} sends · ${counts.get("deliver") ?? 0} deliveries · ${counts.get("kill") ?? 0} kills · ${counts.get("rollback") ?? 0} rollbacks · ${new Date(h.startedAt).toISOString()}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(name)}</title>
<style>${asset("viewer.css")}</style>
</head>
<body>
<header>
<h1>${escapeHtml(name)}</h1><span class="meta">${escapeHtml(meta)}</span>
<button id="fit" type="button" title="fit the whole run (double-click, or 0)">fit</button>
<button id="clock" type="button" hidden>time: wall clock</button>
<div class="legend" id="legend"></div>
</header>
<main>
<div id="stage"><canvas id="canvas"></canvas><div id="tip"></div></div>
<aside><div id="details"><h2>Details</h2><p class="hint">Hover over an event or a message; click to pin it here. Wheel zooms, drag pans, double-click fits.</p></div></aside>
</main>
<footer>${escapeHtml(foot)}</footer>
<script type="application/json" id="trace-data">${scriptJson({ header: h, records: t.records, messages: m.messages, spans: m.spans })}</script>
<script>${asset("viewer.js")}</script>
</body>
</html>
`;
}
