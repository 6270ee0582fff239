/**
 * StallDetector's rule and diagnosis on a fake clock: what counts as progress,
 * and what the message says about each rank.
 */
import { describe, expect, it } from "vitest";
import { BUSY_CPU_SHARE, StallDetector, stallWindow, type RankActivity } from "../src/launcher/stall-detector.js";

const act = (over: Partial<RankActivity> = {}): RankActivity => ({ incarnation: 0, phase: "running", deliveries: 0, sends: 0, outputs: 0, ...over });

describe("StallDetector", () => {
  it("counters, phases and CPU above the threshold are progress; a heartbeat with the same counts and idle CPU is not", () => {
    const d = new StallDetector({ size: 2, now: 0, unit: "s", reports: true });
    d.observe(0, act(), 0);
    d.observe(1, act(), 0);
    d.observe(0, act({ deliveries: 5 }), 1000);
    expect(d.stalledFor(1000)).toBe(0);
    // Heartbeats: same counts, 1% CPU.
    for (let t = 1500; t <= 5000; t += 500) {
      d.observe(0, act({ deliveries: 5 }), t);
      d.observe(1, act(), t);
      d.cpu(0, 5, 500, t);
    }
    expect(d.stalledFor(5000)).toBe(4000);
    expect(d.check(5000, 3000)).toMatch(/^stalled: no progress for 4\.0 s /);
    expect(d.check(5000, 5000)).toBeNull();
    expect(d.check(5000, undefined)).toBeNull();
    // Computing: progress although nothing is sent.
    d.cpu(1, BUSY_CPU_SHARE * 500, 500, 5500);
    expect(d.stalledFor(5500)).toBe(0);
    d.observe(1, act({ phase: "done" }), 6000);
    expect(d.stalledFor(6000)).toBe(0);
  });

  it("names a recovering rank with the protocol's last note, a stopped rank, and a done rank", () => {
    const d = new StallDetector({ size: 3, now: 0, unit: "s", reports: true });
    d.observe(0, act({ phase: "done", deliveries: 3 }), 0);
    d.observe(1, act({ incarnation: 1, phase: "recovering", note: "causal gather: replay 1..41" }), 500);
    d.observe(2, act({ deliveries: 7 }), 0);
    d.procState(2, "T");
    for (let t = 1000; t <= 12_000; t += 500) {
      d.observe(0, act({ phase: "done", deliveries: 3 }), t);
      d.observe(1, act({ incarnation: 1, phase: "recovering", note: "causal gather: replay 1..41" }), t);
    }
    const msg = d.check(12_000, 10_000)!;
    expect(msg).toContain("rank 0 (incarnation 0) done");
    expect(msg).toContain('rank 1 (incarnation 1) recovering for 11.5 s, no delivery yet; last protocol note: "causal gather: replay 1..41"');
    expect(msg).toContain("rank 2 (incarnation 0) stopped (process state T, e.g. SIGSTOP: no CPU, no report for 12.0 s; last seen running)");
  });

  it("a rank silent for long but not stopped is named as not responding", () => {
    const d = new StallDetector({ size: 1, now: 0, unit: "s", reports: true });
    d.observe(0, act(), 0);
    d.procState(0, "S");
    expect(d.check(11_000, 10_000)).toContain("rank 0 (incarnation 0) not responding (no report for 11.0 s, process state S");
  });

  it("stallWindow: explicit value, 0 disables, default 10 s, 3 s after a state loss", () => {
    expect(stallWindow(1500, false)).toBe(1500);
    expect(stallWindow(0, true)).toBeUndefined();
    expect(stallWindow(undefined, false)).toBe(10_000);
    expect(stallWindow(undefined, true)).toBe(3000);
  });
});
