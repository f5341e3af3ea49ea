// The real SIP reflector in its own process (UDP only matters here; TCP/TLS on ephemeral ports).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSipReflector } from '../../server/dist/reflector/sip-server.js';
import { loadOrCreateTlsCertificate } from '../../server/dist/reflector/tls-certificate.js';
import { reportReady } from './child.js';

const tls = await loadOrCreateTlsCertificate(await mkdtemp(join(tmpdir(), 'algwatch-bench-')));
const reflector = await startSipReflector({ bind: '127.0.0.1', udpPort: 0, tcpPort: 0, tlsPort: 0, tls: { key: tls.key, cert: tls.cert } });
reportReady(reflector.ports.udp);
