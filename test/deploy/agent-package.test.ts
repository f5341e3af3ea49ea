/**
 * The agent as a site box gets it: `npm pack` in agent/ gives algwatch-agent-VERSION.tgz holding
 * the launcher and the one bundled file; `npm install -g` of it into an empty prefix (no registry:
 * --offline) gives a working `algwatch-agent`, which then checks a real NAT in the testbed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { checkReportSchema } from '@algwatch/protocol/check-report';
import { runCommand } from '../helpers/process.js';
import { requireNetns } from '../testbed/netns-gate.js';
import { TESTBED_ADDRESSES as A, useTopology } from '../testbed/topology.js';
import { startAlgwatchServer, type RunningServer } from '../e2e/algwatch-processes.js';
import { packAgent } from './agent-tarball.js';

const netns = requireNetns();

let tarball: string;
let prefix: string;

beforeAll(async () => {
  tarball = await packAgent();
  prefix = await mkdtemp(join(tmpdir(), 'algwatch-prefix-'));
  // An empty HOME and npm cache: nothing from this machine's npm state can fill a gap in the package.
  const home = await mkdtemp(join(tmpdir(), 'algwatch-home-'));
  const installed = await runCommand(
    'npm',
    ['install', '--global', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', '--cache', join(home, 'npm-cache'), tarball],
    { cwd: home, env: { ...process.env, HOME: home }, timeoutMs: 120_000 },
  );
  if (installed.code !== 0) throw new Error(`npm install -g of the tarball failed (exit ${installed.code}): ${installed.stderr.trim()}`);
}, 180_000);

afterAll(async () => {
  if (prefix) await rm(prefix, { recursive: true, force: true });
  if (tarball) await rm(dirname(tarball), { recursive: true, force: true });
});

describe('the packed agent', () => {
  it('holds only the launcher, the bundle, its systemd unit and package.json, and installs nothing else', async () => {
    const listing = await runCommand('tar', ['-tzf', tarball]);
    expect(listing.stdout.trim().split('\n').sort()).toEqual([
      'package/bin/algwatch-agent.js',
      'package/dist/bundle/algwatch-agent.js',
      'package/package.json',
      // The unit install-agent.sh copies to /etc/systemd/system, so it always matches the agent it runs.
      'package/systemd/algwatch-agent.service',
    ]);
    const manifest = JSON.parse(await readFile(join(prefix, 'lib/node_modules/algwatch-agent/package.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest.name).toBe('algwatch-agent');
    expect(manifest.dependencies ?? {}).toEqual({});
    // No dependency was installed beside it: the bundle carries everything it runs.
    expect(existsSync(join(prefix, 'lib/node_modules/algwatch-agent/node_modules'))).toBe(false);
    expect((await readdir(join(prefix, 'lib/node_modules'))).sort()).toEqual(['algwatch-agent']);
  });

  it('puts algwatch-agent on the prefix bin and answers --help from there', async () => {
    const help = await runCommand(join(prefix, 'bin/algwatch-agent'), ['--help'], { cwd: prefix });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/algwatch-agent check --server HOST/);
    expect(help.stdout).toMatch(/algwatch-agent run --server URL --token TOKEN/);
  });
});

describe.runIf(netns)('the installed agent checks a real NAT in the testbed', () => {
  const topology = useTopology({ sipAlg: true });
  let server: RunningServer | undefined;
  beforeAll(async () => {
    server = await startAlgwatchServer(topology());
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('runs `algwatch-agent check` from the install prefix and finds the kernel SIP ALG', async () => {
    const run = await topology().exec('lan', join(prefix, 'bin/algwatch-agent'), ['check', '--server', A.server, '--json'], { timeoutMs: 90_000 });
    const report = checkReportSchema.parse(JSON.parse(run.stdout));
    expect(run.code).toBe(1);
    expect(report.sipAlg.udp.status).toBe('detected');
    expect(report.nat).toMatchObject({ present: true, publicAddress: A.routerWan });
  });
});
