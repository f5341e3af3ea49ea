// The real SIP reflector with its rtp-path sessions in its own process; every bench session comes
// from 127.0.0.1, so the per-source cap is lifted to the total one.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSipReflector } from '../../server/dist/reflector/sip-server.js';
import { RtpSessions } from '../../server/dist/reflector/rtp-sessions.js';
import { loadOrCreateTlsCertificate } from '../../server/dist/reflector/tls-certificate.js';
import { reportReady } from './child.js';

const maxSessions = Number(process.argv[2] ?? 2000);
const tls = await loadOrCreateTlsCertificate(await mkdtemp(join(tmpdir(), 'algwatch-bench-')));
const rtp = await RtpSessions.start({ bind: '127.0.0.1', altAddress: '127.0.0.2', maxSessions, maxSessionsPerSource: maxSessions });
const reflector = await startSipReflector({ bind: '127.0.0.1', udpPort: 0, tcpPort: 0, tlsPort: 0, tls: { key: tls.key, cert: tls.cert }, rtp });
reportReady(reflector.ports.udp);
