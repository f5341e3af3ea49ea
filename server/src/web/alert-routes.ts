/**
 * The alerts page's API, over alerting's stores (server/src/alerting/): firing and recent alerts of
 * the tenants the user may see, acknowledgements, and silences (a silence that starts later is a
 * maintenance window).
 *   GET    /api/alerts                      { firing, recent, silences }
 *   POST   /api/alerts/:fingerprint/ack     acknowledge a firing alert
 *   POST   /api/silences                    { siteId?, rule?, startsAt?, endsAt, reason }
 *   DELETE /api/silences/:id                end a silence now
 */
import { z } from 'zod';
import type { AlertStore } from '../alerting/alert-store.js';
import type { SilenceStore } from '../alerting/silence-store.js';
import { canOperate, canSeeTenant, type Viewer } from '../auth/roles.js';
import type { AlertAckStore } from './alert-ack-store.js';
import { HttpError, readJson, sendJson, type AuthedContext, type RequestContext, type WebRoute } from './http-kit.js';
import type { SiteDirectory } from './site-directory.js';
import { tenantScope } from './site-directory.js';

const RECENT_MS = 7 * 24 * 3600 * 1000;
const silenceSchema = z.object({
  siteId: z.string().optional(),
  rule: z.string().optional(),
  startsAt: z.string().optional(),
  endsAt: z.string(),
  reason: z.string().min(1).max(500),
});

export interface AlertRoutesDeps {
  alerts: AlertStore;
  silences: SilenceStore;
  acks: AlertAckStore;
  directory: SiteDirectory;
}

export function alertRoutes(deps: AlertRoutesDeps): WebRoute[] {
  return [
    {
      method: 'GET',
      path: '/api/alerts',
      access: 'api',
      async handle(ctx) {
        const viewer = (ctx as AuthedContext).viewer;
        const firing = (await deps.alerts.listAlerts(['firing'])).filter((a) => canSeeTenant(viewer, a.tenant));
        const acks = await deps.acks.acksOf(firing);
        const recent = (await deps.alerts.listHistory(new Date(Date.now() - RECENT_MS).toISOString(), 200)).filter((h) => canSeeTenant(viewer, h.tenant));
        const scope = tenantScope(viewer);
        const silences = (await deps.silences.listSilences(new Date().toISOString())).filter((s) => scope === null || (s.tenant !== null && scope.includes(s.tenant)));
        sendJson(ctx.res, 200, {
          firing: firing.map((a) => ({
            fingerprint: a.fingerprint, rule: a.rule, severity: a.severity, tenant: a.tenant, siteId: a.siteId, site: a.siteName,
            target: a.target ?? null, transport: a.transport ?? null, startsAt: a.startsAt, summary: a.summary, evidence: a.evidence,
            acknowledged: acks.get(a.fingerprint) ?? null,
          })),
          recent,
          silences,
        });
      },
    },
    {
      method: 'POST',
      path: /^\/api\/alerts\/(?<fingerprint>[0-9a-f]{16,64})\/ack$/,
      access: 'api',
      async handle(ctx) {
        const viewer = operator(ctx);
        const alert = (await deps.alerts.listAlerts(['firing'])).find((a) => a.fingerprint === ctx.params.fingerprint);
        if (!alert || !canSeeTenant(viewer, alert.tenant)) throw new HttpError(404, 'no such firing alert');
        sendJson(ctx.res, 200, { acknowledged: await deps.acks.acknowledge(alert.fingerprint, viewer.name) });
      },
    },
    {
      method: 'POST',
      path: '/api/silences',
      access: 'api',
      async handle(ctx) {
        const viewer = operator(ctx);
        const body = silenceSchema.safeParse(await readJson(ctx.req));
        if (!body.success) throw new HttpError(400, 'send { siteId?, rule?, startsAt?, endsAt, reason }');
        const startsAt = body.data.startsAt ?? new Date().toISOString();
        if (!(Date.parse(body.data.endsAt) > Date.parse(startsAt))) throw new HttpError(400, 'endsAt must be an ISO time after startsAt');
        const site = body.data.siteId ? await deps.directory.visibleSite(viewer, body.data.siteId) : null;
        if (body.data.siteId && !site) throw new HttpError(404, 'no such site');
        if (!site && tenantScope(viewer) !== null) throw new HttpError(403, 'silence a site of your tenants: give siteId');
        const silence = await deps.silences.addSilence({
          tenant: site?.tenant ?? null, siteId: site?.siteId ?? null, siteName: site?.site ?? null, rule: body.data.rule ?? null,
          startsAt, endsAt: new Date(body.data.endsAt).toISOString(), reason: body.data.reason,
        });
        sendJson(ctx.res, 201, silence);
      },
    },
    {
      method: 'DELETE',
      path: /^\/api\/silences\/(?<id>[^/]+)$/,
      access: 'api',
      async handle(ctx) {
        const viewer = operator(ctx);
        const scope = tenantScope(viewer);
        const silence = (await deps.silences.listSilences(new Date().toISOString())).find((s) => s.id === ctx.params.id);
        if (!silence || (scope !== null && (silence.tenant === null || !scope.includes(silence.tenant)))) throw new HttpError(404, 'no such silence');
        await deps.silences.expireSilence(silence.id);
        sendJson(ctx.res, 200, { ok: true });
      },
    },
  ];
}

function operator(ctx: RequestContext): Viewer {
  const { viewer } = ctx as AuthedContext;
  if (!canOperate(viewer)) throw new HttpError(403, 'viewers cannot change alerts: ask a technician or admin');
  return viewer;
}
