/**
 * The fleet page: one row per site, worst first, filtered by tenant and state, searched by name or
 * address. Built as one HTML string per render (fast for thousands of rows); a live update replaces
 * only its site's row, without re-sorting under the user's eyes.
 */
import { fleetSchema, SITE_STATES, type FleetRow } from '@algwatch/protocol/dashboard';
import { getJson } from '../api.js';
import { onSiteUpdate } from '../live.js';
import { ago, bindingText, esc, natText, stateBadge } from '../format.js';

const FIRST_ROWS = 200;
const STATE_RANK: Record<FleetRow['state'], number> = { critical: 0, warning: 1, unknown: 2, ok: 3 };

interface FleetView {
  rows: Map<string, FleetRow>;
  tenant: string;
  state: string;
  search: string;
  sort: 'worst' | 'site' | 'last';
}

export async function showFleet(page: HTMLElement): Promise<() => void> {
  const params = new URLSearchParams(location.search);
  const fleet = await getJson('/api/fleet', fleetSchema);
  const view: FleetView = {
    rows: new Map(fleet.rows.map((row) => [row.siteId, row])),
    tenant: params.get('tenant') ?? '',
    state: params.get('state') ?? '',
    search: params.get('q') ?? '',
    sort: (params.get('sort') as FleetView['sort'] | null) ?? 'worst',
  };
  const tenants = [...new Set(fleet.rows.map((row) => row.tenant))].sort();
  page.innerHTML = `
    <h1>Fleet</h1>
    <form class="toolbar" role="search">
      <label>Tenant <select name="tenant"><option value="">all</option>${tenants.map((t) => `<option${t === view.tenant ? ' selected' : ''}>${esc(t)}</option>`).join('')}</select></label>
      <label>Status <select name="state"><option value="">all</option>${SITE_STATES.map((s) => `<option${s === view.state ? ' selected' : ''}>${s}</option>`).join('')}</select></label>
      <label>Search <input name="q" type="search" value="${esc(view.search)}" placeholder="site, tenant or address"></label>
      <label>Sort <select name="sort">${[['worst', 'worst first'], ['site', 'by name'], ['last', 'latest result']].map(([v, t]) => `<option value="${v}"${v === view.sort ? ' selected' : ''}>${t}</option>`).join('')}</select></label>
      <span class="count" id="fleet-count"></span>
    </form>
    <table class="fleet">
      <thead><tr><th>State</th><th>Tenant</th><th>Site</th><th>Agents</th><th>SIP ALG</th><th>NAT</th><th>Binding</th><th>Keep-alive targets</th><th>Public address</th><th>Alerts</th><th>Last result</th></tr></thead>
      <tbody id="fleet-body"></tbody>
    </table>`;
  const form = page.querySelector('form') as HTMLFormElement;
  const body = page.querySelector('#fleet-body') as HTMLElement;
  const count = page.querySelector('#fleet-count') as HTMLElement;
  // The worst rows first, at once; then the whole table in the next task, so a 5,000-site fleet
  // shows its first screen without waiting for thousands of rows below it to be laid out.
  let generation = 0;
  const render = () => {
    const shown = visibleRows(view).map((row) => row.siteId);
    const current = ++generation;
    const rowsHtml = (ids: string[]) => ids.map((id) => rowHtml(view.rows.get(id) as FleetRow)).join('');
    body.innerHTML = shown.length > 0 ? rowsHtml(shown.slice(0, FIRST_ROWS)) : `<tr><td colspan="11" class="empty">${view.rows.size === 0 ? 'No sites yet: enroll one in Settings or with <code>algwatch-server site add</code>.' : 'No site matches.'}</td></tr>`;
    count.textContent = `${shown.length} of ${view.rows.size} sites`;
    if (shown.length <= FIRST_ROWS) return void performance.mark('fleet-complete');
    // One innerHTML for the whole table (measured: inserting the rest after the first rows took
    // several times longer in Chromium than parsing them all at once).
    setTimeout(() => {
      if (current !== generation) return;
      body.innerHTML = rowsHtml(shown);
      performance.mark('fleet-complete');
    }, 0);
  };
  form.addEventListener('input', () => {
    const data = new FormData(form);
    view.tenant = String(data.get('tenant') ?? '');
    view.state = String(data.get('state') ?? '');
    view.search = String(data.get('q') ?? '').trim().toLowerCase();
    view.sort = String(data.get('sort') ?? 'worst') as FleetView['sort'];
    const query = new URLSearchParams(Object.entries({ tenant: view.tenant, state: view.state, q: view.search, sort: view.sort === 'worst' ? '' : view.sort }).filter(([, v]) => v));
    history.replaceState(null, '', `/${query.size > 0 ? `?${query}` : ''}`);
    render();
  });
  form.addEventListener('submit', (event) => event.preventDefault());
  render();
  // For the bench: the first screen is on the page ('fleet-complete' marks every row).
  performance.mark('fleet-rendered');
  document.body.dataset.fleetRows = String(view.rows.size);

  return onSiteUpdate(({ row }) => {
    const known = view.rows.has(row.siteId);
    view.rows.set(row.siteId, row);
    const existing = body.querySelector(`tr[data-site-id="${CSS.escape(row.siteId)}"]`);
    // A row not on the page yet is either filtered out or comes with a later chunk (which reads
    // the newest row); a new site re-renders.
    if (existing) existing.outerHTML = rowHtml(row);
    else if (!known) render();
  });
}

