/**
 * Block selection for the checkpoint-only protocols (a checkpoint statement,
 * no message or determinant logging): co-ordinated, communication-induced
 * (index-based, BCS) and independent checkpointing with rollback
 * propagation. Called by select.ts; refuses (UnsupportedProtocolError) what
 * these blocks do not implement rather than emitting a weaker protocol.
 *
 * Its blocks, in the chain order their manifests give (selectBlocks sorts
 * them, blocks/chain-order.ts):
 *   core/ssn                ssn (piggyback word 0)
 *   core/receive            duplicate suppression and hold-back
 *   ckpt-only/pump          deliveries and checkpoints between them; holdable by a round
 *   core/output-seq         output numbering
 *   ckpt-only/index-pb      onSend: [epoch, index]; acceptReceive: epoch filter;
 *                           onDeliver: forced checkpoint, dependencies (before core/deliver)
 *   ckpt-only/output        onWrite: hold outputs until committed (replaces core/output-emit)
 *   checkpoint/independent  local checkpoint timer (communication-induced, independent), or
 *   ckpt-only/snapshot      the initiator's timer (co-ordinated)
 *   ckpt-only/rounds        recovery rounds, retransmission buffer, commit; onRecover / onLive
 *   core/deliver            the application sees the message
 *   core/transmit           retransmission buffer, then the wire
 *   core/read               non-deterministic input (not logged)
 *   ckpt-only/store         onCheckpoint last: every block has added its state
 */
import type { ProtocolIR, SourceSpan } from "../../ir/types.js";
import type { ParamValue } from "../params.js";
import { UnsupportedProtocolError, type BlockInstance } from "../select-common.js";

const KINDS = new Set(["coordinated", "communication-induced", "independent"]);

/** A checkpoint statement and no logging anywhere: recovery rolls processes back to a consistent line. */
export function isCheckpointOnly(ir: ProtocolIR): boolean {
  return ir.checkpoint !== null && ir.nonDeterministic.length === 0 && ir.dependencyGenerating.every((st) => st.log === null);
}

function inst(file: string, id: string, module: string, reason: string, params: Record<string, ParamValue> = {}, loc?: SourceSpan): BlockInstance {
  return loc === undefined ? { file, id, module, params, reason } : { file, id, module, params, loc, reason };
}

