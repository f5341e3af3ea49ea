/**
 * Issue 16's attacks 2, 3 and 7 against the real `algwatch-server` binary on loopback, each with
 * legitimate work going on during the attack:
 * - one token flooding results from twenty connections: stored rows stay within the site quota while a
 *   real `algwatch-agent` of the same site gets its results stored;
 * - 1,120 idle TCP connections from 40 loopback addresses holding the SIP slots: a real OPTIONS over
 *   TCP is still answered;
 * - a revoked token: an idle real agent is cut off without sending anything.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_RESULTS_PER_BATCH } from '@algwatch/protocol/events';
import { runCommand, startProcess, type ManagedProcess } from '../helpers/process.js';
import { startReflectorServer, type ReflectorServer } from '../fuzz/server-process.js';

const SERVER_BIN = fileURLToPath(new URL('../../server/bin/algwatch-server.js', import.meta.url));
const AGENT_BIN = fileURLToPath(new URL('../../agent/bin/algwatch-agent.js', import.meta.url));
/** The server's defaults (server/src/ingest/site-quota.ts DEFAULT_SITE_QUOTA, --site-results-per-second). */
const SITE_RESULTS_PER_SECOND = 100;
const SITE_RESULTS_BURST = 20_000;
const FLOODING_CONNECTIONS = 20;

async function addSite(server: ReflectorServer, name: string): Promise<string> {
  const added = await runCommand(process.execPath, [SERVER_BIN, 'site', 'add', name, '--data-dir', server.dataDir]);
  expect(added.code, added.stderr).toBe(0);
  return added.stdout.trim().split('\n').at(-1)!;
}

