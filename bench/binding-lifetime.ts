/**
 * UDP binding-lifetime measurement time as a ratio to the longer true lifetime (goal ≤ 1.1), through
 * a real Linux NAT in the namespace testbed whose conntrack UDP timeouts are the true lifetimes:
 * nf_conntrack_udp_timeout for fresh bindings, _stream for established ones (measured in the same
 * run). The baseline is the longer lifetime itself: no method can know a binding died before it
 * did. Accuracy: each measured lifetime against its configured timeout (goal ± 1 s). Needs root.
 */
import { createTopology } from '../test/testbed/topology.js';
import { probeNetnsCapabilities } from '../test/testbed/netns-gate.js';
import { requireReport, runAgentCheck, startAlgwatchServer } from '../test/e2e/algwatch-processes.js';
import type { BenchFigure } from './figures.js';

/** Fresh (udp_timeout) and established (udp_timeout_stream) lifetimes of each scenario. */
const SCENARIOS = [
  { fresh: 10, established: 10 },
  { fresh: 30, established: 30 },
  { fresh: 10, established: 40 },
];

export async function benchBindingLifetime(): Promise<BenchFigure[]> {
  const capabilities = probeNetnsCapabilities();
  if (capabilities.missing) throw new Error(`needs a real NAT in network namespaces: ${capabilities.missing}`);
  const figures: BenchFigure[] = [];
  for (const { fresh, established } of SCENARIOS) {
    const longer = Math.max(fresh, established);
    const label = `${fresh} s / ${established} s (udp_timeout / _stream)`;
    const topology = await createTopology({ udpTimeoutSeconds: fresh, udpStreamTimeoutSeconds: established });
    try {
      const server = await startAlgwatchServer(topology);
      try {
        const run = await runAgentCheck(topology, ['--binding-lifetime', '--max-lifetime', String(longer * 2)], (longer * 2 + 60) * 1000);
        const report = requireReport(run).bindingLifetime;
        if (!report || report.udpSeconds === null) throw new Error(`no lifetime measured for ${label}`);
        const ratio = report.elapsedMs / 1000 / longer;
        const steady = report.establishedSeconds ?? Number.NaN;
        figures.push(
          { name: `fresh binding lifetime measured, ${label}`, value: report.udpSeconds, unit: 's', goal: `${fresh} ± 1 s`, met: Math.abs(report.udpSeconds - fresh) <= 1 },
          { name: `established binding lifetime measured, ${label}`, value: steady, unit: 's', goal: `${established} ± 1 s`, met: Math.abs(steady - established) <= 1 },
          { name: `measurement time / longer true lifetime, ${label}`, value: ratio, unit: '×', goal: '≤ 1.1', met: ratio <= 1.1, baseline: 1, baselineName: 'the longer lifetime itself' },
        );
      } finally {
        await server.stop();
      }
    } finally {
      await topology.destroy();
    }
  }
  return figures;
}
