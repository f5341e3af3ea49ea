/**
 * AlertAckStore: who acknowledged which firing alert, and when (table `alert_acks`). An
 * acknowledgement counts for the alert's episode it was given in: one given before the alert last
 * started firing no longer counts.
 */
import type { Kysely } from 'kysely';
import type { RelationalDatabase } from '../relational/schema.js';

export interface AlertAck {
  by: string;
  at: string;
}

export class AlertAckStore {
  constructor(private readonly db: Kysely<RelationalDatabase>) {}

  /** acknowledge records (or renews) a user's acknowledgement of the alert now. */
  async acknowledge(fingerprint: string, userName: string, now = new Date()): Promise<AlertAck> {
    const ack = { by: userName, at: now.toISOString() };
    await this.db
      .insertInto('alert_acks')
      .values({ fingerprint, acked_by: ack.by, acked_at: ack.at })
      .onConflict((oc) => oc.column('fingerprint').doUpdateSet({ acked_by: ack.by, acked_at: ack.at }))
      .execute();
    return ack;
  }

  /** acksOf returns the acknowledgements of these alerts that were given since each started firing. */
  async acksOf(alerts: ReadonlyArray<{ fingerprint: string; startsAt: number | null }>): Promise<Map<string, AlertAck>> {
    if (alerts.length === 0) return new Map();
    const rows = await this.db.selectFrom('alert_acks').selectAll().where('fingerprint', 'in', alerts.map((a) => a.fingerprint)).execute();
    const since = new Map(alerts.map((a) => [a.fingerprint, a.startsAt ?? 0]));
    return new Map(rows.filter((row) => Date.parse(row.acked_at) >= (since.get(row.fingerprint) ?? 0)).map((row) => [row.fingerprint, { by: row.acked_by, at: row.acked_at }]));
  }
}
