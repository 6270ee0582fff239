/**
 * Checks that each statement makes sense for its event. Under piecewise
 * determinism only `receive` and `read` are non-deterministic, only messages
 * (`send`) can carry a piggyback, and only events that reach the environment
 * commit output.
 */
import type { EventKind } from "../ir/types.js";
import type { CheckContext } from "./check-context.js";
import { hasInfo, INFO_MESSAGE, PB_DETERMINANTS } from "./check-facts.js";

const NON_DET: ReadonlySet<EventKind> = new Set(["receive", "read"]);
const OUTPUT: ReadonlySet<EventKind> = new Set(["write", "send"]);

export function checkEvents(ctx: CheckContext): void {
  const { ir } = ctx.facts;

  for (const s of ir.nonDeterministic) {
    // A send or a write is a deterministic function of the state before it;
    // replay regenerates it, so its determinant is never needed.
    if (!NON_DET.has(s.event)) {
      ctx.report({
        severity: "warning",
        code: "W-deterministic-event-determinant",
        message: `\`${s.event}\` is deterministic: replay regenerates it, so its determinant is never used`,
        at: s,
        hint: "declare determinants for `receive` and `read` only",
      });
    }
    // A read takes a value from the environment; there is no message. The
    // value read is what its determinant records.
    if (s.event === "read" && s.log && hasInfo(s.log, INFO_MESSAGE)) {
      const ref = s.log.info.find((i) => i.id === INFO_MESSAGE) ?? s.log;
      ctx.report({
        severity: "error",
        code: "E-read-has-no-message",
        message: "`read` has no message to log: the value read is part of its determinant",
        at: ref,
        hint: "write `Log determinant ...` for a read",
      });
    }
  }

  for (const s of ir.dependencyGenerating) {
    // Only an application message can carry a piggyback to another process.
    if (s.piggyback.length > 0 && s.event !== "send") {
      ctx.report({
        severity: "error",
        code: "E-piggyback-not-on-send",
        message: `\`${s.event}\` carries no message to piggyback on`,
        at: s,
        hint: "write the piggyback on `send:`",
      });
    }
    // A read is non-deterministic (it belongs in a determinant statement); a
    // write is output, which is never replayed to the environment.
    if (s.event === "read" || s.event === "write") {
      ctx.report({
        severity: "warning",
        code: "W-not-dependency-generating",
        message: `\`${s.event}\` creates no dependency between processes; ${s.event === "read" ? "declare it with `read: determinant : {...}`" : "outputs are never replayed, so logging them is unused"}`,
        at: s,
      });
    }
    // A send's determinant, like a non-det statement's for send (above), is never used.
    const det = s.event === "send" ? s.log?.info.find((i) => i.id === "determinant") : undefined;
    if (det) {
      ctx.report({
        severity: "warning",
        code: "W-deterministic-event-determinant",
        message: "`send` is deterministic: replay regenerates it, so logging its determinant is unused",
        at: det,
        hint: "log `message` only on send",
      });
    }
    for (const pb of s.piggyback) {
      if (pb.tracking && pb.id !== PB_DETERMINANTS) {
        ctx.report({
          severity: "error",
          code: "E-tracking-without-determinants",
          message: `\`${pb.tracking.id}\` tracks the stability of piggybacked determinants; it cannot modify \`${pb.id}\``,
          at: pb.tracking,
          hint: "write `Piggyback determinants, stability matrix`",
        });
      }
    }
  }

  // Causal logging piggybacks the determinants of non-deterministic events; with none declared there is nothing to send.
  const pbDet = ctx.facts.piggybackDeterminants;
  if (pbDet && ir.nonDeterministic.every((s) => !NON_DET.has(s.event))) {
    ctx.report({
      severity: "error",
      code: "E-piggyback-without-determinant",
      message: "determinants are piggybacked, but no non-deterministic event creates one",
      at: pbDet,
      hint: "add `receive: determinant : {source, sesn, dest, desn}`",
    });
  }

  const seen = new Map<EventKind, string>();
  for (const oc of ir.outputCommit) {
    for (const e of oc.events) {
      // Input events never reach the environment, so there is no output to commit.
      if (!OUTPUT.has(e)) {
        ctx.report({
          severity: "warning",
          code: "W-output-commit-on-input",
          message: `output commit on \`${e}\`: ${e} does not release anything to the environment`,
          at: oc,
          hint: "commit output on `write`",
        });
      }
      // One output cannot be committed both independently and in coordination.
      const prev = seen.get(e);
      if (prev !== undefined && prev !== oc.proto.id) {
        ctx.report({
          severity: "error",
          code: "E-output-commit-conflict",
          message: `\`${e}\` has two output commit protocols: \`${prev}\` and \`${oc.proto.id}\``,
          at: oc.proto,
          hint: "keep one output commit statement per event",
        });
      }
      seen.set(e, oc.proto.id);
    }
  }
}
