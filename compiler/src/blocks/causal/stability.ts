/**
 * Causal logging's state and the helpers that send control frames (not a
 * block: imported by value by the causal/* blocks, copied into generated code
 * like tags.ts). No param() here. The determinant tables' types and the
 * stability rules over them (`CDet`, `causalAdd`, `causalStable`, ...) depend
 * on no parameter and live in `@egida/runtime-core/protocol-lib`
 * (causal-log.ts there), which generated packages import.
 */
import type { FrameKind } from "@egida/runtime-core/spi";
import type { CRead, DetLogTables } from "@egida/runtime-core/protocol-lib";
import type { ControlEv, Kernel } from "../hooks.js";
import { KIND_CONTROL, TAG_CAUSAL_GATHER, TAG_CAUSAL_STABLE } from "../tags.js";

type K = Kernel & DetLogState & GatherState;

/**
 * The fields of causal/det-log that these helpers and the other causal blocks
 * use (causal/det-log's `Fields` extends this; it uses causal/gather's and
 * causal/gather uses its, so both live here, with the types of their fields).
 */
export interface DetLogState extends DetLogTables {
  cdReadFrom: number;
  /** Last [gc, flushed, reads flushed] of this rank told to the others. */
  cdSaid: Uint32Array;
  /** The protocol state is restored: causal control frames can be served (earlier ones wait in cdDeferred). */
  cdReady: boolean;
  cdDeferred: ControlEv[];
}

/** The fields of causal/gather that these helpers and causal/det-log use (causal/gather's `Fields` extends this). */
export interface GatherState {
  /** Peers that answered (bitmask), determinants of own deliveries rsn → [src, ssn], highest dependency reported. */
  gaAnswered: number;
  gaDets: Map<number, number[]>;
  /** Values of own reads gathered, by `${rsn}.${idx}`. */
  gaReads: Map<string, Uint8Array>;
  /** This incarnation's round: resolves when every peer answered (null: not started). */
  gaRound: Promise<void> | null;
  gaMaxDep: number;
  gaFrom: number;
  gaDone: (() => void) | null;
  /** Two answers disagreed on a determinant (reported once the round ends). */
  gaConflict: string | null;
  /** Re-gathered determinants of other processes, [k, rsn, src, ssn] each. */
  gaOthers: number[];
  /** Re-gathered read determinants of other processes. */
  gaOtherReads: [number, CRead][];
}

/**
 * Tell the other processes this one's durable checkpoint, flushed rsn and read-log watermark
 * (TAG_CAUSAL_STABLE [gc, flushed, reads flushed]), if any moved since last told.
 */
export function causalAnnounce(s: K): void {
  const me = s.host.rank;
  if (s.cdReady && (s.cdGc[me]! > s.cdSaid[0]! || s.cdFlushed[me]! > s.cdSaid[1]! || s.cdRdFlushed[me]! > s.cdSaid[2]!)) {
    s.cdSaid[0] = s.cdGc[me]!;
    s.cdSaid[1] = s.cdFlushed[me]!;
    s.cdSaid[2] = s.cdRdFlushed[me]!;
    for (let j = 0; j < s.host.size; j++) {
      if (j !== me) {
        const w = s.cdSaid.slice();
        s.host.transport.send(j, { kind: KIND_CONTROL as FrameKind, tag: TAG_CAUSAL_STABLE, piggyback: new Uint8Array(w.buffer), payload: new Uint8Array(0) });
      }
    }
  }
}

/**
 * Start this incarnation's gather round (causal/gather): ask every other
 * process for the determinants of our deliveries after `from` and for our
 * read determinants; s.gaRound resolves when all have answered.
 */
export function causalGatherStart(s: K, from: number): void {
  const n = s.host.size;
  const me = s.host.rank;
  s.gaFrom = from;
  s.gaAnswered = 0;
  s.gaDets = new Map();
  s.gaReads = new Map();
  s.gaMaxDep = 0;
  s.gaConflict = null;
  s.gaOthers = [];
  s.gaOtherReads = [];
  const all = ((1 << n) - 1) & ~(1 << me);
  if (all === 0) {
    s.gaRound = Promise.resolve();
    return;
  }
  s.gaRound = new Promise<void>((resolve) => {
    s.gaDone = resolve;
  });
  const asked: number[] = [];
  for (let j = 0; j < n; j++) {
    if (j !== me) {
      const w = new Uint32Array([s.host.incarnation, from]);
      s.host.transport.send(j, { kind: KIND_CONTROL as FrameKind, tag: TAG_CAUSAL_GATHER, piggyback: new Uint8Array(w.buffer), payload: new Uint8Array(0) });
      asked.push(j);
    }
  }
  // What a stalled recovery waits for: egida-run's stall diagnosis quotes the last protocol note.
  s.host.trace({ type: "protocol", rank: me, what: `causal gather: waiting for determinants from ranks ${asked.join(", ")}` });
}
