/**
 * deliver: one notification to one channel, the way blackbox's handler runs a prober. The notifier
 * only sends; deliver owns what every channel shares: a deadline per attempt, retries with
 * exponential backoff while the error says retrying can help, the outcome recorded on the channel
 * (`channel list` shows it), and one log line per failed attempt with secrets scrubbed.
 */
import { NotifyError, type AlertNotification, type Notifier } from '../notification.js';
import { AttemptTimeoutError } from '../notifiers/abort-reason.js';
import type { Channel, ChannelStore } from './channel-store.js';
import { createNotifier, destinationSecrets } from './destination.js';

export const DELIVERY_DEFAULTS = {
  /** First try plus four retries: rides out a receiver's restart of a minute or so. */
  attempts: 5,
  attemptTimeoutMs: 10_000,
  /** 1 s, 2 s, 4 s, 8 s between attempts (±20 % jitter so many channels do not retry in step). */
  initialBackoffMs: 1_000,
  maxBackoffMs: 60_000,
} as const;

/** The part of a pino Logger deliver writes to. */
export interface DeliveryLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface DeliveryOptions {
  store: ChannelStore;
  /** The From of alert emails (the server's --smtp-from; defaultSmtpFrom() when not set). */
  smtpFrom: string;
  attempts?: number;
  attemptTimeoutMs?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Aborted when the server stops: no further attempt starts and the one running is cut short. */
  signal?: AbortSignal;
  log?: DeliveryLog;
  /** Extra CA certificates (PEM) trusted for SMTP TLS (tests; NODE_EXTRA_CA_CERTS in production). */
  smtpTlsCa?: string;
}

/** DeliveryOutcome says whether the receiver accepted the notification, after how many attempts. */
export type DeliveryOutcome =
  | { channel: string; delivered: true; attempts: number; at: string }
  | { channel: string; delivered: false; attempts: number; at: string; error: string; retryable: boolean };

/**
 * deliver sends `notification` through `channel`, retrying retryable failures with backoff, records
 * the outcome on the channel and returns it. It never throws for a delivery failure: the outcome
 * says delivered: false with a one-line error free of the channel's secrets.
 */
export async function deliver(channel: Channel, notification: AlertNotification, options: DeliveryOptions): Promise<DeliveryOutcome> {
  const maxAttempts = Math.max(1, options.attempts ?? DELIVERY_DEFAULTS.attempts);
  const timeoutMs = options.attemptTimeoutMs ?? DELIVERY_DEFAULTS.attemptTimeoutMs;
  const secrets = destinationSecrets(channel.destination);
  const scrub = (text: string) => secrets.reduce((scrubbed, secret) => (secret ? scrubbed.split(secret).join('***') : scrubbed), text);
  const logFields = { channel: channel.name, kind: channel.destination.kind, groupKey: notification.groupKey, status: notification.status };

  let attempts = 0;
  let lastError = new NotifyError('not attempted', false);
  let notifier: Notifier | undefined;
  try {
    notifier = createNotifier(channel.destination, {
      channelName: channel.name,
      smtpFrom: options.smtpFrom,
      threads: options.store.threadsOf(channel.id),
      ...(options.smtpTlsCa ? { smtpTlsCa: options.smtpTlsCa } : {}),
    });
  } catch (error) {
    lastError = asNotifyError(error, channel, scrub);
  }
  let stopped = false;
  while (notifier && attempts < maxAttempts) {
    if ((attempts > 0 && !(await sleep(backoffMs(attempts, options), options.signal))) || options.signal?.aborted) {
      stopped = true;
      break;
    }
    attempts++;
    try {
      await attempt(notifier, notification, timeoutMs, options.signal);
      const at = new Date();
      await options.store.recordSuccess(channel.id, at).catch((error: unknown) => options.log?.warn({ ...logFields, error: scrub(oneLine(error)) }, 'could not record a delivery'));
      options.log?.info({ ...logFields, attempts }, 'notification delivered');
      return { channel: channel.name, delivered: true, attempts, at: at.toISOString() };
    } catch (error) {
      lastError = asNotifyError(error, channel, scrub);
      options.log?.warn({ ...logFields, attempt: attempts, retryable: lastError.retryable, error: lastError.message }, 'notification attempt failed');
      // Not retryable, or cut short by the stop (its error says so already).
      if (!lastError.retryable || options.signal?.aborted) break;
    }
  }
  const at = new Date();
  if (stopped && attempts === 0) lastError = new NotifyError('not sent: the server is stopping', true);
  // Stopped between attempts: say so after the last error (one cut short by the stop says it itself).
  const suffix = stopped && attempts > 0 ? ' (gave up: the server is stopping)' : '';
  const error = `${attempts > 1 ? `after ${attempts} attempts: ` : ''}${lastError.message}${suffix}`;
  await options.store.recordFailure(channel.id, at, error).catch((failure: unknown) => options.log?.warn({ ...logFields, error: scrub(oneLine(failure)) }, 'could not record a delivery'));
  return { channel: channel.name, delivered: false, attempts, at: at.toISOString(), error, retryable: lastError.retryable };
}

/** attempt runs one notify with its own deadline, also ending early when `stop` aborts. */
async function attempt(notifier: Notifier, notification: AlertNotification, timeoutMs: number, stop: AbortSignal | undefined): Promise<void> {
  // One controller per attempt, linked by hand: AbortSignal.any on Node 20 keeps every combined
  // signal alive as long as the long-lived `stop` signal (see agent probe runner).
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new AttemptTimeoutError(timeoutMs)), timeoutMs);
  const onStop = () => controller.abort(stop?.reason);
  stop?.addEventListener('abort', onStop, { once: true });
  try {
    await notifier.notify(notification, controller.signal);
  } finally {
    clearTimeout(timer);
    stop?.removeEventListener('abort', onStop);
  }
}

function backoffMs(retry: number, options: DeliveryOptions): number {
  const initial = options.initialBackoffMs ?? DELIVERY_DEFAULTS.initialBackoffMs;
  const max = options.maxBackoffMs ?? DELIVERY_DEFAULTS.maxBackoffMs;
  const base = Math.min(max, initial * 2 ** (retry - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/** sleep resolves true after `ms`, or false as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** asNotifyError keeps a notifier's NotifyError and wraps anything else (a bug) as not retryable; both scrubbed. */
function asNotifyError(error: unknown, channel: Channel, scrub: (text: string) => string): NotifyError {
  if (error instanceof NotifyError) return new NotifyError(scrub(error.message), error.retryable);
  return new NotifyError(`${channel.destination.kind} notifier failed: ${scrub(oneLine(error))}`, false);
}

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}
