/**
 * Robustness: parseSpec never throws, and always returns IR or at least one
 * located diagnostic, on generated and mutated specs and on hostile inputs.
 */
import { readFileSync, readdirSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseSpec } from "../src/frontend.js";
import { builtinRegistry } from "../src/registry/builtin-registry.js";
import type { SpecResult } from "../src/frontend.js";

const registry = builtinRegistry();
const SPECS = new URL("../../specs/", import.meta.url);
const seeds = readdirSync(SPECS)
  .filter((f) => f.endsWith(".egida"))
  .map((f) => readFileSync(new URL(f, SPECS), "utf8"));
const tokens = [...new Set(seeds.flatMap((s) => s.split(/(\s+|[,:{}()])/)).filter((t) => t.length > 0))];

function wellFormed(r: SpecResult): void {
  if (r.ir) {
    for (const d of r.diagnostics) expect(d.severity).toBe("warning");
    return;
  }
  expect(r.diagnostics.length).toBeGreaterThan(0);
  for (const d of r.diagnostics) {
    expect(d.loc ?? d.path).toBeDefined();
    if (d.loc) {
      expect(d.loc.line).toBeGreaterThanOrEqual(1);
      expect(d.loc.column).toBeGreaterThanOrEqual(1);
      expect(d.loc.endOffset).toBeGreaterThanOrEqual(d.loc.offset);
    }
    expect(d.message.length).toBeGreaterThan(0);
  }
}

function run(input: string | Uint8Array, file = "fuzz.egida"): SpecResult {
  const r = parseSpec(input, file, registry); // must not throw
  wellFormed(r);
  return r;
}

type Mutation =
  | { kind: "insert"; at: number; text: string }
  | { kind: "delete"; at: number; len: number }
  | { kind: "replace"; at: number; text: string }
  | { kind: "splice"; at: number; token: number }
  | { kind: "swap"; a: number; b: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), text: fc.string({ maxLength: 4 }) }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), len: fc.integer({ min: 1, max: 12 }) }),
  fc.record({ kind: fc.constant("replace" as const), at: fc.nat(), text: fc.string({ minLength: 1, maxLength: 2, unit: "binary" }) }),
  fc.record({ kind: fc.constant("splice" as const), at: fc.nat(), token: fc.nat() }),
  fc.record({ kind: fc.constant("swap" as const), a: fc.nat(), b: fc.nat() }),
);

function apply(s: string, m: Mutation): string {
  const n = s.length + 1;
  switch (m.kind) {
    case "insert":
      return s.slice(0, m.at % n) + m.text + s.slice(m.at % n);
    case "delete":
      return s.slice(0, m.at % n) + s.slice((m.at % n) + m.len);
    case "replace":
      return s.slice(0, m.at % n) + m.text + s.slice((m.at % n) + m.text.length);
    case "splice": {
      const t = tokens[m.token % tokens.length]!;
      return s.slice(0, m.at % n) + " " + t + " " + s.slice(m.at % n);
    }
    case "swap": {
      // Swap two lines: exercises statement order and duplicates.
      const lines = s.split("\n");
      const a = m.a % lines.length;
      const b = m.b % lines.length;
      [lines[a], lines[b]] = [lines[b]!, lines[a]!];
      return lines.join("\n");
    }
  }
}

/** Specs generated from the grammar's pieces: statements in random order, random values. */
const generated: fc.Arbitrary<string> = fc
  .array(
    fc.oneof(
      fc.constantFrom(...seeds.flatMap((s) => s.split("\n")).filter((l) => l.trim() !== "")),
      fc.tuple(fc.constantFrom("send", "receive", "read", "write", "sned"), fc.constantFrom(...tokens)).map(([e, t]) => `${e}: Log ${t} synchronously on NFS disk`),
      fc.constantFrom("protocol p ( f = 2 )", "protocol (checkpoint every 3s, flush every 5ms)", "protocol Bad_Name", "// c", "/* c */"),
    ),
    { maxLength: 12 },
  )
  .chain((lines) => fc.constantFrom("\n", " ", "\r\n").map((sep) => lines.join(sep)));

describe("fuzz: parseSpec never throws", () => {
  it("10,000 mutated and generated specs", () => {
    const mutated = fc
      .tuple(fc.constantFrom(...seeds), fc.array(mutation, { minLength: 1, maxLength: 6 }))
      .map(([seed, ms]) => ms.reduce(apply, seed));
    fc.assert(
      fc.property(fc.oneof({ arbitrary: mutated, weight: 3 }, { arbitrary: generated, weight: 1 }), (spec) => {
        run(spec);
      }),
      { numRuns: 10_000, seed: 20_240_601 },
    );
  });
  it("1,000 random byte strings (and as .json IR)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, asJson) => {
        run(bytes, asJson ? "x.json" : "x.egida");
      }),
      { numRuns: 1_000, seed: 7 },
    );
  });
  it("1,000 arbitrary strings", () => {
    fc.assert(fc.property(fc.string({ maxLength: 200, unit: "grapheme" }), (s) => void run(s)), { numRuns: 1_000, seed: 11 });
  });
});

describe("fuzz: explicit hostile inputs", () => {
  it("empty file → IR with a warning", () => {
    const r = run("", "empty.egida");
    expect(r.ir).not.toBeNull();
  });
  it("random bytes", () => {
    const bytes = new Uint8Array(4096);
    let x = 12345;
    for (let i = 0; i < bytes.length; i++) bytes[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
    expect(run(bytes).ir).toBeNull();
  });
  it("invalid UTF-8", () => {
    const r = run(new Uint8Array([0x73, 0x65, 0x6e, 0x64, 0xff, 0x3a]));
    expect(r.diagnostics[0]!.message).toContain("byte offset 4");
  });
  it("every truncation of a paper spec", () => {
    const s = seeds.find((x) => x.includes("Co-ordinated output commit"))!;
    for (let i = 0; i <= s.length; i++) run(s.slice(0, i));
  });
  // How fast these run is measured by bench/parse.ts, not asserted here (a timed test fails under load).
  it("a 10 MB file is rejected by its size", () => {
    const r = run(new Uint8Array(10 * 1024 * 1024).fill(0x20));
    expect(r.diagnostics.map((d) => d.code)).toEqual(["E-too-large"]);
  });
  it("1 MiB of valid-looking spec (just under the limit) is parsed and checked", () => {
    const line = "send: Piggyback vector clock, logical clock /* comment */ ";
    const text = line.repeat(Math.floor((1024 * 1024 - 100) / line.length));
    const r = run(text);
    expect(r.diagnostics.some((d) => d.code === "E-duplicate")).toBe(true);
  });
  it("10,000 nested comment openers", () => {
    run("/*".repeat(10_000) + "*/".repeat(10_000));
    run("/* ".repeat(10_000));
    run("/* ".repeat(10_000) + "*/");
  });
  it("deeply repeated lists and long phrases", () => {
    run("send: Piggyback " + Array.from({ length: 10_000 }, () => "vector clock").join(", "));
    run("send: Log message synchronously on " + "disk ".repeat(50_000));
  });
});
