/**
 * packAgent runs `npm pack` in agent/ exactly as a release does and returns the tarball's path.
 * Scripts are skipped (`--ignore-scripts`): the suite already built the bundle (`npm test` builds
 * first), and a second build racing other test files over dist/ would test nothing more.
 */
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from '../helpers/process.js';
import { assertBuilt } from '../e2e/algwatch-processes.js';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** packAgent resolves to the absolute path of algwatch-agent-VERSION.tgz in a fresh temporary directory; rejects with npm's stderr. */
export async function packAgent(): Promise<string> {
  assertBuilt();
  const destination = await mkdtemp(join(tmpdir(), 'algwatch-pack-'));
  const packed = await runCommand('npm', ['pack', '--ignore-scripts', '--pack-destination', destination], {
    cwd: join(REPO, 'agent'),
    timeoutMs: 120_000,
  });
  if (packed.code !== 0) throw new Error(`npm pack failed (exit ${packed.code}): ${packed.stderr.trim()}`);
  const [tarball] = (await readdir(destination)).filter((name) => /^algwatch-agent-.+\.tgz$/.test(name));
  if (!tarball) throw new Error(`npm pack left no algwatch-agent-*.tgz in ${destination}: ${packed.stdout.trim()}`);
  return join(destination, tarball);
}
