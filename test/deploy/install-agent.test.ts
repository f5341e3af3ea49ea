/**
 * deploy/install-agent.sh as a technician runs it, against a temporary root (--root) instead of the
 * box's own /: it creates the user, installs the packed agent, writes the 0600 settings file and
 * installs and enables the unit; a second run changes nothing at all; --uninstall removes it all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFile, cp, mkdir, mkdtemp, readFile, rm, stat, writeFile, readlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runCommand, type CommandResult } from '../helpers/process.js';
import { packAgent, REPO } from './agent-tarball.js';
import { changedPaths, snapshotTree } from './file-tree.js';

const SERVER_URL = 'http://203.0.113.10:8080';
// The shape `algwatch-server site add` prints: 32 random bytes in base64url.
const TOKEN = 'n0tAR3alT0ken-but_the-right_SHAPE-for-it_42';
const OTHER_TOKEN = 'an0ther-T0ken_of_the-same-shape_for_tests_7';

let release: string;
let root: string;

/** install runs the script from the release directory (script and tarball side by side, as shipped). */
function install(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CommandResult> {
  return runCommand('sh', [join(release, 'install-agent.sh'), '--root', root, ...args], { env: { ...process.env, ...env }, timeoutMs: 120_000 });
}

beforeAll(async () => {
  const tarball = await packAgent();
  release = dirname(tarball);
  await copyFile(join(REPO, 'deploy/install-agent.sh'), join(release, 'install-agent.sh'));
  // A root like a fresh Debian box's: root's own account and nothing else.
  root = await mkdtemp(join(tmpdir(), 'algwatch-root-'));
  await mkdir(join(root, 'etc'));
  await writeFile(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
  await writeFile(join(root, 'etc/group'), 'root:x:0:\n');
  await writeFile(join(root, 'etc/shadow'), 'root:*:19000:0:99999:7:::\n', { mode: 0o640 });
  await writeFile(join(root, 'etc/gshadow'), 'root:*::\n', { mode: 0o640 });
}, 180_000);

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
  if (release) await rm(release, { recursive: true, force: true });
});

