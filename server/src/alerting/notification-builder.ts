/**
 * buildNotification turns a site's alerts at one flush into the message every channel renders:
 * what changed (evidence), since when, what it means for calls and what to do, from the catalogue.
 */
import { createHash } from 'node:crypto';
import { FINDINGS, SEVERITY_RANK } from '@algwatch/protocol/findings/index';
import type { AlertRecord } from './lifecycle.js';
import type { AlertNotification, NotifiedAlert } from './notification.js';

export interface NotificationInput {
  tenant: string;
  siteName: string;
  /** The alerts in the message: newly firing, resolved, and those still firing. */
  alerts: readonly AlertRecord[];
  /** --public-url, when configured: the base of the site link. */
  publicUrl?: string | undefined;
}

export function buildNotification(input: NotificationInput): AlertNotification {
  const groupKey = `${input.tenant}/${input.siteName}`;
  const alerts = [...input.alerts]
    .sort((a, b) => Number(a.state === 'resolved') - Number(b.state === 'resolved') || SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity])
    .map(notifiedAlert);
  const firstStart = Math.min(...input.alerts.map((alert) => alert.startsAt ?? Number.MAX_SAFE_INTEGER));
  const notification: AlertNotification = {
    groupKey,
    // One thread per episode of the group: its alerts' earliest start identifies it, so the
    // resolution (same alerts, same starts) threads under the message that announced them.
    threadId: createHash('sha256').update(`${groupKey} ${firstStart}`).digest('hex').slice(0, 32),
    status: alerts.some((alert) => alert.state === 'firing') ? 'firing' : 'resolved',
    tenant: input.tenant,
    site: input.siteName,
    alerts,
  };
  if (input.publicUrl) notification.siteUrl = `${input.publicUrl.replace(/\/+$/, '')}/sites/${encodeURIComponent(input.tenant)}/${encodeURIComponent(input.siteName)}`;
  return notification;
}

function notifiedAlert(record: AlertRecord): NotifiedAlert {
  const definition = FINDINGS[record.rule];
  const alert: NotifiedAlert = {
    fingerprint: record.fingerprint,
    rule: record.rule,
    severity: record.severity,
    state: record.state === 'resolved' ? 'resolved' : 'firing',
    tenant: record.tenant,
    site: record.siteName,
    title: definition.title,
    summary: record.summary || definition.title,
    impact: definition.impact,
    remediation: definition.remediation,
    evidence: record.evidence.slice(0, 20),
    startsAt: new Date(record.startsAt ?? Date.now()).toISOString(),
  };
  if (record.agent !== undefined) alert.agent = record.agent;
  if (record.target !== undefined) alert.target = record.target;
  if (record.transport !== undefined) alert.transport = record.transport;
  if (record.state === 'resolved' && record.endsAt !== null) alert.endsAt = new Date(record.endsAt).toISOString();
  return alert;
}
