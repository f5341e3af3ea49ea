import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Fleet } from '@algwatch/protocol/dashboard';
import { parseServerConfig } from '../config.js';
import { startServer, type RunningServer } from '../server.js';
import { UserStore } from '../auth/user-store.js';
import { sipAlgResult } from '../alerting/test-results.js';
import { recordingDispatcher } from '../alerting/test-engine.js';
import { logIn, type DashboardSession } from '../../../test/helpers/dashboard-session.js';
import { connectAgent, sendResults, type AgentSocket } from '../../../test/helpers/socket-agent.js';

interface AlertsPage {
  firing: Array<{ fingerprint: string; rule: string; site: string; acknowledged: { by: string } | null }>;
  silences: Array<{ id: string; siteName: string | null; reason: string }>;
}

describe('alerts in the dashboard API', () => {
  let dataDir: string;
  let server: RunningServer;
  let agent: AgentSocket;
  let siteId: string;
  const sessions: Record<string, DashboardSession> = {};

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'algwatch-alerts-api-'));
    const config = parseServerConfig(
      ['--bind', '127.0.0.1', '--sip-port', '0', '--tls-port', '0', '--stun-port', '0', '--http-port', '0', '--data-dir', dataDir, '--alert-group-wait', '0'],
      {},
    );
    server = await startServer(config, pino({ level: 'silent' }), { dispatcher: recordingDispatcher() });
    const base = `http://127.0.0.1:${server.httpPort}`;
    const users = new UserStore(server.relational.db);
    for (const [name, role, tenants] of [
      ['acme-tech', 'technician', ['acme']],
      ['globex-tech', 'technician', ['globex']],
      ['watcher', 'viewer', undefined],
    ] as const) {
      sessions[name] = await logIn(base, name, (await users.addUser({ name, role, tenants })).password);
    }
    await server.relational.createSite('hq', 'globex');
    const created = await server.relational.createSite('branch-1', 'acme');
    siteId = created.site.id;
    agent = await connectAgent(base, created.token);
    await sendResults(agent, [sipAlgResult('udp', 'detected')]);
  });
  afterAll(async () => {
    agent?.close();
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const call = async (who: string, method: string, path: string, body?: unknown) => {
    const session = sessions[who] as DashboardSession;
    const response = await fetch(`http://127.0.0.1:${server.httpPort}${path}`, {
      method,
      headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as unknown };
  };

  it('lists the firing ALG alert to its tenant`s technician only, and counts it in the fleet row', async () => {
    await expect.poll(async () => ((await call('acme-tech', 'GET', '/api/alerts')).body as AlertsPage).firing.map((a) => a.rule), { timeout: 10_000 }).toEqual(['sip_alg_udp']);
    expect(((await call('globex-tech', 'GET', '/api/alerts')).body as AlertsPage).firing).toEqual([]);
    await expect.poll(async () => ((await call('acme-tech', 'GET', '/api/fleet')).body as Fleet).rows[0]?.firingAlerts, { timeout: 10_000 }).toBe(1);
  });

  it('acknowledges an alert for a technician, not for a viewer or another tenant`s technician', async () => {
    const [alert] = ((await call('acme-tech', 'GET', '/api/alerts')).body as AlertsPage).firing;
    const path = `/api/alerts/${alert?.fingerprint ?? ''}/ack`;
    expect((await call('watcher', 'POST', path)).status).toBe(403);
    expect((await call('globex-tech', 'POST', path)).status).toBe(404);
    expect((await call('acme-tech', 'POST', path)).status).toBe(200);
    expect(((await call('acme-tech', 'GET', '/api/alerts')).body as AlertsPage).firing[0]?.acknowledged).toMatchObject({ by: 'acme-tech' });
  });

  it('silences a site (a maintenance window when it starts later) and ends the silence', async () => {
    const startsAt = new Date(Date.now() + 3600_000).toISOString();
    const endsAt = new Date(Date.now() + 7200_000).toISOString();
    expect((await call('globex-tech', 'POST', '/api/silences', { siteId, endsAt, reason: 'x' })).status).toBe(404);
    expect((await call('acme-tech', 'POST', '/api/silences', { endsAt, reason: 'every site' })).status).toBe(403);
    const created = await call('acme-tech', 'POST', '/api/silences', { siteId, startsAt, endsAt, reason: 'router swap' });
    expect(created.status).toBe(201);
    const listed = ((await call('acme-tech', 'GET', '/api/alerts')).body as AlertsPage).silences;
    expect(listed.map((s) => [s.siteName, s.reason])).toEqual([['branch-1', 'router swap']]);
    expect(((await call('globex-tech', 'GET', '/api/alerts')).body as AlertsPage).silences).toEqual([]);
    expect((await call('acme-tech', 'DELETE', `/api/silences/${listed[0]?.id ?? ''}`)).status).toBe(200);
    expect(((await call('acme-tech', 'GET', '/api/alerts')).body as AlertsPage).silences).toEqual([]);
  });
});
