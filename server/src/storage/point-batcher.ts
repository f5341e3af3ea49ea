/**
 * PointBatcher gathers the points of many small write() calls (one per agent message) into large
 * batches: one database round trip or one fsync for thousands of points instead of one each.
 *
 * A batch is handed to `persist` when `maxPoints` points wait or `maxDelayMs` after the first one
 * arrived; batches are persisted one at a time, in order. add() resolves when every one of its
 * points was persisted and rejects with persist's error when one of its batches failed.
 */
import type { StoredPoint } from './time-series.js';

export interface PointBatcherOptions {
  maxPoints: number;
  maxDelayMs: number;
}

interface PendingWrite {
  points: StoredPoint[];
  resolve(): void;
  reject(err: unknown): void;
}

export class PointBatcher {
  private pending: PendingWrite[] = [];
  private pendingPoints = 0;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly persist: (batch: StoredPoint[]) => Promise<void>,
    private readonly options: PointBatcherOptions,
  ) {}

  /** add queues points; see the class comment for when it settles. */
  add(points: StoredPoint[]): Promise<void> {
    if (points.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ points, resolve, reject });
      this.pendingPoints += points.length;
      if (this.pendingPoints >= this.options.maxPoints) void this.flush();
      else this.timer ??= setTimeout(() => void this.flush(), this.options.maxDelayMs);
    });
  }

  /** flush persists everything queued so far; resolves when that is done (failures go to add()'s callers). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const writes = this.pending;
    this.pending = [];
    this.pendingPoints = 0;
    if (writes.length === 0) return this.exclusive(async () => undefined);
    return this.exclusive(() => this.persistAll(writes));
  }

  /** exclusive runs task after every batch already queued and before any later one. */
  exclusive<R>(task: () => Promise<R>): Promise<R> {
    const run = this.chain.then(task, task);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async persistAll(writes: PendingWrite[]): Promise<void> {
    const points = writes.length === 1 ? writes[0]!.points : writes.flatMap((write) => write.points);
    let persisted = 0;
    let settled = 0;
    let writeEnd = writes[0]!.points.length;
    try {
      for (let start = 0; start < points.length; start += this.options.maxPoints) {
        const end = Math.min(points.length, start + this.options.maxPoints);
        await this.persist(points.slice(start, end));
        persisted = end;
        // Resolve each caller as soon as its last point is down, not after the whole flush.
        while (settled < writes.length && writeEnd <= persisted) {
          writes[settled]!.resolve();
          settled += 1;
          writeEnd += writes[settled]?.points.length ?? 0;
        }
      }
    } catch (err) {
      for (const write of writes.slice(settled)) write.reject(err);
    }
  }
}
