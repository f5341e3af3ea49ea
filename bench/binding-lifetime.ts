/**
 * UDP binding-lifetime measurement time as a ratio to the true lifetime (goal ≤ 1.1), through a
 * real Linux NAT in the namespace testbed whose conntrack UDP timeout is the true lifetime. The
 * baseline is the lifetime itself: no method can know a binding died before it did. Needs root.
 */
import { createTopology } from '../test/testbed/topology.js';
import { probeNetnsCapabilities } from '../test/testbed/netns-gate.js';
import { requireReport, runAgentCheck, startAlgwatchServer } from '../test/e2e/algwatch-processes.js';
import type { BenchFigure } from './figures.js';

const TRUE_LIFETIMES_SECONDS = [10, 30];

export async function benchBindingLifetime(): Promise<BenchFigure[]> {
  const capabilities = probeNetnsCapabilities();
  if (capabilities.missing) throw new Error(`needs a real NAT in network namespaces: ${capabilities.missing}`);
  const figures: BenchFigure[] = [];
  for (const lifetime of TRUE_LIFETIMES_SECONDS) {
    const topology = await createTopology({ udpTimeoutSeconds: lifetime });
    try {
      const server = await startAlgwatchServer(topology);
      try {
        const run = await runAgentCheck(topology, ['--binding-lifetime', '--max-lifetime', String(lifetime * 3)], (lifetime * 3 + 60) * 1000);
        const report = requireReport(run).bindingLifetime;
        if (!report || report.udpSeconds === null) throw new Error(`no lifetime measured for a ${lifetime} s NAT timeout`);
        const ratio = report.elapsedMs / 1000 / lifetime;
        figures.push(
          { name: `binding lifetime measured for a ${lifetime} s conntrack timeout`, value: report.udpSeconds, unit: 's', goal: `${lifetime} ± 1 s`, met: Math.abs(report.udpSeconds - lifetime) <= 1 },
          { name: `binding lifetime measurement time / true lifetime (${lifetime} s)`, value: ratio, unit: '×', goal: '≤ 1.1', met: ratio <= 1.1, baseline: 1, baselineName: 'the lifetime itself' },
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
