/**
 * The HTML part of an alert email: the same words as the plain-text part (message.ts), laid out for
 * a support inbox. Inline styles only (mail clients drop <style> blocks); every value is escaped.
 */
import type { AlertNotification, NotifiedAlert } from '../notification.js';
import { adviceHeading, alertHeading, evidenceHeading, introLine, orderedAlerts, subjectLine, whenLine, whereLine } from './message.js';

const SEVERITY_COLOURS: Record<NotifiedAlert['severity'], string> = { critical: '#b42318', warning: '#b54708', info: '#175cd3' };
const RESOLVED_COLOUR = '#067647';

/** emailHtml renders the notification as a complete HTML document. */
export function emailHtml(notification: AlertNotification): string {
  const sections = orderedAlerts(notification).map(alertSection).join('\n');
  const link = notification.siteUrl
    ? `<p style="margin:16px 0"><a href="${escapeHtml(notification.siteUrl)}">Open site ${escapeHtml(notification.site)} in algwatch</a></p>`
    : '';
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${escapeHtml(subjectLine(notification))}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#101828;max-width:760px">
<p style="margin:0 0 16px">${escapeHtml(introLine(notification))}</p>
${sections}
${link}
<p style="color:#667085;font-size:12px">Sent by algwatch.</p>
</body></html>
`;
}

function alertSection(alert: NotifiedAlert): string {
  const colour = alert.state === 'resolved' ? RESOLVED_COLOUR : SEVERITY_COLOURS[alert.severity];
  const evidence =
    alert.evidence.length > 0
      ? `<p style="margin:8px 0 4px"><b>${evidenceHeading(alert)}</b></p>
<pre style="margin:0;padding:8px;background:#f2f4f7;font-size:12px;white-space:pre-wrap">${alert.evidence.map(escapeHtml).join('\n')}</pre>`
      : '';
  return `<div style="border-left:4px solid ${colour};padding:4px 12px;margin:0 0 16px">
<h3 style="margin:0 0 4px;color:${colour}">${escapeHtml(alertHeading(alert))}</h3>
<p style="margin:0 0 4px">${escapeHtml(alert.summary)}</p>
<p style="margin:0 0 4px;color:#475467">${escapeHtml(whereLine(alert))}<br>${escapeHtml(whenLine(alert))}</p>
${evidence}
<p style="margin:8px 0 4px"><b>What it means for calls:</b> ${escapeHtml(alert.impact)}</p>
<p style="margin:8px 0 4px"><b>${adviceHeading(alert)}:</b> ${escapeHtml(alert.remediation)}</p>
</div>`;
}

/** escapeHtml makes text safe inside HTML elements and double-quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
