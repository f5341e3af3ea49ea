/**
 * The SIP-over-TLS reflector's certificate: the operator's own files when configured, otherwise a
 * self-signed one made on first start and kept in the data directory. The agent's probe does not
 * verify it by default: it measures what a router does to SIP, not who the server is, and an ALG
 * cannot read TLS anyway.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { generate } from 'selfsigned';

export interface TlsCertificate {
  key: string;
  cert: string;
  /** True when this call generated (and stored) a new self-signed certificate. */
  generated: boolean;
}

const VALIDITY_DAYS = 3650;

/**
 * loadOrCreateTlsCertificate returns the PEM key and certificate for the TLS reflector. With
 * `configured` it reads those files and fails with one line naming the unreadable or invalid
 * file. Otherwise it loads `<dataDir>/tls/reflector.{key,crt}`, generating and storing a
 * self-signed pair (key file mode 0600) when neither exists yet.
 */
export async function loadOrCreateTlsCertificate(
  dataDir: string,
  configured?: { certFile: string; keyFile: string },
): Promise<TlsCertificate> {
  if (configured) {
    const key = await readPem(configured.keyFile, 'TLS key');
    const cert = await readPem(configured.certFile, 'TLS certificate');
    checkPair(key, cert, configured.keyFile, configured.certFile);
    return { key, cert, generated: false };
  }
  const dir = path.join(dataDir, 'tls');
  const keyFile = path.join(dir, 'reflector.key');
  const certFile = path.join(dir, 'reflector.crt');
  const [key, cert] = await Promise.all([readOptional(keyFile), readOptional(certFile)]);
  if (key !== null && cert !== null) {
    checkPair(key, cert, keyFile, certFile);
    return { key, cert, generated: false };
  }
  if (key !== null || cert !== null) {
    throw new Error(`only one of ${keyFile} and ${certFile} exists: restore the other, or delete both to generate a new certificate`);
  }
  const hostname = os.hostname();
  const notBeforeDate = new Date();
  const pems = await generate([{ name: 'commonName', value: hostname }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + VALIDITY_DAYS * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: hostname }] },
    ],
  });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // Write both under temporary names, then rename: a crash never leaves a half-written pair.
  await writeFile(`${keyFile}.tmp`, pems.private, { mode: 0o600 });
  await writeFile(`${certFile}.tmp`, pems.cert, { mode: 0o644 });
  await rename(`${keyFile}.tmp`, keyFile);
  await rename(`${certFile}.tmp`, certFile);
  return { key: pems.private, cert: pems.cert, generated: true };
}

async function readPem(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

async function readOptional(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** checkPair fails early, with the file names, rather than at the first TLS handshake. */
function checkPair(key: string, cert: string, keyFile: string, certFile: string): void {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch {
    throw new Error(`${certFile} is not a PEM certificate`);
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new Error(`${keyFile} is not a PEM private key (or it is encrypted)`);
  }
  if (!certificate.checkPrivateKey(privateKey)) throw new Error(`${keyFile} is not the private key of ${certFile}`);
}
