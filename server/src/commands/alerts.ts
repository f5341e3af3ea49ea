/**
 * `algwatch-server alerts [--all]`: the alerts firing now, worst first, each with how its last
 * notification went (delivered, or the failure); with --all, the state changes of the last 7 days
 * and every delivery failure among them.
 */
import { AlertStore, type NotificationLogEntry } from '../alerting/alert-store.js';
import { SEVERITY_RANK } from '@algwatch/protocol/findings/index';
import { formatTable, parseCommand, runStoreCommand, UsageError, type CommandOptions } from './store-command.js';

export const ALERTS_USAGE = 'usage: alerts [--all] (also takes --data-dir DIR, --database-url URL)';

const HISTORY_DAYS = 7;

export async function alertsCommand(argv: string[], options: CommandOptions): Promise<number> {
  return runStoreCommand('alerts', ALERTS_USAGE, argv, options, (args) => parseCommand(args, { all: 'boolean' }), async (store, { positionals, values }, out) => {
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
    const alerts = new AlertStore(store.db);
    const since = new Date(Date.now() - HISTORY_DAYS * 86_400_000).toISOString();
    const notifications = await alerts.recentNotifications(since, 1_000);
    const lastByAlert = new Map<string, NotificationLogEntry>();
    // Newest first: the first entry of a fingerprint is its last notification.
    for (const entry of notifications) if (!lastByAlert.has(entry.fingerprint)) lastByAlert.set(entry.fingerprint, entry);

    const firing = (await alerts.listAlerts(['firing'])).sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity]);
    if (firing.length === 0) out('no alerts firing');
    else {
      out(
        formatTable([
          ['SEVERITY', 'TENANT', 'SITE', 'RULE', 'TARGET', 'SINCE', 'NOTIFIED', 'SUMMARY'],
          ...firing.map((a) => [
            a.severity,
            a.tenant,
            a.siteName,
            a.rule,
            [a.target, a.transport].filter(Boolean).join('/') || '-',
            a.startsAt === null ? '-' : new Date(a.startsAt).toISOString(),
            deliveryOf(lastByAlert.get(a.fingerprint)),
            a.summary,
          ]),
        ]),
      );
    }
    if (values.all !== true) return;

    const history = await alerts.listHistory(since, 500);
    out('');
    out(`state changes of the last ${HISTORY_DAYS} days:`);
    out(
      history.length === 0
        ? 'none'
        : formatTable([
            ['AT', 'STATE', 'SEVERITY', 'TENANT', 'SITE', 'RULE', 'TARGET', 'SUMMARY'],
            ...history.map((h) => [h.at, h.state, h.severity, h.tenant, h.siteName, h.rule, [h.target, h.transport].filter(Boolean).join('/') || '-', h.summary]),
          ]),
    );
    const failures = notifications.filter((n) => n.failure !== null);
    out('');
    out('delivery failures:');
    out(
      failures.length === 0
        ? 'none'
        : formatTable([['CLAIMED', 'STATE', 'TENANT', 'SITE', 'FAILURE'], ...failures.map((n) => [n.claimedAt, n.state, n.tenant, n.siteName, n.failure ?? ''])]),
    );
  });
}

function deliveryOf(entry: NotificationLogEntry | undefined): string {
  if (!entry) return 'not yet';
  if (entry.failure !== null) return `${entry.deliveredAt ? 'partly' : 'FAILED'}: ${entry.failure}`;
  return entry.deliveredAt ? `sent ${entry.deliveredAt}` : 'sending';
}
