import { randomUUID } from 'node:crypto';
import { appendFile, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ProbeResultMessage } from '@algwatch/protocol/events';
import { memoryLogger } from './log.js';
import { Outbox } from './outbox.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'algwatch-outbox-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function result(n: number): ProbeResultMessage {
  return {
    id: randomUUID(),
    probe: 'stun-mapping',
    target: `reflector-${n}`,
    startedAt: 1_700_000_000_000 + n,
    durationMs: 12.5,
    success: true,
    points: [{ measurement: 'stun_mapping', tags: { target: 'r', result: 'success' }, fields: { rtt_ms: n } }],
    detail: { n },
  };
}

/** drain sends everything like the daemon does: batch, ack, repeat. */
async function drain(outbox: Outbox, batchSize = 3): Promise<ProbeResultMessage[]> {
  const sent: ProbeResultMessage[] = [];
  for (;;) {
    const batch = await outbox.nextBatch(batchSize);
    if (batch.length === 0) return sent;
    sent.push(...batch);
    await outbox.ack(batch.map((message) => message.id));
  }
}

describe('Outbox', () => {
  it('returns appended results in order, and the same batch again until it is acknowledged', async () => {
    const outbox = await Outbox.open({ dir, log: memoryLogger() });
    const results = [1, 2, 3, 4, 5].map(result);
    for (const message of results) await outbox.append(message);
    expect(outbox.depth).toBe(5);
    const first = await outbox.nextBatch(2);
    expect(await outbox.nextBatch(2)).toEqual(first);
    await outbox.ack(first.map((message) => message.id));
    expect(outbox.depth).toBe(3);
    expect((await drain(outbox)).map((message) => message.target)).toEqual(['reflector-3', 'reflector-4', 'reflector-5']);
    expect(outbox.depth).toBe(0);
    await outbox.close();
  });

  it('keeps a result that the ack does not list', async () => {
    const outbox = await Outbox.open({ dir, log: memoryLogger() });
    const [a, b] = [result(1), result(2)];
    await outbox.append(a);
    await outbox.append(b);
    await outbox.nextBatch();
    await outbox.ack([b.id]);
    expect((await outbox.nextBatch()).map((message) => message.id)).toEqual([a.id]);
    await outbox.close();
  });

  it('replays unacknowledged results after a restart, in order, without the acknowledged ones', async () => {
    const results = Array.from({ length: 30 }, (_, n) => result(n));
    const first = await Outbox.open({ dir, log: memoryLogger(), maxResults: 100 });
    for (const message of results) await first.append(message);
    const batch = await first.nextBatch(7);
    await first.ack(batch.map((message) => message.id));
    await first.close();

    const log = memoryLogger();
    const second = await Outbox.open({ dir, log, maxResults: 100 });
    expect(second.depth).toBe(23);
    expect(log.lines).toContainEqual({ level: 'info', message: 'outbox: 23 result(s) from an earlier run waiting to be sent' });
    expect((await drain(second, 5)).map((message) => message.id)).toEqual(results.slice(7).map((message) => message.id));
    await second.close();

    const third = await Outbox.open({ dir, log: memoryLogger(), maxResults: 100 });
    expect(third.depth).toBe(0);
    await third.close();
  });

  it('deletes fully acknowledged segment files and compacts the ack log', async () => {
    const outbox = await Outbox.open({ dir, log: memoryLogger(), maxResults: 50 });
    for (let n = 0; n < 40; n += 1) await outbox.append(result(n));
    expect((await readdir(dir)).filter((name) => name.startsWith('results-')).length).toBe(8);
    await drain(outbox, 6);
    expect(await readdir(dir)).toEqual(['acks.log']);
    await outbox.append(result(99));
    expect(outbox.depth).toBe(1);
    await outbox.close();
  });

  it('drops the oldest results past the cap with one warning saying how many', async () => {
    const log = memoryLogger();
    const outbox = await Outbox.open({ dir, log, maxResults: 20 });
    const results = Array.from({ length: 21 }, (_, n) => result(n));
    for (const message of results) await outbox.append(message);
    expect(outbox.depth).toBe(19);
    expect(log.lines.filter((line) => line.level === 'warn').map((line) => line.message)).toEqual([
      'outbox: full (cap 20 results or 50 MB): dropped the 2 oldest result(s); the server has not acknowledged results for a long time: check that it is reachable',
    ]);
    expect((await drain(outbox)).map((message) => message.id)).toEqual(results.slice(2).map((message) => message.id));
    await outbox.close();
  });

  it('tolerates a line cut short by a crash and keeps appending after it', async () => {
    const results = [1, 2, 3].map(result);
    const first = await Outbox.open({ dir, log: memoryLogger() });
    for (const message of results) await first.append(message);
    await first.close();
    const [segment] = (await readdir(dir)).filter((name) => name.startsWith('results-'));
    await appendFile(join(dir, segment!), `${randomUUID()}\t{"id":"trunc`);

    const log = memoryLogger();
    const second = await Outbox.open({ dir, log });
    expect(log.lines.filter((line) => line.level === 'warn').map((line) => line.message)).toEqual([
      `outbox: skipped 1 damaged line(s) in ${dir} (a write cut short by a crash or a full disk)`,
    ]);
    const later = result(4);
    await second.append(later);
    await second.close();

    const third = await Outbox.open({ dir, log: memoryLogger() });
    expect((await drain(third)).map((message) => message.id)).toEqual([...results, later].map((message) => message.id));
    await third.close();
  });

  it('skips a damaged line in the middle of a segment and delivers the rest', async () => {
    const first = await Outbox.open({ dir, log: memoryLogger() });
    const [a, b] = [result(1), result(2)];
    await first.append(a);
    await first.close();
    const [segment] = (await readdir(dir)).filter((name) => name.startsWith('results-'));
    const brokenId = randomUUID();
    await appendFile(join(dir, segment!), `${brokenId}\t{not json\n`);
    const log = memoryLogger();
    const second = await Outbox.open({ dir, log });
    await second.append(b);
    expect((await drain(second)).map((message) => message.id)).toEqual([a.id, b.id]);
    expect(log.lines).toContainEqual({ level: 'warn', message: `outbox: skipped a damaged result ${brokenId} in results-000001.log` });
    await second.close();
  });

  it('keeps results in memory with one warning when the disk is full, and writes them once it can', async () => {
    const log = memoryLogger();
    const outbox = await Outbox.open({ dir, log });
    const early = result(1);
    await outbox.append(early);
    await outbox.nextBatch();
    await outbox.ack([early.id]);
    // The active segment was deleted with its last ack; the next append creates results-000001.log.
    // /dev/full answers every write with ENOSPC: a real full disk without mounting anything.
    await symlink('/dev/full', join(dir, 'results-000001.log'));
    const held = [result(2), result(3)];
    for (const message of held) await outbox.append(message);
    expect(outbox.depth).toBe(2);
    expect(log.lines.filter((line) => line.level === 'warn').map((line) => line.message)).toEqual([
      `outbox: cannot write ${dir} (ENOSPC: disk full); keeping results in memory until it can`,
    ]);
    expect((await outbox.nextBatch()).map((message) => message.id)).toEqual(held.map((message) => message.id));

    await rm(join(dir, 'results-000001.log'));
    await writeFile(join(dir, 'results-000001.log'), '');
    const after = result(4);
    await outbox.append(after);
    expect(log.lines.at(-1)).toEqual({ level: 'info', message: `outbox: ${dir} is writable again; results kept in memory are on disk now` });
    await outbox.close();
    const reopened = await Outbox.open({ dir, log: memoryLogger() });
    expect((await drain(reopened)).map((message) => message.id)).toEqual([...held, after].map((message) => message.id));
    await reopened.close();
  });
});
