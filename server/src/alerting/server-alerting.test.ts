/**
 * The alert engine inside a running server: results sent by an agent over a real socket.io
 * connection raise an alert, the `alert` point lands in the time series, and a silence added with
 * the CLI (another process in real life) is picked up by the running server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import Database from 'better-sqlite3';
import { io as connect, type Socket } from 'socket.io-client';
import { AGENT_NAMESPACE, PROTOCOL_VERSION, type AgentToServerEvents, type ServerToAgentEvents } from '@algwatch/protocol/events';
import { parseServerConfig } from '../config.js';
import { startServer, type RunningServer } from '../server.js';
import { silenceCommand } from '../commands/silence.js';
import { sipAlgResult } from './test-results.js';
import { recordingDispatcher, waitFor } from './test-engine.js';

describe('alerting in the running server', () => {
  let dataDir: string;
  let server: RunningServer;
  let agent: Socket<ServerToAgentEvents, AgentToServerEvents>;
  const dispatcher = recordingDispatcher();

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'algwatch-alerting-'));
    const config = parseServerConfig(
      ['--bind', '127.0.0.1', '--sip-port', '0', '--tls-port', '0', '--stun-port', '0', '--http-port', '0', '--metrics-port', '0', '--data-dir', dataDir,
        '--alert-group-wait', '0', '--alert-group-interval', '100ms', '--public-url', 'https://algwatch.msp.example'],
      {},
    );
    server = await startServer(config, pino({ level: 'silent' }), { dispatcher });
    await server.relational.createSite('branch-2', 'acme');
    const { token } = await server.relational.createSite('branch-1', 'acme');
    agent = connect(`http://127.0.0.1:${server.httpPort}${AGENT_NAMESPACE}`, { auth: { token, agentId: 'desk-1' }, transports: ['websocket'], reconnection: false });
    await agent.timeout(5_000).emitWithAck('hello', { protocol: PROTOCOL_VERSION, agentVersion: '0.1.0', hostname: 'desk-1' });
  });
  afterAll(async () => {
    agent?.close();
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const send = (results: ReturnType<typeof sipAlgResult>[]) => agent.timeout(5_000).emitWithAck('results', { results });

  it('raises an ALG alert from results an agent sends, with a link to the site, and writes the alert point', async () => {
    expect(await send([sipAlgResult('udp', 'detected')])).toMatchObject({ ok: true });
    await waitFor('the firing message', () => dispatcher.sent.length === 1);
    expect(dispatcher.sent[0]).toMatchObject({ site: 'branch-1', tenant: 'acme', siteUrl: 'https://algwatch.msp.example/sites/acme/branch-1' });
    expect(dispatcher.sent[0]?.alerts[0]).toMatchObject({ rule: 'sip_alg_udp', agent: 'desk-1', target: 'reflector', transport: 'udp' });

    const alertRows = () => {
      const series = new Database(join(dataDir, 'time-series.sqlite'), { readonly: true });
      try {
        // The table appears with the first point of the measurement.
        const exists = series.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'alert'").get();
        return exists ? series.prepare('SELECT rule, severity, state, tenant, site, firing FROM alert').all() : [];
      } finally {
        series.close();
      }
    };
    // Points are written in batches: the message may be out before the point is.
    await waitFor('the alert point', () => alertRows().length > 0);
    expect(alertRows()).toEqual([{ rule: 'sip_alg_udp', severity: 'critical', state: 'firing', tenant: 'acme', site: 'branch-1', firing: 1 }]);
  });

  it('picks up a silence added with the CLI within seconds', async () => {
    const quiet = { write: () => true };
    expect(await silenceCommand(['add', '--site', 'branch-1', '--rule', 'sip_alg_tcp', '--for', '1h', '--reason', 'ISP router swap'], { dataDir, stdout: quiet, stderr: quiet })).toBe(0);
    // A silence for an unknown site is refused; the server keeps running.
    expect(await silenceCommand(['add', '--site', 'nowhere', '--for', '1h', '--reason', 'x'], { dataDir, stdout: quiet, stderr: quiet })).toBe(1);
    // Servers re-read silences every 2 s.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    await send([sipAlgResult('tcp', 'detected'), sipAlgResult('tls', 'detected')]);
    await waitFor('the TLS message', () => dispatcher.sent.length === 2);
    await server.alerts?.idle();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(dispatcher.sent.map((n) => n.alerts.map((a) => a.rule))).toEqual([['sip_alg_udp'], ['sip_tls_intercepted']]);
  }, 15_000);
});
