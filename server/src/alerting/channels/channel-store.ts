/**
 * ChannelStore: the notification channels (`algwatch-server channel ...`), each channel's last
 * delivery outcome, and the email threads already opened on a channel. Queries over the shared
 * Kysely handle (RelationalStore.db), written to mean the same on SQLite and PostgreSQL. Running
 * servers read channels per delivery, so a channel added or removed by the CLI counts from the next
 * notification on.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { EmailThreads } from '../notifiers/email.js';
import type { NotificationChannelsTable, RelationalDatabase } from '../../relational/schema.js';
import { channelDestinationSchema, type ChannelDestination } from './destination.js';

/** Channel names are CLI arguments and log fields: keep them plain (as site names). */
const CHANNEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export type ChannelErrorCode = 'INVALID_NAME' | 'CHANNEL_EXISTS' | 'CHANNEL_NOT_FOUND' | 'UNKNOWN_TENANT' | 'CORRUPT_CHANNEL';

/** ChannelError is an expected refusal (bad name, unknown tenant or channel): one line for the technician. */
export class ChannelError extends Error {
  constructor(
    readonly code: ChannelErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ChannelError';
  }
}

/** ChannelDelivery is a channel's delivery record, as `channel list` shows it. */
export interface ChannelDelivery {
  lastSuccessAt: string | null;
  lastFailureAt: string | null;
  /** The last failed delivery's one-line error; null once a delivery succeeded after it. */
  lastError: string | null;
  /** Failed deliveries since the last successful one. */
  failureCount: number;
}

export interface Channel {
  id: string;
  name: string;
  /** The tenant whose alerts it gets; null for every tenant's. */
  tenant: string | null;
  destination: ChannelDestination;
  createdAt: string;
  delivery: ChannelDelivery;
}

export interface NewChannel {
  name: string;
  tenant?: string;
  destination: ChannelDestination;
}

type ChannelRow = Selectable<NotificationChannelsTable> & { tenant_name: string | null };

export class ChannelStore {
  constructor(private readonly db: Kysely<RelationalDatabase>) {}

  /**
   * add creates a channel. Throws ChannelError INVALID_NAME, CHANNEL_EXISTS, or UNKNOWN_TENANT when
   * the tenant has no sites (tenants come into being with `site add --tenant`). The destination must
   * have been checked (destinationProblem) by the caller.
   */
  async add(channel: NewChannel): Promise<Channel> {
    if (!CHANNEL_NAME.test(channel.name)) {
      throw new ChannelError('INVALID_NAME', `invalid channel name ${JSON.stringify(channel.name)}: use letters, digits, '.', '_' or '-' (at most 64, starting with a letter or digit)`);
    }
    return this.db.transaction().execute(async (trx) => {
      let tenantId: string | null = null;
      if (channel.tenant !== undefined) {
        const tenant = await trx.selectFrom('tenants').select('id').where('name', '=', channel.tenant).executeTakeFirst();
        if (!tenant) {
          const known = (await trx.selectFrom('tenants').select('name').orderBy('name').execute()).map((row) => row.name);
          throw new ChannelError('UNKNOWN_TENANT', `no tenant ${channel.tenant}: ${known.length > 0 ? `known tenants are ${known.join(', ')}` : 'there are no tenants yet'} (a tenant comes with its first \`site add NAME --tenant T\`)`);
        }
        tenantId = tenant.id;
      }
      const existing = await trx.selectFrom('notification_channels').select('id').where('name', '=', channel.name).executeTakeFirst();
      if (existing) throw new ChannelError('CHANNEL_EXISTS', `channel ${channel.name} already exists: remove it first or pick another name`);
      const created: Channel = {
        id: randomUUID(),
        name: channel.name,
        tenant: channel.tenant ?? null,
        destination: channel.destination,
        createdAt: new Date().toISOString(),
        delivery: { lastSuccessAt: null, lastFailureAt: null, lastError: null, failureCount: 0 },
      };
      await trx
        .insertInto('notification_channels')
        .values({
          id: created.id,
          name: created.name,
          tenant_id: tenantId,
          kind: created.destination.kind,
          destination: JSON.stringify(created.destination),
          created_at: created.createdAt,
        })
        .execute();
      return created;
    });
  }

