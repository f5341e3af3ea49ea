import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { parseServerConfig } from '../config.js';
import { startServer, type RunningServer } from '../server.js';
import { UserStore } from '../auth/user-store.js';
import { logIn, type DashboardSession } from '../../../test/helpers/dashboard-session.js';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';

describe('settings API', () => {
  let dataDir: string;
  let server: RunningServer;
  let base: string;
  const sessions: Record<string, DashboardSession> = {};

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'algwatch-settings-'));
    const config = parseServerConfig(
      ['--bind', '127.0.0.1', '--sip-port', '0', '--tls-port', '0', '--stun-port', '0', '--http-port', '0', '--data-dir', dataDir, '--public-url', 'https://algwatch.msp.example'],
      {},
    );
    server = await startServer(config, pino({ level: 'silent' }));
    base = `http://127.0.0.1:${server.httpPort}`;
    const users = new UserStore(server.relational.db);
    for (const [name, role, tenants] of [
      ['root', 'admin', undefined],
      ['tech', 'technician', ['acme']],
      ['watcher', 'viewer', undefined],
    ] as const) {
      const { password } = await users.addUser({ name, role, ...(tenants ? { tenants } : {}) });
      sessions[name] = await logIn(base, name, password);
    }
  });
  afterAll(async () => {
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const call = async (who: string, method: string, path: string, body?: unknown) => {
    const session = sessions[who] as DashboardSession;
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it('enrolls a site in a technician`s own tenant and prints the agent command with the --public-url', async () => {
    const { status, body } = await call('tech', 'POST', '/api/sites', { name: 'branch-7', tenant: 'acme' });
    expect(status).toBe(201);
    expect(body.command).toBe(`algwatch-agent run --server https://algwatch.msp.example --token ${body.token as string}`);
    expect((await server.relational.authenticateToken(body.token as string))?.name).toBe('branch-7');
  });

  it('refuses a technician enrolling in another tenant, a viewer enrolling at all, and a name taken', async () => {
    expect((await call('tech', 'POST', '/api/sites', { name: 'spy', tenant: 'globex' })).status).toBe(403);
    expect((await call('watcher', 'POST', '/api/sites', { name: 'x', tenant: 'acme' })).status).toBe(403);
    expect(await call('root', 'POST', '/api/sites', { name: 'branch-7', tenant: 'acme' })).toEqual({
      status: 409,
      body: { error: 'site branch-7 already exists in tenant acme: pick another name or revoke and re-issue its token' },
    });
  });

  it('stores targets and schedule, refusing a bad target with a line that says which', async () => {
    const siteId = (await server.relational.findSite('branch-7', 'acme')).id;
    const bad = await call('tech', 'PUT', `/api/sites/${siteId}/config`, { targets: [{ name: 'pbx', host: 'pbx.acme', port: 99999, transport: 'udp' }] });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/^target 1: port /);
    const good = await call('tech', 'PUT', `/api/sites/${siteId}/config`, { targets: [{ name: 'pbx', host: 'pbx.acme', port: 5060, transport: 'udp' }] });
    expect(good.status).toBe(200);
    expect((await server.relational.getAgentConfig(siteId)).targets).toEqual([{ name: 'pbx', host: 'pbx.acme', port: 5060, transport: 'udp', keepalive: 'options' }]);
    expect((await call('watcher', 'PUT', `/api/sites/${siteId}/config`, { targets: [] })).status).toBe(403);
  });

  it('revokes a site`s tokens so they no longer authenticate', async () => {
    const { body } = await call('root', 'POST', '/api/sites', { name: 'to-revoke', tenant: 'acme' });
    const revoked = await call('tech', 'POST', `/api/sites/${body.siteId as string}/revoke`);
    expect(revoked).toEqual({ status: 200, body: { ok: true, revoked: 1 } });
    expect(await server.relational.authenticateToken(body.token as string)).toBeNull();
  });

  it('lets only admins manage users, never removing themselves', async () => {
    expect((await call('tech', 'GET', '/api/users')).status).toBe(403);
    expect((await call('tech', 'POST', '/api/users', { name: 'x', role: 'admin' })).status).toBe(403);
    const created = await call('root', 'POST', '/api/users', { name: 'newbie', role: 'viewer', tenants: ['acme'] });
    expect(created.status).toBe(201);
    expect(await new UserStore(server.relational.db).checkPassword('newbie', (created.body as { password: string }).password)).not.toBeNull();
    const listed = await call('root', 'GET', '/api/users');
    expect(JSON.stringify(listed.body)).not.toContain('scrypt');
    expect((await call('root', 'DELETE', '/api/users/root')).status).toBe(400);
    expect((await call('root', 'DELETE', '/api/users/newbie')).status).toBe(200);
  });

  it('manages notification channels within the user`s tenants and tests one through the real webhook notifier', async () => {
    const received: Array<{ signature: string | undefined; body: string }> = [];
    const receiver: HttpServer = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        received.push({ signature: req.headers['x-algwatch-signature'] as string | undefined, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
      const webhook = { kind: 'webhook', url, secret: 'a-secret-of-32-characters-000000' };
      await call('root', 'POST', '/api/sites', { name: 'globex-hq', tenant: 'globex' });
      expect((await call('root', 'POST', '/api/channels', { name: 'globex-hook', tenant: 'globex', destination: webhook })).status).toBe(201);
      expect((await call('tech', 'POST', '/api/channels', { name: 'everyone', destination: webhook })).status).toBe(403);
      expect((await call('tech', 'POST', '/api/channels', { name: 'short', tenant: 'acme', destination: { ...webhook, secret: 'short' } })).body.error).toBe(
        '--secret must be at least 16 characters (e.g. from `openssl rand -hex 32`)',
      );
      const added = await call('tech', 'POST', '/api/channels', { name: 'acme-hook', tenant: 'acme', destination: webhook });
      expect(added.status).toBe(201);
      expect(JSON.stringify(added.body)).not.toContain(webhook.secret);

      expect((await call('tech', 'GET', '/api/tenants')).body).toEqual({ tenants: [{ name: 'acme', sites: 2 }] });
      const listed = (await call('tech', 'GET', '/api/channels')).body as { channels: Array<{ name: string }> };
      expect(listed.channels.map((c) => c.name)).toEqual(['acme-hook']);
      expect((await call('tech', 'POST', '/api/channels/globex-hook/test')).status).toBe(404);
      expect((await call('watcher', 'POST', '/api/channels/acme-hook/test')).status).toBe(403);

      expect(await call('tech', 'POST', '/api/channels/acme-hook/test')).toEqual({ status: 200, body: { delivered: true } });
      expect(received).toHaveLength(1);
      expect(received[0]?.body).toContain('acme');
      expect(received[0]?.body).not.toContain(webhook.secret);
      expect((await call('tech', 'DELETE', '/api/channels/acme-hook')).status).toBe(200);
    } finally {
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });
});
