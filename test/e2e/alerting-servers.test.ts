/**
 * Alerting with two real `algwatch-server` processes sharing one PostgreSQL (a throw-away schema):
 * two agents of one site, one connected to each server (real socket.io connections), report the
 * same SIP ALG; the signed webhook gets one message per alert, not one per server. Beside it, bad
 * channels (an unreachable SMTP server, a webhook that never answers) fail with a clear line in
 * `alerts --all` while the good channel still gets its messages and both servers keep running;
 * a malformed channel and a silence for an unknown site are refused in one line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { io as connect, type Socket } from 'socket.io-client';
import { AGENT_NAMESPACE, PROTOCOL_VERSION, type AgentToServerEvents, type ServerToAgentEvents } from '@algwatch/protocol/events';
import { openRelationalStore } from '../../server/src/relational/open.js';
import { createPostgresTestDatabase, type TestDatabase } from '../../server/src/relational/test-databases.js';
import { channelCommand } from '../../server/src/commands/channel.js';
import { alertsCommand } from '../../server/src/commands/alerts.js';
import { silenceCommand } from '../../server/src/commands/silence.js';
import { startHttpReceiver, type HttpReceiver } from '../../server/src/alerting/notifiers/test-http-receiver.js';
import { sipAlgResult } from '../../server/src/alerting/test-results.js';
import { startProcess, type ManagedProcess } from '../helpers/process.js';
import { assertBuilt } from './algwatch-processes.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SERVER_BIN = join(REPO, 'server/bin/algwatch-server.js');
const SECRET = 'e2e-webhook-signing-secret-0123456789';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(what: string, timeoutMs: number, check: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

type AgentSocket = Socket<ServerToAgentEvents, AgentToServerEvents>;

describe('alerting with two server processes on one PostgreSQL', () => {
  let database: TestDatabase;
  let work: string;
  let webhook: HttpReceiver;
  let hanging: HttpReceiver;
  const servers: ManagedProcess[] = [];
  const agents: AgentSocket[] = [];
  let run: (command: typeof alertsCommand, argv: string[]) => Promise<{ code: number; stdout: string; stderr: string }>;

  beforeAll(async () => {
    assertBuilt();
    database = await createPostgresTestDatabase();
    const databaseUrl = database.options.databaseUrl as string;
    work = await mkdtemp(join(tmpdir(), 'algwatch-two-servers-'));
    webhook = await startHttpReceiver();
    hanging = await startHttpReceiver();
    hanging.answer([], 'hang');
    run = async (command, argv) => {
      let stdout = '';
      let stderr = '';
      const code = await command(argv, { dataDir: work, databaseUrl, stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } });
      return { code, stdout, stderr };
    };

    const store = await openRelationalStore(database.options);
    const { token } = await store.createSite('hq', 'acme');
    await store.close();
    const add = (argv: string[]) => run(channelCommand as typeof alertsCommand, ['add', ...argv]);
    expect((await add(['noc', '--webhook-url', `${webhook.origin}/algwatch`, '--secret', SECRET])).code).toBe(0);
    expect((await add(['dead-mail', '--email', 'ops@msp.example', '--smtp-url', 'smtp://127.0.0.1:1'])).code).toBe(0);
    expect((await add(['stuck', '--webhook-url', `${hanging.origin}/never`, '--secret', SECRET])).code).toBe(0);

    for (const name of ['one', 'two']) {
      const server = startProcess(process.execPath, [
        SERVER_BIN, '--bind', '127.0.0.1', '--sip-port', '0', '--tls-port', '0', '--stun-port', '0', '--http-port', '0', '--metrics-port', '0',
        '--data-dir', join(work, name), '--database-url', databaseUrl,
        '--alert-group-wait', '1s', '--alert-group-interval', '1s', '--notify-timeout', '1s', '--notify-attempts', '2',
      ]);
      servers.push(server);
      const ready = JSON.parse(await server.waitForOutput(/algwatch server listening/, 20_000)) as { httpPort: number };
      const agent: AgentSocket = connect(`http://127.0.0.1:${ready.httpPort}${AGENT_NAMESPACE}`, { auth: { token, agentId: `desk-${name}` }, transports: ['websocket'], reconnection: false });
      agents.push(agent);
      await agent.timeout(10_000).emitWithAck('hello', { protocol: PROTOCOL_VERSION, agentVersion: '0.1.0', hostname: `desk-${name}` });
    }
  }, 90_000);

  afterAll(async () => {
    for (const agent of agents) agent.close();
    for (const server of servers) await server.stop();
    await webhook?.close();
    await hanging?.close();
    await database?.drop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const send = (agent: AgentSocket, status: 'detected' | 'clean') => agent.timeout(10_000).emitWithAck('results', { results: [sipAlgResult('udp', status)] });

  it('sends one signed webhook message per alert though both servers see it fire and resolve', async () => {
    for (const agent of agents) expect(await send(agent, 'detected')).toMatchObject({ ok: true });
    await until('the firing message', 20_000, () => webhook.requests.length >= 1);
    for (let i = 0; i < 2; i++) for (const agent of agents) await send(agent, 'clean');
    await until('the resolution', 20_000, () => webhook.requests.length >= 2);
    // Both servers' group timers (1 s) have long run again by now.
    await sleep(5_000);
    const bodies = webhook.requests.map((request) => JSON.parse(request.body) as { status: string; alerts: Array<{ labels: Record<string, string> }> });
    expect(bodies.map((body) => body.status)).toEqual(['firing', 'resolved']);
    expect(bodies[0]!.alerts.map((alert) => [alert.labels.alertname, alert.labels.site])).toEqual([['sip_alg_udp', 'hq']]);
    expect(webhook.requests[0]!.headers['x-algwatch-signature']).toBeTruthy();
  }, 60_000);

  it('records the unreachable SMTP server and the webhook that never answers as delivery failures, and both servers keep running', async () => {
    const listed = await run(alertsCommand, ['--all']);
    expect(listed.code).toBe(0);
    const failures = listed.stdout.slice(listed.stdout.indexOf('delivery failures:'));
    expect(failures).toMatch(/dead-mail: [^\n]*127\.0\.0\.1:1/);
    expect(failures).toMatch(/stuck: [^\n]*(no answer|timed out|timeout)/i);
    expect(listed.stdout).not.toContain(SECRET);
    for (const server of servers) expect(await Promise.race([server.exited.then(() => 'exited'), sleep(100).then(() => 'running')])).toBe('running');
  });

  it('refuses a malformed channel and a silence for an unknown site in one line each', async () => {
    const malformed = await run(channelCommand as typeof alertsCommand, ['add', 'broken', '--slack-url', 'not a url']);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr.trim().split('\n')).toHaveLength(1);
    expect(malformed.stderr).toMatch(/--slack-url/);
    const silence = await run(silenceCommand as typeof alertsCommand, ['add', '--site', 'nowhere', '--for', '1h', '--reason', 'test']);
    expect(silence).toEqual({ code: 1, stdout: '', stderr: 'algwatch-server silence: no site nowhere: see `site list`\n' });
  });
});
