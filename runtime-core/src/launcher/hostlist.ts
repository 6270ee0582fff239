/**
 * Slurm's compressed host lists (`SLURM_JOB_NODELIST`), expanded as
 * `scontrol show hostnames` does:
 *
 *   node[0-3,7]          node0 node1 node2 node3 node7
 *   a[01-03],b5          a01 a02 a03 b5
 *   rack[1-2]-n[1-2]     rack1-n1 rack1-n2 rack2-n1 rack2-n2
 *
 * Commas outside brackets separate host expressions; inside brackets they
 * separate ranges. A range keeps the width of its lower bound when that is
 * zero-padded (`[08-10]` is 08 09 10). Several bracket groups in one name
 * expand to their product, the leftmost varying slowest. Order and
 * duplicates are kept as written: the position in the list is what a rank
 * is mapped by.
 */

/** Hosts one expression may expand to: a typo like `n[0-99999999]` must fail, not exhaust memory. */
export const MAX_HOSTS = 1 << 20;

export class HostlistError extends Error {
  override readonly name = "HostlistError";
}

/** The host names of `text`, in order; throws HostlistError naming what is malformed. */
export function expandHostlist(text: string): string[] {
  const out: string[] = [];
  for (const expr of splitTopLevel(text.trim(), text)) {
    for (const h of expandOne(expr, text)) {
      out.push(h);
      if (out.length > MAX_HOSTS) throw new HostlistError(`host list "${text}" expands to more than ${MAX_HOSTS} hosts`);
    }
  }
  return out;
}

/** Split on commas that are not inside brackets. */
function splitTopLevel(s: string, whole: string): string[] {
  if (s === "") throw new HostlistError("the host list is empty");
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "[") {
      if (depth > 0) throw new HostlistError(`host list "${whole}": nested "[" at character ${i + 1}`);
      depth = 1;
    } else if (c === "]") {
      if (depth === 0) throw new HostlistError(`host list "${whole}": "]" without "[" at character ${i + 1}`);
      depth = 0;
    } else if (c === "," && depth === 0) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  if (depth > 0) throw new HostlistError(`host list "${whole}": "[" is not closed`);
  parts.push(s.slice(start));
  for (const p of parts) {
    if (p.trim() === "") throw new HostlistError(`host list "${whole}": an empty entry (two commas in a row, or one at an end)`);
    if (/\s/.test(p.trim())) throw new HostlistError(`host list "${whole}": "${p.trim()}" contains white space`);
  }
  return parts.map((p) => p.trim());
}

/** One expression: literal text and bracket groups, expanded to their product. */
function expandOne(expr: string, whole: string): string[] {
  let names = [""];
  const re = /\[([^\]]*)\]/g;
  let last = 0;
  for (let m = re.exec(expr); m !== null; m = re.exec(expr)) {
    const lit = expr.slice(last, m.index);
    const values = expandRanges(m[1]!, whole);
    const next: string[] = [];
    for (const n of names) for (const v of values) next.push(n + lit + v);
    if (next.length > MAX_HOSTS) throw new HostlistError(`host list "${whole}" expands to more than ${MAX_HOSTS} hosts`);
    names = next;
    last = m.index + m[0].length;
  }
  const tail = expr.slice(last);
  return names.map((n) => n + tail);
}

/** The inside of one bracket group: `0-3,7`, `01-03`. */
function expandRanges(inner: string, whole: string): string[] {
  const out: string[] = [];
  for (const raw of inner.split(",")) {
    const r = raw.trim();
    const m = /^(\d+)(?:-(\d+))?$/.exec(r);
    if (m === null) throw new HostlistError(`host list "${whole}": "[${inner}]" holds "${r}", expected a number or a range like 0-3`);
    const loText = m[1]!;
    const hiText = m[2] ?? loText;
    const lo = Number(loText);
    const hi = Number(hiText);
    if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi)) throw new HostlistError(`host list "${whole}": "${r}" is too large`);
    if (hi < lo) throw new HostlistError(`host list "${whole}": range "${r}" runs backwards`);
    if (hi - lo + 1 > MAX_HOSTS) throw new HostlistError(`host list "${whole}": range "${r}" has more than ${MAX_HOSTS} hosts`);
    // Zero-padded bounds (`01`, `008`) fix the width; an unpadded one (`8-10`) prints as is.
    const width = loText.length > 1 && loText.startsWith("0") ? loText.length : 0;
    for (let v = lo; v <= hi; v++) out.push(String(v).padStart(width, "0"));
  }
  return out;
}
