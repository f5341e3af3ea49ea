/**
 * Makes release-0003.sqlite: the relational database as the release before migrations 0004+ left it
 * (schema 0001..0003, commit b549f5f), filled through that release's own store code. Run from the
 * repository root, once; the file is committed and never regenerated with newer code:
 *
 *   rm -rf .release-b549f5f && mkdir .release-b549f5f
 *   git archive b549f5f server/src/relational | tar -x -C .release-b549f5f
 *   npx tsx server/src/relational/testdata/make-release-fixture.ts .release-b549f5f
 *   npx tsx server/src/relational/testdata/make-release-fixture.ts .release-b549f5f postgres://postgres@127.0.0.1:5432/test
 *   rm -rf .release-b549f5f
 *
 * With a PostgreSQL URL it fills schema aw_release_0003 the same way and writes its pg_dump as
 * release-0003.postgres.sql, the schema's name replaced by __SCHEMA__ (the test loads it into a
 * throw-away schema of its own).
 *
 * The site, token, agent, targets, schedule and seen results below are what upgrade.test.ts expects
 * to find after the current code opens (and migrates) the file.
 */
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const releaseTree = resolve(process.argv[2] ?? '.release-b549f5f');
const postgresUrl = process.argv[3];
const out = fileURLToPath(new URL('.', import.meta.url));
const dataDir = join(out, 'release-0003');
const PG_SCHEMA = 'aw_release_0003';
let databaseUrl: string | undefined;
async function dropSchema(url: string): Promise<void> {
  const { default: pg } = await import('pg');
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`drop schema if exists ${PG_SCHEMA} cascade`);
  await admin.end();
}

if (postgresUrl) {
  const { default: pg } = await import('pg');
  const admin = new pg.Client({ connectionString: postgresUrl });
  await admin.connect();
  await admin.query(`drop schema if exists ${PG_SCHEMA} cascade; create schema ${PG_SCHEMA}`);
  await admin.end();
  databaseUrl = `${postgresUrl}?options=${encodeURIComponent(`-c search_path=${PG_SCHEMA}`)}`;
} else {
  rmSync(dataDir, { recursive: true, force: true });
}

const { openRelationalStore } = (await import(pathToFileURL(join(releaseTree, 'server/src/relational/open.ts')).href)) as typeof import('../open.js');
const store = await openRelationalStore({ dataDir, ...(databaseUrl ? { databaseUrl } : {}) });
const { site, token } = await store.createSite('acme-hq', 'acme');
await store.recordAgentHello(site.id, { agentId: 'desk-1', hostname: 'desk-1.acme.lan', version: '0.1.0' });
await store.setSiteTargets(site.id, [{ name: 'pbx', host: 'pbx.acme.example', port: 5060, transport: 'udp', keepalive: 'options' }]);
// That release's schedule had no rtpPath (added later): the old store code takes it as it was.
await store.setSiteSchedule(site.id, { sipAlg: '*/5 * * * *', stunMapping: '0 */5 * * * *', natBehavior: '0 3 * * *', bindingLifetime: '', keepalive: '* * * * *' } as never);
await store.markResultsSeen(site.id, ['11111111-1111-4111-8111-111111111111']);
await store.createSite('globex-branch', 'globex');
await store.close();
if (postgresUrl) {
  const dump = execFileSync('pg_dump', ['--dbname', postgresUrl, '--schema', PG_SCHEMA, '--no-owner', '--no-privileges', '--inserts'], { encoding: 'utf8' });
  // Plain SQL a driver can run: no psql meta-commands (\restrict), and no CREATE SCHEMA (the test
  // makes its own schema).
  const sql = dump
    .split('\n')
    .filter((line) => !line.startsWith('\\') && !line.startsWith(`CREATE SCHEMA ${PG_SCHEMA};`))
    .join('\n')
    .replaceAll(PG_SCHEMA, '__SCHEMA__');
  writeFileSync(join(out, 'release-0003.postgres.sql'), sql);
  await dropSchema(postgresUrl);
  writeFileSync(join(out, 'release-0003.postgres.token'), `${token}\n`);
  console.log(`wrote ${join(out, 'release-0003.postgres.sql')}`);
} else {
  // One self-contained file: fold the write-ahead log in.
  const { default: Database } = await import('better-sqlite3');
  const database = new Database(join(dataDir, 'algwatch.db'));
  database.pragma('journal_mode = DELETE');
  database.close();
  // Test data, not a secret: upgrade.test.ts checks the token still authenticates after the upgrade.
  writeFileSync(join(dataDir, 'acme-hq.token'), `${token}\n`);
  console.log(`wrote ${join(dataDir, 'algwatch.db')}`);
}
