// Loaded with `node --import` into every process of a benchmarked job (the
// launchers fork their ranks with the parent's execArgv, so they load it too):
// counts fsync/fdatasync calls and writes to files opened O_DSYNC (each one
// is durable when it returns: runtime-core's disk log), and, at exit, writes
// this process's CPU time and that count to $EGIDA_BENCH_PROBE_DIR/<pid>.json.
// Per process, so the job's CPU is complete even when a launcher exits before
// reaping a child.
// Does nothing without the variable.
import fs from "node:fs";
import { open } from "node:fs/promises";
import { syncBuiltinESMExports } from "node:module";
import { availableParallelism } from "node:os";
import { join } from "node:path";

const dir = process.env.EGIDA_BENCH_PROBE_DIR;
if (dir) {
  let syncs = 0;
  // FileHandle is not exported; its prototype is reachable from any handle.
  const fh = await open(process.execPath, "r");
  const proto = Object.getPrototypeOf(fh);
  await fh.close();
  for (const m of ["sync", "datasync"]) {
    const orig = proto[m];
    proto[m] = function (...a) {
      syncs++;
      return orig.apply(this, a);
    };
  }
  // A write to a handle opened O_DSYNC is a durable write: counted like write + fdatasync.
  const dsync = new WeakSet();
  const openOrig = fs.promises.open;
  fs.promises.open = async function (path, flags, ...rest) {
    const h = await openOrig.call(this, path, flags, ...rest);
    if (typeof flags === "number" && fs.constants.O_DSYNC !== undefined && (flags & fs.constants.O_DSYNC) !== 0) dsync.add(h);
    return h;
  };
  for (const m of ["write", "writev"]) {
    const orig = proto[m];
    proto[m] = function (...a) {
      if (dsync.has(this)) syncs++;
      return orig.apply(this, a);
    };
  }
  for (const m of ["fsync", "fdatasync", "fsyncSync", "fdatasyncSync"]) {
    const orig = fs[m];
    fs[m] = function (...a) {
      syncs++;
      return orig.apply(this, a);
    };
  }
  syncBuiltinESMExports();
  process.on("exit", () => {
    const u = process.cpuUsage();
    // cpus: the CPUs this process may run on (its affinity; bench/job.ts --cpus confines it).
    fs.writeFileSync(join(dir, `${process.pid}.json`), JSON.stringify({ pid: process.pid, script: process.argv[1] ?? "", userUs: u.user, systemUs: u.system, syncs, cpus: availableParallelism() }));
  });
}
