/**
 * `async: "either"` hooks (onDeliver in the real library): a block is async or
 * not, a non-async block may return the promise the rest of the chain waits
 * for, and the inline back end emits the chain as a plain function when no
 * block's await survives parameter folding and only the last block returns.
 * Checked on the fixture library, turned into an "either" library by editing a
 * copy, and on the checked-in packages.
 */
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { emitInline } from "../src/codegen/inline.js";
import { loadLibrary } from "../src/codegen/library.js";
import { emitModular } from "../src/codegen/modular.js";
import { typeCheck } from "../src/codegen/typecheck.js";
import { liveAwait, renderBody } from "../src/codegen/render.js";
import type { EmitBlock } from "../src/codegen/types.js";
import { Project } from "ts-morph";
import { renderTree } from "../src/codegen/library-analyze.js";
import { ALL_BLOCKS, FIXTURE_BLOCKS, input } from "./codegen/helpers.js";

const GENERATED = join(import.meta.dirname, "../../generated");
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** The fixture library with onDeliver made "either" and core/base's delivery returning the handler's promise. */
function eitherLibrary(edit: (base: string) => string = (t) => t) {
  const dir = mkdtempSync(join(tmpdir(), "egida-either-"));
  dirs.push(dir);
  cpSync(FIXTURE_BLOCKS, dir, { recursive: true });
  const hooks = join(dir, "hooks.ts");
  writeFileSync(
    hooks,
    readFileSync(hooks, "utf8")
      .replace("onDeliver(ev: DeliverEv): Promise<void>;", "onDeliver(ev: DeliverEv): Promise<void> | void;")
      .replace("readonly async: boolean;", 'readonly async: boolean | "either";')
      .replace("onDeliver: { async: true, filter: false },", 'onDeliver: { async: "either", filter: false },'),
  );
  const base = join(dir, "core/base.ts");
  writeFileSync(
    base,
    edit(
      readFileSync(base, "utf8").replace(
        "export async function onDeliver(s: K, ev: DeliverEv): Promise<void> {\n  await s.host.deliver(ev.from, ev.payload, { replay: ev.replay });\n}",
        "export function onDeliver(s: K, ev: DeliverEv): Promise<void> | void {\n  return s.host.deliver(ev.from, ev.payload, { replay: ev.replay });\n}",
      ),
    ),
  );
  return loadLibrary(dir);
}

/** core/base last, so its return is the chain's tail; det-sync's await decided by log.sync. */
function blocks(sync: boolean): EmitBlock[] {
  const [base, det, ...rest] = ALL_BLOCKS;
  return [{ ...det!, params: { ...det!.params, "log.sync": sync } }, ...rest, base!];
}

function method(code: string, head: RegExp): string {
  const at = code.search(head);
  expect(at, String(head)).toBeGreaterThan(0);
  return code.slice(at, code.indexOf("\n  }\n", at));
}

