/**
 * Optimistic logging: `Co-ordinated output commit on write` (Damani & Garg;
 * Strom & Yemini). Before an output leaves:
 *  1. this process syncs its own log (every delivery so far is stable here);
 *  2. every process k the output depends on by the vector clock (entry
 *     (c, t), t > 0) is asked to make state (c, t) stable: it syncs its log
 *     and acknowledges, unless that state is lost (then it never answers: the
 *     writer is an orphan and will roll back, abandoning the output);
 *  3. with every acknowledgement in, each state the output depends on is
 *     stable and none is lost, so no failure can undo it: the output is
 *     released (core/output-emit) and never retracted.
 * Requests to a process that restarts are sent again to its new incarnation.
 * An orphan (rollback pending) never releases output: its write is dropped
 * once the commit is released (by the rollback, or before it), also when the
 * application did not await it and the rollback already ran.
 */
import type { FrameKind } from "@egida/runtime-core/spi";
import type { ControlEv, Kernel, PeerIncarnationEv, WriteEv } from "../hooks.js";
import { KIND_CONTROL, TAG_OPT_COMMIT_ACK, TAG_OPT_COMMIT_REQ } from "../tags.js";
import type { Fields as OptAsyncLog } from "./async-log.js";
import type { Fields as OptClock } from "./clock.js";
import type { Fields as OptCollect } from "./collect.js";

type K = Kernel & Fields & OptAsyncLog & OptClock & OptCollect;

/** A pending output commit: which processes still have to acknowledge, and the clock it asked for. */
export interface PendingCommit {
  readonly need: Uint8Array;
  left: number;
  readonly inc: Uint32Array;
  readonly ts: Uint32Array;
  readonly done: () => void;
}

export interface Fields {
  optCommits: Map<number, PendingCommit>;
  optCommitSeq: number;
  /** Writes past this block and not yet through the onWrite chain (optimistic/finish counts them down). */
  optWriting: number;
  /** Protocol.finish calls waiting for this process to be quiet (optimistic/finish). */
  optFinWait: (() => void)[];
}

export function init(s: K): void {
  s.optCommits = new Map();
  s.optCommitSeq = 0;
  s.optWriting = 0;
  s.optFinWait = [];
}

export async function onWrite(s: K, ev: WriteEv): Promise<void> {
  const n = s.host.size;
  const me = s.host.rank;
  s.optWriting++;
  // A rollback started after this point discards the state that wrote (optimistic/rollback bumps the epoch).
  const epoch = s.optEpoch;
  await s.optLog!.sync();
  const inc = s.vcInc.slice();
  const ts = s.vcTs.slice();
  const need = new Uint8Array(n);
  let left = 0;
  for (let k = 0; k < n; k++) {
    if (k !== me && ts[k]! > 0) {
      need[k] = 1;
      left++;
    }
  }
  if (left > 0 && !s.optRbWanted) {
    const id = ++s.optCommitSeq;
    await new Promise<void>((resolve) => {
      s.optCommits.set(id, { need, left, inc, ts, done: resolve });
      for (let k = 0; k < n; k++) {
        if (need[k] === 1) {
          const w = new Uint32Array([id, inc[k]!, ts[k]!]);
          s.host.transport.send(k, { kind: KIND_CONTROL as FrameKind, tag: TAG_OPT_COMMIT_REQ, piggyback: new Uint8Array(w.buffer), payload: new Uint8Array(0) });
        }
      }
    });
  }
  // An orphan's output must never leave. Its handler is not blocked for good (the host
  // admits no initApp while a handler runs, so the rollback could never start): the write
  // is dropped (core/output-emit skips it) and the handler finishes; the rollback that
  // follows discards this state, and a re-execution writes again under the same seq.
  if (s.optRbWanted || s.optEpoch !== epoch) ev.drop = true;
}

export function onControl(s: K, ev: ControlEv): void {
  const me = s.host.rank;
  if (ev.tag === TAG_OPT_COMMIT_REQ) {
    if (!s.optReady) s.optDeferred.push({ from: ev.from, words: ev.words.slice() });
    else {
      const id = ev.words[0]!;
      const c = ev.words[1]!;
      const t = ev.words[2]!;
      const e = s.optEnds[me]!;
      // A lost state never becomes stable: no answer (the asker is an orphan).
      if (!(c < e.length && t > e[c]!)) {
        const from = ev.from;
        void s.optLog!.sync().then(() => {
          const w = new Uint32Array([id]);
          s.host.transport.send(from, { kind: KIND_CONTROL as FrameKind, tag: TAG_OPT_COMMIT_ACK, piggyback: new Uint8Array(w.buffer), payload: new Uint8Array(0) });
        });
      }
    }
  } else if (ev.tag === TAG_OPT_COMMIT_ACK) {
    const id = ev.words[0]!;
    const p = s.optCommits.get(id);
    if (p !== undefined && p.need[ev.from] === 1) {
      p.need[ev.from] = 0;
      if (--p.left === 0) {
        s.optCommits.delete(id);
        p.done();
      }
    }
  }
}

export function onPeerIncarnation(s: K, ev: PeerIncarnationEv): void {
  for (const [id, p] of s.optCommits) {
    if (p.need[ev.rank] === 1) {
      const w = new Uint32Array([id, p.inc[ev.rank]!, p.ts[ev.rank]!]);
      s.host.transport.send(ev.rank, { kind: KIND_CONTROL as FrameKind, tag: TAG_OPT_COMMIT_REQ, piggyback: new Uint8Array(w.buffer), payload: new Uint8Array(0) });
    }
  }
}

// ---- manifest (blocks/manifest.ts): declared last so edits above merge cleanly.
import type { BlockManifest } from "../manifest.js";

export const manifest: BlockManifest = {
  purpose: "Co-ordinated output commit: every process the output depends on flushes and acknowledges before release.",
  implements: [{ module: "HowToOutputCommit" }, { variable: "output-commit-proto", value: "coordinated" }],
  params: {},
  order: {
    // constructor order: fields and inits are laid out in one global chain order
    init: { after: ["optimistic/orphan.ts"] },
    // numbered (core/output-seq), committed, then released (core/output-emit)
    onWrite: { after: ["core/output-seq.ts"], before: ["core/output-emit.ts"] },
    // filters and stability claims before the blocks that act on them
    onControl: { after: ["optimistic/orphan.ts"], before: ["core/recovery.ts"] },
    // chain order
    onPeerIncarnation: { before: ["core/recovery.ts"] },
  },
  owns: {
    tags: ["TAG_OPT_COMMIT_REQ", "TAG_OPT_COMMIT_ACK"],
  },
  // the blocks whose fields its K reads
  requires: ["optimistic/async-log.ts", "optimistic/clock.ts", "optimistic/collect.ts"],
};
