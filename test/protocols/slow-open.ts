/**
 * Rank 0 of a 2-rank SimWorld, run by a real RankHost whose storage opens only
 * when the test says so: a slow disk at process start. Over TCP a rank is
 * dialled while its onOpen still awaits its storage; in the simulation memory
 * storage opens within the same event, so without the gate that window never
 * opens. The start-up regression tests (causal, optimistic) send frames from
 * rank 1 into that window and check what comes back once the gate opens.
 */
import { expect } from "vitest";
import type { App, InboundFrame, ProtocolFactory, StorageProvider, Transport } from "../../runtime-core/src/spi.js";
import { RankHost } from "../../runtime-core/src/host/rank-host.js";
import { MemoryOutputSink } from "../../runtime-core/src/host/output-sink.js";
import { SimWorld } from "../../runtime-core/src/sim/world.js";
import { createMemoryStorageProvider, type MemoryStableMedia } from "../../runtime-core/src/storage/provider.js";

const idle: App<unknown> = { init: () => ({}), onStart() {}, onMessage() {} };

export interface SlowOpenRank {
  readonly world: SimWorld;
  /** Rank 1's transport: what it sends reaches rank 0. */
  readonly peer: Transport;
  /** Frames rank 1 received so far. */
  readonly got: InboundFrame[];
  /** Lets rank 0's storage finish opening. */
  open(): void;
  readonly host: RankHost;
  /** Whether rank 0's start() has resolved. */
  started(): boolean;
}

/** u32 piggyback words as the bytes of a frame. */
export function words(...w: number[]): Uint8Array {
  return new Uint8Array(new Uint32Array(w).buffer);
}

/** Starts rank 0 (the given incarnation) under `factory` with gated storage; an idle app. */
export function rankWithSlowStorage(factory: ProtocolFactory, incarnation: number): SlowOpenRank {
  const world = new SimWorld({ size: 2, seed: 1, wireFrames: true });
  if (incarnation > 0) world.restart(0, incarnation);
  const got: InboundFrame[] = [];
  const peer = world.transport(1);
  peer.on({ frame: (f) => got.push(f), peerIncarnation: () => {}, peerDown: () => {} });
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const inner = createMemoryStorageProvider({ rank: 0, stable: new Map() as MemoryStableMedia });
  const storage: StorageProvider = {
    openLog: async (m, n) => (await gate, inner.openLog(m, n)),
    openCheckpoints: async (m) => (await gate, inner.openCheckpoints(m)),
  };
  const host = new RankHost({
    rank: 0,
    size: 2,
    incarnation,
    f: 1,
    app: idle,
    protocol: factory,
    transport: world.transport(0),
    storage,
    timers: world.timers(0),
    sink: new MemoryOutputSink(),
    events: { fatal: (f) => expect.fail(JSON.stringify(f)) },
  });
  let started = false;
  void host.start().then(() => (started = true));
  return { world, peer, got, open, host, started: () => started };
}
