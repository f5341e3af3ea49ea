import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseRunConfig, prepareDataDir, RunConfigError } from './config.js';

const fixture = (name: string) => fileURLToPath(new URL(`./testdata/${name}`, import.meta.url));
const TOKEN = 'flag-token-0123456789abcdef';

function problemsOf(argv: string[], env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseRunConfig(argv, env, '/work');
  } catch (err) {
    if (err instanceof RunConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a RunConfigError');
}

describe('parseRunConfig', () => {
  it('takes flags over environment variables over the config file over defaults', () => {
    const env = { ALGWATCH_TOKEN: 'env-token-0123456789abcdef', ALGWATCH_AGENT_ID: 'env-agent' };
    const config = parseRunConfig(['--config', fixture('valid.json'), '--server', 'http://127.0.0.1:8080'], env, '/work');
    expect(config).toEqual({
      server: 'http://127.0.0.1:8080',
      token: 'env-token-0123456789abcdef',
      dataDir: '/var/lib/algwatch-agent',
      agentId: 'env-agent',
      debug: false,
      help: false,
    });
  });

  it('defaults the data dir to ./.algwatch-agent, or ALGWATCH_DATA_DIR', () => {
    expect(parseRunConfig(['--server', 'https://a.example.net', '--token', TOKEN], {}, '/work').dataDir).toBe('/work/.algwatch-agent');
    expect(parseRunConfig(['--server', 'https://a.example.net', '--token', TOKEN], { ALGWATCH_DATA_DIR: 'state' }, '/work').dataDir).toBe(
      '/work/state',
    );
  });

  it('reports every missing setting at once, one line each', () => {
    expect(problemsOf([])).toEqual([
      '--server (or ALGWATCH_SERVER, or "server" in the --config file) is required',
      '--token (or ALGWATCH_TOKEN, or "token" in the --config file) is required (the token `algwatch-server site add` printed)',
    ]);
  });

  it('reports unknown flags, missing values and stray arguments together with bad values', () => {
    expect(problemsOf(['--sever', 'x.example', '--token', '--debug=yes', 'extra', '--server', 'ftp://a.example.net'])).toEqual([
      'unknown flag --sever',
      'unexpected argument x.example',
      '--token needs a value',
      '--debug takes no value',
      'unexpected argument extra',
      '--server must be an http:// or https:// URL, e.g. https://algwatch.example.net',
      '--token (or ALGWATCH_TOKEN, or "token" in the --config file) is required (the token `algwatch-server site add` printed)',
    ]);
  });

  it('names the environment variable a bad value came from and never echoes the token', () => {
    expect(problemsOf(['--server', 'https://a.example.net'], { ALGWATCH_TOKEN: 'secret', ALGWATCH_AGENT_ID: 'has space' })).toEqual([
      'ALGWATCH_TOKEN must be 16 to 200 characters: copy the whole token `algwatch-server site add` printed',
      'ALGWATCH_AGENT_ID must be 1 to 100 letters, digits, dots, dashes, colons or underscores',
    ]);
  });

  it('reports an unknown key in the config file', () => {
    const path = fixture('invalid-unknown-key.json');
    expect(problemsOf(['--config', path])).toEqual([`--config ${path}: unknown key "schedule" (known: server, token, dataDir, agentId, debug)`]);
  });

  it('names the config file key of each bad value', () => {
    const path = fixture('invalid-values.json');
    expect(problemsOf(['--config', path])).toEqual([
      `"server" in ${path} must be an http:// or https:// URL, e.g. https://algwatch.example.net`,
      `"token" in ${path} must be 16 to 200 characters: copy the whole token \`algwatch-server site add\` printed`,
      `"debug" in ${path} must be true or false`,
    ]);
  });

  it('reports a config file that is missing or not JSON', () => {
    const broken = fixture('invalid-json.json');
    const [notJson] = problemsOf(['--config', broken, '--server', 'https://a.example.net', '--token', TOKEN]);
    expect(notJson).toMatch(new RegExp(`^--config ${broken}: not valid JSON \\(.+\\)$`));
    expect(problemsOf(['--config', '/nonexistent/agent.json', '--server', 'https://a.example.net', '--token', TOKEN])).toEqual([
      '--config /nonexistent/agent.json: cannot read it (ENOENT)',
    ]);
  });
});

describe('prepareDataDir', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'algwatch-config-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates the data dir and keeps the same generated agent id across restarts', async () => {
    const dataDir = join(dir, 'nested', 'state');
    const first = await prepareDataDir(dataDir);
    expect(first).toMatch(/^[a-z0-9][a-z0-9.-]*-[0-9a-f]{8}$/);
    expect(await prepareDataDir(dataDir)).toBe(first);
    expect((await readFile(join(dataDir, 'agent-id'), 'utf8')).trim()).toBe(first);
  });

  it('uses a configured agent id as is', async () => {
    expect(await prepareDataDir(dir, 'closet-pbx-1')).toBe('closet-pbx-1');
  });

  it('says which data dir cannot be created and what to do', async () => {
    const blocker = join(dir, 'file');
    await writeFile(blocker, '');
    await expect(prepareDataDir(join(blocker, 'state'))).rejects.toThrow(
      `cannot write the data directory ${join(blocker, 'state')} (a file is in the way of the path): give --data-dir a writable directory, or fix its permissions`,
    );
  });
});
