/**
 * egida-view's HTML in a real browser: Debian's chromium driven by
 * playwright-core. A small crash run over TCP (3 rank processes, one
 * SIGKILLed) is traced, drawn, and inspected: the lanes, the message arrows
 * (replayed ones too), the kill, restart and recovery marks, the tooltip on
 * hover, the details on click, wheel zoom and drag pan. Any page error or
 * console error fails the test. The screenshot goes to a temp file, or to
 * docs/images/viewer.png (the README's) with EGIDA_SCREENSHOTS=1, so that
 * `npm test` leaves the tree as it found it.
 *
 * CI installs chromium (.ci/run); elsewhere, without /usr/bin/chromium, the
 * test is skipped with that reason.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const CHROMIUM = "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);
const inCi = process.env["CI"] !== undefined && process.env["CI"] !== "" && process.env["CI"] !== "false";
const SCREENSHOT = process.env["EGIDA_SCREENSHOTS"] === "1" ? join(ROOT, "docs/images/viewer.png") : join(tmpdir(), `egida-viewer-${process.pid}.png`);

interface ViewStats {
  lanes: number;
  arrows: number;
  replayArrows: number;
  marks: Record<string, number>;
  spans: Record<string, number>;
}

// Not in CI and no chromium: nothing to drive. In CI the describe runs and fails at launch.
const skip = !haveChromium && !inCi;
const title = skip ? "egida-view in Chromium (skipped: /usr/bin/chromium is not installed; apt-get install -y chromium)" : "egida-view in Chromium";
describe.skipIf(skip)(title, () => {
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    if (!haveChromium) throw new Error(`${CHROMIUM} is missing: CI must install it (.ci/run: apt-get install -y chromium)`);
    const dir = mkdtempSync(join(tmpdir(), "egida-viewer-"));
    const trace = join(dir, "crash.jsonl");
    const html = join(dir, "crash.html");
    const run = spawnSync(
      process.execPath,
      [
        join(ROOT, "runtime-core/bin/egida-run.js"),
        ...["-n", "3", "-q", "--protocol", join(ROOT, "generated/family-based-causal"), "--kill", "1@15msgs", "--trace", trace],
        join(ROOT, "examples/apps/token-ring.mjs"),
        "--",
        "30",
      ],
      { encoding: "utf8", timeout: 60_000 },
    );
    expect(run.status, run.stderr).toBe(0);
    const view = spawnSync(process.execPath, [join(ROOT, "runtime-core/bin/egida-view.js"), trace, "--out", html, "--title", "egida run: token-ring, rank 1 killed"], { encoding: "utf8" });
    expect(view.status, view.stderr).toBe(0);

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
    page = await browser.newPage({ viewport: { width: 1400, height: 560 } });
    page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(`console: ${m.text()}`);
    });
    // A self-contained page asks the network for nothing.
    page.on("request", (r) => {
      if (!r.url().startsWith("file:")) errors.push(`request: ${r.url()}`);
    });
    await page.goto(`file://${html}`);
    await page.waitForFunction(() => "egidaView" in globalThis);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  const stats = (): Promise<ViewStats> => page.evaluate(() => (globalThis as unknown as { egidaView: { stats(): ViewStats } }).egidaView.stats());
  const locate = (kind: string): Promise<{ x: number; y: number } | null> =>
    page.evaluate((k) => (globalThis as unknown as { egidaView: { locate(k: string): { x: number; y: number } | null } }).egidaView.locate(k), kind);
  const view = (): Promise<{ from: number; to: number }> => page.evaluate(() => (globalThis as unknown as { egidaView: { view(): { from: number; to: number } } }).egidaView.view());

  it("draws a lane per rank, every message as an arrow, and the crash and recovery", async () => {
    expect(await page.locator(".lane-label").allTextContents()).toEqual(["rank 0", "rank 1", "rank 2"]);
    const s = await stats();
    expect(s.lanes).toBe(3);
    expect(s.arrows).toBe(105); // 90 first deliveries + 15 replayed
    expect(s.replayArrows).toBe(15);
    expect(s.marks["kill"]).toBe(1);
    expect(s.marks["restart"]).toBe(1);
    expect(s.marks["recovery"]).toBeGreaterThanOrEqual(3);
    expect(s.marks["output-release"]).toBe(3);
    expect(s.spans["recovery"]).toBe(1);
    expect(s.spans["down"]).toBe(1);
    expect(s.spans["incarnation"]).toBe(4);
  });

  it("shows an event's summary on hover and its details on click", async () => {
    const kill = await locate("kill");
    expect(kill).not.toBeNull();
    await page.mouse.move(kill!.x, kill!.y);
    await page.locator("#tip").waitFor({ state: "visible", timeout: 5000 });
    expect(await page.locator("#tip").textContent()).toContain("kill — rank 1 inc 0");
    await page.mouse.click(kill!.x, kill!.y);
    const killDetails = await page.locator("#details pre").textContent();
    expect(killDetails).toContain('"ev": "kill"');
    expect(killDetails).toContain("--kill 1@15msgs");

    const replay = await locate("replay");
    expect(replay).not.toBeNull();
    await page.mouse.click(replay!.x, replay!.y);
    expect(await page.locator("#details h2").textContent()).toContain("replayed delivery");
    expect(await page.locator("#details pre").textContent()).toContain('"replay": true');
  });

  it("zooms with the wheel and pans by dragging", async () => {
    const before = await view();
    const box = (await page.locator("#canvas").boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, -600);
    const zoomed = await view();
    expect(zoomed.to - zoomed.from).toBeLessThan((before.to - before.from) * 0.6);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 + 200, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    const panned = await view();
    expect(panned.from).toBeLessThan(zoomed.from);
    expect(panned.to - panned.from).toBeCloseTo(zoomed.to - zoomed.from, 6);
    // Double-click fits the whole run again, for the screenshot.
    await page.mouse.dblclick(box.x + 5, box.y + box.height - 5);
    expect((await view()).to - (await view()).from).toBeCloseTo(before.to - before.from, 6);
  });

  it("saves a screenshot, and the page threw nothing", async () => {
    const kill = await locate("kill");
    await page.mouse.click(kill!.x, kill!.y);
    mkdirSync(join(ROOT, "docs/images"), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });
    expect(existsSync(SCREENSHOT)).toBe(true);
    expect(errors).toEqual([]);
  });
});
