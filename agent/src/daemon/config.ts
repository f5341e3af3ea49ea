/**
 * `algwatch-agent run` configuration: flags, then `ALGWATCH_*` environment variables, then a JSON
 * config file (`--config FILE`), then defaults, parsed by one schema. Every problem is reported at
 * once, one line each, naming where the bad value came from, so a technician fixes them in one go.
 * The token is never echoed back.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { ensureWritableDirectory } from '@algwatch/protocol/writable-directory';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as z from '@algwatch/protocol/zod';
import { replaceDurably } from './durable-files.js';

export const DEFAULT_DATA_DIR = '.algwatch-agent';
const AGENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;

const runConfigSchema = z.object({
  server: z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be text') })
    .check(z.refine(isHttpUrl, 'must be an http:// or https:// URL, e.g. https://algwatch.example.net')),
  token: z
    .string({ error: (issue) => (issue.input === undefined ? 'is required (the token `algwatch-server site add` printed)' : 'must be text') })
    .check(
      z.minLength(16, 'must be 16 to 200 characters: copy the whole token `algwatch-server site add` printed'),
      z.maxLength(200, 'must be 16 to 200 characters: copy the whole token `algwatch-server site add` printed'),
    ),
  dataDir: z.string({ error: 'must be text' }).check(z.minLength(1, 'must not be empty')),
  agentId: z.optional(
    z.string({ error: 'must be text' }).check(z.regex(AGENT_ID_PATTERN, 'must be 1 to 100 letters, digits, dots, dashes, colons or underscores')),
  ),
  debug: z.boolean({ error: 'must be true or false' }),
});

/** RunConfig is a valid `run` configuration; dataDir is absolute. */
export type RunConfig = z.infer<typeof runConfigSchema> & { help: boolean };

type Key = 'server' | 'token' | 'dataDir' | 'agentId' | 'debug';

/** Each setting: its flag, its environment variable, its key in the config file. */
const SETTINGS: Record<Key, { flag: string; env: string; type: 'string' | 'boolean' }> = {
  server: { flag: 'server', env: 'ALGWATCH_SERVER', type: 'string' },
  token: { flag: 'token', env: 'ALGWATCH_TOKEN', type: 'string' },
  dataDir: { flag: 'data-dir', env: 'ALGWATCH_DATA_DIR', type: 'string' },
  agentId: { flag: 'agent-id', env: 'ALGWATCH_AGENT_ID', type: 'string' },
  debug: { flag: 'debug', env: 'ALGWATCH_DEBUG', type: 'boolean' },
};
const KEYS = Object.keys(SETTINGS) as Key[];

/** RunConfigError lists every problem found, one line each. */
export class RunConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}

/**
 * parseRunConfig reads argv, env and the config file. Throws RunConfigError listing every problem
 * (unknown flag, missing value, unreadable file, bad value) as one line each; never returns a
 * half-valid config.
 */
export function parseRunConfig(argv: string[], env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): RunConfig {
  const problems: string[] = [];
  const flags = readFlags(argv, problems);
  const file = flags.config === undefined ? {} : readConfigFile(String(flags.config), problems);
  const raw: Record<string, unknown> = {};
  const source: Partial<Record<Key, string>> = {};
  for (const key of KEYS) {
    const setting = SETTINGS[key];
    const envValue = env[setting.env];
    if (flags[key] !== undefined) {
      raw[key] = flags[key];
      source[key] = `--${setting.flag}`;
    } else if (envValue !== undefined && envValue !== '') {
      raw[key] = setting.type === 'boolean' ? /^(1|true|yes)$/i.test(envValue) : envValue;
      source[key] = setting.env;
    } else if (file[key] !== undefined) {
      raw[key] = file[key];
      source[key] = `"${key}" in ${String(flags.config)}`;
    }
  }
  raw.dataDir ??= DEFAULT_DATA_DIR;
  raw.debug ??= false;
  const parsed = runConfigSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0]) as Key;
      const setting = SETTINGS[key];
      const where = source[key] ?? `--${setting.flag} (or ${setting.env}, or "${key}" in the --config file)`;
      problems.push(`${where} ${issue.message}`);
    }
  }
  if (problems.length > 0 || !parsed.success) throw new RunConfigError(problems);
  return { ...parsed.data, dataDir: resolve(cwd, parsed.data.dataDir), help: flags.help === true };
}

type FlagValues = Partial<Record<Key | 'config' | 'help', string | boolean>>;

function readFlags(argv: string[], problems: string[], values: FlagValues = {}): FlagValues {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    config: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  };
  for (const key of KEYS) options[SETTINGS[key].flag] = { type: SETTINGS[key].type };
  // strict: false with tokens, so every bad flag is reported at once rather than the first only.
  const { tokens } = parseArgs({ args: argv, options, strict: false, allowPositionals: true, tokens: true });
  for (const token of tokens) {
    if (token.kind === 'positional') {
      problems.push(`unexpected argument ${token.value}`);
      continue;
    }
    if (token.kind !== 'option') continue;
    const spec = options[token.name];
    if (!spec) {
      problems.push(`unknown flag ${token.rawName}`);
      continue;
    }
    const key = (KEYS.find((candidate) => SETTINGS[candidate].flag === token.name) ?? token.name) as Key | 'config' | 'help';
    if (spec.type === 'boolean') {
      if (token.value !== undefined) problems.push(`${token.rawName} takes no value`);
      else values[key] = true;
    } else if (token.value === undefined || (!token.inlineValue && token.value.startsWith('-'))) {
      problems.push(`${token.rawName} needs a value`);
      // `--token --debug`: parseArgs took the next flag as the value; read on from that flag.
      if (token.value !== undefined) return readFlags(argv.slice(token.index + 1), problems, values);
    } else {
      values[key] = token.value;
    }
  }
  return values;
}

function readConfigFile(path: string, problems: string[]): Partial<Record<Key, unknown>> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    problems.push(`--config ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    return {};
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (err) {
    problems.push(`--config ${path}: not valid JSON (${(err as Error).message.split('\n')[0]})`);
    return {};
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    problems.push(`--config ${path}: must be a JSON object like {"server": "https://...", "token": "..."}`);
    return {};
  }
  for (const key of Object.keys(document)) {
    if (!(KEYS as string[]).includes(key)) problems.push(`--config ${path}: unknown key "${key}" (known: ${KEYS.join(', ')})`);
  }
  return document as Partial<Record<Key, unknown>>;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/**
 * prepareDataDir creates the data dir (0700: it holds the outbox and the server's config) and
 * returns the agent id: the configured one, else the one persisted in `agent-id`, else a new
 * `<hostname>-<random>` written there so it survives restarts. Throws one line a technician can act on.
 */
export async function prepareDataDir(dataDir: string, configuredId?: string): Promise<string> {
  // Throws "cannot write the data directory DIR (read-only file system): give --data-dir ...".
  await ensureWritableDirectory(dataDir, 0o700);
  if (configuredId !== undefined) return configuredId;
  const path = join(dataDir, 'agent-id');
  const stored = (await readFile(path, 'utf8').catch(() => '')).trim();
  if (AGENT_ID_PATTERN.test(stored)) return stored;
  const host = hostname().toLowerCase().replace(/[^a-z0-9.-]/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 40) || 'agent';
  const agentId = `${host}-${randomUUID().slice(0, 8)}`;
  try {
    await replaceDurably(path, `${agentId}\n`);
  } catch (err) {
    throw new Error(`cannot write ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'}): give --data-dir a writable directory, or fix its permissions`);
  }
  return agentId;
}
