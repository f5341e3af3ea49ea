import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { io as connect, type Socket } from 'socket.io-client';
import { AGENT_NAMESPACE, PROTOCOL_VERSION, type ProbeResultMessage } from '@algwatch/protocol/events';
import { DASHBOARD_NAMESPACE, siteUpdateSchema, type Fleet, type SiteUpdate } from '@algwatch/protocol/dashboard';
import { parseServerConfig } from '../config.js';
import { startServer, type RunningServer } from '../server.js';
import { UserStore } from '../auth/user-store.js';
import { ROOT_NAMESPACE_REFUSED } from '../ingest/handshake-guard.js';
import { logIn, postLogin, type DashboardSession } from '../../../test/helpers/dashboard-session.js';

function sipAlgResult(target: string): ProbeResultMessage {
  return {
    id: randomUUID(),
    probe: 'sip-alg',
    target,
    transport: 'udp',
    startedAt: Date.now(),
    durationMs: 3,
    success: true,
    points: [
      {
        measurement: 'sip_alg',
        tags: { target, transport: 'udp', result: 'detected' },
        fields: { alg_detected: true, rewrites_outbound: 1, rewrites_inbound: 0, rewritten_fields: 'Via', rtt_ms: 1.5 },
      },
    ],
    detail: { status: 'detected', rttMs: 1.5, rewrites: [{ direction: 'outbound', field: 'Via', sent: 'SIP/2.0/UDP 10.0.0.2:5060', received: 'SIP/2.0/UDP 203.0.113.1:5060' }] },
  };
}

