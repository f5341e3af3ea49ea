/**
 * `npm run bench -- dashboard-live`: how fast a stored result reaches an open dashboard, and what
 * open dashboards cost. A real server process holds AGENTS enrolled sites, one connected agent each
 * (socket.io, the real protocol); 50 dashboard sessions are connected to `/dashboard` (logged in,
 * as browsers are). Each agent then sends one result, spread over a few seconds, and the bench
 * measures, per result, the time from sending it to its `siteUpdate` arriving at a dashboard
 * socket, against the time to the agent's ack (stored) in the same run; and the server's RSS with
 * the agents alone and with the 50 sessions open.
 */
import { io as connect, type Socket } from 'socket.io-client';
import { DASHBOARD_NAMESPACE, siteUpdateSchema } from '@algwatch/protocol/dashboard';
import { openRelationalStore } from '../server/src/relational/open.js';
import { cli, lastLine, makeDataDir, startDashboardServer } from '../test/helpers/dashboard-server.js';
import { logIn } from '../test/helpers/dashboard-session.js';
import { connectAgent, stunResult, type AgentSocket } from '../test/helpers/socket-agent.js';
import { processRssBytes } from './proc-usage.js';
import type { BenchFigure } from './figures.js';

const AGENTS = Number(process.env.ALGWATCH_BENCH_AGENTS ?? 2_000);
const SESSIONS = 50;
const SPREAD_MS = 5_000;

export async function benchDashboardLive(): Promise<BenchFigure[]> {
  const dataDir = await makeDataDir();
  const password = lastLine(await cli(dataDir, ['user', 'add', 'bench', '--role', 'admin']));
  const tokens: string[] = [];
  const store = await openRelationalStore({ dataDir });
  try {
    for (let i = 0; i < AGENTS; i++) tokens.push((await store.createSite(`site-${i}`, `tenant-${i % 50}`)).token);
  } finally {
    await store.close();
  }
  const server = await startDashboardServer(dataDir);
  const agents: AgentSocket[] = [];
  const dashboards: Socket[] = [];
  try {
    // Under the per-address limit of connections not yet logged in (ingest/handshake-guard.ts).
    for (let start = 0; start < tokens.length; start += 10) agents.push(...(await Promise.all(tokens.slice(start, start + 10).map((token) => connectAgent(server.base, token)))));
    const pid = server.process.pid as number;
    const rssAgents = await processRssBytes(pid);

    const sent = new Map<string, number>();
    const visible: number[] = [];
    for (let i = 0; i < SESSIONS; i++) {
      const session = await logIn(server.base, 'bench', password);
      const socket = connect(`${server.base}${DASHBOARD_NAMESPACE}`, { forceNew: true, transports: ['websocket'], reconnection: false, extraHeaders: { cookie: session.cookie } });
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      });
      if (i === 0) {
        // One session measures; every session receives (and costs) the same events.
        socket.on('siteUpdate', (raw: unknown) => {
          const now = performance.now();
          for (const result of siteUpdateSchema.parse(raw).results) {
            const at = sent.get(result.id);
            if (at !== undefined) visible.push(now - at);
          }
        });
      }
      dashboards.push(socket);
    }
    const rssSessions = await processRssBytes(pid);

    const acked: number[] = [];
    await Promise.all(
      agents.map(async (agent, index) => {
        await new Promise((resolve) => setTimeout(resolve, (index / agents.length) * SPREAD_MS));
        const result = stunResult(`198.51.100.${index % 250}`, 1024 + index);
        const started = performance.now();
        sent.set(result.id, started);
        await agent.timeout(30_000).emitWithAck('results', { results: [result] });
        acked.push(performance.now() - started);
      }),
    );
    const deadline = Date.now() + 30_000;
    while (visible.length < agents.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    if (visible.length < agents.length) throw new Error(`only ${visible.length} of ${agents.length} results reached the dashboard within 30 s`);
    const p = (values: number[], q: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * q))] as number;
    return [
      { name: `result sent -> visible on an open dashboard, ${AGENTS} agents connected, p50`, value: p(visible, 0.5), unit: 'ms', baseline: p(acked, 0.5), baselineName: 'result sent -> stored (ack) p50' },
      { name: `result sent -> visible on an open dashboard, ${AGENTS} agents connected, p99`, value: p(visible, 0.99), unit: 'ms', goal: 'p99 under 500 ms', met: p(visible, 0.99) < 500, baseline: p(acked, 0.99), baselineName: 'result sent -> stored (ack) p99' },
      { name: `server RSS with ${SESSIONS} dashboard sessions open`, value: rssSessions / 1024 / 1024, unit: 'MB', baseline: rssAgents / 1024 / 1024, baselineName: `${AGENTS} agents, no dashboard` },
    ];
  } finally {
    for (const socket of [...dashboards, ...agents]) socket.close();
    await server.stop();
  }
}
