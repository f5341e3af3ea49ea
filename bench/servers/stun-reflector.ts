// The real STUN reflector in its own process, with the per-source reply budget opened up so the
// benchmark measures serving cost, not the limiter (the load comes from one address).
import { startStunReflector } from '../../server/dist/reflector/stun-server.js';
import { SourceRateLimiter } from '../../server/dist/reflector/rate-limit.js';
import { reportReady } from './child.js';

const limiter = new SourceRateLimiter({ ratePerSecond: 1e9, burst: 1e9, maxSources: 1000 });
const reflector = await startStunReflector({ bind: '127.0.0.1', port: 0, altPort: 0, limiter });
reportReady(reflector.sockets[0]!.port);
