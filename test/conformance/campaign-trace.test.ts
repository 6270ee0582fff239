/**
 * `npm run campaign -- ... --schedule JSON --trace FILE`: the campaign's run
 * of one schedule writes a run trace (docs/trace.md). Tracing tags the
 * application's payloads with message ids; the oracles must see the same
 * messages, so the traced run is still judged clean, and the trace validates
 * against the schema and shows the schedule's crashes.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { parseTrace } from "../../runtime-core/src/trace/read.js";
import { findApp } from "./apps.js";
import { CampaignContext, describeCase, runCase } from "./campaign.js";
import { discoverProtocols } from "./protocols.js";
import { parseSchedule } from "./schedule.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const validate = new Ajv2020({ strict: true }).compile(JSON.parse(readFileSync(join(ROOT, "runtime-core/trace-schema.json"), "utf8")) as object);

describe("campaign --trace", () => {
  it("traces a given schedule; the oracles still find it clean", async () => {
    const { protocols } = await discoverProtocols({ backends: ["inline"] });
    const e = protocols.find((p) => p.name === "family-based-causal")!;
    const file = join(mkdtempSync(join(tmpdir(), "egida-campaign-trace-")), "run.jsonl");
    const schedule = parseSchedule('[{"rank":0,"atDelivery":6},{"rank":1,"atStep":29}]');
    const c = await runCase(new CampaignContext(), e, await e.load(), findApp("master-worker"), 17, "given", schedule, { trace: file });
    expect(c.violations.map(() => describeCase(c))).toEqual([]);
    expect(c.repro).toBeUndefined();
    const text = readFileSync(file, "utf8");
    for (const l of text.split("\n").filter(Boolean)) expect(validate(JSON.parse(l)), l).toBe(true);
    const t = parseTrace(text);
    expect(t.header).toMatchObject({ mode: "sim", protocol: "family-based-causal", app: "master-worker", seed: 17, size: 4 });
    expect(t.records.filter((r) => r.ev === "kill").map((r) => r.rank).sort()).toEqual([0, 1]);
    expect(t.records.filter((r) => r.ev === "restart").map((r) => `${r.rank}:${r.inc}`).sort()).toEqual(["0:1", "1:1"]);
    // Deliveries name their sends.
    const sends = new Set(t.records.flatMap((r) => (r.ev === "send" ? [r.id] : [])));
    const delivers = t.records.filter((r) => r.ev === "deliver");
    expect(delivers.length).toBeGreaterThan(0);
    for (const d of delivers) expect(d.ev === "deliver" && d.id !== null && sends.has(d.id)).toBe(true);
    expect(t.records.at(-1)).toMatchObject({ ev: "end", ok: true });
  });
});
