/**
 * Spool is an append-only, size-capped, ordered queue of records on disk: where the InfluxDB writer
 * keeps batches while InfluxDB is unreachable, so that write() can still promise durability.
 *
 * Layout: `<dir>/<16-digit sequence>.ndjson` segment files, one JSON record per line, read oldest
 * segment first and top to bottom. A process always appends to a segment of its own (never after a
 * line a crash may have torn), and a segment is deleted once every record in it was acknowledged.
 * A record is acknowledged after the caller stored it elsewhere. close() saves the read position
 * (`head.json`); after a crash the acknowledged records of the oldest segment are replayed, so
 * consumers must be idempotent (InfluxDB is: same series and time is one point).
 */
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rm, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

export interface SpoolOptions {
  dir: string;
  /** Bytes on disk at most; append() fails with SpoolFullError beyond it. */
  maxBytes?: number;
  /** A new segment is started once the current one is this large. */
  segmentBytes?: number;
  /** Called for a line that is not valid JSON (a crash tore it mid-append); it is skipped. */
  onCorruptLine?: (segment: string, offset: number) => void;
}

/** SpoolFullError means the spool reached maxBytes: the record was not kept. */
export class SpoolFullError extends Error {
  readonly code = 'ESPOOLFULL';
}

/** SpooledRecord is the oldest record not yet acknowledged. */
export interface SpooledRecord<T> {
  record: T;
  /** ack removes the record from the spool (deleting its segment once all of it is acked). */
  ack(): Promise<void>;
}

interface Segment {
  seq: number;
  path: string;
  /** Bytes of complete, fsync'd records (what readers may read). */
  size: number;
}

const SEGMENT_SUFFIX = '.ndjson';
const HEAD_FILE = 'head.json';

export class Spool<T> {
  private readonly segments: Segment[] = [];
  /** The segment this process appends to; undefined until the first append (or after it drained). */
  private active: { segment: Segment; handle: FileHandle } | undefined;
  /** Byte offset of the first unacknowledged record in segments[0]. */
  private headOffset = 0;
  /** Parsed records of segments[0] not yet acknowledged, with each one's end offset. */
  private readAhead: { record: T; end: number }[] = [];
  private lastSeq = 0;
  private totalBytes = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly maxBytes: number;
  private readonly segmentBytes: number;

  private constructor(private readonly options: SpoolOptions) {
    this.maxBytes = options.maxBytes ?? 1024 * 1024 * 1024;
    this.segmentBytes = options.segmentBytes ?? 8 * 1024 * 1024;
  }

  /** Spool.open creates the directory if needed and finds the segments a previous process left. */
  static async open<T>(options: SpoolOptions): Promise<Spool<T>> {
    const spool = new Spool<T>(options);
    await mkdir(options.dir, { recursive: true });
    const names = (await readdir(options.dir)).filter((name) => /^\d{16}\.ndjson$/.test(name)).sort();
    for (const name of names) {
      const path = join(options.dir, name);
      const size = (await stat(path)).size;
      if (size === 0) {
        await unlink(path);
        continue;
      }
      const seq = Number(name.slice(0, 16));
      spool.segments.push({ seq, path, size });
      spool.totalBytes += size;
      spool.lastSeq = seq;
    }
    // The read position a clean close() saved; used once, so a later crash replays instead.
    const headPath = join(options.dir, HEAD_FILE);
    const saved = await readFile(headPath, 'utf8').then((text) => JSON.parse(text) as { seq: number; offset: number }, () => undefined);
    await rm(headPath, { force: true });
    const head = spool.segments[0];
    if (head && saved && saved.seq === head.seq && saved.offset <= head.size) spool.headOffset = saved.offset;
    return spool;
  }

  /** isEmpty is true when every appended record was acknowledged. */
  get isEmpty(): boolean {
    return this.segments.length === 0;
  }

  /** sizeBytes is what the spool holds on disk, acknowledged records of a live segment included. */
  get sizeBytes(): number {
    return this.totalBytes;
  }

