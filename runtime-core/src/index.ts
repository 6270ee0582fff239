/**
 * @egida/runtime-core: the application API, the protocol SPI, and the pieces
 * that run a job (rank host, `none` protocol, simulation, storage, launcher
 * entry points). Subpaths (`/spi`, `/host`, `/sim`, `/storage`, `/transport`,
 * `/protocols/none`, `/launcher`) give narrower imports.
 */
export * from "./spi.js";
export * from "./host/index.js";
export { noneProtocol } from "./protocols/none.js";
export * from "./sim/index.js";
export * from "./storage/index.js";
export * from "./transport/index.js";
export { runSimJob, type SimJobParams, type SimJobResult } from "./launcher/sim-job.js";
export { simulate, SimulateOptionsError, type SimulateOptions, type SimulationResult } from "./launcher/simulate.js";
export { ProtocolLoadError } from "./launcher/load-protocol.js";
