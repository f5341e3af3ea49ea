/**
 * RelationalStore: tenants, sites, agent tokens, agents, the result ids already ingested, and what
 * each site's agents are told to probe. One Kysely query layer; openRelationalStore (open.ts) picks
 * SQLite or PostgreSQL underneath. Every query here is written to mean the same on both.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import {
  DEFAULT_SCHEDULE,
  runNowSchema,
  scheduleSchema,
  sipTargetSchema,
  type Heartbeat,
  type ProbeName,
  type Schedule,
  type SipTarget,
} from '@algwatch/protocol/events';
import { generateAgentToken, hashAgentToken } from './agent-token.js';
import { RelationalError } from './relational-error.js';
import type { RelationalDatabase } from './schema.js';

export const DEFAULT_TENANT = 'default';

/** Site and tenant names become time-series tags and CLI arguments: keep them plain. */
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface Site {
  id: string;
  name: string;
  tenantId: string;
  tenantName: string;
  createdAt: string;
}

export interface SiteSummary extends Site {
  activeTokens: number;
  agents: number;
  /** The most recent hello or heartbeat of any of the site's agents; null if none ever connected. */
  lastSeenAt: string | null;
}

/** SiteWithToken carries a token in clear: the only moment it exists outside the agent's config. */
export interface SiteWithToken {
  site: Site;
  token: string;
}

export interface AgentRecord {
  id: string;
  siteId: string;
  hostname: string;
  version: string;
  lastSeenAt: string;
  lastHeartbeat: Heartbeat | null;
}

/** SiteAgentConfig is the stored part of an AgentConfig; the gateway adds the reflector host. */
export interface SiteAgentConfig {
  schedule: Schedule;
  targets: SipTarget[];
}

export type RelationalDialect = 'sqlite' | 'postgres';

export class RelationalStore {
  constructor(
    /**
     * The shared Kysely handle. Stores of other tables (alerting, users) take it from here instead of
     * growing this class: one connection pool, one migration set, one file per group of tables.
     */
    readonly db: Kysely<RelationalDatabase>,
    /** Which database is underneath; for logs and tests, never for branching queries. */
    readonly dialect: RelationalDialect,
  ) {}

