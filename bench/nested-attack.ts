/**
 * Server RSS under issue 16's nested-detail attack: one token sends 40 results whose `detail` nests
 * 450,000 levels (900 KB each) on 40 connections, against the real `algwatch-server` binary with its
 * SQLite stores. Baseline: the same process idle, just before. Goal: within 50 MB of idle (issue 16
 * saw +1,000 MB before the bounds). A real result is then sent and must be acknowledged.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { io, type Socket } from 'socket.io-client';
import { runCommand } from '../test/helpers/process.js';
import { startReflectorServer } from '../test/fuzz/server-process.js';
import type { BenchFigure } from './figures.js';

const SERVER_BIN = fileURLToPath(new URL('../server/bin/algwatch-server.js', import.meta.url));
const NESTING = 450_000;
const CONNECTIONS = 40;

function nestedResult(): string {
  const result = { id: randomUUID(), probe: 'stun-mapping', target: 'reflector', startedAt: Date.now(), durationMs: 1, success: true, points: [], detail: 0 };
  return JSON.stringify(result).replace('"detail":0', `"detail":${'['.repeat(NESTING)}${']'.repeat(NESTING)}`);
}

function connect(port: number, token: string, agentId: string): Promise<Socket> {
  const socket = io(`http://127.0.0.1:${port}/agent`, { auth: { token, agentId }, transports: ['websocket'], reconnection: false });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

/** sendRaw writes one `results` event as a raw socket.io packet (no JSON.stringify reaches that depth); resolves when answered or closed. */
function sendRaw(socket: Socket, resultJson: string): Promise<void> {
  const engine = socket.io.engine;
  return new Promise((resolve) => {
    engine.on('message', () => resolve());
    engine.once('close', () => resolve());
    engine.write(`2/agent,1["results",{"results":[${resultJson}]}]`);
  });
}

export async function benchNestedAttack(): Promise<BenchFigure[]> {
  const server = await startReflectorServer();
  const sockets: Socket[] = [];
  try {
    const added = await runCommand(process.execPath, [SERVER_BIN, 'site', 'add', 'attacked', '--data-dir', server.dataDir]);
    if (added.code !== 0) throw new Error(`site add failed: ${added.stderr.trim()}`);
    const token = added.stdout.trim().split('\n').at(-1)!;
    // Idle as a server with one agent connected, the moment before the attack.
    const agent = await connect(server.ports.http, token, 'frontdesk');
    sockets.push(agent);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const idleMiB = server.rssKiB() / 1024;
    let peakMiB = idleMiB;
    const payload = nestedResult();
    for (let i = 0; i < CONNECTIONS; i++) {
      const socket = await connect(server.ports.http, token, `evil-${i}`);
      sockets.push(socket);
      await sendRaw(socket, payload);
      peakMiB = Math.max(peakMiB, server.rssKiB() / 1024);
    }
    const good = { id: randomUUID(), probe: 'stun-mapping', target: 'reflector', startedAt: Date.now(), durationMs: 3, success: true, points: [], detail: { ok: true } };
    const ack = (await agent.timeout(10_000).emitWithAck('results', { results: [good] })) as { ok: boolean };
    const afterMiB = server.rssKiB() / 1024;
    peakMiB = Math.max(peakMiB, afterMiB);
    const mb = (mib: number) => (mib * 1024 * 1024) / 1e6;
    return [
      {
        name: `server RSS after ${CONNECTIONS} results nested ${NESTING.toLocaleString('en-US')} levels (a real result then ${ack.ok ? 'acked' : 'NOT acked'})`,
        value: mb(afterMiB),
        unit: 'MB',
        baseline: mb(idleMiB),
        baselineName: 'idle, same process',
        goal: 'within 50 MB of idle',
        met: ack.ok && mb(afterMiB - idleMiB) <= 50,
      },
      { name: 'server RSS peak during the attack', value: mb(peakMiB), unit: 'MB', baseline: mb(idleMiB), baselineName: 'idle, same process', goal: 'within 50 MB of idle', met: mb(peakMiB - idleMiB) <= 50 },
    ];
  } finally {
    for (const socket of sockets) socket.disconnect();
    await server.stop();
  }
}