export function selectCheckpointOnly(ir: ProtocolIR): BlockInstance[] {
  const ck = ir.checkpoint!;
  const kind = ck.proto.id;
  if (!KINDS.has(kind)) throw new UnsupportedProtocolError(`${kind} checkpointing without message logging`, ck.proto.loc ?? ck.loc, "use `Co-ordinated`, `Communication-induced` or `Independent` checkpointing");
  // Checkpoints must survive the crash of their process and be readable by its
  // restart: on NFS disk, or on local disk (the failure model is a process
  // crash, not the loss of its machine: a restarted process reads its own
  // local disk). select.ts refuses media the runtime keeps no checkpoints on;
  // volatile memory of self is E-checkpoint-volatile-storage.
  let counterLoc: SourceSpan | undefined;
  let counter = false;
  for (const st of ir.dependencyGenerating) {
    for (const pb of st.piggyback) {
      if (pb.id !== "checkpoint-counter" || st.event !== "send") throw new UnsupportedProtocolError(`${st.event}: Piggyback ${pb.id} without message logging`, pb.loc ?? st.loc, "piggyback only `send: Piggyback checkpoint counter` in a checkpoint-only protocol");
      counter = true;
      counterLoc = pb.loc ?? st.loc;
    }
  }
  if (kind === "independent" && !counter) {
    throw new UnsupportedProtocolError("independent checkpointing without `Piggyback checkpoint counter` (no dependencies to compute a recovery line from)", ck.loc, "add `send: Piggyback checkpoint counter`");
  }
  // What follows has nothing to act on in a checkpoint-only protocol: errors
  // (not "yet"), so the spec says what the generated protocol does.
  for (const st of ir.outputCommit) {
    throw new UnsupportedProtocolError(
      `${st.proto.id === "coordinated" ? "co-ordinated" : st.proto.id} output commit in a checkpoint-only protocol: there are no determinants to make stable; every output is released once a committed recovery line covers it`,
      st.proto.loc ?? st.loc,
      "remove the output commit statement (outputs are already committed on recovery lines)",
      "E-checkpoint-only-output-commit",
    );
  }
  const rec = ir.recovery;
  if (rec.orphanDetection !== null) {
    throw new UnsupportedProtocolError(
      `orphan detection (\`${rec.orphanDetection.id}\`) in a checkpoint-only protocol: recovery rolls every process back to a consistent recovery line, so no orphan survives it`,
      rec.orphanDetection.loc,
      "remove `Protocol to detect orphans`",
      "E-checkpoint-only-orphan-detection",
    );
  }
  if (rec.onRollback !== null) {
    throw new UnsupportedProtocolError(
      "`On rollback` in a checkpoint-only protocol: a rollback discards a state no recovery line will ever use, so nothing saved from it would be read",
      rec.onRollback.loc,
      "remove the `On rollback` statement",
      "E-checkpoint-only-on-rollback",
    );
  }
  if (rec.retrieveDeterminants !== null) {
    throw new UnsupportedProtocolError(
      "determinant retrieval in a checkpoint-only protocol: it logs no determinants, and recovery replays none",
      rec.retrieveDeterminants.loc,
      "remove `Protocol to retrieve determinants`",
      "E-checkpoint-only-retrieval",
    );
  }

  const interval = ir.options.checkpointIntervalMs;
  const pbReason =
    kind === "coordinated"
      ? "piggyback [epoch, snapshot number]: a message sent after snapshot k forces checkpoint k first (the marker rule); other epochs dropped"
      : kind === "communication-induced"
        ? "piggyback [epoch, checkpoint index]: a higher index forces a checkpoint with that index before delivery (BCS)"
        : "piggyback [epoch, sender interval]: the receiver records the dependency for rollback propagation";
  const out: BlockInstance[] = [
    inst("core/ssn.ts", "core", "EventHandler", "per-channel send sequence numbers"),
    inst("core/receive.ts", "core", "EventHandler", "duplicate suppression and per-channel hold-back", { "core.divergence": false }),
    inst("ckpt-only/pump.ts", "core", "EventHandler", "one delivery at a time; checkpoints between deliveries; held during recovery rounds"),
    inst("core/output-seq.ts", "core", "EventHandler", "output numbering for the idempotent sink"),
    inst("ckpt-only/index-pb.ts", counter ? "checkpoint-counter" : kind, "PiggybackCheckpointing", pbReason, { "cp.force": kind !== "independent", "cp.byKey": kind === "independent" }, counterLoc ?? ck.loc),
    inst("ckpt-only/output.ts", kind, "HowToOutputCommit", "outputs leave once a committed line covers them (no recovery goes below it)", {}, ck.loc),
  ];
  if (kind === "coordinated") {
    out.push(inst("ckpt-only/snapshot.ts", kind, "Checkpoint", "rank 0 starts a snapshot on the checkpoint timer", { "ckpt.intervalMs": interval }, ck.loc));
  } else {
    out.push(inst("checkpoint/independent.ts", kind, "Checkpoint", "checkpoint on the local timer", { "ckpt.intervalMs": interval }, ck.loc));
  }
  out.push(
    inst(
      "ckpt-only/rounds.ts",
      kind,
      "Checkpoint",
      kind === "coordinated"
        ? "every process restores the last complete snapshot; commit when a snapshot completes"
        : kind === "communication-induced"
          ? "recovery line of the failed processes' index; survivors roll back to it"
          : "recovery line by rollback propagation (domino effect possible); GC below the committed line",
      { "cp.kind": kind },
      ck.loc,
    ),
    inst("core/deliver.ts", "core", "EventHandler", "hand the message to the application", { "core.divergence": false }),
    inst("core/transmit.ts", "core", "EventHandler", "keep in the retransmission buffer and send"),
    inst("core/read.ts", "core", "EventHandler", "produce non-deterministic input (not logged: apps that read are not recoverable here)"),
    inst(
      "ckpt-only/store.ts",
      ck.how.id,
      "HowToCheckpoint",
      "write checkpoints with their history; never drop one a recovery line may need",
      { "ckpt.medium": ck.storage.id, "ckpt.sync": ck.how.id === "synchronously", "ckpt.incremental": ck.impl.id === "incremental" },
      ck.loc,
    ),
  );
  return out;
}
