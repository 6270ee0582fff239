/**
 * The token's words (not a block: imported by value by optimistic/collect,
 * orphan, rollback and exchange): [flag, incarnation, n, then per process its
 * count of ended incarnations and their ends], the one encoding optimistic/orphan reads.
 */
import type { Kernel } from "../hooks.js";
import type { Fields as OptClock } from "./clock.js";

type K = Kernel & OptClock;

export function optTokenWords(s: K, flag: number): number[] {
  const n = s.host.size;
  const w: number[] = [flag, s.ftInc, n];
  for (let j = 0; j < n; j++) {
    w.push(s.optEnds[j]!.length);
    for (const e of s.optEnds[j]!) w.push(e);
  }
  return w;
}
