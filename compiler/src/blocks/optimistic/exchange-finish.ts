/**
 * Optimistic logging with `exchange vector clock`: job end. AFTER
 * optimistic/finish in the chain (its onFinish resolved: this process is
 * quiet). Nobody pushes incarnation ends here, so a process finds out it is
 * an orphan only by asking the processes it depends on
 * (optimistic/exchange): finish resolves only once every clock entry is
 * known stable, and the process still quiet. Pulls go out at once, then on
 * every flush tick; an answer re-checks (optExchangeCheck).
 */
import type { Kernel, StartEv } from "../hooks.js";
import { optExchangeCheck, optPullAll } from "./pull.js";
import type { ExchangeState } from "./exchange-state.js";
import type { Fields as OptClock } from "./clock.js";
import type { Fields as OptCommit } from "./commit.js";
import type { PumpState } from "../core/pump-state.js";

type K = Kernel & ExchangeState & OptClock & OptCommit & PumpState;

export async function onFinish(s: K, _ev: StartEv): Promise<void> {
  await new Promise<void>((resolve) => {
    s.optExFinWait.push(resolve);
    optPullAll(s);
    optExchangeCheck(s);
  });
}

// ---- manifest (blocks/manifest.ts): declared last so edits above merge cleanly.
import type { BlockManifest } from "../manifest.js";

export const manifest: BlockManifest = {
  purpose: "Exchange vector clock at job end: finish waits until every clock entry is known stable.",
  implements: [{ module: "OrphanDetection" }, { variable: "orphan-detection-proto", value: "exchange-vector-clock" }],
  params: {},
  order: {
    // every pending commit before the job may end
    onFinish: { after: ["optimistic/finish.ts"] },
  },
  // No init: placed before core/read so the generated class keeps its layout.
  place: { before: ["core/read.ts"] },
  owns: {},
  // the blocks whose fields its K reads (ExchangeState is optimistic/exchange's)
  requires: ["optimistic/clock.ts", "optimistic/commit.ts", "optimistic/exchange.ts"],
};
