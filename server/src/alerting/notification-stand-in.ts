/**
 * STAND-IN for server/src/alerting/notification.ts (contract 2, built on branch `notifiers`).
 * Deleted when `notifiers` lands on main; imports then point at './notification.js'.
 */
export interface NotifiedAlert {
  fingerprint: string;
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
  evidence: string[];
  startsAt: string;
  endsAt?: string;
}

export interface AlertNotification {
  groupKey: string;
  threadId: string;
  status: 'firing' | 'resolved';
  tenant: string;
  site: string;
  alerts: NotifiedAlert[];
  siteUrl?: string;
}

export class NotifyError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

export interface Notifier {
  readonly kind: 'email' | 'slack' | 'webhook';
  notify(notification: AlertNotification, signal: AbortSignal): Promise<void>;
}
