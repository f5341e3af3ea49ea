/**
 * The site_no_results rule, evaluated on a timer like agent_offline (absence has no result to react
 * to): a site whose agents are connected (a heartbeat within --agent-offline-after) but whose newest
 * result is older than the rule's threshold (minutes) sends no results.
 *
 * Each server knows when it last stored a result of a site (the results feed); the database knows
 * when any server did (seen_results). A site is only checked once this server has seen one of its
 * results since it started, so a restart raises nothing, and a site quiet here is confirmed against
 * the database before it is called quiet: its agent may have moved to another server sharing it.
 */
import type { Kysely } from 'kysely';
import type { Site } from '../relational/relational-store.js';
import type { RelationalDatabase } from '../relational/schema.js';
import type { AgentLastSeen } from './agents-last-seen.js';
import type { Observation } from './rules/observation.js';

export interface QuietCheck {
  now: number;
  offlineAfterMs: number;
  /** The rule's threshold for the site, ms; null when the rule is off for it. */
  quietAfterMs(site: Site): number | null;
  /** When any server last stored a result of the site (ms), from the database. */
  lastStoredAt(siteId: string): Promise<number | null>;
}

/** quietSiteObservations returns an active observation for each site that sends no results now. */
export async function quietSiteObservations(
  lastResultHere: ReadonlyMap<string, { site: Site; at: number }>,
  agents: readonly AgentLastSeen[],
  check: QuietCheck,
): Promise<Array<{ site: Site; observation: Observation }>> {
  const connected = new Set(agents.filter((agent) => check.now - Date.parse(agent.lastSeenAt) <= check.offlineAfterMs).map((agent) => agent.site.id));
  const quiet: Array<{ site: Site; observation: Observation }> = [];
  for (const { site, at } of lastResultHere.values()) {
    const quietAfterMs = check.quietAfterMs(site);
    if (quietAfterMs === null || check.now - at <= quietAfterMs || !connected.has(site.id)) continue;
    const stored = (await check.lastStoredAt(site.id)) ?? at;
    const newest = Math.max(stored, at);
    if (check.now - newest <= quietAfterMs) continue;
    quiet.push({
      site,
      observation: {
        rule: 'site_no_results',
        active: true,
        summary: `no probe result from ${site.name} since ${new Date(newest).toISOString()}, while its agent sends heartbeats`,
      },
    });
  }
  return quiet;
}

/** lastStoredAt is when any server last marked a result of the site seen (ms), null when none is kept. */
export async function lastStoredAt(db: Kysely<RelationalDatabase>, siteId: string): Promise<number | null> {
  const row = await db.selectFrom('seen_results').select((eb) => eb.fn.max('received_at').as('newest')).where('site_id', '=', siteId).executeTakeFirst();
  const newest = row?.newest as string | null | undefined;
  return newest ? Date.parse(newest) : null;
}
