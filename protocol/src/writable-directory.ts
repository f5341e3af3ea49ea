/**
 * ensureWritableDirectory: the server and the agent both keep state in a --data-dir. A read-only or
 * foreign-owned one used to surface deep inside (SQLite's "unable to open database file", "ENOENT ...
 * mkdir tls"); this check runs first and says what is wrong with which path and what to do.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** UnwritableDirectoryError carries the one-line message for the technician; `code` is the errno name. */
export class UnwritableDirectoryError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'UnwritableDirectoryError';
  }
}

const REASONS: Record<string, string> = {
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  ENOTDIR: 'a file is in the way of the path',
  EEXIST: 'a file is in the way of the path',
};

/**
 * ensureWritableDirectory creates `dir` when missing (with `mode`) and proves a file can be created,
 * written and removed in it. Resolves when it can; rejects with an UnwritableDirectoryError whose
 * message reads "cannot write the data directory DIR (read-only file system): give --data-dir a
 * writable directory, or fix its permissions".
 */
export async function ensureWritableDirectory(dir: string, mode = 0o755): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode }).catch((err: NodeJS.ErrnoException) => createStepwise(dir, mode, err));
    const probe = join(dir, `.algwatch-write-test-${process.pid}-${randomBytes(4).toString('hex')}`);
    const handle = await open(probe, 'wx', 0o600);
    try {
      await handle.write('x');
      await handle.sync();
    } finally {
      await handle.close();
      await unlink(probe).catch(() => undefined);
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
    const reason = REASONS[code] ?? code;
    throw new UnwritableDirectoryError(`cannot write the data directory ${dir} (${reason}): give --data-dir a writable directory, or fix its permissions`, code);
  }
}

/**
 * createStepwise redoes a failed recursive mkdir one level at a time, for the real reason: Node's
 * recursive mkdir reports ENOENT on a read-only file system, where the plain mkdir says EROFS.
 */
async function createStepwise(dir: string, mode: number, original: NodeJS.ErrnoException): Promise<void> {
  if (original.code !== 'ENOENT') throw original;
  const missing: string[] = [];
  for (let path = dir; ; path = dirname(path)) {
    const exists = await stat(path).then(
      () => true,
      () => false,
    );
    if (exists || dirname(path) === path) break;
    missing.unshift(path);
  }
  for (const path of missing) await mkdir(path, { mode });
}
