/**
 * Time from starting the SIP ALG probe over UDP to its verdict, on loopback against a reflector in
 * its own process (goal: within 2 ms of one round trip). Baseline: the round trip of one datagram of
 * the same size to a bare UDP echo process, measured in the same run.
 */
import { createSocket } from 'node:dgram';
import { runProbe } from '../agent/src/probes/runner.js';
import { sipAlgProbe } from '../agent/src/probes/sip-alg.js';
import { startBenchChild } from './servers/child.js';
import type { BenchFigure } from './figures.js';

const RUNS = 200;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function echoRoundTrips(port: number, bytes: number, runs: number): Promise<number[]> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.connect(port, '127.0.0.1', resolve));
  const payload = Buffer.alloc(bytes, 0x41);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await new Promise<void>((resolve) => {
      socket.once('message', () => resolve());
      socket.send(payload);
    });
    times.push(performance.now() - started);
  }
  socket.close();
  return times;
}

export async function benchAlgVerdict(): Promise<BenchFigure[]> {
  const echo = await startBenchChild('./udp-echo.ts');
  const reflector = await startBenchChild('./sip-reflector.ts');
  try {
    const rtt = median((await echoRoundTrips(echo.port, 900, RUNS + 50)).slice(50));
    const verdicts: number[] = [];
    for (let i = 0; i < RUNS + 20; i++) {
      const run = await runProbe(sipAlgProbe, { host: '127.0.0.1' }, { transport: 'udp', port: reflector.port });
      if (!run.detail || run.detail.status !== 'clean') throw new Error(`probe did not reach a clean verdict: ${run.error ?? run.detail?.status}`);
      if (i >= 20) verdicts.push(run.durationMs);
    }
    const verdict = median(verdicts);
    return [
      { name: 'SIP ALG verdict over UDP on loopback (median)', value: verdict, unit: 'ms', baseline: rtt, baselineName: 'one 900-byte UDP round trip' },
      { name: 'SIP ALG verdict minus one round trip', value: verdict - rtt, unit: 'ms', goal: '≤ 2 ms', met: verdict - rtt <= 2 },
    ];
  } finally {
    await Promise.all([echo.stop(), reflector.stop()]);
  }
}
