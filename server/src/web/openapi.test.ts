import { describe, expect, it } from 'vitest';
import { authRoutes } from './auth-routes.js';
import { channelRoutes } from './channel-routes.js';
import { alertRoutes } from './alert-routes.js';
import { fleetRoutes } from './fleet-routes.js';
import { historyRoutes } from './history-routes.js';
import { OPENAPI_PATHS, openApiRoutes } from './openapi.js';
import { siteAdminRoutes } from './site-admin-routes.js';
import { userRoutes } from './user-routes.js';
import type { WebRoute } from './http-kit.js';

// The route factories only keep their dependencies for later: none is called here.
const unused = {} as never;
const apiRoutes: WebRoute[] = [
  ...authRoutes(unused),
  ...fleetRoutes(unused),
  ...historyRoutes(unused),
  ...siteAdminRoutes(unused),
  ...userRoutes(unused),
  ...channelRoutes(unused),
  ...alertRoutes(unused),
  ...openApiRoutes('test'),
].filter((route) => (typeof route.path === 'string' ? route.path.startsWith('/api/') : route.path.source.includes('api')));

const documented = Object.entries(OPENAPI_PATHS).flatMap(([path, methods]) => Object.keys(methods).map((method) => ({ method: method.toUpperCase(), path })));
const matches = (route: WebRoute, path: string) => {
  const concrete = path.replace(/\{[^}]+\}/g, '0123456789abcdef');
  return typeof route.path === 'string' ? route.path === path : route.path.exec(concrete)?.[0] === concrete;
};

describe('the OpenAPI document', () => {
  it('describes every API route the server answers', () => {
    const missing = apiRoutes.filter((route) => !documented.some((doc) => doc.method === route.method && matches(route, doc.path)));
    expect(missing.map((route) => `${route.method} ${String(route.path)}`)).toEqual([]);
  });

  it('describes no route the server does not answer', () => {
    const extra = documented.filter((doc) => !apiRoutes.some((route) => route.method === doc.method && matches(route, doc.path)));
    expect(extra).toEqual([]);
  });
});
