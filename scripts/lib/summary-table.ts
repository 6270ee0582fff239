/**
 * The summary tables the campaigns print (scripts/campaign.ts, simulated;
 * scripts/real-campaign.ts, real processes): one renderer, so both read the
 * same way: text columns left-aligned, counts right-aligned, a rule under
 * the header.
 */

export type Cell = string | number;

/** `textColumns` leading columns are left-aligned (names), the rest right-aligned (counts). */
export function formatTable(head: readonly string[], rows: readonly (readonly Cell[])[], textColumns = 2): string {
  const cells = rows.map((r) => r.map(String));
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: readonly string[]): string =>
    w
      .map((n, i) => (i < textColumns ? (r[i] ?? "").padEnd(n) : (r[i] ?? "").padStart(n)))
      .join("  ")
      .trimEnd();
  return [line(head), w.map((n) => "-".repeat(n)).join("  "), ...cells.map(line)].join("\n");
}

/** Field-wise sum of counters (a totals row). */
export function sumCounts<T extends { [K in keyof T]: number }>(items: Iterable<T>, empty: () => T): T {
  const s = empty();
  for (const t of items) for (const k of Object.keys(s) as (keyof T)[]) (s[k] as number) += t[k];
  return s;
}
