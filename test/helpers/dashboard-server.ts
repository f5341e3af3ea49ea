/**
 * A real `algwatch-server` process on loopback for dashboard tests and benches, with users and
 * sites created through its own CLI (`user add`, `site add`) exactly as an operator would.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand, startProcess, type ManagedProcess } from './process.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const SERVER_BIN = join(REPO, 'server/bin/algwatch-server.js');
const UI_INDEX = join(REPO, 'server/dist-ui/index.html');

export interface DashboardServer {
  base: string;
  dataDir: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

/** cli runs `algwatch-server ARGS --data-dir DIR` and returns its stdout; throws with stderr on a non-zero exit. */
export async function cli(dataDir: string, args: string[]): Promise<string> {
  const result = await runCommand(process.execPath, [SERVER_BIN, ...args, '--data-dir', dataDir]);
  if (result.code !== 0) throw new Error(`algwatch-server ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`);
  return result.stdout;
}

/** lastLine is what `user add` and `site add` print alone on their last line (password, token). */
export const lastLine = (stdout: string) => stdout.trimEnd().split('\n').at(-1) as string;

export async function makeDataDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'algwatch-dashboard-'));
}

/** startDashboardServer starts the server on 127.0.0.1 (every port 0) and resolves once it listens. */
export async function startDashboardServer(dataDir: string, extraArgs: string[] = []): Promise<DashboardServer> {
  if (!existsSync(UI_INDEX)) throw new Error(`${UI_INDEX} missing: run \`npm run build\` in the repository root first`);
  const server = startProcess(process.execPath, [
    SERVER_BIN,
    '--bind', '127.0.0.1', '--sip-port', '0', '--tls-port', '0', '--stun-port', '0', '--http-port', '0', '--data-dir', dataDir,
    ...extraArgs,
  ]);
  const line = await server.waitForOutput(/algwatch server listening/, 30_000);
  const { httpPort } = JSON.parse(line) as { httpPort: number };
  return {
    base: `http://127.0.0.1:${httpPort}`,
    dataDir,
    process: server,
    async stop() {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
