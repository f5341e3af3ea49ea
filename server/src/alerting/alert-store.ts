/**
 * AlertStore: the alerting tables over the shared Kysely handle. Alert rows (state that survives a
 * restart and that server processes on one PostgreSQL share), their history, and the notification
 * log that makes each notification claimable exactly once. Every query means the same on SQLite
 * and PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { AlertsTable, RelationalDatabase } from '../relational/schema.js';
import type { Severity } from '@algwatch/protocol/findings/index';
import type { AlertRecord, AlertState } from './lifecycle.js';
import { isRuleName } from './rule-settings.js';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const ms = (text: string | null): number | null => (text === null ? null : Date.parse(text));

export interface HistoryEntry {
  fingerprint: string;
  rule: string;
  severity: string;
  state: string;
  tenant: string;
  siteName: string;
  target: string | null;
  transport: string | null;
  summary: string;
  at: string;
}

export interface NotificationLogEntry {
  claimKey: string;
  fingerprint: string;
  state: string;
  tenant: string;
  siteName: string;
  claimedAt: string;
  deliveredAt: string | null;
  failure: string | null;
}

export class AlertStore {
  constructor(private readonly db: Kysely<RelationalDatabase>) {}

  /** loadSiteAlerts returns every alert record of a site (any state), as the engine keeps them. */
  async loadSiteAlerts(siteId: string): Promise<AlertRecord[]> {
    const rows = await this.db.selectFrom('alerts').selectAll().where('site_id', '=', siteId).execute();
    return rows.flatMap((row) => (isRuleName(row.rule) ? [toRecord(row)] : []));
  }

  /** saveAlerts writes records as they are (insert or replace by fingerprint). */
  async saveAlerts(records: readonly AlertRecord[]): Promise<void> {
    // Several rows a statement, kept well under SQLite's bound-value limit (22 columns a row).
    for (let start = 0; start < records.length; start += 500) {
      const rows = records.slice(start, start + 500).map(toRow);
      await this.db
        .insertInto('alerts')
        .values(rows)
        .onConflict((oc) =>
          oc.column('fingerprint').doUpdateSet((eb) => ({
            severity: eb.ref('excluded.severity'),
            state: eb.ref('excluded.state'),
            pending_since: eb.ref('excluded.pending_since'),
            starts_at: eb.ref('excluded.starts_at'),
            ends_at: eb.ref('excluded.ends_at'),
            episode: eb.ref('excluded.episode'),
            clean_count: eb.ref('excluded.clean_count'),
            last_active_at: eb.ref('excluded.last_active_at'),
            recent_starts: eb.ref('excluded.recent_starts'),
            summary: eb.ref('excluded.summary'),
            evidence: eb.ref('excluded.evidence'),
            memory: eb.ref('excluded.memory'),
            updated_at: eb.ref('excluded.updated_at'),
          })),
        )
        .execute();
    }
  }

  /**
   * recordFiring stores that an alert fires. When another server process already made this alert
   * fire, its episode and start win (the record is updated to them), so both processes claim the
   * same notifications. Resolves to the record as stored.
   */
  async recordFiring(record: AlertRecord): Promise<AlertRecord> {
    const row = toRow(record);
    await this.db.insertInto('alerts').values({ ...row, state: 'inactive' }).onConflict((oc) => oc.column('fingerprint').doNothing()).execute();
    // Conditional: of two processes racing, PostgreSQL lets one update and re-checks the other's
    // WHERE after the first commits, which then matches no row.
    const updated = await this.db
      .updateTable('alerts')
      .set({ ...row })
      .where('fingerprint', '=', record.fingerprint)
      .where('state', '!=', 'firing')
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) > 0) return record;
    const stored = await this.db.selectFrom('alerts').select(['episode', 'starts_at']).where('fingerprint', '=', record.fingerprint).executeTakeFirstOrThrow();
    record.episode = stored.episode;
    record.startsAt = ms(stored.starts_at);
    return record;
  }

  /** storedStates returns the stored state and episode of each alert (another process may have moved it on). */
  async storedStates(fingerprints: readonly string[]): Promise<Map<string, { state: string; episode: string | null }>> {
    if (fingerprints.length === 0) return new Map();
    const rows = await this.db.selectFrom('alerts').select(['fingerprint', 'state', 'episode']).where('fingerprint', 'in', [...fingerprints]).execute();
    return new Map(rows.map((row) => [row.fingerprint, { state: row.state, episode: row.episode }]));
  }

  /** appendHistory records state changes for `alerts --all` and the record of what happened. */
  async appendHistory(entries: readonly HistoryEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.db
      .insertInto('alert_history')
      .values(
        entries.map((e) => ({
          id: randomUUID(),
          fingerprint: e.fingerprint,
          rule: e.rule,
          severity: e.severity,
          state: e.state,
          tenant: e.tenant,
          site_name: e.siteName,
          target: e.target,
          transport: e.transport,
          summary: e.summary,
          at: e.at,
        })),
      )
      .execute();
  }

  /** listAlerts returns alerts in the given states, worst first is the caller's to sort. */
  async listAlerts(states: readonly AlertState[]): Promise<AlertRecord[]> {
    const rows = await this.db.selectFrom('alerts').selectAll().where('state', 'in', [...states]).orderBy('starts_at', 'desc').execute();
    return rows.flatMap((row) => (isRuleName(row.rule) ? [toRecord(row)] : []));
  }

  /** listHistory returns state changes at or after `since` (ISO), newest first, at most `limit`. */
  async listHistory(since: string, limit: number): Promise<HistoryEntry[]> {
    const rows = await this.db.selectFrom('alert_history').selectAll().where('at', '>=', since).orderBy('at', 'desc').limit(limit).execute();
    return rows.map((r) => ({
      fingerprint: r.fingerprint,
      rule: r.rule,
      severity: r.severity,
      state: r.state,
      tenant: r.tenant,
      siteName: r.site_name,
      target: r.target,
      transport: r.transport,
      summary: r.summary,
      at: r.at,
    }));
  }

  /**
   * claimNotifications inserts each key into the notification log and returns the keys this call
   * inserted: across every process sharing the database, each key is returned to exactly one caller.
   */
  async claimNotifications(claims: ReadonlyArray<{ key: string; fingerprint: string; episode: string; state: string; tenant: string; siteName: string }>): Promise<Set<string>> {
    if (claims.length === 0) return new Set();
    const claimedAt = new Date().toISOString();
    const inserted = await this.db
      .insertInto('alert_notifications')
      .values(
        claims.map((c) => ({
          claim_key: c.key,
          fingerprint: c.fingerprint,
          episode: c.episode,
          state: c.state,
          tenant: c.tenant,
          site_name: c.siteName,
          claimed_at: claimedAt,
        })),
      )
      .onConflict((oc) => oc.column('claim_key').doNothing())
      .returning('claim_key')
      .execute();
    return new Set(inserted.map((row) => row.claim_key));
  }

  /**
   * recordDelivery notes how a claimed notification went: delivered (to at least one channel) and
   * the failures of the others, one line without secrets (null when every channel accepted it).
   */
  async recordDelivery(keys: readonly string[], outcome: { delivered: boolean; failure: string | null }): Promise<void> {
    if (keys.length === 0) return;
    await this.db
      .updateTable('alert_notifications')
      .set({ delivered_at: outcome.delivered ? new Date().toISOString() : null, failure: outcome.failure })
      .where('claim_key', 'in', [...keys])
      .execute();
  }

  /** firingWasNotified tells whether a firing notification of the episode was claimed by any process. */
  async firingWasNotified(fingerprint: string, episode: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('alert_notifications')
      .select('claim_key')
      .where('fingerprint', '=', fingerprint)
      .where('episode', '=', episode)
      .where('state', '=', 'firing')
      .executeTakeFirst();
    return row !== undefined;
  }

  /** recentNotifications lists the notification log since `since` (ISO), newest first. */
  async recentNotifications(since: string, limit = 200): Promise<NotificationLogEntry[]> {
    const rows = await this.db.selectFrom('alert_notifications').selectAll().where('claimed_at', '>=', since).orderBy('claimed_at', 'desc').limit(limit).execute();
    return rows.map((r) => ({
      claimKey: r.claim_key,
      fingerprint: r.fingerprint,
      state: r.state,
      tenant: r.tenant,
      siteName: r.site_name,
      claimedAt: r.claimed_at,
      deliveredAt: r.delivered_at,
      failure: r.failure,
    }));
  }
}

