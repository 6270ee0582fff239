/**
 * "Did you mean": the closest known spelling by Damerau-Levenshtein distance
 * (optimal string alignment: insert, delete, substitute, swap adjacent),
 * compared case-insensitively with whitespace collapsed.
 */

export function editDistance(a: string, b: string): number {
  const n = a.length;
  const m = b.length;
  if (n === 0) return m;
  if (m === 0) return n;
  // Three rolling rows: the swap rule looks two rows back.
  let prev2 = new Array<number>(m + 1).fill(0);
  let prev = Array.from({ length: m + 1 }, (_, j) => j);
  let cur = new Array<number>(m + 1).fill(0);
  for (let i = 1; i <= n; i++) {
    cur[0] = i;
    for (let j = 1; j <= m; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2]! + 1);
      cur[j] = d;
    }
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[m]!;
}

const norm = (s: string): string => s.toLowerCase().replace(/\s+/g, " ").trim();

/**
 * The candidate closest to `input`, if close enough to be a plausible typo:
 * at most a third of the longer string's length (and at least 1) edits away.
 * Inputs longer than 200 characters are not compared (cost is quadratic).
 */
export function suggest(input: string, candidates: readonly string[]): string | undefined {
  const a = norm(input);
  if (a.length === 0 || a.length > 200) return undefined;
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const b = norm(c);
    const d = editDistance(a, b);
    const limit = Math.max(1, Math.floor(Math.max(a.length, b.length) / 3));
    if (d <= limit && d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best;
}
