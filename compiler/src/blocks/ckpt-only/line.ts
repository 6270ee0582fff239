/**
 * Recovery lines of the checkpoint-only protocols (pure functions; the
 * coordinator in ckpt-only/rounds.ts calls them, the emitters copy them).
 *
 * Every process reports its checkpoint *history*: the durable checkpoints of
 * its current execution, oldest first (`Entry`), and, when it still has its
 * volatile state (a survivor), the open interval since the last one (`Cur`).
 * A line gives each process the storage key of the checkpoint to restore,
 * -1 for "keep the current state", or 0 for "no checkpoint: start the
 * application from scratch" (only a process that crashed before its first
 * checkpoint became durable has no history).
 *
 * The first entry of a non-empty history is a floor: the initial checkpoint
 * (no delivery precedes it) or a garbage-collection point that every
 * possible future line is known to lie at or after (a committed line, or a
 * completed recovery's line). Lines never go below it.
 */

/** One checkpoint of a process's history. */
export interface Entry {
  /** Storage index: unique and increasing in time per rank (never reused, even across rollbacks). */
  readonly key: number;
  /** Protocol index: the coordinated snapshot number, or the BCS checkpoint index. */
  readonly idx: number;
  /** Highest index carried by a message delivered before this checkpoint (-1: none). */
  readonly maxIn: number;
  /** Independent: per sender, the highest sender interval (key) of a message delivered in the interval ending here (-1: none). */
  readonly deps: number[];
  /** Delivered vector at the checkpoint (what a committed line makes stable for the senders). */
  readonly dlv: Uint32Array;
  /** Output seq at the checkpoint (what a committed line releases). */
  readonly out: number;
  /**
   * Sent vector (last ssn per destination) at the checkpoint: with `dlv`, it
   * tells whether a line has messages in transit (ckpt-only/rounds.ts
   * `finalLine`). Optional only so reports recorded before it existed still type.
   */
  readonly sent?: Uint32Array;
}

/** A survivor's open interval (since its last checkpoint). */
export interface Cur {
  readonly idx: number;
  readonly maxIn: number;
  readonly deps: number[];
}

export interface Report {
  /** The process still has its volatile state (false: restarted and not yet restored). */
  readonly live: boolean;
  readonly hist: Entry[];
  readonly cur: Cur | null;
  /** The last round this process durably applied (its recovery checkpoint carries it): [round, line...]. */
  readonly applied: number[] | null;
}

/**
 * A round can be superseded (a crash) after some processes wrote their
 * recovery checkpoint and before others did. The ones that did are on the
 * new branch; a process that did not may still hold states that round
 * undid (its reported history goes past its line). The latest round anyone
 * applied is binding: cut the others' histories at their line of that
 * round, which was computed from what they reported then.
 */
function bindLastRound(reps: readonly Report[]): Report[] {
  let last: number[] | null = null;
  for (const r of reps) if (r.applied !== null && (last === null || r.applied[0]! > last[0]!)) last = r.applied;
  if (last === null) return reps.slice();
  const line = last.slice(1);
  return reps.map((r, j) => {
    if (r.applied !== null && r.applied[0] === last[0]) return r;
    const L = line[j]!;
    if (L === -1) return r;
    return { live: false, hist: r.hist.filter((e) => e.key <= L), cur: null, applied: r.applied };
  });
}

/** Coordinated: every process restores the latest snapshot k that every process has (a virtual snapshot 0 for an empty history). */
function coordinatedLine(reps: readonly Report[]): number[] {
  const have = (r: Report, k: number): boolean => (r.hist.length === 0 ? k === 0 : r.hist.some((e) => e.idx === k));
  const cands = new Set<number>();
  for (const r of reps) for (const e of r.hist) cands.add(e.idx);
  cands.add(0);
  let k = -1;
  for (const c of cands) if (c > k && reps.every((r) => have(r, c))) k = c;
  return reps.map((r) => {
    let key = 0;
    for (const e of r.hist) if (e.idx === k) key = e.key;
    return key;
  });
}

/**
 * Communication-induced, index-based (Briatico–Ciciani–Simoncini): i = the
 * smallest latest index among the failed processes; each process goes to its
 * latest state in which no message with index ≥ i was delivered — at the
 * latest its first checkpoint with index ≥ i (forced before such a
 * delivery), its current state when it never delivered one. Messages sent
 * after a line checkpoint of index ≥ i carry index ≥ i, so none of them is
 * delivered inside the line: it is consistent.
 */
