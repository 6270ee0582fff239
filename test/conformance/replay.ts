/**
 * The failure-free replayer: re-run one rank's application deterministically,
 * fed the delivery order and the read values of its recorded effective
 * history, with no protocol, no network and no crash. What it writes and
 * sends, and its final state, are what a failure-free run with that delivery
 * order produces — the reference for apps whose results depend on arrival
 * order (protocols.md: "outputs equal those of a failure-free run that has
 * the same delivery order").
 */
import { deserialize, serialize } from "node:v8";
import { canonicalOf, digestOf } from "./canon.js";
import type { App, AppContext } from "../../runtime-core/src/spi.js";
import type { SentMsg, Step } from "./history.js";

export interface ReplayResult {
  readonly writes: Uint8Array[];
  /** Sends per position, in call order. */
  readonly sends: SentMsg[][];
  readonly finalState: Uint8Array;
  /** Why the replay could not follow the history (an app error, a missing read value), or null. */
  readonly error: string | null;
}

export async function replayRank(app: App<unknown>, rank: number, size: number, args: readonly string[], steps: readonly Step[]): Promise<ReplayResult> {
  const writes: Uint8Array[] = [];
  const sends: SentMsg[][] = [];
  let error: string | null = null;
  const state = app.init({ rank, size, args });
  for (const step of steps) {
    const mySends: SentMsg[] = [];
    sends.push(mySends);
    let reads = 0;
    const ctx: AppContext = {
      rank,
      size,
      send(to, data) {
        mySends.push({ to, digest: digestOf(serialize(data)) });
      },
      // The recorded value at once, as a protocol returns a logged one (an app may use it without await).
      read: (<T>(): T => {
        const v = step.reads[reads++];
        if (v === undefined) throw new Error(`position ${step.pos}: the history has no value for read #${reads}`);
        return deserialize(v) as T;
      }) as AppContext["read"],
      write(data) {
        writes.push(canonicalOf(data));
        return Promise.resolve();
      },
      done() {},
    };
    try {
      if (step.from === -1) await app.onStart?.(state, ctx);
      else if (step.data === null) throw new Error(`position ${step.pos}: no delivery recorded (the history has a hole)`);
      else await app.onMessage(state, { from: step.from, data: deserialize(step.data) }, ctx);
    } catch (e) {
      error = `rank ${rank}, position ${step.pos}: ${e instanceof Error ? e.message : String(e)}`;
      break;
    }
  }
  return { writes, sends, finalState: canonicalOf(state), error };
}