function connectAgent(port: number, token: string, agentId: string): Promise<Socket> {
  const socket = io(`http://127.0.0.1:${port}/agent`, { auth: { token, agentId }, transports: ['websocket'], reconnection: false });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

/** storedRuns counts the probe_run rows the server stored per agent (its SQLite time-series file). */
function storedRuns(server: ReflectorServer): Map<string, number> {
  const database = new Database(join(server.dataDir, 'time-series.sqlite'), { readonly: true, fileMustExist: true });
  try {
    const rows = database.prepare('select agent, count(*) as runs from probe_run group by agent').all() as Array<{ agent: string; runs: number }>;
    return new Map(rows.map((row) => [row.agent, row.runs]));
  } catch {
    return new Map(); // no probe_run table yet
  } finally {
    database.close();
  }
}

function startAgent(server: ReflectorServer, token: string, dataDir: string, agentId: string): ManagedProcess {
  return startProcess(process.execPath, [AGENT_BIN, 'run', '--server', `http://127.0.0.1:${server.ports.http}`, '--data-dir', dataDir, '--agent-id', agentId], {
    env: { ...process.env, ALGWATCH_TOKEN: token },
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** until polls `condition` every 100 ms for up to `timeoutMs`; resolves with whether it came true. */
async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  for (const deadline = performance.now() + timeoutMs; performance.now() < deadline; await sleep(100)) if (condition()) return true;
  return condition();
}

describe('the real server under attack', () => {
  let server: ReflectorServer;
  let agentDir: string;
  const cleanups: Array<() => Promise<void> | void> = [];

  beforeAll(async () => {
    server = await startReflectorServer();
    agentDir = await mkdtemp(join(tmpdir(), 'algwatch-flood-agent-'));
  }, 60_000);

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await server?.stop();
    await rm(agentDir, { recursive: true, force: true });
  });

  it('stores no more than the site quota from one token flooding over twenty connections, while a real agent of the site gets its results stored', async () => {
    const token = await addSite(server, 'flooded');
    const flooders = await Promise.all(Array.from({ length: FLOODING_CONNECTIONS }, (_, n) => connectAgent(server.ports.http, token, `flood-${n}`)));
    cleanups.push(() => flooders.forEach((socket) => socket.disconnect()));
    let flooding = true;
    const refusals: string[] = [];
    const quotaRefusals = () => refusals.filter((error) => error.startsWith('site quota exceeded')).length;
    let sent = 0;
    const started = performance.now();
    // Every result its own time, so each is a row of its own (a store keeps one point per series and time).
    const firstStartedAt = Date.now() - 3_600_000;
    const flood = flooders.map(async (socket) => {
      while (flooding) {
        const results = Array.from({ length: MAX_RESULTS_PER_BATCH }, () => ({
          id: randomUUID(), probe: 'stun-mapping', target: 'reflector', startedAt: firstStartedAt + sent++, durationMs: 1, success: false, points: [], detail: null,
        }));
        const ack = (await socket.timeout(30_000).emitWithAck('results', { results })) as { ok: boolean; error?: string };
        if (!ack.ok) refusals.push(ack.error ?? '');
        // The per-connection rate limit answers at once; wait as an agent would before the next batch.
        if (!ack.ok && !ack.error?.startsWith('site quota exceeded')) await sleep(100);
      }
    });

    // The burst is spent and the quota refuses batches before the real agent starts.
    expect(await until(() => quotaRefusals() > 0, 90_000), 'the flood reached the site quota').toBe(true);
    // Legitimate work during the flood: the real agent's first round (SIP ALG, STUN) is stored.
    const agent = startAgent(server, token, join(agentDir, 'frontdesk'), 'frontdesk');
    cleanups.push(() => agent.stop());
    let frontdeskRuns = 0;
    for (let waited = 0; waited < 60_000 && frontdeskRuns === 0; waited += 250) {
      await sleep(250);
      frontdeskRuns = storedRuns(server).get('frontdesk') ?? 0;
    }
    const floodSeconds = (performance.now() - started) / 1000;
    flooding = false;
    await Promise.all(flood);
    const elapsed = (performance.now() - started) / 1000;

    const floodRuns = [...storedRuns(server)].filter(([agentId]) => agentId.startsWith('flood-')).reduce((sum, [, runs]) => sum + runs, 0);
    console.log(`flood: ${sent} results sent in ${elapsed.toFixed(1)} s, ${floodRuns} stored, ${refusals.length} batches refused (${quotaRefusals()} by the site quota); the real agent's first result stored after ${floodSeconds.toFixed(1)} s`);
    expect(frontdeskRuns, "the real agent's results were stored during the flood").toBeGreaterThan(0);
    // Nothing but the two limits refused anything (one line each, with its reason).
    expect(refusals.filter((error) => !/^(site quota exceeded|rate limited)/.test(error))).toEqual([]);
    // The quota: the burst plus the refill over the flood, plus one batch in flight per connection.
    expect(floodRuns).toBeLessThanOrEqual(SITE_RESULTS_BURST + SITE_RESULTS_PER_SECOND * elapsed + FLOODING_CONNECTIONS * MAX_RESULTS_PER_BATCH);
    expect(server.exit()).toBeNull();
  }, 120_000);

  it('answers a real OPTIONS over TCP while 1,120 idle connections from 40 loopback addresses hold the SIP slots', async () => {
    const idle: net.Socket[] = [];
    cleanups.push(() => idle.forEach((socket) => socket.destroy()));
    // 28 per address: under the per-address cap (32), so only the slot count (1,024) stops them.
    for (let address = 0; address < 40; address++) {
      const opened = Array.from({ length: 28 }, () =>
        new Promise<void>((resolve) => {
          const socket = net.connect({ host: '127.0.0.1', port: server.ports.sipTcp, localAddress: `127.0.3.${address + 1}` });
          socket.on('error', () => resolve());
          socket.on('close', () => resolve());
          socket.once('connect', () => resolve());
          idle.push(socket);
        }),
      );
      await Promise.all(opened);
    }
    const stillOpen = idle.filter((socket) => !socket.destroyed && socket.readyState === 'open').length;
    expect(stillOpen).toBeGreaterThanOrEqual(1_024 - 40); // the slots are full of idle connections

    const answer = await new Promise<string>((resolve, reject) => {
      const phone = net.connect({ host: '127.0.0.1', port: server.ports.sipTcp, localAddress: '127.0.4.1' });
      let received = '';
      phone.on('data', (chunk: Buffer) => {
        received += chunk.toString('latin1');
        if (received.includes('\r\n\r\n')) {
          phone.destroy();
          resolve(received);
        }
      });
      phone.on('error', reject);
      phone.on('close', () => resolve(received));
      phone.once('connect', () =>
        phone.write(
          [
            'OPTIONS sip:echo@127.0.0.1 SIP/2.0',
            'Via: SIP/2.0/TCP 127.0.4.1:5060;branch=z9hG4bKslots1;rport',
            'Max-Forwards: 70',
            'From: <sip:phone@127.0.4.1>;tag=slots',
            'To: <sip:echo@127.0.0.1>',
            'Call-ID: slots-under-attack',
            'CSeq: 1 OPTIONS',
            'Content-Length: 0',
            '',
            '',
          ].join('\r\n'),
        ),
      );
    });
    expect(answer.split('\r\n')[0]).toBe('SIP/2.0 200 OK');
    expect(answer).toContain('Call-ID: slots-under-attack');
  }, 120_000);

  it('cuts off an idle real agent whose token is revoked, without waiting for it to send', async () => {
    const token = await addSite(server, 'revoked-site');
    const agent = startAgent(server, token, join(agentDir, 'idle'), 'idle-agent');
    cleanups.push(() => agent.stop());
    expect(await until(() => agent.stderr().includes('connected to'), 30_000), agent.stderr()).toBe(true);
    // Idle: the first round's results are sent and acknowledged, then nothing until the next tick.
    for (let waited = 0; waited < 30_000 && (storedRuns(server).get('idle-agent') ?? 0) === 0; waited += 250) await sleep(250);
    await sleep(1_000);

    const revoked = await runCommand(process.execPath, [SERVER_BIN, 'site', 'revoke', 'revoked-site', '--data-dir', server.dataDir]);
    expect(revoked.code, revoked.stderr).toBe(0);
    const revokedAt = performance.now();
    const ended = await Promise.race([agent.exited, sleep(10_000).then(() => null)]);
    const cutAfterMs = performance.now() - revokedAt;
    console.log(`revoked agent stopped ${cutAfterMs.toFixed(0)} ms after the revocation`);
    expect(ended, 'the agent was cut off and stopped').not.toBeNull();
    expect(agent.stderr() + agent.stdout()).toContain('server refused the token');
  }, 90_000);
});
