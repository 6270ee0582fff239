/**
 * The build-step plugin, end to end: a fixture app that imports a spec
 * (`import { protocol } from "./fig4a-sby.egida"`) is bundled by Vite (SSR
 * build to Node), esbuild and Rollup; each bundle is imported and its
 * `protocol` must be a working ProtocolFactory. A bad spec must fail every
 * build with a located, rendered diagnostic and no stack trace.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { runSimJob } from "@egida/runtime-core";
import { loadApp } from "@egida/runtime-core/host";
import type { ProtocolFactory } from "@egida/runtime-core/spi";
import * as esbuild from "esbuild";
import { rollup, watch, type RollupError, type RollupWatcherEvent } from "rollup";
import { build as viteBuild } from "vite";
import webpack from "webpack";
import { rspack } from "@rspack/core";
import { afterAll, describe, expect, it } from "vitest";
import egidaEsbuild from "../src/plugin/esbuild.js";
import egidaRollup from "../src/plugin/rollup.js";
import egidaVite from "../src/plugin/vite.js";
import egidaWebpack from "../src/plugin/webpack.js";
import egidaRspack from "../src/plugin/rspack.js";
import type { EgidaPluginOptions } from "../src/plugin/unplugin.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const FIXTURE = fileURLToPath(new URL("./fixtures/plugin-build/", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "egida-plugin-build-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
// The output directory as an application's project: @egida/runtime-core installed. A bundle that leaves
// the protocol's import of `@egida/runtime-core/protocol-lib` external (rollup, EXTERNAL) loads it from there.
mkdirSync(join(tmp, "node_modules/@egida"), { recursive: true });
symlinkSync(join(ROOT, "runtime-core"), join(tmp, "node_modules/@egida/runtime-core"), "dir");

/** Spec paths in headers and messages relative to the repository, as the CLI shows them. */
const OPTS: EgidaPluginOptions = { root: ROOT };
const STACK_FRAME = /\n\s+at .+[:(]/;

/** What a Node application's rollup config leaves to Node: built-ins and its installed runtime (the protocol imports `@egida/runtime-core/protocol-lib`). */
const EXTERNAL = [/^node:/, /^@egida\/runtime-core(\/|$)/];

async function buildRollup(entry: string, out: string, opts: EgidaPluginOptions = OPTS): Promise<{ file: string; watchFiles: string[] }> {
  const bundle = await rollup({ input: join(FIXTURE, entry), plugins: [egidaRollup(opts)], external: EXTERNAL, onwarn: () => {} });
  try {
    const file = join(tmp, out);
    await bundle.write({ file, format: "es" });
    return { file, watchFiles: bundle.watchFiles };
  } finally {
    await bundle.close();
  }
}

async function buildEsbuild(entry: string, out: string): Promise<string> {
  const outfile = join(tmp, out);
  await esbuild.build({ entryPoints: [join(FIXTURE, entry)], outfile, bundle: true, platform: "node", format: "esm", logLevel: "silent", plugins: [egidaEsbuild(OPTS)] });
  return outfile;
}

async function buildVite(entry: string, out: string): Promise<string> {
  const outDir = join(tmp, out);
  await viteBuild({
    configFile: false,
    root: FIXTURE,
    logLevel: "silent",
    plugins: [egidaVite(OPTS)],
    build: { ssr: join(FIXTURE, entry), outDir, emptyOutDir: true, minify: false, rollupOptions: { output: { entryFileNames: "main.mjs" } } },
  });
  return join(outDir, "main.mjs");
}

/** The options webpack and Rspack share: an ES module bundle for Node, unminified (webpack 5 also needs `experiments.outputModule`). */
function packConfig(entry: string, outDir: string) {
  return {
    mode: "production" as const,
    target: "node" as const,
    context: FIXTURE,
    entry: join(FIXTURE, entry),
    output: { path: outDir, filename: "main.mjs", module: true, library: { type: "module" as const }, chunkFormat: "module" as const },
    optimization: { minimize: false },
  };
}

interface PackResult {
  file: string;
  errors: { message: string; moduleName?: string }[];
  warnings: { message: string }[];
}

async function buildWebpack(entry: string, out: string): Promise<PackResult> {
  const outDir = join(tmp, out);
  const stats = await new Promise<webpack.Stats>((res, rej) =>
    webpack({ ...packConfig(entry, outDir), experiments: { outputModule: true }, plugins: [egidaWebpack(OPTS)] }, (e, st) => (e ? rej(e) : st ? res(st) : rej(new Error("webpack: no stats")))),
  );
  const j = stats.toJson({ all: false, errors: true, warnings: true });
  return { file: join(outDir, "main.mjs"), errors: (j.errors ?? []) as PackResult["errors"], warnings: (j.warnings ?? []) as PackResult["warnings"] };
}

async function buildRspack(entry: string, out: string): Promise<PackResult> {
  const outDir = join(tmp, out);
  const stats = await new Promise<{ toJson(o: object): { errors?: unknown[]; warnings?: unknown[] } }>((res, rej) =>
    rspack({ ...packConfig(entry, outDir), plugins: [egidaRspack(OPTS)] }, (e, st) => (e ? rej(e) : st ? res(st) : rej(new Error("rspack: no stats")))),
  );
  const j = stats.toJson({ all: false, errors: true, warnings: true });
  return { file: join(outDir, "main.mjs"), errors: (j.errors ?? []) as PackResult["errors"], warnings: (j.warnings ?? []) as PackResult["warnings"] };
}

async function importProtocol(file: string): Promise<ProtocolFactory> {
  const mod = (await import(pathToFileURL(file).href)) as { protocol?: ProtocolFactory; protocolName?: string };
  const p = mod.protocol;
  expect(p).toBeDefined();
  expect(p!.protocolName).toBe("fig4a-sby");
  expect(mod.protocolName).toBe("fig4a-sby");
  expect(typeof p!.defaultF).toBe("number");
  expect(typeof p!.create).toBe("function");
  return p!;
}

describe("build-step plugin: fixture builds", () => {
  it("rollup: the bundle exports a ProtocolFactory that survives a crash; spec and config are watch files; output is deterministic", async () => {
    const a = await buildRollup("main.js", "rollup/a.mjs");
    const protocol = await importProtocol(a.file);
    const text = readFileSync(a.file, "utf8");
    expect(text).toContain("// @generated by egida-gen from compiler/test/fixtures/plugin-build/fig4a-sby.egida. DO NOT EDIT.");
    expect(text).not.toContain(tmp);
    expect(text).not.toContain(ROOT);
    expect(a.watchFiles).toContain(join(FIXTURE, "fig4a-sby.egida"));
    const b = await buildRollup("main.js", "rollup/b.mjs");
    expect(readFileSync(b.file, "utf8")).toBe(text);

    // The bundled protocol is a real one: token-ring with rank 1 killed mid-run completes.
    const app = await loadApp(join(ROOT, "examples/apps/token-ring.mjs"));
    const res = await runSimJob({ size: 3, app, args: ["20"], protocol, seed: 3, kills: [{ rank: 1, atDeliveries: 7, text: "1@7msgs" }], timeoutMs: 60_000 });
    expect(res.failure).toBeNull();
    expect(res.ranks[1]!.restarts).toBe(1);

    const withConfig = await buildRollup("with-config/main.js", "rollup/c.mjs");
    expect(withConfig.watchFiles).toEqual(expect.arrayContaining([join(FIXTURE, "with-config/fig4a-sby.egida"), join(FIXTURE, "with-config/egida.config.json")]));
  });

  it("rollup: spec warnings become bundler warnings and the build succeeds", async () => {
    const warnings: string[] = [];
    const bundle = await rollup({ input: join(FIXTURE, "warn-main.js"), plugins: [egidaRollup(OPTS)], external: EXTERNAL, onwarn: (w) => void warnings.push(w.message) });
    await bundle.close();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/plugin-build\/warn\.egida:3:\d+: warning: .*\[W-output-commit-on-input\]/);
  });

  it("rollup: emit modular builds too", async () => {
    const m = await buildRollup("main.js", "rollup/modular.mjs", { ...OPTS, emit: "modular" });
    await importProtocol(m.file);
    expect(readFileSync(m.file, "utf8")).toMatch(/class \w+ModuleImpl/);
  });

  it("esbuild: the bundle exports a ProtocolFactory", async () => {
    const file = await buildEsbuild("main.js", "esbuild/main.mjs");
    await importProtocol(file);
    expect(readFileSync(file, "utf8")).not.toContain(ROOT);
  });

  it("vite (SSR build to Node): the bundle exports a ProtocolFactory", async () => {
    const file = await buildVite("main.js", "vite");
    await importProtocol(file);
  });

  for (const [name, build] of [
    ["webpack", buildWebpack],
    ["rspack", buildRspack],
  ] as const) {
    it(`${name}: the bundle exports a ProtocolFactory that survives a crash; spec warnings are bundler warnings`, async () => {
      const r = await build("main.js", `${name}/ok`);
      expect(r.errors).toEqual([]);
      const protocol = await importProtocol(r.file);
      const text = readFileSync(r.file, "utf8");
      expect(text).toContain("// @generated by egida-gen from compiler/test/fixtures/plugin-build/fig4a-sby.egida. DO NOT EDIT.");
      expect(text).not.toContain(tmp);
      const app = await loadApp(join(ROOT, "examples/apps/token-ring.mjs"));
      const res = await runSimJob({ size: 3, app, args: ["20"], protocol, seed: 3, kills: [{ rank: 1, atDeliveries: 7, text: "1@7msgs" }], timeoutMs: 60_000 });
      expect(res.failure).toBeNull();
      expect(res.ranks[1]!.restarts).toBe(1);

      const w = await build("warn-main.js", `${name}/warn`);
      expect(w.errors).toEqual([]);
      expect(w.warnings).toHaveLength(1);
      expect(w.warnings[0]!.message).toMatch(/plugin-build\/warn\.egida:3:\d+: warning: .*\[W-output-commit-on-input\]/);
    });

    it(`${name}: a bad spec fails the build at file:line:col with the rendered diagnostic, no stack`, async () => {
      const r = await build("bad-main.js", `${name}/bad`);
      expect(r.errors).toHaveLength(1);
      const m = r.errors[0]!.message;
      expect(m).toContain("compiler/test/fixtures/plugin-build/bad.egida:2:41: error: unknown storage `NFS disc`");
      expect(m).toContain("hint: did you mean `NFS disk`?");
      expect(m).not.toMatch(STACK_FRAME);
      expect(r.errors[0]!.moduleName).toBe("./bad.egida");
    });
  }

  it("a bad spec fails every build at file:line:col with the rendered diagnostic, no stack", async () => {
    const where = "compiler/test/fixtures/plugin-build/bad.egida:2:41: error: unknown storage `NFS disc`";
    const caret = "Log determinant, data asynchronously on NFS disc\n                                        ^~~~~~~~";

    const r = (await buildRollup("bad-main.js", "bad/rollup.mjs").then(
      () => null,
      (e: unknown) => e,
    )) as RollupError | null;
    expect(r).not.toBeNull();
    expect(r!.message).toContain(where);
    expect(r!.message).toContain(caret);
    expect(r!.message).toContain("hint: did you mean `NFS disk`?");
    expect(r!.loc).toMatchObject({ file: join(FIXTURE, "bad.egida"), line: 2, column: 40 }); // 0-based, Rollup's convention
    expect(r!.message).not.toMatch(STACK_FRAME);
    expect(r!.stack ?? "").not.toMatch(STACK_FRAME);

    const e = (await buildEsbuild("bad-main.js", "bad/esbuild.mjs").then(
      () => null,
      (x: unknown) => x,
    )) as esbuild.BuildFailure | null;
    expect(e).not.toBeNull();
    expect(e!.errors).toHaveLength(1);
    expect(e!.errors[0]!.text).toContain(where);
    expect(e!.errors[0]!.text).toContain(caret);
    expect(e!.errors[0]!.location).toMatchObject({ line: 2, column: 40 });
    const [formatted] = await esbuild.formatMessages(e!.errors, { kind: "error", color: false });
    expect(formatted).toContain("compiler/test/fixtures/plugin-build/bad.egida:2:41:");

    const v = (await buildVite("bad-main.js", "bad/vite").then(
      () => null,
      (x: unknown) => x,
    )) as Error | null;
    expect(v).not.toBeNull();
    expect(v!.message).toContain(where);
    expect(v!.message).toContain(caret);
    expect(v!.message).not.toMatch(STACK_FRAME);
    // Vite's own wrapper error has Rolldown's frames (as for any plugin's error); the plugin's error has none.
    const inner = (v as Error & { errors?: Error[] }).errors?.[0];
    expect(inner?.message).toContain(where);
    expect(inner?.stack ?? "").not.toMatch(STACK_FRAME);
  });

  it("rollup watch: editing the spec or its egida.config.json rebuilds; a broken spec is a located error, then recovers", async () => {
    const dir = join(tmp, "watch");
    cpSync(join(FIXTURE, "with-config"), dir, { recursive: true });
    const spec = join(dir, "fig4a-sby.egida");
    const good = readFileSync(spec, "utf8");
    const watcher = watch({ input: join(dir, "main.js"), plugins: [egidaRollup(OPTS)], external: EXTERNAL, onwarn: () => {}, output: { file: join(dir, "out.mjs"), format: "es" }, watch: { buildDelay: 50 } });
    const events: RollupWatcherEvent[] = [];
    let wake: () => void = () => {};
    watcher.on("event", (e) => {
      if (e.code === "BUNDLE_END") void e.result.close();
      if (e.code === "BUNDLE_END" || e.code === "ERROR") {
        events.push(e);
        wake();
      }
    });
    // Give the file watcher a moment to settle after each build before the next edit.
    const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 150));
    const next = async (): Promise<RollupWatcherEvent> => {
      while (events.length === 0) await new Promise<void>((r) => (wake = r));
      return events.shift()!;
    };
    try {
      expect((await next()).code).toBe("BUNDLE_END");
      await settle();
      writeFileSync(spec, good.replace("NFS disk", "NFS disc"));
      const err = await next();
      expect(err.code).toBe("ERROR");
      expect(err.code === "ERROR" ? err.error.message : "").toMatch(/fig4a-sby\.egida:2:\d+: error: unknown storage `NFS disc`/);
      await settle();
      writeFileSync(spec, good);
      expect((await next()).code).toBe("BUNDLE_END");
      await settle();
      writeFileSync(join(dir, "egida.config.json"), '{ "plugins": [ ] }\n');
      expect((await next()).code).toBe("BUNDLE_END");
    } finally {
      await watcher.close();
    }
  });
});
