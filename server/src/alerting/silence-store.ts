/**
 * Silences and maintenance windows: a silence mutes the notifications of alerts matching its
 * tenant, site and (optionally) rule between its start and end. A maintenance window is a silence
 * that starts later. Alerts keep their state while muted; only messages are held back.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { RelationalDatabase } from '../relational/schema.js';

export interface Silence {
  id: string;
  tenant: string | null;
  siteId: string | null;
  siteName: string | null;
  rule: string | null;
  startsAt: string;
  endsAt: string;
  reason: string;
  createdAt: string;
}

export type NewSilence = Omit<Silence, 'id' | 'createdAt'>;

/** silenceMatches: the silence is in force at `now` and covers the alert's tenant, site and rule. */
export function silenceMatches(silence: Silence, alert: { tenant: string; siteId: string; rule: string }, now: number): boolean {
  if (now < Date.parse(silence.startsAt) || now >= Date.parse(silence.endsAt)) return false;
  if (silence.tenant !== null && silence.tenant !== alert.tenant) return false;
  if (silence.siteId !== null && silence.siteId !== alert.siteId) return false;
  return silence.rule === null || silence.rule === alert.rule;
}

export class SilenceStore {
  constructor(private readonly db: Kysely<RelationalDatabase>) {}

  /** addSilence stores a silence and returns it with its id. */
  async addSilence(silence: NewSilence): Promise<Silence> {
    const created: Silence = { ...silence, id: randomUUID().slice(0, 8), createdAt: new Date().toISOString() };
    await this.db
      .insertInto('silences')
      .values({
        id: created.id,
        tenant: created.tenant,
        site_id: created.siteId,
        site_name: created.siteName,
        rule: created.rule,
        starts_at: created.startsAt,
        ends_at: created.endsAt,
        reason: created.reason,
        created_at: created.createdAt,
      })
      .execute();
    return created;
  }

  /** listSilences returns the silences not yet ended at `now` (ISO), soonest end first. */
  async listSilences(now: string): Promise<Silence[]> {
    const rows = await this.db.selectFrom('silences').selectAll().where('ends_at', '>', now).orderBy('ends_at').execute();
    return rows.map((r) => ({
      id: r.id,
      tenant: r.tenant,
      siteId: r.site_id,
      siteName: r.site_name,
      rule: r.rule,
      startsAt: r.starts_at,
      endsAt: r.ends_at,
      reason: r.reason,
      createdAt: r.created_at,
    }));
  }

  /** expireSilence ends a silence now; false when no silence has that id or it already ended. */
  async expireSilence(id: string): Promise<boolean> {
    const now = new Date().toISOString();
    const result = await this.db.updateTable('silences').set({ ends_at: now }).where('id', '=', id).where('ends_at', '>', now).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
}
