/**
 * Can a crashed process be brought back at all? Replay needs, for every
 * non-deterministic event after the last checkpoint, its determinant (which
 * message, in which order, or which value was read) and, for a receive, the
 * message contents.
 */
import type { CheckContext } from "./check-context.js";
import { HOW_SYNC, hasInfo, INFO_DETERMINANT, INFO_MESSAGE } from "./check-facts.js";

const RECEIVE_FIELDS = ["source", "sesn", "desn"] as const;

export function checkRecoverability(ctx: CheckContext): void {
  const { facts } = ctx;
  const { ir } = facts;

  for (const s of ir.nonDeterministic) {
    // A determinant that is neither logged nor piggybacked exists only in the
    // memory of the process that created it: after a crash nobody knows in
    // which order messages were delivered (or what a read returned), so the
    // replayed execution may diverge from the one others depend on.
    const logged = s.log !== null && hasInfo(s.log, INFO_DETERMINANT);
    if (!logged && !facts.piggybackDeterminants) {
      ctx.report({
        severity: "error",
        code: "E-determinant-not-logged",
        message: `the ${s.event} determinant is never logged nor piggybacked: a crash loses it and replay cannot reproduce the ${s.event === "read" ? "values read" : "delivery order"}`,
        at: s,
        hint: `add \`Log determinant synchronously on NFS disk\` to the ${s.event} statement, or \`send: Piggyback determinants\``,
      });
    }
    // The determinant must name the message (source, sesn) and its delivery
    // position (desn); dest is the logging process itself.
    if (s.event === "receive") {
      const missing = RECEIVE_FIELDS.filter((f) => !s.determinant.includes(f));
      if (missing.length > 0) {
        ctx.report({
          severity: "error",
          code: "E-determinant-incomplete",
          message: `the receive determinant lacks ${missing.join(", ")}: replay cannot identify each message and its delivery position`,
          at: s,
          hint: "write `receive: determinant : {source, sesn, dest, desn}`",
        });
      }
    }
  }

  // Message delivery order is the non-determinism every log-based protocol
  // must replay; logging only read (or send/write) determinants leaves it
  // unrecorded, and replay diverges from what the others saw.
  if (facts.hasMessageLogging && !ir.nonDeterministic.some((s) => s.event === "receive")) {
    const first = ir.nonDeterministic[0];
    ctx.report({
      severity: "error",
      code: "E-receive-determinant-missing",
      message: "determinants are logged, but not those of `receive`: after a crash nobody knows in which order messages were delivered",
      at: first ?? facts.piggybackDeterminants ?? ir,
      hint: "add `receive: determinant : {source, sesn, dest, desn}` with `Log determinant synchronously on NFS disk`",
    });
  }

  // Determinants say which message to redeliver and when; the contents must
  // come from somewhere. Senders keep them (sender-based: any storage will
  // do, since a crashed sender regenerates its sends during its own replay),
  // or the receiver logs them on stable storage. A receiver's volatile copy
  // dies with the receiver, the one process that needs it.
  const receive = ir.nonDeterministic.find((s) => s.event === "receive");
  const receiveHandled = receive !== undefined && ((receive.log !== null && hasInfo(receive.log, INFO_DETERMINANT)) || facts.piggybackDeterminants !== undefined);
  if (receive && receiveHandled) {
    if (facts.senderMessageLogs.length === 0 && facts.receiverMessageLogs.length === 0) {
      const volatileCopy = facts.logs.find((l) => l.event === "receive" && hasInfo(l.log, INFO_MESSAGE));
      ctx.report({
        severity: "error",
        code: "E-no-message-replay",
        message: volatileCopy
          ? `message contents are logged only on the receiver's volatile storage \`${volatileCopy.log.where.id}\`, which the crash erases: the determinants name messages nobody can replay`
          : "receive determinants are kept but no message contents are: after a crash nobody can replay the messages they name",
        at: volatileCopy ? volatileCopy.log.where : receive,
        hint: "add `send: Log message synchronously on volatile memory of self` (sender-based), or log `determinant, message` on stable storage at the receiver",
      });
    } else if (facts.senderMessageLogs.length === 0) {
      // A determinant that is stable before the message it names: after a
      // crash between the two writes, recovery knows a message was delivered
      // but not what it said.
      const syncDet = facts.detLogs.find((l) => l.event === "receive" && l.log.how.id === HOW_SYNC);
      const asyncMsg = facts.receiverMessageLogs.every((l) => l.log.how.id !== HOW_SYNC);
      if (syncDet && asyncMsg) {
        const first = facts.receiverMessageLogs[0];
        ctx.report({
          severity: "error",
          code: "E-message-log-behind-determinant",
          message: "receive determinants are logged synchronously but message contents only asynchronously: a crash can keep a determinant whose message is lost",
          at: first ? first.log.how : syncDet.log.how,
          hint: "log the message in the same statement (`Log determinant, message synchronously on ...`) or synchronously",
        });
      }
    }
  }

  // No logging and no checkpoint: a crashed process restarts from its
  // initial state while others remember messages it no longer sent. Nothing
  // in the generated protocol would help, so this is an error rather than a
  // warning; a program that wants no fault tolerance needs no egida protocol.
  if (!ir.checkpoint && !facts.hasMessageLogging && ir.nonDeterministic.length === 0) {
    ctx.report({
      severity: "error",
      code: "E-no-fault-tolerance",
      message: "the protocol neither logs determinants nor checkpoints: a crash loses the process's state and leaves the others inconsistent",
      at: ir.outputCommit[0] ?? ir.dependencyGenerating[0] ?? ir,
      hint: "add a checkpoint statement, e.g. `Co-ordinated checkpoint synchronously on NFS disk Implementation : full`, or log receive determinants",
    });
  }
}
