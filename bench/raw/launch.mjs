// The hand-written baseline: what a user writes without fault tolerance.
//
//   node bench/raw/launch.mjs N APP [ARGS...]
//
// Forks N rank processes (bench/raw/rank.mjs), each listening on an
// ephemeral port; once every rank reported its port, sends everyone the
// list. Each rank runs the SAME app module egida-run runs (init / onStart /
// onMessage with ctx.send / ctx.write / ctx.done), so the application work
// and the message pattern are identical; only the messaging underneath is
// plain node:net with v8.serialize and a 4-byte length prefix. When every
// rank called done(), the launcher tells them to exit and prints one summary
// line on stderr: "raw summary: messages M, outputs O, ranks N, T ms".
import { fork } from "node:child_process";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

const [nArg, app, ...args] = process.argv.slice(2);
const n = Number(nArg);
if (!Number.isInteger(n) || n < 1 || app === undefined) {
  process.stderr.write("usage: node bench/raw/launch.mjs N APP [ARGS...]\n");
  process.exit(2);
}
const rankMain = fileURLToPath(new URL("./rank.mjs", import.meta.url));
const started = performance.now();
const ports = new Array(n).fill(null);
const children = [];
let done = 0;
let messages = 0;
let outputs = 0;
let exited = 0;

for (let r = 0; r < n; r++) {
  const child = fork(rankMain, [String(r), String(n), resolve(app), ...args], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    serialization: "advanced",
  });
  children.push(child);
  child.on("message", (m) => {
    if (m.t === "port") {
      ports[r] = m.port;
      if (ports.every((p) => p !== null)) for (const c of children) c.send({ t: "peers", ports });
    } else if (m.t === "done") {
      done++;
      messages += m.messages;
      outputs += m.outputs.length;
      if (done === n) for (const c of children) c.send({ t: "exit" });
    }
  });
  child.on("exit", (code, signal) => {
    if (code !== 0) {
      process.stderr.write(`raw: rank ${r} exited with ${signal ?? `code ${code}`}\n`);
      for (const c of children) c.kill("SIGKILL");
      process.exit(1);
    }
    if (++exited === n) {
      process.stderr.write(`raw summary: messages ${messages}, outputs ${outputs}, ranks ${n}, ${Math.round(performance.now() - started)} ms\n`);
      process.exit(0);
    }
  });
}