describe('dashboard access', () => {
  let dataDir: string;
  let server: RunningServer;
  let base: string;
  const passwords: Record<string, string> = {};
  const siteIds: Record<string, string> = {};
  const agents: Socket[] = [];
  const sockets: Socket[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'algwatch-access-'));
    const config = parseServerConfig(['--bind', '127.0.0.1', '--sip-port', '0', '--tls-port', '0', '--stun-port', '0', '--http-port', '0', '--data-dir', dataDir], {});
    // A small throttle so the test reaches it in a few attempts; its own user, so other logins are untouched.
    server = await startServer(config, pino({ level: 'silent' }), {
      loginThrottle: { perUserBurst: 3, perUserRefillSeconds: 600, perAddressBurst: 50, perAddressRefillSeconds: 600 },
      sessionRecheckMs: 200,
    });
    base = `http://127.0.0.1:${server.httpPort}`;
    const users = new UserStore(server.relational.db);
    for (const [name, role, tenants] of [
      ['root', 'admin', undefined],
      ['acme-tech', 'technician', ['acme']],
      ['watcher', 'viewer', undefined],
      ['victim', 'viewer', undefined],
    ] as const) {
      passwords[name] = (await users.addUser({ name, role, ...(tenants ? { tenants } : {}) })).password;
    }
    for (const tenant of ['acme', 'globex']) {
      const { site, token } = await server.relational.createSite(`${tenant}-hq`, tenant);
      siteIds[tenant] = site.id;
      const agent = connect(`${base}${AGENT_NAMESPACE}`, { auth: { token, agentId: 'desk-1' }, transports: ['websocket'], reconnection: false });
      agents.push(agent);
      await agent.timeout(5_000).emitWithAck('hello', { protocol: PROTOCOL_VERSION, agentVersion: '0.1.0', hostname: 'desk-1' });
    }
  });
  afterAll(async () => {
    for (const socket of [...agents, ...sockets]) socket.close();
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const get = (path: string, session?: DashboardSession) => fetch(`${base}${path}`, { redirect: 'manual', ...(session ? { headers: { cookie: session.cookie } } : {}) });

  it('answers /healthz without a login', async () => {
    const response = await get('/healthz');
    expect(response.status).toBe(200);
    expect(((await response.json()) as { status: string }).status).toBe('ok');
  });

  it.each(['/', '/status', '/fleet', '/alerts', '/settings', `/sites/x`, '/assets/index.js', '/nowhere'])('redirects %s to the login form without a session', async (path) => {
    const response = await get(path);
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe(`/login?next=${encodeURIComponent(path)}`);
  });

  it.each(['/api/fleet', '/api/session', '/api/sites/x', '/api/openapi.json', '/api/users', '/api/channels', '/api/nowhere'])('answers 401 to %s without a session', async (path) => {
    const response = await get(path);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: 'log in first' });
  });

  it('refuses a state change without a session', async () => {
    const response = await fetch(`${base}/api/sites/${siteIds.acme}/run-now`, { method: 'POST' });
    expect(response.status).toBe(401);
  });

  it('logs in through the form with an HttpOnly, SameSite session cookie (not Secure over plain http)', async () => {
    const attempt = await postLogin(base, 'root', passwords.root as string);
    expect(attempt.status).toBe(303);
    expect(attempt.location).toBe('/');
    const cookie = attempt.setCookies.find((c) => c.startsWith('algwatch_session=')) as string;
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Lax/);
    expect(cookie).not.toMatch(/Secure/);
  });

  it('refuses a wrong password with the form again, and no session', async () => {
    const attempt = await postLogin(base, 'root', 'not-the-password');
    expect(attempt.status).toBe(401);
    expect(attempt.body).toContain('Wrong username or password.');
    expect(attempt.setCookies.some((c) => c.startsWith('algwatch_session='))).toBe(false);
  });

  it('throttles logins of a user after repeated failures, even with the right password', async () => {
    for (let i = 0; i < 3; i++) expect((await postLogin(base, 'victim', `guess-${i}`)).status).toBe(401);
    const attempt = await postLogin(base, 'victim', passwords.victim as string);
    expect(attempt.status).toBe(429);
    expect(attempt.body).toContain('Too many failed logins');
    // Another user from the same address still logs in.
    expect((await postLogin(base, 'watcher', passwords.watcher as string)).status).toBe(303);
  });

  it('refuses a login post without the form`s token (login CSRF)', async () => {
    const response = await fetch(`${base}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'root', password: passwords.root as string }).toString(),
    });
    expect(response.status).toBe(403);
    expect(response.headers.getSetCookie().some((c) => c.startsWith('algwatch_session='))).toBe(false);
  });

  it('refuses a state change without the CSRF token or from another origin, and allows it with the token', async () => {
    const session = await logIn(base, 'root', passwords.root as string);
    const url = `${base}/api/sites/${siteIds.acme}/run-now`;
    const body = JSON.stringify({ probes: ['sip-alg'] });
    const noToken = await fetch(url, { method: 'POST', headers: { cookie: session.cookie, 'content-type': 'application/json' }, body });
    expect(noToken.status).toBe(403);
    expect(await noToken.json()).toEqual({ error: 'missing or wrong CSRF token: reload the page' });
    const foreign = await fetch(url, { method: 'POST', headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken, origin: 'https://evil.example' }, body });
    expect(foreign.status).toBe(403);
    const runNow = new Promise((resolve) => agents[0]?.once('runNow', resolve));
    const ok = await fetch(url, { method: 'POST', headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken, 'content-type': 'application/json' }, body });
    expect(ok.status).toBe(202);
    expect(await ok.json()).toEqual({ ok: true, agentsAsked: 1, probes: ['sip-alg'] });
    expect(await runNow).toEqual({ probes: ['sip-alg'] });
  });

  it('lets a viewer read but not run checks', async () => {
    const session = await logIn(base, 'watcher', passwords.watcher as string);
    expect((await get('/api/fleet', session)).status).toBe(200);
    const response = await fetch(`${base}/api/sites/${siteIds.acme}/run-now`, { method: 'POST', headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken } });
    expect(response.status).toBe(403);
  });

  it('ends the session on logout', async () => {
    const session = await logIn(base, 'root', passwords.root as string);
    const out = await fetch(`${base}/logout`, { method: 'POST', headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken } });
    expect(out.status).toBe(200);
    expect((await get('/api/fleet', session)).status).toBe(401);
  });

  it('refuses socket.io connections without a session on the dashboard namespace, and everyone on the root one', async () => {
    const admin = await logIn(base, 'root', passwords.root as string);
    for (const [namespace, cookie, refusal] of [
      [DASHBOARD_NAMESPACE, undefined, 'log in first'],
      ['/', undefined, ROOT_NAMESPACE_REFUSED],
      ['/', admin.cookie, ROOT_NAMESPACE_REFUSED],
    ] as const) {
      const socket = connect(`${base}${namespace}`, { transports: ['websocket'], reconnection: false, ...(cookie ? { extraHeaders: { cookie } } : {}) });
      sockets.push(socket);
      const error = await new Promise<Error>((resolve) => socket.once('connect_error', resolve));
      expect(error.message).toBe(refusal);
    }
  });

  it('shows a technician limited to acme nothing of globex: not in the fleet, not by id, not over socket.io', async () => {
    const tech = await logIn(base, 'acme-tech', passwords['acme-tech'] as string);
    const admin = await logIn(base, 'root', passwords.root as string);
    const fleet = (await (await get('/api/fleet', tech)).json()) as Fleet;
    expect(fleet.rows.map((row) => `${row.tenant}/${row.site}`)).toEqual(['acme/acme-hq']);
    expect(JSON.stringify(fleet)).not.toContain('globex');
    expect((await get(`/api/sites/${siteIds.globex}`, tech)).status).toBe(404);
    expect((await get(`/api/sites/${siteIds.acme}`, tech)).status).toBe(200);

    const received = { tech: [] as SiteUpdate[], admin: [] as SiteUpdate[] };
    for (const [who, session] of [['tech', tech], ['admin', admin]] as const) {
      const socket = connect(`${base}${DASHBOARD_NAMESPACE}`, { forceNew: true, transports: ['websocket'], reconnection: false, extraHeaders: { cookie: session.cookie } });
      sockets.push(socket);
      socket.on('siteUpdate', (update: unknown) => received[who].push(siteUpdateSchema.parse(update)));
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      });
    }
    // globex first: by the time acme's update reaches the technician, globex's would have too.
    for (const [index, target] of [[1, 'globex-pbx'], [0, 'acme-pbx']] as const) {
      expect(await agents[index]?.timeout(5_000).emitWithAck('results', { results: [sipAlgResult(target)] })).toMatchObject({ ok: true });
    }
    await expect.poll(() => received.admin.length, { timeout: 5_000 }).toBe(2);
    await expect.poll(() => received.tech.length, { timeout: 5_000 }).toBe(1);
    expect(received.tech[0]?.row).toMatchObject({ tenant: 'acme', site: 'acme-hq', state: 'critical', sipAlg: { udp: 'detected' } });
    expect(JSON.stringify(received.tech)).not.toContain('globex');
    expect(received.admin.map((u) => u.row.tenant).sort()).toEqual(['acme', 'globex']);
  });

  it('closes the open dashboard socket of a user who is removed', async () => {
    const users = new UserStore(server.relational.db);
    const { password } = await users.addUser({ name: 'leaver', role: 'viewer' });
    const session = await logIn(base, 'leaver', password);
    const socket = connect(`${base}${DASHBOARD_NAMESPACE}`, { forceNew: true, transports: ['websocket'], reconnection: false, extraHeaders: { cookie: session.cookie } });
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    const closed = new Promise<string>((resolve) => socket.once('disconnect', resolve));
    await users.removeUser('leaver');
    expect(await closed).toBe('io server disconnect');
  });

  it('refuses a dashboard socket opened from another site`s page, even with a valid session cookie', async () => {
    const session = await logIn(base, 'root', passwords.root as string);
    const socket = connect(`${base}${DASHBOARD_NAMESPACE}`, {
      forceNew: true,
      transports: ['websocket'],
      reconnection: false,
      extraHeaders: { cookie: session.cookie, origin: 'https://evil.example' },
    });
    sockets.push(socket);
    const error = await new Promise<Error>((resolve) => socket.once('connect_error', resolve));
    expect(error.message).toBe('cross-site connection refused');
  });
});
