/**
 * sendGroup is one flush of a site's group: it claims the notifications due (new firing alerts,
 * repeats, resolutions of alerts whose firing went out) in the notification log, and sends only
 * the claimed ones, as one message, to the tenant's channels. The claim is what makes a message go
 * out exactly once across server processes: its key is unique in the log, so of two servers
 * claiming it one gets it.
 */
import type { Logger } from 'pino';
import type { Site } from '../relational/relational-store.js';
import type { AlertStore } from './alert-store.js';
import type { AlertDispatcher } from './dispatch.js';
import type { AlertRecord } from './lifecycle.js';
import { buildNotification } from './notification-builder.js';

export interface SendGroupDeps {
  store: AlertStore;
  dispatcher: AlertDispatcher;
  log: Pick<Logger, 'info' | 'warn'>;
  publicUrl?: string | undefined;
  repeatIntervalMs: number;
}

/**
 * sendGroup resolves once the message (if any claim was won) was delivered or failed; the outcome
 * is recorded on the claimed log entries. `firing` and `resolved` must be unmuted alerts.
 */
export async function sendGroup(deps: SendGroupDeps, site: Site, firing: readonly AlertRecord[], resolved: readonly AlertRecord[], now: number): Promise<void> {
  const claims: Array<{ key: string; record: AlertRecord; state: 'firing' | 'resolved' }> = [];
  for (const record of firing) {
    // The repeat number counts from the alert's start, so every server computes the same key.
    const repeat = Math.max(0, Math.floor((now - (record.startsAt ?? now)) / deps.repeatIntervalMs));
    claims.push({ key: `${record.episode}|firing|${repeat}`, record, state: 'firing' });
  }
  for (const record of resolved) {
    // Alertmanager's rule: a resolution goes out only for an alert whose firing went out.
    if (await deps.store.firingWasNotified(record.fingerprint, record.episode as string)) {
      claims.push({ key: `${record.episode}|resolved`, record, state: 'resolved' });
    }
  }
  const claimed = await deps.store.claimNotifications(
    claims.map((c) => ({ key: c.key, fingerprint: c.record.fingerprint, episode: c.record.episode as string, state: c.state, tenant: c.record.tenant, siteName: c.record.siteName })),
  );
  if (claimed.size === 0) return;
  // Snapshots: the records keep changing while the message is on its way.
  const alerts = claims.filter((c) => claimed.has(c.key)).map((c) => ({ ...c.record, state: c.state }));
  const notification = buildNotification({ tenant: site.tenantName, siteName: site.name, alerts, publicUrl: deps.publicUrl });
  const outcomes = await deps.dispatcher.dispatch(notification);
  const failures = outcomes.filter((o) => !o.ok).map((o) => `${o.channel}: ${o.error ?? 'failed'}`);
  const failure = outcomes.length === 0 ? 'no notification channel for this tenant' : failures.length > 0 ? failures.join('; ') : null;
  await deps.store.recordDelivery([...claimed], { delivered: outcomes.some((o) => o.ok), failure });
  const fields = { tenant: site.tenantName, site: site.name, alerts: alerts.length, status: notification.status };
  if (failure) deps.log.warn({ ...fields, failure }, 'alert notification not delivered everywhere');
  else deps.log.info(fields, 'alert notification sent');
}
