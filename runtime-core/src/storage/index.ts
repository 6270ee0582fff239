/** Storage for @egida/runtime-core: logs and checkpoint stores per medium, and the providers that pick them. */
export {
  StorageError,
  CorruptLogError,
  CorruptCheckpointError,
  LockHeldError,
  LockLostError,
  LogFailedError,
  UnsupportedMediumError,
  StateLostError,
  StorageIoError,
  StorageMissingError,
  ioError,
  type LostReplica,
  type LockHolder,
  type StorageWarning,
  type WarningHandler,
} from "./errors.js";
// The record format of the disk and NFS logs, for stores of other media (plugins) to write and check records the same way.
export { encodeRecord, decodeRecord, encodedSize, type DecodeResult } from "./record-format.js";
export { MemoryLog, newMemoryLogState, type MemoryLogState } from "./memory-log.js";
export { DiskLog, openDiskLog, DEFAULT_SEGMENT_BYTES, type DiskLogOptions, type DiskLogStats } from "./disk-log.js";
export { RankLock, LOCK_FILE, type RankLockOptions } from "./nfs-lock.js";
export { openNfsLog, rankDir, type NfsLogOptions } from "./nfs-log.js";
export { RankManifest, RANK_MANIFEST } from "./rank-manifest.js";
export {
  DiskCheckpointStore,
  openCheckpointStore,
  DEFAULT_CHUNK_BYTES,
  type CheckpointStoreOptions,
  type CheckpointStoreStats,
} from "./checkpoint-store.js";
export { MemoryCheckpointStore } from "./memory-checkpoints.js";
export { ReplicatedCheckpointStore, CHECKPOINT_LOG } from "./replicated-checkpoints.js";
export {
  createDiskStorageProvider,
  createMemoryStorageProvider,
  type DiskStorageOptions,
  type MemoryStorageOptions,
  type MemoryStableMedia,
  type ReplicatedLogFactory,
  type StorageProviderWithClose,
} from "./provider.js";
