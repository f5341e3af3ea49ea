/**
 * openRelationalStore picks the database: SQLite in the data directory by default (one server, no
 * setup), PostgreSQL with `--database-url postgres://...` (several servers sharing one store).
 * Migrations run on every open, so a new server version upgrades the schema by starting.
 */
import { mkdirSync } from 'node:fs';
import { ensureWritableDirectory } from '@algwatch/protocol/writable-directory';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { relationalMigrations } from './migrations.js';
import { RelationalError } from './relational-error.js';
import { RelationalStore } from './relational-store.js';
import type { RelationalDatabase } from './schema.js';

export interface RelationalStoreOptions {
  /**
   * `postgres://user@host:5432/db` (or `postgresql://`); absent means SQLite. A schema other than
   * `public` is chosen the libpq way: `?options=-c%20search_path%3Dmyschema` (the schema must exist).
   */
  databaseUrl?: string;
  /** Where SQLite keeps `algwatch.db` (created if missing). */
  dataDir: string;
}

export const SQLITE_FILE_NAME = 'algwatch.db';

/**
 * openRelationalStore opens the store and migrates it to the latest schema. Rejects with a one-line
 * RelationalError when the URL is not PostgreSQL, the database cannot be reached, or a migration fails.
 */
export async function openRelationalStore(options: RelationalStoreOptions): Promise<RelationalStore> {
  const { databaseUrl } = options;
  if (databaseUrl === undefined || databaseUrl === '') {
    // Checked first: SQLite alone would say "unable to open database file", naming nothing to fix.
    await ensureWritableDirectory(options.dataDir).catch((err: Error) => {
      throw new RelationalError('DATA_DIR_UNWRITABLE', err.message);
    });
    return migrate(openSqlite(options.dataDir), 'sqlite');
  }
  if (!/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new RelationalError('UNSUPPORTED_DATABASE_URL', `unsupported --database-url ${redact(databaseUrl)}: use postgres://user@host:5432/database, or leave it out for SQLite`);
  }
  return migrate(await openPostgres(databaseUrl), 'postgres');
}

function openSqlite(dataDir: string): Kysely<RelationalDatabase> {
  mkdirSync(dataDir, { recursive: true });
  const database = new Database(join(dataDir, SQLITE_FILE_NAME));
  // WAL lets the `site` command write while the server reads; busy_timeout makes the rare
  // overlapping writes wait instead of failing with SQLITE_BUSY.
  database.pragma('journal_mode = WAL');
  // WAL with NORMAL syncs at checkpoints, not at every commit: a commit per results batch was an
  // fsync per batch on ingest's path. Safe here: the file cannot corrupt, and the last commits that a
  // power cut could lose are "result seen" marks, whose only cost is a result fanned out again
  // (the time series store keeps its points once either way). Sites and tokens are written rarely.
  database.pragma('synchronous = NORMAL');
  database.pragma('busy_timeout = 5000');
  database.pragma('foreign_keys = ON');
  return new Kysely<RelationalDatabase>({ dialect: new SqliteDialect({ database }) });
}

async function openPostgres(databaseUrl: string): Promise<Kysely<RelationalDatabase>> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10, connectionTimeoutMillis: 10_000 });
  // An idle client that loses its server emits 'error' on the pool; unhandled it would crash the process.
  pool.on('error', () => {});
  try {
    const client = await pool.connect();
    client.release();
  } catch (error) {
    await pool.end();
    throw new RelationalError('DATABASE_UNREACHABLE', `cannot reach PostgreSQL at ${redact(databaseUrl)}: ${errorMessage(error)}`);
  }
  return new Kysely<RelationalDatabase>({ dialect: new PostgresDialect({ pool }) });
}

async function migrate(db: Kysely<RelationalDatabase>, dialect: 'sqlite' | 'postgres'): Promise<RelationalStore> {
  try {
    // Kysely looks for its migration table in every schema unless told which one: name the current
    // schema so two algwatch schemas in one PostgreSQL database never see each other's migrations.
    const migrationTableSchema = dialect === 'postgres' ? await currentSchema(db) : undefined;
    const migrator = new Migrator({ db, provider: relationalMigrations, ...(migrationTableSchema ? { migrationTableSchema } : {}) });
    let { error, results } = await migrator.migrateToLatest();
    // Before migrating, kysely lists every table of every schema in the database (pg_catalog); if
    // another schema's tables are dropped during that query it fails with "relation ... does not
    // exist" for a table that is not ours (seen with test schemas dropped in parallel). A failure
    // before any migration ran is therefore retried.
    for (let attempt = 1; error !== undefined && dialect === 'postgres' && !results?.some((r) => r.status === 'Error') && attempt <= 3; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      ({ error, results } = await migrator.migrateToLatest());
    }
    if (error !== undefined) {
      const failed = results?.find((result) => result.status === 'Error')?.migrationName ?? 'setup';
      throw new RelationalError('MIGRATION_FAILED', `relational migration ${failed} failed: ${errorMessage(error)}`);
    }
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return new RelationalStore(db, dialect);
}

async function currentSchema(db: Kysely<RelationalDatabase>): Promise<string> {
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
  const schema = rows[0]?.schema;
  if (!schema) throw new RelationalError('MIGRATION_FAILED', 'PostgreSQL has no current schema: create the schema named in search_path first');
  return schema;
}

/** redact hides a password in a database URL before it reaches a log or an error message. */
function redact(databaseUrl: string): string {
  return databaseUrl.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0] ?? '' : String(error);
}
