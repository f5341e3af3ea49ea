/**
 * Settings for sites, for admins and technicians within their tenants (viewers only read):
 *   GET  /api/tenants                     the tenants the user may see, with their site counts
 *   POST /api/sites {name, tenant}        enroll a site: its token once, in the one-line agent command
 *   POST /api/sites/:siteId/revoke        revoke every token of the site and drop its agents
 *   GET  /api/sites/:siteId/config        the site's targets and schedule
 *   PUT  /api/sites/:siteId/config        replace targets and/or schedule (pushed to its agents)
 */
import * as z from 'zod';
import { scheduleSchema, sipTargetSchema } from '@algwatch/protocol/events';
import { canOperate, canSeeTenant, type Viewer } from '../auth/roles.js';
import { DEFAULT_TENANT, type RelationalStore } from '../relational/relational-store.js';
import { RelationalError } from '../relational/relational-error.js';
import { HttpError, readJson, sendJson, type AuthedContext, type RequestContext, type WebRoute } from './http-kit.js';
import { visibleSiteOf, type SiteDirectory } from './site-directory.js';

export interface SiteAdminDeps {
  relational: RelationalStore;
  directory: SiteDirectory;
  /** The URL agents reach this server at, for the printed command (--public-url); else the request's Host. */
  publicUrl?: string;
  disconnectSite(siteId: string): void;
  pushConfig(siteId: string): Promise<number>;
}

const enrollSchema = z.object({ name: z.string(), tenant: z.string().optional() });
const configSchema = z.object({ targets: z.array(z.unknown()).optional(), schedule: z.unknown().optional() });

export function siteAdminRoutes(deps: SiteAdminDeps): WebRoute[] {
  return [
    {
      method: 'GET',
      path: '/api/tenants',
      access: 'api',
      async handle(ctx) {
        const sites = await deps.directory.visibleSites((ctx as AuthedContext).viewer);
        const counts = new Map<string, number>();
        for (const site of sites) counts.set(site.tenant, (counts.get(site.tenant) ?? 0) + 1);
        sendJson(ctx.res, 200, { tenants: [...counts].map(([name, sites]) => ({ name, sites })) });
      },
    },
    {
      method: 'POST',
      path: '/api/sites',
      access: 'api',
      async handle(ctx) {
        const viewer = operator(ctx);
        const body = enrollSchema.safeParse(await readJson(ctx.req));
        if (!body.success) throw new HttpError(400, 'give the site a name (and a tenant)');
        const tenant = body.data.tenant || (viewer.tenants?.length === 1 ? viewer.tenants[0] : DEFAULT_TENANT) || DEFAULT_TENANT;
        if (!canSeeTenant(viewer, tenant)) throw new HttpError(403, `you may not enroll sites in tenant ${tenant}`);
        const { site, token } = await relationalCall(() => deps.relational.createSite(body.data.name, tenant));
        const serverUrl = deps.publicUrl ?? `http://${ctx.req.headers.host ?? 'localhost:8080'}`;
        sendJson(ctx.res, 201, { siteId: site.id, site: site.name, tenant: site.tenantName, token, command: `algwatch-agent run --server ${serverUrl} --token ${token}` });
      },
    },
    {
      method: 'POST',
      path: /^\/api\/sites\/(?<siteId>[^/]+)\/revoke$/,
      access: 'api',
      async handle(ctx) {
        operator(ctx);
        const listing = await visibleSiteOf(deps.directory, ctx);
        const { revoked } = await deps.relational.revokeSiteTokens(listing.siteId);
        deps.disconnectSite(listing.siteId);
        sendJson(ctx.res, 200, { ok: true, revoked });
      },
    },
    {
      method: 'GET',
      path: /^\/api\/sites\/(?<siteId>[^/]+)\/config$/,
      access: 'api',
      async handle(ctx) {
        const listing = await visibleSiteOf(deps.directory, ctx);
        sendJson(ctx.res, 200, await deps.relational.getAgentConfig(listing.siteId));
      },
    },
    {
      method: 'PUT',
      path: /^\/api\/sites\/(?<siteId>[^/]+)\/config$/,
      access: 'api',
      async handle(ctx) {
        operator(ctx);
        const listing = await visibleSiteOf(deps.directory, ctx);
        const body = configSchema.safeParse(await readJson(ctx.req));
        if (!body.success) throw new HttpError(400, 'send { targets?: [...], schedule?: {...} }');
        const targets = body.data.targets?.map((target, index) => {
          const parsed = sipTargetSchema.safeParse(target);
          if (!parsed.success) throw new HttpError(400, `target ${index + 1}: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
          return parsed.data;
        });
        const schedule = body.data.schedule === undefined ? undefined : scheduleSchema.safeParse(body.data.schedule);
        if (schedule && !schedule.success) throw new HttpError(400, `schedule: ${schedule.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
        if (targets) await deps.relational.setSiteTargets(listing.siteId, targets);
        if (schedule?.success) await deps.relational.setSiteSchedule(listing.siteId, schedule.data);
        const pushed = await deps.pushConfig(listing.siteId);
        sendJson(ctx.res, 200, { ok: true, agentsUpdated: pushed, config: await deps.relational.getAgentConfig(listing.siteId) });
      },
    },
  ];
}

function operator(ctx: RequestContext): Viewer {
  const { viewer } = ctx as AuthedContext;
  if (!canOperate(viewer)) throw new HttpError(403, 'viewers cannot change settings: ask a technician or admin');
  return viewer;
}

/** relationalCall turns the store's expected refusals (name taken, bad name) into 409/400 with their message. */
async function relationalCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof RelationalError) throw new HttpError(error.code === 'SITE_EXISTS' ? 409 : 400, error.message);
    throw error;
  }
}
