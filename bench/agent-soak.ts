/**
 * Does the agent daemon's memory stay flat over a long run? The real `algwatch-agent run` (launcher
 * flags plus --trace-gc) against the real server runs a schedule about 14 times as busy as the
 * default one with two SIP targets, for ALGWATCH_BENCH_SOAK_MINUTES (default 8): eight minutes make
 * as many probe runs as about two hours of the default schedule. Figures: RSS at the end against
 * RSS after one minute (V8 letting garbage pile up shows here: without --optimize-for-size this
 * went from 50 to 62 MB in 8 minutes), and the V8 heap left after each full GC, which is what a
 * leak grows, per 1,000 runs (a probe run that kept ~2 KB alive, as AbortSignal.any did on Node 20,
 * shows as about 2,000 KB).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchFigure } from './figures.js';
import { launcherNodeFlags } from '../server/src/commands/local.js';
import { addSiteTarget, AGENT_BIN, enrollSite, readLines, readTimeSeries, setSiteSchedule, startCliServer, stopProcess, withoutAlgwatchVariables, type CliServer } from './cli-server.js';
import { processMemoryBytes } from './proc-usage.js';

const MB = 1e6;
/** Every 4 s: 3 SIP ALG runs and 3 keep-alives (OPTIONS to both targets, CRLF to the TLS one) and a STUN mapping; NAT behaviour every 20 s. */
const BUSY_SCHEDULE = { 'sip-alg': '*/4 * * * * *', 'stun-mapping': '*/4 * * * * *', 'nat-behavior': '*/20 * * * * *', 'binding-lifetime': '', keepalive: '*/4 * * * * *' };
/** Runs a day on the default schedule with the same two targets: keep-alives 3 per 30 s, STUN per minute, SIP ALG 3 per 5 min, NAT per hour. */
const DEFAULT_RUNS_PER_DAY = 3 * 2880 + 1440 + 3 * 288 + 24 + 4;

interface FullGc {
  atMs: number;
  heapAfterMb: number;
}

export async function benchAgentSoak(): Promise<BenchFigure[]> {
  const minutes = Number(process.env.ALGWATCH_BENCH_SOAK_MINUTES ?? 8);
  const dataDir = await mkdtemp(join(tmpdir(), 'algwatch-bench-soak-'));
  const serverDir = join(dataDir, 'server');
  let server: CliServer | undefined;
  let agent: ChildProcess | undefined;
  try {
    const token = await enrollSite('soak', serverDir);
    await setSiteSchedule('soak', BUSY_SCHEDULE, serverDir);
    server = await startCliServer(serverDir);
    await addSiteTarget('soak', 'pbx', `${server.bind}:${server.sipPort}`, 'udp', serverDir);
    await addSiteTarget('soak', 'trunk', `${server.bind}:${server.tlsPort}`, 'tls', serverDir);
    const flags = launcherNodeFlags(readFileSync(AGENT_BIN, 'utf8'));
    agent = spawn(process.execPath, [...flags, '--trace-gc', AGENT_BIN, 'run', '--server', server.httpUrl, '--data-dir', join(dataDir, 'agent'), '--agent-id', 'soak-agent'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: withoutAlgwatchVariables({ ALGWATCH_TOKEN: token }),
    });
    const startedAt = performance.now();
    const fullGcs: FullGc[] = [];
    const warnings: string[] = [];
    readLines(agent.stdout!, (line) => {
      // --trace-gc: "... Mark-Compact 12.5 (13.8) -> 6.7 (13.8) MB, ..."
      const gc = /Mark-Compact.*?-> ([\d.]+) \(/.exec(line);
      if (gc) fullGcs.push({ atMs: performance.now() - startedAt, heapAfterMb: Number(gc[1]) });
    });
    readLines(agent.stderr!, (line) => {
      if (/"level":"(warn|error)"/.test(line)) warnings.push(line);
    });
    await sleep(60_000);
    const rssAtOneMinute = (await processMemoryBytes(agent.pid!)).rss;
    await sleep(Math.max(0, minutes - 1) * 60_000);
    const rssAtEnd = (await processMemoryBytes(agent.pid!)).rss;
    if (agent.exitCode !== null) throw new Error(`the agent exited with ${agent.exitCode}`);
    const runs = storedRuns(serverDir);
    // The full GCs of the first minute tidy up after start-up; the trend is in the later ones.
    const steady = fullGcs.filter((gc) => gc.atMs > 60_000);
    process.stdout.write(
      `note: ${minutes} min, ${runs} probe runs stored (${((runs / DEFAULT_RUNS_PER_DAY) * 24).toFixed(1)} hours of the default schedule with two targets); ` +
        `full GCs after the first minute: ${steady.map((gc) => `${gc.heapAfterMb} MB at ${Math.round(gc.atMs / 1000)} s`).join(', ') || 'none'}; agent warnings: ${warnings.length}\n`,
    );
    const figures: BenchFigure[] = [
      {
        name: `agent RSS after ${minutes} min at ~14× the default schedule's run rate`,
        value: rssAtEnd / MB,
        unit: 'MB',
        goal: '< 60 MB, and flat',
        met: rssAtEnd < 60 * MB,
        baseline: rssAtOneMinute / MB,
        baselineName: 'the same agent after 1 min',
      },
    ];
    if (steady.length >= 2) {
      const first = steady[0]!;
      const last = steady.at(-1)!;
      const runsBetween = (runs * (last.atMs - first.atMs)) / (performance.now() - startedAt);
      figures.push({
        name: `agent V8 heap after a full GC, growth per 1,000 probe runs (${steady.length} full GCs, ${Math.round(runsBetween)} runs between the first and the last)`,
        value: ((last.heapAfterMb - first.heapAfterMb) * 1000 * 1000) / Math.max(1, runsBetween),
        unit: 'KB',
        goal: 'about 0 (a leak of 1 KB per run is 1,000)',
        met: last.heapAfterMb - first.heapAfterMb < (Math.max(1, runsBetween) * 0.25) / 1000,
        baseline: first.heapAfterMb * 1000,
        baselineName: 'the heap after the first of those full GCs',
      });
    } else {
      process.stdout.write(`note: only ${steady.length} full GC after the first minute: too few to give the heap's trend; run longer (ALGWATCH_BENCH_SOAK_MINUTES)\n`);
    }
    return figures;
  } finally {
    if (agent) await stopProcess(agent);
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** storedRuns counts the probe_run points the server stored: one per probe run of the agent. */
function storedRuns(serverDataDir: string): number {
  return readTimeSeries(serverDataDir, (db) => (db.prepare('SELECT count(*) AS n FROM probe_run').get() as { n: number }).n);
}
