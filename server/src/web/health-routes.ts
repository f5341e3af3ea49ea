/** GET /healthz: open to anyone (load balancers, monitoring); says the server is up and where it listens. */
import { sendJson, type WebRoute } from './http-kit.js';

export function healthRoutes(status: () => object): WebRoute[] {
  return [{ method: 'GET', path: '/healthz', access: 'public', handle: (ctx) => sendJson(ctx.res, 200, { status: 'ok', ...status() }) }];
}
