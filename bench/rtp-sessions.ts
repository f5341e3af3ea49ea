/**
 * rtp-path test calls one reflector process sustains at once, each at 50 packets/s both ways, with
 * loss under 0.1 % on loopback (goal: 500), and the bytes one default run puts on the wire. The
 * load is N real rtp-path probes (the agent's code) started together in this process; the reflector
 * runs in its own process. Loss counts both directions over all calls: agent packets the reflector
 * did not receive, and reflector packets the agents did not receive.
 */
import { runProbe } from '../agent/dist/probes/runner.js';
import { rtpPathProbe } from '../agent/dist/probes/rtp-path.js';
import type { RtpReport } from '@algwatch/protocol/check-report';
import { startBenchChild } from './servers/child.js';
import type { BenchFigure } from './figures.js';

const LOSS_GOAL_PCT = 0.1;
const STEPS = [50, 100, 250, 500, 750];
/** IPv4 (20) + UDP (8) header bytes around every datagram. */
const WIRE_OVERHEAD = 28;

interface Step {
  calls: number;
  lossPct: number;
  failed: number;
  cpuShare: number;
  /** CPU share of this process, which runs every call's agent side: near 1 means the load generator is the limit. */
  clientCpuShare: number;
  reports: RtpReport[];
}

async function step(port: number, calls: number, cpu: () => Promise<number>): Promise<Step> {
  const before = await cpu();
  const clientBefore = process.cpuUsage();
  const started = performance.now();
  const runs = await Promise.all(Array.from({ length: calls }, () => runProbe(rtpPathProbe, { host: '127.0.0.1', port }, { durationMs: 5_000, requestTimeoutMs: 8_000 }, { timeoutMs: 30_000 })));
  const seconds = (performance.now() - started) / 1000;
  const used = (await cpu()) - before;
  const client = process.cpuUsage(clientBefore);
  const reports = runs.map((run) => run.detail as RtpReport | null).filter((report): report is RtpReport => report !== null && report.sdpReceived !== null);
  let sent = 0;
  let lost = 0;
  for (const report of reports) {
    sent += report.outbound.sent + report.inbound.sent;
    lost += report.outbound.sent - report.outbound.received + report.inbound.sent - report.inbound.received;
  }
  return { calls, lossPct: sent === 0 ? 100 : (lost * 100) / sent, failed: calls - reports.length, cpuShare: used / seconds, clientCpuShare: (client.user + client.system) / 1e6 / seconds, reports };
}

function meanSent(result: Step): string {
  return (result.reports.reduce((sum, report) => sum + report.outbound.sent, 0) / Math.max(1, result.reports.length)).toFixed(1);
}

function meanInbound(result: Step): string {
  return (result.reports.reduce((sum, report) => sum + report.inbound.sent, 0) / Math.max(1, result.reports.length)).toFixed(1);
}

export async function benchRtpSessions(): Promise<BenchFigure[]> {
  const child = await startBenchChild('./rtp-reflector.ts', ['2000']);
  const figures: BenchFigure[] = [];
  try {
    await step(child.port, 10, child.cpuSeconds); // warm-up (JIT)
    let sustained = 0;
    let baseline: Step | null = null;
    for (const calls of STEPS) {
      const result = await step(child.port, calls, child.cpuSeconds);
      baseline ??= result;
      figures.push({
        name: `${calls} concurrent calls: loss both ways (${result.failed} not set up; agent packets sent per call ${meanSent(result)} of 250, reflector packets per call ${meanInbound(result)}; load generator CPU ${(result.clientCpuShare * 100).toFixed(0)} % of a core)`,
        value: result.lossPct,
        unit: '%',
      });
      figures.push({ name: `${calls} concurrent calls: reflector CPU`, value: result.cpuShare * 100, unit: '% of a core', baseline: baseline.cpuShare * 100, baselineName: `${baseline.calls} calls` });
      if (result.failed > 0 || result.lossPct >= LOSS_GOAL_PCT) break;
      sustained = calls;
    }
    figures.push({ name: 'concurrent rtp-path calls at 50 packets/s with loss under 0.1 % (steps ' + STEPS.join(', ') + ')', value: sustained, unit: 'calls', goal: '≥ 500', met: sustained >= 500 });
    const one = (await step(child.port, 1, child.cpuSeconds)).reports[0];
    if (one) {
      const rtpBytes = (one.outbound.sent + one.inbound.sent) * (12 + 160 + WIRE_OVERHEAD);
      figures.push({ name: 'RTP bytes on the wire for one default run (5 s, G.711 20 ms, both ways, IP+UDP headers included; SIP adds about 3 KB)', value: rtpBytes / 1000, unit: 'kB' });
    }
  } finally {
    await child.stop();
  }
  return figures;
}
