import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { io as connect, type Socket } from 'socket.io-client';
import { AGENT_NAMESPACE, PROTOCOL_VERSION, type AgentToServerEvents, type ServerToAgentEvents } from '@algwatch/protocol/events';
import { parseServerConfig } from './config.js';
import { startServer, type RunningServer } from './server.js';
import { siteCommand } from './commands/site.js';
import { UserStore } from './auth/user-store.js';
import type { Fleet } from '@algwatch/protocol/dashboard';
import { logIn } from '../../test/helpers/dashboard-session.js';

describe('the composed server', () => {
  let dataDir: string;
  let server: RunningServer;
  let agent: Socket<ServerToAgentEvents, AgentToServerEvents>;
  let base: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'algwatch-server-'));
    const config = parseServerConfig(
      ['--bind', '127.0.0.1', '--sip-port', '0', '--tls-port', '0', '--stun-port', '0', '--http-port', '0', '--metrics-port', '0', '--data-dir', dataDir],
      {},
    );
    server = await startServer(config, pino({ level: 'silent' }));
    base = `http://127.0.0.1:${server.httpPort}`;
    const { token } = await server.relational.createSite('branch-1', 'acme');
    agent = connect(`${base}${AGENT_NAMESPACE}`, { auth: { token, agentId: 'desk-1' }, transports: ['websocket'], reconnection: false });
  });
  afterAll(async () => {
    agent?.close();
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('answers health checks with the reflector ports it really listens on', async () => {
    const health = (await (await fetch(`${base}/healthz`)).json()) as { status: string; sip: { udp: number; tls: number } };
    expect(health.status).toBe('ok');
    expect(health.sip.udp).toBe(server.sip.ports.udp);
    expect(health.sip.tls).toBeGreaterThan(0);
  });

  it('tells a connecting agent its site and where the reflector listens', async () => {
    const reply = await agent.timeout(5_000).emitWithAck('hello', { protocol: PROTOCOL_VERSION, agentVersion: '0.1.0', hostname: 'desk-1' });
    expect(reply).toMatchObject({ ok: true, siteName: 'branch-1', config: { reflectorHost: '127.0.0.1', reflectorPorts: { sip: server.sip.ports.udp } } });
  });

  it('pushes a schedule change and a run-now request made by the site command to the connected agent', async () => {
    const config = new Promise<unknown>((resolve) => agent.once('config', resolve));
    const runNow = new Promise<unknown>((resolve) => agent.once('runNow', resolve));
    const quiet = { write: () => true };
    expect(await siteCommand(['schedule', 'branch-1', '--stun-mapping', '*/10 * * * * *'], { dataDir, stdout: quiet, stderr: quiet })).toBe(0);
    expect(await siteCommand(['run-now', 'branch-1', '--probes', 'stun-mapping,sip-alg'], { dataDir, stdout: quiet, stderr: quiet })).toBe(0);
    // Servers poll for changes every 5 s (the command runs in another process in real life).
    expect(await config).toMatchObject({ schedule: { stunMapping: '*/10 * * * * *' } });
    expect(await runNow).toEqual({ probes: ['stun-mapping', 'sip-alg'] });
  }, 15_000);

  it('shows a stored result in the fleet to a logged-in user only', async () => {
    const startedAt = Date.now();
    const ack = await agent.timeout(5_000).emitWithAck('results', {
      results: [
        {
          id: randomUUID(),
          probe: 'sip-alg',
          target: 'pbx<script>',
          startedAt,
          durationMs: 3,
          success: true,
          points: [
            {
              measurement: 'sip_alg',
              tags: { target: '127.0.0.1', transport: 'udp', result: 'detected' },
              fields: { alg_detected: true, rewrites_outbound: 2, rewrites_inbound: 1, rewritten_fields: 'Via,Contact', rtt_ms: 1.5 },
            },
          ],
          detail: null,
        },
      ],
    });
    expect(ack).toMatchObject({ ok: true });
    expect((await fetch(`${base}/api/fleet`)).status).toBe(401);
    const { password } = await new UserStore(server.relational.db).addUser({ name: 'tech', role: 'technician' });
    const session = await logIn(base, 'tech', password);
    const fleet = (await (await fetch(`${base}/api/fleet`, { headers: { cookie: session.cookie } })).json()) as Fleet;
    expect(fleet.rows).toEqual([
      expect.objectContaining({ tenant: 'acme', site: 'branch-1', agentsOnline: 1, sipAlg: { udp: 'detected', tcp: null, tls: null }, state: 'critical' }),
    ]);
  });
});
