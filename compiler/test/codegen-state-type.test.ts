/**
 * Each block file declares its own state type (`type K = Kernel & Fields &
 * ...`); the emitters map it to the generated class and never copy it, and
 * refuse spliced code that names another state type (the generated file
 * declares only `K`).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { emitInline } from "../src/codegen/inline.js";
import { loadLibrary } from "../src/codegen/library.js";
import { emitModular } from "../src/codegen/modular.js";
import { FIXTURE_BLOCKS, input } from "./codegen/helpers.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const KERNEL_IMPORT = 'import type { K } from "../kernel.js";\n';

/** The fixture library with core/base.ts's kernel import replaced by `head` and `edit` applied to the rest. */
function library(head: string, edit: (text: string) => string = (t) => t) {
  const dir = mkdtempSync(join(tmpdir(), "egida-state-type-"));
  dirs.push(dir);
  cpSync(FIXTURE_BLOCKS, dir, { recursive: true });
  const base = join(dir, "core/base.ts");
  const text = readFileSync(base, "utf8");
  expect(text).toContain(KERNEL_IMPORT);
  writeFileSync(base, edit(text.replace(KERNEL_IMPORT, head)));
  return loadLibrary(dir);
}

describe("a block file's own state type", () => {
  const local = 'import type { K as Whole } from "../kernel.js";\n\ntype K = Whole & Fields;\n';
  // A copied helper that takes the file's K, so the declaration is spliced and must say K.
  const withHelper = (t: string): string =>
    t.replace("export function onSend(s: K, ev: SendEv): void {\n", "function countSend(s: K): void {\n  s.st.messages += 0;\n}\n\nexport function onSend(s: K, ev: SendEv): void {\n  countSend(s);\n");

  it("is the generated class in both back ends: one `type K = <class>`, the alias and its parts never copied", () => {
    const lib = library(local, withHelper);
    for (const code of [emitInline(lib, input("state-type")), emitModular(lib, input("state-type"))]) {
      expect(code).toContain("type K = StateTypeProtocol;");
      expect(code.match(/^type K =/gm)).toHaveLength(1);
      expect(code).toContain("function countSend(s: K): void {");
      expect(code).not.toMatch(/\bWhole\b/);
    }
  });

  it("named otherwise in spliced code is refused with the file and the fix", () => {
    const lib = library('import type { K as Whole } from "../kernel.js";\n\ntype Kernel = Whole;\n', (t) =>
      withHelper(t).replace("function countSend(s: K): void {", "function countSend(s: Kernel): void {").replace(/\(s: K\b/g, "(s: Kernel"),
    );
    expect(() => emitInline(lib, input("state-type"))).toThrow(/core\/base\.ts: spliced code names Kernel; declare the file's state as `type K = Kernel & \.\.\.` and use K/);
  });
});