function indexLine(reps: readonly Report[]): number[] {
  let i = Infinity;
  for (const r of reps) if (!r.live) i = Math.min(i, r.hist.length === 0 ? 0 : r.hist[r.hist.length - 1]!.idx);
  return reps.map((r) => {
    if (r.live && r.cur !== null && r.cur.maxIn < i) return -1;
    if (r.hist.length === 0) return 0;
    let key = r.hist[0]!.key; // the floor
    for (const e of r.hist) if (e.maxIn < i) key = e.key;
    return key;
  });
}

/**
 * Independent: rollback propagation. Start from the failed processes' latest
 * checkpoints and the survivors' current states; while some process's line
 * state contains the delivery of a message whose send the sender's line
 * state does not contain (the message was sent in sender interval x and
 * the sender's line checkpoint key ≤ x), roll that process back to the
 * checkpoint that starts the interval of the delivery. The fixpoint is the
 * latest consistent line; it may be the initial checkpoints (domino effect).
 */
function propagationLine(reps: readonly Report[]): number[] {
  const INF = Number.MAX_SAFE_INTEGER;
  // Per process: interval starts and the dependencies recorded in each interval.
  const starts: number[][] = [];
  const deps: (number[] | null)[][] = [];
  const L: number[] = [];
  reps.forEach((r, q) => {
    const st: number[] = [];
    const dp: (number[] | null)[] = [];
    if (r.hist.length === 0) st.push(0);
    for (const e of r.hist) st.push(e.key);
    // Interval j runs from st[j] to the next entry (whose deps describe it), the last one is open.
    for (let j = 0; j < st.length; j++) {
      const next = r.hist.length === 0 ? undefined : r.hist[j + 1];
      dp.push(next !== undefined ? next.deps : r.live && r.cur !== null ? r.cur.deps : null);
    }
    starts[q] = st;
    deps[q] = dp;
    L[q] = r.live ? INF : st[st.length - 1]!;
  });
  let changed = true;
  while (changed) {
    changed = false;
    for (let q = 0; q < reps.length; q++) {
      const st = starts[q]!;
      for (let j = 0; j < st.length && st[j]! < L[q]!; j++) {
        const d = deps[q]![j];
        if (d === null || d === undefined) continue;
        let undone = false;
        for (let p = 0; p < d.length; p++) if (d[p]! >= 0 && L[p]! <= d[p]!) undone = true;
        if (undone) {
          L[q] = st[j]!;
          changed = true;
          break;
        }
      }
    }
  }
  return L.map((k) => (k === INF ? -1 : k));
}

/** The recovery line for `kind` ("coordinated" | "communication-induced" | "independent"). */
export function recoveryLine(kind: string, reported: readonly Report[]): number[] {
  const reps = bindLastRound(reported);
  if (kind === "coordinated") return coordinatedLine(reps);
  if (kind === "communication-induced") return indexLine(reps);
  return propagationLine(reps);
}

/**
 * The line if every process failed now at its latest durable checkpoint: no
 * future recovery line lies before it (later checkpoints only move lines
 * forward), so checkpoints before it can be dropped, messages delivered
 * before it are stable, and outputs before it can be released.
 */
export function committedLine(kind: string, hists: readonly Entry[][]): number[] {
  return recoveryLine(
    kind,
    hists.map((hist) => ({ live: false, hist, cur: null, applied: null })),
  );
}

/**
 * Whether a committed `line` is *final*: every process is at its latest
 * reported checkpoint and no message is in transit across the line (on every
 * channel the receiver's line state delivered all the sender's line state
 * sent). The line is a consistent cut of the execution, the applications only
 * act on messages, so nothing happens after it: the line states are the
 * processes' last states and their outputs are all the outputs there will be.
 * This is the termination test of the finish phase (Protocol.finish).
 */
export function finalLine(line: readonly number[], hists: readonly Entry[][]): boolean {
  const at: Entry[] = [];
  for (let j = 0; j < line.length; j++) {
    const h = hists[j]!;
    const last = h[h.length - 1];
    if (last === undefined || line[j] !== last.key || last.sent === undefined) return false;
    at.push(last);
  }
  for (let i = 0; i < at.length; i++) {
    for (let j = 0; j < at.length; j++) {
      if (i !== j && at[i]!.sent![j]! !== at[j]!.dlv[i]!) return false;
    }
  }
  return true;
}
