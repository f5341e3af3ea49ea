/**
 * The shipped systemd units, checked by systemd's own tools (Debian's `systemd` package):
 * `systemd-analyze verify` accepts each one without a warning, the hardening the README promises is
 * really in the [Service] section, and `systemd-analyze security --offline` rates both as well
 * protected. (The agent's unit, as install-agent.sh installs it, is verified in install-agent.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmod, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runCommand } from '../helpers/process.js';
import { REPO } from './agent-tarball.js';

const UNITS = [
  { name: 'algwatch-agent.service', file: 'agent/systemd/algwatch-agent.service', exec: '/usr/local/bin/algwatch-agent' },
  { name: 'algwatch-server.service', file: 'deploy/systemd/algwatch-server.service', exec: '/usr/bin/node' },
] as const;

/** serviceSettings reads the [Service] section: each key to its values, in order (keys may repeat). */
function serviceSettings(unit: string): Map<string, string[]> {
  const settings = new Map<string, string[]>();
  let section = '';
  for (const line of unit.split('\n')) {
    const header = /^\[(.+)\]$/.exec(line.trim());
    if (header) section = header[1]!;
    const setting = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (section === 'Service' && setting) settings.set(setting[1]!, [...(settings.get(setting[1]!) ?? []), setting[2]!]);
  }
  return settings;
}

let root: string;

beforeAll(async () => {
  // verify --root loads every unit a service pulls in from inside the root, and checks that its
  // ExecStart program exists there: this box's units, and a stand-in for each program.
  root = await mkdtemp(join(tmpdir(), 'algwatch-units-'));
  await cp('/usr/lib/systemd/system', join(root, 'usr/lib/systemd/system'), { recursive: true });
  await mkdir(join(root, 'etc/systemd/system'), { recursive: true });
  for (const unit of UNITS) {
    await cp(join(REPO, unit.file), join(root, 'etc/systemd/system', unit.name));
    await mkdir(join(root, dirname(unit.exec)), { recursive: true });
    await writeFile(join(root, unit.exec), '#!/bin/sh\n');
    await chmod(join(root, unit.exec), 0o755);
  }
});

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe.each(UNITS)('$name', (unit) => {
  it('passes `systemd-analyze verify` without a single warning', async () => {
    const verify = await runCommand('systemd-analyze', ['verify', `--root=${root}`, unit.name]);
    expect(verify.stderr).toBe('');
    expect(verify.code).toBe(0);
  });

  it('runs hardened: own user, no privileges, read-only system, no capabilities, IP and local sockets only', async () => {
    const settings = serviceSettings(await readFile(join(REPO, unit.file), 'utf8'));
    const one = (key: string) => settings.get(key)?.at(-1);
    expect(one('User') ?? (one('DynamicUser') === 'yes' ? 'dynamic' : undefined), 'User= or DynamicUser=yes').toBeDefined();
    expect(one('User')).not.toBe('root');
    expect(one('NoNewPrivileges')).toBe('yes');
    expect(one('ProtectSystem')).toBe('strict');
    expect(one('ProtectHome')).toBe('yes');
    expect(one('PrivateTmp')).toBe('yes');
    expect(one('StateDirectory')).toMatch(/^algwatch/);
    expect(one('CapabilityBoundingSet')).toBe('');
    expect(one('AmbientCapabilities')).toBe('');
    expect(one('RestrictAddressFamilies')).toBe('AF_INET AF_INET6 AF_UNIX');
  });

  it('is rated well protected by `systemd-analyze security --offline` (exposure at most 2.0 of 10)', async () => {
    const security = await runCommand('systemd-analyze', ['security', '--offline=true', '--threshold=20', '--no-pager', join(REPO, unit.file)]);
    expect(security.stdout).toMatch(/Overall exposure level for .*: [0-2]\.\d OK/);
    expect(security.code).toBe(0);
  });
});
