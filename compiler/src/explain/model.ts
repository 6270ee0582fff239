/**
 * What `egida-gen explain` shows: for each of the paper's five kinds of
 * relevant event, the chain of modules (paper §4.1–4.2, Figure 5) the event
 * goes through, and the implementation bound at each step. The same model is
 * rendered as text, Mermaid or JSON, so the three never disagree.
 */
import type { Classification, EventKind, ProtocolOptions } from "../ir/types.js";
import type { Binding, PaperModule, Variable } from "../registry/types.js";

/** Figure 5's modules plus the four it adds around them (API, Timer, FailureDetector, Network). */
export type FlowModule = PaperModule | "API" | "Timer" | "FailureDetector" | "Network";

export type FlowKind = "non-deterministic" | "dependency-generating" | "output-commit" | "checkpoint" | "recovery";

/** The block a step runs, as the registry binds it. */
export interface BoundBlock {
  readonly variable: Variable;
  readonly id: string;
  /** A plugin value's implementation. Absent for built-in values and ids the registry does not know (the front end reports those). */
  readonly binding?: Binding;
  /** A built-in value's implementation: the block files (relative to compiler/src/blocks) whose manifests implement it; empty when none does yet. */
  readonly blocks?: readonly string[];
  readonly origin?: string;
}

export interface FlowStep {
  readonly module: FlowModule;
  /** The module's method (paper §4.1), e.g. "Write", "CreateDeterminant". */
  readonly method: string;
  /** What the step does in this protocol, as a phrase. */
  readonly does: string;
  readonly block?: BoundBlock;
}

export interface EventFlow {
  readonly kind: FlowKind;
  /** The application event, or the trigger for checkpoints (timer) and recovery (crash). */
  readonly trigger: EventKind | "timer" | "crash";
  readonly title: string;
  readonly steps: readonly FlowStep[];
  /** Remarks that belong to the flow as a whole (e.g. "no checkpoints: recovery replays from the start"). */
  readonly notes: readonly string[];
}

export interface Explanation {
  readonly protocol: string;
  readonly file?: string;
  readonly options: ProtocolOptions;
  readonly classification: Classification;
  readonly flows: readonly EventFlow[];
}
