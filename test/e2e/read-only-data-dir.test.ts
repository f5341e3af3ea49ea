/**
 * A data directory the program cannot write (issue 16: the server said "unable to open database
 * file" or "ENOENT ... mkdir tls"): the real server and agent programs, on a read-only tmpfs, say in
 * one line which path, why, and what to do, and exit 2.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../helpers/process.js';
import { requireNetns } from '../testbed/netns-gate.js';

const root = requireNetns(); // mounting a tmpfs needs root, like the namespace tests
const SERVER_BIN = fileURLToPath(new URL('../../server/bin/algwatch-server.js', import.meta.url));
const AGENT_BIN = fileURLToPath(new URL('../../agent/bin/algwatch-agent.js', import.meta.url));

const advice = (dir: string) => `cannot write the data directory ${dir} (read-only file system): give --data-dir a writable directory, or fix its permissions`;

describe.runIf(root)('a read-only data directory', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'algwatch-read-only-'));
    const mounted = await runCommand('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', dir]);
    expect(mounted.code, mounted.stderr).toBe(0);
  });
  afterAll(async () => {
    await runCommand('umount', [dir]);
    await rm(dir, { recursive: true, force: true });
  });

  it('stops the server with one line naming the directory and what to do, exit 2', async () => {
    for (const dataDir of [dir, join(dir, 'state')]) {
      const ports = ['--sip-port', '0', '--tls-port', '0', '--stun-port', '0', '--stun-alt-port', '0', '--http-port', '0'];
      const result = await runCommand(process.execPath, [SERVER_BIN, '--bind', '127.0.0.1', ...ports, '--data-dir', dataDir], { timeoutMs: 30_000 });
      expect(result.code).toBe(2);
      expect(result.stderr).toBe(`algwatch-server: ${advice(dataDir)}\n`);
    }
  });

  it('stops `site add` the same way', async () => {
    const result = await runCommand(process.execPath, [SERVER_BIN, 'site', 'add', 'hq', '--data-dir', dir], { timeoutMs: 30_000 });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`algwatch-server site: ${advice(dir)}\n`);
  });

  it('stops the agent with one line naming the directory and what to do, exit 2', async () => {
    for (const extra of [[], ['--agent-id', 'closet-1']]) {
      const dataDir = join(dir, 'agent');
      const args = [AGENT_BIN, 'run', '--server', 'http://127.0.0.1:9', '--token', 'x'.repeat(43), '--data-dir', dataDir, ...extra];
      const result = await runCommand(process.execPath, args, { timeoutMs: 30_000 });
      expect(result.code).toBe(2);
      expect(result.stderr).toBe(`algwatch-agent run: ${advice(dataDir)}\n`);
    }
  });
});
