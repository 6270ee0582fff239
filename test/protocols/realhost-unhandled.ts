/**
 * Child-process check for runSimJob (run with tsx by realhost.test.ts): a
 * job whose protocol leaves a floating promise (`void s.onPump()`) that
 * rejects after the host reported a failure must end with the failure
 * report, not die of an unhandled rejection. The failure: Fig 4b with f = 1
 * and an origin killed together with its only replica (an output retraction).
 */
import { runSimJob } from "../../runtime-core/src/launcher/sim-job.js";
import { tokenApp } from "./apps.js";
import { loadSpec } from "./spec.js";
import { composeFromIR } from "../../compiler/src/dev/select-ir.js";

const factory = composeFromIR(loadSpec("fig4b-f-replicated.egida", { checkpointIntervalMs: 20, flushIntervalMs: 5 }));
const res = await runSimJob({
  size: 4,
  seed: 502,
  app: tokenApp({ tokens: 3, hops: 50 }) as Parameters<typeof runSimJob>[0]["app"],
  protocol: factory as unknown as Parameters<typeof runSimJob>[0]["protocol"],
  kills: [
    { rank: 1, atMs: 60, text: "1@60ms" },
    { rank: 2, atMs: 60, text: "2@60ms" },
  ],
  restartDelayMs: 5,
});
console.log(`job failure: ${res.failure?.kind ?? "none"}`);
