/**
 * `npm run bench -- dashboard-fleet`: the fleet at 5,000 sites. A real server process holds 5,000
 * enrolled sites, each with a SIP ALG and a STUN result sent over the agents' socket.io protocol;
 * then it measures
 * - GET /api/fleet (all 5,000 rows, median of 10) against GET /healthz on the same server;
 * - the fleet page in Chromium, from navigation start to its first screen (the worst 200 sites, mark
 *   `fleet-rendered`) and to every row in the table (mark `fleet-complete`), median of 3, against
 *   the login page's DOMContentLoaded in the same browser.
 */
import { openRelationalStore } from '../server/src/relational/open.js';
import { launchChromium } from '../test/helpers/chromium.js';
import { makeDataDir, cli, lastLine, startDashboardServer } from '../test/helpers/dashboard-server.js';
import { logIn } from '../test/helpers/dashboard-session.js';
import { connectAgent, sendResults, sipAlgResult, stunResult } from '../test/helpers/socket-agent.js';
import type { BenchFigure } from './figures.js';

const SITES = 5_000;
const TENANTS = 50;
const PARALLEL_AGENTS = 50;

export async function benchDashboardFleet(): Promise<BenchFigure[]> {
  const dataDir = await makeDataDir();
  const password = lastLine(await cli(dataDir, ['user', 'add', 'bench', '--role', 'admin']));
  const tokens: string[] = [];
  const store = await openRelationalStore({ dataDir });
  try {
    for (let i = 0; i < SITES; i++) tokens.push((await store.createSite(`site-${i}`, `tenant-${i % TENANTS}`)).token);
  } finally {
    await store.close();
  }
  const server = await startDashboardServer(dataDir);
  try {
    // Every site gets results through ingest, as its agents would: the fleet rows are full.
    for (let start = 0; start < tokens.length; start += PARALLEL_AGENTS) {
      await Promise.all(
        tokens.slice(start, start + PARALLEL_AGENTS).map(async (token, offset) => {
          const agent = await connectAgent(server.base, token);
          const n = start + offset;
          const rewrites = n % 7 === 0 ? [{ direction: 'outbound' as const, field: 'Via', sent: 'SIP/2.0/UDP 10.0.0.2:5060', received: 'SIP/2.0/UDP 203.0.113.1:5060' }] : [];
          await sendResults(agent, [sipAlgResult('udp', rewrites), stunResult(`198.51.100.${n % 250}`, 40000 + (n % 20000))]);
          agent.close();
        }),
      );
    }
    const session = await logIn(server.base, 'bench', password);
    const timeGet = async (path: string) => {
      const started = performance.now();
      const response = await fetch(`${server.base}${path}`, { headers: { cookie: session.cookie } });
      const body = await response.text();
      if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
      return { ms: performance.now() - started, bytes: body.length };
    };
    const api: number[] = [];
    const health: number[] = [];
    let apiBytes = 0;
    for (let i = 0; i < 10; i++) {
      const fleet = await timeGet('/api/fleet');
      api.push(fleet.ms);
      apiBytes = fleet.bytes;
      health.push((await timeGet('/healthz')).ms);
    }

    const browser = await launchChromium();
    const renders: number[] = [];
    const completes: number[] = [];
    const loginLoads: number[] = [];
    try {
      const context = await browser.newContext();
      const [name, value] = session.cookie.split('=') as [string, string];
      await context.addCookies([{ name, value, url: server.base }]);
      const page = await context.newPage();
      for (let i = 0; i < 3; i++) {
        await page.goto(`${server.base}/`);
        await page.waitForFunction(() => performance.getEntriesByName('fleet-complete').length > 0, undefined, { timeout: 60_000 });
        const rows = await page.locator('table.fleet tbody tr').count();
        if (rows !== SITES) throw new Error(`the fleet page shows ${rows} rows, not ${SITES}`);
        const mark = (name: string) => page.evaluate((n) => (performance.getEntriesByName(n)[0] as { startTime: number }).startTime, name);
        renders.push(await mark('fleet-rendered'));
        completes.push(await mark('fleet-complete'));
        const login = await browser.newPage();
        await login.goto(`${server.base}/login`);
        loginLoads.push(
          await login.evaluate(() => (performance as unknown as { getEntriesByType(type: string): Array<{ domContentLoadedEventEnd: number }> }).getEntriesByType('navigation')[0]?.domContentLoadedEventEnd ?? NaN),
        );
        await login.close();
      }
    } finally {
      await browser.close();
    }
    const apiMs = median(api);
    const renderMs = median(renders);
    return [
      { name: `GET /api/fleet, ${SITES} sites (${Math.round(apiBytes / 1024)} KB, median of 10)`, value: apiMs, unit: 'ms', baseline: median(health), baselineName: 'GET /healthz' },
      { name: `fleet page first render in Chromium, ${SITES} sites, worst first (median of 3)`, value: renderMs, unit: 'ms', goal: 'under 1000 ms', met: renderMs < 1000, baseline: median(loginLoads), baselineName: 'login page DOMContentLoaded' },
      { name: `fleet page with all ${SITES} rows in the table (median of 3)`, value: median(completes), unit: 'ms', baseline: median(loginLoads), baselineName: 'login page DOMContentLoaded' },
    ];
  } finally {
    await server.stop();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}
