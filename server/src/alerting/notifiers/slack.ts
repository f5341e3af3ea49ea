/**
 * slackNotifier: an alert as a Slack incoming-webhook message in Block Kit (a header, a section per
 * alert with what changed / impact / what to do, a context line), with a plain `text` fallback that
 * notifications and old clients show.
 *
 * The webhook URL's path is its secret (anyone holding it can post): errors and listings show the
 * origin only. Slack answers 200 "ok"; 4xx (invalid_payload, no_service, channel_is_archived) is
 * refused for good, 429 and 5xx are retried.
 */
import { type AlertNotification, type NotifiedAlert, type Notifier } from '../notification.js';
import { fetchPost, postOrThrow, type HttpPost } from './http-post.js';
import { adviceHeading, alertHeading, evidenceHeading, introLine, orderedAlerts, subjectLine, whenLine, whereLine } from './message.js';

export interface SlackNotifierOptions {
  url: string;
  post?: HttpPost;
}

/** Block Kit limits (api.slack.com/reference/block-kit): header 150 chars, section text 3000, 50 blocks. */
const HEADER_CHARS = 150;
const SECTION_CHARS = 3000;
/** Alerts shown as sections; 3 blocks each keeps the message under Block Kit's 50 blocks. */
const MAX_ALERT_SECTIONS = 12;
/** Room for evidence in the advice section, leaving the rest of its 3000 chars to impact and remediation. */
const EVIDENCE_CHARS = 1800;

/** SlackBlock is the subset of Block Kit this notifier sends. */
export type SlackBlock =
  | { type: 'header'; text: { type: 'plain_text'; text: string } }
  | { type: 'section'; text: { type: 'mrkdwn'; text: string } }
  | { type: 'context'; elements: Array<{ type: 'mrkdwn'; text: string }> }
  | { type: 'divider' };

export interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
}

/** describeSlackUrl shows a webhook URL without its secret path: https://hooks.slack.com/*** */
export function describeSlackUrl(url: string): string {
  try {
    return `${new URL(url).origin}/***`;
  } catch {
    return 'Slack webhook (unparseable URL)';
  }
}

/** slackNotifier posts each notification to the incoming-webhook URL. */
export function slackNotifier(options: SlackNotifierOptions): Notifier {
  const post = options.post ?? fetchPost;
  const display = `Slack webhook ${describeSlackUrl(options.url)}`;
  return {
    kind: 'slack',
    async notify(notification: AlertNotification, signal: AbortSignal): Promise<void> {
      const body = JSON.stringify(slackMessage(notification));
      await postOrThrow(post, options.url, display, { headers: { 'content-type': 'application/json' }, body, signal });
    },
  };
}

/** slackMessage builds the Block Kit payload and its text fallback. */
export function slackMessage(notification: AlertNotification): SlackMessage {
  const alerts = orderedAlerts(notification);
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: cut(subjectLine(notification), HEADER_CHARS) } },
    { type: 'section', text: { type: 'mrkdwn', text: cut(escapeMrkdwn(introLine(notification)), SECTION_CHARS) } },
  ];
  for (const alert of alerts.slice(0, MAX_ALERT_SECTIONS)) blocks.push({ type: 'divider' }, ...alertBlocks(alert));
  const context = [`tenant *${escapeMrkdwn(notification.tenant)}* · site *${escapeMrkdwn(notification.site)}*`];
  if (alerts.length > MAX_ALERT_SECTIONS) context.push(`+${alerts.length - MAX_ALERT_SECTIONS} more alerts not shown`);
  if (notification.siteUrl) context.push(`<${notification.siteUrl}|Open the site in algwatch>`);
  blocks.push({ type: 'context', elements: context.map((text) => ({ type: 'mrkdwn', text })) });
  return { text: `${subjectLine(notification)}${notification.siteUrl ? ` ${notification.siteUrl}` : ''}`, blocks };
}

function alertBlocks(alert: NotifiedAlert): SlackBlock[] {
  const heading = `*${escapeMrkdwn(alertHeading(alert))}*\n${escapeMrkdwn(alert.summary)}\n_${escapeMrkdwn(whereLine(alert))} · ${escapeMrkdwn(whenLine(alert))}_`;
  // Evidence lines go in a code block: they are raw SIP header lines, and mrkdwn would eat their <>.
  const evidence = alert.evidence.length > 0 ? `*${evidenceHeading(alert)}*\n\`\`\`${evidenceWithin(alert.evidence, EVIDENCE_CHARS)}\`\`\`\n` : '';
  const advice = `${evidence}*What it means for calls:* ${escapeMrkdwn(alert.impact)}\n*${adviceHeading(alert)}:* ${escapeMrkdwn(alert.remediation)}`;
  return [
    { type: 'section', text: { type: 'mrkdwn', text: cut(heading, SECTION_CHARS) } },
    { type: 'section', text: { type: 'mrkdwn', text: cut(advice, SECTION_CHARS) } },
  ];
}

/** evidenceWithin keeps whole evidence lines up to max chars, so the code block always closes. */
function evidenceWithin(lines: readonly string[], max: number): string {
  const kept: string[] = [];
  let used = 0;
  for (const [index, line] of lines.entries()) {
    const escaped = escapeMrkdwn(line);
    if (used + escaped.length + 1 > max) {
      kept.push(`… ${lines.length - index} more line${lines.length - index === 1 ? '' : 's'}`);
      break;
    }
    kept.push(escaped);
    used += escaped.length + 1;
  }
  return kept.join('\n');
}

/** escapeMrkdwn escapes the three characters Slack's mrkdwn gives meaning to (&, <, >). */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
