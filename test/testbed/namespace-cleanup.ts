/**
 * Leaves no namespace behind. Every namespace the testbed creates is registered here and deleted by
 * `destroy()`, and also — synchronously, since nothing async runs then — when the test process exits
 * or is interrupted (SIGINT/SIGTERM), so a crashed or Ctrl-C'd run does not leak namespaces or the
 * processes running inside them (registerExitCleanup does the same for other throw-away state, like
 * a server's data directory). Namespaces left by a run that was SIGKILLed (no hook runs) are swept
 * by the next run: their names carry the pid of a process that no longer exists.
 */
import { spawnSync } from 'node:child_process';

/** NAMESPACE_PREFIX starts every testbed namespace name: `aw-<pid>-<n>-<role>`. */
export const NAMESPACE_PREFIX = 'aw-';
const OWNED_NAME = /^aw-(\d+)-\d+-[a-z]+$/;

const registered = new Set<string>();
const exitCleanups = new Set<() => void>();
let hooksInstalled = false;

/**
 * registerExitCleanup runs `cleanup` (synchronous, must not throw) if the process exits or is
 * interrupted before the returned unregister function is called. For throw-away state other than
 * namespaces, such as a server's temporary data directory.
 */
export function registerExitCleanup(cleanup: () => void): () => void {
  installHooks();
  exitCleanups.add(cleanup);
  return () => exitCleanups.delete(cleanup);
}

/** registerNamespace marks a namespace for deletion at exit; call it before creating the namespace. */
export function registerNamespace(name: string): void {
  installHooks();
  registered.add(name);
}

/** deleteNamespaceSync kills every process still inside the namespace, then deletes it. Never throws. */
export function deleteNamespaceSync(name: string): void {
  registered.delete(name);
  // `ip netns del` only unmounts the name: processes inside would keep the namespace (and its
  // addresses) alive, so they go first. They are ours: the name is unique to this test process.
  const pids = spawnSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).stdout ?? '';
  for (const pid of pids.split('\n').map(Number).filter((pid) => Number.isInteger(pid) && pid > 0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  spawnSync('ip', ['netns', 'delete', name], { stdio: 'ignore' });
}

/** deleteRegisteredNamespacesSync deletes every namespace still registered (the exit hook). */
export function deleteRegisteredNamespacesSync(): void {
  for (const name of [...registered]) deleteNamespaceSync(name);
}

function runExitCleanupsSync(): void {
  deleteRegisteredNamespacesSync();
  for (const cleanup of [...exitCleanups]) {
    exitCleanups.delete(cleanup);
    try {
      cleanup();
    } catch {
      // best effort: the process is on its way out
    }
  }
}

/** sweepStaleNamespacesSync deletes testbed namespaces whose creating process no longer runs. */
export function sweepStaleNamespacesSync(): string[] {
  const listing = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  const swept: string[] = [];
  for (const line of listing.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const owner = OWNED_NAME.exec(name)?.[1];
    if (owner === undefined || processAlive(Number(owner))) continue;
    deleteNamespaceSync(name);
    swept.push(name);
  }
  return swept;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', runExitCleanupsSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      runExitCleanupsSync();
      // Re-raise with the default action so the process still dies the way the sender meant.
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}
