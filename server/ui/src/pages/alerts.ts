/**
 * The alerts page: firing alerts worst first (acknowledge), silences and maintenance windows (add,
 * end), and the last week's state changes. Viewers see the lists without the buttons.
 */
import * as z from '@algwatch/protocol/zod';
import { fleetSchema } from '@algwatch/protocol/dashboard';
import { getJson, send, type SessionUser } from '../api.js';
import { clock, esc } from '../format.js';

const alertsSchema = z.object({
  firing: z.array(
    z.object({
      fingerprint: z.string(),
      rule: z.string(),
      severity: z.string(),
      tenant: z.string(),
      siteId: z.string(),
      site: z.string(),
      startsAt: z.nullable(z.number()),
      summary: z.string(),
      acknowledged: z.nullable(z.object({ by: z.string(), at: z.string() })),
    }),
  ),
  recent: z.array(z.object({ rule: z.string(), state: z.string(), tenant: z.string(), siteName: z.string(), summary: z.string(), at: z.string() })),
  silences: z.array(z.object({ id: z.string(), siteName: z.nullable(z.string()), rule: z.nullable(z.string()), startsAt: z.string(), endsAt: z.string(), reason: z.string() })),
});
const RANK: Record<string, number> = { critical: 0, warning: 1, info: 2 };

export async function showAlerts(page: HTMLElement, user: SessionUser): Promise<void> {
  const operator = user.role !== 'viewer';
  const [alerts, fleet] = await Promise.all([getJson('/api/alerts', alertsSchema), getJson('/api/fleet', fleetSchema)]);
  const firing = [...alerts.firing].sort((a, b) => (RANK[a.severity] ?? 3) - (RANK[b.severity] ?? 3) || (a.startsAt ?? 0) - (b.startsAt ?? 0));
  const now = Date.now();
  page.innerHTML = `
    <h1>Alerts</h1>
    <section><h2>Firing</h2>${
      firing.length === 0
        ? '<p class="empty">Nothing firing.</p>'
        : `<table id="firing"><thead><tr><th>Severity</th><th>Site</th><th>Alert</th><th>Since</th><th>Acknowledged</th></tr></thead><tbody>${firing
            .map(
              (a) =>
                `<tr data-fingerprint="${esc(a.fingerprint)}"><td><span class="badge ${esc(a.severity)}">${esc(a.severity)}</span></td><td><a href="/sites/${encodeURIComponent(a.siteId)}">${esc(a.tenant)} / ${esc(a.site)}</a></td>` +
                `<td>${esc(a.summary)}</td><td>${a.startsAt ? clock(a.startsAt) : ''}</td><td>${a.acknowledged ? `${esc(a.acknowledged.by)}, ${clock(Date.parse(a.acknowledged.at))}` : operator ? '<button type="button" class="ack">Acknowledge</button>' : 'no'}</td></tr>`,
            )
            .join('')}</tbody></table>`
    }</section>
    <section><h2>Silences and maintenance windows</h2>
      ${alerts.silences.length === 0 ? '<p class="empty">None.</p>' : `<table id="silences"><thead><tr><th>Site</th><th>Rule</th><th>From</th><th>Until</th><th>Reason</th><th></th></tr></thead><tbody>${alerts.silences
        .map((s) => `<tr data-silence="${esc(s.id)}"><td>${esc(s.siteName ?? 'every site')}</td><td>${esc(s.rule ?? 'every rule')}</td><td>${Date.parse(s.startsAt) > now ? `${clock(Date.parse(s.startsAt))} (maintenance window)` : 'now'}</td><td>${clock(Date.parse(s.endsAt))}</td><td>${esc(s.reason)}</td><td>${operator ? '<button type="button" class="end-silence">End</button>' : ''}</td></tr>`)
        .join('')}</tbody></table>`}
      ${operator ? `<form class="inline" id="add-silence"><label>Site <select name="siteId">${fleet.rows.map((r) => `<option value="${esc(r.siteId)}">${esc(r.tenant)} / ${esc(r.site)}</option>`).join('')}</select></label>
        <label>Starts <input name="startsAt" type="datetime-local"></label><label>Hours <input name="hours" type="number" min="0.25" step="0.25" value="2" required></label>
        <label>Reason <input name="reason" required></label><button type="submit">Silence</button></form><p id="silence-status" role="status"></p>` : ''}
    </section>
    <section><h2>Last 7 days</h2>${alerts.recent.length === 0 ? '<p class="empty">No state change.</p>' : `<ul>${alerts.recent.map((h) => `<li>${clock(Date.parse(h.at))}: ${esc(h.tenant)} / ${esc(h.siteName)} ${esc(h.state)}: ${esc(h.summary)}</li>`).join('')}</ul>`}</section>`;

  const reload = () => void showAlerts(page, user);
  for (const button of page.querySelectorAll<HTMLButtonElement>('button.ack')) {
    button.addEventListener('click', async () => {
      await send('POST', `/api/alerts/${(button.closest('tr') as HTMLElement).dataset.fingerprint as string}/ack`);
      reload();
    });
  }
  for (const button of page.querySelectorAll<HTMLButtonElement>('button.end-silence')) {
    button.addEventListener('click', async () => {
      await send('DELETE', `/api/silences/${encodeURIComponent((button.closest('tr') as HTMLElement).dataset.silence as string)}`);
      reload();
    });
  }
  page.querySelector('#add-silence')?.addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    const start = form.get('startsAt') ? new Date(String(form.get('startsAt'))).getTime() : Date.now();
    const endsAt = new Date(start + Number(form.get('hours')) * 3600_000).toISOString();
    try {
      await send('POST', '/api/silences', { siteId: form.get('siteId'), ...(form.get('startsAt') ? { startsAt: new Date(start).toISOString() } : {}), endsAt, reason: form.get('reason') });
      reload();
    } catch (error) {
      (page.querySelector('#silence-status') as HTMLElement).textContent = (error as Error).message;
    }
  });
}
