/**
 * firingAlertsBySeverity counts the alerts firing now, by severity, for algwatch_alerts_firing. It
 * reads the alerts table (the alert engine's shared state), so every server process sharing one
 * PostgreSQL reports the same, fleet-wide count: in PromQL take max(), not sum(), across them.
 */
import type { Kysely } from 'kysely';
import type { RelationalDatabase } from '../relational/schema.js';
import { ALERT_SEVERITIES, type AlertSeverity } from './server-metrics.js';

/** firingAlertsBySeverity resolves to { critical, warning, info } counts; rejects when the database does not answer. */
export async function firingAlertsBySeverity(db: Kysely<RelationalDatabase>): Promise<Record<AlertSeverity, number>> {
  const rows = await db
    .selectFrom('alerts')
    .select(['severity', db.fn.countAll<number | string>().as('firing')])
    .where('state', '=', 'firing')
    .groupBy('severity')
    .execute();
  const counts: Record<AlertSeverity, number> = { critical: 0, warning: 0, info: 0 };
  // PostgreSQL returns count(*) as text (bigint); SQLite as a number.
  for (const row of rows) if ((ALERT_SEVERITIES as readonly string[]).includes(row.severity)) counts[row.severity as AlertSeverity] = Number(row.firing);
  return counts;
}
