/**
 * The /metrics endpoint on its own port (--metrics-port, default 9464), never on the HTTP port that
 * agents and browsers reach: bound to loopback unless --metrics-bind says otherwise, and, when
 * --metrics-token is set, answering only requests with `Authorization: Bearer TOKEN`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export interface MetricsEndpointOptions {
  registry: Registry;
  bind: string;
  port: number;
  /** The bearer token scrapers must send; none means no authentication (fine on loopback). */
  token?: string;
}

export interface MetricsEndpoint {
  /** The port it listens on (the real one when 0 was asked for). */
  readonly port: number;
  close(): Promise<void>;
}

/**
 * startMetricsEndpoint resolves once it listens; rejects with the listen error (EADDRINUSE...).
 * GET /metrics answers 200 in the Prometheus text format, 401 without the right token, 404
 * elsewhere; the token is never echoed or logged.
 */
export function startMetricsEndpoint(options: MetricsEndpointOptions): Promise<MetricsEndpoint> {
  const expected = options.token === undefined ? undefined : digest(options.token);
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: metrics are at /metrics\n');
      return;
    }
    if (expected && !hasToken(req, expected)) {
      res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer realm="algwatch metrics"' }).end('a bearer token is needed\n');
      return;
    }
    options.registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': options.registry.contentType }).end(body),
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${err.message.split('\n')[0]}\n`),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.bind, () => {
      server.off('error', reject);
      const address = server.address();
      resolve({ port: typeof address === 'object' && address ? address.port : options.port, close: () => closeServer(server) });
    });
  });
}

/** hasToken compares digests in constant time, so neither the token nor its length leaks by timing. */
function hasToken(req: IncomingMessage, expected: Buffer): boolean {
  const match = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '');
  return match !== null && timingSafeEqual(digest(match[1]!.trim()), expected);
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
