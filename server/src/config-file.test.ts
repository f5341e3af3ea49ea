/**
 * The server's config file: YAML or JSON holding every flag, flags > ALGWATCH_* > file > defaults,
 * and every problem of a bad file reported at once, one line each, without quoting a value. The bad
 * files are fixtures in testdata/server-config/, each with the exact lines it must produce.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { CONFIG_FILE_SETTINGS, ConfigError, parseServerConfig } from './config.js';
import { runCommand } from '../../test/helpers/process.js';

const FIXTURES = fileURLToPath(new URL('./testdata/server-config/', import.meta.url));
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLE = join(REPO, 'deploy/server.example.yaml');

function problemsOf(argv: string[], env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseServerConfig(argv, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('the config file', () => {
  it('deploy/server.example.yaml sets every flag, and is valid', () => {
    const example = parse(readFileSync(EXAMPLE, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(example).sort()).toEqual(CONFIG_FILE_SETTINGS.map((setting) => setting.flag).sort());
    expect(parseServerConfig(['--config', EXAMPLE], {})).toMatchObject({
      bind: '203.0.113.10',
      altAddress: '203.0.113.11',
      httpPort: 8080,
      dataDir: '/var/lib/algwatch',
      influxUrl: 'http://127.0.0.1:8086/algwatch',
      metricsPort: 9464,
      metricsBind: '127.0.0.1',
      debug: false,
    });
  });

  it('reads JSON too, numbers or text alike, and leaves the rest to the defaults', () => {
    const config = parseServerConfig(['--config', join(FIXTURES, 'good.json')], {});
    expect(config).toMatchObject({ bind: '127.0.0.1', sipPort: 15060, httpPort: 18080, dataDir: '/var/lib/algwatch', metricsPort: 19464, debug: true });
    expect(config).toMatchObject({ tlsPort: 5061, stunPort: 3478, httpBind: '127.0.0.1' });
  });

  it('lets ALGWATCH_* variables win over the file, and flags over both', () => {
    const file = join(FIXTURES, 'good.json');
    expect(parseServerConfig([], { ALGWATCH_CONFIG: file }).sipPort).toBe(15060);
    expect(parseServerConfig(['--config', file], { ALGWATCH_SIP_PORT: '25060' }).sipPort).toBe(25060);
    expect(parseServerConfig(['--config', file, '--sip-port', '35060'], { ALGWATCH_SIP_PORT: '25060' }).sipPort).toBe(35060);
    // A flag wins over a bad value in the file: the file's value is never judged.
    expect(parseServerConfig(['--config', join(FIXTURES, 'bad-port.yaml'), '--http-port', '8081'], {}).httpPort).toBe(8081);
  });

  const badFixtures = readdirSync(FIXTURES).filter((name) => name.startsWith('bad-') && !name.endsWith('.expected.txt'));

  it.each(badFixtures)('%s: reports every problem at once, one line each, quoting no value', (name) => {
    const file = join(FIXTURES, name);
    const expected = readFileSync(join(FIXTURES, name.replace(/\.(yaml|json)$/, '.expected.txt')), 'utf8')
      .trimEnd()
      .split('\n')
      .map((line) => line.replaceAll('{file}', file));
    const problems = problemsOf(['--config', file]);
    expect(problems).toEqual(expected);
    for (const secret of ['hunter2', 's3cret-password']) expect(problems.join('\n')).not.toContain(secret);
  });

  it('reports a bad flag, a bad variable and a bad file value together', () => {
    const file = join(FIXTURES, 'bad-port.yaml');
    expect(problemsOf(['--config', file, '--tls-port', 'x'], { ALGWATCH_STUN_PORT: 'y' })).toEqual([
      '--tls-port (ALGWATCH_TLS_PORT) must be a port number from 0 to 65535',
      '--stun-port (ALGWATCH_STUN_PORT) must be a port number from 0 to 65535',
      `${file}: http-port must be a port number from 0 to 65535`,
    ]);
  });

  it('says so in one line when the file cannot be read', () => {
    expect(problemsOf(['--config', join(FIXTURES, 'missing.yaml')])).toEqual([`--config ${join(FIXTURES, 'missing.yaml')}: cannot read it (no such file)`]);
  });

  it('makes `algwatch-server serve --config` exit 2 with each problem on its own line', async () => {
    const file = join(FIXTURES, 'bad-values.yaml');
    const run = await runCommand(process.execPath, [join(REPO, 'server/bin/algwatch-server.js'), 'serve', '--config', file]);
    expect(run.code).toBe(2);
    const expected = readFileSync(join(FIXTURES, 'bad-values.expected.txt'), 'utf8').trimEnd().split('\n');
    expect(run.stderr.trimEnd().split('\n')).toEqual(expected.map((line) => `algwatch-server: ${line.replaceAll('{file}', file)}`));
  });
});
