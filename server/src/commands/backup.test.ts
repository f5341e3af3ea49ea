/**
 * `algwatch-server backup` as an operator runs it: the real CLI, against the database of a store
 * that is open and has uncheckpointed writes in its WAL (as under a running server); then the
 * README's restore (copy the file in as algwatch.db, start) brings back exactly what was backed up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statSync } from 'node:fs';
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { runCommand } from '../../../test/helpers/process.js';
import { openRelationalStore } from '../relational/open.js';
import type { RelationalStore } from '../relational/relational-store.js';
import { SqliteTimeSeriesStore } from '../storage/sqlite-series-store.js';

const SERVER_BIN = fileURLToPath(new URL('../../bin/algwatch-server.js', import.meta.url));

function backup(args: string[], env: NodeJS.ProcessEnv = {}) {
  // The ALGWATCH_* variables of whoever runs the tests must not pick another database.
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('ALGWATCH_')));
  return runCommand(process.execPath, [SERVER_BIN, 'backup', ...args], { env: { ...clean, ...env } });
}

let dir: string;
let dataDir: string;
let live: RelationalStore;
let acmeToken: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'algwatch-backup-'));
  dataDir = join(dir, 'data');
  live = await openRelationalStore({ dataDir });
  acmeToken = (await live.createSite('acme-hq', 'acme')).token;
  await live.createSite('globex-branch', 'globex');
});

afterAll(async () => {
  await live?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('algwatch-server backup', () => {
  it('copies the open database, WAL included, into one self-contained file; restoring it brings the sites and tokens back', async () => {
    const file = join(dir, 'algwatch-backup.db');
    // The sites are still only in the write-ahead log, as under a running server.
    expect(statSync(join(dataDir, 'algwatch.db-wal')).size).toBeGreaterThan(0);
    const run = await backup([file, '--data-dir', dataDir]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^backed up ${join(dataDir, 'algwatch.db')} to ${file} \\(\\d+ bytes\\)\\n$`));
    // Written after the backup: must not be in the restored copy.
    await live.createSite('initech-lab', 'initech');
    // One file: no -wal or -shm beside it, nothing half-written left over.
    expect((await readdir(dir)).filter((name) => name.startsWith('algwatch-backup'))).toEqual(['algwatch-backup.db']);

    // The README's restore: the file becomes algwatch.db in an empty data directory.
    const restoredDir = join(dir, 'restored');
    await runCommand('mkdir', ['-p', restoredDir]);
    await copyFile(file, join(restoredDir, 'algwatch.db'));
    const restored = await openRelationalStore({ dataDir: restoredDir });
    try {
      expect((await restored.listSites()).map((site) => `${site.tenantName}/${site.name}`).sort()).toEqual(['acme/acme-hq', 'globex/globex-branch']);
      expect((await restored.authenticateToken(acmeToken))?.name).toBe('acme-hq');
    } finally {
      await restored.close();
    }
  });

  it('replaces an earlier backup with a complete new one', async () => {
    const file = join(dir, 'nightly.db');
    expect((await backup([file, '--data-dir', dataDir])).code).toBe(0);
    await live.createSite('umbrella-depot', 'umbrella');
    expect((await backup([file, '--data-dir', dataDir])).code).toBe(0);
    const copy = new Database(file, { readonly: true });
    try {
      expect(copy.prepare('SELECT name FROM sites ORDER BY name').all()).toContainEqual({ name: 'umbrella-depot' });
      expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      copy.close();
    }
  });

  it('backs up the embedded time series with --time-series, found through the config file', async () => {
    const series = new SqliteTimeSeriesStore({ dataDir });
    await series.write([{ measurement: 'stun_mapping', tags: { tenant: 'acme', site: 'acme-hq', agent: 'a1', target: 'r', result: 'ok' }, fields: { rtt_ms: 3 }, timestampMs: Date.now() }]);
    await series.close();
    const configFile = join(dir, 'server.json');
    await runCommand('sh', ['-c', `printf '{"data-dir": "%s"}' '${dataDir}' > '${configFile}'`]);
    const file = join(dir, 'series.sqlite');
    const run = await backup([file, '--time-series', '--config', configFile]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const source = new Database(join(dataDir, 'time-series.sqlite'), { readonly: true });
    const copy = new Database(file, { readonly: true });
    try {
      const tables = (db: Database.Database) => db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all();
      expect(tables(copy)).toEqual(tables(source));
    } finally {
      source.close();
      copy.close();
    }
  });

  it('points to pg_dump when sites live in PostgreSQL, and names a missing database, each in one line', async () => {
    const pg = await backup([join(dir, 'x.db')], { ALGWATCH_DATABASE_URL: 'postgres://algwatch:secret-pw@127.0.0.1:5432/test' });
    expect(pg.code).toBe(2);
    expect(pg.stderr).toMatch(/^algwatch-server backup: sites and tokens are in PostgreSQL \(--database-url\): back them up with pg_dump .*\n$/);
    expect(pg.stderr).not.toContain('secret-pw');
    const missing = await backup([join(dir, 'y.db'), '--data-dir', join(dir, 'nowhere')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`algwatch-server backup: ${join(dir, 'nowhere', 'algwatch.db')} does not exist: is --data-dir the server's data directory?\n`);
    const usage = await backup([]);
    expect(usage.code).toBe(2);
    expect(usage.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});
