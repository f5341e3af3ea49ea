/**
 * `algwatch-agent run`: the daemon. Probes on the server's schedule, keeps every result in an
 * on-disk outbox and delivers it to the server over socket.io. Runs until SIGINT/SIGTERM (exit 0)
 * or until the server refuses its token (exit 2, one line on stderr); bad configuration exits 2
 * with every problem on its own line.
 */
import { readFile } from 'node:fs/promises';
import { parseRunConfig, prepareDataDir, RunConfigError } from '../daemon/config.js';
import { createLogger } from '../daemon/log.js';

export const RUN_USAGE =
  'usage: algwatch-agent run --server URL --token TOKEN [--data-dir DIR] [--agent-id ID] [--config FILE] [--debug]\n' +
  '       (or ALGWATCH_SERVER, ALGWATCH_TOKEN, ALGWATCH_DATA_DIR, ALGWATCH_AGENT_ID; flags win over variables over the config file)';

/** runCommand runs the daemon and resolves to the process exit code: 0 stopped by a signal, 2 could not run. */
export async function runCommand(argv: string[]): Promise<number> {
  let config;
  try {
    config = parseRunConfig(argv);
  } catch (err) {
    if (!(err instanceof RunConfigError)) throw err;
    for (const problem of err.problems) process.stderr.write(`algwatch-agent run: ${problem}\n`);
    process.stderr.write(`${RUN_USAGE}\n`);
    return 2;
  }
  if (config.help) {
    process.stdout.write(`${RUN_USAGE}\n`);
    return 0;
  }
  const log = createLogger({ debug: config.debug });
  let agentId: string;
  try {
    agentId = await prepareDataDir(config.dataDir, config.agentId);
  } catch (err) {
    process.stderr.write(`algwatch-agent run: ${(err as Error).message}\n`);
    return 2;
  }
  const agentVersion = await readAgentVersion();
  // Lazy: socket.io-client and node-cron load only for `run`, never for `check`.
  const { Daemon } = await import('../daemon/daemon.js');
  const daemon = await Daemon.start({ server: config.server, token: config.token, agentId, dataDir: config.dataDir, log, agentVersion });
  log.info(`algwatch-agent ${agentVersion} running as ${agentId}, reporting to ${config.server}, data in ${config.dataDir}`);

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      // A second Ctrl-C: the person wants out now; the outbox is fsynced, nothing acked is lost.
      process.stderr.write(`algwatch-agent run: ${signal} again, exiting without waiting\n`);
      process.exit(130);
    }
    log.info(`${signal}: stopping (results still waiting stay in the outbox for the next start)`);
    void daemon.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const exit = await daemon.done;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  if (exit.code !== 0) process.stderr.write(`algwatch-agent run: ${exit.message ?? 'stopped'}\n`);
  return exit.code;
}

async function readAgentVersion(): Promise<string> {
  try {
    // src/commands/run.ts, dist/commands/run.js and the bundle dist/bundle/algwatch-agent.js all sit
    // two levels under agent/.
    const text = await readFile(new URL('../../package.json', import.meta.url), 'utf8');
    return (JSON.parse(text) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}
