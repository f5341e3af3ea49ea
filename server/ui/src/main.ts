/**
 * The dashboard's entry: who is logged in, the header, the live feed, and the page for the path
 * (`/` fleet, `/sites/:id` site, `/alerts`, `/settings`). Links between pages are plain links: each
 * page load is one small bundle already cached, which keeps the pages simple.
 */
import './style.css';
import { getJson, loadSession, send, type SessionUser } from './api.js';
import { fleetSchema } from '@algwatch/protocol/dashboard';
import { connectLive } from './live.js';
import { esc } from './format.js';
import { showFleet } from './pages/fleet.js';
import { showSite } from './pages/site.js';
import { showAlerts } from './pages/alerts.js';
import { showSettings } from './pages/settings.js';

async function start(): Promise<void> {
  const top = document.getElementById('top') as HTMLElement;
  const page = document.getElementById('page') as HTMLElement;
  // The page's data is fetched alongside the session, not after it: one round trip less to the
  // first screen. The session's 401 sends the browser to the login form either way.
  const session = loadSession();
  const shown = route(page, session);
  const user = await session;
  top.innerHTML = `
    <nav><strong>algwatch</strong>
      <a href="/">Fleet</a><a href="/alerts">Alerts</a><a href="/settings">Settings</a>
      <span class="spacer"></span>
      <span id="live" class="live off" title="live updates">● live</span>
      <span class="who">${esc(user.name)} (${user.role}${user.tenants ? `: ${esc(user.tenants.join(', '))}` : ''})</span>
      <button id="logout" type="button">Log out</button>
    </nav>`;
  for (const link of top.querySelectorAll('a')) if (link.getAttribute('href') === currentSection()) link.classList.add('current');
  top.querySelector('#logout')?.addEventListener('click', async () => {
    await send('POST', '/logout').catch(() => {});
    location.href = '/login';
  });
  connectLive((connected) => {
    const live = document.getElementById('live');
    live?.classList.toggle('off', !connected);
    if (live) live.dataset.connected = String(connected);
  });
  await shown;
}

function currentSection(): string {
  const path = location.pathname;
  return path.startsWith('/alerts') ? '/alerts' : path.startsWith('/settings') ? '/settings' : '/';
}

async function route(page: HTMLElement, session: Promise<SessionUser>): Promise<void> {
  const site = /^\/sites\/([^/]+)$/.exec(location.pathname);
  // Alert messages link to /sites/TENANT/SITE (names): find the site's id in the fleet.
  const byName = /^\/sites\/([^/]+)\/([^/]+)$/.exec(location.pathname);
  if (byName) {
    const [tenant, name] = [decodeURIComponent(byName[1] as string), decodeURIComponent(byName[2] as string)];
    const row = (await getJson('/api/fleet', fleetSchema)).rows.find((r) => r.tenant === tenant && r.site === name);
    if (!row) return void (page.innerHTML = '<h1>No such site</h1><p><a href="/">Back to the fleet</a></p>');
    history.replaceState(null, '', `/sites/${encodeURIComponent(row.siteId)}`);
    return route(page, session);
  }
  try {
    if (site) await showSite(page, decodeURIComponent(site[1] as string), await session);
    else if (location.pathname === '/alerts') await showAlerts(page, await session);
    else if (location.pathname === '/settings') await showSettings(page, await session);
    else await showFleet(page);
  } catch (error) {
    page.innerHTML = `<p class="error">${esc((error as Error).message)}</p>`;
  }
}

void start();
