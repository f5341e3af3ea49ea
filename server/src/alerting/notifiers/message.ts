/**
 * The words every channel says, written once: the subject line, and per alert what changed (the
 * evidence lines), since when, what it means for calls and what to do. Email renders them as plain
 * text and HTML, Slack as Block Kit, the webhook as Alertmanager annotations; they differ in markup,
 * never in content.
 */
import type { AlertNotification, NotifiedAlert } from '../notification.js';

/** How many alert titles a subject names before "+N more" (subjects get cut by mail clients anyway). */
const SUBJECT_TITLES = 3;

/** statusTag is the subject's first word: what kind of message this is. */
export function statusTag(notification: AlertNotification): string {
  if (notification.test) return '[TEST]';
  return notification.status === 'firing' ? '[FIRING]' : '[RESOLVED]';
}

/** worstSeverity is the highest severity among the alerts (firing ones first, when any fire). */
export function worstSeverity(notification: AlertNotification): NotifiedAlert['severity'] {
  const rank = { critical: 3, warning: 2, info: 1 } as const;
  const firing = notification.alerts.filter((alert) => alert.state === 'firing');
  const considered = firing.length > 0 ? firing : notification.alerts;
  let worst: NotifiedAlert['severity'] = 'info';
  for (const alert of considered) if (rank[alert.severity] > rank[worst]) worst = alert.severity;
  return worst;
}

/**
 * subjectLine: "[FIRING] critical · acme/branch-12: SIP ALG rewriting SIP over UDP; +1 more".
 * Says firing/resolved, the worst severity, tenant/site and the titles.
 */
export function subjectLine(notification: AlertNotification): string {
  const titles = orderedAlerts(notification).map((alert) => alert.title);
  const named = titles.slice(0, SUBJECT_TITLES).join('; ');
  const more = titles.length > SUBJECT_TITLES ? `; +${titles.length - SUBJECT_TITLES} more` : '';
  return `${statusTag(notification)} ${worstSeverity(notification)} · ${notification.tenant}/${notification.site}: ${named}${more}`;
}

/** orderedAlerts puts firing alerts before resolved ones, worst severity first, then by title. */
export function orderedAlerts(notification: AlertNotification): NotifiedAlert[] {
  const rank = { critical: 3, warning: 2, info: 1 } as const;
  return [...notification.alerts].sort(
    (a, b) =>
      Number(b.state === 'firing') - Number(a.state === 'firing') ||
      rank[b.severity] - rank[a.severity] ||
      a.title.localeCompare(b.title),
  );
}

/** whereLine: "tenant acme · site branch-12 · agent gw-1 · target pbx (udp)". */
export function whereLine(alert: NotifiedAlert): string {
  const parts = [`tenant ${alert.tenant}`, `site ${alert.site}`, `agent ${alert.agent ?? 'unknown'}`];
  if (alert.target !== undefined) parts.push(`target ${alert.target}${alert.transport ? ` (${alert.transport})` : ''}`);
  else if (alert.transport !== undefined) parts.push(`transport ${alert.transport}`);
  return parts.join(' · ');
}

/** whenLine: "since 2026-12-01 22:10:05 UTC" or "from ... until ... (resolved)". */
export function whenLine(alert: NotifiedAlert): string {
  if (alert.state === 'resolved') {
    return alert.endsAt ? `resolved at ${readableTime(alert.endsAt)}, was firing since ${readableTime(alert.startsAt)}` : `resolved, was firing since ${readableTime(alert.startsAt)}`;
  }
  return `firing since ${readableTime(alert.startsAt)}`;
}

/** alertHeading: "CRITICAL firing: SIP ALG rewriting SIP over UDP". */
export function alertHeading(alert: NotifiedAlert): string {
  return `${alert.severity.toUpperCase()} ${alert.state}: ${alert.title}`;
}

/** evidenceHeading titles the evidence lines: "What changed", or "What had changed" once resolved. */
export function evidenceHeading(alert: NotifiedAlert): string {
  return alert.state === 'resolved' ? 'What had changed' : 'What changed';
}

/** adviceHeading titles the remediation: "What to do", or "What was advised" once resolved. */
export function adviceHeading(alert: NotifiedAlert): string {
  return alert.state === 'resolved' ? 'What was advised' : 'What to do';
}

/** introLine is the message's first sentence. */
export function introLine(notification: AlertNotification): string {
  if (notification.test) return `This is a test notification from algwatch: no site has a problem. If you read this, the channel works.`;
  const firing = notification.alerts.filter((alert) => alert.state === 'firing').length;
  const resolved = notification.alerts.length - firing;
  const counts = [firing > 0 ? `${firing} firing` : '', resolved > 0 ? `${resolved} resolved` : ''].filter(Boolean).join(', ');
  return `algwatch: site ${notification.site} of tenant ${notification.tenant}: ${counts}.`;
}

/** plainTextBody renders the whole message as plain text (the email's text part, logs of tests). */
export function plainTextBody(notification: AlertNotification): string {
  const lines = [introLine(notification), ''];
  for (const alert of orderedAlerts(notification)) {
    lines.push(alertHeading(alert), `  ${alert.summary}`, `  ${whereLine(alert)}`, `  ${whenLine(alert)}`);
    if (alert.evidence.length > 0) {
      lines.push(`  ${evidenceHeading(alert)}:`);
      for (const evidence of alert.evidence) lines.push(`    ${evidence}`);
    }
    lines.push(`  What it means for calls: ${alert.impact}`);
    lines.push(`  ${adviceHeading(alert)}: ${alert.remediation}`, '');
  }
  if (notification.siteUrl) lines.push(`Site page: ${notification.siteUrl}`, '');
  lines.push('-- algwatch');
  return `${lines.join('\n')}\n`;
}

/** readableTime turns an ISO time into "2026-12-01 22:10:05 UTC" (unparseable input is shown as given). */
export function readableTime(iso: string): string {
  const time = new Date(iso);
  if (Number.isNaN(time.getTime())) return iso;
  return `${time.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}
