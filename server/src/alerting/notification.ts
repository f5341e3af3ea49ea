/**
 * What the alert engine hands a notification channel: one message = all alerts of one site's group
 * at one flush (Alertmanager-style grouping). The alert engine (server/src/alerting/) decides what to
 * send and when; the notifiers (notifiers/) only turn an AlertNotification into an email, a Slack
 * message or a signed webhook request. This is the contract between the two: extend only by adding.
 */

/** NotifiedAlert is one alert (one fingerprint) as the message shows it. */
export interface NotifiedAlert {
  /** sha256 hex of rule+site+target+transport. */
  fingerprint: string;
  /** The FindingCode. */
  rule: string;
  severity: 'critical' | 'warning' | 'info';
  state: 'firing' | 'resolved';
  tenant: string;
  site: string;
  agent?: string;
  target?: string;
  transport?: string;
  title: string;
  summary: string;
  impact: string;
  remediation: string;
  /** The rewritten Via/Contact/SDP lines themselves, etc. */
  evidence: string[];
  /** ISO: since when. */
  startsAt: string;
  /** ISO, when resolved. */
  endsAt?: string;
}

/** AlertNotification is one message to one channel: all alerts of one site's group at one flush. */
export interface AlertNotification {
  /** e.g. "tenant/site". */
  groupKey: string;
  /** Stable for one episode of the group (first firing .. all resolved): email threads on it. */
  threadId: string;
  /** firing while any alert in it fires. */
  status: 'firing' | 'resolved';
  tenant: string;
  site: string;
  alerts: NotifiedAlert[];
  /** --public-url based link to the site's page, when configured. */
  siteUrl?: string;
  /**
   * True for `channel test`: every channel marks the message as a test (subject, header, webhook
   * body) so nobody mistakes it for an alert. Added by `notifiers`; the alert engine never sets it.
   */
  test?: boolean;
}

/**
 * NotifyError is how a notifier says the receiver did not accept a message. retryable says whether
 * trying again later can help (timeouts, connection failures, HTTP 5xx/429, SMTP 4xx) or not (HTTP
 * 4xx, SMTP 5xx, refused credentials). The message is one line and never holds a secret.
 */
export class NotifyError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'NotifyError';
  }
}

/** Notifier is one channel kind's way of sending an AlertNotification. */
export interface Notifier {
  readonly kind: 'email' | 'slack' | 'webhook';
  /** notify resolves once the receiver accepted the message; throws NotifyError otherwise. Never puts a secret in the error. */
  notify(notification: AlertNotification, signal: AbortSignal): Promise<void>;
}
