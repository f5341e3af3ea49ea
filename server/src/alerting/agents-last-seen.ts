/** listAgentsLastSeen lists every agent with its site and last hello/heartbeat time, for the offline rule. */
import type { Kysely } from 'kysely';
import type { Site } from '../relational/relational-store.js';
import type { RelationalDatabase } from '../relational/schema.js';

export interface AgentLastSeen {
  site: Site;
  agentId: string;
  hostname: string;
  lastSeenAt: string;
}

export async function listAgentsLastSeen(db: Kysely<RelationalDatabase>): Promise<AgentLastSeen[]> {
  const rows = await db
    .selectFrom('agents')
    .innerJoin('sites', 'sites.id', 'agents.site_id')
    .innerJoin('tenants', 'tenants.id', 'sites.tenant_id')
    .select([
      'agents.id as agentId',
      'agents.hostname as hostname',
      'agents.last_seen_at as lastSeenAt',
      'sites.id as siteId',
      'sites.name as siteName',
      'sites.created_at as createdAt',
      'tenants.id as tenantId',
      'tenants.name as tenantName',
    ])
    .execute();
  return rows.map((row) => ({
    site: { id: row.siteId, name: row.siteName, tenantId: row.tenantId, tenantName: row.tenantName, createdAt: row.createdAt },
    agentId: row.agentId,
    hostname: row.hostname,
    lastSeenAt: row.lastSeenAt,
  }));
}
