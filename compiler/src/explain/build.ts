/**
 * Build the explanation of a protocol: walk the IR the way the generated
 * EventHandler will, event kind by event kind, and record which module runs
 * and which registry block is bound at each step.
 */
import type { BlockRef, Classification, DepGenStatement, EventKind, Family, LogAction, NonDetStatement, ProtocolIR } from "../ir/types.js";
import type { Registry, Variable } from "../registry/types.js";
import { deriveFacts, hasInfo, HOW_SYNC, INFO_DETERMINANT, INFO_MESSAGE, OC_COORDINATED, PB_DETERMINANTS, type ProtocolFacts } from "../passes/check-facts.js";
import { classifyFacts } from "../passes/classify.js";
import { blocksImplementing } from "../registry/implemented-by.js";
import { pluginBlockPath } from "../blocks/plugin-blocks.js";
import type { BoundBlock, EventFlow, Explanation, FlowModule, FlowStep } from "./model.js";

/** What the pipeline derived before explain runs: facts and classification are not derived twice. */
export interface Derived {
  readonly facts: ProtocolFacts;
  readonly classification: Classification;
}

export function explainProtocol(ir: ProtocolIR, registry: Registry, known?: Derived): Explanation {
  const facts = known?.facts ?? deriveFacts(ir, registry);
  const classification = known?.classification ?? classifyFacts(facts);
  const b = new FlowBuilder(registry, facts, classification.family);
  const flows: EventFlow[] = [];
  for (const s of ir.nonDeterministic) flows.push(b.nonDeterministic(s));
  if (ir.nonDeterministic.length === 0) flows.push(b.plainReceive());
  const depGen = ir.dependencyGenerating;
  if (depGen.length === 0) flows.push(b.plainSend());
  for (const s of depGen) flows.push(b.dependencyGenerating(s));
  flows.push(...b.outputCommit());
  flows.push(b.checkpoint());
  flows.push(b.recovery());
  return {
    protocol: ir.name,
    ...(ir.source ? { file: ir.source.file } : {}),
    options: ir.options,
    classification,
    flows,
  };
}

const HANDLER: Record<EventKind, string> = {
  receive: "HandleReceive",
  send: "HandleSend",
  read: "HandleRead",
  write: "HandleWrite",
};

class FlowBuilder {
  constructor(
    private readonly registry: Registry,
    private readonly facts: ProtocolFacts,
    private readonly family: Family,
  ) {}

  private bind(variable: Variable, ref: BlockRef): BoundBlock {
    const def = this.registry.get(variable, ref.id);
    if (!def) return { variable, id: ref.id };
    // A plugin value names its implementation; a built-in one is implemented by the blocks whose manifests say so.
    // A plugin's block file (BlockDef `block`) is its block, by its path in the merged library.
    const pluginBlock = pluginBlockPath(def);
    if (pluginBlock !== undefined) return { variable, id: ref.id, blocks: [pluginBlock], origin: def.origin };
    return def.binding ? { variable, id: ref.id, binding: def.binding, origin: def.origin } : { variable, id: ref.id, blocks: blocksImplementing(variable, ref.id), origin: def.origin };
  }

  /** A step that runs a block: the registry's module for it wins over our default. */
  private blockStep(variable: Variable, ref: BlockRef, fallback: FlowModule, method: string, does: string): FlowStep {
    const def = this.registry.get(variable, ref.id);
    return { module: def?.module ?? fallback, method, does, block: this.bind(variable, ref) };
  }

