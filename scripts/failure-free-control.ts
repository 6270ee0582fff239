/**
 * Control frames of failure-free runs, per protocol × conformance app, on the
 * campaign's seeds 1..N (inline back end): the baseline to subtract from
 * `npm run campaign`'s "control frames" column to get the control traffic a
 * failure costs (docs/protocols.md compares broadcast and exchange orphan
 * detection with it).
 *   npx tsx scripts/failure-free-control.ts optimistic-checkpointed,optimistic-exchange-vc 40
 */
import { CONFORMANCE_APPS } from "../test/conformance/apps.js";
import { CampaignContext, runCase } from "../test/conformance/campaign.js";
import { discoverProtocols } from "../test/conformance/protocols.js";
const names = (process.argv[2] ?? "").split(",").filter((x) => x !== "");
if (names.length === 0) {
  process.stderr.write("usage: npx tsx scripts/failure-free-control.ts P[,P...] [N]\n");
  process.exit(2);
}
const runs = Number(process.argv[3] ?? 40);
const { protocols } = await discoverProtocols({ backends: ["inline"] });
for (const name of names) {
  const e = protocols.find((p) => p.name === name);
  if (e === undefined) {
    process.stderr.write(`unknown protocol ${name}\n`);
    process.exit(2);
  }
  const factory = await e.load();
  const ctx = new CampaignContext();
  for (const a of CONFORMANCE_APPS) {
    let control = 0;
    for (let seed = 1; seed <= runs; seed++) {
      const c = await runCase(ctx, e, factory, a, seed, "given", [], { shrink: false, boundedStorage: false });
      control += c.result.counts.control;
    }
    console.log(`${name} ${a.name} failure-free control frames over ${runs} seeds: ${control}`);
  }
}
