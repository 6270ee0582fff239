/**
 * How a delivery pump ends when its loop rejects (shared by core/pump.ts and
 * ckpt-only/pump.ts; not a block: imported by value). Nobody awaits the pump
 * (`void s.onPump(...)`), so a rejection would escape as an unhandled
 * rejection: route it to the host's one failure path instead. A failure the
 * host already reported (its calls then reject to unwind) keeps its first
 * report. The caller leaves the pump claimed: the process has failed, and
 * pumping again would only fail again.
 */
import type { Kernel } from "../hooks.js";

type K = Kernel;

export function pumpFailed(s: K, e: unknown): void {
  try {
    s.host.unrecoverable(`delivery pump: ${String(e)}`);
  } catch {
    // unrecoverable() throws to unwind its caller; the pump ends here.
  }
}
