import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadOrCreateTlsCertificate } from './tls-certificate.js';

describe('loadOrCreateTlsCertificate', () => {
  let dataDir: string;
  beforeEach(async () => { dataDir = await mkdtemp(path.join(os.tmpdir(), 'algwatch-tls-')); });
  afterEach(async () => { await rm(dataDir, { recursive: true, force: true }); });

  it('generates a self-signed certificate on first start and keeps it for the next', async () => {
    const first = await loadOrCreateTlsCertificate(dataDir);
    expect(first.generated).toBe(true);
    const certificate = new X509Certificate(first.cert);
    expect(certificate.subject).toContain(`CN=${os.hostname()}`);
    expect(await readFile(path.join(dataDir, 'tls', 'reflector.crt'), 'utf8')).toBe(first.cert);
    expect((await stat(path.join(dataDir, 'tls', 'reflector.key'))).mode & 0o777).toBe(0o600);
    const second = await loadOrCreateTlsCertificate(dataDir);
    expect(second).toEqual({ ...first, generated: false });
  });

  it('uses configured files, and names the file when key and certificate do not match', async () => {
    const a = await loadOrCreateTlsCertificate(path.join(dataDir, 'a'));
    const b = await loadOrCreateTlsCertificate(path.join(dataDir, 'b'));
    const certFile = path.join(dataDir, 'a.crt');
    const keyFile = path.join(dataDir, 'b.key');
    await writeFile(certFile, a.cert);
    await writeFile(keyFile, b.key);
    await expect(loadOrCreateTlsCertificate(dataDir, { certFile, keyFile })).rejects.toThrow(`${keyFile} is not the private key of ${certFile}`);
    await writeFile(keyFile, a.key);
    expect(await loadOrCreateTlsCertificate(dataDir, { certFile, keyFile })).toEqual({ key: a.key, cert: a.cert, generated: false });
  });

  it('fails with one line for a missing configured file or a half-present pair', async () => {
    const missing = path.join(dataDir, 'nope.crt');
    await expect(loadOrCreateTlsCertificate(dataDir, { certFile: missing, keyFile: missing })).rejects.toThrow(`cannot read TLS key ${missing}: ENOENT`);
    await loadOrCreateTlsCertificate(dataDir);
    await rm(path.join(dataDir, 'tls', 'reflector.crt'));
    await expect(loadOrCreateTlsCertificate(dataDir)).rejects.toThrow(/^only one of .*reflector\.key and .*reflector\.crt exists/);
  });
});
