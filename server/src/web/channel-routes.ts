/**
 * Notification channels in the dashboard (the store and notifiers are alerting's, contract 2):
 *   GET    /api/channels               channels the user may see, destinations redacted, with delivery state
 *   POST   /api/channels               add {name, tenant?, destination}
 *   DELETE /api/channels/:name         remove
 *   POST   /api/channels/:name/test    send a marked test through the real notifier, once
 * Admins (and technicians of every tenant) see and manage every channel; a technician limited to
 * some tenants only those tenants' channels; viewers read.
 */
import type { Channel, ChannelStore } from '../alerting/channels/channel-store.js';
import { ChannelError } from '../alerting/channels/channel-store.js';
import { channelTestNotification } from '../alerting/channels/channel-test-message.js';
import { deliver } from '../alerting/channels/deliver.js';
import { channelDestinationSchema, describeDestination, destinationProblem } from '../alerting/channels/destination.js';
import { defaultSmtpFrom } from '../alerting/notifiers/email.js';
import { canOperate, type Viewer } from '../auth/roles.js';
import { tenantScope } from './site-directory.js';
import { HttpError, readJson, sendJson, type AuthedContext, type RequestContext, type WebRoute } from './http-kit.js';

export interface ChannelRoutesDeps {
  channels: ChannelStore;
  /** The From of test emails (ALGWATCH_SMTP_FROM), defaultSmtpFrom() otherwise. */
  smtpFrom?: string;
}

export function channelRoutes(deps: ChannelRoutesDeps): WebRoute[] {
  return [
    {
      method: 'GET',
      path: '/api/channels',
      access: 'api',
      async handle(ctx) {
        const viewer = (ctx as AuthedContext).viewer;
        const channels = (await deps.channels.list()).filter((channel) => mayManage(viewer, channel.tenant, 'read'));
        sendJson(ctx.res, 200, { channels: channels.map(describe) });
      },
    },
    {
      method: 'POST',
      path: '/api/channels',
      access: 'api',
      async handle(ctx) {
        const viewer = operator(ctx);
        const body = (await readJson(ctx.req)) as { name?: unknown; tenant?: unknown; destination?: unknown };
        const destination = channelDestinationSchema.safeParse(body.destination);
        if (!destination.success || typeof body.name !== 'string') throw new HttpError(400, 'send { name, tenant?, destination: { kind: email|slack|webhook, ... } }');
        const problem = destinationProblem(destination.data);
        if (problem) throw new HttpError(400, problem);
        const tenant = typeof body.tenant === 'string' && body.tenant !== '' ? body.tenant : null;
        if (!mayManage(viewer, tenant, 'write')) throw new HttpError(403, tenant ? `you may not add channels for tenant ${tenant}` : 'only users of every tenant add channels for every tenant: give a tenant');
        const channel = await storeCall(() => deps.channels.add({ name: body.name as string, ...(tenant ? { tenant } : {}), destination: destination.data }));
        sendJson(ctx.res, 201, describe(channel));
      },
    },
    {
      method: 'DELETE',
      path: /^\/api\/channels\/(?<name>[^/]+)$/,
      access: 'api',
      async handle(ctx) {
        const channel = await visibleChannel(deps, ctx, 'write');
        await storeCall(() => deps.channels.remove(channel.name));
        sendJson(ctx.res, 200, { ok: true });
      },
    },
    {
      method: 'POST',
      path: /^\/api\/channels\/(?<name>[^/]+)\/test$/,
      access: 'api',
      async handle(ctx) {
        const channel = await visibleChannel(deps, ctx, 'write');
        // One attempt: the user is waiting for the receiver's answer, not for our retries.
        const outcome = await deliver(channel, channelTestNotification(channel), { store: deps.channels, smtpFrom: deps.smtpFrom ?? defaultSmtpFrom(), attempts: 1, attemptTimeoutMs: 10_000 });
        sendJson(ctx.res, 200, outcome.delivered ? { delivered: true } : { delivered: false, error: outcome.error });
      },
    },
  ];
}

function describe(channel: Channel) {
  return { name: channel.name, tenant: channel.tenant, kind: channel.destination.kind, destination: describeDestination(channel.destination), delivery: channel.delivery };
}

/** mayManage: a channel of every tenant (null) is for users of every tenant; a tenant's for users of that tenant. */
function mayManage(viewer: Viewer, tenant: string | null, access: 'read' | 'write'): boolean {
  if (access === 'write' && !canOperate(viewer)) return false;
  const scope = tenantScope(viewer);
  return scope === null || (tenant !== null && scope.includes(tenant));
}

function operator(ctx: RequestContext): Viewer {
  const { viewer } = ctx as AuthedContext;
  if (!canOperate(viewer)) throw new HttpError(403, 'viewers cannot change settings: ask a technician or admin');
  return viewer;
}

async function visibleChannel(deps: ChannelRoutesDeps, ctx: RequestContext, access: 'read' | 'write'): Promise<Channel> {
  const viewer = operator(ctx);
  const channel = await deps.channels.get(decodeURIComponent(ctx.params.name ?? ''));
  if (!channel || !mayManage(viewer, channel.tenant, 'read')) throw new HttpError(404, 'no such channel');
  if (!mayManage(viewer, channel.tenant, access)) throw new HttpError(403, 'you may not change this channel');
  return channel;
}

async function storeCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof ChannelError) throw new HttpError(error.code === 'CHANNEL_EXISTS' ? 409 : error.code === 'CHANNEL_NOT_FOUND' ? 404 : 400, error.message);
    throw error;
  }
}
