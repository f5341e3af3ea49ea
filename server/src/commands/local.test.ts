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
