/**
 * Server configuration: flags, then `ALGWATCH_*` environment variables, then the config file
 * (`--config FILE` or ALGWATCH_CONFIG, see config-file.ts), then defaults, parsed by one schema.
 * Every problem is reported at once, one line each, so a technician fixes them in one go.
 */
import { parseArgs } from 'node:util';
import { isIP } from 'node:net';
import { z } from 'zod';
import { flagError } from '@algwatch/protocol/cli-flags';
import { readConfigFile, type ConfigFileSetting } from './config-file.js';
import { parseDuration } from './alerting/durations.js';

const port = z
  .string()
  .refine((value) => /^\d{1,5}$/.test(value) && Number(value) <= 65535, 'must be a port number from 0 to 65535')
  .transform(Number);

/** A duration flag (`90s`, `2m`, `4h`) in milliseconds. */
const duration = z
  .string()
  .refine((value) => parseDuration(value) !== null, 'must be a duration like 90s, 2m or 4h')
  .transform((value) => parseDuration(value) as number);

const serverConfigSchema = z.object({
  bind: z.string().refine((value) => isIP(value) !== 0, 'must be an IP address, e.g. 0.0.0.0 or 203.0.113.10'),
  altAddress: z
    .string()
    .refine((value) => isIP(value) !== 0, 'must be an IP address of this host')
    .optional(),
  sipPort: port,
  tlsPort: port,
  stunPort: port,
  stunAltPort: port,
  httpPort: port,
  httpBind: z.string().refine((value) => isIP(value) !== 0, 'must be an IP address'),
  dataDir: z.string().min(1),
  influxUrl: z
    .string()
    .refine((value) => /^https?:\/\/[^/]+\/[^/]+\/?$/.test(value), 'must look like http://HOST:8086/DATABASE')
    .optional(),
  databaseUrl: z
    .string()
    .refine((value) => /^postgres(ql)?:\/\//.test(value), 'must be a postgres:// URL')
    .optional(),
  tlsCert: z.string().optional(),
  tlsKey: z.string().optional(),
  publicHost: z.string().optional(),
  redisUrl: z
    .string()
    .refine((value) => /^rediss?:\/\/\S+$/.test(value), 'must be a redis:// URL, e.g. redis://127.0.0.1:6379')
    .optional(),
  sipMaxConnections: z
    .string()
    .refine((value) => /^\d{1,6}$/.test(value) && Number(value) >= 1 && Number(value) <= 100_000, 'must be a number of connections from 1 to 100000')
    .transform(Number),
  siteResultsPerSecond: z
    .string()
    .refine((value) => /^\d+(\.\d+)?$/.test(value) && Number(value) > 0 && Number(value) <= 1e6, 'must be a number of results per second above 0')
    .transform(Number),
  siteMbPerDay: z
    .string()
    .refine((value) => /^\d{1,7}$/.test(value) && Number(value) >= 1, 'must be a whole number of megabytes from 1')
    .transform(Number),
  metricsPort: port,
  metricsBind: z.string().refine((value) => isIP(value) !== 0, 'must be an IP address, e.g. 127.0.0.1'),
  metricsToken: z.string().min(16, 'must be at least 16 characters (a random secret)').optional(),
  smtpFrom: z
    .string()
    .refine((value) => /^[^\s@<>]+@[^\s@<>]+$|^[^<>]*<[^\s@<>]+@[^\s@<>]+>$/.test(value), 'must be an address like algwatch@msp.example or "algwatch <algwatch@msp.example>"')
    .optional(),
  publicUrl: z
    .string()
    .refine((value) => /^https?:\/\/[^/\s]+(\/\S*)?$/.test(value), 'must be an http:// or https:// URL, e.g. https://algwatch.msp.example')
    // Without its trailing slash: links and the agent command append paths to it.
    .transform((value) => value.replace(/\/+$/, ''))
    .optional(),
  agentOfflineAfterMs: duration.refine((ms) => ms >= 1_000, 'must be at least 1s'),
  alertGroupWaitMs: duration,
  alertGroupIntervalMs: duration.refine((ms) => ms >= 1, 'must be more than 0'),
  alertRepeatIntervalMs: duration.refine((ms) => ms >= 1_000, 'must be at least 1s'),
  notifyTimeoutMs: duration.refine((ms) => ms >= 100, 'must be at least 100ms'),
  notifyAttempts: z
    .string()
    .refine((value) => /^\d{1,2}$/.test(value) && Number(value) >= 1 && Number(value) <= 20, 'must be a number of attempts from 1 to 20')
    .transform(Number),
  debug: z.boolean(),
});

export type ServerConfig = z.infer<typeof serverConfigSchema>;

/** Each option: its flag, its environment variable, its default. */
const OPTIONS = {
  bind: { flag: 'bind', env: 'ALGWATCH_BIND', default: '0.0.0.0' },
  altAddress: { flag: 'alt-address', env: 'ALGWATCH_ALT_ADDRESS', default: undefined },
  sipPort: { flag: 'sip-port', env: 'ALGWATCH_SIP_PORT', default: '5060' },
  tlsPort: { flag: 'tls-port', env: 'ALGWATCH_TLS_PORT', default: '5061' },
  stunPort: { flag: 'stun-port', env: 'ALGWATCH_STUN_PORT', default: '3478' },
  stunAltPort: { flag: 'stun-alt-port', env: 'ALGWATCH_STUN_ALT_PORT', default: undefined },
  httpPort: { flag: 'http-port', env: 'ALGWATCH_HTTP_PORT', default: '8080' },
  httpBind: { flag: 'http-bind', env: 'ALGWATCH_HTTP_BIND', default: undefined },
  dataDir: { flag: 'data-dir', env: 'ALGWATCH_DATA_DIR', default: './data' },
  influxUrl: { flag: 'influx-url', env: 'ALGWATCH_INFLUX_URL', default: undefined },
  databaseUrl: { flag: 'database-url', env: 'ALGWATCH_DATABASE_URL', default: undefined },
  tlsCert: { flag: 'tls-cert', env: 'ALGWATCH_TLS_CERT', default: undefined },
  tlsKey: { flag: 'tls-key', env: 'ALGWATCH_TLS_KEY', default: undefined },
  publicHost: { flag: 'public-host', env: 'ALGWATCH_PUBLIC_HOST', default: undefined },
  redisUrl: { flag: 'redis-url', env: 'ALGWATCH_REDIS_URL', default: undefined },
  sipMaxConnections: { flag: 'sip-max-connections', env: 'ALGWATCH_SIP_MAX_CONNECTIONS', default: '1024' },
  siteResultsPerSecond: { flag: 'site-results-per-second', env: 'ALGWATCH_SITE_RESULTS_PER_SECOND', default: '100' },
  siteMbPerDay: { flag: 'site-mb-per-day', env: 'ALGWATCH_SITE_MB_PER_DAY', default: '500' },
  // Prometheus' registered default port for this kind of exporter; loopback unless told otherwise.
  metricsPort: { flag: 'metrics-port', env: 'ALGWATCH_METRICS_PORT', default: '9464' },
  metricsBind: { flag: 'metrics-bind', env: 'ALGWATCH_METRICS_BIND', default: '127.0.0.1' },
  metricsToken: { flag: 'metrics-token', env: 'ALGWATCH_METRICS_TOKEN', default: undefined },
  smtpFrom: { flag: 'smtp-from', env: 'ALGWATCH_SMTP_FROM', default: undefined },
  publicUrl: { flag: 'public-url', env: 'ALGWATCH_PUBLIC_URL', default: undefined },
  agentOfflineAfterMs: { flag: 'agent-offline-after', env: 'ALGWATCH_AGENT_OFFLINE_AFTER', default: '90s' },
  alertGroupWaitMs: { flag: 'alert-group-wait', env: 'ALGWATCH_ALERT_GROUP_WAIT', default: '30s' },
  alertGroupIntervalMs: { flag: 'alert-group-interval', env: 'ALGWATCH_ALERT_GROUP_INTERVAL', default: '1m' },
  alertRepeatIntervalMs: { flag: 'alert-repeat-interval', env: 'ALGWATCH_ALERT_REPEAT_INTERVAL', default: '4h' },
  notifyTimeoutMs: { flag: 'notify-timeout', env: 'ALGWATCH_NOTIFY_TIMEOUT', default: '10s' },
  notifyAttempts: { flag: 'notify-attempts', env: 'ALGWATCH_NOTIFY_ATTEMPTS', default: '5' },
} as const;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}