describe('async: "either" hooks', () => {
  it("emit a plain function when no await survives folding and the returning block is last", () => {
    const lib = eitherLibrary();
    const out = emitInline(lib, input("either-sync", blocks(false)));
    const m = method(out, /\n {2}onDeliver\(ev: DeliverEv\): Promise<void> \| void \{/);
    expect(m).toContain("return s.host.deliver(");
    expect(m).not.toMatch(/\bawait\b/);
    expect(typeCheck(new Map([["src/index.ts", out]]))).toEqual([]);
  });

  it("emit an async chain that awaits a returned promise and goes on after the block, when a block still awaits", () => {
    const lib = eitherLibrary();
    const out = emitInline(lib, input("either-async", blocks(true)));
    const m = method(out, /\n {2}async onDeliver\(ev: DeliverEv\): Promise<void> \{/);
    expect(m).toContain("await s.detLog!.sync();");
    expect(m).toMatch(/(onDeliver\d+): \{\n\s*\{ await s\.host\.deliver\(ev\.from, ev\.payload, \{ replay: ev\.replay \}\); break \1; \}/);
    expect(typeCheck(new Map([["src/index.ts", out]]))).toEqual([]);
  });

  it("emit an async chain when a block that is not last returns (the blocks after it must wait)", () => {
    const lib = eitherLibrary();
    const out = emitInline(lib, input("either-early", ALL_BLOCKS.map((b) => (b.file === "log/det-sync.ts" ? { ...b, params: { ...b.params, "log.sync": false } } : b))));
    const m = method(out, /\n {2}async onDeliver\(ev: DeliverEv\): Promise<void> \{/);
    expect(m).toMatch(/\{ await s\.host\.deliver\(.*\); break onDeliver0; \}/);
    expect(typeCheck(new Map([["src/index.ts", out]]))).toEqual([]);
  });

  it("the modular back end awaits every module method of the chain, promise or not", () => {
    const lib = eitherLibrary();
    const out = emitModular(lib, input("either-modular", blocks(false)));
    const m = method(out, /\n {2}async onDeliver\(ev: DeliverEv\): Promise<void> \{/);
    expect(m).toMatch(/await this\.mods\.\w+\.onDeliver\(this, ev\);/);
    expect(typeCheck(new Map([["src/index.ts", out]]))).toEqual([]);
  });

  it("rejects an async block that returns, and a non-async block with another return type", () => {
    const asyncReturn = eitherLibrary((t) => t.replace("export function onDeliver(s: K, ev: DeliverEv): Promise<void> | void {", "export async function onDeliver(s: K, ev: DeliverEv): Promise<void> {"));
    expect(() => emitInline(asyncReturn, input("x", blocks(false)))).toThrow(/core\/base\.ts:\d+:\d+: hook onDeliver: an async block must not return/);
    const wrongType = eitherLibrary((t) => t.replace("export function onDeliver(s: K, ev: DeliverEv): Promise<void> | void {", "export function onDeliver(s: K, ev: DeliverEv): void {\n  void 0;"));
    expect(() => emitInline(wrongType, input("x", blocks(false)))).toThrow(/core\/base\.ts:\d+:\d+: hook onDeliver: a non-async block returns Promise<void> \| void/);
  });
});

describe("render: live awaits and the await-label rewrite", () => {
  function fn(body: string) {
    const project = new Project({ useInMemoryFileSystem: true });
    const f = project.createSourceFile("b.ts", `declare function param<T>(k: string): T;\ndeclare function a(): Promise<void>;\ndeclare function b(): void;\ndeclare let x: boolean;\nexport async function h(): Promise<void> {\n${body}\n}\n`);
    return f.getFunctionOrThrow("h");
  }
  const live = (body: string, p: boolean) => {
    const f = fn(body);
    return liveAwait(renderTree(f.getBodyOrThrow(), f), { params: { p } });
  };

  it("counts an await only where the parameters let it run, and not in nested functions", () => {
    expect(live("  await a();", false)).toBe(true);
    expect(live(`  if (param<boolean>("p")) await a();`, false)).toBe(false);
    expect(live(`  if (param<boolean>("p")) await a();`, true)).toBe(true);
    expect(live(`  if (param<boolean>("p")) b(); else await a();`, true)).toBe(false);
    expect(live(`  if (param<boolean>("p") && x) { await a(); }`, false)).toBe(false);
    expect(live(`  if (param<boolean>("p") && x) { await a(); }`, true)).toBe(true);
    expect(live(`  const v = param<boolean>("p") || (await a(), true);`, true)).toBe(false);
    expect(live(`  const v = param<boolean>("p") ? 1 : await a();`, false)).toBe(true);
    expect(live(`  if (x) await a();`, false)).toBe(true);
    expect(live("  const f = async () => { await a(); };\n  void f;", false)).toBe(false);
  });

  it("turns `return e;` into an await and a break out of the block's label", () => {
    const f = fn("  if (x) return a();\n  b();");
    expect(renderBody(renderTree(f.getBodyOrThrow(), f), f.getSourceFile().getFullText(), { params: {}, awaitLabel: "L" })).toBe("if (x) { await a(); break L; }\nb();");
  });
});

describe("checked-in packages", () => {
  it("deliver without a promise where no block waits, and stay async where one does", () => {
    const plain: string[] = [];
    for (const d of readdirSync(GENERATED)) {
      const code = readFileSync(join(GENERATED, d, "src/index.ts"), "utf8");
      if (code.includes("\n  onDeliver(ev: DeliverEv): Promise<void> | void {")) plain.push(d);
      else expect(code, d).toMatch(/\{ await r; break onDeliver\d+; \}/);
    }
    // Independent checkpointing, the causal protocols and pessimistic logging (by the durable
    // watermark: the delivery does not wait for the sync) have nothing to wait for; forced
    // checkpoints (coordinated) do.
    expect(plain).toContain("independent-checkpointing");
    expect(plain).toContain("family-based-causal");
    expect(plain).toContain("fig4a-sby");
    expect(plain).toContain("receiver-based-pessimistic");
    expect(plain).not.toContain("coordinated-checkpointing");
  });
});
