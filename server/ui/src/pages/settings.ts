/**
 * Settings: tenants; sites (enroll, showing the one-line agent command once; revoke); a site's
 * keep-alive targets and probe schedule; notification channels with a test button; users (admins
 * only). Viewers see the lists without the forms.
 */
import * as z from '@algwatch/protocol/zod';
import { fleetSchema } from '@algwatch/protocol/dashboard';
import { scheduleSchema, sipTargetSchema } from '@algwatch/protocol/events';
import { getJson, send, type SessionUser } from '../api.js';
import { esc } from '../format.js';

const tenantsSchema = z.object({ tenants: z.array(z.object({ name: z.string(), sites: z.number() })) });
const usersSchema = z.object({ users: z.array(z.object({ name: z.string(), role: z.string(), tenants: z.nullable(z.array(z.string())) })) });
const channelsSchema = z.object({
  channels: z.array(
    z.object({
      name: z.string(),
      tenant: z.nullable(z.string()),
      kind: z.string(),
      destination: z.string(),
      delivery: z.object({ lastSuccessAt: z.nullable(z.string()), failureCount: z.number(), lastError: z.nullable(z.string()) }),
    }),
  ),
});
const configSchema = z.object({ targets: z.array(sipTargetSchema), schedule: scheduleSchema });

