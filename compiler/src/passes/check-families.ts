/**
 * Checks that depend on the protocol's family: constructs one family needs
 * and another cannot use. The family comes from `classify`, so the checks and
 * the classification never disagree.
 */
import type { Classification } from "../ir/types.js";
import type { CheckContext } from "./check-context.js";
import { OC_COORDINATED } from "./check-facts.js";

const NO_ORPHANS: ReadonlySet<string> = new Set(["pessimistic", "causal"]);

export function checkFamilies(ctx: CheckContext, cls: Classification): void {
  const { facts } = ctx;
  const { ir } = facts;
  const rec = ir.recovery;

  if (NO_ORPHANS.has(cls.family)) {
    // Pessimistic logging (and causal logging within f failures) recovers a
    // failed process to exactly its pre-crash state, so no survivor ever
    // depends on a lost state: there are no orphans to find.
    if (rec.orphanDetection) {
      ctx.report({
        severity: "warning",
        code: "W-orphan-detection-unneeded",
        message: `orphan detection in a ${cls.family} protocol: it never creates orphans${cls.family === "causal" ? ` (with at most f = ${ir.options.f} concurrent failures)` : "; nothing is generated for it"}`,
        at: rec.orphanDetection,
        hint: "remove `Protocol to detect orphans`",
      });
    }
    // Only orphans roll back without crashing; a crashed process cannot save anything first.
    if (rec.onRollback) {
      ctx.report({
        severity: "warning",
        code: "W-on-rollback-unused",
        message: `\`On rollback\` in a ${cls.family} protocol: no live process ever rolls back, so it never runs${cls.family === "pessimistic" ? "; nothing is generated for it" : ""}`,
        at: rec.onRollback,
        hint: "remove the `On rollback` statement",
      });
    }
  }

  if (cls.family === "pessimistic") {
    // Every determinant is stable before the event completes, so nothing needs piggybacking.
    if (facts.piggybackDeterminants) {
      ctx.report({
        severity: "warning",
        code: "W-piggyback-determinants-redundant",
        message: "determinants are piggybacked although every one is already logged synchronously on stable storage: the piggyback would always be empty, and nothing is generated for it",
        at: facts.piggybackDeterminants,
        hint: "remove `Piggyback determinants`, or log determinants asynchronously for a hybrid causal protocol",
      });
    }
    // A clock is piggybacked so orphan detection can compare dependencies;
    // with no orphans nothing would ever read it. Carrying it would cost
    // bytes on every message for no behaviour, and dropping it would not be
    // the spec as written: the spec is wrong, so say where.
    for (const t of facts.dependencyTracking) {
      ctx.report({
        severity: "error",
        code: "E-dependency-tracking-unneeded",
        message: `\`${t.id}\` would be piggybacked on every message for orphan detection, but a pessimistic protocol never creates orphans: nothing would read it`,
        at: t,
        hint: "remove it from the Piggyback list, or log determinants asynchronously (optimistic logging with orphan detection)",
      });
    }
    // Every state is recoverable the moment it exists; coordinating an output
    // commit only adds a round trip per output.
    for (const oc of ir.outputCommit) {
      if (oc.proto.id !== OC_COORDINATED) continue;
      ctx.report({
        severity: "warning",
        code: "W-output-commit-unneeded",
        message: "co-ordinated output commit in a pessimistic protocol: every state is already recoverable, so outputs need no coordination; it is generated as the independent commit",
        at: oc.proto,
        hint: "use `Independent output commit on write`, or drop the statement",
      });
    }
  }

  // When some determinant is not on stable storage at all, the recoverability
  // checks already report it; orphan and output warnings would only pile on.
  if (cls.family === "optimistic" && facts.allDetsStable) checkOptimistic(ctx);
  checkRetrieval(ctx);

  // Independent checkpoints without logging: a rollback can undo a send whose
  // receive is in the receiver's checkpoint, forcing the receiver back too,
  // possibly all the way to the initial state.
  if (cls.family === "checkpoint-independent" && ir.checkpoint) {
    ctx.report({
      severity: "warning",
      code: "W-domino-effect",
      message: "independent checkpoints without message logging are exposed to the domino effect: recovery may roll processes back to their initial state",
      at: ir.checkpoint.proto,
      hint: "use co-ordinated or communication-induced checkpointing, or add message logging",
    });
  }
}

