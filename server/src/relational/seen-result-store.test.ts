import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRelationalStore } from './open.js';
import type { RelationalStore } from './relational-store.js';
import { SeenResultStore } from './seen-result-store.js';
import { TEST_DATABASES, type TestDatabase } from './test-databases.js';

describe.each(TEST_DATABASES)('seen result store on %s', (_label, createDatabase) => {
  let database: TestDatabase;
  let relational: RelationalStore;
  let store: SeenResultStore;

  beforeAll(async () => {
    database = await createDatabase();
    relational = await openRelationalStore(database.options);
    store = new SeenResultStore(relational.db);
  });
  afterAll(async () => {
    await relational?.close();
    await database?.drop();
  });

  it('keeps the fingerprint an id was first stored with and reports each id new once', async () => {
    const { site } = await relational.createSite('fingerprints', 'acme');
    const other = (await relational.createSite('fingerprints-2', 'acme')).site;
    expect(await store.markResultsSeen(site.id, ['r1', 'r2'], new Map([['r1', 'f1'], ['r2', 'f2']]))).toEqual(['r1', 'r2']);
    expect(await store.markResultsSeen(site.id, ['r1'], new Map([['r1', 'changed']]))).toEqual([]);
    await relational.markResultsSeen(site.id, ['legacy']);
    expect(await store.markManyResultsSeen([{ siteId: other.id, ids: ['r1'], fingerprints: new Map([['r1', 'g1']]) }])).toEqual([{ siteId: other.id, resultId: 'r1' }]);

    const known = await store.knownFingerprints(site.id, ['r1', 'r2', 'legacy', 'never']);
    expect(Object.fromEntries(known)).toEqual({ r1: 'f1', r2: 'f2', legacy: null });
    expect(Object.fromEntries(await store.knownFingerprints(other.id, ['r1', 'r2']))).toEqual({ r1: 'g1' });
  });
});
