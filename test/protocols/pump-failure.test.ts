/**
 * The delivery pump is a floating promise (`void s.onPump(...)`): nobody
 * awaits it, so a rejection inside it (here: the event log failing under a
 * delivery) used to escape as an unhandled rejection, which kills
 * an `egida-run` rank process with no report. The pump now routes it to the
 * host's failure path: the job fails as `unrecoverable` naming the cause.
 * Vitest also fails a run on any unhandled rejection, so this test fails
 * without the fix twice over.
 */
import { describe, expect, it } from "vitest";
import type { App, LogStore, Protocol, ProtocolFactory, ProtocolHost, StorageProvider } from "@egida/runtime-core/spi";
import { runSimJob } from "../../runtime-core/src/launcher/sim-job.js";
import { tokenApp } from "./apps.js";
import { loadSpec } from "./spec.js";
import { composeFromIR } from "../../compiler/src/dev/select-ir.js";

/** A log whose `sync` (or `append`) fails from the `failAt`-th call on, as a disk that went away would. */
function failingSync(log: LogStore, failAt: number, what: "sync" | "append"): LogStore {
  let syncs = 0;
  let appends = 0;
  return {
    medium: log.medium,
    append: (d) => {
      if (what === "append" && ++appends >= failAt) throw new Error("disk gone (injected)");
      return log.append(d);
    },
    sync: () => (what === "sync" && ++syncs >= failAt ? Promise.reject(new Error("disk gone (injected)")) : log.sync()),
    readAll: () => log.readAll(),
    truncatePrefix: (l) => log.truncatePrefix(l),
    get nextLsn() {
      return log.nextLsn;
    },
    get stats() {
      return log.stats;
    },
    close: () => log.close(),
  };
}

/** The factory, with rank 1's event log failing on its 6th sync (or append). */
function withFailingLog(inner: ProtocolFactory, what: "sync" | "append"): ProtocolFactory {
  return {
    protocolName: inner.protocolName,
    defaultF: inner.defaultF,
    create(h: ProtocolHost): Protocol {
      const storage: StorageProvider = {
        openLog: async (medium, name) => {
          const log = await h.storage.openLog(medium, name);
          return h.rank === 1 && name === "events" ? failingSync(log, 6, what) : log;
        },
        openCheckpoints: (medium) => h.storage.openCheckpoints(medium),
      };
      return inner.create({
        rank: h.rank,
        size: h.size,
        incarnation: h.incarnation,
        f: h.f,
        transport: h.transport,
        storage,
        timers: h.timers,
        trace: (e) => h.trace(e),
        initApp: (o) => h.initApp(o),
        deliver: (from, payload, o) => h.deliver(from, payload, o),
        captureAppState: () => h.captureAppState(),
        restoreAppState: (b) => h.restoreAppState(b),
        emitOutput: (seq, payload) => h.emitOutput(seq, payload),
        unrecoverable: (reason) => h.unrecoverable(reason),
      });
    },
  };
}

describe("delivery pump failures", () => {
  const run = (what: "sync" | "append") =>
    runSimJob({
      size: 3,
      seed: 7,
      app: tokenApp({ tokens: 2, hops: 30 }) as App<unknown>,
      // The sim is imported from source, the SPI from the package: same shapes, distinct const-enum declarations.
      protocol: withFailingLog(composeFromIR(loadSpec("receiver-based-pessimistic.egida", { checkpointIntervalMs: 20 })), what) as unknown as Parameters<typeof runSimJob>[0]["protocol"],
    });

  it("a rejection inside the pump ends the job as unrecoverable, not as an unhandled rejection", async () => {
    // The event log's append runs inside the delivery (log/event-log), so inside the pump.
    const res = await run("append");
    expect(res.failure).toMatchObject({ kind: "unrecoverable", rank: 1 });
    expect(res.failure?.kind === "unrecoverable" ? res.failure.reason : "").toBe("delivery pump: Error: disk gone (injected)");
  });

  it("a failed sync of the durable watermark ends the job as unrecoverable, not as an unhandled rejection", async () => {
    // The sync runs outside the pump (log/watermark's group-commit round): it reports its own failure.
    const res = await run("sync");
    expect(res.failure).toMatchObject({ kind: "unrecoverable", rank: 1 });
    expect(res.failure?.kind === "unrecoverable" ? res.failure.reason : "").toBe("determinant log sync: Error: disk gone (injected)");
  });
});
