/**
 * `algwatch-server backup FILE [--time-series] [--data-dir DIR] [--config FILE]`: a consistent copy
 * of the server's SQLite database taken while the server runs (SQLite's online backup API, which
 * copies every committed page, the WAL included, while writers go on).
 *
 *   backup FILE                 sites, tokens, agents, schedules, channels: <data dir>/algwatch.db
 *   backup FILE --time-series   the embedded time series: <data dir>/time-series.sqlite
 *
 * The copy is written to FILE.partial, checked with `PRAGMA integrity_check`, then renamed to FILE:
 * FILE is either the previous backup or a complete new one, never half of one. Restore (README,
 * "Backup and restore"): stop the server, copy FILE to the data directory under the name above,
 * delete that name's -wal and -shm files, start the server (it migrates an older backup forward).
 *
 * With --database-url (PostgreSQL) the relational store is not a file: the command says to use
 * pg_dump. Exit codes: 0 done (one line on stdout: what was copied, where, how big); 2 usage, or
 * nothing to back up, or the backup failed (one line on stderr).
 */
import { existsSync } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { flagError } from '@algwatch/protocol/cli-flags';
import { ConfigError, parseServerConfig } from '../config.js';
import { SQLITE_FILE_NAME } from '../relational/open.js';

export const BACKUP_USAGE = 'usage: backup FILE [--time-series] [--data-dir DIR] [--database-url URL] [--config FILE]';

/** The embedded time-series file's name in the data directory (sqlite-series-store.ts). */
const TIME_SERIES_FILE_NAME = 'time-series.sqlite';

export interface BackupCommandOptions {
  env?: NodeJS.ProcessEnv;
  stdout?: { write(text: string): unknown };
  stderr?: { write(text: string): unknown };
}

/** backupCommand runs `backup <argv...>` and resolves to the exit code. */
export async function backupCommand(argv: string[], options: BackupCommandOptions = {}): Promise<number> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const fail = (message: string) => {
    stderr.write(`algwatch-server backup: ${message}\n`);
    return 2;
  };
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { 'time-series': { type: 'boolean' }, 'data-dir': { type: 'string' }, 'database-url': { type: 'string' }, config: { type: 'string' } },
    });
  } catch (err) {
    return fail(`${flagError(err)}; ${BACKUP_USAGE}`);
  }
  const [target, ...extra] = parsed.positionals;
  if (!target || extra.length > 0) return fail(`name one backup file; ${BACKUP_USAGE}`);
  // The data directory and database exactly as `serve` would resolve them (flags > ALGWATCH_* > file).
  const serveFlags = (['data-dir', 'database-url', 'config'] as const).flatMap((flag) => {
    const value = parsed.values[flag];
    return typeof value === 'string' ? [`--${flag}`, value] : [];
  });
  let config;
  try {
    config = parseServerConfig(serveFlags, options.env ?? process.env);
  } catch (err) {
    if (err instanceof ConfigError) return fail(err.problems.join('; '));
    throw err;
  }
  const timeSeries = parsed.values['time-series'] === true;
  if (!timeSeries && config.databaseUrl) {
    return fail('sites and tokens are in PostgreSQL (--database-url): back them up with pg_dump (README, "Backup and restore")');
  }
  if (timeSeries && config.influxUrl) {
    return fail('time series are in InfluxDB (--influx-url): back them up with `influxd backup -portable` (README, "Backup and restore")');
  }
  const source = join(config.dataDir, timeSeries ? TIME_SERIES_FILE_NAME : SQLITE_FILE_NAME);
  if (!existsSync(source)) return fail(`${source} does not exist: is --data-dir the server's data directory?`);

  const destination = resolve(target);
  const partial = `${destination}.partial`;
  try {
    await copyDatabase(source, partial);
    await rename(partial, destination);
  } catch (err) {
    await rm(partial, { force: true });
    return fail(`${source} -> ${destination}: ${(err as Error).message.split('\n')[0]}`);
  }
  const { size } = await stat(destination);
  stdout.write(`backed up ${source} to ${destination} (${size} bytes)\n`);
  return 0;
}

/** copyDatabase takes an online backup of `source` into `destination` and checks the copy's integrity. */
async function copyDatabase(source: string, destination: string): Promise<void> {
  await rm(destination, { force: true });
  // Opened without migrating (unlike openRelationalStore): a backup must not change what it copies.
  const database = new Database(source, { fileMustExist: true });
  try {
    database.pragma('busy_timeout = 5000');
    await database.backup(destination);
  } finally {
    database.close();
  }
  const copy = new Database(destination, { fileMustExist: true });
  try {
    const verdict = copy.pragma('integrity_check', { simple: true });
    if (verdict !== 'ok') throw new Error(`the copy failed its integrity check: ${String(verdict)}`);
    // A plain rollback-journal file: restorable by copying this one file, no -wal beside it.
    copy.pragma('journal_mode = DELETE');
  } finally {
    copy.close();
  }
}