  /**
   * append writes one record and fsyncs it. Resolves once it is durable; rejects with SpoolFullError
   * at maxBytes, or with the file system's error (ENOSPC, EIO), having cut off any partial line.
   */
  append(record: T): Promise<void> {
    const line = Buffer.from(JSON.stringify(record) + '\n');
    return this.exclusive(async () => {
      if (this.totalBytes + line.length > this.maxBytes) {
        throw new SpoolFullError(
          `time-series spool full: ${this.totalBytes} of ${this.maxBytes} bytes used in ${this.options.dir}; bring InfluxDB back or raise the spool limit`,
        );
      }
      if (!this.active || (this.active.segment.size > 0 && this.active.segment.size + line.length > this.segmentBytes)) {
        await this.startSegment();
      }
      const { segment, handle } = this.active!;
      try {
        let written = 0;
        while (written < line.length) {
          const { bytesWritten } = await handle.write(line, written, line.length - written, segment.size + written);
          written += bytesWritten;
        }
        await handle.datasync();
      } catch (err) {
        // A partial line would merge with the next record into one unreadable line: cut it off.
        await handle.truncate(segment.size).catch(() => undefined);
        throw err;
      }
      segment.size += line.length;
      this.totalBytes += line.length;
    });
  }

  /** peek returns the oldest unacknowledged record, or undefined when the spool is empty. */
  async peek(): Promise<SpooledRecord<T> | undefined> {
    for (;;) {
      const head = this.segments[0];
      if (!head) return undefined;
      if (this.readAhead.length === 0 && this.headOffset < head.size) await this.readHead(head);
      const next = this.readAhead[0];
      if (next) return { record: next.record, ack: () => this.ack(head, next.end) };
      // Fully read (or only torn lines left): drop the segment unless it is still being written.
      await this.exclusive(() => this.dropHeadIfDone(head));
      if (this.segments[0] === head) return undefined;
    }
  }

  /** close releases the file being appended to and saves the read position for the next open. */
  async close(): Promise<void> {
    await this.exclusive(async () => {
      await this.active?.handle.close();
      this.active = undefined;
      const head = this.segments[0];
      if (head && this.headOffset > 0) {
        await writeFile(join(this.options.dir, HEAD_FILE), JSON.stringify({ seq: head.seq, offset: this.headOffset }));
      }
    });
  }

  private async ack(head: Segment, end: number): Promise<void> {
    if (this.segments[0] !== head || this.readAhead[0]?.end !== end) return; // acked already
    this.readAhead.shift();
    this.headOffset = end;
    if (this.headOffset >= head.size) await this.exclusive(() => this.dropHeadIfDone(head));
  }

  /** dropHeadIfDone deletes the head segment when every byte of it was acknowledged. */
  private async dropHeadIfDone(head: Segment): Promise<void> {
    if (this.segments[0] !== head || this.headOffset < head.size || this.readAhead.length > 0) return;
    if (this.active?.segment === head) {
      await this.active.handle.close();
      this.active = undefined;
    }
    await unlink(head.path);
    this.segments.shift();
    this.totalBytes -= head.size;
    this.headOffset = 0;
  }

  private async readHead(head: Segment): Promise<void> {
    const length = head.size - this.headOffset;
    const buffer = Buffer.alloc(length);
    const handle = await open(head.path, 'r');
    try {
      let read = 0;
      while (read < length) {
        const { bytesRead } = await handle.read(buffer, read, length - read, this.headOffset + read);
        if (bytesRead === 0) break;
        read += bytesRead;
      }
    } finally {
      await handle.close();
    }
    let start = 0;
    for (let newline = buffer.indexOf(10); newline !== -1; newline = buffer.indexOf(10, start)) {
      const end = this.headOffset + newline + 1;
      try {
        this.readAhead.push({ record: JSON.parse(buffer.toString('utf8', start, newline)) as T, end });
      } catch {
        this.options.onCorruptLine?.(head.path, this.headOffset + start);
      }
      start = newline + 1;
    }
    // A tail without a newline is a torn append from a crash (appends in this process cut theirs
    // off): nothing was promised for it. It is skipped once the records before it are acked.
    if (this.readAhead.length === 0) {
      if (start < length) this.options.onCorruptLine?.(head.path, this.headOffset + start);
      this.headOffset = head.size;
    }
  }

  private async startSegment(): Promise<void> {
    await this.active?.handle.close();
    this.lastSeq += 1;
    const segment: Segment = { seq: this.lastSeq, path: join(this.options.dir, String(this.lastSeq).padStart(16, '0') + SEGMENT_SUFFIX), size: 0 };
    const handle = await open(segment.path, 'wx');
    this.active = { segment, handle };
    this.segments.push(segment);
    syncDirectory(this.options.dir); // the new file's name must survive a power cut too
  }

  private exclusive<R>(task: () => Promise<R>): Promise<R> {
    const run = this.chain.then(task, task);
    this.chain = run.catch(() => undefined);
    return run;
  }
}

function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
