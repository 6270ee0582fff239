/** The default `explain` format: readable in a terminal, one numbered step per line. */
import type { BoundBlock, EventFlow, Explanation, FlowStep } from "./model.js";

export function renderText(e: Explanation): string {
  const c = e.classification;
  const lines: string[] = [];
  lines.push(`Protocol ${e.protocol}${e.file ? ` (${e.file})` : ""}`);
  lines.push(`Family: ${c.family}${c.variant ? ` (${c.variant})` : ""}`);
  lines.push(`Options: f = ${e.options.f}, checkpoint every ${e.options.checkpointIntervalMs} ms, flush every ${e.options.flushIntervalMs} ms`);
  lines.push("Guarantees:");
  if (c.guarantees.length === 0) lines.push("  - none: a crash loses the process's state");
  for (const g of c.guarantees) lines.push(`  - ${g}`);
  for (const flow of e.flows) lines.push("", ...renderFlow(flow));
  return lines.join("\n") + "\n";
}

function renderFlow(flow: EventFlow): string[] {
  const lines = [`${flow.title}`];
  const width = Math.max(0, ...flow.steps.map((s) => label(s).length));
  flow.steps.forEach((s, i) => {
    const n = String(i + 1).padStart(2);
    lines.push(`  ${n}. ${label(s).padEnd(width)}  ${s.does}`);
    if (s.block) lines.push(`      ${" ".repeat(width)}  ↳ ${blockText(s.block)}`);
  });
  for (const note of flow.notes) lines.push(`  note: ${note}`);
  return lines;
}

function label(s: FlowStep): string {
  return `${s.module}.${s.method}`;
}

export function blockText(b: BoundBlock): string {
  const where = b.binding
    ? `${b.binding.module}#${b.binding.export}`
    : b.blocks === undefined
      ? "unbound"
      : b.blocks.length > 0
        ? b.blocks.join(", ")
        : "no block yet";
  return `${b.variable} \`${b.id}\` → ${where}`;
}
