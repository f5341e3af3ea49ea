/**
 * Helpers for a benchmark server running in its own process (its own core): the child reports its
 * port once listening and its CPU time when asked, over the fork() IPC channel.
 */
import { fork, type ChildProcess } from 'node:child_process';

export interface BenchChild {
  port: number;
  /** CPU seconds (user + system) the child has used since it reported ready. */
  cpuSeconds(): Promise<number>;
  rssBytes(): Promise<number>;
  stop(): Promise<void>;
}

type ChildMessage = { ready: number } | { cpuSeconds: number; rssBytes: number };

export async function startBenchChild(script: string, args: string[] = []): Promise<BenchChild> {
  const child: ChildProcess = fork(new URL(script, import.meta.url), args, { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message: ChildMessage) => ('ready' in message ? resolve(message.ready) : reject(new Error('bad child'))));
    child.once('exit', (code) => reject(new Error(`bench server ${script} exited with ${code}`)));
  });
  const ask = () =>
    new Promise<{ cpuSeconds: number; rssBytes: number }>((resolve) => {
      child.once('message', (message: ChildMessage) => resolve(message as { cpuSeconds: number; rssBytes: number }));
      child.send('usage');
    });
  return {
    port,
    cpuSeconds: async () => (await ask()).cpuSeconds,
    rssBytes: async () => (await ask()).rssBytes,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** reportReady is called by the child once it listens; afterwards it answers usage questions. */
export function reportReady(port: number): void {
  const start = process.cpuUsage();
  process.on('message', () => {
    const used = process.cpuUsage(start);
    process.send?.({ cpuSeconds: (used.user + used.system) / 1e6, rssBytes: process.memoryUsage().rss });
  });
  process.send?.({ ready: port });
}
