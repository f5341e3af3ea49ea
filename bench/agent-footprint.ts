/**
 * The agent daemon's footprint on a site's box: the real `algwatch-agent run` against the real
 * server (embedded storage, reflectors on free non-standard ports of a fresh loopback address) on the
 * server's DEFAULT schedule, with two SIP targets for the keep-alives (UDP and TLS), measured from /proc after it settled: RSS (goal < 60 MB) and CPU (goal
 * < 1 % of one core). Baseline: an idle `node -e "setInterval(() => {}, 1000)"` measured the same
 * way over the same window.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchFigure } from './figures.js';
import { addSiteTarget, AGENT_BIN, enrollSite, readLines, readTimeSeries, startCliServer, stopProcess, withoutAlgwatchVariables, type CliServer } from './cli-server.js';
import { processMemoryBytes, processRunSeconds } from './proc-usage.js';

const SETTLE_MS = 15_000;
const WINDOW_MS = 75_000; // always holds at least one stun-mapping tick (every minute)
const MB = 1e6;

interface Footprint {
  cpuShare: number;
  meanRssBytes: number;
  maxRssBytes: number;
  meanAnonBytes: number;
}

export async function benchAgentFootprint(): Promise<BenchFigure[]> {
  const dataDir = await mkdtemp(join(tmpdir(), 'algwatch-bench-agent-'));
  let server: CliServer | undefined;
  const children: ChildProcess[] = [];
  try {
    const token = await enrollSite('footprint', join(dataDir, 'server'));
    server = await startCliServer(join(dataDir, 'server'));
    // A site's keep-alive slot watches its own SIP peers; the reflector stands in for a PBX on UDP
    // (OPTIONS every 30 s) and a trunk on TLS (OPTIONS and CRLF every 30 s, one more TLS session).
    await addSiteTarget('footprint', 'pbx', `${server.bind}:${server.sipPort}`, 'udp', join(dataDir, 'server'));
    await addSiteTarget('footprint', 'trunk', `${server.bind}:${server.tlsPort}`, 'tls', join(dataDir, 'server'));
    const agentLog: string[] = [];
    const spawnedAt = Date.now();
    // The launcher itself, as `algwatch-agent run` starts it: its shebang carries the agent's Node flags.
    const agent = spawn(AGENT_BIN, ['run', '--server', server.httpUrl, '--data-dir', join(dataDir, 'agent'), '--agent-id', 'footprint-agent'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: withoutAlgwatchVariables({ ALGWATCH_TOKEN: token }),
    });
    children.push(agent);
    readLines(agent.stdout!, (line) => agentLog.push(line));
    readLines(agent.stderr!, (line) => agentLog.push(line));
    const idle = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    children.push(idle);

    await waitFor(() => server!.output.some((line) => line.includes('agent connected')), 20_000, () => `the agent did not connect: ${agentLog.slice(-3).join(' | ')}`);
    await sleep(SETTLE_MS);
    if (agent.exitCode !== null) throw new Error(`the agent exited with ${agent.exitCode}: ${agentLog.slice(-3).join(' | ')}`);
    const [agentUse, idleUse] = await Promise.all([measure(agent.pid!, WINDOW_MS), measure(idle.pid!, WINDOW_MS)]);
    const stored = storedResults(join(dataDir, 'server'), spawnedAt);
    process.stdout.write(
      `note: server ${server.httpUrl}, reflectors on ${server.bind} ports ${server.ports}; results the server stored from the agent since it started: ${stored}; ` +
        `agent warnings: ${agentLog.filter((line) => /warn|error/i.test(line)).length}\n`,
    );
    return [
      {
        name: `agent RSS, mean over ${WINDOW_MS / 1000} s on the default schedule (max ${(agentUse.maxRssBytes / MB).toFixed(1)} MB)`,
        value: agentUse.meanRssBytes / MB,
        unit: 'MB',
        goal: '< 60 MB',
        met: agentUse.maxRssBytes < 60 * MB,
        baseline: idleUse.meanRssBytes / MB,
        baselineName: 'idle node process',
      },
      {
        name: 'agent private memory (RssAnon: RSS less the node binary and files every Node process shares), mean',
        value: agentUse.meanAnonBytes / MB,
        unit: 'MB',
        baseline: idleUse.meanAnonBytes / MB,
        baselineName: 'idle node process',
      },
      {
        name: `agent CPU over ${WINDOW_MS / 1000} s on the default schedule`,
        value: agentUse.cpuShare * 100,
        unit: '% of one core',
        goal: '< 1 %',
        met: agentUse.cpuShare < 0.01,
        baseline: idleUse.cpuShare * 100,
        baselineName: 'idle node process',
      },
    ];
  } finally {
    for (const child of children) await stopProcess(child);
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** measure samples a process's RSS every second for windowMs, and its threads' time on a core at both ends. */
async function measure(pid: number, windowMs: number): Promise<Footprint> {
  const cpuBefore = await processRunSeconds(pid);
  const started = performance.now();
  const samples: Array<{ rss: number; anon: number }> = [];
  while (performance.now() - started < windowMs) {
    samples.push(await processMemoryBytes(pid));
    await sleep(1_000);
  }
  const seconds = (performance.now() - started) / 1000;
  const cpuShare = ((await processRunSeconds(pid)) - cpuBefore) / seconds;
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  return {
    cpuShare,
    meanRssBytes: mean(samples.map((s) => s.rss)),
    maxRssBytes: Math.max(...samples.map((s) => s.rss)),
    meanAnonBytes: mean(samples.map((s) => s.anon)),
  };
}

/** storedResults counts the points in the server's embedded time-series file since sinceMs, per measurement and result. */
function storedResults(serverDataDir: string, sinceMs: number): string {
  return readTimeSeries(serverDataDir, (db) => {
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as Array<{ name: string }>;
    const counts: string[] = [];
    for (const { name } of tables) {
      const columns = (db.prepare(`SELECT name FROM pragma_table_info(?)`).all(name) as Array<{ name: string }>).map((column) => column.name);
      // Probe measurements say how each run went in their `result` tag; probe_run in `success`.
      const outcome = columns.includes('result') ? 'result' : columns.includes('success') ? `probe || ':' || iif(success, 'ok', 'failed')` : null;
      if (!outcome) continue;
      const rows = db.prepare(`SELECT ${outcome} AS result, count(*) AS n FROM "${name}" WHERE time_ms >= ? GROUP BY 1`).all(sinceMs) as Array<{ result: string; n: number }>;
      for (const row of rows) counts.push(`${name} ${row.result}=${row.n}`);
    }
    return counts.length > 0 ? counts.join(', ') : 'none';
  });
}

async function waitFor(condition: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(describe());
    await sleep(100);
  }
}
