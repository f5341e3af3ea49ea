import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRelationalStore } from '../../relational/open.js';
import type { RelationalStore } from '../../relational/relational-store.js';
import { TEST_DATABASES, type TestDatabase } from '../../relational/test-databases.js';
import { ChannelError, ChannelStore } from './channel-store.js';

describe.each(TEST_DATABASES)('ChannelStore on %s', (_label, createDatabase) => {
  let database: TestDatabase;
  let relational: RelationalStore;
  let channels: ChannelStore;

  beforeAll(async () => {
    database = await createDatabase();
    relational = await openRelationalStore(database.options);
    await relational.createSite('branch-12', 'acme-dental');
    await relational.createSite('hq', 'globex');
    channels = new ChannelStore(relational.db);
  });
  afterAll(async () => {
    await relational?.close();
    await database?.drop();
  });

  it('adds channels and lists them by name with their destination and an empty delivery record', async () => {
    await channels.add({ name: 'ops-mail', destination: { kind: 'email', to: ['ops@msp.example'], smtpUrl: 'smtp://u:p@mail.msp.example:587' } });
    await channels.add({ name: 'acme-slack', tenant: 'acme-dental', destination: { kind: 'slack', url: 'https://hooks.slack.com/services/T/B/x' } });
    await channels.add({ name: 'globex-hook', tenant: 'globex', destination: { kind: 'webhook', url: 'https://globex.example/hook', secret: '0123456789abcdef' } });

    const listed = await channels.list();
    expect(listed.map((channel) => [channel.name, channel.tenant, channel.destination.kind])).toEqual([
      ['acme-slack', 'acme-dental', 'slack'],
      ['globex-hook', 'globex', 'webhook'],
      ['ops-mail', null, 'email'],
    ]);
    expect(listed[2]?.destination).toEqual({ kind: 'email', to: ['ops@msp.example'], smtpUrl: 'smtp://u:p@mail.msp.example:587' });
    expect(listed[2]?.delivery).toEqual({ lastSuccessAt: null, lastFailureAt: null, lastError: null, failureCount: 0 });
    expect((await channels.get('globex-hook'))?.destination).toEqual({ kind: 'webhook', url: 'https://globex.example/hook', secret: '0123456789abcdef' });
    expect(await channels.get('nowhere')).toBeUndefined();
  });

  it('gives a tenant its own channels and those without a tenant', async () => {
    expect((await channels.forTenant('acme-dental')).map((channel) => channel.name)).toEqual(['acme-slack', 'ops-mail']);
    expect((await channels.forTenant('globex')).map((channel) => channel.name)).toEqual(['globex-hook', 'ops-mail']);
    expect((await channels.forTenant('initech')).map((channel) => channel.name)).toEqual(['ops-mail']);
  });

  it('refuses a duplicate name, an unknown tenant and a bad name with one line each', async () => {
    const slack = { kind: 'slack', url: 'https://hooks.slack.com/services/T/B/y' } as const;
    await expect(channels.add({ name: 'ops-mail', destination: slack })).rejects.toThrow(new ChannelError('CHANNEL_EXISTS', 'channel ops-mail already exists: remove it first or pick another name'));
    await expect(channels.add({ name: 'x', tenant: 'initech', destination: slack })).rejects.toThrow(
      'no tenant initech: known tenants are acme-dental, globex (a tenant comes with its first `site add NAME --tenant T`)',
    );
    await expect(channels.add({ name: 'no spaces', destination: slack })).rejects.toMatchObject({ code: 'INVALID_NAME' });
    expect(await channels.list()).toHaveLength(3);
  });

  it('records failures until a success ends the streak', async () => {
    const channel = (await channels.get('ops-mail'))!;
    await channels.recordFailure(channel.id, new Date('2026-12-01T22:00:00Z'), 'SMTP server mail.msp.example:587: connection refused');
    await channels.recordFailure(channel.id, new Date('2026-12-01T22:05:00Z'), 'SMTP server mail.msp.example:587: timed out');
    expect((await channels.get('ops-mail'))?.delivery).toEqual({
      lastSuccessAt: null,
      lastFailureAt: '2026-12-01T22:05:00.000Z',
      lastError: 'SMTP server mail.msp.example:587: timed out',
      failureCount: 2,
    });
    await channels.recordSuccess(channel.id, new Date('2026-12-01T22:10:00Z'));
    expect((await channels.get('ops-mail'))?.delivery).toEqual({ lastSuccessAt: '2026-12-01T22:10:00.000Z', lastFailureAt: '2026-12-01T22:05:00.000Z', lastError: null, failureCount: 0 });
  });

  it('lets exactly one message open an email thread per channel until it is released', async () => {
    const mail = (await channels.get('ops-mail'))!;
    const slack = (await channels.get('acme-slack'))!;
    expect(await channels.threadsOf(mail.id).claimThreadStart('acme-dental/branch-12/1')).toBe(true);
    expect(await channels.threadsOf(mail.id).claimThreadStart('acme-dental/branch-12/1')).toBe(false);
    expect(await channels.threadsOf(slack.id).claimThreadStart('acme-dental/branch-12/1')).toBe(true);
    await channels.threadsOf(mail.id).releaseThreadStart('acme-dental/branch-12/1');
    expect(await channels.threadsOf(mail.id).claimThreadStart('acme-dental/branch-12/1')).toBe(true);
  });

  it('removes a channel and its threads, and says when there is none', async () => {
    const removed = await channels.remove('acme-slack');
    expect(removed.name).toBe('acme-slack');
    expect(await channels.get('acme-slack')).toBeUndefined();
    expect(await database.query(`select count(*) as n from notification_threads where channel_id = '${removed.id}'`)).toEqual([{ n: database.dialect === 'postgres' ? '0' : 0 }]);
    await expect(channels.remove('acme-slack')).rejects.toThrow('no channel acme-slack: see `channel list`');
  });

  it('drops a tenant`s channels with the tenant', async () => {
    await relational.db.deleteFrom('tenants').where('name', '=', 'globex').execute();
    expect((await channels.list()).map((channel) => channel.name)).toEqual(['ops-mail']);
  });
});