  /** list returns every channel ordered by name. Throws ChannelError CORRUPT_CHANNEL for an unreadable row. */
  async list(): Promise<Channel[]> {
    return (await this.query().orderBy('notification_channels.name').execute()).map(toChannel);
  }

  /** get returns the channel called `name`, or undefined. */
  async get(name: string): Promise<Channel | undefined> {
    const row = await this.query().where('notification_channels.name', '=', name).executeTakeFirst();
    return row ? toChannel(row) : undefined;
  }

  /** forTenant returns the channels that get `tenant`'s alerts: its own and those without a tenant. */
  async forTenant(tenant: string): Promise<Channel[]> {
    const rows = await this.query()
      .where((eb) => eb.or([eb('notification_channels.tenant_id', 'is', null), eb('tenants.name', '=', tenant)]))
      .orderBy('notification_channels.name')
      .execute();
    return rows.map(toChannel);
  }

  /** remove deletes the channel (and its threads). Throws ChannelError CHANNEL_NOT_FOUND. */
  async remove(name: string): Promise<Channel> {
    const channel = await this.get(name);
    if (!channel) throw new ChannelError('CHANNEL_NOT_FOUND', `no channel ${name}: see \`channel list\``);
    await this.db.deleteFrom('notification_channels').where('id', '=', channel.id).execute();
    return channel;
  }

  /** recordSuccess notes a delivered notification: the failure streak ends. */
  async recordSuccess(channelId: string, at: Date): Promise<void> {
    await this.db
      .updateTable('notification_channels')
      .set({ last_success_at: at.toISOString(), last_error: null, failure_count: 0 })
      .where('id', '=', channelId)
      .execute();
  }

  /** recordFailure notes a notification that could not be delivered, with its one-line error. */
  async recordFailure(channelId: string, at: Date, error: string): Promise<void> {
    await this.db
      .updateTable('notification_channels')
      .set((eb) => ({ last_failure_at: at.toISOString(), last_error: error, failure_count: eb('failure_count', '+', 1) }))
      .where('id', '=', channelId)
      .execute();
  }

  /** threadsOf is the channel's EmailThreads: which threads already had their first mail. */
  threadsOf(channelId: string): EmailThreads {
    return {
      claimThreadStart: async (threadId) => {
        const result = await this.db
          .insertInto('notification_threads')
          .values({ channel_id: channelId, thread_id: threadId, started_at: new Date().toISOString() })
          .onConflict((oc) => oc.columns(['channel_id', 'thread_id']).doNothing())
          .executeTakeFirst();
        return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
      },
      releaseThreadStart: async (threadId) => {
        await this.db.deleteFrom('notification_threads').where('channel_id', '=', channelId).where('thread_id', '=', threadId).execute();
      },
    };
  }

  private query() {
    return this.db
      .selectFrom('notification_channels')
      .leftJoin('tenants', 'tenants.id', 'notification_channels.tenant_id')
      .selectAll('notification_channels')
      .select('tenants.name as tenant_name');
  }
}

function toChannel(row: ChannelRow): Channel {
  const destination = channelDestinationSchema.safeParse(safeJson(row.destination));
  if (!destination.success) throw new ChannelError('CORRUPT_CHANNEL', `channel ${row.name} has an unreadable destination in the database: remove and add it again`);
  return {
    id: row.id,
    name: row.name,
    tenant: row.tenant_name,
    destination: destination.data,
    createdAt: row.created_at,
    delivery: {
      lastSuccessAt: row.last_success_at,
      lastFailureAt: row.last_failure_at,
      lastError: row.last_error,
      failureCount: Number(row.failure_count),
    },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
