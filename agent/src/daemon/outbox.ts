/**
 * The outbox: every finished probe result, kept on disk until the server acknowledges it.
 *
 * Layout in `dir`: numbered segment files `results-000001.log` (one result per line,
 * `<id>\t<json>\n`, append-only, fsynced before append() resolves) and `acks.log` (one
 * acknowledged id per line). A segment whose results are all acknowledged is deleted; acks.log is
 * rewritten when most of its ids belong to deleted segments. Plain files rather than SQLite keep the
 * agent free of native modules; the id prefix lets a restart count and match lines without parsing
 * the JSON. Delivery is at-least-once: a crash between the server's ack and our acks.log write
 * resends a result, which the server dedupes by id.
 */
import { mkdir, open, readdir, readFile, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { MAX_MESSAGE_BYTES, MAX_RESULTS_PER_BATCH, type ProbeResultMessage } from '@algwatch/protocol/events';
import { appendDurably, replaceDurably, syncDir, truncateDurably } from './durable-files.js';
import type { Logger } from './log.js';

export const DEFAULT_OUTBOX_MAX_BYTES = 50 * 1024 * 1024;
export const DEFAULT_OUTBOX_MAX_RESULTS = 100_000;
/** Results kept in memory while the disk refuses writes (ENOSPC); the oldest go first past this. */
const MAX_MEMORY_RESULTS = 5_000;
const SEGMENT_PATTERN = /^results-(\d{6,})\.log$/;
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Socket.io framing and the `{"results":[...]}` wrapper must fit under MAX_MESSAGE_BYTES too. */
const BATCH_BYTES = Math.floor(MAX_MESSAGE_BYTES * 0.9);

export interface OutboxOptions {
  /** Folder of the journal; created if missing. */
  dir: string;
  log: Logger;
  /** Cap on the journal's size on disk; past it the oldest results are dropped. */
  maxBytes?: number;
  /** Cap on the number of unacknowledged results; past it the oldest are dropped. */
  maxResults?: number;
}

interface Segment {
  seq: number;
  path: string;
  /** Bytes of complete lines: a failed write is cut back to this before the next one. */
  bytes: number;
  lines: number;
  acked: Set<string>;
}

interface Entry {
  id: string;
  line: string;
}

/**
 * Outbox is the durable, ordered queue of results waiting for the server's ack. Open it with
 * `Outbox.open`; append() resolves once the result is on disk (or, when the disk is full, kept in
 * memory with a warning); it never throws for an I/O failure.
 */
export class Outbox {
  private segments: Segment[] = [];
  private active: { segment: Segment; file: FileHandle } | null = null;
  /** Results the disk refused (ENOSPC...), in order, after every segment's results. */
  private memoryTail: Entry[] = [];
  private diskFailure: string | null = null;
  /** Parsed lines of the segments nextBatch read last (at most two: a batch can span a boundary). */
  private cache = new Map<number, Entry[]>();
  /** Which segment each id of the last batch came from, so ack() can find it. */
  private readonly located = new Map<string, Segment>();
  private acksFileLines = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly segmentMaxBytes: number;
  private readonly segmentMaxResults: number;
  private readonly maxBytes: number;
  private readonly maxResults: number;

  private constructor(private readonly dir: string, private readonly log: Logger, maxBytes: number, maxResults: number) {
    this.maxBytes = maxBytes;
    this.maxResults = maxResults;
    // A tenth of the cap per segment: dropping the oldest segment frees 10% at once, so a long
    // outage logs one warning per tenth of the cap rather than one per result.
    this.segmentMaxBytes = Math.max(4096, Math.min(1024 * 1024, Math.floor(maxBytes / 10)));
    this.segmentMaxResults = Math.max(1, Math.min(1000, Math.floor(maxResults / 10)));
  }

  /** Outbox.open creates `dir` if needed and replays what an earlier run left there. */
  static async open(options: OutboxOptions): Promise<Outbox> {
    const outbox = new Outbox(
      options.dir,
      options.log,
      options.maxBytes ?? DEFAULT_OUTBOX_MAX_BYTES,
      options.maxResults ?? DEFAULT_OUTBOX_MAX_RESULTS,
    );
    await mkdir(options.dir, { recursive: true, mode: 0o700 });
    await outbox.replay();
    return outbox;
  }

  /** depth is the number of results not yet acknowledged by the server. */
  get depth(): number {
    return this.segments.reduce((sum, segment) => sum + segment.lines - segment.acked.size, 0) + this.memoryTail.length;
  }

  /** append stores one result after all earlier ones. Resolves when it is fsynced (or kept in memory). */
  append(message: ProbeResultMessage): Promise<void> {
    return this.serial(async () => {
      const entry = { id: message.id, line: `${message.id}\t${JSON.stringify(message)}\n` };
      this.memoryTail.push(entry);
      await this.flushMemoryTail();
      this.enforceMemoryCap();
      await this.enforceCap();
    });
  }

  /**
   * nextBatch returns the oldest unacknowledged results, in order, at most `maxResults` and about
   * `maxBytes` of JSON. Calling it again before ack() returns the same results (a resend).
   */
  nextBatch(maxResults = MAX_RESULTS_PER_BATCH, maxBytes = BATCH_BYTES): Promise<ProbeResultMessage[]> {
    return this.serial(async () => {
      const batch: ProbeResultMessage[] = [];
      this.located.clear();
      let bytes = 0;
      const full = (entry: Entry) => batch.length >= maxResults || (batch.length > 0 && bytes + entry.line.length > maxBytes);
      for (const segment of [...this.segments]) {
        if (segment.lines === segment.acked.size) continue;
        for (const entry of await this.entriesOf(segment)) {
          if (segment.acked.has(entry.id)) continue;
          if (full(entry)) return batch;
          const message = parseLine(entry);
          if (message === null) {
            this.log.warn(`outbox: skipped a damaged result ${entry.id} in ${segmentName(segment.seq)}`);
            this.located.set(entry.id, segment);
            await this.markAcked([entry.id]);
            continue;
          }
          batch.push(message);
          bytes += entry.line.length;
          this.located.set(entry.id, segment);
        }
      }
      for (const entry of this.memoryTail) {
        if (full(entry)) break;
        const message = parseLine(entry);
        if (message !== null) batch.push(message);
        bytes += entry.line.length;
      }
      return batch;
    });
  }

  /** ack removes the given ids for good (they are stored on the server, or refused for good). */
  ack(ids: readonly string[]): Promise<void> {
    return this.serial(async () => {
      await this.markAcked(ids);
      // Acks free disk space (finished segments are deleted): results held in memory since the
      // disk filled go to disk now, not only at the next append, so a restart does not lose them.
      if (this.diskFailure !== null) await this.flushMemoryTail();
    });
  }

  /** close flushes nothing (every append is already fsynced) and releases the journal file. */
  close(): Promise<void> {
    return this.serial(async () => {
      await this.active?.file.close();
      this.active = null;
    });
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async replay(): Promise<void> {
    const acked = new Set<string>();
    const acksText = await readFile(this.acksPath, 'utf8').catch(() => '');
    for (const id of acksText.split('\n')) if (UUID_PATTERN.test(id)) acked.add(id);
    const names = (await readdir(this.dir)).filter((name) => SEGMENT_PATTERN.test(name));
    const seqs = names.map((name) => Number(SEGMENT_PATTERN.exec(name)![1])).sort((a, b) => a - b);
    let damaged = 0;
    for (const seq of seqs) {
      const path = join(this.dir, segmentName(seq));
      const text = await readFile(path, 'utf8');
      const complete = text.slice(0, text.lastIndexOf('\n') + 1);
      // A line without its newline is a write a crash cut short: append() never returned for it.
      if (complete.length < text.length) {
        damaged += 1;
        await truncateDurably(path, Buffer.byteLength(complete));
      }
      const segment: Segment = { seq, path, bytes: Buffer.byteLength(complete), lines: 0, acked: new Set() };
      for (const line of complete.split('\n')) {
        if (line === '') continue;
        const id = line.slice(0, line.indexOf('\t'));
        if (!UUID_PATTERN.test(id)) {
          damaged += 1;
          continue;
        }
        segment.lines += 1;
        if (acked.has(id)) segment.acked.add(id);
      }
      if (segment.lines === segment.acked.size) await rm(path, { force: true });
      else this.segments.push(segment);
    }
    if (damaged > 0) this.log.warn(`outbox: skipped ${damaged} damaged line(s) in ${this.dir} (a write cut short by a crash or a full disk)`);
    await this.rewriteAcks();
    if (this.depth > 0) this.log.info(`outbox: ${this.depth} result(s) from an earlier run waiting to be sent`);
  }

  private get acksPath(): string {
    return join(this.dir, 'acks.log');
  }

  private async entriesOf(segment: Segment): Promise<Entry[]> {
    const cached = this.cache.get(segment.seq);
    if (cached) return cached;
    const text = await readFile(segment.path, 'utf8');
    const entries: Entry[] = [];
    for (const line of text.slice(0, segment.bytes).split('\n')) {
      const tab = line.indexOf('\t');
      if (tab > 0 && UUID_PATTERN.test(line.slice(0, tab))) entries.push({ id: line.slice(0, tab), line: `${line}\n` });
    }
    if (this.cache.size >= 2) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(segment.seq, entries);
    return entries;
  }

  private async flushMemoryTail(): Promise<void> {
    while (this.memoryTail.length > 0) {
      const entry = this.memoryTail[0]!;
      try {
        await this.writeLine(entry);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'I/O error';
        if (this.diskFailure === null) {
          this.log.warn(
            `outbox: cannot write ${this.dir} (${code}${code === 'ENOSPC' ? ': disk full' : ''}); keeping results in memory until it can`,
          );
        }
        this.diskFailure = code;
        return;
      }
      this.memoryTail.shift();
    }
    if (this.diskFailure !== null) {
      this.diskFailure = null;
      this.log.info(`outbox: ${this.dir} is writable again; results kept in memory are on disk now`);
    }
  }

  private async writeLine(entry: Entry): Promise<void> {
    const bytes = Buffer.from(entry.line, 'utf8');
    const active = await this.activeSegment(bytes.length);
    const { segment, file } = active;
    try {
      // A disk that fills mid-line takes part of it and reports how much, without an error: the
      // rest must not be taken for written (that was a result later "skipped as damaged").
      const { bytesWritten } = await file.write(bytes, 0, bytes.length, segment.bytes);
      if (bytesWritten !== bytes.length) {
        throw Object.assign(new Error(`short write: ${bytesWritten} of ${bytes.length} bytes`), { code: 'ENOSPC' });
      }
      await file.datasync();
    } catch (err) {
      // Cut a half-written line back so the next write does not glue itself onto it.
      await file.truncate(segment.bytes).catch(() => undefined);
      // Reopen on the next try: a fresh file (after space was freed, a remount) must be picked up.
      await file.close().catch(() => undefined);
      this.active = null;
      if (segment.lines === 0) this.segments = this.segments.filter((candidate) => candidate !== segment);
      throw err;
    }
    segment.bytes += bytes.length;
    segment.lines += 1;
    this.cache.get(segment.seq)?.push(entry);
  }

  private async activeSegment(lineBytes: number): Promise<{ segment: Segment; file: FileHandle }> {
    const current = this.active;
    if (current && current.segment.lines < this.segmentMaxResults && current.segment.bytes + lineBytes <= this.segmentMaxBytes) {
      return current;
    }
    if (current) {
      await current.file.close();
      this.active = null;
    }
    const seq = (this.segments.at(-1)?.seq ?? 0) + 1;
    const segment: Segment = { seq, path: join(this.dir, segmentName(seq)), bytes: 0, lines: 0, acked: new Set() };
    const file = await open(segment.path, 'w', 0o600);
    this.segments.push(segment);
    this.active = { segment, file };
    await syncDir(this.dir);
    return this.active;
  }

  private enforceMemoryCap(): void {
    const excess = this.memoryTail.length - MAX_MEMORY_RESULTS;
    if (excess <= 0) return;
    this.memoryTail.splice(0, excess);
    this.log.warn(`outbox: dropped the ${excess} oldest result(s) kept in memory: ${this.dir} is still not writable (${this.diskFailure})`);
  }

  private async enforceCap(): Promise<void> {
    let dropped = 0;
    while (this.segments.length > 1 && (this.depth > this.maxResults || this.diskBytes() > this.maxBytes)) {
      const oldest = this.segments.shift()!;
      dropped += oldest.lines - oldest.acked.size;
      this.cache.delete(oldest.seq);
      await rm(oldest.path, { force: true });
    }
    if (dropped === 0) return;
    this.log.warn(
      `outbox: full (cap ${this.maxResults} results or ${formatBytes(this.maxBytes)}): dropped the ${dropped} oldest result(s); ` +
        'the server has not acknowledged results for a long time: check that it is reachable',
    );
    await this.rewriteAcks();
  }

  private diskBytes(): number {
    return this.segments.reduce((sum, segment) => sum + segment.bytes, 0);
  }

  private async markAcked(ids: readonly string[]): Promise<void> {
    const onDisk: string[] = [];
    for (const id of ids) {
      const inMemory = this.memoryTail.findIndex((entry) => entry.id === id);
      if (inMemory >= 0) {
        this.memoryTail.splice(inMemory, 1);
        continue;
      }
      const segment = this.located.get(id);
      this.located.delete(id);
      // Not from the last batch, or its segment was dropped by the cap meanwhile: nothing to do.
      if (!segment || !this.segments.includes(segment) || segment.acked.has(id)) continue;
      segment.acked.add(id);
      onDisk.push(id);
    }
    if (onDisk.length > 0) {
      try {
        await appendDurably(this.acksPath, `${onDisk.join('\n')}\n`);
        this.acksFileLines += onDisk.length;
      } catch (err) {
        // The server has them; at worst a restart resends them and the server dedupes by id.
        this.log.warn(`outbox: cannot record acks in ${this.acksPath} (${(err as NodeJS.ErrnoException).code ?? 'I/O error'})`);
      }
    }
    await this.dropFinishedSegments();
  }

  private async dropFinishedSegments(): Promise<void> {
    const finished = this.segments.filter((segment) => segment.lines === segment.acked.size);
    for (const segment of finished) {
      if (this.active?.segment === segment) {
        if (this.segments.length > 1 || this.memoryTail.length > 0) continue;
        await this.active.file.close();
        this.active = null;
      }
      this.segments = this.segments.filter((candidate) => candidate !== segment);
      this.cache.delete(segment.seq);
      await rm(segment.path, { force: true });
    }
    const liveAcks = this.segments.reduce((sum, segment) => sum + segment.acked.size, 0);
    if (this.acksFileLines > 2 * liveAcks + 1000 || (this.segments.length === 0 && this.acksFileLines > 0)) await this.rewriteAcks();
  }

  /** rewriteAcks compacts acks.log down to the acked ids of segments that still exist. */
  private async rewriteAcks(): Promise<void> {
    const live = this.segments.flatMap((segment) => [...segment.acked]);
    try {
      await replaceDurably(this.acksPath, live.length > 0 ? `${live.join('\n')}\n` : '');
      this.acksFileLines = live.length;
    } catch (err) {
      this.log.warn(`outbox: cannot compact ${this.acksPath} (${(err as NodeJS.ErrnoException).code ?? 'I/O error'})`);
    }
  }
}

function parseLine(entry: Entry): ProbeResultMessage | null {
  try {
    const message = JSON.parse(entry.line.slice(entry.line.indexOf('\t') + 1)) as ProbeResultMessage;
    return message && message.id === entry.id ? message : null;
  } catch {
    return null;
  }
}

function segmentName(seq: number): string {
  return `results-${String(seq).padStart(6, '0')}.log`;
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${Math.round(bytes / (1024 * 1024))} MB` : `${bytes} bytes`;
}