  /** Log → HowToLog → WhereToLog → storage: the chain of the paper's Example 1. */
  private logChain(log: LogAction, op: "Write" | "Read", what: string): FlowStep[] {
    const steps: FlowStep[] = [];
    if (hasInfo(log, INFO_DETERMINANT)) steps.push({ module: "LogEventDeterminant", method: op === "Write" ? "Log" : "Retrieve", does: `${op === "Write" ? "logs" : "retrieves"} the ${what} determinant` });
    if (hasInfo(log, INFO_MESSAGE)) steps.push({ module: "LogEventInfo", method: op === "Write" ? "Log" : "Retrieve", does: `${op === "Write" ? "logs" : "retrieves"} the message contents` });
    const sync = log.how.id === HOW_SYNC;
    steps.push(
      this.blockStep("how-to-log", log.how, "HowToLog", op, op === "Read" ? "reads the log" : sync ? "waits until the record is written before the event completes" : `buffers the record; the timer flushes it every ${this.facts.ir.options.flushIntervalMs} ms`),
      { module: "WhereToLog", method: op, does: `directs the ${op === "Write" ? "write" : "read"} to \`${log.where.id}\`` },
      this.blockStep("storage", log.where, this.isStable(log.where) ? "StableStorage" : "VolatileStorage", op, op === "Write" ? "stores the record" : "returns the records"),
    );
    return steps;
  }

  private pessimistic(): boolean {
    return this.family === "pessimistic";
  }

  private isStable(ref: BlockRef): boolean {
    return this.registry.get("storage", ref.id)?.storage?.stable ?? true;
  }

  nonDeterministic(s: NonDetStatement): EventFlow {
    const { ir } = this.facts;
    const notes: string[] = [];
    const steps: FlowStep[] = [];
    if (s.event === "receive") steps.push({ module: "Network", method: "Deliver", does: "hands an incoming message to the event handler" });
    else steps.push({ module: "API", method: s.event, does: `intercepts the application's ${s.event}` });
    steps.push({ module: "EventHandler", method: HANDLER[s.event], does: `handles the ${s.event}` });
    if (s.event === "receive") steps.push(...this.processPiggybacks());
    steps.push({ module: "Determinant", method: "CreateDeterminant", does: `creates {${s.determinant.join(", ")}}${s.event === "read" ? " with the value read" : ""}` });
    if (s.log) steps.push(...this.logChain(s.log, "Write", s.event));
    if (this.facts.piggybackDeterminants) {
      steps.push({ module: "LogEventDeterminant", method: "Log", does: `keeps the determinant in volatile memory and piggybacks it until f + 1 = ${ir.options.f + 1} processes hold it` });
    }
    if (!s.log && !this.facts.piggybackDeterminants) notes.push("The determinant is neither logged nor piggybacked: a crash loses it.");
    if ((s.event === "send" || s.event === "write") && this.pessimistic()) notes.push(`Not generated: \`${s.event}\` is deterministic and replay regenerates it, so its determinant would never be read.`);
    const sync = s.log?.how.id === HOW_SYNC;
    steps.push({
      module: "EventHandler",
      method: HANDLER[s.event],
      does: s.event === "receive" ? (sync ? "delivers the message once the determinant is logged" : "delivers the message to the application") : "returns the value to the application",
    });
    return { kind: "non-deterministic", trigger: s.event, title: `Non-deterministic event: ${s.event}`, steps, notes };
  }

  /** What a receive does with what the sender piggybacked. */
  private processPiggybacks(): FlowStep[] {
    const steps: FlowStep[] = [];
    for (const s of this.facts.ir.dependencyGenerating) {
      if (s.event !== "send") continue;
      for (const pb of s.piggyback) {
        const module = this.registry.get("pb-value", pb.id)?.module ?? "PiggybackLogging";
        const does =
          pb.id === PB_DETERMINANTS
            ? "merges the piggybacked determinants into the volatile determinant log"
            : module === "PiggybackCheckpointing"
              ? "takes a forced checkpoint first if the message carries a higher checkpoint index"
              : `merges the piggybacked \`${pb.id}\` into the process's dependency record`;
        steps.push(this.blockStep("pb-value", pb, module, "ProcessPiggyback", does));
        if (pb.tracking) steps.push(this.blockStep("pb-tracking", pb.tracking, "PiggybackLogging", "ProcessPiggyback", "records which processes now hold each determinant"));
      }
    }
    return steps;
  }

