/**
 * channelsDispatcher is the server's AlertDispatcher: a notification goes to every channel of its
 * tenant (the tenant's own and those for every tenant), each through `deliver` (per-attempt timeout,
 * retries with backoff, outcome recorded on the channel), all channels at once.
 */
import type { Kysely } from 'kysely';
import type { RelationalDatabase } from '../relational/schema.js';
import { ChannelStore, type Channel } from './channels/channel-store.js';
import { deliver, type DeliveryLog } from './channels/deliver.js';
import type { AlertDispatcher } from './dispatch.js';

export interface ChannelsDispatcherOptions {
  db: Kysely<RelationalDatabase>;
  smtpFrom: string;
  log: DeliveryLog;
  attempts?: number;
  attemptTimeoutMs?: number;
  /** Aborted when the server stops: deliveries give up instead of holding the shutdown. */
  signal?: AbortSignal;
  /** Told each channel's final outcome (metrics count the failures by channel kind). */
  onOutcome?: (kind: Channel['destination']['kind'], outcome: { delivered: boolean }) => void;
}

export function channelsDispatcher(options: ChannelsDispatcherOptions): AlertDispatcher {
  const store = new ChannelStore(options.db);
  return {
    async dispatch(notification) {
      const channels = await store.forTenant(notification.tenant);
      const outcomes = await Promise.all(
        channels.map(async (channel) => {
          const outcome = await deliver(channel, notification, {
            store,
            smtpFrom: options.smtpFrom,
            log: options.log,
            ...(options.attempts !== undefined ? { attempts: options.attempts } : {}),
            ...(options.attemptTimeoutMs !== undefined ? { attemptTimeoutMs: options.attemptTimeoutMs } : {}),
            ...(options.signal ? { signal: options.signal } : {}),
          });
          options.onOutcome?.(channel.destination.kind, outcome);
          return outcome;
        }),
      );
      return outcomes.map((o) => (o.delivered ? { channel: o.channel, ok: true } : { channel: o.channel, ok: false, error: o.error }));
    },
  };
}
