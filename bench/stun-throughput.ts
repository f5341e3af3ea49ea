/**
 * STUN Binding requests per second served by one reflector process (goal: 50,000/s on one core),
 * next to a bare UDP echo server measured the same way in the same run. The reflector runs in its
 * own process; "per core" divides answers by the CPU seconds that process used.
 */
import { runUdpLoad, stunBindingRequest } from './udp-load.js';
import { startBenchChild } from './servers/child.js';
import type { BenchFigure } from './figures.js';

const LOAD = { host: '127.0.0.1', sockets: 8, concurrency: 32, durationMs: 4000, makeRequest: stunBindingRequest };

async function measure(script: string) {
  const child = await startBenchChild(script);
  try {
    await runUdpLoad({ ...LOAD, port: child.port, durationMs: 500 }); // warm-up (JIT)
    const cpuBefore = await child.cpuSeconds();
    const load = await runUdpLoad({ ...LOAD, port: child.port });
    const cpu = (await child.cpuSeconds()) - cpuBefore;
    return { answersPerSecond: load.answersPerSecond, perCoreSecond: load.answered / cpu, cpuShare: cpu / load.seconds, rss: await child.rssBytes() };
  } finally {
    await child.stop();
  }
}

export async function benchStunThroughput(): Promise<BenchFigure[]> {
  const baseline = await measure('./udp-echo.ts');
  const stun = await measure('./stun-reflector.ts');
  // The same reflector counting every request for /metrics, as algwatch-server runs it.
  const metered = await measure('./stun-reflector-metered.ts');
  return [
    { name: 'STUN binding answers/s (wall clock, 2-core box, load generator on the other core)', value: stun.answersPerSecond, unit: '/s', baseline: baseline.answersPerSecond, baselineName: 'bare UDP echo' },
    { name: 'STUN binding answers per CPU-second of the reflector process', value: stun.perCoreSecond, unit: '/core·s', goal: '≥ 50,000', met: stun.perCoreSecond >= 50_000, baseline: baseline.perCoreSecond, baselineName: 'bare UDP echo' },
    { name: 'STUN binding answers per CPU-second, counted for /metrics', value: metered.perCoreSecond, unit: '/core·s', baseline: stun.perCoreSecond, baselineName: 'the same reflector not counting' },
    { name: 'STUN reflector CPU use during the run', value: stun.cpuShare * 100, unit: '% of one core' },
    { name: 'STUN reflector RSS after the run', value: stun.rss / 2 ** 20, unit: 'MiB' },
  ];
}
