/**
 * A function-level profile of one callgrind part (bench/overhead.ts
 * `--profile K`): self instructions per function, JIT code named from V8's
 * `--perf-basic-prof` map (`/tmp/perf-<pid>.map`), since callgrind sees only
 * addresses there. Self cost only: a `calls=` line's following cost line is
 * the callee's inclusive cost and is skipped, so the rows add up to the
 * part's total.
 */
import { existsSync, readFileSync } from "node:fs";

interface JitRange {
  readonly start: bigint;
  readonly end: bigint;
  readonly name: string;
}

function readPerfMap(pid: number): JitRange[] {
  const file = `/tmp/perf-${pid}.map`;
  if (!existsSync(file)) return [];
  const out: JitRange[] = [];
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const m = /^([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(line);
    if (m === null) continue;
    const start = BigInt(`0x${m[1]}`);
    out.push({ start, end: start + BigInt(`0x${m[2]}`), name: m[3]! });
  }
  // Later entries win: V8 reuses code space for recompiled functions.
  return out.reverse();
}

/**
 * Self cost per function name in a callgrind part: the one parser of the
 * format (bench/overhead.ts sums the optimizing compiler's rows from it).
 * `named` maps a raw function name (or JIT address) to the reported one.
 */
export function selfCostsByName(part: string, named: (raw: string) => string = (raw) => raw): Map<string, number> {
  const names = new Map<string, string>();
  const self = new Map<string, number>();
  let fn = "";
  let afterCalls = false;
  for (const line of part.split("\n")) {
    if (line.startsWith("fn=")) {
      const m = /^fn=\((\d+)\)(?: (.*))?$/.exec(line);
      if (m === null) continue;
      if (m[2] !== undefined) names.set(m[1]!, named(m[2]));
      fn = names.get(m[1]!) ?? `fn ${m[1]}`;
      afterCalls = false;
    } else if (line.startsWith("cfn=")) {
      const m = /^cfn=\((\d+)\) (.*)$/.exec(line);
      if (m !== null) names.set(m[1]!, named(m[2]!));
    } else if (line.startsWith("calls=")) afterCalls = true;
    else if (/^[0-9+*-]/.test(line)) {
      // The line after calls= is the call's inclusive cost, not the function's own.
      if (afterCalls) afterCalls = false;
      else self.set(fn, (self.get(fn) ?? 0) + Number(line.slice(line.lastIndexOf(" ") + 1)));
    }
  }
  return self;
}

/** Self cost per function, largest first, JIT code named from the process's perf map. */
export function selfCosts(part: string, pid: number): { name: string; self: number }[] {
  const jit = readPerfMap(pid);
  const named = (raw: string): string => {
    if (!/^0x[0-9a-f]+$/i.test(raw)) return raw;
    const a = BigInt(raw);
    const hit = jit.find((r) => a >= r.start && a < r.end);
    return hit === undefined ? "(JIT, unnamed)" : `JIT ${hit.name}`;
  };
  return [...selfCostsByName(part, named)].map(([name, v]) => ({ name, self: v })).sort((a, b) => b.self - a.self);
}
