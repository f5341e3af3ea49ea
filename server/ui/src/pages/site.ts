/**
 * The site page: state and problems, the latest SIP ALG check as a diff, what to do, the agents,
 * history charts over a chosen range, and "Run check now", which asks the site's agents and shows
 * the result when it lands (live, from the socket).
 */
import { siteDetailSchema, siteHistorySchema, type SiteDetail } from '@algwatch/protocol/dashboard';
import { ApiError, getJson, send, type SessionUser } from '../api.js';
import { onSiteUpdate } from '../live.js';
import { ago, bindingText, clock, esc, natText, stateBadge } from '../format.js';
import { sipDiffHtml } from './sip-diff.js';
import { drawHistory } from './history-charts.js';

const RANGES: Array<[string, number]> = [
  ['1 hour', 3600_000],
  ['6 hours', 6 * 3600_000],
  ['24 hours', 24 * 3600_000],
  ['7 days', 7 * 24 * 3600_000],
  ['30 days', 30 * 24 * 3600_000],
];

export async function showSite(page: HTMLElement, siteId: string, user: SessionUser): Promise<() => void> {
  const path = `/api/sites/${encodeURIComponent(siteId)}`;
  let detail: SiteDetail;
  try {
    detail = await getJson(path, siteDetailSchema);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      page.innerHTML = '<h1>No such site</h1><p><a href="/">Back to the fleet</a></p>';
      return () => {};
    }
    throw error;
  }
  const canRun = user.role !== 'viewer';
  page.innerHTML = `
    <p><a href="/">← Fleet</a></p>
    <h1 id="site-title"></h1>
    <section id="site-summary"></section>
    <p class="actions">${canRun ? '<button id="run-now" type="button">Run check now</button>' : ''}<span id="run-status" role="status"></span></p>
    <section><h2>Latest SIP ALG check</h2><div id="sip-diff"></div></section>
    <section><h2>What to do</h2><div id="remediation"></div></section>
    <section><h2>Agents</h2><div id="agents"></div></section>
    <section><h2>History</h2>
      <label>Range <select id="range">${RANGES.map(([label, ms]) => `<option value="${ms}"${ms === 24 * 3600_000 ? ' selected' : ''}>${label}</option>`).join('')}</select></label>
      <div id="history"></div>
    </section>`;
  const $ = (id: string) => page.querySelector(`#${id}`) as HTMLElement;
  const render = () => {
    const { row } = detail;
    $('site-title').innerHTML = `${esc(row.tenant)} / ${esc(row.site)} ${stateBadge(row.state)}`;
    $('site-summary').innerHTML =
      `<dl class="facts"><dt>Agents</dt><dd>${row.agentsOnline} online, ${row.agentsTotal - row.agentsOnline} offline</dd>` +
      `<dt>Public address</dt><dd>${esc(row.publicAddress ?? '—')}</dd><dt>NAT</dt><dd>${natText(row)}</dd>` +
      `<dt>Binding lifetime</dt><dd>${bindingText(row)}</dd><dt>Last result</dt><dd class="last-result">${row.lastResultAt ? `${clock(row.lastResultAt)} (${ago(row.lastResultAt)})` : 'no result yet'}</dd></dl>` +
      (row.problems.length > 0 ? `<ul class="problems">${row.problems.map((p) => `<li>${esc(p)}</li>`).join('')}</ul>` : '');
    $('sip-diff').innerHTML = sipDiffHtml(detail.sipAlgChecks);
    $('remediation').innerHTML = detail.remediation.length === 0 ? '<p class="empty">Nothing to fix.</p>' : detail.remediation.map((r) => `<h3>${esc(r.title)}</h3><p>${esc(r.text)}</p>`).join('');
    $('agents').innerHTML =
      detail.agents.length === 0
        ? '<p class="empty">No agent connected yet.</p>'
        : `<ul>${detail.agents.map((a) => `<li>${esc(a.id)} on ${esc(a.hostname)} (${esc(a.version)}): ${a.online ? 'online' : 'offline'}, last seen ${clock(Date.parse(a.lastSeenAt))}</li>`).join('')}</ul>`;
  };
  render();

  let freeCharts = () => {};
  const loadHistory = async () => {
    const rangeMs = Number(($('range') as HTMLSelectElement).value);
    const to = Date.now();
    try {
      const history = await getJson(`${path}/history?from=${to - rangeMs}&to=${to}`, siteHistorySchema);
      freeCharts();
      freeCharts = drawHistory($('history'), history);
    } catch (error) {
      $('history').innerHTML = `<p class="error">${esc((error as Error).message)}</p>`;
    }
  };
  $('range').addEventListener('change', () => void loadHistory());
  void loadHistory();

  let waitingSince: number | null = null;
  page.querySelector('#run-now')?.addEventListener('click', async () => {
    const status = $('run-status');
    try {
      const reply = (await send('POST', `${path}/run-now`, { probes: ['sip-alg', 'stun-mapping'] })) as { agentsAsked: number };
      waitingSince = Date.now();
      status.textContent = reply.agentsAsked > 0 ? `Asked ${reply.agentsAsked} agent(s); waiting for the result…` : 'No agent of this site is connected to this server: the request is kept for the server that holds it.';
    } catch (error) {
      status.textContent = (error as Error).message;
    }
  });

  const stop = onSiteUpdate((update) => {
    if (update.row.siteId !== siteId) return;
    void getJson(path, siteDetailSchema).then((fresh) => {
      detail = fresh;
      render();
      const newest = Math.max(...update.results.map((r) => r.startedAt));
      if (waitingSince !== null && update.results.some((r) => r.probe === 'sip-alg')) {
        $('run-status').textContent = `Check result arrived at ${clock(newest)}.`;
        waitingSince = null;
      }
    });
  });
  return () => {
    stop();
    freeCharts();
  };
}
