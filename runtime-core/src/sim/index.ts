export { SimWorld } from "./world.js";
export type { SimWorldOptions, SimRunOptions, SimRunResult, SimStep, SimEventKind, SimTraceEntry, SimStats } from "./world.js";
export { SimTransport } from "./sim-transport.js";
export { SimTimers } from "./sim-timers.js";
export { Prng } from "./prng.js";
export { fullSettle, type SettleMode } from "./settle.js";
