/**
 * webhookNotifier: an alert as a signed JSON POST in Alertmanager's webhook shape (version "4"), so
 * receivers written for Alertmanager read it as they are; algwatch's own fields sit under `algwatch`.
 *
 * Signature (the README has a verification snippet):
 *   X-Algwatch-Timestamp: <unix seconds>
 *   X-Algwatch-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + raw body)>
 * The receiver recomputes it over the raw bytes it got, compares in constant time, and rejects
 * timestamps more than a few minutes old (replays).
 *
 * 2xx is accepted; 408, 429 and 5xx are retried; other statuses are refused for good. Errors name
 * the URL's origin and path, never its query (tokens live there) nor the secret.
 */
import { createHmac } from 'node:crypto';
import type { AlertNotification, NotifiedAlert, Notifier } from '../notification.js';
import { fetchPost, postOrThrow, type HttpPost } from './http-post.js';
import { plainTextBody, subjectLine, whereLine } from './message.js';

export const SIGNATURE_HEADER = 'X-Algwatch-Signature';
export const TIMESTAMP_HEADER = 'X-Algwatch-Timestamp';

export interface WebhookNotifierOptions {
  url: string;
  secret: string;
  /** Alertmanager's `receiver` field: the channel's name. */
  receiver: string;
  post?: HttpPost;
  /** The clock for the timestamp; tests pin it. */
  now?: () => Date;
}

/** Alertmanager's endsAt for an alert that has not ended. */
const NOT_ENDED = '0001-01-01T00:00:00Z';

/** WebhookAlert is one entry of `alerts[]`, as Alertmanager sends it. */
export interface WebhookAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

/** WebhookBody is the JSON body: Alertmanager's webhook payload plus `algwatch`. */
export interface WebhookBody {
  version: '4';
  groupKey: string;
  truncatedAlerts: number;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: WebhookAlert[];
  algwatch: {
    threadId: string;
    tenant: string;
    site: string;
    siteUrl?: string;
    test: boolean;
    subject: string;
    text: string;
    alerts: NotifiedAlert[];
  };
}

/** describeWebhookUrl shows the URL without query or credentials: https://hooks.example/algwatch. */
export function describeWebhookUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}${parsed.search ? '?***' : ''}`;
  } catch {
    return 'webhook (unparseable URL)';
  }
}

/** signWebhook computes the X-Algwatch-Signature value for a timestamp and raw body. */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** webhookNotifier posts each notification, signed with the channel's secret. */
export function webhookNotifier(options: WebhookNotifierOptions): Notifier {
  const post = options.post ?? fetchPost;
  const now = options.now ?? (() => new Date());
  const display = `webhook ${describeWebhookUrl(options.url)}`;
  return {
    kind: 'webhook',
    async notify(notification: AlertNotification, signal: AbortSignal): Promise<void> {
      const body = JSON.stringify(webhookBody(notification, options.receiver));
      const timestamp = String(Math.floor(now().getTime() / 1000));
      const headers = {
        'content-type': 'application/json',
        [TIMESTAMP_HEADER]: timestamp,
        [SIGNATURE_HEADER]: signWebhook(options.secret, timestamp, body),
      };
      await postOrThrow(post, options.url, display, { headers, body, signal });
    },
  };
}

/** webhookBody builds the Alertmanager-shaped body. */
export function webhookBody(notification: AlertNotification, receiver: string): WebhookBody {
  const alerts = notification.alerts.map((alert) => webhookAlert(alert, notification.siteUrl));
  const groupLabels = { tenant: notification.tenant, site: notification.site };
  return {
    version: '4',
    groupKey: notification.groupKey,
    truncatedAlerts: 0,
    status: notification.status,
    receiver,
    groupLabels,
    commonLabels: common(alerts.map((alert) => alert.labels)),
    commonAnnotations: common(alerts.map((alert) => alert.annotations)),
    externalURL: notification.siteUrl ?? '',
    alerts,
    algwatch: {
      threadId: notification.threadId,
      tenant: notification.tenant,
      site: notification.site,
      ...(notification.siteUrl ? { siteUrl: notification.siteUrl } : {}),
      test: notification.test === true,
      subject: subjectLine(notification),
      text: plainTextBody(notification),
      alerts: notification.alerts,
    },
  };
}

function webhookAlert(alert: NotifiedAlert, siteUrl: string | undefined): WebhookAlert {
  const labels: Record<string, string> = { alertname: alert.rule, rule: alert.rule, severity: alert.severity, tenant: alert.tenant, site: alert.site };
  if (alert.agent !== undefined) labels.agent = alert.agent;
  if (alert.target !== undefined) labels.target = alert.target;
  if (alert.transport !== undefined) labels.transport = alert.transport;
  return {
    status: alert.state,
    labels,
    annotations: {
      title: alert.title,
      summary: alert.summary,
      description: whereLine(alert),
      impact: alert.impact,
      remediation: alert.remediation,
      evidence: alert.evidence.join('\n'),
    },
    startsAt: alert.startsAt,
    endsAt: alert.endsAt ?? NOT_ENDED,
    generatorURL: siteUrl ?? '',
    fingerprint: alert.fingerprint,
  };
}

/** common keeps the key/value pairs every record shares (Alertmanager's commonLabels/commonAnnotations). */
function common(records: Array<Record<string, string>>): Record<string, string> {
  const [first, ...rest] = records;
  if (!first) return {};
  return Object.fromEntries(Object.entries(first).filter(([key, value]) => rest.every((record) => record[key] === value)));
}
