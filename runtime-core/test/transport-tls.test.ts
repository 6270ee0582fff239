/**
 * Mutual TLS under the HMAC handshake (TcpTransportOptions.tls), and the
 * checks of --tls-cert/--tls-key/--tls-ca before a rank starts
 * (launcher/tls-files.ts). Certificates are made per run with the openssl
 * CLI; without it these tests are skipped (the reason is in the title).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { EnvironmentError } from "../src/host/env-fault.js";
import { loadTlsFiles, TlsFilesError } from "../src/launcher/tls-files.js";
import { FrameKind, type InboundFrame } from "../src/spi.js";
import { TcpTransport, type TlsMaterial } from "../src/transport/tcp.js";
import { makeCerts, opensslMissing, type CertSet } from "./fixtures/tls-certs.js";

const NO_OPENSSL = opensslMissing();
const SECRET = "tls-test-secret-0123456789";
const open: TcpTransport[] = [];
const tmp = mkdtempSync(join(tmpdir(), "egida-tls-test-"));
let job: CertSet;
let rogue: CertSet;
if (NO_OPENSSL === null) {
  job = makeCerts(join(tmp, "job"), ["r0", "r1"]);
  rogue = makeCerts(join(tmp, "rogue"), ["r1"], "another-ca");
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const material = (set: CertSet, name: string, ca = set.ca): TlsMaterial => ({
  cert: readFileSync(set.certs[name]!.cert),
  key: readFileSync(set.certs[name]!.key),
  ca: readFileSync(ca),
});

/** Rank 0 listens; rank 1 dials it with `tls1` (undefined = plain TCP) and `secret1`. */
async function pair(tls0: TlsMaterial | undefined, tls1: TlsMaterial | undefined, secret1 = SECRET) {
  const logs: string[] = [];
  const frames: InboundFrame[] = [];
  const t0 = await TcpTransport.listen({ rank: 0, size: 2, incarnation: 0, secret: SECRET, ...(tls0 ? { tls: tls0 } : {}), log: (_l, m) => logs.push(m) });
  t0.on({ frame: (f) => frames.push(f), peerIncarnation: () => {} });
  open.push(t0);
  const t1 = await TcpTransport.listen({
    rank: 1,
    size: 2,
    incarnation: 0,
    secret: secret1,
    ...(tls1 ? { tls: tls1 } : {}),
    peers: [t0.address, { host: "127.0.0.1", port: 0 }],
    backoff: { initialMs: 20, maxMs: 50 },
    log: (_l, m) => logs.push(m),
  });
  t1.on({ frame: () => {}, peerIncarnation: () => {} });
  open.push(t1);
  return { t0, t1, logs, frames };
}

const refused = async (t: TcpTransport): Promise<void> => {
  await expect(t.waitForPeers(600)).rejects.toThrow(/peers not connected/);
};

