/**
 * SiteDirectory answers "which sites may this user see, and how many of their agents are online",
 * in SQL over the shared Kysely handle, so a tenant-limited user's query never even reads another
 * tenant's rows.
 */
import type { Kysely } from 'kysely';
import type { RelationalDatabase } from '../relational/schema.js';
import type { Viewer } from '../auth/roles.js';
import type { SiteFacts } from './fleet-state.js';
import { HttpError, type AuthedContext, type RequestContext } from './http-kit.js';

/** An agent counts as online when it said hello or sent a heartbeat (every 30 s) within this. */
export const AGENT_ONLINE_WITHIN_MS = 90_000;

export type SiteListing = Omit<SiteFacts, 'firingAlerts'>;

export class SiteDirectory {
  constructor(private readonly db: Kysely<RelationalDatabase>) {}

  /** visibleSites lists the sites of the tenants the viewer may see, by tenant and name. */
  async visibleSites(viewer: Viewer, now = Date.now()): Promise<SiteListing[]> {
    const tenants = tenantScope(viewer);
    if (tenants !== null && tenants.length === 0) return [];
    const onlineSince = new Date(now - AGENT_ONLINE_WITHIN_MS).toISOString();
    let query = this.db
      .selectFrom('sites')
      .innerJoin('tenants', 'tenants.id', 'sites.tenant_id')
      .leftJoin('agents', 'agents.site_id', 'sites.id')
      .select((eb) => [
        'sites.id as siteId',
        'sites.name as site',
        'tenants.name as tenant',
        eb.fn.count('agents.id').as('agentsTotal'),
        eb.fn.count(eb.case().when('agents.last_seen_at', '>=', onlineSince).then(eb.ref('agents.id')).end()).as('agentsOnline'),
      ])
      .groupBy(['sites.id', 'sites.name', 'tenants.name'])
      .orderBy('tenants.name')
      .orderBy('sites.name');
    if (tenants !== null) query = query.where('tenants.name', 'in', tenants);
    const rows = await query.execute();
    // PostgreSQL returns count() as a bigint string, SQLite as a number.
    return rows.map((row) => ({ siteId: row.siteId, site: row.site, tenant: row.tenant, agentsTotal: Number(row.agentsTotal), agentsOnline: Number(row.agentsOnline) }));
  }

  /** visibleSite returns one site when the viewer may see it; null when it does not exist or is not theirs (the same answer). */
  async visibleSite(viewer: Viewer, siteId: string, now = Date.now()): Promise<SiteListing | null> {
    const site = await this.db
      .selectFrom('sites')
      .innerJoin('tenants', 'tenants.id', 'sites.tenant_id')
      .select(['sites.id as siteId', 'sites.name as site', 'tenants.name as tenant'])
      .where('sites.id', '=', siteId)
      .executeTakeFirst();
    const tenants = tenantScope(viewer);
    if (!site || (tenants !== null && !tenants.includes(site.tenant))) return null;
    const agents = await this.db.selectFrom('agents').select('last_seen_at').where('site_id', '=', siteId).execute();
    const onlineSince = new Date(now - AGENT_ONLINE_WITHIN_MS).toISOString();
    return { ...site, agentsTotal: agents.length, agentsOnline: agents.filter((a) => a.last_seen_at >= onlineSince).length };
  }
}

/** tenantScope is the tenant names a viewer is limited to, or null for every tenant. */
export function tenantScope(viewer: Viewer): readonly string[] | null {
  return viewer.role === 'admin' ? null : viewer.tenants;
}

/**
 * visibleSiteOf is the route's `:siteId` as the logged-in user may see it; HttpError 404 when it
 * does not exist or belongs to a tenant the user may not see (the same answer for both).
 */
export async function visibleSiteOf(directory: SiteDirectory, ctx: RequestContext): Promise<SiteListing> {
  const listing = await directory.visibleSite((ctx as AuthedContext).viewer, ctx.params.siteId ?? '');
  if (!listing) throw new HttpError(404, 'no such site');
  return listing;
}
