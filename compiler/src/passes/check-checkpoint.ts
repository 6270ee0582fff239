/**
 * Checks tying checkpoint piggybacks to the checkpoint protocol.
 */
import type { CheckContext } from "./check-context.js";
import { CKPT_COMMUNICATION_INDUCED, CKPT_INDEPENDENT } from "./check-facts.js";

/** Checkpoint protocols that read the piggybacked checkpoint counter. */
const READS_COUNTER: ReadonlySet<string> = new Set([CKPT_COMMUNICATION_INDUCED, CKPT_INDEPENDENT]);

export function checkCheckpoint(ctx: CheckContext): void {
  const { ir, checkpointCounter } = ctx.facts;
  const ck = ir.checkpoint;

  if (checkpointCounter && !ck) {
    // The counter is the index of the sender's latest checkpoint; with no checkpoints it never moves.
    ctx.report({
      severity: "error",
      code: "E-checkpoint-counter-without-checkpoint",
      message: "`checkpoint counter` is piggybacked but the protocol takes no checkpoints",
      at: checkpointCounter,
      hint: "add `Communication-induced checkpoint asynchronously on NFS disk Implementation : incremental`",
    });
  } else if (checkpointCounter && ck && ctx.facts.allDetsSyncStable && ck.proto.id !== CKPT_COMMUNICATION_INDUCED) {
    // Pessimistic logging: a process recovers alone from its own latest
    // checkpoint and its log, so no recovery line is ever computed and only
    // communication-induced checkpointing would read the index. Nothing
    // would read it; the spec asks for a piggyback that has no effect.
    ctx.report({
      severity: "error",
      code: "E-checkpoint-counter-unread",
      message: `\`checkpoint counter\` is piggybacked but nothing reads it: with pessimistic logging a process recovers from its own checkpoint and log, and \`${ck.proto.id}\` checkpointing never forces one`,
      at: checkpointCounter,
      hint: "remove it from the Piggyback list",
    });
  } else if (checkpointCounter && ck && !READS_COUNTER.has(ck.proto.id) && ctx.registry.get("ckpt-proto", ck.proto.id)?.origin === "egida-gen") {
    // Communication-induced checkpointing reads the counter to force
    // checkpoints, independent checkpointing to compute the recovery line;
    // a co-ordinated snapshot is consistent by construction. (Plugin
    // protocols may read it: say nothing about them.)
    ctx.report({
      severity: "warning",
      code: "W-checkpoint-counter-unused",
      message: `\`checkpoint counter\` is piggybacked but \`${ck.proto.id}\` checkpointing never reads it`,
      at: checkpointCounter,
      hint: "remove it, or use communication-induced checkpointing",
    });
  }

  // Independent checkpoints alone: recovery must compute a consistent line
  // by rollback propagation, which needs to know which checkpoint interval
  // each message was sent in. Message logging makes this unnecessary.
  if (ck && ck.proto.id === CKPT_INDEPENDENT && !ctx.facts.hasMessageLogging && !checkpointCounter) {
    ctx.report({
      severity: "error",
      code: "E-independent-checkpoint-untracked",
      message: "independent checkpointing without message logging needs the checkpoint interval on every message to compute a consistent recovery line",
      at: ck.proto,
      hint: "add `send: Piggyback checkpoint counter`",
    });
  }

  // Communication-induced checkpointing forces a checkpoint when a message
  // carries a higher index than the receiver's; without the index on messages
  // it degenerates to independent checkpointing and its domino effect.
  if (ck && ck.proto.id === CKPT_COMMUNICATION_INDUCED && !checkpointCounter) {
    ctx.report({
      severity: "error",
      code: "E-communication-induced-without-counter",
      message: "communication-induced checkpointing needs the checkpoint index on every message",
      at: ck.proto,
      hint: "add `send: Piggyback checkpoint counter`",
    });
  }
}
