/**
 * Every block file, by its path relative to this directory: the table the
 * dev composer resolves `BlockInstance.file` against. (The emitters read the
 * files themselves with ts-morph.)
 */
import type { HookName, Kernel } from "./hooks.js";
import type { Fields as KernelFields } from "./kernel.js";
import * as coreSsn from "./core/ssn.js";
import * as coreReceive from "./core/receive.js";
import * as corePump from "./core/pump.js";
import * as coreRetransmit from "./core/retransmit.js";
import * as coreOutputSeq from "./core/output-seq.js";
import * as coreTimers from "./core/timers.js";
import * as coreRecovery from "./core/recovery.js";
import * as coreDeliver from "./core/deliver.js";
import * as coreTransmit from "./core/transmit.js";
import * as coreOutputEmit from "./core/output-emit.js";
import * as coreRead from "./core/read.js";
import * as eventLog from "./log/event-log.js";
import * as readLog from "./log/read-log.js";
import * as sendLog from "./log/send-log.js";
import * as watermark from "./log/watermark.js";
import * as collectStableLog from "./collect/stable-log.js";
import * as ckptRestore from "./checkpoint/restore.js";
import * as ckptIndependent from "./checkpoint/independent.js";
import * as ckptSchedule from "./checkpoint/schedule.js";
import * as ckptStore from "./checkpoint/store.js";
import * as commitIndependent from "./commit/independent.js";
import * as optGate from "./optimistic/gate.js";
import * as optClock from "./optimistic/clock.js";
import * as optAsyncLog from "./optimistic/async-log.js";
import * as optCollect from "./optimistic/collect.js";
import * as optOrphan from "./optimistic/orphan.js";
import * as optCommit from "./optimistic/commit.js";
import * as optOnRollbackLog from "./optimistic/on-rollback-log.js";
import * as optFinish from "./optimistic/finish.js";
import * as optRollback from "./optimistic/rollback.js";
import * as optCheckpoint from "./optimistic/checkpoint.js";
import * as optOnRollbackCkpt from "./optimistic/on-rollback-ckpt.js";
import * as optExchange from "./optimistic/exchange.js";
import * as optExchangeFinish from "./optimistic/exchange-finish.js";
import * as cpPump from "./ckpt-only/pump.js";
import * as cpIndex from "./ckpt-only/index-pb.js";
import * as cpStore from "./ckpt-only/store.js";
import * as cpOutput from "./ckpt-only/output.js";
import * as cpRounds from "./ckpt-only/rounds.js";
import * as cpSnapshot from "./ckpt-only/snapshot.js";
import * as causalDetLog from "./causal/det-log.js";
import * as causalGather from "./causal/gather.js";
import * as causalCommit from "./causal/commit.js";
import * as causalStableDets from "./causal/stable-dets.js";

/**
 * The composer's one state object: the kernel and every block's fields (the
 * dev composer holds them all; tests inspect it through kernelOf). Only the
 * composer and tests see this type: a block sees its own `K`.
 */
export type ComposedState = Kernel &
  KernelFields &
  coreSsn.Fields &
  coreReceive.Fields &
  corePump.Fields &
  coreRetransmit.Fields &
  coreOutputSeq.Fields &
  coreTimers.Fields &
  coreRecovery.Fields &
  coreDeliver.Fields &
  coreTransmit.Fields &
  coreOutputEmit.Fields &
  coreRead.Fields &
  eventLog.Fields &
  readLog.Fields &
  sendLog.Fields &
  watermark.Fields &
  collectStableLog.Fields &
  ckptRestore.Fields &
  ckptIndependent.Fields &
  ckptSchedule.Fields &
  ckptStore.Fields &
  commitIndependent.Fields &
  optGate.Fields &
  optClock.Fields &
  optAsyncLog.Fields &
  optCollect.Fields &
  optOrphan.Fields &
  optCommit.Fields &
  optOnRollbackLog.Fields &
  optFinish.Fields &
  optRollback.Fields &
  optCheckpoint.Fields &
  optOnRollbackCkpt.Fields &
  optExchange.Fields &
  cpPump.Fields &
  cpIndex.Fields &
  cpStore.Fields &
  cpOutput.Fields &
  cpRounds.Fields &
  cpSnapshot.Fields &
  causalDetLog.Fields &
  causalGather.Fields &
  causalCommit.Fields &
  causalStableDets.Fields;

/** A block module as the composer sees it: an optional init and hook functions. */
export type BlockModule = { readonly init?: (s: ComposedState) => void } & { readonly [H in HookName]?: (s: ComposedState, ev: never) => unknown };

export const BLOCK_MODULES: Readonly<Record<string, BlockModule>> = {
  "core/ssn.ts": coreSsn,
  "core/receive.ts": coreReceive,
  "core/pump.ts": corePump,
  "core/retransmit.ts": coreRetransmit,
  "core/output-seq.ts": coreOutputSeq,
  "core/timers.ts": coreTimers,
  "core/recovery.ts": coreRecovery,
  "core/deliver.ts": coreDeliver,
  "core/transmit.ts": coreTransmit,
  "core/output-emit.ts": coreOutputEmit,
  "core/read.ts": coreRead,
  "log/event-log.ts": eventLog,
  "log/read-log.ts": readLog,
  "log/send-log.ts": sendLog,
  "log/watermark.ts": watermark,
  "collect/stable-log.ts": collectStableLog,
  "checkpoint/restore.ts": ckptRestore,
  "checkpoint/independent.ts": ckptIndependent,
  "checkpoint/schedule.ts": ckptSchedule,
  "checkpoint/store.ts": ckptStore,
  "commit/independent.ts": commitIndependent,
  "optimistic/gate.ts": optGate,
  "optimistic/clock.ts": optClock,
  "optimistic/async-log.ts": optAsyncLog,
  "optimistic/collect.ts": optCollect,
  "optimistic/orphan.ts": optOrphan,
  "optimistic/commit.ts": optCommit,
  "optimistic/on-rollback-log.ts": optOnRollbackLog,
  "optimistic/finish.ts": optFinish,
  "optimistic/rollback.ts": optRollback,
  "optimistic/checkpoint.ts": optCheckpoint,
  "optimistic/on-rollback-ckpt.ts": optOnRollbackCkpt,
  "optimistic/exchange.ts": optExchange,
  "optimistic/exchange-finish.ts": optExchangeFinish,
  "ckpt-only/pump.ts": cpPump,
  "ckpt-only/index-pb.ts": cpIndex,
  "ckpt-only/store.ts": cpStore,
  "ckpt-only/output.ts": cpOutput,
  "ckpt-only/rounds.ts": cpRounds,
  "ckpt-only/snapshot.ts": cpSnapshot,
  "causal/det-log.ts": causalDetLog,
  "causal/gather.ts": causalGather,
  "causal/commit.ts": causalCommit,
  "causal/stable-dets.ts": causalStableDets,
};
