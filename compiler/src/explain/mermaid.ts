/**
 * `explain --format mermaid`: one flowchart with a subgraph per event flow, so
 * it renders in GitHub Markdown and the Mermaid live editor as is.
 */
import type { Explanation, FlowStep } from "./model.js";

export function renderMermaid(e: Explanation): string {
  const c = e.classification;
  const lines = ["flowchart TD"];
  lines.push(`  P["${esc(`${e.protocol}: ${c.family}${c.variant ? ` (${c.variant})` : ""}`)}"]`);
  e.flows.forEach((flow, fi) => {
    lines.push(`  subgraph F${fi}["${esc(flow.title)}"]`);
    lines.push("    direction TB");
    if (flow.steps.length === 0) {
      lines.push(`    F${fi}_none["${esc(flow.notes[0] ?? "nothing happens")}"]`);
    }
    flow.steps.forEach((s, si) => lines.push(`    F${fi}_${si}["${esc(nodeLabel(s))}"]`));
    for (let si = 1; si < flow.steps.length; si++) lines.push(`    F${fi}_${si - 1} --> F${fi}_${si}`);
    lines.push("  end");
  });
  return lines.join("\n") + "\n";
}

function nodeLabel(s: FlowStep): string {
  const head = `${s.module}.${s.method}`;
  return s.block ? `${head}<br/>${s.block.id}` : head;
}

/** Mermaid labels are quoted strings; quotes and angle brackets must be entity codes. */
function esc(text: string): string {
  return text
    .replace(/"/g, "#quot;")
    .replace(/<(?!br\/>)/g, "#lt;")
    .replace(/(?<!<br\/)>/g, "#gt;")
    .replace(/`/g, "");
}