function visibleRows(view: FleetView): FleetRow[] {
  const search = view.search.toLowerCase();
  const rows = [...view.rows.values()].filter(
    (row) =>
      (!view.tenant || row.tenant === view.tenant) &&
      (!view.state || row.state === view.state) &&
      (!search || row.site.toLowerCase().includes(search) || row.tenant.toLowerCase().includes(search) || (row.publicAddress ?? '').includes(search)),
  );
  const byName = (a: FleetRow, b: FleetRow) => a.tenant.localeCompare(b.tenant) || a.site.localeCompare(b.site);
  if (view.sort === 'site') return rows.sort(byName);
  if (view.sort === 'last') return rows.sort((a, b) => (b.lastResultAt ?? 0) - (a.lastResultAt ?? 0) || byName(a, b));
  return rows.sort((a, b) => STATE_RANK[a.state] - STATE_RANK[b.state] || b.problems.length - a.problems.length || b.firingAlerts - a.firingAlerts || byName(a, b));
}

function rowHtml(row: FleetRow): string {
  const alg = (['udp', 'tcp', 'tls'] as const)
    .map((t) => `<span class="alg ${row.sipAlg[t] ?? 'none'}" title="${t.toUpperCase()}: ${row.sipAlg[t] ?? 'not checked yet'}">${t.toUpperCase()} ${row.sipAlg[t] ?? '—'}</span>`)
    .join(' ');
  const targets = row.targets.length === 0 ? '—' : row.targets.map((t) => `<span class="target ${t.state}">${esc(t.target)} ${esc(t.transport.toUpperCase())} ${t.state}${t.rttMs !== null ? ` ${t.rttMs.toFixed(0)} ms` : ''}</span>`).join(' ');
  return (
    `<tr data-site-id="${esc(row.siteId)}" data-state="${row.state}" title="${esc(row.problems.join('\n'))}">` +
    `<td>${stateBadge(row.state)}</td><td>${esc(row.tenant)}</td>` +
    `<td><a href="/sites/${encodeURIComponent(row.siteId)}">${esc(row.site)}</a></td>` +
    `<td class="${row.agentsTotal > 0 && row.agentsOnline === 0 ? 'bad' : ''}">${row.agentsOnline} online / ${row.agentsTotal - row.agentsOnline} offline</td>` +
    `<td class="alg-cell">${alg}</td><td>${natText(row)}</td><td>${bindingText(row)}</td><td>${targets}</td>` +
    `<td>${esc(row.publicAddress ?? '—')}</td><td>${row.firingAlerts || ''}</td><td class="last-result">${ago(row.lastResultAt)}</td></tr>`
  );
}