function checkOptimistic(ctx: CheckContext): void {
  const { facts } = ctx;
  const { ir } = facts;
  const asyncLog = facts.detLogs[0]?.log.how ?? ir.nonDeterministic[0] ?? ir;

  // A crash loses the unflushed tail of the log; processes that received
  // messages sent from those lost states are orphans. Unless something finds
  // and rolls them back, the system is left inconsistent.
  if (!ir.recovery.orphanDetection) {
    ctx.report({
      severity: "error",
      code: "E-orphans-undetected",
      message: "determinants are logged asynchronously, so a crash can lose states other processes depend on, and nothing detects those orphans",
      at: asyncLog,
      hint: `add ${facts.dependencyTracking.length > 0 ? "" : "`send: Piggyback vector clock` and "}\`Protocol to detect orphans : broadcast logical clock\`, or log determinants synchronously`,
    });
  } else if (facts.dependencyTracking.length === 0) {
    // Detection compares what each process depends on (its piggybacked
    // clock) with the states lost; without the clock nobody knows.
    ctx.report({
      severity: "error",
      code: "E-orphan-detection-without-tracking",
      message: "orphan detection needs dependency tracking, but no clock is piggybacked on messages",
      at: ir.recovery.orphanDetection,
      hint: "add `send: Piggyback vector clock`",
    });
  }

  // An output that depends on a state which is later lost can be
  // contradicted by the re-execution: the environment sees a retraction.
  const commit = ir.outputCommit.find((s) => s.events.includes("write"));
  if (!commit) {
    ctx.report({
      severity: "warning",
      code: "W-optimistic-output-uncommitted",
      message: "optimistic protocol without output commit on write: outputs may depend on states a crash loses, and may be retracted",
      at: asyncLog,
      hint: "add `Co-ordinated output commit on write`",
    });
  } else if (commit.proto.id !== OC_COORDINATED) {
    // An independent commit makes only this process's determinants stable; the
    // output can still depend on other processes' unlogged states.
    ctx.report({
      severity: "warning",
      code: "W-optimistic-output-independent",
      message: `\`${commit.proto.id}\` output commit in an optimistic protocol flushes only the writer's own log: outputs that depend on other processes' unlogged states may be retracted`,
      at: commit.proto,
      hint: "use `Co-ordinated output commit on write`",
    });
  }
}

function checkRetrieval(ctx: CheckContext): void {
  const { facts } = ctx;
  const get = facts.ir.recovery.retrieveDeterminants;
  if (!get) return;
  if (!facts.hasMessageLogging) {
    ctx.report({
      severity: "warning",
      code: "W-retrieve-determinants-unused",
      message: "a protocol to retrieve determinants is given, but no determinant is logged or piggybacked",
      at: get,
      hint: "remove `Protocol to retrieve determinants`",
    });
    return;
  }
  // `centralized` reads the stable log first (Figure 3b); with no stable log
  // every determinant must come from the survivors anyway.
  if (get.id === "centralized" && !facts.anyDetStable) {
    ctx.report({
      severity: "warning",
      code: "W-centralized-without-stable-log",
      message: "centralized retrieval reads determinants from stable storage, but none are logged there",
      at: get,
      hint: "use `distributed`, or log determinants on stable storage",
    });
  }
  // `distributed` asks the survivors, who hold copies only through causal
  // piggybacking or replication into their memory.
  // Recovery as written cannot complete: an error, not a warning. Survivors
  // hold only what was replicated to them: every determinant log must be.
  const replicated = facts.detLogs.length > 0 && facts.detLogs.every((l) => l.traits?.needsF === true);
  // Piggybacked determinants give survivors copies, except in a pessimistic
  // protocol, where every determinant is stable before a message leaves and nothing is piggybacked.
  const piggybacked = facts.piggybackDeterminants !== undefined && !facts.allDetsSyncStable;
  if (get.id === "distributed" && !piggybacked && !replicated) {
    ctx.report({
      severity: "error",
      code: "E-distributed-without-copies",
      message: "distributed retrieval asks the surviving processes for determinants, but they hold no copies: recovery could not get them",
      at: get,
      hint: "use `centralized`, or piggyback determinants",
    });
  }
}
