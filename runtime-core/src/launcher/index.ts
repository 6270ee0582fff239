/** Programmatic access to what egida-run does (tests, benchmarks, other CLIs). */
export { main } from "./main.js";
export { parseCli, type CliResult } from "./cli.js";
export { runSimJob, type SimJobParams, type SimJobResult } from "./sim-job.js";
export { runTcpJob, freePorts } from "./tcp-job.js";
export { loadProtocol, importFactory, ProtocolLoadError, type LoadedProtocol } from "./load-protocol.js";
export { decodeOutput, formatSummary, type RankSummary } from "./report.js";
export type { KillSpec, JobOptions, SingleRankOptions, LaunchOptions } from "./options.js";
export { simulate, SimulateOptionsError, type SimulateOptions, type SimulationResult } from "./simulate.js";
