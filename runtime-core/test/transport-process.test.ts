import { describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";

const transportUrl = pathToFileURL(fileURLToPath(new URL("../src/transport/index.ts", import.meta.url))).href;
const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

/** The child: listens on an ephemeral port, reports it, learns the peers on stdin, then rank 1 pings and rank 0 echoes. */
const CHILD = `
import { createInterface } from "node:readline";
import { TcpTransport } from ${JSON.stringify(transportUrl)};
const [rank, size, count] = process.argv.slice(2).map(Number);
const t = await TcpTransport.listen({ rank, size, incarnation: 0, secret: process.env.EGIDA_SECRET });
console.log(JSON.stringify({ port: t.address.port }));
const lines = createInterface({ input: process.stdin });
const peers = JSON.parse((await lines[Symbol.asyncIterator]().next()).value);
let got = 0;
t.on({
  frame: async (f) => {
    got++;
    if (rank === 0) t.send(f.from, { kind: 1, tag: 0, piggyback: f.piggyback, payload: f.payload });
    else {
      const n = Buffer.from(f.payload).readUInt32BE(0);
      if (n !== got - 1) { console.log(JSON.stringify({ error: "out of order " + n })); process.exit(1); }
      if (got === count) { console.log(JSON.stringify({ done: got })); await t.close(); process.exit(0); }
    }
  },
  peerIncarnation: () => {},
  peerDown: async () => { if (rank === 0) { await t.close(); process.exit(0); } },
});
t.connect(peers);
await t.waitForPeers();
if (rank === 1) for (let i = 0; i < count; i++) { const b = Buffer.alloc(64); b.writeUInt32BE(i); t.send(0, { kind: 1, tag: 0, piggyback: new Uint8Array(0), payload: b }); }
`;

describe("TcpTransport between OS processes", () => {
  it("two child processes connect over loopback and echo 2000 frames in order", async () => {
    const dir = mkdtempSync(join(tmpdir(), "egida-tcp-"));
    const script = join(dir, "child.mts");
    writeFileSync(script, CHILD);
    const count = 2000;
    const kids = [0, 1].map((rank) =>
      spawn(process.execPath, ["--import", "tsx", script, String(rank), "2", String(count)], {
        cwd: repoRoot,
        env: { ...process.env, EGIDA_SECRET: "child-secret" },
        stdio: ["pipe", "pipe", "inherit"],
      }),
    );
    const messages = kids.map((k) => {
      const lines = createInterface({ input: k.stdout! });
      return lines[Symbol.asyncIterator]();
    });
    const ports = await Promise.all(messages.map(async (m) => (JSON.parse((await m.next()).value as string) as { port: number }).port));
    const peers = ports.map((port) => ({ host: "127.0.0.1", port }));
    for (const k of kids) k.stdin!.write(JSON.stringify(peers) + "\n");
    const result = JSON.parse((await messages[1]!.next()).value as string) as { done?: number };
    expect(result).toEqual({ done: count });
    const codes = await Promise.all(kids.map((k) => new Promise<number | null>((res) => (k.exitCode !== null ? res(k.exitCode) : k.once("exit", (c) => res(c))))));
    expect(codes).toEqual([0, 0]);
  }, 30_000);
});
