/**
 * Classify a protocol into the families of section 5 of egida-language.md and
 * state the guarantees that family gives, as sentences a user (and a test)
 * can check.
 *
 * The decision follows what a crash can lose:
 * - every determinant synchronously on stable storage before the event
 *   completes: nothing is lost → pessimistic;
 * - otherwise determinants piggybacked on messages: nothing is lost while at
 *   most f processes fail → causal;
 * - otherwise determinants logged asynchronously (or on volatile storage):
 *   the tail of the log can be lost and other processes may become orphans
 *   → optimistic;
 * - no determinant is logged at all: only checkpoints restore state
 *   → checkpoint-only, after the checkpoint protocol; nothing → none.
 */
import type { Classification, Family, ProtocolIR } from "../ir/types.js";
import type { Registry } from "../registry/types.js";
import { deriveFacts, OC_COORDINATED, type ProtocolFacts } from "./check-facts.js";

export function classify(ir: ProtocolIR, registry: Registry): Classification {
  return classifyFacts(deriveFacts(ir, registry));
}

export function classifyFacts(facts: ProtocolFacts): Classification {
  const { ir } = facts;
  if (!facts.hasMessageLogging) return checkpointOnly(ir);
  if (facts.allDetsSyncStable) return pessimistic(facts);
  if (facts.piggybackDeterminants) return causal(facts);
  return optimistic(facts);
}

function withVariant(family: Family, variant: string | undefined, guarantees: string[]): Classification {
  return variant === undefined ? { family, guarantees } : { family, variant, guarantees };
}

function pessimistic(facts: ProtocolFacts): Classification {
  const f = facts.ir.options.f;
  const replicated = facts.detLogs.some((l) => l.traits?.needsF === true);
  const variant = replicated
    ? "replicated"
    : facts.senderMessageLogs.length > 0
      ? "sender-based"
      : facts.receiverMessageLogs.length > 0
        ? "receiver-based"
        : undefined;
  const scope = replicated ? `For up to f = ${f} concurrent failures, a` : "A";
  const g = [
    `${scope} failed process returns to exactly its pre-failure state.`,
    "No other process ever rolls back.",
    "Output commit needs no coordination: every state is recoverable before it can affect the environment.",
  ];
  if (replicated) g.push(`Each determinant is held by f = ${f} other processes before the process sends a message that depends on it.`);
  if (facts.senderMessageLogs.length > 0) g.push("Message contents are kept by their senders and re-sent to a recovering receiver.");
  return withVariant("pessimistic", variant, g);
}

function causal(facts: ProtocolFacts): Classification {
  const f = facts.ir.options.f;
  // The hybrid is about receive determinants; a stable log of read values alone is not it.
  const hybrid = facts.receiveDetStable;
  const g = [
    `For up to f = ${f} concurrent failures, a failed process returns to exactly its pre-failure state and no other process rolls back.`,
    "No synchronous write to stable storage lies on the critical path of a message.",
    `With more than ${f} concurrent failures recovery may be impossible; the runtime detects this and says so.`,
  ];
  if (hybrid) g.push("Determinants also reach stable storage asynchronously, so recovery reads most of them locally and asks the survivors only for the tail.");
  else if (facts.readDetStable) g.push("Values read are also logged on stable storage; a value travels piggybacked only until its reader's log holds it, and recovery reads it back from there.");
  return withVariant("causal", hybrid ? "hybrid" : "pure", g);
}

function optimistic(facts: ProtocolFacts): Classification {
  const { ir } = facts;
  const g = ["Some states of a failed process may be lost: those whose determinants had not reached stable storage."];
  if (ir.recovery.orphanDetection && facts.dependencyTracking.length > 0) {
    g.push("Every orphan (a process that depends on a lost state) is detected and rolled back; the system reaches a consistent state.");
  }
  const commit = ir.outputCommit.find((s) => s.events.includes("write"));
  if (commit && commit.proto.id === OC_COORDINATED) {
    g.push("Output released to the environment is never taken back.");
  }
  return withVariant("optimistic", facts.receiverMessageLogs.length > 0 ? "receiver-based" : undefined, g);
}

function checkpointOnly(ir: ProtocolIR): Classification {
  const ck = ir.checkpoint;
  if (!ck) return { family: "none", guarantees: [] };
  const consistent = "All processes return to a consistent global state: no message is received but never sent.";
  switch (ck.proto.id) {
    case "coordinated":
      return {
        family: "checkpoint-coordinated",
        guarantees: [
          consistent,
          "Every process rolls back to the last complete coordinated snapshot; in-transit messages are restored from the recorded channel state.",
          "Output can be released only once the next snapshot completes.",
        ],
      };
    case "communication-induced":
      return {
        family: "checkpoint-communication-induced",
        guarantees: [
          consistent,
          "Forced checkpoints keep a recovery line for every checkpoint index, so there is no domino effect.",
        ],
      };
    default:
      // Independent checkpointing, and plugin protocols we know nothing more about.
      return {
        family: "checkpoint-independent",
        guarantees: [
          consistent,
          "The recovery line is found by rollback propagation and may cascade back towards the initial state (domino effect).",
        ],
      };
  }
}
