import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRelationalStore } from '../relational/open.js';
import type { RelationalStore } from '../relational/relational-store.js';
import { TEST_DATABASES, type TestDatabase } from '../relational/test-databases.js';
import { AlertAckStore } from './alert-ack-store.js';

describe.each(TEST_DATABASES)('alert acknowledgements on %s', (_label, createDatabase) => {
  let database: TestDatabase;
  let store: RelationalStore;
  let acks: AlertAckStore;

  beforeAll(async () => {
    database = await createDatabase();
    store = await openRelationalStore(database.options);
    acks = new AlertAckStore(store.db);
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  it('keeps who acknowledged an alert, for the episode it fires in only', async () => {
    const firingSince = Date.parse('2026-12-01T10:00:00Z');
    await acks.acknowledge('f1', 'alice', new Date('2026-12-01T10:05:00Z'));
    await acks.acknowledge('f2', 'bob', new Date('2026-12-01T09:00:00Z'));
    const found = await acks.acksOf([
      { fingerprint: 'f1', startsAt: firingSince },
      { fingerprint: 'f2', startsAt: firingSince },
      { fingerprint: 'f3', startsAt: firingSince },
    ]);
    expect([...found]).toEqual([['f1', { by: 'alice', at: '2026-12-01T10:05:00.000Z' }]]);
  });

  it('renews an acknowledgement given again', async () => {
    await acks.acknowledge('f2', 'carol', new Date('2026-12-01T11:00:00Z'));
    expect((await acks.acksOf([{ fingerprint: 'f2', startsAt: Date.parse('2026-12-01T10:00:00Z') }])).get('f2')).toEqual({ by: 'carol', at: '2026-12-01T11:00:00.000Z' });
  });
});
