/**
 * emailNotifier: an alert as a plain-text + HTML email through an SMTP server (nodemailer).
 *
 * `smtps://HOST[:465]` is TLS from the first byte; `smtp://HOST[:25]` upgrades with STARTTLS when the
 * server offers it. Credentials come from the URL (`smtp://user:pass@host:587`, percent-encoded).
 * Threading: the first firing message of a thread (AlertNotification.threadId) gets the thread's own
 * Message-ID; every later message of the thread, the resolution included, carries it in In-Reply-To
 * and References, so mail clients file the resolution under its alert.
 *
 * Errors: SMTP 4xx replies, connection failures and timeouts are retryable; SMTP 5xx replies,
 * refused logins and untrusted certificates are not. Messages name host:port, never the password.
 */
import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { createTransport } from 'nodemailer';
import { NotifyError, type AlertNotification, type Notifier } from '../notification.js';
import { abortReason } from './abort-reason.js';
import { emailHtml } from './email-html.js';
import { plainTextBody, subjectLine } from './message.js';

/** SmtpEndpoint is a parsed --smtp-url. */
export interface SmtpEndpoint {
  host: string;
  port: number;
  /** true for smtps:// (implicit TLS). */
  implicitTls: boolean;
  user?: string;
  password?: string;
}

/**
 * EmailThreads remembers which threads already had their first message on this channel, so exactly
 * one message per thread carries the thread's Message-ID (the ChannelStore implements it).
 */
export interface EmailThreads {
  /** claimThreadStart resolves true when this message is the thread's first (and records that). */
  claimThreadStart(threadId: string): Promise<boolean>;
  /** releaseThreadStart forgets the thread: its first message was never accepted, or the thread ended (resolved). */
  releaseThreadStart(threadId: string): Promise<void>;
}

export interface EmailNotifierOptions {
  to: readonly string[];
  smtpUrl: string;
  /** The From address (the server's --smtp-from); see defaultSmtpFrom. */
  from: string;
  threads?: EmailThreads;
  /** Extra trusted CA certificates (PEM) for the SMTP server's TLS; Node's NODE_EXTRA_CA_CERTS works too. */
  tlsCa?: string;
}

/** defaultSmtpFrom is the From used when --smtp-from is not given: algwatch@<this host name>. */
export function defaultSmtpFrom(): string {
  return `algwatch@${hostname()}`;
}

/**
 * parseSmtpUrl reads `smtp[s]://[user:pass@]HOST[:PORT]`. Returns the endpoint, or a one-line
 * reason (without the password) when the URL is not one.
 */
