/**
 * The agent's outbox on a disk that really fills: a 200 KB tmpfs, results produced while the server
 * is away until the disk is full and well past it (the results the disk cannot take are held in
 * memory), then the server comes back. Every result produced must be delivered exactly once and in
 * order (issue 16 saw 189 produced, 188 stored: the
 * line being written when the disk filled was cut short and later "skipped as damaged").
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProbeResultMessage } from '@algwatch/protocol/events';
import { memoryLogger } from '../../agent/src/daemon/log.js';
import { Outbox } from '../../agent/src/daemon/outbox.js';
import { runCommand } from '../helpers/process.js';
import { requireNetns } from '../testbed/netns-gate.js';

const root = requireNetns(); // mounting a tmpfs needs root, like the namespace tests

function result(n: number): ProbeResultMessage {
  return {
    id: randomUUID(),
    probe: 'sip-options',
    target: 'pbx',
    transport: 'udp',
    startedAt: 1_795_640_000_000 + n,
    durationMs: 3.25,
    success: true,
    points: [{ measurement: 'sip_options', tags: { target: 'pbx', transport: 'udp', result: 'ok' }, fields: { rtt_ms: n / 7, status_code: 200 } }],
    // Uneven sizes, so the disk fills in the middle of a line rather than on a boundary.
    detail: { n, note: 'x'.repeat(100 + (n % 97)) },
  };
}

describe.runIf(root)('the agent outbox on a disk that fills up', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'algwatch-full-disk-'));
    const mounted = await runCommand('mount', ['-t', 'tmpfs', '-o', 'size=200k', 'tmpfs', dir]);
    expect(mounted.code, mounted.stderr).toBe(0);
  });
  afterAll(async () => {
    await runCommand('umount', [dir]);
    await rm(dir, { recursive: true, force: true });
  });

  it('delivers every result produced, once and in order, after the disk filled mid-line', async () => {
    const log = memoryLogger();
    const outbox = await Outbox.open({ dir, log });
    const produced: string[] = [];
    for (let n = 0; n < 1_200; n++) {
      const message = result(n);
      produced.push(message.id);
      await outbox.append(message);
    }
    const warnings = log.lines.filter((line) => line.level === 'warn').map((line) => line.message);
    // The disk did fill, and that was said once, not once per result.
    expect(warnings.filter((message) => message.includes('ENOSPC'))).toHaveLength(1);
    expect(outbox.depth).toBe(1_200);

    // The server is back: drain as the daemon does.
    const delivered: string[] = [];
    for (;;) {
      const batch = await outbox.nextBatch(50);
      if (batch.length === 0) break;
      delivered.push(...batch.map((message) => message.id));
      await outbox.ack(batch.map((message) => message.id));
    }
    await outbox.close();
    expect(delivered).toEqual(produced);
    expect(log.lines.filter((line) => line.message.includes('damaged'))).toEqual([]);

    // A restart afterwards finds nothing left over and nothing damaged on disk.
    const replayLog = memoryLogger();
    const reopened = await Outbox.open({ dir, log: replayLog });
    expect(reopened.depth).toBe(0);
    expect(replayLog.lines.filter((line) => line.level === 'warn')).toEqual([]);
    await reopened.close();
  }, 60_000);
});
