/**
 * The checkpoint-only protocols' facts (a checkpoint statement, no message
 * or determinant logging): co-ordinated, communication-induced (index-based,
 * BCS) and independent checkpointing with rollback propagation. Refuses
 * (UnsupportedProtocolError) what these blocks do not implement rather than
 * emitting a weaker protocol. The blocks are rows of blocks/family-rules.ts;
 * in chain order (their manifests):
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
import { UnsupportedProtocolError } from "../select-common.js";
import { baseFacts, checkpointFacts } from "./common.js";
import type { CheckpointOnlyFacts } from "./types.js";

const KINDS = new Set(["coordinated", "communication-induced", "independent"]);

/** `ir` has a checkpoint statement (the classifier's `checkpoint-*` families). */
export function checkpointOnlyFacts(ir: ProtocolIR): CheckpointOnlyFacts {
  // No determinant is logged or piggybacked.
  const log = ir.dependencyGenerating.find((st) => st.log !== null)?.log ?? undefined;
  if (log !== undefined) {
    throw new UnsupportedProtocolError(
      "`Log` in a protocol that logs no determinant: checkpoint-only recovery rolls back to a consistent line and never replays, so nothing would read the log",
      log.loc,
      "remove the `Log` action; for message logging, declare the receive determinant too: `receive: determinant : {source, sesn, dest, desn}` then `Log determinant, message synchronously on NFS disk`",
      "E-checkpoint-only-log",
    );
  }
  const nd = ir.nonDeterministic[0];
  if (nd !== undefined) throw new UnsupportedProtocolError(`${nd.event} determinants that are neither logged nor piggybacked`, nd.loc, "add `Log determinant synchronously on NFS disk` under it, or remove the statement");
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
  return { family: "checkpoint-only", ...baseFacts(ir), ck: checkpointFacts(ck)!, counter, counterLoc };
}
