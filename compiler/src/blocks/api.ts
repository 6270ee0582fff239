/**
 * The public block API (`egida-gen/blocks`): what a block file shipped by a
 * plugin may import (docs/plugins.md, "A plugin block"). Only type imports
 * and `param`; each name is a declaration of the block library, and when
 * `compile` analyzes a plugin block it maps an import from `egida-gen/blocks`
 * to the library file that declares the name (codegen/plugin-blocks.ts reads
 * the imports below for that), so spliced plugin code resolves the way a
 * built-in block's does. Add a name here to make it public.
 */
import type {
  CheckpointEv,
  ControlEv,
  DeliverEv,
  Kernel,
  PumpEv,
  ReadEv,
  RecvEv,
  RestoreEv,
  SendEv,
  StartEv,
  TimerEv,
  WriteEv,
} from "./hooks.js";
import type { BlockManifest } from "./manifest.js";
import { param } from "./params.js";
/** The event log of a message-logging protocol (`evLog`): what an output-commit block flushes. */
import type { Fields as EventLogFields } from "./log/event-log.js";
/** Output numbering (`outSeq`, core/output-seq.ts). */
import type { Fields as OutputSeqFields } from "./core/output-seq.js";

export type {
  BlockManifest,
  CheckpointEv,
  ControlEv,
  DeliverEv,
  EventLogFields,
  Kernel,
  OutputSeqFields,
  PumpEv,
  ReadEv,
  RecvEv,
  RestoreEv,
  SendEv,
  StartEv,
  TimerEv,
  WriteEv,
};
export { param };