describe('install-agent.sh', () => {
  it('refuses a missing or malformed token with one line, and writes nothing', async () => {
    const before = await snapshotTree(root);
    const missing = await install(['--server', SERVER_URL]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/--token TOKEN \(or ALGWATCH_TOKEN\) is needed/);
    const injected = await install(['--server', SERVER_URL, '--token', `${TOKEN}\nALGWATCH_SERVER=http://evil`]);
    expect(injected.code).toBe(1);
    expect(injected.stderr).toMatch(/does not look like an algwatch token/);
    expect(injected.stderr).not.toContain(TOKEN);
    expect(changedPaths(before, await snapshotTree(root))).toEqual([]);
  });

  it('creates the user, installs the agent, writes the settings 0600 and enables the unit', async () => {
    // The token through the environment, as the README recommends (it stays out of `ps`).
    const run = await install(['--server', SERVER_URL], { ALGWATCH_TOKEN: TOKEN });
    expect(run.stderr.replace(/^Creating (group|user) .*\n/gm, '')).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain(TOKEN);

    expect(await readFile(join(root, 'etc/passwd'), 'utf8')).toMatch(/^algwatch-agent:x:\d+:\d+:algwatch agent:\/var\/lib\/algwatch-agent:\/usr\/sbin\/nologin$/m);
    expect(await readFile(join(root, 'etc/group'), 'utf8')).toMatch(/^algwatch-agent:x:\d+:$/m);

    const envFile = join(root, 'etc/algwatch-agent/agent.env');
    const envStat = await stat(envFile);
    expect(envStat.mode & 0o777).toBe(0o600);
    expect(envStat.uid).toBe(0);
    const settings = await readFile(envFile, 'utf8');
    expect(settings).toMatch(new RegExp(`^ALGWATCH_SERVER=${SERVER_URL}$`, 'm'));
    expect(settings).toMatch(new RegExp(`^ALGWATCH_TOKEN=${TOKEN}$`, 'm'));

    const unit = join(root, 'etc/systemd/system/algwatch-agent.service');
    expect(await readFile(unit, 'utf8')).toBe(await readFile(join(REPO, 'agent/systemd/algwatch-agent.service'), 'utf8'));
    expect(await readlink(join(root, 'etc/systemd/system/multi-user.target.wants/algwatch-agent.service'))).toBe('/etc/systemd/system/algwatch-agent.service');

    const help = await runCommand(join(root, 'usr/local/bin/algwatch-agent'), ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/algwatch-agent run --server URL --token TOKEN/);
  });

  it('changes nothing at all when run a second time', async () => {
    const before = await snapshotTree(root);
    const run = await install(['--server', SERVER_URL, '--token', TOKEN]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/nothing changed/);
    expect(changedPaths(before, await snapshotTree(root))).toEqual([]);
  });

  it('with a new token rewrites only the settings file, still 0600', async () => {
    const before = await snapshotTree(root);
    const run = await install(['--token', OTHER_TOKEN]);
    expect(run.code).toBe(0);
    // The file is replaced by a rename (never half-written), which touches its directory's mtime too.
    expect(changedPaths(before, await snapshotTree(root))).toEqual(['etc/algwatch-agent', 'etc/algwatch-agent/agent.env']);
    const settings = await readFile(join(root, 'etc/algwatch-agent/agent.env'), 'utf8');
    expect(settings).toMatch(new RegExp(`^ALGWATCH_SERVER=${SERVER_URL}$`, 'm'));
    expect(settings).toMatch(new RegExp(`^ALGWATCH_TOKEN=${OTHER_TOKEN}$`, 'm'));
    expect((await stat(join(root, 'etc/algwatch-agent/agent.env'))).mode & 0o777).toBe(0o600);
  });

  it('installs a unit that `systemd-analyze verify` accepts, its ExecStart being the installed launcher', async () => {
    // verify --root resolves every unit the agent's pulls in (sysinit.target, network-online.target...)
    // inside the root: give it this box's own.
    await cp('/usr/lib/systemd/system', join(root, 'usr/lib/systemd/system'), { recursive: true });
    try {
      const verify = await runCommand('systemd-analyze', ['verify', `--root=${root}`, 'algwatch-agent.service']);
      expect(verify.stderr).toBe('');
      expect(verify.code).toBe(0);
    } finally {
      await rm(join(root, 'usr/lib/systemd'), { recursive: true, force: true });
    }
  });

  it('accepts the install command `algwatch-server site add` prints, with that site\'s token', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'algwatch-site-'));
    const freshRoot = await mkdtemp(join(tmpdir(), 'algwatch-root-'));
    try {
      const added = await runCommand(process.execPath, [join(REPO, 'server/bin/algwatch-server.js'), 'site', 'add', 'box-1', '--data-dir', dataDir, '--server-url', SERVER_URL]);
      expect(added.code).toBe(0);
      const lines = added.stdout.trimEnd().split('\n');
      const token = lines.at(-1)!;
      const command = lines.find((line) => line.startsWith('sudo sh install-agent.sh '));
      expect(command).toBe(`sudo sh install-agent.sh --server ${SERVER_URL} --token ${token}`);
      // As root already (no sudo), from the release directory, into a fresh root.
      const args = command!.split(' ').slice(3);
      const run = await runCommand('sh', ['install-agent.sh', ...args, '--root', freshRoot], { cwd: release, timeoutMs: 120_000 });
      expect(run.code).toBe(0);
      expect(await readFile(join(freshRoot, 'etc/algwatch-agent/agent.env'), 'utf8')).toMatch(new RegExp(`^ALGWATCH_TOKEN=${token}$`, 'm'));
    } finally {
      await rm(dataDir, { recursive: true, force: true });
      await rm(freshRoot, { recursive: true, force: true });
    }
  });

  it('--uninstall removes the service, settings, package, state and user; a second one is harmless', async () => {
    // What a running agent leaves behind (systemd's StateDirectory=).
    await mkdir(join(root, 'var/lib/algwatch-agent/outbox'), { recursive: true });
    await writeFile(join(root, 'var/lib/algwatch-agent/agent-id'), 'site-box-1\n');
    const run = await install(['--uninstall']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const left = [...(await snapshotTree(root)).keys()].filter((path) => path.includes('algwatch'));
    expect(left).toEqual([]);
    for (const file of ['etc/passwd', 'etc/group', 'etc/shadow', 'etc/gshadow']) {
      expect(await readFile(join(root, file), 'utf8')).not.toMatch(/algwatch/);
    }
    const before = await snapshotTree(root);
    const again = await install(['--uninstall']);
    expect(again.code).toBe(0);
    expect(changedPaths(before, await snapshotTree(root))).toEqual([]);
  });
});
