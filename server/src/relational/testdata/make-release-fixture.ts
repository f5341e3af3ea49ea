/**
 * Makes release-0003.sqlite: the relational database as the release before migrations 0004+ left it
 * (schema 0001..0003, commit b549f5f), filled through that release's own store code. Run from the
 * repository root, once; the file is committed and never regenerated with newer code:
 *
 *   rm -rf .release-b549f5f && mkdir .release-b549f5f
 *   git archive b549f5f server/src/relational | tar -x -C .release-b549f5f
 *   npx tsx server/src/relational/testdata/make-release-fixture.ts .release-b549f5f
 *   rm -rf .release-b549f5f
 *
 * The site, token, agent, targets, schedule and seen results below are what upgrade.test.ts expects
 * to find after the current code opens (and migrates) the file.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const releaseTree = resolve(process.argv[2] ?? '.release-b549f5f');
const out = fileURLToPath(new URL('.', import.meta.url));
const dataDir = join(out, 'release-0003');
rmSync(dataDir, { recursive: true, force: true });

const { openRelationalStore } = (await import(pathToFileURL(join(releaseTree, 'server/src/relational/open.ts')).href)) as typeof import('../open.js');
const store = await openRelationalStore({ dataDir });
const { site, token } = await store.createSite('acme-hq', 'acme');
await store.recordAgentHello(site.id, { agentId: 'desk-1', hostname: 'desk-1.acme.lan', version: '0.1.0' });
await store.setSiteTargets(site.id, [{ name: 'pbx', host: 'pbx.acme.example', port: 5060, transport: 'udp', keepalive: 'options' }]);
await store.setSiteSchedule(site.id, { sipAlg: '*/5 * * * *', stunMapping: '0 */5 * * * *', natBehavior: '0 3 * * *', bindingLifetime: '', keepalive: '* * * * *' });
await store.markResultsSeen(site.id, ['11111111-1111-4111-8111-111111111111']);
await store.createSite('globex-branch', 'globex');
await store.close();
// One self-contained file: fold the write-ahead log in.
const { default: Database } = await import('better-sqlite3');
const database = new Database(join(dataDir, 'algwatch.db'));
database.pragma('journal_mode = DELETE');
database.close();
// Test data, not a secret: upgrade.test.ts checks the token still authenticates after the upgrade.
writeFileSync(join(dataDir, 'acme-hq.token'), `${token}\n`);
console.log(`wrote ${join(dataDir, 'algwatch.db')}`);
