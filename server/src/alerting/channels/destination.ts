/**
 * Where a channel sends: an email list through an SMTP server, a Slack incoming webhook, or a signed
 * generic webhook. One schema for what the store keeps (parsed with zod when read back), one check
 * for what `channel add` is given, one redacted description for listings and logs, and the list of
 * secrets that must never be shown (scrubbed from any error as a last line of defence).
 */
import { z } from 'zod';
import type { Notifier } from '../notification.js';
import { describeSmtpEndpoint, emailNotifier, parseSmtpUrl, type EmailThreads } from '../notifiers/email.js';
import { describeSlackUrl, slackNotifier } from '../notifiers/slack.js';
import { describeWebhookUrl, webhookNotifier } from '../notifiers/webhook.js';

export const channelDestinationSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('email'), to: z.array(z.string()).min(1), smtpUrl: z.string() }),
  z.object({ kind: z.literal('slack'), url: z.string() }),
  z.object({ kind: z.literal('webhook'), url: z.string(), secret: z.string() }),
]);

export type ChannelDestination = z.infer<typeof channelDestinationSchema>;
export type ChannelKind = ChannelDestination['kind'];

/** The shortest signing secret accepted: a typo or a flag taken for the value is shorter. */
export const MIN_SECRET_LENGTH = 16;

/** Addresses as support teams write them: local@domain, no display names or lists in one entry. */
const EMAIL_ADDRESS = /^[^\s@<>(),;:"[\]\\]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/;

/**
 * destinationProblem returns a one-line reason why `destination` cannot be used, or undefined when
 * it can. The reason names the flag and never repeats a secret (no URL with a password or path).
 */
export function destinationProblem(destination: ChannelDestination): string | undefined {
  switch (destination.kind) {
    case 'email': {
      const bad = destination.to.find((address) => !EMAIL_ADDRESS.test(address));
      if (bad !== undefined) return `--email ${JSON.stringify(bad)} is not an address like ops@msp.example`;
      const endpoint = parseSmtpUrl(destination.smtpUrl);
      return typeof endpoint === 'string' ? `--smtp-url ${endpoint}` : undefined;
    }
    case 'slack': {
      const url = httpUrl(destination.url);
      if (url === undefined) return '--slack-url is not an http(s) URL: use the incoming-webhook URL Slack gave you (https://hooks.slack.com/services/...)';
      if (url.username !== '' || url.password !== '') return '--slack-url must not hold user:password@ (fetch refuses such URLs)';
      if (url.pathname.length <= 1) return '--slack-url has no path: use the whole incoming-webhook URL Slack gave you (https://hooks.slack.com/services/...)';
      return undefined;
    }
    case 'webhook': {
      const url = httpUrl(destination.url);
      if (url === undefined) return '--webhook-url is not an http(s) URL';
      if (url.username !== '' || url.password !== '') return '--webhook-url must not hold user:password@: the receiver authenticates requests by their signature (--secret)';
      if (destination.secret.length < MIN_SECRET_LENGTH) return `--secret must be at least ${MIN_SECRET_LENGTH} characters (e.g. from \`openssl rand -hex 32\`)`;
      return undefined;
    }
  }
}

/** describeDestination shows where a channel sends, secrets hidden. */
export function describeDestination(destination: ChannelDestination): string {
  switch (destination.kind) {
    case 'email': {
      const endpoint = parseSmtpUrl(destination.smtpUrl);
      return `${destination.to.join(',')} via ${typeof endpoint === 'string' ? 'an unusable SMTP URL' : describeSmtpEndpoint(endpoint)}`;
    }
    case 'slack':
      return describeSlackUrl(destination.url);
    case 'webhook':
      return `${describeWebhookUrl(destination.url)} (signed)`;
  }
}

/** destinationSecrets lists what must never appear in an error or log line for this destination. */
export function destinationSecrets(destination: ChannelDestination): string[] {
  switch (destination.kind) {
    case 'email': {
      const endpoint = parseSmtpUrl(destination.smtpUrl);
      return typeof endpoint !== 'string' && endpoint.password ? [endpoint.password, encodeURIComponent(endpoint.password)] : [];
    }
    case 'slack': {
      const url = httpUrl(destination.url);
      // The whole path, and its last segment alone (Slack's token), in case an error quotes only that.
      const token = url?.pathname.split('/').filter(Boolean).at(-1);
      return url && url.pathname.length > 1 ? [url.pathname, ...(token && token.length >= 8 ? [token] : [])] : [];
    }
    case 'webhook': {
      const url = httpUrl(destination.url);
      return [destination.secret, ...(url?.search ? [url.search.slice(1)] : []), ...(url?.password ? [url.password] : [])];
    }
  }
}

/** What a notifier needs beyond the destination: the server's From address and the channel's threads. */
export interface NotifierContext {
  /** The channel's name: the webhook's `receiver`. */
  channelName: string;
  smtpFrom: string;
  threads?: EmailThreads;
  /** Extra CA certificates (PEM) trusted for SMTP TLS. */
  smtpTlsCa?: string;
}

/**
 * createNotifier is the one registry from destination kind to notifier. Throws NotifyError (not
 * retryable) for a destination its notifier cannot use.
 */
export function createNotifier(destination: ChannelDestination, context: NotifierContext): Notifier {
  switch (destination.kind) {
    case 'email':
      return emailNotifier({
        to: destination.to,
        smtpUrl: destination.smtpUrl,
        from: context.smtpFrom,
        ...(context.threads ? { threads: context.threads } : {}),
        ...(context.smtpTlsCa ? { tlsCa: context.smtpTlsCa } : {}),
      });
    case 'slack':
      return slackNotifier({ url: destination.url });
    case 'webhook':
      return webhookNotifier({ url: destination.url, secret: destination.secret, receiver: context.channelName });
  }
}

function httpUrl(text: string): URL | undefined {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '' ? url : undefined;
  } catch {
    return undefined;
  }
}
