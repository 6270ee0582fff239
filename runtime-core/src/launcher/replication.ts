/**
 * Wiring of the `volatile-memory-of-processes` medium into a rank: one
 * ReplicationService per process (the replica side must run on every rank,
 * whether or not its own protocol opens a replicated log), fed the runtime
 * control frames and peer restarts the RankHost routes to the runtime.
 */
import type { Frame, InboundFrame } from "../spi.js";
import { UnsupportedMediumError } from "../storage/errors.js";
import type { ReplicatedLogFactory } from "../storage/provider.js";
import { ReplicationService, createControlRouter } from "../storage/replicated.js";

export interface RuntimeWiring {
  /** For RankHostOptions.runtimeFrame. */
  runtimeFrame(frame: InboundFrame): void;
  /** For RankHostEvents.peerRestarted. */
  peerRestarted(rank: number, incarnation: number): void;
  /** For the storage provider's `replicated` option. */
  readonly replicated: ReplicatedLogFactory;
}

export function wireReplication(o: {
  readonly rank: number;
  readonly size: number;
  readonly incarnation: number;
  readonly f: number;
  readonly send: (to: number, frame: Frame) => void;
}): RuntimeWiring {
  if (!(o.f >= 1 && o.f < o.size)) {
    // No replicas possible: frames are ignored and opening the medium says why.
    return {
      runtimeFrame: () => {},
      peerRestarted: () => {},
      replicated: () =>
        Promise.reject(
          new UnsupportedMediumError("volatile-memory-of-processes", `replicating to f processes needs 1 <= f < size (f=${o.f}, size=${o.size})`),
        ),
    };
  }
  const router = createControlRouter(o.send);
  const service = new ReplicationService({ channel: router, rank: o.rank, size: o.size, f: o.f, incarnation: o.incarnation });
  return {
    runtimeFrame: (fr) => router.deliver(fr),
    peerRestarted: (r, inc) => router.peerIncarnation(r, inc),
    replicated: (name) => service.openLog(name),
  };
}
