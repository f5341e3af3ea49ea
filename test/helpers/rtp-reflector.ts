/**
 * useRtpReflector starts the real SIP reflector with the rtp-path sessions on 127.0.0.1 (the
 * pinhole's alternate address 127.0.0.2, also loopback) for one describe block, and stops both.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startSipReflector, type SipReflector } from '../../server/src/reflector/sip-server.js';
import { loadOrCreateTlsCertificate } from '../../server/src/reflector/tls-certificate.js';
import { RtpSessions, type RtpSessionsOptions } from '../../server/src/reflector/rtp-sessions.js';

export interface RtpReflector {
  sip: SipReflector;
  rtp: RtpSessions;
  events: Array<{ event: string; fields: Record<string, unknown> }>;
}

export function useRtpReflector(options: Partial<RtpSessionsOptions> = {}): () => RtpReflector {
  let dataDir: string | undefined;
  let started: RtpReflector | undefined;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'algwatch-rtp-reflector-'));
    const { key, cert } = await loadOrCreateTlsCertificate(dataDir);
    const events: RtpReflector['events'] = [];
    const log = (event: string, fields: Record<string, unknown>) => events.push({ event, fields });
    const rtp = await RtpSessions.start({ bind: '127.0.0.1', altAddress: '127.0.0.2', log, ...options });
    const sip = await startSipReflector({ bind: '127.0.0.1', udpPort: 0, tcpPort: 0, tlsPort: 0, tls: { key, cert }, rtp, log });
    started = { sip, rtp, events };
  });
  afterAll(async () => {
    await started?.sip.close();
    await started?.rtp.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });
  return () => {
    if (!started) throw new Error('the RTP reflector did not start (see the beforeAll error above)');
    return started;
  };
}
