/**
 * `--tls-cert/--tls-key/--tls-ca`, read and checked before the rank starts,
 * so a wrong file is one line at start-up rather than a refused handshake
 * at every re-dial:
 *  - a missing or unreadable file is an environment fault (exit 7), as a
 *    missing --secret-file is;
 *  - a file that is not the PEM it should be, a key that does not belong to
 *    the certificate, a certificate not signed by the CA or outside its
 *    validity period is a usage error (exit 2): TlsFilesError.
 */
import { X509Certificate, createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { createSecureContext } from "node:tls";
import { EnvironmentError, environmentFault } from "../host/env-fault.js";
import type { TlsMaterial } from "../transport/tcp.js";
import type { TlsFiles } from "./options.js";

export class TlsFilesError extends Error {
  override readonly name = "TlsFilesError";
}

const MAKE = "docs/deploy.md shows how to make a CA and per-host certificates with openssl";

function read(flag: string, file: string): Buffer {
  const abs = resolve(file);
  try {
    return readFileSync(abs);
  } catch (e) {
    const env = environmentFault(e, "tls file");
    throw env ? new EnvironmentError({ ...env, op: `read ${flag}`, file: abs }, e) : e;
  }
}

function cert(flag: string, file: string, pem: Buffer): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (e) {
    throw new TlsFilesError(`${flag} ${file} is not a PEM certificate (${e instanceof Error ? e.message : String(e)}); ${MAKE}`);
  }
}

/** Reads and checks the three files; `now` is injectable for tests of the validity period. */
export function loadTlsFiles(f: TlsFiles, now: Date = new Date()): TlsMaterial {
  const certPem = read("--tls-cert", f.cert);
  const keyPem = read("--tls-key", f.key);
  const caPem = read("--tls-ca", f.ca);
  const c = cert("--tls-cert", f.cert, certPem);
  const ca = cert("--tls-ca", f.ca, caPem);
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch (e) {
    throw new TlsFilesError(`--tls-key ${f.key} is not a PEM private key (${e instanceof Error ? e.message : String(e)}); ${MAKE}`);
  }
  if (!c.checkPrivateKey(key)) throw new TlsFilesError(`--tls-key ${f.key} is not the key of --tls-cert ${f.cert}: give the key the certificate was made for`);
  if (!ca.ca) throw new TlsFilesError(`--tls-ca ${f.ca} is not a CA certificate (its basicConstraints lack CA:TRUE); give the CA that signed every rank's certificate`);
  if (!c.verify(ca.publicKey)) throw new TlsFilesError(`--tls-cert ${f.cert} is not signed by --tls-ca ${f.ca}: every rank's certificate must be signed by the one CA`);
  for (const [flag, file, x] of [["--tls-cert", f.cert, c], ["--tls-ca", f.ca, ca]] as const) {
    if (now < new Date(x.validFrom)) throw new TlsFilesError(`${flag} ${file} is not valid before ${x.validFrom}: check this host's clock, or make a new one`);
    if (now > new Date(x.validTo)) throw new TlsFilesError(`${flag} ${file} expired on ${x.validTo}: make a new one`);
  }
  try {
    // What node:tls itself will do with them: catches anything the checks above let through.
    createSecureContext({ cert: certPem, key: keyPem, ca: caPem });
  } catch (e) {
    throw new TlsFilesError(`--tls-cert/--tls-key/--tls-ca: node:tls refuses them: ${e instanceof Error ? e.message : String(e)}`);
  }
  return { cert: certPem, key: keyPem, ca: caPem };
}
