/**
 * Checks about where things are kept: what must survive a crash has to be on
 * storage the registry marks `stable`, and replicated storage needs f ≥ 1.
 */
import type { CheckContext } from "./check-context.js";
import { isStable } from "./check-facts.js";

export function checkStorage(ctx: CheckContext): void {
  const { ir } = ctx.facts;
  const traits = (id: string) => ctx.registry.get("storage", id)?.storage;

  // A checkpoint is the state recovery restarts from. Kept in memory that the
  // crash erases, there is nothing to restart from.
  const ck = ir.checkpoint;
  if (ck && traits(ck.storage.id)?.stable === false) {
    ctx.report({
      severity: "error",
      code: "E-checkpoint-volatile-storage",
      message: `checkpoint on volatile storage \`${ck.storage.id}\`: a crash erases the checkpoint it would restart from`,
      at: ck.storage,
      hint: "checkpoint on stable storage, e.g. `on NFS disk` or `on local disk`",
    });
  }

  // What a rolling-back process saves must outlive the rollback and any later crash.
  const rb = ir.recovery.onRollback;
  if (rb && traits(rb.storage.id)?.stable === false) {
    ctx.report({
      severity: "error",
      code: "E-rollback-volatile-storage",
      message: `\`On rollback\` saves to volatile storage \`${rb.storage.id}\`, which the rollback itself discards`,
      at: rb.storage,
      hint: "save to stable storage, e.g. `on NFS disk`",
    });
  }

  // A non-det statement's log is the recovery copy of its determinant (the
  // grammar says <stable-storage>). In volatile storage it dies with the
  // process, so the crashed process cannot replay its own history, unless
  // causal piggybacking has already put copies in other processes.
  if (!ctx.facts.piggybackDeterminants) {
    for (const site of ctx.facts.logs) {
      if (site.origin !== "non-det" || isStable(site)) continue;
      ctx.report({
        severity: "error",
        code: "E-determinant-log-volatile",
        message: `the ${site.event} determinant is logged only on volatile storage \`${site.log.where.id}\`, which a crash erases`,
        at: site.log.where,
        hint: "log on stable storage (`NFS disk`, `local disk`, `volatile memory of processes`), or add `send: Piggyback determinants` for causal logging",
      });
    }
  }

  // Replication to the memory of f other processes with f = 0 keeps one copy:
  // the writer's own, which the crash erases.
  const f = ir.options.f;
  if (f < 1) {
    for (const ref of ctx.facts.usesReplication) {
      ctx.report({
        severity: "error",
        code: "E-replication-needs-f",
        message: `\`${ref.id}\` replicates to f other processes, but f = ${f}: no copy survives a crash`,
        at: ref,
        hint: "set f ≥ 1 (f larger than the number of processes is only known at run time)",
      });
    }
    // Causal logging piggybacks a determinant until f+1 processes hold it;
    // with f = 0 that is the process itself, so nothing is ever piggybacked.
    const pb = ctx.facts.piggybackDeterminants;
    if (pb) {
      ctx.report({
        severity: "error",
        code: "E-causal-needs-f",
        message: `causal logging with f = ${f} never piggybacks a determinant, so no other process holds a copy`,
        at: pb,
        hint: "set f ≥ 1",
      });
    }
  }
}
