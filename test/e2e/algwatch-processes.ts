/**
 * Runs the real algwatch binaries inside the testbed: `algwatch-server` in the wan namespace and
 * `algwatch-agent check --json` in the lan namespace, exactly as an operator and a technician would.
 */
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkReportSchema, type CheckReport } from '@algwatch/protocol/check-report';
import type { ManagedProcess } from '../helpers/process.js';
import { registerExitCleanup } from '../testbed/namespace-cleanup.js';
import { TESTBED_ADDRESSES, type Topology } from '../testbed/topology.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SERVER_BIN = join(REPO, 'server/bin/algwatch-server.js');
const AGENT_BIN = join(REPO, 'agent/bin/algwatch-agent.js');
/** The launchers import the compiled CLIs; without them every e2e test would fail for one reason. */
const BUILT = [join(REPO, 'server/dist/cli.js'), join(REPO, 'agent/dist/bundle/algwatch-agent.js')];

/** The pino line the server logs once every listener (SIP, TLS, STUN, HTTP) is up. */
const SERVER_READY = /algwatch server listening/;
export const SERVER_HTTP_PORT = 8080;

/**
 * assertBuilt throws one actionable line when the binaries have not been compiled, and warns when a
 * workspace's sources are newer than its build (the tests would run yesterday's code).
 */
export function assertBuilt(): void {
  const missing = BUILT.filter((file) => !existsSync(file));
  if (missing.length > 0) throw new Error(`${missing.join(', ')} missing: run \`npm run build\` in the repository root first`);
  if (staleWarned) return;
  const stale = ['protocol', 'agent', 'server'].filter(
    (workspace) => newestMtime(join(REPO, workspace, 'src'), /(?<!\.test)\.ts$/) > newestMtime(join(REPO, workspace, 'dist'), /\.js$/),
  );
  // `tsc -b` alone leaves the agent bundle (what the launcher runs) behind the compiled agent.
  const compiledAgent = Math.max(newestMtime(join(REPO, 'agent/dist'), /^(?!bundle\/).*\.js$/), newestMtime(join(REPO, 'protocol/dist'), /\.js$/));
  if (statSync(BUILT[1]!).mtimeMs < compiledAgent) stale.push('the agent bundle');
  if (stale.length > 0) {
    staleWarned = true;
    console.warn(`e2e: the build of ${stale.join(', ')} is older than the code: run \`npm run build\` to test the current code`);
  }
}

let staleWarned = false;

function newestMtime(dir: string, pattern: RegExp): number {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    if (pattern.test(entry)) newest = Math.max(newest, statSync(join(dir, entry)).mtimeMs);
  }
  return newest;
}

export interface RunningServer {
  process: ManagedProcess;
  dataDir: string;
  /** stop ends the server and removes its data directory. */
  stop(): Promise<void>;
}

/**
 * startAlgwatchServer starts the server in the wan namespace on 203.0.113.10 with 203.0.113.11 as
 * the RFC 5780 alternate address, and resolves once it logs that it is listening. It rejects with
 * the server's last stderr lines when it exits or stays silent for 20 s.
 */
export async function startAlgwatchServer(topology: Topology): Promise<RunningServer> {
  assertBuilt();
  const dataDir = await mkdtemp(join(tmpdir(), 'algwatch-e2e-'));
  const forgetDataDir = registerExitCleanup(() => rmSync(dataDir, { recursive: true, force: true }));
  const server = topology.spawn('wan', process.execPath, [
    SERVER_BIN,
    '--bind',
    TESTBED_ADDRESSES.server,
    '--alt-address',
    TESTBED_ADDRESSES.serverAlt,
    '--data-dir',
    dataDir,
    '--http-port',
    String(SERVER_HTTP_PORT),
  ]);
  const stop = async () => {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
    forgetDataDir();
  };
  try {
    await server.waitForOutput(SERVER_READY, 20_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { process: server, dataDir, stop };
}

/** CheckRun is one `algwatch-agent check --json` run: exit code, raw output, and the parsed report. */
export interface CheckRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The report when stdout held one that matches checkReportSchema; null otherwise. */
  report: CheckReport | null;
}

/**
 * runAgentCheck runs `algwatch-agent check --server 203.0.113.10 --json ...extraArgs` in the lan
 * namespace. A stdout that is not a schema-valid report is an error (the JSON is a contract), unless
 * the agent exited 2 ("could not run"), which prints nothing on stdout.
 */
export async function runAgentCheck(topology: Topology, extraArgs: string[] = [], timeoutMs = 60_000): Promise<CheckRun> {
  assertBuilt();
  const result = await topology.exec('lan', process.execPath, [AGENT_BIN, 'check', '--server', TESTBED_ADDRESSES.server, '--json', ...extraArgs], {
    timeoutMs,
  });
  let report: CheckReport | null = null;
  if (result.stdout.trim() !== '') {
    const parsed = checkReportSchema.safeParse(safeJson(result.stdout));
    if (!parsed.success) {
      throw new Error(`algwatch-agent check printed a report that breaks the schema (exit ${result.code}): ${parsed.error.message.slice(0, 500)}`);
    }
    report = parsed.data;
  }
  return { code: result.code, stdout: result.stdout, stderr: result.stderr, report };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** requireReport returns the report or throws with what the agent said instead. */
export function requireReport(run: CheckRun): CheckReport {
  if (run.report) return run.report;
  throw new Error(`algwatch-agent check printed no report (exit ${run.code}): ${run.stderr.trim() || '(empty stderr)'}`);
}