export function parseSmtpUrl(smtpUrl: string): SmtpEndpoint | string {
  let url: URL;
  try {
    url = new URL(smtpUrl);
  } catch {
    return 'not a URL: use smtp://[user:pass@]HOST:PORT or smtps://...';
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') return `scheme ${url.protocol.replace(/:$/, '')} is not smtp or smtps`;
  if (url.hostname === '') return 'has no host';
  if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') return 'takes no path or query: use smtp://[user:pass@]HOST:PORT';
  const implicitTls = url.protocol === 'smtps:';
  const endpoint: SmtpEndpoint = { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: url.port ? Number(url.port) : implicitTls ? 465 : 25, implicitTls };
  if (url.username !== '') endpoint.user = decodeURIComponent(url.username);
  if (url.password !== '') endpoint.password = decodeURIComponent(url.password);
  if (endpoint.user !== undefined && endpoint.password === undefined) return 'names a user but no password: use smtp://user:pass@HOST:PORT';
  return endpoint;
}

/** describeSmtpEndpoint shows an endpoint with its password hidden: smtp://ops:***@mail.example:587. */
export function describeSmtpEndpoint(endpoint: SmtpEndpoint): string {
  const credentials = endpoint.user !== undefined ? `${encodeURIComponent(endpoint.user)}:***@` : '';
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  return `${endpoint.implicitTls ? 'smtps' : 'smtp'}://${credentials}${host}:${endpoint.port}`;
}

/** emailNotifier builds the email Notifier; throws NotifyError (not retryable) for a bad smtpUrl. */
export function emailNotifier(options: EmailNotifierOptions): Notifier {
  const endpoint = parseSmtpUrl(options.smtpUrl);
  if (typeof endpoint === 'string') throw new NotifyError(`SMTP URL ${endpoint}`, false);
  const where = `SMTP server ${endpoint.host}:${endpoint.port}`;
  const domain = /@([^>\s]+)>?\s*$/.exec(options.from)?.[1] ?? 'algwatch.invalid';
  return {
    kind: 'email',
    async notify(notification: AlertNotification, signal: AbortSignal): Promise<void> {
      const threadMessageId = `<thread-${createHash('sha256').update(notification.threadId).digest('hex').slice(0, 32)}@${domain}>`;
      // A test opens a thread of its own that nothing follows: nothing to remember.
      const remembered = options.threads && !notification.test ? options.threads : undefined;
      const startsThread = notification.status === 'firing' && (remembered ? await remembered.claimThreadStart(notification.threadId) : true);
      const transport = createTransport({
        host: endpoint.host,
        port: endpoint.port,
        secure: endpoint.implicitTls,
        ...(endpoint.user !== undefined ? { auth: { user: endpoint.user, pass: endpoint.password ?? '' } } : {}),
        ...(options.tlsCa ? { tls: { ca: options.tlsCa } } : {}),
        // The caller's AbortSignal bounds the attempt; these only stop a silent server holding a socket forever.
        connectionTimeout: 30_000,
        greetingTimeout: 30_000,
        socketTimeout: 60_000,
        disableFileAccess: true,
        disableUrlAccess: true,
      });
      try {
        await transport.sendMail({
          from: options.from,
          to: [...options.to],
          subject: subjectLine(notification),
          text: plainTextBody(notification),
          html: emailHtml(notification),
          messageId: startsThread ? threadMessageId : `<${randomUUID()}@${domain}>`,
          ...(startsThread ? {} : { inReplyTo: threadMessageId, references: [threadMessageId] }),
          headers: { 'X-Algwatch-Group': notification.groupKey, 'X-Algwatch-Status': notification.test ? 'test' : notification.status },
          signal,
        });
        // The episode is over: the next firing of this group starts a new thread with a new threadId.
        if (notification.status === 'resolved' && remembered) await remembered.releaseThreadStart(notification.threadId).catch(() => {});
      } catch (error) {
        if (startsThread && remembered) await remembered.releaseThreadStart(notification.threadId).catch(() => {});
        throw smtpError(where, error, signal, endpoint.password);
      } finally {
        transport.close();
      }
    },
  };
}

/** smtpError turns a nodemailer failure into a one-line NotifyError without the password. */
function smtpError(where: string, error: unknown, signal: AbortSignal, password: string | undefined): NotifyError {
  if (signal.aborted) return new NotifyError(`${where}: ${abortReason(signal)}`, true);
  const failure = error as { code?: unknown; responseCode?: unknown; response?: unknown; message?: unknown };
  const code = typeof failure.code === 'string' ? failure.code : '';
  const responseCode = typeof failure.responseCode === 'number' ? failure.responseCode : undefined;
  const reply = typeof failure.response === 'string' ? scrub(failure.response.split('\n')[0] ?? '', password).slice(0, 200) : '';
  const message = typeof failure.message === 'string' ? failure.message : '';
  if (code === 'EAUTH' || code === 'ENOAUTH') return new NotifyError(`${where} refused the login${reply ? ` (${reply})` : ''}: check the user and password in --smtp-url`, false);
  if (/certificate/i.test(message) || code === 'ETLS') {
    const detail = /certificate[^:\n]*/i.exec(message)?.[0] ?? 'TLS failed';
    return new NotifyError(`${where}: TLS failed (${detail}): the server's certificate must be trusted (NODE_EXTRA_CA_CERTS)`, false);
  }
  if (responseCode !== undefined) {
    const transient = responseCode >= 400 && responseCode < 500;
    return new NotifyError(`${where} answered ${reply || responseCode}${transient ? '' : ': refused, not retried'}`, transient);
  }
  switch (code) {
    case 'ECONNECTION':
    case 'ESOCKET':
      return new NotifyError(`${where}: ${/ECONNREFUSED/.test(message) ? 'connection refused' : 'connection failed or closed'}`, true);
    case 'ETIMEDOUT':
      return new NotifyError(`${where}: timed out`, true);
    case 'EDNS':
      return new NotifyError(`${where}: host name not found`, true);
    default:
      return new NotifyError(`${where}: ${scrub(message.split('\n')[0] ?? 'sending failed', password).slice(0, 200)}`, true);
  }
}

function scrub(text: string, password: string | undefined): string {
  return password ? text.split(password).join('***') : text;
}
