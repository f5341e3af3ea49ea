/**
 * The server -> browser contract of the dashboard: the JSON API's fleet and site shapes and the
 * socket.io events on namespace `/dashboard`, defined once. The server builds these objects and the
 * browser parses every event with these schemas before using it.
 */
import * as z from './zod.js';
import { NAT_BEHAVIOURS } from './measurements.js';
import { sipAlgStatusSchema, SIP_TRANSPORTS, sipRewriteSchema } from './check-report.js';
import { probeResultSchema } from './events.js';

export const DASHBOARD_NAMESPACE = '/dashboard';

/** A site's overall state, worst first: what the fleet sorts by. */
export const SITE_STATES = ['critical', 'warning', 'unknown', 'ok'] as const;
export type SiteState = (typeof SITE_STATES)[number];

export const keepaliveTargetStateSchema = z.object({
  target: z.string(),
  transport: z.string(),
  /** up: the last keep-alive was answered; down: it was not. */
  state: z.enum(['up', 'down']),
  rttMs: z.nullable(z.number()),
  lossPct: z.nullable(z.number()),
});
export type KeepaliveTargetState = z.infer<typeof keepaliveTargetStateSchema>;

/** FleetRow is one site on the fleet page: the newest of everything its agents measured. */
export const fleetRowSchema = z.object({
  siteId: z.string(),
  tenant: z.string(),
  site: z.string(),
  agentsOnline: z.int(),
  agentsTotal: z.int(),
  /** SIP ALG status per transport from the latest check; null until one ran. */
  sipAlg: z.object({ udp: z.nullable(sipAlgStatusSchema), tcp: z.nullable(sipAlgStatusSchema), tls: z.nullable(sipAlgStatusSchema) }),
  natMapping: z.nullable(z.enum(NAT_BEHAVIOURS)),
  natFiltering: z.nullable(z.enum(NAT_BEHAVIOURS)),
  /** Idle UDP binding lifetime in seconds; null when unmeasured or when bindings outlived the maximum. */
  bindingLifetimeS: z.nullable(z.number()),
  bindingOutlivedS: z.nullable(z.number()),
  targets: z.array(keepaliveTargetStateSchema),
  publicAddress: z.nullable(z.string()),
  firingAlerts: z.int(),
  /** Epoch ms of the newest result; null when none arrived since the server started. */
  lastResultAt: z.nullable(z.number()),
  state: z.enum(SITE_STATES),
  /** One line per problem, worst first (what made `state`). */
  problems: z.array(z.string()),
});
export type FleetRow = z.infer<typeof fleetRowSchema>;

export const fleetSchema = z.object({ rows: z.array(fleetRowSchema), generatedAt: z.number() });
export type Fleet = z.infer<typeof fleetSchema>;

/** The latest SIP ALG check of one transport, for the site page's diff. */
export const sipAlgCheckSchema = z.object({
  transport: z.enum(SIP_TRANSPORTS),
  status: sipAlgStatusSchema,
  at: z.number(),
  rewrites: z.array(sipRewriteSchema),
  reason: z.optional(z.string()),
});
export type SipAlgCheck = z.infer<typeof sipAlgCheckSchema>;

export const siteAgentSchema = z.object({ id: z.string(), hostname: z.string(), version: z.string(), lastSeenAt: z.string(), online: z.boolean() });

export const siteDetailSchema = z.object({
  row: fleetRowSchema,
  sipAlgChecks: z.array(sipAlgCheckSchema),
  agents: z.array(siteAgentSchema),
  /** What to do about each problem, from the findings catalogue. */
  remediation: z.array(z.object({ title: z.string(), text: z.string() })),
});
export type SiteDetail = z.infer<typeof siteDetailSchema>;

/** One point of a history chart: epoch ms and a value (null: no value at that time). */
export const historySeriesSchema = z.object({
  name: z.string(),
  unit: z.string(),
  points: z.array(z.tuple([z.number(), z.nullable(z.number())])),
});
export const siteHistorySchema = z.object({
  from: z.number(),
  to: z.number(),
  series: z.array(historySeriesSchema),
  /** When the public address became a new one, oldest first. */
  addressChanges: z.array(z.object({ at: z.number(), address: z.string() })),
});
export type SiteHistory = z.infer<typeof siteHistorySchema>;

export const siteUpdateSchema = z.object({ row: fleetRowSchema, results: z.array(probeResultSchema) });
export type SiteUpdate = z.infer<typeof siteUpdateSchema>;

/** Events the server sends to a logged-in browser; only of the tenants the user may see. */
export interface ServerToDashboardEvents {
  /** A site's row changed because new results were stored; carries those results. */
  siteUpdate: (update: SiteUpdate) => void;
}

/** The browser sends nothing over the socket: changes go through the JSON API with its CSRF token. */
export type DashboardToServerEvents = Record<string, never>;