export async function showSettings(page: HTMLElement, user: SessionUser): Promise<void> {
  const operator = user.role !== 'viewer';
  const [tenants, fleet] = await Promise.all([getJson('/api/tenants', tenantsSchema), getJson('/api/fleet', fleetSchema)]);
  page.innerHTML = `
    <h1>Settings</h1>
    <section><h2>Tenants</h2><ul id="tenants">${tenants.tenants.map((t) => `<li>${esc(t.name)}: ${t.sites} site${t.sites === 1 ? '' : 's'}</li>`).join('') || '<li class="empty">none yet</li>'}</ul></section>
    <section><h2>Sites</h2>
      ${operator ? `<form class="inline" id="enroll"><label>Site <input name="name" required pattern="[A-Za-z0-9][A-Za-z0-9._-]{0,63}"></label>
        <label>Tenant <input name="tenant" list="tenant-names" ${user.tenants?.length === 1 ? `value="${esc(user.tenants[0] as string)}"` : ''}></label>
        <datalist id="tenant-names">${tenants.tenants.map((t) => `<option value="${esc(t.name)}">`).join('')}</datalist>
        <button type="submit">Enroll</button></form>
      <div id="enrolled" role="status"></div>` : ''}
      <table class="sites"><thead><tr><th>Tenant</th><th>Site</th><th>Agents</th><th></th></tr></thead><tbody>
      ${fleet.rows.map((row) => `<tr data-site-id="${esc(row.siteId)}"><td>${esc(row.tenant)}</td><td><a href="/sites/${encodeURIComponent(row.siteId)}">${esc(row.site)}</a></td><td>${row.agentsOnline}/${row.agentsTotal}</td><td><button type="button" class="config">Targets and schedule</button>${operator ? ' <button type="button" class="revoke">Revoke tokens</button>' : ''}</td></tr>`).join('')}
      </tbody></table>
      <div id="site-config"></div>
    </section>
    ${user.role === 'admin' ? `<section><h2>Users</h2><div id="users"></div>
      <form class="inline" id="add-user"><label>Name <input name="name" required></label>
        <label>Role <select name="role"><option>technician</option><option>viewer</option><option>admin</option></select></label>
        <label>Tenants <input name="tenants" placeholder="a,b (empty: all)"></label><button type="submit">Add user</button></form>
      <div id="user-added" role="status"></div></section>` : ''}
    <section><h2>Notification channels</h2><div id="channels"></div>
      ${operator ? `<form class="inline" id="add-channel"><label>Name <input name="name" required></label>
        <label>Tenant <input name="tenant" list="tenant-names" placeholder="empty: every tenant"></label>
        <label>Kind <select name="kind"><option>slack</option><option>webhook</option><option>email</option></select></label>
        <label>URL or addresses <input name="target" required placeholder="https://hooks.slack.com/… or a@b,c@d"></label>
        <label>Secret / SMTP URL <input name="extra" placeholder="webhook secret or smtp://…"></label>
        <button type="submit">Add channel</button></form><div id="channel-added" role="status"></div>` : ''}</section>`;

  const $ = (id: string) => page.querySelector(`#${id}`) as HTMLElement | null;
  $('enroll')?.addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    const out = $('enrolled') as HTMLElement;
    try {
      const reply = (await send('POST', '/api/sites', { name: form.get('name'), tenant: form.get('tenant') || undefined })) as { site: string; tenant: string; command: string };
      out.innerHTML = `<p>Enrolled ${esc(reply.site)} in ${esc(reply.tenant)}. Run this on a machine at the site; the token is shown once:</p><pre class="command" id="agent-command">${esc(reply.command)}</pre>`;
    } catch (error) {
      out.innerHTML = `<p class="error">${esc((error as Error).message)}</p>`;
    }
  });
  for (const button of page.querySelectorAll<HTMLButtonElement>('button.revoke')) {
    button.addEventListener('click', async () => {
      const row = button.closest('tr') as HTMLElement;
      if (!confirm(`Revoke every token of ${row.children[1]?.textContent ?? 'this site'}? Its agents are disconnected.`)) return;
      const reply = (await send('POST', `/api/sites/${encodeURIComponent(row.dataset.siteId as string)}/revoke`)) as { revoked: number };
      button.replaceWith(`${reply.revoked} token(s) revoked`);
    });
  }
  for (const button of page.querySelectorAll<HTMLButtonElement>('button.config')) {
    button.addEventListener('click', () => void showSiteConfig($('site-config') as HTMLElement, (button.closest('tr') as HTMLElement).dataset.siteId as string, operator));
  }
  const listChannels = async () => {
    const { channels } = await getJson('/api/channels', channelsSchema);
    const box = $('channels') as HTMLElement;
    box.innerHTML =
      channels.length === 0
        ? '<p class="empty">No channel yet.</p>'
        : `<table><thead><tr><th>Name</th><th>Tenant</th><th>Kind</th><th>Destination</th><th>Last delivered</th><th>Failures</th><th></th></tr></thead><tbody>${channels
            .map(
              (c) =>
                `<tr data-channel="${esc(c.name)}"><td>${esc(c.name)}</td><td>${esc(c.tenant ?? 'every tenant')}</td><td>${esc(c.kind)}</td><td>${esc(c.destination)}</td><td>${esc(c.delivery.lastSuccessAt ?? 'never')}</td><td>${c.delivery.failureCount}${c.delivery.lastError ? `: ${esc(c.delivery.lastError)}` : ''}</td>` +
                `<td>${operator ? '<button type="button" class="test-channel">Test</button> <button type="button" class="remove-channel">Remove</button> <span class="channel-status" role="status"></span>' : ''}</td></tr>`,
            )
            .join('')}</tbody></table>`;
    for (const button of box.querySelectorAll<HTMLButtonElement>('button.test-channel')) {
      button.addEventListener('click', async () => {
        const row = button.closest('tr') as HTMLElement;
        const status = row.querySelector('.channel-status') as HTMLElement;
        status.textContent = 'sending…';
        try {
          const reply = (await send('POST', `/api/channels/${encodeURIComponent(row.dataset.channel as string)}/test`)) as { delivered: boolean; error?: string };
          status.textContent = reply.delivered ? 'test delivered' : `not delivered: ${reply.error ?? ''}`;
        } catch (error) {
          status.textContent = (error as Error).message;
        }
      });
    }
    for (const button of box.querySelectorAll<HTMLButtonElement>('button.remove-channel')) {
      button.addEventListener('click', async () => {
        await send('DELETE', `/api/channels/${encodeURIComponent((button.closest('tr') as HTMLElement).dataset.channel as string)}`);
        await listChannels();
      });
    }
  };
  await listChannels();
  $('add-channel')?.addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    const kind = String(form.get('kind'));
    const target = String(form.get('target') ?? '').trim();
    const extra = String(form.get('extra') ?? '').trim();
    const destination =
      kind === 'email' ? { kind, to: target.split(',').map((a) => a.trim()), smtpUrl: extra } : kind === 'webhook' ? { kind, url: target, secret: extra } : { kind, url: target };
    const out = $('channel-added') as HTMLElement;
    try {
      await send('POST', '/api/channels', { name: form.get('name'), tenant: String(form.get('tenant') ?? '').trim() || undefined, destination });
      out.textContent = 'Channel added: use Test to check it.';
      await listChannels();
    } catch (error) {
      out.textContent = (error as Error).message;
    }
  });

  if (user.role === 'admin') {
    const listUsers = async () => {
      const { users } = await getJson('/api/users', usersSchema);
      ($('users') as HTMLElement).innerHTML = `<table><thead><tr><th>User</th><th>Role</th><th>Tenants</th><th></th></tr></thead><tbody>${users
        .map((u) => `<tr><td>${esc(u.name)}</td><td>${esc(u.role)}</td><td>${esc(u.tenants?.join(', ') ?? 'all')}</td><td>${u.name === user.name ? '' : `<button type="button" data-user="${esc(u.name)}">Remove</button>`}</td></tr>`)
        .join('')}</tbody></table>`;
      for (const remove of ($('users') as HTMLElement).querySelectorAll<HTMLButtonElement>('button[data-user]')) {
        remove.addEventListener('click', async () => {
          await send('DELETE', `/api/users/${encodeURIComponent(remove.dataset.user as string)}`);
          await listUsers();
        });
      }
    };
    await listUsers();
    $('add-user')?.addEventListener('submit', async (event) => {
      event.preventDefault();
      const form = new FormData(event.target as HTMLFormElement);
      const tenantsText = String(form.get('tenants') ?? '').trim();
      const out = $('user-added') as HTMLElement;
      try {
        const reply = (await send('POST', '/api/users', { name: form.get('name'), role: form.get('role'), ...(tenantsText ? { tenants: tenantsText.split(',').map((t) => t.trim()) } : {}) })) as { password: string };
        out.innerHTML = `<p>User added. Its password, shown once: <code id="new-password">${esc(reply.password)}</code></p>`;
        await listUsers();
      } catch (error) {
        out.innerHTML = `<p class="error">${esc((error as Error).message)}</p>`;
      }
    });
  }
}