/** Every key the config file may hold: each option's flag name, and debug. */
export const CONFIG_FILE_SETTINGS: readonly ConfigFileSetting[] = [
  ...Object.values(OPTIONS).map((option) => ({ flag: option.flag, type: 'string' as const })),
  { flag: 'debug', type: 'boolean' },
];

function readServerConfigFile(path: string | boolean | undefined): { path: string; values: Record<string, string | boolean>; problems: string[] } {
  if (typeof path !== 'string') return { path: '', values: {}, problems: [] };
  return { path, ...readConfigFile(path, CONFIG_FILE_SETTINGS) };
}

/**
 * parseServerConfig reads argv and env. Throws ConfigError listing every problem (unknown flag,
 * bad value) as one line each; never returns a half-valid config.
 */
export function parseServerConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const flagSpec: Record<string, { type: 'string' | 'boolean' }> = { debug: { type: 'boolean' }, config: { type: 'string' } };
  for (const option of Object.values(OPTIONS)) flagSpec[option.flag] = { type: 'string' };
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options: flagSpec, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new ConfigError([flagError(err)]);
  }
  const file = readServerConfigFile(values.config ?? env.ALGWATCH_CONFIG);
  const raw: Record<string, unknown> = { debug: values.debug === true || env.ALGWATCH_DEBUG === '1' || file.values.debug === true };
  // Where each value came from, so a bad one is reported where the technician will look for it.
  const fromFile = new Set<string>();
  for (const [key, option] of Object.entries(OPTIONS)) {
    const given = values[option.flag] ?? env[option.env];
    if (given === undefined && file.values[option.flag] !== undefined) fromFile.add(key);
    raw[key] = given ?? file.values[option.flag] ?? option.default;
  }
  // Derived from the STUN port; from a bad one, a stand-in: that --stun-port is reported once, not twice.
  const stunPort = /^\d{1,5}$/.test(String(raw.stunPort)) ? Number(raw.stunPort) : 0;
  raw.stunAltPort ??= String(stunPort === 0 ? 0 : stunPort + 1);
  // The HTTP endpoint follows --bind unless told otherwise; a bad --bind is reported once, not twice.
  raw.httpBind ??= isIP(String(raw.bind)) ? raw.bind : '0.0.0.0';
  const parsed = serverConfigSchema.safeParse(raw);
  const unpaired = (raw.tlsCert === undefined) !== (raw.tlsKey === undefined);
  if (!parsed.success || file.problems.length > 0 || unpaired) {
    throw new ConfigError([
      ...file.problems,
      ...(parsed.error?.issues ?? []).map((issue) => {
        const key = String(issue.path[0]) as keyof typeof OPTIONS;
        const option = OPTIONS[key];
        if (!option) return issue.message;
        return fromFile.has(key) ? `${file.path}: ${option.flag} ${issue.message}` : `--${option.flag} (${option.env}) ${issue.message}`;
      }),
      ...(unpaired ? ['--tls-cert and --tls-key go together: give both, or neither for a self-signed certificate'] : []),
    ]);
  }
  return parsed.data;
}
