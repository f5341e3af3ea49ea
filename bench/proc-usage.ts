/**
 * Reading a process's CPU time and memory from /proc (Linux), for processes the benchmark did not
 * start itself (influxd, the agent under test), and the whole machine's busy/idle/iowait time.
 */
import { readdir, readFile } from 'node:fs/promises';

const CLOCK_TICKS = 100; // USER_HZ: 100 on every Linux architecture Node runs on

/** processCpuSeconds is utime + stime of `pid` (all its threads), from /proc/<pid>/stat. */
export async function processCpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS; // fields 14 and 15 of stat(5)
}

/** processRssBytes is VmRSS of `pid`, from /proc/<pid>/status. */
export async function processRssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for pid ${pid} (exited?)`);
  return Number(kb) * 1024;
}

/**
 * processMemoryBytes is VmRSS and its private part RssAnon: most of an idle Node process's RSS is
 * the node binary's file-backed pages (RssFile), which every Node process on the box shares.
 */
export async function processMemoryBytes(pid: number): Promise<{ rss: number; anon: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
  return { rss: kb('VmRSS'), anon: kb('RssAnon') };
}

/** findPidByCmdline returns the pid of a process whose command line contains `fragment`. */
export async function findPidByCmdline(fragment: string): Promise<number | undefined> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.replaceAll('\0', ' ').includes(fragment)) return Number(entry);
  }
  return undefined;
}

export interface MachineCpu {
  busy: number;
  iowait: number;
  total: number;
}

/** machineCpu is the whole machine's CPU time so far (ticks), from the first line of /proc/stat. */
export async function machineCpu(): Promise<MachineCpu> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '';
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, iowait, total: busy + idle + iowait };
}

/** machineShares turns two machineCpu readings into the shares of all cores busy and in iowait. */
export function machineShares(before: MachineCpu, after: MachineCpu): { busy: number; iowait: number } {
  const total = after.total - before.total;
  return total > 0 ? { busy: (after.busy - before.busy) / total, iowait: (after.iowait - before.iowait) / total } : { busy: 0, iowait: 0 };
}

/** ThreadSchedule is a thread's time on a core and waiting for one (ns), from /proc/<pid>/task/<tid>/schedstat. */
export interface ThreadSchedule {
  runNs: number;
  waitNs: number;
}

/** threadSchedule reads one thread's schedstat; the main thread of a process has tid = pid. */
export async function threadSchedule(pid: number, tid = pid): Promise<ThreadSchedule> {
  const [run = 0, wait = 0] = (await readFile(`/proc/${pid}/task/${tid}/schedstat`, 'utf8')).trim().split(/\s+/).map(Number);
  return { runNs: run, waitNs: wait };
}

/** processRunSeconds is the time all live threads of `pid` spent on a core (ns precision, unlike stat's 10 ms ticks). */
export async function processRunSeconds(pid: number): Promise<number> {
  let ns = 0;
  for (const tid of await readdir(`/proc/${pid}/task`)) {
    ns += (await threadSchedule(pid, Number(tid)).catch(() => ({ runNs: 0 }))).runNs;
  }
  return ns / 1e9;
}
