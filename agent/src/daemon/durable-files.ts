/**
 * Small file operations that survive a power cut: each resolves only once the bytes (and, for new
 * names, the directory entry) are on disk. Used by the outbox journal and the daemon's state files.
 */
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/** appendDurably appends `text` to `path` (created 0600 if missing) and fsyncs it. */
export async function appendDurably(path: string, text: string): Promise<void> {
  const file = await open(path, 'a', 0o600);
  try {
    await file.write(text);
    await file.datasync();
  } finally {
    await file.close();
  }
}

/** replaceDurably writes `text` to a temporary file, fsyncs it and renames it over `path`: all or nothing. */
export async function replaceDurably(path: string, text: string): Promise<void> {
  const temporary = `${path}.tmp`;
  const file = await open(temporary, 'w', 0o600);
  try {
    await file.write(text);
    await file.datasync();
  } finally {
    await file.close();
  }
  await rename(temporary, path);
  await syncDir(dirname(path));
}

/** truncateDurably cuts `path` to `bytes` (a torn last line) and fsyncs it. */
export async function truncateDurably(path: string, bytes: number): Promise<void> {
  const file = await open(path, 'r+');
  try {
    await file.truncate(bytes);
    await file.datasync();
  } finally {
    await file.close();
  }
}

/** syncDir makes new and renamed directory entries durable (POSIX: fsyncing the file is not enough). */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => null);
  if (!handle) return;
  await handle.sync().catch(() => undefined);
  await handle.close();
}
