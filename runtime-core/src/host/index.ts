export { RankHost, type RankHostEvents, type RankHostOptions } from "./rank-host.js";
export { IdempotentSink, MemoryOutputSink, type OutputSink, type ReleasedOutput, type SinkVerdict } from "./output-sink.js";
export { toJsonValue, type JsonValue } from "./output-encoding.js";
export { loadApp, checkApp } from "./load-app.js";
export {
  AppLoadError,
  EXIT_CODES,
  ProtocolContractError,
  ReportedError,
  RetractionError,
  UnrecoverableError,
  describeFailure,
  exitCodeOf,
  type InterruptSignal,
  type JobFailure,
} from "./errors.js";
export { EnvironmentError, environmentFault, describeEnvFault, type EnvFault, type FaultArea } from "./env-fault.js";
export { crc32 } from "./crc32.js";
export { decodeValue, encodeAppState, encodeValue, ValueDecodeError } from "./value-codec.js";
export { canonicalBytes, canonicalDigest } from "./canonical.js";
