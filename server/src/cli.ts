/**
 * algwatch-server: `algwatch-server [serve] [flags]` runs the server; `algwatch-server site ...`
 * manages sites and agent tokens; `algwatch-server channel ...` where alerts go. Exit codes: 0 ok, 2 could not run (one line on stderr).
 */
import pino, { type Logger } from 'pino';
import { ConfigError, parseServerConfig, type ServerConfig } from './config.js';
import { startServer, StartupError } from './server.js';
import { siteCommand, SITE_USAGE } from './commands/site.js';
import { userCommand, USER_USAGE } from './commands/user.js';
import { alertsCommand, ALERTS_USAGE } from './commands/alerts.js';
import { silenceCommand, SILENCE_USAGE } from './commands/silence.js';
import { ruleCommand, RULE_USAGE } from './commands/rule.js';
import { channelCommand, CHANNEL_USAGE } from './commands/channel.js';
import { backupCommand, BACKUP_USAGE } from './commands/backup.js';

const USAGE = `usage: algwatch-server [serve|local] [--config FILE] [--bind ADDR] [--alt-address ADDR] [--sip-port N] [--tls-port N]
                       [--stun-port N] [--stun-alt-port N] [--http-port N] [--data-dir DIR]
                       [--influx-url URL] [--database-url URL] [--tls-cert FILE --tls-key FILE]
                       [--smtp-from ADDR] [--public-url URL] [--agent-offline-after D] [--alert-group-wait D]
                       [--alert-group-interval D] [--alert-repeat-interval D] [--notify-timeout D]
                       [--notify-attempts N] [--metrics-port N] [--metrics-bind ADDR] [--metrics-token TOKEN] [--debug]
       (every flag also as ALGWATCH_* variable and as a key of the --config file; flags win over variables over the file)
       algwatch-server ${SITE_USAGE.replace(/^usage: /, "")}
       algwatch-server ${USER_USAGE.replace(/^usage: /, "")}
       algwatch-server ${CHANNEL_USAGE.replace(/^usage: /, "")}
       algwatch-server ${ALERTS_USAGE.replace(/^usage: /, "")}
       algwatch-server ${SILENCE_USAGE.replace(/^usage: /, "")}
       algwatch-server ${RULE_USAGE.replace(/^usage: /, "")}
       algwatch-server ${BACKUP_USAGE.replace(/^usage: /, "")}`;

/** The store commands: each takes --data-dir / --database-url, defaulting to ALGWATCH_* variables. */
const STORE_COMMANDS = { site: siteCommand, user: userCommand, alerts: alertsCommand, silence: silenceCommand, rule: ruleCommand } as const;

/** main runs the CLI and resolves to an exit code (undefined while the server keeps running). */
export async function main(argv: string[]): Promise<number | undefined> {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (command !== undefined && Object.hasOwn(STORE_COMMANDS, command)) {
    return STORE_COMMANDS[command as keyof typeof STORE_COMMANDS](rest, {
      dataDir: process.env.ALGWATCH_DATA_DIR ?? './data',
      ...(process.env.ALGWATCH_DATABASE_URL ? { databaseUrl: process.env.ALGWATCH_DATABASE_URL } : {}),
    });
  }
  if (command === 'channel') {
    return channelCommand(rest, {
      dataDir: process.env.ALGWATCH_DATA_DIR ?? './data',
      ...(process.env.ALGWATCH_DATABASE_URL ? { databaseUrl: process.env.ALGWATCH_DATABASE_URL } : {}),
      ...(process.env.ALGWATCH_SMTP_FROM ? { smtpFrom: process.env.ALGWATCH_SMTP_FROM } : {}),
    });
  }
  if (command === 'backup') return backupCommand(rest);
  if (command === 'local') return local(rest);
  if (command === undefined || command === 'serve' || command.startsWith('-')) {
    return serve(command === 'serve' ? rest : argv);
  }
  process.stderr.write(`algwatch-server: unknown command ${command}\n${USAGE}\n`);
  return 2;
}

/** local runs server + enrolled local agent on loopback with embedded storage (npm start). */
async function local(argv: string[]): Promise<number | undefined> {
  // Linux answers on all of 127/8, so loopback has a second address for the RFC 5780 tests.
  const loopbackDefaults = { ALGWATCH_BIND: '127.0.0.1', ...(process.platform === 'linux' ? { ALGWATCH_ALT_ADDRESS: '127.0.0.2' } : {}) };
  return serve(argv, { ...loopbackDefaults, ...process.env }, async (config, log) => {
    const { runLocal } = await import('./commands/local.js');
    await runLocal(config, log);
  });
}

async function serve(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  run?: (config: ServerConfig, log: Logger) => Promise<void>,
): Promise<number | undefined> {
  let config;
  try {
    config = parseServerConfig(argv, env);
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const problem of err.problems) process.stderr.write(`algwatch-server: ${problem}\n`);
      return 2;
    }
    throw err;
  }
  const log = pino({ level: config.debug ? 'debug' : 'info', base: { service: 'algwatch-server' } });
  try {
    if (run) {
      await run(config, log);
      return undefined;
    }
    const server = await startServer(config, log);
    const stop = (signal: string) => {
      log.info({ signal }, 'shutting down');
      server.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    return undefined;
  } catch (err) {
    if (err instanceof StartupError && !config.debug) {
      process.stderr.write(`algwatch-server: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`algwatch-server: ${config.debug ? (err as Error).stack : (err as Error).message}\n`);
    return 2;
  }
}