  /** Checkpoint-only protocols: a receive records nothing, but may still process piggybacks. */
  plainReceive(): EventFlow {
    return {
      kind: "non-deterministic",
      trigger: "receive",
      title: "Non-deterministic event: receive",
      steps: [
        { module: "Network", method: "Deliver", does: "hands an incoming message to the event handler" },
        { module: "EventHandler", method: HANDLER.receive, does: "handles the receive" },
        ...this.processPiggybacks(),
        { module: "EventHandler", method: HANDLER.receive, does: "delivers the message to the application" },
      ],
      notes: ["No determinant is recorded: recovery relies on checkpoints alone."],
    };
  }

  plainSend(): EventFlow {
    return {
      kind: "dependency-generating",
      trigger: "send",
      title: "Dependency-generating event: send",
      steps: [
        { module: "API", method: "send", does: "intercepts the application's send" },
        { module: "EventHandler", method: HANDLER.send, does: "numbers the message (sesn) for duplicate suppression" },
        { module: "Network", method: "Send", does: "transmits the message unchanged" },
      ],
      notes: ["Nothing is logged or piggybacked on send."],
    };
  }

  dependencyGenerating(s: DepGenStatement): EventFlow {
    const steps: FlowStep[] = [
      s.event === "receive" ? { module: "Network", method: "Deliver", does: "hands an incoming message to the event handler" } : { module: "API", method: s.event, does: `intercepts the application's ${s.event}` },
      { module: "EventHandler", method: HANDLER[s.event], does: s.event === "send" ? "numbers the message (sesn) for duplicate suppression" : `handles the ${s.event}` },
    ];
    if (s.log) steps.push(...this.logChain(s.log, "Write", s.event));
    for (const pb of s.piggyback) {
      const module = this.registry.get("pb-value", pb.id)?.module ?? "PiggybackLogging";
      if (pb.id === PB_DETERMINANTS) {
        steps.push(this.blockStep("pb-value", pb, module, "GetPiggyback", "selects the non-stable determinants the destination may lack"));
        if (pb.tracking) steps.push(this.blockStep("pb-tracking", pb.tracking, "PiggybackLogging", "GetPiggyback", "uses what it knows of who holds each determinant to send fewer"));
        steps.push(
          { module: "LogEventDeterminant", method: "Retrieve", does: "reads those determinants from the log" },
          { module: "HowToLog", method: "Read", does: "reads the volatile determinant log" },
          { module: "WhereToLog", method: "Read", does: "directs the read to volatile memory (and stable storage if needed)" },
          { module: "VolatileStorage", method: "Read", does: "returns the determinants" },
        );
      } else {
        steps.push(this.blockStep("pb-value", pb, module, "GetPiggyback", module === "PiggybackCheckpointing" ? "attaches the index of the sender's latest checkpoint" : `attaches the sender's \`${pb.id}\``));
      }
    }
    if (s.event === "send") steps.push({ module: "Network", method: "Send", does: "transmits the message with its piggyback" });
    const notes: string[] = [];
    if (this.pessimistic() && s.piggyback.some((p) => p.id === PB_DETERMINANTS)) {
      notes.push("Not generated: every determinant is on stable storage before any message leaves, so the piggybacked set would always be empty.");
    }
    if (this.pessimistic() && s.event === "write" && s.log) notes.push("Not generated: outputs are never replayed, so nothing would read this log.");
    return { kind: "dependency-generating", trigger: s.event, title: `Dependency-generating event: ${s.event}`, steps, notes };
  }

