/**
 * The live feed: one socket.io connection to `/dashboard` (the session cookie goes with the
 * handshake), every event parsed with the protocol's schema before a page sees it.
 */
import { io, type Socket } from 'socket.io-client';
import { DASHBOARD_NAMESPACE, siteUpdateSchema, type DashboardToServerEvents, type ServerToDashboardEvents, type SiteUpdate } from '@algwatch/protocol/dashboard';

type Listener = (update: SiteUpdate) => void;
const listeners = new Set<Listener>();
let socket: Socket<ServerToDashboardEvents, DashboardToServerEvents> | null = null;

/** connectLive opens the feed once; `onState` hears whether it is connected. */
export function connectLive(onState: (connected: boolean) => void): void {
  if (socket) return;
  socket = io(DASHBOARD_NAMESPACE, { transports: ['websocket'] });
  socket.on('connect', () => onState(true));
  socket.on('disconnect', () => onState(false));
  socket.on('connect_error', (error) => {
    onState(false);
    // The session ended (logout elsewhere, expiry): the login form, not a silent dead page.
    if (error.message === 'log in first') location.href = `/login?next=${encodeURIComponent(location.pathname)}`;
  });
  socket.on('siteUpdate', (raw: unknown) => {
    const update = siteUpdateSchema.safeParse(raw);
    if (!update.success) return console.warn('dashboard: ignored a malformed siteUpdate', update.error);
    for (const listener of listeners) listener(update.data);
  });
}

/** onSiteUpdate subscribes a page; the returned function unsubscribes it. */
export function onSiteUpdate(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
