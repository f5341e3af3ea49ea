/**
 * The browsers' socket.io namespace `/dashboard` (socket.io's root namespace admits nobody:
 * ingest/handshake-guard.ts).
 *
 * A browser connects with its session cookie (sent with the handshake; socket.io shares the HTTP
 * port, so the cookie is there). Each socket joins one room per tenant it may see, or the
 * every-tenant room for admins and unlimited users; a site's update is emitted to its tenant's
 * room and the every-tenant room only, so a tenant-limited user's socket never receives another
 * tenant's events. Sessions are checked again every minute: a logged-out or removed user's open
 * socket is closed.
 */
import type { Namespace, Server, Socket } from 'socket.io';
import { DASHBOARD_NAMESPACE, type DashboardToServerEvents, type ServerToDashboardEvents, type SiteUpdate } from '@algwatch/protocol/dashboard';
import type { Viewer } from '../auth/roles.js';
import type { HandshakeGuard } from '../ingest/handshake-guard.js';
import type { WebAuth } from './web-auth.js';
import { tenantScope } from './site-directory.js';

const EVERY_TENANT_ROOM = 'tenants:*';
const tenantRoom = (tenant: string) => `tenant:${tenant}`;
export const SESSION_RECHECK_MS = 60_000;
export const LOGIN_REQUIRED = 'log in first';
export const CROSS_SITE_REFUSED = 'cross-site connection refused';

function sameHost(origin: string, host: string | undefined): boolean {
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

interface DashboardSocketData {
  viewer: Viewer;
}
type DashboardNamespace = Namespace<DashboardToServerEvents, ServerToDashboardEvents, Record<string, never>, DashboardSocketData>;
type DashboardSocket = Socket<DashboardToServerEvents, ServerToDashboardEvents, Record<string, never>, DashboardSocketData>;

export interface DashboardPublisher {
  /** publish sends a site's update to the browsers allowed to see its tenant. */
  publish(tenant: string, update: SiteUpdate): void;
  /** watched: whether any browser is connected to this process (skip building updates otherwise). */
  watched(): boolean;
  stop(): void;
}

export function attachDashboardNamespace(io: Server, auth: WebAuth, handshakes: HandshakeGuard, sessionRecheckMs = SESSION_RECHECK_MS): DashboardPublisher {
  const namespace = io.of(DASHBOARD_NAMESPACE) as unknown as DashboardNamespace;
  namespace.use((socket, next) => {
    // A page of another site must not ride the user's cookie into this socket (cross-site
    // WebSocket hijacking): browsers send Origin with the handshake, and it must be this host.
    const origin = socket.handshake.headers.origin;
    if (origin !== undefined && !sameHost(origin, socket.handshake.headers.host)) return next(new Error(CROSS_SITE_REFUSED));
    auth.sessionOf(socket.request).then(
      (session) => {
        if (!session) return next(new Error(LOGIN_REQUIRED));
        socket.data = { viewer: session.user };
        handshakes.admitted(socket);
        next();
      },
      () => next(new Error('the server could not check the session: try again')),
    );
  });
  namespace.on('connection', (socket: DashboardSocket) => {
    const tenants = tenantScope(socket.data.viewer);
    void socket.join(tenants === null ? EVERY_TENANT_ROOM : tenants.map(tenantRoom));
  });

  const recheck = setInterval(() => {
    for (const socket of namespace.sockets.values()) {
      auth.sessionOf(socket.request).then(
        (session) => {
          if (!session) socket.disconnect(true);
        },
        () => {},
      );
    }
  }, sessionRecheckMs);
  recheck.unref();

  return {
    publish(tenant, update) {
      namespace.to([EVERY_TENANT_ROOM, tenantRoom(tenant)]).emit('siteUpdate', update);
    },
    watched: () => namespace.sockets.size > 0,
    stop: () => clearInterval(recheck),
  };
}