  outputCommit(): EventFlow[] {
    const { ir } = this.facts;
    const flows: EventFlow[] = [];
    const stableDet = this.facts.detLogs.find((l) => this.isStable(l.log.where));
    for (const oc of ir.outputCommit) {
      for (const e of oc.events) {
        const coordinated = oc.proto.id === OC_COORDINATED;
        const steps: FlowStep[] = [
          { module: "API", method: e, does: `intercepts the application's ${e} to the environment` },
          { module: "EventHandler", method: HANDLER[e], does: "runs the output commit before releasing the output" },
          this.blockStep("output-commit-proto", oc.proto, "HowToOutputCommit", "OutputCommit", coordinated ? "makes every state the output depends on recoverable, here and at every process it depends on" : "makes this process's own determinants recoverable"),
          {
            module: "LogEventDeterminant",
            method: "Flush",
            does: stableDet || !this.facts.piggybackDeterminants
              ? "flushes the buffered determinants"
              : `makes the determinants the output depends on stable: held by f + 1 = ${ir.options.f + 1} processes`,
          },
        ];
        if (stableDet) {
          steps.push(
            this.blockStep("how-to-log", stableDet.log.how, "HowToLog", "Write", "writes the buffered records"),
            { module: "WhereToLog", method: "Write", does: `directs the write to \`${stableDet.log.where.id}\`` },
            this.blockStep("storage", stableDet.log.where, "StableStorage", "Write", "stores the records"),
          );
        }
        if (coordinated) steps.push({ module: "Network", method: "Broadcast", does: "asks every process the output depends on to flush likewise, and waits for their acknowledgements" });
        steps.push({ module: "EventHandler", method: HANDLER[e], does: "releases the output to the environment" });
        const notes = coordinated && this.pessimistic() ? ["Generated as an independent commit: every determinant an output depends on is already stable, here and everywhere, so the co-ordination round would ask nobody for anything."] : [];
        flows.push({ kind: "output-commit", trigger: e, title: `Output commit: ${e}`, steps, notes });
      }
    }
    if (!ir.outputCommit.some((oc) => oc.events.includes("write"))) {
      const family = this.family;
      flows.push({
        kind: "output-commit",
        trigger: "write",
        title: "Output commit: write",
        steps: [
          { module: "API", method: "write", does: "intercepts the application's write to the environment" },
          ...implicitCommit(family, this.facts.ir.options.f),
        ],
        notes: family === "optimistic" ? ["No output commit: an output may depend on states a crash loses, and be retracted."] : [],
      });
    }
    return flows;
  }

  checkpoint(): EventFlow {
    const { ir } = this.facts;
    const ck = ir.checkpoint;
    if (!ck) {
      return {
        kind: "checkpoint",
        trigger: "timer",
        title: "Checkpoint",
        steps: [],
        notes: ["No checkpoint statement: recovery replays from the initial state and logs are never garbage-collected."],
      };
    }
    const steps: FlowStep[] = [
      { module: "Timer", method: "Tick", does: `fires every ${ir.options.checkpointIntervalMs} ms` },
      { module: "EventHandler", method: "HandleTimer", does: "starts a checkpoint" },
      this.blockStep("ckpt-proto", ck.proto, "Checkpoint", "TakeCheckpoint", "takes the checkpoint"),
      this.blockStep("how-to-ckpt", ck.how, "HowToCheckpoint", "Write", ck.how.id === HOW_SYNC ? "writes it before the process continues" : "writes it in the background while the process continues"),
      this.blockStep("ckpt-impl", ck.impl, "Checkpoint", "Write", ck.impl.id === "incremental" ? "saves only what changed since the last checkpoint" : ck.impl.id === "full" ? "saves the whole state" : "saves the state"),
      this.blockStep("storage", ck.storage, "StableStorage", "Write", "stores the checkpoint"),
    ];
    if (this.facts.hasMessageLogging) steps.push({ module: "LogEventDeterminant", method: "GarbageCollect", does: "discards the log entries the checkpoint covers, and tells senders which logged messages they may discard" });
    const notes = this.facts.checkpointCounter ? ["A received message with a higher checkpoint index can also trigger a checkpoint (PiggybackCheckpointing)."] : [];
    return { kind: "checkpoint", trigger: "timer", title: "Checkpoint", steps, notes };
  }

