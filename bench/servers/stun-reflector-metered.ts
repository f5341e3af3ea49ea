// The STUN reflector as algwatch-server runs it: its budget seen through meteredLimiter, so every
// request is counted in algwatch_reflector_requests_total. Budget opened up as in stun-reflector.ts.
import { startStunReflector } from '../../server/dist/reflector/stun-server.js';
import { SourceRateLimiter } from '../../server/dist/reflector/rate-limit.js';
import { meteredLimiter } from '../../server/dist/metrics/metered-rate-limiter.js';
import { ServerMetrics } from '../../server/dist/metrics/server-metrics.js';
import { reportReady } from './child.js';

const limiter = new SourceRateLimiter({ ratePerSecond: 1e9, burst: 1e9, maxSources: 1000 });
const reflector = await startStunReflector({ bind: '127.0.0.1', port: 0, altPort: 0, limiter: meteredLimiter(limiter, 'stun', new ServerMetrics()) });
reportReady(reflector.sockets[0]!.port);
