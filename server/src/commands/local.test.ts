import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { launcherNodeFlags } from './local.js';

describe('launcherNodeFlags', () => {
  it('reads the Node flags from the agent launcher itself', () => {
    const launcher = readFileSync(fileURLToPath(new URL('../../../agent/bin/algwatch-agent.js', import.meta.url)), 'utf8');
    // --jitless is what keeps the agent under its memory goal: `npm start` must run it too.
    expect(launcherNodeFlags(launcher)).toContain('--jitless');
  });

  it('takes only the flags after node, from a shebang with or without env -S', () => {
    expect(launcherNodeFlags('#!/usr/bin/env -S node --jitless --no-expose-wasm\nimport x;')).toEqual(['--jitless', '--no-expose-wasm']);
    expect(launcherNodeFlags('#!/usr/local/bin/node --max-old-space-size=64\n')).toEqual(['--max-old-space-size=64']);
    expect(launcherNodeFlags('#!/usr/bin/env node\n')).toEqual([]);
    expect(launcherNodeFlags('// no shebang\n')).toEqual([]);
  });
});

describe('localAdminLogin', () => {
  it('creates the admin on first start and prints the same working password on the next', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { openRelationalStore } = await import('../relational/open.js');
    const { UserStore } = await import('../auth/user-store.js');
    const { localAdminLogin } = await import('./local.js');
    const dataDir = await mkdtemp(join(tmpdir(), 'algwatch-local-'));
    const store = await openRelationalStore({ dataDir });
    try {
      const first = await localAdminLogin(store, dataDir);
      expect(first.name).toBe('admin');
      expect(await localAdminLogin(store, dataDir)).toEqual(first);
      const user = await new UserStore(store.db).checkPassword('admin', first.password);
      expect(user?.role).toBe('admin');
    } finally {
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
