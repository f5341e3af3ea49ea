/**
 * snapshotTree records everything a person could notice changed under a directory: each path's
 * type, mode, owner, size, modification time, content hash and link target. Two equal snapshots
 * mean nothing was touched, not merely that the contents came out the same.
 */
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

/** snapshotTree maps each path under root (relative, root itself excluded) to one line describing it. */
export async function snapshotTree(root: string): Promise<Map<string, string>> {
  const snapshot = new Map<string, string>();
  const walk = async (dir: string, relative: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      const path = join(dir, name);
      const rel = relative ? `${relative}/${name}` : name;
      const stat = await lstat(path);
      let what = '';
      if (stat.isSymbolicLink()) what = `-> ${await readlink(path)}`;
      else if (stat.isFile()) what = createHash('sha256').update(await readFile(path)).digest('hex');
      snapshot.set(rel, `mode ${stat.mode.toString(8)} owner ${stat.uid}:${stat.gid} size ${stat.size} mtime ${stat.mtimeMs} ${what}`);
      if (stat.isDirectory()) await walk(path, rel);
    }
  };
  await walk(root, '');
  return snapshot;
}

/** changedPaths lists the paths added, removed or different between two snapshots, sorted. */
export function changedPaths(before: Map<string, string>, after: Map<string, string>): string[] {
  const paths = new Set([...before.keys(), ...after.keys()]);
  return [...paths].filter((path) => before.get(path) !== after.get(path)).sort();
}