function toRow(record: AlertRecord): AlertsTable {
  return {
    fingerprint: record.fingerprint,
    rule: record.rule,
    tenant: record.tenant,
    site_id: record.siteId,
    site_name: record.siteName,
    agent: record.agent ?? null,
    target: record.target ?? null,
    transport: record.transport ?? null,
    severity: record.severity,
    state: record.state,
    pending_since: iso(record.pendingSince),
    starts_at: iso(record.startsAt),
    ends_at: iso(record.endsAt),
    episode: record.episode,
    clean_count: record.cleanCount,
    last_active_at: iso(record.lastActiveAt),
    recent_starts: JSON.stringify(record.recentStarts),
    summary: record.summary,
    evidence: JSON.stringify(record.evidence),
    memory: JSON.stringify(record.memory),
    updated_at: new Date().toISOString(),
  };
}

function toRecord(row: Selectable<AlertsTable>): AlertRecord {
  return {
    fingerprint: row.fingerprint,
    rule: row.rule as AlertRecord['rule'],
    tenant: row.tenant,
    siteId: row.site_id,
    siteName: row.site_name,
    ...(row.agent !== null ? { agent: row.agent } : {}),
    ...(row.target !== null ? { target: row.target } : {}),
    ...(row.transport !== null ? { transport: row.transport } : {}),
    severity: row.severity as Severity,
    state: row.state as AlertState,
    pendingSince: ms(row.pending_since),
    startsAt: ms(row.starts_at),
    endsAt: ms(row.ends_at),
    episode: row.episode,
    cleanCount: Number(row.clean_count),
    lastActiveAt: ms(row.last_active_at),
    recentStarts: JSON.parse(row.recent_starts) as number[],
    summary: row.summary,
    evidence: JSON.parse(row.evidence) as string[],
    memory: JSON.parse(row.memory) as AlertRecord['memory'],
  };
}