describe.skipIf(NO_OPENSSL !== null)(`TLS transport${NO_OPENSSL === null ? "" : ` (skipped: ${NO_OPENSSL})`}`, () => {
  it("two ranks with certificates from the job's CA connect and exchange frames", async () => {
    const { t0, t1, frames } = await pair(material(job, "r0"), material(job, "r1"));
    await t1.waitForPeers(5000);
    t1.send(0, { kind: FrameKind.App, tag: 3, piggyback: new Uint8Array([1]), payload: new TextEncoder().encode("over tls") });
    await expect.poll(() => frames.length).toBe(1);
    expect(new TextDecoder().decode(frames[0]!.payload)).toBe("over tls");
    expect(t0.stats.rejected).toBe(0);
  });

  it("a dialer with a certificate from another CA is refused by the listener (mutual TLS)", async () => {
    const { t0, t1, logs } = await pair(material(job, "r0"), material(rogue, "r1", job.ca));
    await refused(t1);
    expect(t0.connectedPeers()).toEqual([]);
    expect(t0.stats.rejected).toBeGreaterThan(0);
    expect(logs.join("\n")).toMatch(/TLS handshake from .* failed/);
  });

  it("a dialer that does not trust the listener's CA refuses it", async () => {
    const { t0, t1, logs } = await pair(material(job, "r0"), material(job, "r1", rogue.ca));
    await refused(t1);
    expect(t0.connectedPeers()).toEqual([]);
    expect(logs.join("\n")).toMatch(/TLS handshake with rank 0 failed/);
  });

  it("a plain TCP dialer is refused by a TLS listener", async () => {
    const { t0, t1 } = await pair(material(job, "r0"), undefined);
    await refused(t1);
    expect(t0.connectedPeers()).toEqual([]);
    expect(t0.stats.rejected).toBeGreaterThan(0);
  });

  it("the HMAC handshake still runs inside TLS: a valid certificate with the wrong job secret is refused", async () => {
    const { t0, t1, logs } = await pair(material(job, "r0"), material(job, "r1"), "another-secret-0123456789");
    await refused(t1);
    expect(t0.connectedPeers()).toEqual([]);
    expect(logs.join("\n")).toMatch(/authentication failed/);
  });

  it("bytes on the wire are not the frames: a raw TCP client sees a TLS record, not egida's Hello", async () => {
    const { t0 } = await pair(material(job, "r0"), undefined);
    // A TLS server answers garbage with an alert record (content type 21) or closes; never a plain egida frame.
    const got = await new Promise<Buffer>((resolve) => {
      const s = connect(t0.address.port, "127.0.0.1");
      const chunks: Buffer[] = [];
      s.on("data", (d) => chunks.push(d));
      s.on("close", () => resolve(Buffer.concat(chunks)));
      s.on("error", () => {});
      s.write(Buffer.from("GET / HTTP/1.0\r\n\r\n"));
    });
    expect(got.length === 0 || got[0] === 21, `got ${got.subarray(0, 16).toString("hex")}`).toBe(true);
  });
});

describe.skipIf(NO_OPENSSL !== null)("--tls-cert/--tls-key/--tls-ca checks before start-up", () => {
  const files = () => ({ cert: job.certs["r0"]!.cert, key: job.certs["r0"]!.key, ca: job.ca });

  it("accepts a matching certificate, key and CA", () => {
    const m = loadTlsFiles(files());
    expect(m.cert.toString()).toMatch(/BEGIN CERTIFICATE/);
  });

  it("a missing file is an environment fault naming the flag and the file", () => {
    const e = (() => {
      try {
        loadTlsFiles({ ...files(), key: join(tmp, "no-such.key") });
      } catch (x) {
        return x;
      }
      return null;
    })();
    expect(e).toBeInstanceOf(EnvironmentError);
    expect((e as Error).message).toMatch(/tls file error: cannot read --tls-key .*no-such\.key: no such file or directory \(ENOENT\); check the path given to --tls-cert\/--tls-key\/--tls-ca/);
  });

  it.each<[string, () => { cert: string; key: string; ca: string }, RegExp]>([
    ["a certificate that is not PEM", () => ({ ...files(), cert: garbage("cert.pem") }), /--tls-cert .*cert\.pem is not a PEM certificate/],
    ["a key that is not PEM", () => ({ ...files(), key: garbage("key.pem") }), /--tls-key .*key\.pem is not a PEM private key/],
    ["the key of another certificate", () => ({ ...files(), key: job.certs["r1"]!.key }), /is not the key of --tls-cert/],
    ["a certificate from another CA", () => ({ ...files(), cert: rogue.certs["r1"]!.cert, key: rogue.certs["r1"]!.key }), /is not signed by --tls-ca/],
    ["a leaf certificate as the CA", () => ({ ...files(), ca: job.certs["r1"]!.cert }), /is not a CA certificate/],
  ])("%s: a TlsFilesError naming it", (_what, f, message) => {
    expect(() => loadTlsFiles(f())).toThrow(TlsFilesError);
    expect(() => loadTlsFiles(f())).toThrow(message);
  });

  it("an expired certificate (seen from a clock a year ahead) is refused", () => {
    const later = new Date(Date.now() + 365 * 86400_000);
    expect(() => loadTlsFiles(files(), later)).toThrow(/expired on/);
  });
});

function garbage(name: string): string {
  const f = join(tmp, name);
  writeFileSync(f, "-----BEGIN NOTHING-----\nnot base64 at all\n-----END NOTHING-----\n");
  return f;
}
