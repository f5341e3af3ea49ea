/**
 * The dashboard's updates across server processes. With `--redis-url`, every process publishes
 * each site update to one Redis pub/sub channel and delivers what it hears on that channel to its
 * own browsers, so a browser on process A sees results ingested by process B, live. Each message is
 * parsed with the protocol's schema on the way in, like any other boundary.
 */
import { createClient } from 'redis';
import type { Logger } from 'pino';
import { siteUpdateSchema, type SiteUpdate } from '@algwatch/protocol/dashboard';
import * as z from 'zod';

export const DEFAULT_RELAY_CHANNEL = 'algwatch:dashboard:site-updates';

const relayMessageSchema = z.object({ tenant: z.string(), update: z.unknown() });

export interface UpdateRelay {
  /** publish sends the update to every process (this one included, which hears it back). */
  publish(tenant: string, update: SiteUpdate): void;
  close(): Promise<void>;
}

/**
 * startRedisRelay connects to Redis and subscribes; rejects with one line (password hidden) when
 * Redis cannot be reached. Later connection losses are retried by the client and logged once each.
 */
export async function startRedisRelay(options: {
  url: string;
  channel?: string;
  deliver: (tenant: string, update: SiteUpdate) => void;
  log: Pick<Logger, 'warn'>;
}): Promise<UpdateRelay> {
  const channel = options.channel ?? DEFAULT_RELAY_CHANNEL;
  const where = redactRedisUrl(options.url);
  // At start a Redis that does not answer is a configuration error (the server refuses to start);
  // once connected, a lost connection is retried with backoff and updates resume with it.
  let started = false;
  const reconnectStrategy = (retries: number, cause: Error) => (started ? Math.min(200 * 2 ** retries, 5_000) : cause);
  const publisher = createClient({ url: options.url, socket: { connectTimeout: 5_000, reconnectStrategy } });
  const subscriber = publisher.duplicate();
  let lastError = '';
  for (const client of [publisher, subscriber]) {
    client.on('error', (error: Error) => {
      // One line per distinct error, not one per reconnect attempt.
      if (error.message !== lastError) options.log.warn({ redis: where, err: error.message }, 'dashboard update relay: Redis error');
      lastError = error.message;
    });
  }
  try {
    await Promise.all([publisher.connect(), subscriber.connect()]);
    await subscriber.subscribe(channel, (message) => {
      let parsed;
      try {
        parsed = relayMessageSchema.parse(JSON.parse(message));
      } catch {
        return options.log.warn({ redis: where }, 'dashboard update relay: ignored a malformed message');
      }
      const update = siteUpdateSchema.safeParse(parsed.update);
      if (!update.success) return options.log.warn({ redis: where }, 'dashboard update relay: ignored a malformed site update');
      options.deliver(parsed.tenant, update.data);
    });
    started = true;
  } catch (error) {
    await Promise.allSettled([publisher.destroy(), subscriber.destroy()]);
    throw new Error(`cannot reach Redis at ${where}: ${(error as Error).message.split('\n')[0] ?? ''}`);
  }
  return {
    publish(tenant, update) {
      publisher.publish(channel, JSON.stringify({ tenant, update })).catch((error: Error) => options.log.warn({ redis: where, err: error.message }, 'dashboard update not relayed'));
    },
    async close() {
      await Promise.allSettled([subscriber.close(), publisher.close()]);
    },
  };
}

/** redactRedisUrl hides a password in a Redis URL before it reaches a log or an error. */
export function redactRedisUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
