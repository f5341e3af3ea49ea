/**
 * useSipReflector starts the real SIP reflector on 127.0.0.1 (ephemeral UDP, TCP and TLS ports,
 * a self-signed certificate in a temp dir) for one describe block, and stops it afterwards.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startSipReflector, type SipReflector } from '../../server/src/reflector/sip-server.js';
import { loadOrCreateTlsCertificate } from '../../server/src/reflector/tls-certificate.js';

export function useSipReflector(): () => SipReflector {
  let dataDir: string | undefined;
  let reflector: SipReflector | undefined;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'algwatch-sip-reflector-'));
    const { key, cert } = await loadOrCreateTlsCertificate(dataDir);
    reflector = await startSipReflector({ bind: '127.0.0.1', udpPort: 0, tcpPort: 0, tlsPort: 0, tls: { key, cert } });
  });
  afterAll(async () => {
    await reflector?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });
  return () => {
    if (!reflector) throw new Error('the SIP reflector did not start (see the beforeAll error above)');
    return reflector;
  };
}