  /**
   * createSite makes a site (and its tenant when new) and its first agent token. Throws
   * RelationalError INVALID_NAME or SITE_EXISTS; the token is returned once and only its hash kept.
   */
  async createSite(name: string, tenantName: string = DEFAULT_TENANT): Promise<SiteWithToken> {
    assertName('site', name);
    assertName('tenant', tenantName);
    return this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('tenants')
        .values({ id: randomUUID(), name: tenantName })
        .onConflict((oc) => oc.column('name').doNothing())
        .execute();
      const tenant = await trx.selectFrom('tenants').select(['id', 'name']).where('name', '=', tenantName).executeTakeFirstOrThrow();
      const existing = await trx
        .selectFrom('sites')
        .select('id')
        .where('tenant_id', '=', tenant.id)
        .where('name', '=', name)
        .executeTakeFirst();
      if (existing) throw new RelationalError('SITE_EXISTS', `site ${name} already exists in tenant ${tenantName}: pick another name or revoke and re-issue its token`);
      const created: Site = { id: randomUUID(), name, tenantId: tenant.id, tenantName: tenant.name, createdAt: new Date().toISOString() };
      await trx.insertInto('sites').values({ id: created.id, tenant_id: tenant.id, name, created_at: created.createdAt }).execute();
      return { site: created, token: await issueToken(trx, created.id) };
    });
  }

  /** issueSiteToken adds a new token to an existing site (after a revoke); old tokens stay as they were. */
  async issueSiteToken(siteRef: string, tenantName?: string): Promise<SiteWithToken> {
    const site = await this.findSite(siteRef, tenantName);
    return { site, token: await issueToken(this.db, site.id) };
  }

  /** listSites returns every site with its token, agent and last-seen counts, ordered by tenant and name. */
  async listSites(): Promise<SiteSummary[]> {
    const rows = await this.db
      .selectFrom('sites')
      .innerJoin('tenants', 'tenants.id', 'sites.tenant_id')
      .select((eb) => [
        'sites.id as id',
        'sites.name as name',
        'sites.created_at as createdAt',
        'tenants.id as tenantId',
        'tenants.name as tenantName',
        eb
          .selectFrom('agent_tokens')
          .select((sub) => sub.fn.countAll().as('n'))
          .whereRef('agent_tokens.site_id', '=', 'sites.id')
          .where('agent_tokens.revoked_at', 'is', null)
          .as('activeTokens'),
        eb.selectFrom('agents').select((sub) => sub.fn.countAll().as('n')).whereRef('agents.site_id', '=', 'sites.id').as('agents'),
        eb.selectFrom('agents').select((sub) => sub.fn.max('agents.last_seen_at').as('m')).whereRef('agents.site_id', '=', 'sites.id').as('lastSeenAt'),
      ])
      .orderBy('tenants.name')
      .orderBy('sites.name')
      .execute();
    // PostgreSQL returns count(*) as a bigint string, SQLite as a number.
    return rows.map((row) => ({
      id: row.id,
      name: row.name,
      createdAt: row.createdAt,
      tenantId: row.tenantId,
      tenantName: row.tenantName,
      activeTokens: Number(row.activeTokens ?? 0),
      agents: Number(row.agents ?? 0),
      lastSeenAt: row.lastSeenAt ?? null,
    }));
  }

  /**
   * findSite resolves a site by id, or by name (within tenantName when given). Throws RelationalError
   * SITE_NOT_FOUND, or SITE_AMBIGUOUS when the name exists in several tenants and none was given.
   */
  async findSite(siteRef: string, tenantName?: string): Promise<Site> {
    let query = this.siteQuery().where((eb) => eb.or([eb('sites.id', '=', siteRef), eb('sites.name', '=', siteRef)]));
    if (tenantName !== undefined) query = query.where('tenants.name', '=', tenantName);
    const rows = await query.execute();
    const byId = rows.find((row) => row.id === siteRef);
    if (byId) return byId;
    const inTenant = tenantName === undefined ? '' : ` in tenant ${tenantName}`;
    if (rows.length === 0) throw new RelationalError('SITE_NOT_FOUND', `no site ${siteRef}${inTenant}: see \`site list\``);
    if (rows.length > 1) {
      const tenants = rows.map((row) => row.tenantName).join(', ');
      throw new RelationalError('SITE_AMBIGUOUS', `site ${siteRef} exists in tenants ${tenants}: pass --tenant`);
    }
    return rows[0] as Site;
  }

  /** revokeSiteTokens revokes every active token of a site; returns the site and how many were revoked. */
  async revokeSiteTokens(siteRef: string, tenantName?: string): Promise<{ site: Site; revoked: number }> {
    const site = await this.findSite(siteRef, tenantName);
    const result = await this.db
      .updateTable('agent_tokens')
      .set({ revoked_at: new Date().toISOString() })
      .where('site_id', '=', site.id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return { site, revoked: Number(result.numUpdatedRows) };
  }

  /** authenticateToken returns the token's site, or null for an unknown or revoked token. */
  async authenticateToken(token: string): Promise<Site | null> {
    const row = await this.siteQuery()
      .innerJoin('agent_tokens', 'agent_tokens.site_id', 'sites.id')
      .where('agent_tokens.token_hash', '=', hashAgentToken(token))
      .where('agent_tokens.revoked_at', 'is', null)
      .executeTakeFirst();
    return row ?? null;
  }

  /** unseenResultIds returns the ids of `ids` this site has not ingested yet (in their order). */
  async unseenResultIds(siteId: string, ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const seen = await this.db
      .selectFrom('seen_results')
      .select('result_id')
      .where('site_id', '=', siteId)
      .where('result_id', 'in', ids)
      .execute();
    const seenIds = new Set(seen.map((row) => row.result_id));
    return ids.filter((id) => !seenIds.has(id));
  }

  /**
   * markResultsSeen records result ids as ingested and returns those that were new. Two concurrent
   * deliveries of one batch each get a disjoint part (INSERT ... ON CONFLICT DO NOTHING RETURNING),
   * so a result is fanned out exactly once however often it arrives.
   */
  async markResultsSeen(siteId: string, ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const receivedAt = new Date().toISOString();
    const inserted = await this.db
      .insertInto('seen_results')
      .values([...new Set(ids)].map((id) => ({ site_id: siteId, result_id: id, received_at: receivedAt })))
      .onConflict((oc) => oc.columns(['site_id', 'result_id']).doNothing())
      .returning('result_id')
      .execute();
    return inserted.map((row) => row.result_id);
  }

  /**
   * markManyResultsSeen is markResultsSeen for the batches of several sites in one statement (ingest
   * coalesces concurrent batches: one statement per flush instead of one per batch). Returns the
   * (site, id) pairs that were new.
   */
  async markManyResultsSeen(batches: ReadonlyArray<{ siteId: string; ids: readonly string[] }>): Promise<Array<{ siteId: string; resultId: string }>> {
    const receivedAt = new Date().toISOString();
    const rows = new Map<string, { site_id: string; result_id: string; received_at: string }>();
    for (const { siteId, ids } of batches) for (const id of ids) rows.set(`${siteId} ${id}`, { site_id: siteId, result_id: id, received_at: receivedAt });
    const fresh: Array<{ siteId: string; resultId: string }> = [];
    const all = [...rows.values()];
    // SQLite allows 32,766 bound values per statement: 3 per row.
    for (let start = 0; start < all.length; start += 5_000) {
      const inserted = await this.db
        .insertInto('seen_results')
        .values(all.slice(start, start + 5_000))
        .onConflict((oc) => oc.columns(['site_id', 'result_id']).doNothing())
        .returning(['site_id', 'result_id'])
        .execute();
      for (const row of inserted) fresh.push({ siteId: row.site_id, resultId: row.result_id });
    }
    return fresh;
  }

  /** pruneSeenResults forgets ids received before `before` (older than any agent outbox retries); returns how many. */
  async pruneSeenResults(before: Date): Promise<number> {
    const result = await this.db.deleteFrom('seen_results').where('received_at', '<', before.toISOString()).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** recordAgentHello creates or refreshes an agent of a site (hostname, version, last seen now). */
  async recordAgentHello(siteId: string, agent: { agentId: string; hostname: string; version: string }): Promise<void> {
    const now = new Date().toISOString();
    await this.db
      .insertInto('agents')
      .values({ id: agent.agentId, site_id: siteId, hostname: agent.hostname, version: agent.version, last_seen_at: now })
      .onConflict((oc) =>
        oc.columns(['site_id', 'id']).doUpdateSet({ hostname: agent.hostname, version: agent.version, last_seen_at: now }),
      )
      .execute();
  }

  /** recordHeartbeat stores an agent's last heartbeat and marks it seen now (creating it if no hello came yet). */
  async recordHeartbeat(siteId: string, agentId: string, heartbeat: Heartbeat): Promise<void> {
    const now = new Date().toISOString();
    const json = JSON.stringify(heartbeat);
    await this.db
      .insertInto('agents')
      .values({ id: agentId, site_id: siteId, hostname: '', version: '', last_seen_at: now, last_heartbeat: json })
      .onConflict((oc) => oc.columns(['site_id', 'id']).doUpdateSet({ last_seen_at: now, last_heartbeat: json }))
      .execute();
  }

  /** listAgents returns a site's agents, most recently seen first. */
  async listAgents(siteId: string): Promise<AgentRecord[]> {
    const rows = await this.db.selectFrom('agents').selectAll().where('site_id', '=', siteId).orderBy('last_seen_at', 'desc').execute();
    return rows.map((row) => ({
      id: row.id,
      siteId: row.site_id,
      hostname: row.hostname,
      version: row.version,
      lastSeenAt: row.last_seen_at,
      lastHeartbeat: row.last_heartbeat === null ? null : (JSON.parse(row.last_heartbeat) as Heartbeat),
    }));
  }

  /** setSiteTargets replaces the SIP peers a site's agents keep alive; targets are validated first. */
  async setSiteTargets(siteId: string, targets: readonly SipTarget[]): Promise<void> {
    const parsed = targets.map((target) => sipTargetSchema.parse(target));
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('site_targets').where('site_id', '=', siteId).execute();
      if (parsed.length === 0) return;
      await trx
        .insertInto('site_targets')
        .values(parsed.map((t) => ({ site_id: siteId, name: t.name, host: t.host, port: t.port, transport: t.transport, keepalive: t.keepalive })))
        .execute();
    });
    await this.stampConfigChange(siteId);
  }

  /** setSiteSchedule replaces a site's probe schedule (validated first). */
  async setSiteSchedule(siteId: string, schedule: Schedule): Promise<void> {
    const json = JSON.stringify(scheduleSchema.parse(schedule));
    await this.db
      .insertInto('site_schedule')
      .values({ site_id: siteId, schedule: json })
      .onConflict((oc) => oc.column('site_id').doUpdateSet({ schedule: json }))
      .execute();
    await this.stampConfigChange(siteId);
  }

  /**
   * sitesWithConfigChangedSince lists the ids of sites whose schedule or targets changed at or after
   * `since` (ISO time), so a running server can push the new config to their agents.
   */
  async sitesWithConfigChangedSince(since: string): Promise<string[]> {
    const rows = await this.db.selectFrom('sites').select('id').where('config_changed_at', '>=', since).execute();
    return rows.map((row) => row.id);
  }

  /** sitesWithTokensRevokedSince lists the ids of sites one of whose tokens was revoked at or after `since` (ISO time). */
  async sitesWithTokensRevokedSince(since: string): Promise<string[]> {
    const rows = await this.db.selectFrom('agent_tokens').select('site_id').distinct().where('revoked_at', '>=', since).execute();
    return rows.map((row) => row.site_id);
  }

  /** requestRunNow records an operator's "run these probes now" for a site's agents. */
  async requestRunNow(siteId: string, probes: readonly ProbeName[]): Promise<void> {
    await this.db
      .insertInto('run_now_requests')
      .values({ id: randomUUID(), site_id: siteId, probes: JSON.stringify(runNowSchema.parse({ probes }).probes), requested_at: new Date().toISOString() })
      .execute();
  }

  /** runNowRequestsSince lists run-now requests made at or after `since` (ISO time), oldest first. */
  async runNowRequestsSince(since: string): Promise<Array<{ id: string; siteId: string; probes: ProbeName[] }>> {
    const rows = await this.db.selectFrom('run_now_requests').selectAll().where('requested_at', '>=', since).orderBy('requested_at').execute();
    return rows.map((row) => ({ id: row.id, siteId: row.site_id, probes: runNowSchema.parse({ probes: JSON.parse(row.probes) }).probes }));
  }

  private async stampConfigChange(siteId: string): Promise<void> {
    await this.db.updateTable('sites').set({ config_changed_at: new Date().toISOString() }).where('id', '=', siteId).execute();
  }

  /** getAgentConfig returns what a site's agents run: its schedule (DEFAULT_SCHEDULE until set) and targets. */
  async getAgentConfig(siteId: string): Promise<SiteAgentConfig> {
    const [scheduleRow, targetRows] = await Promise.all([
      this.db.selectFrom('site_schedule').select('schedule').where('site_id', '=', siteId).executeTakeFirst(),
      this.db.selectFrom('site_targets').selectAll().where('site_id', '=', siteId).orderBy('name').execute(),
    ]);
    return {
      schedule: scheduleRow ? scheduleSchema.parse(JSON.parse(scheduleRow.schedule)) : { ...DEFAULT_SCHEDULE },
      // Parsed again on the way out: a row edited by hand must not reach an agent malformed.
      targets: targetRows.map((row) =>
        sipTargetSchema.parse({ name: row.name, host: row.host, port: row.port, transport: row.transport, keepalive: row.keepalive }),
      ),
    };
  }

  /** close releases the database (file handle or connection pool). */
  async close(): Promise<void> {
    await this.db.destroy();
  }

  private siteQuery() {
    return this.db
      .selectFrom('sites')
      .innerJoin('tenants', 'tenants.id', 'sites.tenant_id')
      .select(['sites.id as id', 'sites.name as name', 'sites.created_at as createdAt', 'tenants.id as tenantId', 'tenants.name as tenantName']);
  }
}

async function issueToken(db: Kysely<RelationalDatabase>, siteId: string): Promise<string> {
  const token = generateAgentToken();
  await db
    .insertInto('agent_tokens')
    .values({ id: randomUUID(), site_id: siteId, token_hash: hashAgentToken(token), created_at: new Date().toISOString() })
    .execute();
  return token;
}

function assertName(kind: 'site' | 'tenant', name: string): void {
  if (!NAME_PATTERN.test(name)) {
    throw new RelationalError('INVALID_NAME', `invalid ${kind} name ${JSON.stringify(name)}: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }
}
