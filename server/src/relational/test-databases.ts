/**
 * Test helpers: a throwaway relational database of each dialect. SQLite lives in a temp directory;
 * PostgreSQL is the machine's server (127.0.0.1:5432, trust auth) with a schema of its own per call,
 * so parallel test runs never see each other's rows. Used by tests only.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { RelationalStoreOptions } from './open.js';

export const TEST_POSTGRES_URL = process.env.ALGWATCH_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  dialect: 'sqlite' | 'postgres';
  options: RelationalStoreOptions;
  /** Runs a raw SQL query against the test database (for checks the store API does not offer). */
  query(text: string): Promise<Record<string, unknown>[]>;
  drop(): Promise<void>;
}

/** createSqliteTestDatabase makes an empty data directory for a SQLite store. */
export async function createSqliteTestDatabase(): Promise<TestDatabase> {
  const dataDir = await mkdtemp(join(tmpdir(), 'algwatch-relational-'));
  const { default: Database } = await import('better-sqlite3');
  return {
    dialect: 'sqlite',
    options: { dataDir },
    async query(text) {
      const database = new Database(join(dataDir, 'algwatch.db'), { readonly: true });
      try {
        return database.prepare(text).all() as Record<string, unknown>[];
      } finally {
        database.close();
      }
    },
    drop: () => rm(dataDir, { recursive: true, force: true }),
  };
}

/** createPostgresTestDatabase creates schema aw_test_<random> and a URL whose search_path is it. */
export async function createPostgresTestDatabase(): Promise<TestDatabase> {
  const schema = `aw_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  const separator = TEST_POSTGRES_URL.includes('?') ? '&' : '?';
  const databaseUrl = `${TEST_POSTGRES_URL}${separator}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const dataDir = await mkdtemp(join(tmpdir(), 'algwatch-relational-pg-'));
  return {
    dialect: 'postgres',
    options: { databaseUrl, dataDir },
    async query(text) {
      await admin.query(`set search_path to ${schema}`);
      return (await admin.query(text)).rows as Record<string, unknown>[];
    },
    async drop() {
      await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.end();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export const TEST_DATABASES = [
  ['SQLite', createSqliteTestDatabase],
  ['PostgreSQL', createPostgresTestDatabase],
] as const;
