/**
 * A generated package needs nothing from this repository: in a temp dir
 * outside the workspace, install the packed runtime-core and a packed
 * generated package (the two tarballs; their registry dependencies come from
 * npm's cache or the registry), then run an application under the protocol
 * with egida-run. The protocol imports its parameter-free helpers from the
 * installed runtime (`@egida/runtime-core/protocol-lib`).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../compiler/src/cli/main.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "egida-standalone-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const NPM = process.platform === "win32" ? "npm.cmd" : "npm";

function npm(cwd: string, ...args: string[]): string {
  return execFileSync(NPM, args, { cwd, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8", env: { ...process.env, npm_config_update_notifier: "false" } });
}

function tarball(): string {
  const t = readdirSync(tmp).filter((f) => f.endsWith(".tgz"));
  return t[t.length - 1]!;
}

const RING = `export default {
  init({ rank, size }) { return { rank, size, seen: 0 }; },
  onStart(s, ctx) { if (s.rank === 0) ctx.send(1 % s.size, { hop: 1 }); },
  async onMessage(s, msg, ctx) {
    s.seen++;
    if (msg.data.hop < 12) ctx.send((s.rank + 1) % s.size, { hop: msg.data.hop + 1 });
    if (msg.data.hop >= 12 - s.size + 1) { await ctx.write({ rank: s.rank, seen: s.seen }); ctx.done(); }
  },
};
`;

describe("standalone generated package", () => {
  it("installs from tarballs outside the workspace and runs an app under egida-run", async () => {
    expect(existsSync(join(ROOT, "runtime-core/dist/index.js")), "build runtime-core first (npm run build)").toBe(true);
    npm(join(ROOT, "runtime-core"), "pack", "--silent", "--pack-destination", tmp);
    const runtimeTgz = tarball();

    const pkgDir = join(tmp, "pkg");
    let err = "";
    const code = await main(["compile", join(ROOT, "specs/receiver-based-pessimistic.egida"), "--out", pkgDir, "--build"], {
      stdout: () => undefined,
      stderr: (t) => void (err += t),
      stderrIsTTY: false,
      env: { NO_COLOR: "1" },
    });
    expect(err).toBe("");
    expect(code).toBe(0);
    // --build made dist/; the package's prepack would rebuild it with its own devDependencies (tsc), not installed here.
    npm(pkgDir, "pack", "--silent", "--ignore-scripts", "--pack-destination", tmp);
    const protoTgz = readdirSync(tmp).find((f) => f.startsWith("egida-protocol-"))!;
    expect(protoTgz).toBeDefined();

    const app = join(tmp, "app");
    mkdirSync(app);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
    writeFileSync(join(app, "ring.mjs"), RING);
    npm(app, "install", "--no-audit", "--no-fund", "--prefer-offline", join(tmp, runtimeTgz), join(tmp, protoTgz));

    // The factory, as a consumer sees it.
    const shape = execFileSync(
      process.execPath,
      ["--input-type=module", "-e", 'const { protocol } = await import("@egida/protocol-receiver-based-pessimistic"); console.log(JSON.stringify([protocol.protocolName, protocol.defaultF, typeof protocol.create]));'],
      { cwd: app, encoding: "utf8" },
    );
    expect(JSON.parse(shape)).toEqual(["receiver-based-pessimistic", 1, "function"]);
    // The helpers specialization does not change come from the installed runtime (its protocol-lib subpath), not from copies.
    const js = readFileSync(join(app, "node_modules/@egida/protocol-receiver-based-pessimistic/dist/index.js"), "utf8");
    expect(js).toMatch(/^import \{[^}]*\boutPush\b[^}]*\} from "@egida\/runtime-core\/protocol-lib";$/m);
    expect(js).not.toMatch(/function outPush\b/);

    // An application under the protocol, with the installed launcher.
    execFileSync(process.execPath, [join(app, "node_modules/@egida/runtime-core/bin/egida-run.js"), "-n", "3", "--sim", "--protocol", "@egida/protocol-receiver-based-pessimistic", "--output", "out.jsonl", "--timeout", "20000", "ring.mjs"], {
      cwd: app,
      stdio: "pipe",
    });
    const outputs = readFileSync(join(app, "out.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { rank: number });
    expect(outputs.map((o) => o.rank).sort()).toEqual([0, 1, 2]);
  }, 120_000);
});
