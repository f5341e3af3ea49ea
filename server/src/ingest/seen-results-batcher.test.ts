import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRelationalStore } from '../relational/open.js';
import type { RelationalStore } from '../relational/relational-store.js';
import { TEST_DATABASES, type TestDatabase } from '../relational/test-databases.js';
import { SeenResultsBatcher } from './seen-results-batcher.js';

describe.each(TEST_DATABASES)('SeenResultsBatcher on %s', (_label, createDatabase) => {
  let database: TestDatabase;
  let store: RelationalStore;
  let statements = 0;
  let batcher: SeenResultsBatcher;
  let north: string;
  let south: string;

  beforeAll(async () => {
    database = await createDatabase();
    store = await openRelationalStore(database.options);
    north = (await store.createSite('north', 'acme')).site.id;
    south = (await store.createSite('south', 'acme')).site.id;
    batcher = new SeenResultsBatcher({
      markManyResultsSeen: (batches) => {
        statements++;
        return store.markManyResultsSeen(batches);
      },
    });
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  it('marks the batches of several sites that arrive together in one statement', async () => {
    statements = 0;
    const [a, b, c] = await Promise.all([
      batcher.markResultsSeen(north, ['n1', 'n2']),
      batcher.markResultsSeen(south, ['n1', 's1']), // the same id at another site is another result
      batcher.markResultsSeen(north, ['n3']),
    ]);
    expect([a, b, c]).toEqual([['n1', 'n2'], ['n1', 's1'], ['n3']]);
    expect(statements).toBe(1);
  });

  it('reports an id as new exactly once, also when two batches in one flush carry it', async () => {
    const [first, duplicate, resend] = await Promise.all([
      batcher.markResultsSeen(north, ['n4', 'n5']),
      batcher.markResultsSeen(north, ['n5']),
      batcher.markResultsSeen(north, ['n1']),
    ]);
    expect(first).toEqual(['n4', 'n5']);
    expect(duplicate).toEqual([]);
    expect(resend).toEqual([]);
    expect(await store.unseenResultIds(north, ['n1', 'n4', 'n5', 'n6'])).toEqual(['n6']);
  });

  it('fails every waiting batch when the statement fails, and works again afterwards', async () => {
    let fail = true;
    const flaky = new SeenResultsBatcher({
      markManyResultsSeen: (batches) => (fail ? Promise.reject(new Error('database is locked')) : store.markManyResultsSeen(batches)),
    });
    const outcomes = await Promise.allSettled([flaky.markResultsSeen(north, ['f1']), flaky.markResultsSeen(south, ['f2'])]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await flaky.markResultsSeen(north, ['f1'])).toEqual(['f1']);
  });
});
