/** `explain`: the module chain of every event kind, as text, Mermaid or JSON. */
import type { ProtocolIR } from "../ir/types.js";
import type { Registry } from "../registry/types.js";
import { explainProtocol, type Derived } from "./build.js";
import { renderMermaid } from "./mermaid.js";
import { renderText } from "./text.js";

export type { BoundBlock, EventFlow, Explanation, FlowKind, FlowModule, FlowStep } from "./model.js";
export { explainProtocol } from "./build.js";
export { renderMermaid } from "./mermaid.js";
export { renderText } from "./text.js";

export const EXPLAIN_FORMATS = ["text", "mermaid", "json"] as const;
export type ExplainFormat = (typeof EXPLAIN_FORMATS)[number];

/** `known`: the facts and classification the pipeline already derived (else derived here). */
export function explain(ir: ProtocolIR, registry: Registry, format: ExplainFormat = "text", known?: Derived): string {
  const e = explainProtocol(ir, registry, known);
  switch (format) {
    case "text":
      return renderText(e);
    case "mermaid":
      return renderMermaid(e);
    case "json":
      return JSON.stringify(e, null, 2) + "\n";
  }
}
