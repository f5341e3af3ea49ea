/**
 * Two server processes' worth of servers (in-process here) sharing one PostgreSQL and one Redis act
 * as one dashboard: a login made on A works on B, and a browser socket on A sees a result that an
 * agent delivered to B, live.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { io as connect, type Socket } from 'socket.io-client';
import { DASHBOARD_NAMESPACE, siteUpdateSchema, type SiteUpdate } from '@algwatch/protocol/dashboard';
import { parseServerConfig } from '../config.js';
import { startServer, type RunningServer } from '../server.js';
import { UserStore } from '../auth/user-store.js';
import { createPostgresTestDatabase, type TestDatabase } from '../relational/test-databases.js';
import { logIn } from '../../../test/helpers/dashboard-session.js';
import { connectAgent, sendResults, stunResult, type AgentSocket } from '../../../test/helpers/socket-agent.js';

const REDIS_URL = process.env.ALGWATCH_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('two servers sharing PostgreSQL and Redis', () => {
  let database: TestDatabase;
  const servers: RunningServer[] = [];
  const dataDirs: string[] = [];
  const sockets: Array<Socket | AgentSocket> = [];
  const base = (server: RunningServer) => `http://127.0.0.1:${server.httpPort}`;

  beforeAll(async () => {
    database = await createPostgresTestDatabase();
    // One channel per run: parallel test runs share this Redis.
    const relayChannel = `algwatch-test:${randomBytes(6).toString('hex')}`;
    for (let i = 0; i < 2; i++) {
      const dataDir = await mkdtemp(join(tmpdir(), 'algwatch-two-servers-'));
      dataDirs.push(dataDir);
      const config = parseServerConfig(
        ['--bind', '127.0.0.1', '--sip-port', '0', '--tls-port', '0', '--stun-port', '0', '--http-port', '0', '--data-dir', dataDir,
          '--database-url', database.options.databaseUrl as string, '--redis-url', REDIS_URL],
        {},
      );
      servers.push(await startServer(config, pino({ level: 'silent' }), { relayChannel }));
    }
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    for (const server of servers) await server.close();
    for (const dir of dataDirs) await rm(dir, { recursive: true, force: true });
    await database?.drop();
  });

  it('takes a login made on one server on the other, and shows the other`s results live', async () => {
    const [a, b] = servers as [RunningServer, RunningServer];
    const { password } = await new UserStore(a.relational.db).addUser({ name: 'tech', role: 'technician', tenants: ['acme'] });
    const { token } = await a.relational.createSite('hq', 'acme');
    const { token: otherToken } = await a.relational.createSite('hq', 'globex');

    const session = await logIn(base(a), 'tech', password);
    expect((await fetch(`${base(b)}/api/fleet`, { headers: { cookie: session.cookie } })).status).toBe(200);

    const browser = connect(`${base(a)}${DASHBOARD_NAMESPACE}`, { forceNew: true, transports: ['websocket'], reconnection: false, extraHeaders: { cookie: session.cookie } });
    sockets.push(browser);
    const updates: SiteUpdate[] = [];
    browser.on('siteUpdate', (update: unknown) => updates.push(siteUpdateSchema.parse(update)));
    await new Promise<void>((resolve, reject) => {
      browser.once('connect', resolve);
      browser.once('connect_error', reject);
    });

    const otherAgent = await connectAgent(base(b), otherToken);
    const agent = await connectAgent(base(b), token);
    sockets.push(otherAgent, agent);
    await sendResults(otherAgent, [stunResult('198.51.100.50', 1000)]);
    await sendResults(agent, [stunResult('203.0.113.77', 4242)]);
    await expect.poll(() => updates.length, { timeout: 10_000 }).toBe(1);
    expect(updates[0]?.row).toMatchObject({ tenant: 'acme', site: 'hq', publicAddress: '203.0.113.77:4242' });

    // Process A learnt B's result: its own fleet API shows it.
    const fleet = (await (await fetch(`${base(a)}/api/fleet`, { headers: { cookie: session.cookie } })).json()) as { rows: Array<{ publicAddress: string | null }> };
    expect(fleet.rows.map((row) => row.publicAddress)).toEqual(['203.0.113.77:4242']);
  });

  it('refuses to start with a Redis it cannot reach, in one line without the password', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'algwatch-no-redis-'));
    dataDirs.push(dataDir);
    const config = parseServerConfig(
      ['--bind', '127.0.0.1', '--sip-port', '0', '--tls-port', '0', '--stun-port', '0', '--http-port', '0', '--data-dir', dataDir, '--redis-url', 'redis://u:hunter2@127.0.0.1:1'],
      {},
    );
    const error = (await startServer(config, pino({ level: 'silent' })).catch((e: unknown) => e)) as Error;
    expect(error.message).toMatch(/^cannot reach Redis at redis:\/\/u:\*\*\*@127\.0\.0\.1:1: /);
    expect(error.message).not.toContain('hunter2');
    expect(error.message).not.toContain('\n');
  });
});
