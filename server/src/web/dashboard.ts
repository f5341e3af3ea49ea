/**
 * attachDashboard wires the web side of the HTTP port: the route groups behind one access-checking
 * dispatcher, the browsers' socket.io namespace, the root namespace guard, and the live updates fed
 * by ingest. server.ts calls it once; everything web lives under this folder.
 */
import type { Server } from 'socket.io';
import type { Logger } from 'pino';
import type { ProbeResultMessage } from '@algwatch/protocol/events';
import type { ProbeName } from '@algwatch/protocol/events';
import type { RelationalStore, Site } from '../relational/relational-store.js';
import { SessionStore } from '../auth/session-store.js';
import { UserStore } from '../auth/user-store.js';
import { authRoutes } from './auth-routes.js';
import { attachDashboardNamespace } from './dashboard-namespace.js';
import { FleetState } from './fleet-state.js';
import { StatusBoard } from './status-board.js';
import type { HandshakeGuard } from '../ingest/handshake-guard.js';
import { fleetRoutes } from './fleet-routes.js';
import { healthRoutes } from './health-routes.js';
import { historyRoutes } from './history-routes.js';
import type { TimeSeriesStore } from '../storage/time-series.js';
import { createWebHandler, type WebHandler } from './http-app.js';
import { LiveUpdates } from './live-updates.js';
import { LoginThrottle, type LoginThrottleOptions } from './login-throttle.js';
import { SiteDirectory } from './site-directory.js';
import { uiRoutes } from './ui-routes.js';
import { siteAdminRoutes } from './site-admin-routes.js';
import { userRoutes } from './user-routes.js';
import { channelRoutes } from './channel-routes.js';
import { openApiRoutes } from './openapi.js';
import { alertRoutes } from './alert-routes.js';
import { AlertAckStore } from './alert-ack-store.js';
import { FiringAlertCounts } from './firing-alert-counts.js';
import { AlertStore } from '../alerting/alert-store.js';
import { SilenceStore } from '../alerting/silence-store.js';
import { ChannelStore } from '../alerting/channels/channel-store.js';
import { WebAuth } from './web-auth.js';
import { startRedisRelay, type UpdateRelay } from './update-relay.js';

export interface DashboardDeps {
  io: Server;
  /** The socket.io handshake guard: admitted browsers stop counting as unauthenticated connections. */
  handshakes: HandshakeGuard;
  relational: RelationalStore;
  timeSeries: TimeSeriesStore;
  log: Logger;
  /** https://... when the dashboard is reached over https (Secure cookies). */
  publicUrl?: string;
  health: () => object;
  /** The server's version, for the OpenAPI document. */
  version: string;
  runNow(siteId: string, probes: ProbeName[]): Promise<number>;
  pushConfig(siteId: string): Promise<number>;
  disconnectSite(siteId: string): void;
  loginThrottle?: LoginThrottleOptions;
  /** redis://...: share live updates with the other server processes (--redis-url). */
  redisUrl?: string;
  /** The Redis channel of the updates (tests give each run its own). */
  relayChannel?: string;
  /** How often open sockets' sessions are checked again (SESSION_RECHECK_MS unless given). */
  sessionRecheckMs?: number;
}

export interface Dashboard {
  handler: WebHandler;
  onResults(site: Site, results: ProbeResultMessage[]): void;
  close(): Promise<void>;
}

/** attachDashboard rejects with one line when --redis-url is given and Redis cannot be reached. */
export async function attachDashboard(deps: DashboardDeps): Promise<Dashboard> {
  const users = new UserStore(deps.relational.db);
  const auth = new WebAuth(new SessionStore(deps.relational.db, users), { secureCookies: deps.publicUrl?.startsWith('https://') ?? false });
  const directory = new SiteDirectory(deps.relational.db);
  const fleet = new FleetState();
  const board = new StatusBoard();
  const alertStore = new AlertStore(deps.relational.db);
  const firing = new FiringAlertCounts(alertStore, deps.log);
  const firingAlerts = (siteId: string) => firing.count(siteId);
  const publisher = attachDashboardNamespace(deps.io, auth, deps.handshakes, deps.sessionRecheckMs);
  let relay: UpdateRelay | undefined;
  if (deps.redisUrl) {
    relay = await startRedisRelay({
      url: deps.redisUrl,
      ...(deps.relayChannel ? { channel: deps.relayChannel } : {}),
      deliver: (tenant, update) => {
        // Results ingested by another process: this process's fleet state learns them too.
        fleet.record(update.row.siteId, update.results);
        board.record({ id: update.row.siteId }, update.results);
        publisher.publish(tenant, update);
      },
      log: deps.log,
    }).catch((error: Error) => {
      publisher.stop();
      throw error;
    });
  }
  const live = new LiveUpdates({ fleet, board, directory, publisher, ...(relay ? { relay } : {}), firingAlerts, log: deps.log });
  const handler = createWebHandler({
    routes: [
      ...healthRoutes(deps.health),
      ...authRoutes({ users, auth, throttle: new LoginThrottle(deps.loginThrottle), log: deps.log }),
      ...fleetRoutes({ directory, fleet, board, relational: deps.relational, firingAlerts, runNow: deps.runNow }),
      ...historyRoutes({ directory, timeSeries: deps.timeSeries }),
      ...siteAdminRoutes({
        relational: deps.relational,
        directory,
        ...(deps.publicUrl ? { publicUrl: deps.publicUrl } : {}),
        disconnectSite: deps.disconnectSite,
        pushConfig: deps.pushConfig,
      }),
      ...userRoutes(users),
      ...channelRoutes({ channels: new ChannelStore(deps.relational.db), ...(process.env.ALGWATCH_SMTP_FROM ? { smtpFrom: process.env.ALGWATCH_SMTP_FROM } : {}) }),
      ...alertRoutes({ alerts: alertStore, silences: new SilenceStore(deps.relational.db), acks: new AlertAckStore(deps.relational.db), directory }),
      ...openApiRoutes(deps.version),
      ...uiRoutes(),
    ],
    auth,
    log: deps.log,
  });
  const pruning = setInterval(() => void auth.sessions.pruneExpired().catch(() => {}), 3600_000);
  pruning.unref();
  return {
    handler,
    onResults: (site, results) => live.onResults(site, results),
    async close() {
      clearInterval(pruning);
      firing.stop();
      live.stop();
      publisher.stop();
      await relay?.close();
    },
  };
}
