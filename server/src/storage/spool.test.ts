import { execFileSync } from 'node:child_process';
import { appendFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Spool, SpoolFullError } from './spool.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'algwatch-spool-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** drain acknowledges and returns every record, oldest first. */
async function drain<T>(spool: Spool<T>): Promise<T[]> {
  const out: T[] = [];
  for (let next = await spool.peek(); next; next = await spool.peek()) {
    out.push(next.record);
    await next.ack();
  }
  return out;
}

describe('Spool', () => {
  it('gives records back in the order they were appended, across segments', async () => {
    const dir = await tempDir();
    const spool = await Spool.open<{ n: number }>({ dir, segmentBytes: 40 });
    for (let n = 0; n < 20; n++) await spool.append({ n });
    expect((await readdir(dir)).length).toBeGreaterThan(3);
    expect((await drain(spool)).map((r) => r.n)).toEqual([...Array(20).keys()]);
    expect(spool.isEmpty).toBe(true);
    expect(await readdir(dir)).toEqual([]);
    await spool.close();
  });

  it('keeps unacknowledged records for the next process and appends after them', async () => {
    const dir = await tempDir();
    const first = await Spool.open<string>({ dir });
    await first.append('a');
    await first.append('b');
    const a = await first.peek();
    await a!.ack();
    await first.close();

    const second = await Spool.open<string>({ dir });
    expect(second.isEmpty).toBe(false);
    await second.append('c');
    expect(await drain(second)).toEqual(['b', 'c']);
    await second.close();
  });

  it('replays acknowledged records of the oldest segment after a crash (no close)', async () => {
    const dir = await tempDir();
    const crashed = await Spool.open<string>({ dir });
    await crashed.append('a');
    await crashed.append('b');
    await (await crashed.peek())!.ack();
    const next = await Spool.open<string>({ dir });
    expect(await drain(next)).toEqual(['a', 'b']);
    await next.close();
    await crashed.close();
  });

  it('returns the same record again until it is acknowledged', async () => {
    const dir = await tempDir();
    const spool = await Spool.open<string>({ dir });
    await spool.append('only');
    expect((await spool.peek())?.record).toBe('only');
    expect((await spool.peek())?.record).toBe('only');
    await (await spool.peek())!.ack();
    expect(await spool.peek()).toBeUndefined();
    await spool.close();
  });

  it('skips a line torn by a crash and reports where it was', async () => {
    const dir = await tempDir();
    const first = await Spool.open<string>({ dir });
    await first.append('before');
    await first.close();
    const [segment] = await readdir(dir);
    await appendFile(join(dir, segment!), '"torn mid-wri');
    const corrupt: number[] = [];
    const second = await Spool.open<string>({ dir, onCorruptLine: (_, offset) => corrupt.push(offset) });
    await second.append('after');
    expect(await drain(second)).toEqual(['before', 'after']);
    expect(corrupt).toEqual(['"before"\n'.length]);
    await second.close();
  });

  it('refuses a record past its size cap and accepts again once drained', async () => {
    const dir = await tempDir();
    const spool = await Spool.open<string>({ dir, maxBytes: 30 });
    await spool.append('0123456789');
    await spool.append('0123456789');
    await expect(spool.append('0123456789')).rejects.toBeInstanceOf(SpoolFullError);
    await drain(spool);
    await spool.append('0123456789');
    expect(spool.sizeBytes).toBe(13);
    await spool.close();
  });

  it('fails with ENOSPC on a full disk and leaves no partial line behind', async () => {
    const mountPoint = await tempDir();
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mountPoint]);
    try {
      const spool = await Spool.open<string>({ dir: mountPoint, segmentBytes: 1024 * 1024 });
      await spool.append('small');
      await expect(spool.append('x'.repeat(200 * 1024))).rejects.toMatchObject({ code: 'ENOSPC' });
      await spool.append('still fits');
      expect(await drain(spool)).toEqual(['small', 'still fits']);
      await spool.close();
    } finally {
      execFileSync('umount', [mountPoint]);
    }
  });
});