  recovery(): EventFlow {
    const { ir } = this.facts;
    const rec = ir.recovery;
    const steps: FlowStep[] = [
      { module: "FailureDetector", method: "Suspect", does: "detects the crash and restarts the process with a new incarnation" },
      { module: "EventHandler", method: "HandleRecovery", does: "runs recovery before the application resumes" },
    ];
    if (ir.checkpoint) {
      steps.push(
        this.blockStep("ckpt-proto", ir.checkpoint.proto, "Checkpoint", "RestoreFromCheckpoint", ir.checkpoint.proto.id === "coordinated" && !this.facts.hasMessageLogging ? "restores the last complete snapshot, on every process" : "restores the latest usable checkpoint"),
        this.blockStep("how-to-ckpt", ir.checkpoint.how, "HowToCheckpoint", "Read", "reads it back"),
        this.blockStep("storage", ir.checkpoint.storage, "StableStorage", "Read", "returns the checkpoint"),
      );
    } else {
      steps.push({ module: "Checkpoint", method: "RestoreFromCheckpoint", does: "starts from the initial state (no checkpoints)" });
    }
    if (this.facts.hasMessageLogging) {
      if (rec.retrieveDeterminants) steps.push(this.blockStep("recovery-get-det-proto", rec.retrieveDeterminants, "CollectDeterminants", "RetrieveDeterminants", "collects the determinants of the events after the checkpoint"));
      else steps.push({ module: "CollectDeterminants", method: "RetrieveDeterminants", does: this.facts.piggybackDeterminants ? "collects its determinants from the survivors" : "reads its determinants from the log" });
      const det = this.facts.detLogs.find((l) => this.isStable(l.log.where));
      if (det) steps.push(...this.logChain(det.log, "Read", det.event));
      const receiverLog = this.facts.receiverMessageLogs[0];
      if (this.facts.senderMessageLogs.length > 0) {
        steps.push({ module: "LogEventInfo", method: "Retrieve", does: "asks each sender to re-send the logged messages the determinants name" });
      } else if (receiverLog && receiverLog.log !== det?.log) {
        steps.push(...this.logChain(receiverLog.log, "Read", receiverLog.event));
      }
      steps.push({ module: "EventHandler", method: "Replay", does: "re-delivers the messages in determinant order; re-sent duplicates are suppressed by sesn" });
    }
    if (rec.orphanDetection) steps.push(this.blockStep("orphan-detection-proto", rec.orphanDetection, "OrphanDetection", "DetectOrphans", "announces the lost states; each process that depends on one rolls back"));
    const rb = rec.onRollback;
    if (rb) {
      if (rb.kind === "log") {
        steps.push(
          { module: "LogEventInfo", method: "Log", does: `a rolling-back process first saves ${rb.info.map((i) => i.id).join(", ")}` },
          this.blockStep("storage", rb.storage, "StableStorage", "Write", "stores them"),
        );
      } else {
        steps.push(
          { module: "Checkpoint", method: "TakeCheckpoint", does: "a rolling-back process first takes an independent checkpoint" },
          this.blockStep("storage", rb.storage, "StableStorage", "Write", "stores it"),
        );
      }
    }
    const notes: string[] = [];
    if (this.pessimistic()) {
      // The block library generates nothing for these (docs/protocols.md, "What a pessimistic spec may add").
      if (rec.orphanDetection) notes.push("Not generated: a pessimistic protocol never creates orphans, so orphan detection would never find one.");
      if (rb) notes.push("Not generated: no live process ever rolls back in a pessimistic protocol, so `On rollback` would never run.");
    }
    return { kind: "recovery", trigger: "crash", title: "Failure detection and recovery", steps, notes };
  }
}

/**
 * What the block library does with a write when the spec names no output
 * commit. Only pessimistic protocols can release at once: in the other
 * families an output could depend on a state a crash loses, so the library
 * commits implicitly rather than let the environment see a retraction.
 */
function implicitCommit(family: Family, f: number): FlowStep[] {
  switch (family) {
    case "causal":
      return [
        { module: "HowToOutputCommit", method: "OutputCommit", does: `implicit: makes the determinants the output depends on stable (held by f + 1 = ${f + 1} processes) and waits for the acknowledgements` },
        { module: "EventHandler", method: HANDLER.write, does: "releases the output to the environment" },
      ];
    case "checkpoint-coordinated":
    case "checkpoint-communication-induced":
    case "checkpoint-independent":
      return [
        { module: "Checkpoint", method: "Commit", does: "implicit: holds the output in checkpointed state until a committed recovery line covers it" },
        { module: "EventHandler", method: HANDLER.write, does: "releases the output to the environment" },
      ];
    default:
      return [{ module: "EventHandler", method: HANDLER.write, does: "releases the output at once (no output commit statement)" }];
  }
}
