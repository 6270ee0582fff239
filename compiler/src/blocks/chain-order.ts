/**
 * Chain order, derived from the manifests' `order` constraints
 * (blocks/manifest.ts) instead of placed by hand in selection.
 *
 * Every hook runs its chain in one global order of the selected blocks (the
 * emitters and the composer splice or call each chain in that order; `init`
 * and the class's fields follow it too). That order is a stable topological
 * sort of the constraints:
 *
 * - the *library order* sorts every block of the library by all their
 *   constraints, breaking ties by file path, so it is one order consistent
 *   with every chain of every family;
 * - a selection is sorted by the constraints among its blocks, breaking ties
 *   by library order. The result is the library order restricted to the
 *   selection, so the order of the rule table's rows never changes
 *   the chains.
 *
 * A constraint naming a block that is not selected is ignored; naming a file
 * that is not a block, or closing a cycle, is a ChainOrderError naming the
 * blocks (a library bug: compiler/test/chain-order.test.ts runs it over
 * every block).
 */
import type { BlockManifest, OrderConstraint } from "./manifest.js";

export class ChainOrderError extends Error {
  override readonly name = "ChainOrderError";
}

type Manifests = Readonly<Record<string, BlockManifest>>;

function constraints(m: BlockManifest): OrderConstraint[] {
  return [...Object.values(m.order), ...(m.place ? [m.place] : [])];
}

/**
 * Edges `a → b` (a runs before b) among `files`, with the chains that ask
 * for each, checking that every name is a block.
 */
function edges(files: readonly string[], manifests: Manifests): Map<string, Set<string>> {
  const inSet = new Set(files);
  const preds = new Map<string, Set<string>>(files.map((f) => [f, new Set<string>()]));
  for (const f of files) {
    const m = manifests[f];
    if (m === undefined) throw new ChainOrderError(`block order: ${f} is not a block (no manifest in blocks/block-manifests.ts; run \`npm run blocks:index\`)`);
    for (const c of constraints(m)) {
      for (const [names, before] of [[c.after ?? [], false], [c.before ?? [], true]] as const) {
        for (const other of names) {
          if (manifests[other] === undefined) throw new ChainOrderError(`block order: ${f}'s manifest names ${other}, which is not a block`);
          if (other === f) throw new ChainOrderError(`block order: ${f}'s manifest orders it relative to itself`);
          if (!inSet.has(other)) continue;
          if (before) preds.get(other)!.add(f);
          else preds.get(f)!.add(other);
        }
      }
    }
  }
  return preds;
}

/** A cycle among `left` (each has a predecessor in `left`), as the path a → b → ... → a. */
function findCycle(left: ReadonlySet<string>, preds: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const path: string[] = [];
  let at = [...left].sort()[0]!;
  while (!path.includes(at)) {
    path.push(at);
    at = [...preds.get(at)!].filter((p) => left.has(p)).sort()[0]!;
  }
  return [...path.slice(path.indexOf(at)), at].reverse();
}

/** Kahn's algorithm; among the blocks ready at each step, the smallest `rank` goes first. */
function sortBy(files: readonly string[], manifests: Manifests, rank: (f: string) => number | string): string[] {
  const preds = edges(files, manifests);
  const out: string[] = [];
  const done = new Set<string>();
  const left = new Set(files);
  while (left.size > 0) {
    let best: string | undefined;
    for (const f of left) {
      if (![...preds.get(f)!].every((p) => done.has(p))) continue;
      if (best === undefined || rank(f) < rank(best)) best = f;
    }
    if (best === undefined) throw new ChainOrderError(`block order: the manifests' order constraints form a cycle: ${findCycle(left, preds).join(" → ")}`);
    out.push(best);
    done.add(best);
    left.delete(best);
  }
  return out;
}

/** Every block of the library in one global chain order (ties broken by file path). */
export function libraryOrder(manifests: Manifests): string[] {
  return sortBy(Object.keys(manifests).sort(), manifests, (f) => f);
}

/** `files` (distinct blocks) in chain order: the library order restricted to them. */
export function chainOrder(files: readonly string[], manifests: Manifests, library: readonly string[] = libraryOrder(manifests)): string[] {
  if (new Set(files).size !== files.length) throw new ChainOrderError(`block order: a block is selected twice (${files.filter((f, i) => files.indexOf(f) !== i).join(", ")})`);
  const rank = new Map(library.map((f, i) => [f, i]));
  return sortBy(files, manifests, (f) => rank.get(f) ?? Number.MAX_SAFE_INTEGER);
}
