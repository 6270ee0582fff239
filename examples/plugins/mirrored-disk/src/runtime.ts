/**
 * The runtime half: a runtime-core MediumStore for `mirrored-disk`. A protocol
 * compiled with this plugin imports `mirroredDisk` and lists it in its
 * factory's `media`; runtime-core's disk storage provider then opens this
 * rank's logs and checkpoints through it.
 *
 * Where the two copies go: `EGIDA_MIRRORED_DISK_DIRS=<dirA>:<dirB>` (two
 * mount points, one per disk; each rank uses `<dir>/rank-<r>`), else two
 * directories `a` and `b` under the rank's medium directory in the job's
 * storage directory (a demonstration: both on one disk).
 */
import { join } from "node:path";
import type { MediumContext, MediumStore } from "@egida/runtime-core/spi";
import { MirroredCheckpoints } from "./mirrored-checkpoints.js";
import { MirroredLog } from "./mirrored-log.js";

export const MIRRORS_ENV = "EGIDA_MIRRORED_DISK_DIRS";

/** The rank's two copy directories. */
export function mirrorDirs(ctx: MediumContext, env: NodeJS.ProcessEnv = process.env): [string, string] {
  const spec = env[MIRRORS_ENV];
  if (spec === undefined || spec === "") return [join(ctx.dir, "a"), join(ctx.dir, "b")];
  const dirs = spec.split(":").filter((d) => d !== "");
  if (dirs.length !== 2 || dirs[0] === dirs[1]) {
    throw new RangeError(`${MIRRORS_ENV}=${JSON.stringify(spec)}: expected two different directories separated by ':' (one per disk)`);
  }
  return [join(dirs[0]!, `rank-${ctx.rank}`), join(dirs[1]!, `rank-${ctx.rank}`)];
}

export const mirroredDisk: MediumStore = {
  stable: true,
  openLog(ctx, name) {
    return MirroredLog.open(mirrorDirs(ctx), name, { medium: ctx.medium, warn: (m) => ctx.warn(m) });
  },
  openCheckpoints(ctx) {
    return MirroredCheckpoints.open(mirrorDirs(ctx), { medium: ctx.medium, warn: (m) => ctx.warn(m) });
  },
};

export { MirroredLog } from "./mirrored-log.js";
export { MirroredCheckpoints } from "./mirrored-checkpoints.js";