async function showSiteConfig(box: HTMLElement, siteId: string, operator: boolean): Promise<void> {
  const path = `/api/sites/${encodeURIComponent(siteId)}/config`;
  const config = await getJson(path, configSchema);
  box.innerHTML = `<h3>Targets and schedule</h3>
    <p>Keep-alive targets, one per line: <code>name host port udp|tcp|tls options|crlf|both</code></p>
    <textarea id="targets" rows="4" cols="70" ${operator ? '' : 'readonly'}>${esc(config.targets.map((t) => `${t.name} ${t.host} ${t.port} ${t.transport} ${t.keepalive}`).join('\n'))}</textarea>
    <p>Schedule (cron; empty turns a probe off):</p>
    ${Object.entries(config.schedule).map(([probe, cron]) => `<label>${esc(probe)} <input name="${esc(probe)}" value="${esc(cron)}" ${operator ? '' : 'readonly'}></label><br>`).join('')}
    ${operator ? '<button type="button" id="save-config">Save and push to the agents</button>' : ''}<span id="config-status" role="status"></span>`;
  box.querySelector('#save-config')?.addEventListener('click', async () => {
    const status = box.querySelector('#config-status') as HTMLElement;
    const targets = (box.querySelector('#targets') as HTMLTextAreaElement).value
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean)
      .map((line) => {
        const [name, host, port, transport, keepalive] = line.split(/\s+/);
        return { name, host, port: Number(port), transport, keepalive: keepalive ?? 'options' };
      });
    const schedule = Object.fromEntries(Object.keys(config.schedule).map((probe) => [probe, (box.querySelector(`input[name="${probe}"]`) as HTMLInputElement).value.trim()]));
    try {
      const reply = (await send('PUT', path, { targets, schedule })) as { agentsUpdated: number };
      status.textContent = `Saved; ${reply.agentsUpdated} connected agent(s) updated.`;
    } catch (error) {
      status.textContent = (error as Error).message;
    }
  });
}
