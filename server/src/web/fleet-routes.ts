/**
 * The fleet and site JSON API: GET /api/fleet (one row per site the user may see) and
 * GET /api/sites/:siteId (one site: row, latest SIP ALG checks, agents, remediation), and
 * POST /api/sites/:siteId/run-now (asks the site's agents to run the checks now).
 * A site of a tenant the user may not see answers 404, exactly like a site that does not exist.
 */
import type { Fleet, FleetRow, SiteDetail } from '@algwatch/protocol/dashboard';
import { PROBE_NAMES, runNowSchema } from '@algwatch/protocol/events';
import type { RelationalStore } from '../relational/relational-store.js';
import { canOperate } from '../auth/roles.js';
import { AGENT_ONLINE_WITHIN_MS, visibleSiteOf, type SiteDirectory, type SiteListing } from './site-directory.js';
import type { FleetState } from './fleet-state.js';
import type { StatusBoard } from './status-board.js';
import { HttpError, readJson, sendJson, type AuthedContext, type WebRoute } from './http-kit.js';
import { remediationFor } from './remediation.js';

export interface FleetRoutesDeps {
  directory: SiteDirectory;
  fleet: FleetState;
  /** The findings of each site's newest results (the catalogue's verdicts). */
  board: Pick<StatusBoard, 'findings'>;
  relational: RelationalStore;
  /** Firing alerts per site id (0 until alerting lands). */
  firingAlerts(siteId: string): number;
  /** Asks the site's connected agents to run probes; resolves to how many were asked. */
  runNow(siteId: string, probes: (typeof PROBE_NAMES)[number][]): Promise<number>;
}

export function fleetRoutes(deps: FleetRoutesDeps): WebRoute[] {
  return [
    {
      method: 'GET',
      path: '/api/fleet',
      access: 'api',
      async handle(ctx) {
        const { viewer } = ctx as AuthedContext;
        const rows = (await deps.directory.visibleSites(viewer)).map((listing) => rowOf(deps, listing));
        sendJson(ctx.res, 200, { rows, generatedAt: Date.now() } satisfies Fleet);
      },
    },
    {
      method: 'GET',
      path: /^\/api\/sites\/(?<siteId>[^/]+)$/,
      access: 'api',
      async handle(ctx) {
        const listing = await visibleSiteOf(deps.directory, ctx);
        const agents = await deps.relational.listAgents(listing.siteId);
        const onlineSince = new Date(Date.now() - AGENT_ONLINE_WITHIN_MS).toISOString();
        const row = rowOf(deps, listing);
        const detail: SiteDetail = {
          row,
          sipAlgChecks: deps.fleet.sipAlgChecks(listing.siteId),
          agents: agents.map((a) => ({ id: a.id, hostname: a.hostname, version: a.version, lastSeenAt: a.lastSeenAt, online: a.lastSeenAt >= onlineSince })),
          remediation: remediationFor(deps.board.findings(listing.siteId)),
        };
        sendJson(ctx.res, 200, detail);
      },
    },
    {
      method: 'POST',
      path: /^\/api\/sites\/(?<siteId>[^/]+)\/run-now$/,
      access: 'api',
      async handle(ctx) {
        if (!canOperate((ctx as AuthedContext).viewer)) throw new HttpError(403, 'viewers cannot run checks: ask a technician or admin');
        const listing = await visibleSiteOf(deps.directory, ctx);
        const body = (await readJson(ctx.req)) as { probes?: unknown };
        const parsed = runNowSchema.safeParse({ probes: body.probes ?? ['sip-alg', 'stun-mapping'] });
        if (!parsed.success) throw new HttpError(400, `probes must be a non-empty list of ${PROBE_NAMES.join(', ')}`);
        // Recorded for servers holding the site's agents elsewhere, and sent to those connected here.
        await deps.relational.requestRunNow(listing.siteId, parsed.data.probes);
        const asked = await deps.runNow(listing.siteId, parsed.data.probes);
        sendJson(ctx.res, 202, { ok: true, agentsAsked: asked, probes: parsed.data.probes });
      },
    },
  ];
}

/** rowOf is a site's fleet row: its listing, firing alerts and newest results. */
export function rowOf(deps: Pick<FleetRoutesDeps, 'fleet' | 'board' | 'firingAlerts'>, listing: SiteListing): FleetRow {
  return deps.fleet.row({ ...listing, firingAlerts: deps.firingAlerts(listing.siteId) }, deps.board.findings(listing.siteId));
}
